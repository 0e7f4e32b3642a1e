"""The checks of arrays handed in from outside, in one place (the way scikit-learn has one ``check_array``).

- :func:`check_demand`: a whole demand path (``reset(options={"demand": ...})``, ``evaluate(demand=...)``,
  ``rollout(demand=...)``, the perfect-information bound, demand-set writers).
- :func:`check_inputs` / :func:`check_orders` / :func:`check_period_demand`: one period's inputs of
  :func:`~invmgmt_marl.sim.dynamics.step`, which trusts its inputs so that the hot path stays a fixed
  sequence of array operations. The fast path is two reductions per array (``min`` and ``max``: a NaN
  propagates through ``min``, so ``min >= 0`` fails for it); only a failing array is searched for the
  first bad entry to name in the message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from invmgmt_marl.errors import InvalidActionError, quote

if TYPE_CHECKING:  # pragma: no cover
    from invmgmt_marl.sim.network import Network

__all__ = [
    "MAX_DEMAND",
    "check_demand",
    "check_inputs",
    "check_liquidate",
    "check_orders",
    "check_period_demand",
    "check_price",
]

#: the largest demand value accepted in one period; larger values overflow costs long before use
MAX_DEMAND = 1e12


def check_demand(
    demand: Any,
    *,
    periods: int | None = None,
    n_stores: int | None = None,
    batched: bool = False,
    allow_longer: bool = False,
    name: str = "demand",
) -> NDArray[np.float64]:
    """Validate a demand array and return it as a new float64 array.

    Args:
        demand: array-like, ``(T, S)`` or ``(B, T, S)`` with ``batched=True``.
        periods: the required ``T`` (``None``: any ``T >= 1``).
        n_stores: the required ``S`` (``None``: any ``S >= 1``).
        batched: whether a leading episode axis ``B >= 1`` is expected.
        allow_longer: accept ``T >= periods`` (the caller uses the first ``periods`` rows).
        name: how the array is named in messages (``"options['demand']"``).

    Raises:
        ValueError: ``"<name>: ..."`` for a non-numeric array, a wrong shape, NaN or infinite values,
            negative values, or values above :data:`MAX_DEMAND`, quoting the first offending value.
    """
    try:
        d = np.array(demand, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{name}: expected an array of numbers, got {type(demand).__name__}") from None
    lead = 1 if batched else 0
    shape_txt = "(B, T, S)" if batched else "(T, S)"
    want = f" with T=periods={periods}" if periods is not None else ""
    want += f", S=stores={n_stores}" if n_stores is not None else ""
    if (
        d.ndim != 2 + lead
        or 0 in d.shape
        or (n_stores is not None and d.shape[-1] != n_stores)
        or (periods is not None and (d.shape[-2] < periods if allow_longer else d.shape[-2] != periods))
    ):
        raise ValueError(f"{name}: expected shape {shape_txt}{want}, got {d.shape}")
    bad = ~np.isfinite(d)
    if bad.any():
        raise ValueError(f"{name}: must be finite, got {float(d[bad][0])!r} at index {_index(bad)}")
    if (d < 0).any():
        raise ValueError(f"{name}: must be non-negative, got {float(d.min())!r} at index {_index(d < 0)}")
    if (d > MAX_DEMAND).any():
        raise ValueError(
            f"{name}: must be at most {MAX_DEMAND:g} per period, got {float(d.max())!r} "
            f"at index {_index(d > MAX_DEMAND)}"
        )
    return d


def _index(mask: NDArray[np.bool_]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argwhere(mask)[0])


# ---- one period's inputs of sim.step -----------------------------------------------------------
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
    """``orders`` as a float array of shape ``(B, E)`` (``(B, P, E)`` with products), finite and
    non-negative.

    Raises:
        InvalidActionError: naming the first bad entry, e.g. ``orders[0, 2]: must be finite, got nan``.
    """
    if net.product_axis:  # (B, P, E)
        return _check(orders, "orders", (None, net.n_products, net.n_edges), InvalidActionError)
    if _fast_ok(orders, net.n_edges):
        return orders
    return _check(orders, "orders", (None, net.n_edges), InvalidActionError)


def check_period_demand(net: Network, demand: Any) -> NDArray[np.float64]:
    """One period's ``demand (B, S)`` (``(B, P, S)`` with products) as a float array, finite and
    non-negative (the fast check on the step path; whole demand paths go through :func:`check_demand`).

    Raises:
        ValueError: naming the first bad entry, e.g. ``demand[3, 0]: must be non-negative, got -1.0``.
    """
    if net.product_axis:  # (B, P, S)
        return _check(demand, "demand", (None, net.n_products, net.n_stores), ValueError)
    if _fast_ok(demand, net.n_stores):
        return demand
    return _check(demand, "demand", (None, net.n_stores), ValueError)


def check_inputs(net: Network, orders: Any, demand: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Check one period's inputs of :func:`~invmgmt_marl.sim.dynamics.step` and return them as float
    arrays: ``orders (B, E)`` and ``demand (B, S)``, finite, non-negative, with the same batch size.

    Raises:
        InvalidActionError: bad orders. ValueError: bad demand or mismatched batch sizes.
    """
    o = check_orders(net, orders)
    d = check_period_demand(net, demand)
    if o.shape[0] != d.shape[0]:
        raise ValueError(f"demand: batch size {d.shape[0]} differs from the orders' {o.shape[0]}")
    return o, d


def check_liquidate(net: Network, liquidate: Any) -> NDArray[np.float64]:
    """``liquidate`` (the ``liquidate=`` keyword of :func:`~invmgmt_marl.sim.dynamics.step`) as a float
    array of shape ``(B, P, N)``: finite, non-negative, and zero at nodes without ``liquidation``
    (values above the stock are fine: the simulator caps them).

    Raises:
        InvalidActionError: naming the first bad entry, e.g. ``liquidate[0, 1, 0]: must be finite, got nan``.
    """
    if not net.product_axis:
        raise InvalidActionError("liquidate: needs a network with products and liquidation")
    arr = _check(liquidate, "liquidate", (None, net.n_products, net.n_nodes), InvalidActionError)
    off = (arr > 0) & ~net.liquidation_on
    if off.any():
        idx = _index(off)
        raise InvalidActionError(
            f"liquidate{list(idx)}: node {net.agents[idx[2]]!r} declares no liquidation, "
            f"got {float(arr[idx])}"
        )
    return arr


def check_price(net: Network, price: Any) -> NDArray[np.float64]:
    """Price multipliers ``(B, P, S)`` for :func:`~invmgmt_marl.sim.dynamics.step`'s ``price=``: finite,
    within each pricing store's ``[min, max]`` and exactly 1 at stores without pricing.

    Raises:
        InvalidActionError: naming the first bad entry, e.g. ``price[0, 1, 0]: must lie in [0.5, 1.5],
            got 2.0``, or a network without pricing.
    """
    if not net.any_pricing:
        raise InvalidActionError(f"price: network {net.name!r} has no store with pricing")
    arr = _check(price, "price", (None, net.n_products, net.n_stores), InvalidActionError)
    lo, hi = net.price_bounds  # (S,) each; 1 and 1 at stores without pricing
    bad = (arr < lo) | (arr > hi)
    if bad.any():
        idx = _index(bad)
        s = idx[-1]
        raise InvalidActionError(
            f"price{list(idx)}: must lie in [{lo[s]:g}, {hi[s]:g}] (store {s}), got {float(arr[idx])!r}"
        )
    return arr
