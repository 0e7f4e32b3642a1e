"""The plan object every single-item planner returns, and the shared cost arithmetic.

Conventions (the same as the simulator's ledger, :mod:`invmgmt_marl.sim.ledger`): periods
``t = 0 .. T-1``; what is received in period ``t`` serves period ``t``'s demand; holding cost
``h[t]`` is charged on the stock left at the *end* of period ``t``; a set-up cost ``K[t]`` is charged
for every period with a positive order. Shortages are not allowed (every demand is met on time).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["LotSizingPlan", "check_instance", "plan_from_quantities", "lot_cost"]

F64 = NDArray[np.float64]
BoolA = NDArray[np.bool_]

#: quantities below this are treated as zero (no set-up)
EPS = 1e-9


@dataclass(frozen=True, eq=False)
class LotSizingPlan:
    """A single-item lot-sizing plan and its cost.

    Attributes:
        method: the planner that made it (``"wagner_whitin"``, ``"silver_meal"``, ...).
        quantities: ``(T,)`` units received (ordered, with zero lead time) in each period.
        setups: ``(T,)`` ``True`` where a positive quantity is ordered.
        inventory: ``(T,)`` stock at the end of each period.
        setup_cost: total set-up cost ``sum(K[t] * setups[t])``.
        holding_cost: total holding cost ``sum(h[t] * inventory[t])``.
        info: planner-specific details (MIP gap and status for the MILP, ...).
    """

    method: str
    quantities: F64  # (T,)
    setups: BoolA  # (T,)
    inventory: F64  # (T,)
    setup_cost: float
    holding_cost: float
    info: Mapping[str, Any] = field(default_factory=dict)

    @property
    def total_cost(self) -> float:
        """Set-up plus holding cost."""
        return self.setup_cost + self.holding_cost


def _per_period(value: ArrayLike, t_len: int, name: str) -> F64:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        arr = np.full(t_len, float(arr))
    if arr.shape != (t_len,):
        raise ValueError(f"{name}: expected a scalar or shape ({t_len},), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{name}: must be finite and >= 0, got {arr.tolist()}")
    return arr


def check_instance(demand: ArrayLike, setup_cost: ArrayLike, holding_cost: ArrayLike) -> tuple[F64, F64, F64]:
    """Validate a single-item instance; return ``(d, K, h)`` as ``(T,)`` float arrays.

    Raises:
        ValueError: naming the field and the value (wrong shape, negative or non-finite entries).
    """
    d = np.asarray(demand, dtype=np.float64)
    if d.ndim != 1 or d.size == 0:
        raise ValueError(f"demand: expected a non-empty 1-D array (T,), got shape {d.shape}")
    if not np.all(np.isfinite(d)) or np.any(d < 0):
        raise ValueError(f"demand: must be finite and >= 0, got {d.tolist()}")
    t_len = d.size
    return d, _per_period(setup_cost, t_len, "setup_cost"), _per_period(holding_cost, t_len, "holding_cost")


def lot_cost(d: F64, K: F64, h: F64, j: int, k: int) -> float:  # noqa: N803 (the literature's name)
    """Cost of one lot received in period ``j`` that covers periods ``j .. k-1``.

    ``K[j]`` if the lot is positive, plus holding: the demand of period ``u`` waits at the end of
    periods ``j .. u-1``, so it costs ``d[u] * (h[j] + ... + h[u-1])``.
    """
    qty = float(d[j:k].sum())
    if qty <= EPS:
        return 0.0
    carry = np.concatenate([[0.0], np.cumsum(h[j : k - 1])])  # carry[u - j] = h[j] + ... + h[u-1]
    return float(K[j] + d[j:k] @ carry)


def plan_from_quantities(
    method: str,
    quantities: ArrayLike,
    demand: F64,
    setup_cost: F64,
    holding_cost: F64,
    initial_inventory: float = 0.0,
    info: Mapping[str, Any] | None = None,
) -> LotSizingPlan:
    """Build a :class:`LotSizingPlan` from order quantities, computing stock and costs.

    Raises:
        ValueError: the quantities leave a shortage in some period.
    """
    q = np.asarray(quantities, dtype=np.float64).copy()
    q[np.abs(q) < EPS] = 0.0
    inv = initial_inventory + np.cumsum(q - demand)
    if np.any(inv < -1e-6 * max(1.0, float(demand.sum()))):
        t = int(np.argmax(inv < -1e-6 * max(1.0, float(demand.sum()))))
        raise ValueError(f"quantities: the plan of {method!r} runs short in period {t} (stock {inv[t]:.6g})")
    inv = np.maximum(inv, 0.0)
    setups = q > EPS
    return LotSizingPlan(
        method=method,
        quantities=q,
        setups=setups,
        inventory=inv,
        setup_cost=float(setup_cost @ setups),
        holding_cost=float(holding_cost @ inv),
        info=dict(info or {}),
    )
