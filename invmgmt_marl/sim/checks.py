"""Cheap checks of what callers hand to :func:`~invmgmt_marl.sim.dynamics.step`.

``step`` trusts its inputs (finite, non-negative orders and demand of the right shapes) so that the
hot path stays a fixed sequence of array operations. Code that takes orders or demand from outside
(the env, the rollout loop, vector adapters, user code calling ``step`` directly) calls
:func:`check_inputs` first. The fast path is two reductions per array (``min`` and ``max``: a NaN
propagates through ``min``, so ``min >= 0`` fails for it); only a failing array is searched for the
first bad entry to name in the message.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from invmgmt_marl.errors import InvalidActionError, quote
from invmgmt_marl.sim.network import Network

__all__ = ["check_inputs", "check_orders", "check_demand"]


def _first_bad(x: NDArray[np.float64]) -> tuple[tuple[int, ...], float]:
    bad = ~(np.isfinite(x) & (x >= 0))
    idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(bad)), x.shape))
    return idx, float(x[idx])


def _check(x: Any, name: str, shape: tuple[int | None, ...], error: type[ValueError]) -> NDArray[np.float64]:
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise error(f"{name}: expected a numeric array, got {quote(x)}") from None
    if arr.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, arr.shape, strict=True)):
        want = "(" + ", ".join("B" if s is None else str(s) for s in shape) + ")"
        raise error(f"{name}: expected shape {want}, got {arr.shape}")
    if arr.size and not (arr.min() >= 0.0 and arr.max() < np.inf):
        idx, value = _first_bad(arr)
        what = "finite" if not np.isfinite(value) else "non-negative"
        raise error(f"{name}{list(idx)}: must be {what}, got {value}")
    return arr


_MIN, _MAX = np.minimum.reduce, np.maximum.reduce


def _fast_ok(x: Any, width: int) -> bool:
    """True for a float64 ``(B, width)`` ndarray with every entry in ``[0, inf)``: the common case, in
    about 2 us (a type test and two ufunc reductions; NaN fails ``min >= 0``)."""
    return (
        type(x) is np.ndarray
        and x.dtype == np.float64
        and x.ndim == 2
        and x.shape[1] == width
        and x.size > 0
        and bool(_MIN(x, None) >= 0.0)
        and bool(_MAX(x, None) < np.inf)
    )


def check_orders(net: Network, orders: Any) -> NDArray[np.float64]:
    """``orders`` as a float array of shape ``(B, E)``, finite and non-negative.

    Raises:
        InvalidActionError: naming the first bad entry, e.g. ``orders[0, 2]: must be finite, got nan``.
    """
    if _fast_ok(orders, net.n_edges):
        return orders
    return _check(orders, "orders", (None, net.n_edges), InvalidActionError)


def check_demand(net: Network, demand: Any) -> NDArray[np.float64]:
    """``demand`` as a float array, ``(B, S)`` for one period or ``(B, T, S)`` for whole paths, finite
    and non-negative.

    Raises:
        ValueError: naming the first bad entry, e.g. ``demand[3, 0]: must be non-negative, got -1.0``.
    """
    if _fast_ok(demand, net.n_stores):
        return demand
    nd = np.ndim(demand)
    shape: tuple[int | None, ...] = (None, None, net.n_stores) if nd == 3 else (None, net.n_stores)
    return _check(demand, "demand", shape, ValueError)


def check_inputs(net: Network, orders: Any, demand: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Check one period's inputs of :func:`~invmgmt_marl.sim.dynamics.step` and return them as float
    arrays: ``orders (B, E)`` and ``demand (B, S)``, finite, non-negative, with the same batch size.

    Raises:
        InvalidActionError: bad orders. ValueError: bad demand or mismatched batch sizes.
    """
    o = check_orders(net, orders)
    d = check_demand(net, demand)
    if o.shape[0] == d.shape[0] and d.ndim == 2:  # the common case
        return o, d
    if d.ndim != 2:
        raise ValueError(f"demand: expected shape (B, {net.n_stores}) for one period, got {d.shape}")
    if o.shape[0] != d.shape[0]:
        raise ValueError(f"demand: batch size {d.shape[0]} differs from the orders' {o.shape[0]}")
    return o, d
