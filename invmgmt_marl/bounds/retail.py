"""A proven profit ceiling for a single store with products: the perfect-information LP.

For ONE realised randomness path of a single-store product scenario (the demand at list price
``demand (T, P, S)`` and the lead-time extras ``sample_supply`` draws per (period, product, edge)),
:func:`retail_profit_bound` solves a linear program whose optimum is at least the profit of *every*
policy on that path, whatever it knows: orders per (period, product, shipping mode), liquidation and
a continuous price multiplier ``m`` in ``[min, max]`` per (period, product). Profit is the task
definition (:func:`invmgmt_marl.tasks.ledger_profit`): the ledger's ``revenue`` minus its seven cost
fields (``ordering``, ``fixed``, ``transit holding``, ``holding`` with the overflow charge,
``backlog``, ``lost sales``, ``waste``), summed over periods and products. Salvage money is paid into
cash but is not in ``revenue``, so it is not profit; the LP follows that definition.

The LP (``t = 0 .. T-1``, every variable ``>= 0``)::

    o[t,p,e]   units ordered of product p on edge (mode) e in t; o <= max_order[p,e]. The order
               arrives in period a = t + ((lead[p,e] + extra[t,p,e] - 1) mod L) + 1 (the ring slot
               the simulator writes it to); orders with a >= T are left out (they only cost).
    r[t,p]     units refused at the door (storage capacity, ``overflow: refuse``); r <= arrivals.
    I[t,p,c]   stock of product p received in period c ("cohort"; initial stock is cohort 0) at the
               end of t, for c <= t <= c + shelf_life - 1; one cohort per product if not perishable.
    s[t,p,c]   units sold from cohort c;  z[t,p,c] units liquidated from it (stores with liquidation).
    R[t,p]     revenue of (t, p);  lost[t,p] lost sales (only where lost_sales_cost > 0).

    I[t,p,c] = I[t-1,p,c] + [t = c] (arrivals[t,p] - r[t,p] (+ initial stock if c = 0)) - s - z
    q[t,p] = sum_c s[t,p,c] <= qmax[t,p]
    R[t,p] <= alpha_k q[t,p] + beta_k           for every facet k of the revenue envelope of (t, p)
    lost[t,p] >= dmin[t,p] - q[t,p]
    sum_p volume_p (stock at the start of t + arrivals - r) <= capacity          (refuse rule)
    sum_{u<=t} paid[u] - sum_{u<t} (R[u] + salvage z[u]) <= initial cash          (stores with cash)
    paid[t] = sum unit_cost[p,e] o[t,p,e] <= order_budget                        (where set)

and the objective is ``sum R + salvage z - unit_cost o - fixed_cost o / max_order - transit holding -
holding on the stock left after expiry - waste on the cohort that expires - overflow_cost r - lost_sales_cost
lost`` (plus the constant transit holding of the initial pipeline).

**Why every policy's profit is at most the LP optimum** (the proof sketch). Take any trajectory the
simulator produces on this path: orders kept after the cash and budget rules, price multipliers ``m``,
liquidations. Map it to an LP point: ``o`` = the orders kept (those arriving in the horizon; dropping
the others lowers the cash paid and raises profit), ``r`` = the units refused, ``s`` / ``z`` =
sales and liquidations taken oldest cohort first (the simulator's FIFO is one of the allocations the
LP may choose; the LP may choose any, which can only raise its optimum), ``I`` = the stock by cohort,
``R`` = the revenue ``p m q``, ``lost`` = the lost sales. Every constraint holds:

- balance, arrivals and expiry are the simulator's own bookkeeping (arrival periods are those of the
  ring buffer, expiry at the end of ``c + shelf_life - 1``);
- the storage row holds because the simulator accepts at most the room left (when the initial stock
  already exceeds the capacity the row is dropped, a relaxation; ``overflow: keep`` drops the row and
  its charge, both only raise the LP);
- the cash row is ``paid <= cash`` with ``cash' = cash - paid + revenue + salvage``;
- the revenue rows: the store sells ``q <= d(m)`` units at multiplier ``m``, ``d(m) = rint(D m^-e)``
  where the demand is integer. If ``k - 1 < q <= k`` (``k`` an integer) then ``d(m) >= k``, so
  ``D m^-e >= k - 0.5`` (``rint`` rounds up by at most one half) and ``m <= M_k = min(hi, (D / (k -
  0.5))^(1/e))``; ``M_k`` falls with ``k``. So ``R = p m q <= p M_k q``, a line through ``(k - 1, p
  M_k (k - 1))``, which lies below the point ``(k - 1, p M_{k-1} (k - 1))``, and ``(k, p M_k k)``:
  ``R`` lies below the chord between consecutive points ``(k, p k M_k)``, ``k = 0, 1, .., ceil(qmax)``,
  hence below their upper concave hull, ``R <= min_j(alpha_j q + beta_j)``. Where the demand is not
  integer, ``m <= M(q) = min(hi, (D / q)^(1/e))`` and ``g(q) = p q M(q)`` is ``p hi q`` up to ``q* = D
  hi^-e`` and monotone after it (``p D^(1/e) q^(1 - 1/e)``), so on each interval of a geometric grid
  of ``[q*, qmax]`` (``segments`` intervals) its supremum is at an end; the step function of those
  suprema, its hull, dominates ``g``. ``qmax = max(D, d(lo))``; a store given ``price=None`` sells at
  ``m = 1``, so ``[lo, hi]`` is widened to contain 1 and ``M_k >= 1`` while ``k - 1 < D``;
  ``dmin = min(D, d(hi))`` bounds the lost sales below;
- fixed costs ``fixed_cost 1[o > 0] >= fixed_cost o / max_order`` and every cost is linear.

So the mapped point is feasible with an LP objective at least the trajectory's profit; the optimum is
at least that. The bound holds for every policy, with continuous prices, fractional orders and any
information. What it gives away: fractional sales between integer points of the envelope (a policy
with fractional stock), the choice of cohort to sell, selling less than the demand while holding
stock, and (non-integer demand only) the grid. On the retail tasks the LP's own plan, replayed in the
simulator with the highest multiplier that still sells its units, makes 96-100% of the ceiling.

Scope: one store, every edge from the external source (shipping modes are parallel edges), lost
sales, products. Refused with a ValueError naming the feature: backlogging stores, internal edges,
shipping capacities, quantity discounts, unreliable supply, transit loss, goodwill, initial backlogs.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import linprog

from invmgmt_marl.demand import sample_network_demand
from invmgmt_marl.sim.network import Network
from invmgmt_marl.sim.supply import SupplyPath, sample_supply

__all__ = [
    "CEILING_METHOD",
    "RetailBound",
    "retail_ceiling",
    "retail_path",
    "retail_profit_bound",
    "revenue_envelope",
]

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
logger = logging.getLogger(__name__)

#: how the ceiling is obtained, in words (a task's ``Reference.method``)
CEILING_METHOD = (
    "perfect-information LP, continuous price multipliers (docs/bounds.md, Retail profit ceiling)"
)
#: relative slack added to the envelope's values (float round-off of powers never breaks the bound)
_SLACK = 1e-9


@dataclass(frozen=True, eq=False)
class RetailBound:
    """The optimum of the retail perfect-information LP on one path.

    Attributes:
        value: the most profit any policy can make on this path (an upper bound, see the module).
        orders: ``(T, P, E)`` orders of an optimal plan (0 for orders that would not arrive in time).
        sold: ``(T, P)`` units sold in that plan.
        revenue: ``(T, P)`` revenue of that plan (at the envelope, an upper bound on what the prices
            can earn for those sales).
        n_vars: LP columns.
        n_rows: LP rows (equalities and inequalities).
        segments: grid intervals of each revenue envelope.
        solve_seconds: wall time of the HiGHS call.
    """

    value: float
    orders: F64
    sold: F64
    revenue: F64
    n_vars: int
    n_rows: int
    segments: int
    solve_seconds: float


def revenue_envelope(
    base: float, price: float, lo: float, hi: float, elasticity: float, integer: bool, segments: int = 64
) -> tuple[float, F64]:
    """The concave envelope bounding one (period, product)'s revenue by its units sold.

    Args:
        base: demand ``D`` at list price (multiplier 1).
        price: list price ``p``.
        lo: lowest multiplier; ``hi``: highest (widened to contain 1).
        elasticity: ``e >= 0``; demand at multiplier ``m`` is ``D m^-e`` (``rint``-ed if ``integer``).
        integer: whether the simulator rounds the demand with ``np.rint``.
        segments: grid intervals on ``[q*, qmax]`` (non-integer demand only).

    Returns:
        ``(qmax, facets)``: the most units that can be sold, and ``(K, 2)`` rows ``(alpha, beta)``
        with ``revenue <= alpha q + beta`` for every ``q`` in ``[0, qmax]`` and every multiplier in
        ``[lo, hi]`` at which at least ``q`` units are demanded (see the module docstring).
    """
    lo, hi = min(lo, 1.0), max(hi, 1.0)
    if base <= 0.0 or price <= 0.0:
        qmax = max(base, 0.0)
        return qmax, np.array([[max(price, 0.0) * hi, 0.0]])

    def demand_at(m: float) -> float:
        x = base * m**-elasticity
        return float(np.rint(x)) if integer else x

    if elasticity <= 0.0:
        qmax = max(base, demand_at(1.0))
        return qmax, np.array([[price * hi * (1 + _SLACK), 0.0]])
    qmax = max(base, demand_at(lo))
    if integer:  # integer demand: bound the revenue at every integer number of units sold
        k = np.arange(1, int(np.ceil(qmax - 1e-9)) + 1, dtype=np.float64)
        ceiling_m = np.minimum(hi, (base / (k - 0.5)) ** (1.0 / elasticity))
        ceiling_m = np.maximum(ceiling_m, np.where(k - 1 < base, 1.0, 0.0))  # m = 1 (price=None) sells D
        points = [(0.0, 0.0)] + [(float(a), float(price * a * b)) for a, b in zip(k, ceiling_m, strict=True)]
        return qmax, _upper_hull_facets(points)
    q_star = base * hi**-elasticity
    points = [(0.0, 0.0)]
    if qmax <= q_star:
        points.append((qmax, price * hi * qmax))
    else:
        points.append((q_star, price * hi * q_star))
        grid = np.geomspace(q_star, qmax, segments + 1)
        g = price * grid * np.minimum(hi, (base / grid) ** (1.0 / elasticity))
        top = np.maximum(g[:-1], g[1:])  # g is monotone: its supremum on an interval is at an end
        for j in range(segments):
            points.append((float(grid[j]), float(top[j])))
            points.append((float(grid[j + 1]), float(top[j])))
    return qmax, _upper_hull_facets(points)


def _upper_hull_facets(points: list[tuple[float, float]]) -> F64:
    """``(K, 2)`` lines ``(slope, intercept)`` of the upper concave hull of ``points`` (over their x
    range), each raised by a relative ``_SLACK``."""
    best: dict[float, float] = {}
    for x, y in points:
        best[x] = max(y, best.get(x, -np.inf))
    pts = sorted(best.items())
    hull: list[tuple[float, float]] = []
    for x, y in pts:
        while len(hull) >= 2:
            (x1, y1), (x2, y2) = hull[-2], hull[-1]
            if (x2 - x1) * (y - y1) - (y2 - y1) * (x - x1) >= 0:  # hull[-1] on or below the chord
                hull.pop()
            else:
                break
        hull.append((x, y))
    if len(hull) == 1:
        return np.array([[0.0, hull[0][1] * (1 + _SLACK)]])
    rows = []
    scale = max(abs(y) for _, y in hull)
    for (x1, y1), (x2, y2) in zip(hull[:-1], hull[1:], strict=True):
        slope = (y2 - y1) / (x2 - x1)
        rows.append((slope, y1 - slope * x1 + _SLACK * scale))
    return np.array(rows)


def _check_network(net: Network) -> None:
    """ValueError naming the first feature the LP does not model."""
    if not net.product_axis:
        raise ValueError(f"retail bound: scenario {net.name!r} has no products: declare `products:`")
    if net.n_nodes != 1 or net.n_stores != 1:
        raise ValueError(f"retail bound: one store only; {net.name!r} has {net.n_nodes} nodes")
    if not bool(np.all(net.external_edges)):
        raise ValueError("retail bound: every edge must come from the external source")
    if not bool(np.all(net.store_lost_sales)):
        raise ValueError("retail bound: the store must have lost_sales: true (backlog is not modelled)")
    refused = {
        "goodwill": net.any_goodwill,
        "reliability": net.any_reliability,
        "transit_loss": net.any_transit_loss,
        "quantity discount tiers": net.any_tiers,
        "edge capacity": net.any_capacity or net.any_shared_shipping,
        "assembly": net.any_assembly,
        "per-node storage_capacity without products": net.any_storage,
        "initial_backlog": bool(np.any(net.initial_backlog > 0)),
    }
    for name, on in refused.items():
        if on:
            raise ValueError(f"retail bound: {name} is not modelled (scenario {net.name!r})")
    for name in ("unit_cost", "holding_cost", "waste_cost", "lost_sales_cost", "fixed_cost"):
        if bool(np.any(np.asarray(getattr(net, name)) < 0)):
            raise ValueError(f"retail bound: negative {name} is not modelled")


def _lead_extra(net: Network, supply: Any) -> I64:
    """``(T, P, E)`` extra lead-time periods of the path (zeros without jitter)."""
    shape = (net.periods, net.n_products, net.n_edges)
    if supply is None:
        if net.any_lead_jitter:
            raise ValueError("supply: this network has stochastic lead times; pass sample_supply(...)")
        return np.zeros(shape, dtype=np.int64)
    extra = supply.lead_extra if isinstance(supply, SupplyPath) else supply
    extra = np.asarray(extra)
    if extra.ndim == 4:
        if extra.shape[0] != 1:
            raise ValueError(f"supply: expected one path (batch of 1), got batch {extra.shape[0]}")
        extra = extra[0]
    if extra.shape != shape:
        raise ValueError(f"supply: lead_extra has shape {extra.shape}, expected {shape}")
    return extra.astype(np.int64)


class _Cols:
    """Column allocator with objective coefficients and bounds."""

    def __init__(self) -> None:
        self.n = 0
        self.c: list[float] = []
        self.ub: list[float] = []

    def add(self, cost: float = 0.0, ub: float = np.inf) -> int:
        self.c.append(cost)
        self.ub.append(ub)
        self.n += 1
        return self.n - 1


class _Rows:
    """Sparse rows ``sum coef x <= / = rhs``."""

    def __init__(self) -> None:
        self.r: list[int] = []
        self.c: list[int] = []
        self.v: list[float] = []
        self.b: list[float] = []

    def add(self, terms: list[tuple[int, float]], rhs: float) -> None:
        k = len(self.b)
        for j, v in terms:
            self.r.append(k)
            self.c.append(j)
            self.v.append(v)
        self.b.append(rhs)

    def matrix(self, n: int) -> sp.csr_matrix | None:
        if not self.b:
            return None
        return sp.csr_matrix((self.v, (self.r, self.c)), shape=(len(self.b), n))


def retail_profit_bound(
    net: Network, demand: ArrayLike, supply: SupplyPath | ArrayLike | None = None, *, segments: int = 64
) -> RetailBound:
    """Solve the retail perfect-information LP (module docstring) on one path.

    Args:
        net: a compiled single-store product network.
        demand: ``(T, P, S)`` (or ``(1, T, P, S)``) demand at list price, as
            :func:`~invmgmt_marl.demand.sample_network_demand` draws it.
        supply: the path's :class:`~invmgmt_marl.sim.supply.SupplyPath` (batch of one), or its
            ``(T, P, E)`` lead-time extras, or ``None`` without stochastic lead times.
        segments: grid intervals of each price envelope where the demand is not integer (finer:
            tighter, more rows); integer demand uses every integer number of units instead.

    Returns:
        The optimum and an optimal plan.

    Raises:
        ValueError: a feature the LP does not model, or inputs of the wrong shape.
        RuntimeError: HiGHS did not solve the LP.
    """
    _check_network(net)
    if isinstance(segments, bool) or not isinstance(segments, int) or segments < 1:
        raise ValueError(f"segments: expected an integer >= 1, got {segments!r}")
    T, P, E = net.periods, net.n_products, net.n_edges
    d = np.asarray(demand, dtype=np.float64)
    if d.ndim == 4 and d.shape[0] == 1:
        d = d[0]
    if d.shape != (T, P, 1):
        raise ValueError(f"demand: expected shape {(T, P, 1)}, got {d.shape}")
    if not np.all(np.isfinite(d)) or np.any(d < 0):
        raise ValueError("demand: expected finite, non-negative values")
    base = d[:, :, 0]
    extra = _lead_extra(net, supply)
    L = net.max_lead

    price = net.price[:, 0]
    hold = net.holding_cost[:, 0]
    waste = np.asarray(net.waste_cost, dtype=np.float64).reshape(P, -1)[:, 0]
    lost_cost = net.lost_sales_cost[:, 0]
    unit = net.unit_cost
    max_order = net.max_order
    fixed = np.broadcast_to(net.fixed_cost, (P, E))
    thc = np.broadcast_to(net.transit_holding_cost, (P, E))
    shelf = np.zeros(P, dtype=np.int64)  # 0: not perishable
    if net.any_perishable_products:
        for pair, life in zip(net.perish_pairs.tolist(), net.pair_shelf_life.tolist(), strict=True):
            shelf[pair // net.n_nodes] = life
    liquidation = bool(net.any_liquidation and net.liquidation_on[0])
    salvage = net.salvage[:, 0] if liquidation else np.zeros(P)
    pricing = bool(net.any_pricing and net.pricing_on[0])
    lo, hi = (float(net.price_bounds[0, 0]), float(net.price_bounds[1, 0])) if pricing else (1.0, 1.0)
    elast = net.price_elasticity[:, 0] if pricing else np.zeros(P)
    integer = net.demand_integer[:, 0] if pricing else np.zeros(P, dtype=bool)
    cash_on = bool(net.any_cash and net.cash_on[0])
    budget = float(net.order_budget[0]) if net.any_budget else np.inf
    storage = bool(net.any_shared_storage) and np.isfinite(net.storage_capacity[0])
    refuse = storage and bool(net.overflow_refuse[0])
    init = net.initial_on_hand[:, 0]
    cap = float(net.storage_capacity[0]) if storage else np.inf
    if refuse and float(net.volume @ init) > cap:
        logger.info("retail bound: initial stock exceeds the storage capacity; capacity row relaxed")
        refuse = False

    cols, eq, ub = _Cols(), _Rows(), _Rows()
    constant = 0.0
    # arrivals: constants from the initial pipeline, order columns by arrival period
    arr_const = np.zeros((T, P))
    pipe = net.initial_pipeline  # (P, E, L): slot k arrives in period k
    for k in range(min(L, T)):
        arr_const[k] += pipe[:, :, k].sum(axis=1)
    for k in range(L):
        constant -= float((pipe[:, :, k] * thc).sum()) * min(k, T)
    arr_cols: list[list[list[int]]] = [[[] for _ in range(P)] for _ in range(T)]
    order_col = -np.ones((T, P, E), dtype=np.int64)
    paid_terms: list[list[tuple[int, float]]] = [[] for _ in range(T)]
    for t in range(T):
        for p in range(P):
            for e in range(E):
                a = t + (int(net.lead_time[p, e]) + int(extra[t, p, e]) - 1) % L + 1
                if a >= T:
                    continue
                mo = float(max_order[p, e])
                per_unit = float(unit[p, e]) + float(thc[p, e]) * (a - t)
                if fixed[p, e] > 0 and np.isfinite(mo) and mo > 0:
                    per_unit += float(fixed[p, e]) / mo
                j = cols.add(-per_unit, mo)
                order_col[t, p, e] = j
                arr_cols[a][p].append(j)
                paid_terms[t].append((j, float(unit[p, e])))
    # refused units at the door
    ref_col = -np.ones((T, P), dtype=np.int64)
    if refuse:
        for t in range(T):
            for p in range(P):
                j = cols.add(-float(net.overflow_cost[0]))
                ref_col[t, p] = j
                ub.add([(j, 1.0)] + [(i, -1.0) for i in arr_cols[t][p]], float(arr_const[t, p]))
    # stock by cohort, sales, liquidation
    sales: list[list[list[int]]] = [[[] for _ in range(P)] for _ in range(T)]
    liq: list[list[list[int]]] = [[[] for _ in range(P)] for _ in range(T)]
    start_stock: list[list[list[int]]] = [[[] for _ in range(P)] for _ in range(T)]  # I cols alive at start
    for p in range(P):
        life = int(shelf[p])
        cohorts = range(T) if life > 0 else range(1)
        for c in cohorts:
            last = min(c + life - 1, T - 1) if life > 0 else T - 1
            prev = -1
            for t in range(c, last + 1):
                expiring = life > 0 and t == c + life - 1
                j_i = cols.add(-(float(waste[p]) if expiring else float(hold[p])))
                j_s = cols.add()
                sales[t][p].append(j_s)
                terms = [(j_i, 1.0), (j_s, 1.0)]
                if liquidation:
                    j_z = cols.add(float(salvage[p]))  # salvage is income (as in the profit reward)
                    liq[t][p].append(j_z)
                    terms.append((j_z, 1.0))
                if prev >= 0:
                    terms.append((prev, -1.0))
                rhs = 0.0
                if t == c or life == 0:  # this period's arrivals join this cohort
                    terms += [(i, -1.0) for i in arr_cols[t][p]]
                    if ref_col[t, p] >= 0:
                        terms.append((int(ref_col[t, p]), 1.0))
                    rhs += float(arr_const[t, p])
                if t == 0 and c == 0:
                    rhs += float(init[p])
                eq.add(terms, rhs)
                if t + 1 < T and not expiring:
                    start_stock[t + 1][p].append(j_i)
                prev = j_i
    # storage capacity in volume (refuse rule)
    if refuse:
        vol = net.volume
        for t in range(T):
            terms = []
            rhs = cap
            for p in range(P):
                terms += [(j, float(vol[p])) for j in start_stock[t][p]]
                terms += [(j, float(vol[p])) for j in arr_cols[t][p]]
                terms.append((int(ref_col[t, p]), -float(vol[p])))
                rhs -= float(vol[p]) * float(arr_const[t, p])
                if t == 0:
                    rhs -= float(vol[p]) * float(init[p])
            ub.add(terms, rhs)
    # revenue envelopes, demand caps and lost sales
    rev_col = np.zeros((T, P), dtype=np.int64)
    for t in range(T):
        for p in range(P):
            qmax, facets = revenue_envelope(
                float(base[t, p]),
                float(price[p]),
                lo,
                hi,
                float(elast[p]),
                bool(integer[p]),
                segments,
            )
            j_r = cols.add(1.0)
            rev_col[t, p] = j_r
            s_terms = [(j, 1.0) for j in sales[t][p]]
            ub.add(s_terms, qmax)
            for alpha, beta in facets.tolist():
                ub.add([(j_r, 1.0)] + [(j, -alpha) for j in sales[t][p]], beta)
            if lost_cost[p] > 0:
                dmin = float(base[t, p])
                if pricing and elast[p] > 0:
                    x = base[t, p] * max(hi, 1.0) ** -elast[p]
                    dmin = min(dmin, float(np.rint(x)) if integer[p] else float(x))
                j_l = cols.add(-float(lost_cost[p]))
                ub.add([(j_l, -1.0)] + [(j, -1.0) for j in sales[t][p]], -dmin)
    # cash and budget
    if cash_on:
        cash0 = float(net.cash_initial[0])
        running: list[tuple[int, float]] = []
        for t in range(T):
            running = running + paid_terms[t]
            ub.add(list(running), cash0)
            running = running + [(int(rev_col[t, p]), -1.0) for p in range(P)]
            if liquidation:
                running = running + [(j, -float(salvage[p])) for p in range(P) for j in liq[t][p]]
    if np.isfinite(budget):
        for t in range(T):
            ub.add(list(paid_terms[t]), budget)

    n = cols.n
    objective = -np.asarray(cols.c)  # linprog minimises
    bounds = list(zip([0.0] * n, [None if not np.isfinite(u) else u for u in cols.ub], strict=True))
    t0 = time.perf_counter()
    res = linprog(
        objective,
        A_ub=ub.matrix(n),
        b_ub=np.asarray(ub.b) if ub.b else None,
        A_eq=eq.matrix(n),
        b_eq=np.asarray(eq.b) if eq.b else None,
        bounds=bounds,
        method="highs",
    )
    seconds = time.perf_counter() - t0
    if res.status != 0 or res.x is None:
        raise RuntimeError(f"retail bound: HiGHS did not solve the LP (status {res.status}: {res.message})")
    x = res.x
    orders = np.where(order_col >= 0, x[np.maximum(order_col, 0)], 0.0)
    sold = np.array([[sum(x[j] for j in sales[t][p]) for p in range(P)] for t in range(T)])
    return RetailBound(
        value=float(-res.fun) + constant,
        orders=orders,
        sold=sold,
        revenue=x[rev_col],
        n_vars=n,
        n_rows=len(eq.b) + len(ub.b),
        segments=segments,
        solve_seconds=seconds,
    )


def retail_path(net: Network, seed: int) -> tuple[F64, SupplyPath | None]:
    """The randomness path the env plays for ``reset(seed=seed)``: ``(demand (T, P, S), supply)``.

    Both are drawn from ``default_rng(seed)``, demand first, as the env and
    :func:`invmgmt_marl.tasks.passive_profit` do.
    """
    rng = np.random.default_rng(seed)
    demand = sample_network_demand(net, rng, 1, net.periods)
    supply = sample_supply(net, rng, 1, net.periods)
    return demand[0], supply


def retail_ceiling(net: Network, demand: ArrayLike, supply: SupplyPath | ArrayLike | None = None) -> float:
    """The proven profit ceiling of a single-store product scenario on one path (task profit units).

    ``demand`` ``(T, P, S)`` at list price and ``supply`` as :func:`retail_path` returns them; the
    value of :func:`retail_profit_bound` (see the module docstring for the proof).
    """
    return retail_profit_bound(net, demand, supply).value
