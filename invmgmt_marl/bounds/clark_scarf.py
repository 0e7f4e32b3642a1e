"""Exact optimal echelon base-stock levels of a serial system with backorders (Clark-Scarf).

The recursion is Chen and Zheng's (1994) restatement of Clark and Scarf (1960), in the notation of
Snyder and Shen, *Fundamentals of Supply Chain Theory* (2nd ed., 2019), Section 6.2. Stage 1 is the
most downstream stage (it faces customer demand), stage ``N`` orders from an unlimited source.

The model solved (the "textbook" serial model, before any mapping to our simulator):

* echelon holding cost ``h_j >= 0`` (local holding ``h'_j = h_j + ... + h_N``), backorder cost ``p`` per
  unit-period at stage 1, no ordering or fixed costs, uncapacitated, i.i.d. one-period demand ``D``;
* stage ``j`` has lead time ``lam_j >= 0`` *in periods of demand*: the echelon level ``X_j`` that the
  stage's echelon base-stock ``S_j`` controls is ``X_j = min(S_j, X_{j+1}) - D^(lam_j)`` with
  ``D^(lam_j)`` the sum of ``lam_j`` independent one-period demands (``X_{N+1} = +inf``);
* expected cost per period ``sum_j h_j E[X_j] + (p + h'_1) E[max(-X_1, 0)]``.

The recursion (``x^- = max(-x, 0)``)::

    Cu_0(x)  = (p + h'_1) x^-
    Ch_j(x)  = h_j x + Cu_{j-1}(x)
    C_j(y)   = E[Ch_j(y - D^(lam_j))]          S_j = argmin_y C_j(y)
    Cu_j(x)  = C_j(min(S_j, x))
    C*       = C_N(S_N)

``C*`` is the optimal long-run average cost over all policies (echelon base-stock is optimal, Clark
and Scarf 1960; Federgruen and Zipkin 1984). Demand lives on a grid of step ``delta`` (``1`` for
integer demand, where everything is exact; a small step for the normal, where the cell masses make
the expectation a midpoint rule with ``O(delta^2)`` error). How the simulator's timing maps onto the
``lam_j`` is in :mod:`invmgmt_marl.bounds.bridge`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats

__all__ = [
    "GridDist",
    "SerialSolution",
    "normal_dist",
    "poisson_dist",
    "pmf_dist",
    "solve_serial",
    "serial_cost",
]

F64 = NDArray[np.float64]


@dataclass(frozen=True)
class GridDist:
    """A distribution on the grid ``(lo + k) * step``, ``k = 0 .. len(pmf) - 1``.

    Attributes:
        lo: grid index of the first value (may be negative).
        step: grid spacing (``1.0`` for integer demand).
        pmf: ``(K,)`` probabilities, summing to 1.
    """

    lo: int
    step: float
    pmf: F64  # (K,)

    @property
    def hi(self) -> int:
        return self.lo + len(self.pmf) - 1

    @property
    def values(self) -> F64:
        """``(K,)`` the support points."""
        return (self.lo + np.arange(len(self.pmf))).astype(np.float64) * self.step

    @property
    def mean(self) -> float:
        return float(self.values @ self.pmf)

    def convolve(self, other: GridDist) -> GridDist:
        """The distribution of the sum of two independent variables on the same grid."""
        if abs(self.step - other.step) > 1e-12 * max(self.step, other.step):
            raise ValueError(f"step: cannot add distributions on grids {self.step} and {other.step}")
        return GridDist(self.lo + other.lo, self.step, np.convolve(self.pmf, other.pmf))

    def power(self, n: int) -> GridDist:
        """The distribution of the sum of ``n >= 0`` independent copies (``n = 0``: a point mass at 0)."""
        if n < 0:
            raise ValueError(f"n: must be >= 0, got {n}")
        out = GridDist(0, self.step, np.ones(1))
        for _ in range(n):
            out = out.convolve(self)
        return out

    def expect(self, fn_values: F64) -> float:
        """``E[f(D)]`` given ``f`` at the support points."""
        return float(fn_values @ self.pmf)


def normal_dist(
    mean: float, std: float, step: float = 0.01, tail: float = 8.0, censor: bool = False
) -> GridDist:
    """A normal ``N(mean, std^2)`` on the grid of ``step``: each point gets the mass of the cell of width
    ``step`` around it; the cells cover ``mean +- tail * std`` and the two tails go to the end cells.
    With ``censor`` the variable is ``max(0, N)`` (the simulator's ``normal`` process): all mass below
    ``step / 2`` goes to 0."""
    if std < 0 or step <= 0 or tail <= 0:
        raise ValueError(f"normal_dist: need std >= 0, step > 0, tail > 0, got {std}, {step}, {tail}")
    if std == 0:
        k = int(round(max(mean, 0.0) if censor else mean) / step)
        return GridDist(k, step, np.ones(1))
    lo = int(np.floor((mean - tail * std) / step))
    hi = int(np.ceil((mean + tail * std) / step))
    if censor:
        lo = max(lo, 0)
        hi = max(hi, 0)
    cells = np.arange(lo, hi + 1)
    edges = (np.r_[cells - 0.5, hi + 0.5]) * step
    cdf = stats.norm.cdf(edges, mean, std)
    cdf[0], cdf[-1] = 0.0, 1.0  # tails into the end cells (and, censored, everything below 0 into 0)
    return GridDist(lo, step, np.diff(cdf))


def poisson_dist(mean: float, tail: float = 1e-12) -> GridDist:
    """Poisson demand on the integers, truncated where the upper tail falls below ``tail`` (the tail is
    added to the last point)."""
    if mean < 0:
        raise ValueError(f"mean: must be >= 0, got {mean}")
    hi = int(stats.poisson.isf(tail, mean)) + 1 if mean > 0 else 0
    pmf = stats.poisson.pmf(np.arange(hi + 1), mean)
    pmf[-1] += 1.0 - pmf.sum()
    return GridDist(0, 1.0, pmf)


def pmf_dist(pmf: Sequence[float] | F64, lo: int = 0) -> GridDist:
    """Any integer-valued pmf: ``P(D = lo + k) = pmf[k]``."""
    p = np.asarray(pmf, dtype=np.float64)
    if p.ndim != 1 or len(p) == 0 or np.any(p < 0) or not np.all(np.isfinite(p)):
        raise ValueError(f"pmf: expected a non-empty 1-d array of non-negative numbers, got {pmf!r}")
    if abs(p.sum() - 1.0) > 1e-9:
        raise ValueError(f"pmf: must sum to 1, got {p.sum()}")
    return GridDist(lo, 1.0, p / p.sum())


@dataclass(frozen=True)
class SerialSolution:
    """The optimum of :func:`solve_serial`.

    Attributes:
        echelon_levels: ``(N,)`` optimal echelon base-stock levels ``S*_1 .. S*_N`` (stage 1 downstream).
        local_levels: ``(N,)`` the equivalent local (installation) levels ``S*_j - S*_{j-1}``, after
            making the echelon levels non-increasing downstream (``min(S_j, S_{j+1}, ...)``).
        cost: the optimal expected cost per period ``C*``.
        stage_costs: ``(N,)`` ``C_j(S*_j)``, the recursion's value at each stage.
    """

    echelon_levels: F64  # (N,)
    local_levels: F64  # (N,)
    cost: float
    stage_costs: F64  # (N,)


def _check_stages(echelon_holding: F64, lead_times: Sequence[int], stockout_cost: float) -> None:
    n = len(echelon_holding)
    if n == 0:
        raise ValueError("echelon_holding: need at least one stage, got none")
    if len(lead_times) != n:
        raise ValueError(f"lead_times: expected {n} values (one per stage), got {len(lead_times)}")
    for j, lam in enumerate(lead_times):
        if int(lam) != lam or lam < 0:
            raise ValueError(f"lead_times[{j}]: must be an integer >= 0, got {lam}")
    if np.any(echelon_holding < 0) or not np.all(np.isfinite(echelon_holding)):
        raise ValueError(f"echelon_holding: must be finite and >= 0, got {echelon_holding.tolist()}")
    if not (np.isfinite(stockout_cost) and stockout_cost > 0):
        raise ValueError(f"stockout_cost: must be finite and > 0, got {stockout_cost}")


def _echelon_from_local(local_holding: Sequence[float] | F64) -> F64:
    h = np.asarray(local_holding, dtype=np.float64)
    return h - np.r_[h[1:], 0.0]


def _holding(
    echelon_holding: Sequence[float] | F64 | None,
    local_holding: Sequence[float] | F64 | None,
    lead_times: Sequence[int],
    stockout_cost: float,
) -> F64:
    """Echelon holding costs from exactly one of the two forms, with the stage inputs checked."""
    if (echelon_holding is None) == (local_holding is None):
        raise ValueError("echelon_holding / local_holding: give exactly one of them")
    h = (
        np.asarray(echelon_holding, dtype=np.float64)
        if echelon_holding is not None
        else _echelon_from_local(local_holding)  # type: ignore[arg-type]
    )
    _check_stages(h, lead_times, stockout_cost)
    return h


def solve_serial(
    lead_times: Sequence[int],
    stockout_cost: float,
    demand: GridDist,
    *,
    echelon_holding: Sequence[float] | F64 | None = None,
    local_holding: Sequence[float] | F64 | None = None,
) -> SerialSolution:
    """Optimal echelon base-stock levels and cost of a serial system (module docstring for the model).

    Args:
        lead_times: ``(N,)`` lead times ``lam_j`` in periods of demand, stage 1 (downstream) first.
        stockout_cost: backorder cost ``p > 0`` per unit-period at stage 1.
        demand: one period's demand on a grid (:func:`normal_dist`, :func:`poisson_dist`, :func:`pmf_dist`).
        echelon_holding: ``(N,)`` echelon holding costs ``h_j``, stage 1 first; or
        local_holding: ``(N,)`` local holding costs ``h'_j`` (``h_j = h'_j - h'_{j+1}``), stage 1 first.

    Returns:
        The :class:`SerialSolution`; levels are in demand units (grid points).

    Raises:
        ValueError: inconsistent or invalid inputs (naming the argument).
    """
    h = _holding(echelon_holding, local_holding, lead_times, stockout_cost)
    n = len(h)
    lams = [int(x) for x in lead_times]
    h_local1 = float(h.sum())
    dists = [demand.power(lam) for lam in lams]
    # grid index ranges: stage j needs C_j on [low[j], top]; top bounds every useful level
    top = sum(d.hi for d in dists) + 2
    low = [0] * (n + 1)
    low[n - 1] = sum(d.lo for d in dists) - 2  # no optimal level lies below the least total demand
    for j in range(n - 1, 0, -1):
        low[j - 1] = low[j] - dists[j].hi
    x = np.arange(low[0] - dists[0].hi, top - min(dists[0].lo, 0) + 1)  # stage-1 argument range
    cu = (stockout_cost + h_local1) * np.maximum(-x * demand.step, 0.0)  # Cu_0 on x
    levels = np.zeros(n, dtype=np.int64)
    stage_costs = np.zeros(n)
    for j in range(n):
        d = dists[j]
        ch = h[j] * x * demand.step + cu  # Ch_j on x
        c = np.convolve(ch, d.pmf, mode="valid")  # C_j on y = x[0] + d.hi .. x[-1] + d.lo
        y = np.arange(x[0] + d.hi, x[-1] + d.lo + 1)
        keep = (y >= low[j]) & (y <= top)
        y, c = y[keep], c[keep]
        # the first minimiser (with h_j = 0 the tail of C_j is flat: take where the flat part begins)
        k = int(np.flatnonzero(c <= c.min() + 1e-12 * max(1.0, abs(c.min())))[0])
        if k == 0 or k == len(c) - 1:
            raise RuntimeError(f"solve_serial: stage {j + 1} optimum at the edge of the grid ({y[k]})")
        levels[j], stage_costs[j] = y[k], c[k]
        if j + 1 < n:  # Cu_j(x) = C_j(min(S_j, x)) on the next stage's argument range
            nd = dists[j + 1]
            x = np.arange(low[j + 1] - nd.hi, top - min(nd.lo, 0) + 1)
            if x[0] < y[0]:
                raise RuntimeError("solve_serial: grid too short (internal error)")
            cu = c[np.minimum(x, y[k]) - y[0]]
    ech = levels.astype(np.float64) * demand.step
    ech_mono = np.minimum.accumulate(ech[::-1])[::-1]  # S_j <- min(S_j, ..., S_N)
    local = ech_mono - np.r_[0.0, ech_mono[:-1]]
    return SerialSolution(ech, local, float(stage_costs[-1]), stage_costs)


def serial_cost(
    levels: Sequence[float] | F64,
    lead_times: Sequence[int],
    stockout_cost: float,
    demand: GridDist,
    *,
    echelon_holding: Sequence[float] | F64 | None = None,
    local_holding: Sequence[float] | F64 | None = None,
) -> float:
    """Expected cost per period of given echelon base-stock ``levels`` (on the demand grid) in the model
    of the module docstring: the same recursion with ``S_j`` fixed instead of minimised."""
    h = _holding(echelon_holding, local_holding, lead_times, stockout_cost)
    n = len(h)
    s_idx = np.rint(np.asarray(levels, dtype=np.float64) / demand.step).astype(np.int64)
    if s_idx.shape != (n,):
        raise ValueError(f"levels: expected {n} values, got {np.shape(levels)}")
    dists = [demand.power(int(lam)) for lam in lead_times]
    # exact distribution of X_j by forward recursion: X_N = S_N - D_N, X_j = min(S_j, X_{j+1}) - D_j
    vals = np.array([s_idx[-1]])
    probs = np.ones(1)
    cost = 0.0
    for j in range(n - 1, -1, -1):
        if j < n - 1:
            vals = np.minimum(vals, s_idx[j])
        # subtract D_j: convolve the pmf of vals with the pmf of -D_j
        lo = int(vals.min())
        grid = np.zeros(int(vals.max()) - lo + 1)
        np.add.at(grid, vals - lo, probs)
        d = dists[j]
        probs = np.convolve(grid, d.pmf[::-1])
        vals = np.arange(lo - d.hi, lo - d.hi + len(probs))
        nz = probs > 0
        vals, probs = vals[nz], probs[nz]
        cost += h[j] * float(vals @ probs) * demand.step
    back = float(np.maximum(-vals * demand.step, 0.0) @ probs)
    return cost + (stockout_cost + float(h.sum())) * back
