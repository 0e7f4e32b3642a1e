"""Single-item, deterministic-horizon lot sizing: one exact algorithm, three classic heuristics and a
capacitated MILP.

Every planner takes ``demand (T,)``, a set-up cost ``K`` and a holding cost ``h`` (scalars or one value
per period) and returns a :class:`~invmgmt_marl.lotsizing.plan.LotSizingPlan`. Conventions in
:mod:`invmgmt_marl.lotsizing.plan`.

- :func:`wagner_whitin`: exact dynamic programme of Wagner & Whitin (1958), ``O(T^2)``; batched form
  :func:`wagner_whitin_batch` over many demand rows at once.
- :func:`silver_meal`: Silver & Meal (1973): extend the lot while the cost per period covered falls.
- :func:`least_unit_cost`: extend the lot while the cost per unit ordered falls.
- :func:`part_period_balancing`: DeMatteis (1968): the lot covers the periods whose accumulated
  holding cost is closest to the set-up cost.
- :func:`capacitated_lot_sizing`: the same problem with a per-period capacity, as a MILP with binary
  set-ups solved by HiGHS (``scipy.optimize.milp``) under a time limit.

The heuristics (Silver-Meal, LUC, PPB) follow the textbook statements in Silver, Pyke & Peterson,
*Inventory Management and Production Planning and Scheduling* (3rd ed., 1998), ch. 6.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import Bounds, LinearConstraint, milp

from invmgmt_marl.lotsizing.plan import EPS, LotSizingPlan, check_instance, lot_cost, plan_from_quantities

__all__ = [
    "wagner_whitin",
    "wagner_whitin_batch",
    "silver_meal",
    "least_unit_cost",
    "part_period_balancing",
    "capacitated_lot_sizing",
]

F64 = NDArray[np.float64]


# --------------------------------------------------------------------------------------------------
def wagner_whitin_batch(demand: ArrayLike, setup_cost: ArrayLike, holding_cost: ArrayLike) -> tuple[F64, F64]:
    """Wagner-Whitin on every row of a batch at once.

    ``F[k]`` = least cost of meeting periods ``0 .. k-1``; ``F[k] = min_j F[j] + c(j, k)`` with
    ``c(j, k)`` the cost of one lot in period ``j`` covering ``j .. k-1`` (``K[j]`` if positive plus
    ``sum_{u=j+1}^{k-1} d[u] * (H[u] - H[j])``, ``H`` the prefix sums of ``h``). The holding part is
    evaluated for every ``j`` at once from prefix sums ``S[u] = sum_{v<u} d[v] H[v]``:
    ``(S[k] - S[j+1]) - H[j] * (D[k] - D[j+1])``.

    Args:
        demand: ``(B, T)`` demand rows (non-negative).
        setup_cost: scalar or ``(T,)``, shared by the rows.
        holding_cost: scalar or ``(T,)``, shared by the rows.

    Returns:
        ``(quantities (B, T), cost (B,))``: an optimal plan and its cost for every row.
    """
    d = np.asarray(demand, dtype=np.float64)
    if d.ndim != 2:
        raise ValueError(f"demand: expected shape (B, T), got {d.shape}")
    batch, t_len = d.shape
    _, K, h = check_instance(np.zeros(t_len), setup_cost, holding_cost)  # noqa: N806
    if not np.all(np.isfinite(d)) or np.any(d < 0):
        raise ValueError("demand: must be finite and >= 0")
    H = np.concatenate([[0.0], np.cumsum(h)])  # noqa: N806 (T+1,)
    D = np.concatenate([np.zeros((batch, 1)), np.cumsum(d, axis=1)], axis=1)  # noqa: N806 (B, T+1)
    S = np.concatenate([np.zeros((batch, 1)), np.cumsum(d * H[:t_len], axis=1)], axis=1)  # noqa: N806
    F = np.zeros((batch, t_len + 1))  # noqa: N806
    choice = np.zeros((batch, t_len + 1), dtype=np.int64)
    tol = EPS * max(1.0, float(D[:, -1].max(initial=0.0)))
    for k in range(1, t_len + 1):
        j = np.arange(k)
        qty = D[:, k, None] - D[:, j]  # (B, k) lot size if the lot starts at j
        hold = (S[:, k, None] - S[:, j + 1]) - H[j] * (D[:, k, None] - D[:, j + 1])
        total = F[:, :k] + np.where(qty > tol, K[j], 0.0) + hold
        choice[:, k] = np.argmin(total, axis=1)
        F[:, k] = total[np.arange(batch), choice[:, k]]
    q = np.zeros((batch, t_len))
    end = np.full(batch, t_len)  # (B,) each row's next period still to be explained
    rows = np.arange(batch)
    while np.any(end > 0):  # backtrack all rows together
        live = end > 0
        start = choice[rows, end]
        q[rows[live], start[live]] = D[rows[live], end[live]] - D[rows[live], start[live]]
        end = np.where(live, start, 0)
    q[q < tol] = 0.0
    return q, F[:, -1]


def wagner_whitin(demand: ArrayLike, setup_cost: ArrayLike, holding_cost: ArrayLike) -> LotSizingPlan:
    """The optimal uncapacitated plan (Wagner & Whitin, *Management Science* 5(1), 1958), ``O(T^2)``.

    Args:
        demand: ``(T,)`` demand per period.
        setup_cost: ``K``, scalar or ``(T,)``.
        holding_cost: ``h`` per unit left at the end of a period, scalar or ``(T,)``.
    """
    d, K, h = check_instance(demand, setup_cost, holding_cost)  # noqa: N806
    q, cost = wagner_whitin_batch(d[None], K, h)
    return plan_from_quantities("wagner_whitin", q[0], d, K, h, info={"dp_cost": float(cost[0])})


# --------------------------------------------------------------------------------------------------
def _greedy_lots(
    method: str,
    demand: ArrayLike,
    setup_cost: ArrayLike,
    holding_cost: ArrayLike,
    stop: Callable[[F64, F64, F64, int, int], bool],
) -> LotSizingPlan:
    """Build lots front to back: a lot starts at the first period with unmet demand and covers
    ``j .. k-1``; it grows to ``k + 1`` unless ``stop(d, K, h, j, k)``."""
    d, K, h = check_instance(demand, setup_cost, holding_cost)  # noqa: N806
    t_len = d.size
    q = np.zeros(t_len)
    j = 0
    while j < t_len:
        if d[j] <= EPS:  # nothing to order for this period
            j += 1
            continue
        k = j + 1
        while k < t_len and not stop(d, K, h, j, k):
            k += 1
        q[j] = d[j:k].sum()
        j = k
    return plan_from_quantities(method, q, d, K, h)


def silver_meal(demand: ArrayLike, setup_cost: ArrayLike, holding_cost: ArrayLike) -> LotSizingPlan:
    """Silver-Meal heuristic (Silver & Meal, *Production and Inventory Management* 14, 1973).

    A lot in period ``j`` covers ``j .. k-1`` for the first ``k`` at which adding one more period would
    raise the cost per period covered, ``c(j, k) / (k - j)`` (equal costs extend the lot).
    """

    def stop(d: F64, K: F64, h: F64, j: int, k: int) -> bool:  # noqa: N803
        return lot_cost(d, K, h, j, k + 1) / (k + 1 - j) > lot_cost(d, K, h, j, k) / (k - j) + EPS

    return _greedy_lots("silver_meal", demand, setup_cost, holding_cost, stop)


def least_unit_cost(demand: ArrayLike, setup_cost: ArrayLike, holding_cost: ArrayLike) -> LotSizingPlan:
    """Least unit cost: a lot grows while its cost per unit ordered, ``c(j, k) / sum(d[j:k])``, does
    not rise."""

    def stop(d: F64, K: F64, h: F64, j: int, k: int) -> bool:  # noqa: N803
        return lot_cost(d, K, h, j, k + 1) / d[j : k + 1].sum() > lot_cost(d, K, h, j, k) / d[j:k].sum() + EPS

    return _greedy_lots("least_unit_cost", demand, setup_cost, holding_cost, stop)


def part_period_balancing(demand: ArrayLike, setup_cost: ArrayLike, holding_cost: ArrayLike) -> LotSizingPlan:
    """Part-period balancing (DeMatteis, *IBM Systems Journal* 7(1), 1968).

    A lot in period ``j`` covers the periods ``j .. k-1`` whose accumulated holding cost
    ``c(j, k) - K[j]`` is closest to the set-up cost ``K[j]``: it grows while the holding cost stays
    at or below ``K[j]``, then takes one period more if that lands closer to ``K[j]`` (ties: fewer
    periods).
    """

    def stop(d: F64, K: F64, h: F64, j: int, k: int) -> bool:  # noqa: N803
        hold_now = lot_cost(d, K, h, j, k) - K[j]
        hold_next = lot_cost(d, K, h, j, k + 1) - K[j]
        if hold_next <= K[j] + EPS:
            return False  # still within the set-up cost: keep growing
        # one more period if it lands closer to K (the loop then stops at the next check)
        return not (hold_now <= K[j] + EPS and abs(hold_next - K[j]) < abs(hold_now - K[j]) - EPS)

    return _greedy_lots("part_period_balancing", demand, setup_cost, holding_cost, stop)


# --------------------------------------------------------------------------------------------------
def capacitated_lot_sizing(
    demand: ArrayLike,
    setup_cost: ArrayLike,
    holding_cost: ArrayLike,
    capacity: ArrayLike = np.inf,
    initial_inventory: float = 0.0,
    time_limit: float = 10.0,
    mip_rel_gap: float = 1e-9,
) -> LotSizingPlan:
    """Capacitated single-item lot sizing as a MILP (HiGHS via ``scipy.optimize.milp``).

    Variables per period: ``q[t] >= 0`` (order), ``I[t] >= 0`` (end stock), ``y[t]`` binary (set-up)::

        min  sum K[t] y[t] + h[t] I[t]
        s.t. I[t] - I[t-1] - q[t] = -d[t]          (I[-1] = initial_inventory)
             q[t] <= M[t] y[t],  M[t] = min(capacity[t], demand of periods t .. T-1)

    Args:
        demand, setup_cost, holding_cost: as for :func:`wagner_whitin`.
        capacity: the most that can be ordered per period, scalar or ``(T,)`` (``inf``: uncapacitated).
        initial_inventory: stock at the start of period 0.
        time_limit: seconds HiGHS may spend.
        mip_rel_gap: relative optimality gap at which HiGHS stops.

    Returns:
        The best plan found. ``info`` holds ``mip_gap``, ``dual_bound`` (a lower bound on the optimum),
        ``status`` and ``message``.

    Raises:
        ValueError: bad input, or no feasible plan (cumulative capacity below cumulative demand) or no
            plan found within the time limit.
    """
    d, K, h = check_instance(demand, setup_cost, holding_cost)  # noqa: N806
    t_len = d.size
    cap = np.asarray(capacity, dtype=np.float64)
    cap = np.full(t_len, float(cap)) if cap.ndim == 0 else cap
    if cap.shape != (t_len,) or np.any(np.isnan(cap)) or np.any(cap < 0):
        raise ValueError(f"capacity: expected a scalar or ({t_len},) of values >= 0, got {cap.tolist()}")
    if not np.isfinite(initial_inventory) or initial_inventory < 0:
        raise ValueError(f"initial_inventory: must be finite and >= 0, got {initial_inventory!r}")
    if time_limit <= 0:
        raise ValueError(f"time_limit: must be > 0, got {time_limit!r}")
    rest = np.cumsum(d[::-1])[::-1]  # demand of t .. T-1
    big_m = np.minimum(cap, rest)
    # variables: q (T), I (T), y (T)
    iq, ii, iy = np.arange(t_len), t_len + np.arange(t_len), 2 * t_len + np.arange(t_len)
    n_var = 3 * t_len
    c = np.zeros(n_var)
    c[ii], c[iy] = h, K
    rows = np.arange(t_len)
    bal = sp.coo_matrix(
        (
            np.concatenate([np.ones(t_len), -np.ones(t_len - 1), -np.ones(t_len)]),
            (np.concatenate([rows, rows[1:], rows]), np.concatenate([ii, ii[:-1], iq])),
        ),
        shape=(t_len, n_var),
    )
    rhs = -d.copy()
    rhs[0] += initial_inventory
    link = sp.coo_matrix(
        (np.concatenate([np.ones(t_len), -big_m]), (np.concatenate([rows, rows]), np.concatenate([iq, iy]))),
        shape=(t_len, n_var),
    )
    ub = np.concatenate([np.where(np.isfinite(cap), cap, np.inf), np.full(t_len, np.inf), np.ones(t_len)])
    res = milp(
        c,
        constraints=[LinearConstraint(bal.tocsr(), rhs, rhs), LinearConstraint(link.tocsr(), -np.inf, 0.0)],
        integrality=np.concatenate([np.zeros(2 * t_len), np.ones(t_len)]),
        bounds=Bounds(np.zeros(n_var), ub),
        options={"time_limit": float(time_limit), "mip_rel_gap": float(mip_rel_gap)},
    )
    if res.x is None:
        raise ValueError(
            f"capacitated_lot_sizing: no feasible plan found (HiGHS status {res.status}: {res.message})"
        )
    # HiGHS accepts y within its integrality tolerance of 0 or 1, so a "closed" period can carry an
    # order of about 1e-6 that a recomputed cost would charge a whole set-up for: fix the set-up
    # pattern at the rounded y and solve the remaining LP for exact quantities
    y = np.rint(res.x[iy])
    lo, hi = np.zeros(n_var), ub.copy()
    lo[iy], hi[iy] = y, y
    fixed = milp(
        c,
        constraints=[LinearConstraint(bal.tocsr(), rhs, rhs), LinearConstraint(link.tocsr(), -np.inf, 0.0)],
        bounds=Bounds(lo, hi),
        options={"time_limit": float(time_limit)},
    )
    q = np.where(y > 0, fixed.x[iq], 0.0) if fixed.x is not None else res.x[iq]
    info = {
        "mip_gap": float(getattr(res, "mip_gap", np.nan)),
        "dual_bound": float(getattr(res, "mip_dual_bound", np.nan)),
        "status": int(res.status),
        "message": str(res.message),
    }
    return plan_from_quantities("capacitated_milp", q, d, K, h, initial_inventory, info)
