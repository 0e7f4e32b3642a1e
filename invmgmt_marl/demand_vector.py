"""Demand of many stores (or products) drawn in one call, bit for bit as one call per store.

:func:`invmgmt_marl.demand.sample_demand` draws each store's process on its own, stores in order.
A product network has one stream per (product, store): ``sku2000_3w`` has 2,000, and 2,000 calls made
``reset()`` cost about 30 ms. A run of consecutive Poisson streams whose only effects are a
multiplier, a seasonal swing and rounding is drawn here with one ``rng.poisson`` over an array of
means: numpy's generator draws an array of means element by element in C order, which is the order of
the per-store calls (store-major, then batch, then period), so the draws, the generator's state after
them and the effects (the same elementwise operations in the same order) are identical.
``tests/test_demand_vector.py`` checks this against the per-store path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["MIN_RUN", "simple_poisson", "sample_poisson_run"]

F64 = NDArray[np.float64]
MIN_RUN = 8  # shorter runs go through the per-store path


def simple_poisson(spec: Any) -> bool:
    """Whether a demand spec is a Poisson process with at most a multiplier, a seasonal swing and
    rounding as effects (what :func:`sample_poisson_run` draws)."""
    return (
        spec.process == "poisson"
        and spec.trend is None
        and spec.weekly is None
        and not spec.shocks
        and not spec.events
    )


def sample_poisson_run(specs: Sequence[Any], rng: np.random.Generator, batch: int, periods: int) -> F64:
    """``(batch, periods, k)`` demand of ``k`` :func:`simple_poisson` specs, as ``k`` calls of
    :func:`invmgmt_marl.demand.sample_store_demand` would draw it from ``rng``."""
    k = len(specs)
    means = np.array([s.params.mean for s in specs], dtype=np.float64)
    base = rng.poisson(means[:, None, None], size=(k, batch, periods)).astype(np.float64)  # (k, B, T)
    # the effects of demand.demand_factor: multiplier, then (1 + amplitude sin(2 pi (t + phase) / period))
    t = np.arange(periods, dtype=np.float64)
    factor = np.array([s.multiplier for s in specs], dtype=np.float64)[:, None] * np.ones(periods)  # (k, T)
    seasonal = [i for i, s in enumerate(specs) if s.seasonal is not None]
    if seasonal:
        keys = [(specs[i].seasonal.phase, specs[i].seasonal.period) for i in seasonal]
        rows = {key: np.sin(2.0 * np.pi * (t + key[0]) / key[1]) for key in dict.fromkeys(keys)}
        amp = np.array([specs[i].seasonal.amplitude for i in seasonal], dtype=np.float64)[:, None]
        swing = np.stack([rows[key] for key in keys])  # (k', T)
        factor[seasonal] = factor[seasonal] * (1.0 + amp * swing)
    d = base * factor[:, None, :]  # a factor of exactly 1 leaves the draws unchanged, as skipping it does
    integer = np.array([bool(s.integer) for s in specs])
    if integer.all():
        d = np.rint(d)
    elif integer.any():
        d[integer] = np.rint(d[integer])
    return np.maximum(d, 0.0).transpose(1, 2, 0)
