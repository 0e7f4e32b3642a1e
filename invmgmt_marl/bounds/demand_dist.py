"""Exact one-period demand distributions of a store's demand spec, on a grid (:class:`GridDist`).

Supported: the processes whose periods are independent with a known marginal (``poisson``,
``normal``, ``uniform``, ``constant``), under any deterministic effects (multiplier, trend,
seasonal, weekly, shocks, events) followed by the simulator's rounding and ``max(0, .)`` (see
:func:`invmgmt_marl.demand.apply_effects`). Other processes (``merton``: a random walk in logs,
``csv`` / ``fixed``: given series) raise :class:`NotApplicable`, as do stores with goodwill (their
demand depends on past service).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from invmgmt_marl.bounds.clark_scarf import GridDist, normal_dist, poisson_dist

if TYPE_CHECKING:  # pragma: no cover
    from invmgmt_marl.scenario.schema import DemandSpec

__all__ = ["NotApplicable", "INDEPENDENT_PROCESSES", "period_factors", "store_period_dist"]

F64 = NDArray[np.float64]

INDEPENDENT_PROCESSES = ("poisson", "normal", "uniform", "constant")


class NotApplicable(ValueError):
    """A bound or model does not apply to this network; ``str(err)`` says why."""


def period_factors(spec: DemandSpec, periods: int) -> F64:
    """``(periods,)`` the deterministic demand factor of every period
    (:func:`~invmgmt_marl.demand.demand_factor`)."""
    from invmgmt_marl.demand import demand_factor

    return np.broadcast_to(np.asarray(demand_factor(spec, periods), dtype=np.float64), (periods,)).copy()


def _base_integer(spec: DemandSpec) -> tuple[F64, F64]:
    """Support and pmf of the base process (before effects) when it is integer-valued."""
    p: Any = spec.params
    if spec.process == "poisson":
        d = poisson_dist(p.mean)
        return d.values, d.pmf
    if spec.process == "uniform":
        v = np.arange(p.low, p.high + 1, dtype=np.float64)
        return v, np.full(len(v), 1.0 / len(v))
    if spec.process == "constant":
        return np.array([float(p.value)]), np.ones(1)
    raise NotApplicable(f"demand process {spec.process!r} is not integer-valued")


def store_period_dist(spec: DemandSpec, factor: float, step: float = 0.01) -> GridDist:
    """The distribution of one period's demand ``max(0, round?(factor * base))`` of a store.

    Args:
        spec: the store's demand spec.
        factor: the period's deterministic factor (:func:`period_factors`).
        step: grid step for continuous demand (``normal`` with ``integer: false``); integer demand
            always lives on the integers.

    Raises:
        NotApplicable: the process is not one of :data:`INDEPENDENT_PROCESSES`.
    """
    if spec.process not in INDEPENDENT_PROCESSES:
        raise NotApplicable(
            f"demand process {spec.process!r} is not independent across periods with a known marginal "
            f"(supported: {', '.join(INDEPENDENT_PROCESSES)})"
        )
    f = max(float(factor), 0.0)
    p: Any = spec.params
    if spec.process == "normal":
        if not spec.integer:
            return normal_dist(f * p.mean, f * p.std, step, censor=True)
        if f == 0 or p.std == 0:
            return GridDist(int(max(np.rint(f * max(p.mean, 0.0)), 0.0)), 1.0, np.ones(1))
        # rint(f * max(0, X)) = k  <=>  X in [(k - 1/2) / f, (k + 1/2) / f)  (k >= 1); all of X < 1/(2f) -> 0
        hi = int(np.ceil(f * (p.mean + 9.0 * p.std))) + 1
        k = np.arange(0, hi + 1)
        cdf = stats.norm.cdf((np.r_[k + 0.5]) / f, p.mean, p.std)
        cdf[-1] = 1.0
        return GridDist(0, 1.0, np.diff(np.r_[0.0, cdf]))
    vals, pmf = _base_integer(spec)
    out = f * vals
    if spec.integer:
        idx = np.maximum(np.rint(out), 0.0).astype(np.int64)
        agg = np.zeros(int(idx.max()) + 1)
        np.add.at(agg, idx, pmf)
        return GridDist(0, 1.0, agg)
    if f == 0 or float(vals.max()) == 0.0:
        return GridDist(0, 1.0, np.ones(1))
    if spec.process == "constant":
        return GridDist(1, f * float(vals[0]), np.ones(1))
    # values f * k on the grid of step f (exact)
    return GridDist(int(vals.min()), f, pmf) if f != 1.0 else GridDist(int(vals.min()), 1.0, pmf)
