"""Perfect-information bound: the best any ordering policy could do knowing the whole demand path.

For one customer-demand path ``demand (T, S)`` :func:`perfect_information_bound` solves a linear
program over every period's decisions at once, under every constraint of the scenario, and returns the
least total cost (summed over all agents and periods) -- or, with ``objective="profit"``, the most
total profit. No policy, however clever, can beat it on that path; the gap between a policy's
simulated cost and the bound is an upper bound on how much better any policy could do there.

The linear program (``t = 0 .. T-1``; ``b[-1]`` = initial backlogs, ``I[-1]`` = initial on hand):

Variables (all ``>= 0``)::

    q[t, e]  order placed on edge e             q <= max_order[e]
    x[t, o]  shipment on outflow o              x <= capacity[o]      (edges, then customer streams)
    b[t, o]  backlog on outflow o, end of t     b = 0 on lost-sales customer streams
    l[t, s]  customer demand lost at store s    l = 0 at backlogging stores
    I[t, n]  on hand at node n, end of t
    y[t, e]  "an order was placed" in [0, 1]    only on edges with a fixed cost (else fixed to 0)

Constraints::

    b[t, o] = b[t-1, o] + q[t, o] - x[t, o]                       edges o < E
    b[t, o] = b[t-1, o] + demand[t, s] - x[t, o] - l[t, s]        customers o = E + s
    I[t, n] = I[t-1, n] + sum_{e -> n} arrival[t, e] - sum_{o from n} x[t, o]
    arrival[t, e] = initial_pipeline[e, t] + x[t - lead_time[e], e]   (terms that exist)
    q[t, e] <= max_order[e] * y[t, e]                             edges with fixed_cost > 0

The external source has no stock balance (it ships whatever it is asked, up to capacity). A shipment
can leave in the period it arrives (same-period arrivals join the stock before shipping, as in the
simulator), and an order can be shipped in the period it is placed.

Costs, matching :mod:`invmgmt_marl.sim.ledger`: holding ``h[n] * I[t, n]``; backlog
``backlog_cost[n] * b[t, o]`` for every outflow shipped by ``n`` (none for the external source);
``lost_sales_cost * l``; ordering ``unit_cost[e] * x[t, e]`` (paid on units *shipped* on the node's
inbound edge); fixed ``fixed_cost[e] * y[t, e]``. Profit adds revenue ``price * x[t, customer]`` plus
transfer revenue ``unit_cost[e] * x[t, e]`` on internal edges, which at team level cancels the
internal ordering cost.

Why this is a valid bound (every simulated trajectory is a feasible point of the LP with the same
objective value, or a larger one for fixed costs):

- **Allocation is relaxed.** The simulator ships as much as it can and splits scarce stock by the
  node's ``priority`` or ``proportional`` rule; the LP may ship any amount up to what is owed, the
  capacity and the stock, and may hold stock back. This only enlarges the feasible set, so the bound
  can only get looser -- it stays valid.
- **Fixed costs are relaxed.** The exact model needs a binary ``y`` (fixed cost iff ``q > 0``). The LP
  uses ``y in [0, 1]`` with ``q <= max_order * y``, so it pays only ``fixed_cost * q / max_order`` for
  an order ``q``: at most the true fixed cost, hence still a lower bound on cost (upper bound on
  profit). It is tight only when orders hit ``max_order``.
- **Quantities are continuous.** Integer-valued policies are a subset, so the bound holds for them too.

Costs after the last period (stock left over, backlog still owed) are not counted, as in the
simulator.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from invmgmt_marl.objective import OBJECTIVES, Objective
from invmgmt_marl.sim.dynamics import step
from invmgmt_marl.sim.ledger import COST_FIELDS
from invmgmt_marl.sim.network import Network
from invmgmt_marl.sim.state import initial_state
from invmgmt_marl.validation import check_demand

__all__ = [
    "OracleError",
    "OracleResult",
    "perfect_information_bound",
    "bound_many",
    "replay_orders",
    "SETUPS",
    "MAX_PRODUCT_LP_VARIABLES",
    "ProductBoundResult",
    "product_bound",
    "product_bound_many",
    "product_lp_size",
    "product_slice",
]

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
Setups = Literal["auto", "relaxed", "binary"]
#: how the set-up indicator ``y`` is modelled: ``relaxed`` (LP, ``y in [0, 1]``), ``binary`` (MILP),
#: ``auto`` (binary when some edge has a fixed cost, else the LP -- they coincide without fixed costs)
SETUPS: tuple[str, ...] = ("auto", "relaxed", "binary")

#: LP values below this are numerical noise of the solver and are reported as 0
_NOISE = 1e-9


class OracleError(RuntimeError):
    """The LP solver did not return an optimal solution (the message names HiGHS's status)."""


@dataclass(frozen=True, eq=False)
class OracleResult:
    """The optimal LP solution for one demand path.

    Attributes:
        objective_name: ``"cost"`` or ``"profit"``: what was optimised.
        objective: the optimum: least total cost, or most total profit (team revenue - team cost,
            internal transfer revenue cancelling internal ordering cost).
        total_cost: total cost of the optimal plan, summed over agents and periods (under
            ``"profit"`` this is the cost of the most profitable plan, not the least cost).
        total_revenue: total revenue of the plan (sales plus internal transfer revenue).
        agent_cost: ``(N,)`` cost per agent summed over periods.
        cost_breakdown: ``{field: (N,)}`` per-agent cost by ledger field, for every field of
            :data:`~invmgmt_marl.sim.ledger.COST_FIELDS` (``fixed_cost`` is the relaxed value).
        agent_revenue: ``(N,)`` revenue per agent (price x sold + transfer revenue).
        orders: ``(T, E)`` orders placed on every edge.
        shipments: ``(T, O)`` units shipped on every outflow (edges, then customer streams).
        backlog: ``(T, O)`` backlog on every outflow at the end of each period.
        lost: ``(T, S)`` customer demand lost at each store.
        on_hand: ``(T, N)`` stock at the end of each period.
        order_indicator: ``(T, E)`` relaxed ``y`` in ``[0, 1]`` (zero on edges without a fixed cost).
        solve_seconds: wall time of the HiGHS call.
        status: HiGHS's message for the (optimal) solution.
        setups: ``"relaxed"`` (the LP) or ``"binary"`` (the MILP) -- what was actually solved (a MILP
            that found nothing within its time limit falls back to the LP).
        mip_gap: the MILP's relative gap between its incumbent plan and ``objective`` (``0`` for the LP).
            With binary set-ups ``objective`` is HiGHS's *dual bound*, a valid bound even when the
            time limit stopped the search; the plan fields belong to the incumbent, whose cost is
            ``total_cost``.
    """

    objective_name: str
    objective: float
    total_cost: float
    total_revenue: float
    agent_cost: F64
    cost_breakdown: Mapping[str, F64]
    agent_revenue: F64
    orders: F64
    shipments: F64
    backlog: F64
    lost: F64
    on_hand: F64
    order_indicator: F64
    solve_seconds: float
    status: str
    setups: str = "relaxed"
    mip_gap: float = 0.0

    @property
    def total_profit(self) -> float:
        """Total revenue minus total cost of the plan."""
        return self.total_revenue - self.total_cost


class _LP:
    """The LP of one network and objective; only the right-hand side depends on the demand path.

    Variable blocks, each laid out period-major (``t * width + k``): ``q (T, E)``, ``x (T, O)``,
    ``b (T, O)``, ``l (T, S)``, ``I (T, N)``, ``y (T, E)``.
    Equality rows: outflow balances ``(T, O)``, then node balances ``(T, N)``.
    Inequality rows: ``q - max_order * y <= 0`` on ``(T, F)``, ``F`` = edges with a fixed cost.
    """

    def __init__(self, net: Network, objective: str) -> None:
        unsupported = [
            name
            for name, on in (
                ("stochastic lead times", net.any_lead_jitter),
                ("supplier reliability", net.any_reliability),
                ("transit loss", net.any_transit_loss),
                ("perishable stock", net.any_perishable),
                ("assembly", net.any_assembly),
                ("goodwill (endogenous demand)", net.any_goodwill),
            )
            if on
        ]
        if unsupported:
            raise OracleError(
                f"perfect_information_bound: the LP does not model {', '.join(unsupported)} "
                f"(scenario {net.name!r}); no valid bound is computed for it"
            )
        t_len, n_e, n_s, n_n = net.periods, net.n_edges, net.n_stores, net.n_nodes
        n_o = n_e + n_s
        self.net, self.objective = net, objective
        sizes = {"q": n_e, "x": n_o, "b": n_o, "l": n_s, "I": n_n, "y": n_e, "r": n_n}
        self.idx: dict[str, I64] = {}
        start = 0
        for name, width in sizes.items():
            self.idx[name] = start + np.arange(t_len * width, dtype=np.int64).reshape(t_len, width)
            start += t_len * width
        self.n_vars = start
        q, x, b, lo, inv, y, refused = (self.idx[k] for k in ("q", "x", "b", "l", "I", "y", "r"))
        fixed = net.fixed_cost > 0
        internal_out = net.out_src < n_n  # (O,) outflows shipped by an agent (not the external source)

        # ---- bounds
        lb = np.zeros(self.n_vars)
        ub = np.full(self.n_vars, np.inf)
        ub[q] = net.max_order
        ub[x] = net.out_capacity
        ub[b[:, n_e:]] = np.where(net.store_lost_sales, 0.0, np.inf)
        ub[lo] = np.where(net.store_lost_sales, np.inf, 0.0)
        ub[y] = np.where(fixed, 1.0, 0.0)
        # end-of-period stock fits the storage (the simulator refuses the rest),
        # or stays within the initial stock
        ub[inv] = np.maximum(net.storage_capacity, net.initial_on_hand)
        ub[refused] = np.where(np.isfinite(net.storage_capacity), np.inf, 0.0)
        self.bounds = np.stack([lb, ub], axis=1)

        # ---- objective: minimise cost (or cost - revenue)
        c = np.zeros(self.n_vars)
        c[inv] = net.holding_cost
        src_backlog_cost = np.where(internal_out, net.backlog_cost[np.minimum(net.out_src, n_n - 1)], 0.0)
        c[b] = src_backlog_cost
        c[lo] = net.lost_sales_cost[net.store_nodes]
        # quantity discounts are not convex: every unit at the cheapest tier keeps the bound valid
        self.unit_cost = net.tier_cost.min(axis=1) if net.any_tiers else net.unit_cost
        c[x[:, :n_e]] = self.unit_cost
        # a unit shipped in period t is in transit at the end of min(lead, T - t) periods
        self.transit_periods = np.minimum(net.lead_time[None, :], t_len - np.arange(t_len)[:, None])  # (T, E)
        c[x[:, :n_e]] += net.transit_holding_cost * self.transit_periods
        c[y] = net.fixed_cost
        if objective == "profit":  # internal transfers are paid and earned at the same (relaxed) unit cost
            c[x[:, n_e:]] -= net.price[net.store_nodes]
            c[x[:, :n_e]] -= np.where(net.edge_src < n_n, self.unit_cost, 0.0)
        self.c = c

        # ---- equality constraints (COO triplets)
        rows: list[I64] = []
        cols: list[I64] = []
        vals: list[F64] = []

        def add(r: I64, cidx: I64, v: float | F64) -> None:
            r, cidx = np.broadcast_arrays(r, cidx)
            rows.append(r.ravel())
            cols.append(cidx.ravel())
            vals.append(np.broadcast_to(np.asarray(v, dtype=np.float64), r.shape).ravel())

        row_out = np.arange(t_len * n_o, dtype=np.int64).reshape(t_len, n_o)
        row_node = t_len * n_o + np.arange(t_len * n_n, dtype=np.int64).reshape(t_len, n_n)
        # outflow balance: x + b - b_prev - q (edges) + l (customers) = demand (+ initial backlog at t=0)
        add(row_out, x, 1.0)
        add(row_out, b, 1.0)
        add(row_out[1:], b[:-1], -1.0)
        add(row_out[:, :n_e], q, -1.0)
        add(row_out[:, n_e:], lo, 1.0)
        # node balance: I - I_prev + shipped out - arrived on inbound edges = initial on hand / pipeline
        add(row_node, inv, 1.0)
        add(row_node[1:], inv[:-1], -1.0)
        o_int = np.flatnonzero(internal_out)
        add(row_node[:, net.out_src[o_int]], x[:, o_int], 1.0)
        add(row_node, refused, 1.0)  # units refused at the door leave the node (only with storage capacity)
        # arrivals: a shipment on edge e in period t - lead_time[e] reaches edge_dst[e] in period t
        sent = np.arange(t_len)[:, None] - net.lead_time[None, :]  # (T, E) period of dispatch
        ok = sent >= 0
        add(row_node[:, net.edge_dst][ok], x[np.maximum(sent, 0), np.arange(n_e)[None, :]][ok], -1.0)
        n_eq = t_len * (n_o + n_n)
        self.a_eq = sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n_eq, self.n_vars)
        )

        # constant part of the right-hand side: initial backlog, initial stock, initial pipelines
        rhs = np.zeros(n_eq)
        rhs[row_out[0]] += net.initial_backlog
        rhs[row_node[0]] += net.initial_on_hand
        n_pipe = min(t_len, net.initial_pipeline.shape[1])
        pipe_in = net.initial_pipeline[:, :n_pipe].T @ net.edge_to_dst  # (n_pipe, N) arrivals per node
        rhs[row_node[:n_pipe]] += pipe_in
        self.rhs0 = rhs
        self.row_demand = row_out[:, n_e:]  # (T, S)

        # ---- fixed-cost indicators: q - max_order * y <= 0
        f_idx = np.flatnonzero(fixed)
        if f_idx.size:
            n_f = t_len * f_idx.size
            r = np.arange(n_f, dtype=np.int64).reshape(t_len, f_idx.size)
            coef = np.concatenate([np.ones(n_f), np.broadcast_to(-net.max_order[f_idx], r.shape).ravel()])
            ij = (np.tile(r.ravel(), 2), np.concatenate([q[:, f_idx].ravel(), y[:, f_idx].ravel()]))
            self.a_ub: sp.csr_matrix | None = sp.csr_matrix((coef, ij), shape=(n_f, self.n_vars))
            self.b_ub: F64 | None = np.zeros(n_f)
        else:
            self.a_ub, self.b_ub = None, None

    def _solve_milp(
        self, rhs: F64, time_limit: float, mip_rel_gap: float
    ) -> tuple[F64, float, float, str] | None:
        """Binary set-ups: ``(x, dual bound, gap, message)``, or ``None`` if HiGHS has no incumbent or
        no finite dual bound within the time limit."""
        integrality = np.zeros(self.n_vars)
        integrality[self.idx["y"].ravel()] = 1.0
        cons = [LinearConstraint(self.a_eq, rhs, rhs)]
        if self.a_ub is not None and self.b_ub is not None:
            cons.append(LinearConstraint(self.a_ub, -np.inf, self.b_ub))
        res = milp(
            self.c,
            constraints=cons,
            integrality=integrality,
            bounds=Bounds(self.bounds[:, 0], self.bounds[:, 1]),
            options={"time_limit": float(time_limit), "mip_rel_gap": float(mip_rel_gap)},
        )
        bound = float(getattr(res, "mip_dual_bound", np.nan))
        if res.x is None or not np.isfinite(bound):
            return None
        gap = float(getattr(res, "mip_gap", np.nan))
        return np.asarray(res.x), bound, gap, str(res.message)

    def solve(
        self, demand: F64, binary: bool = False, time_limit: float = 10.0, mip_rel_gap: float = 1e-9
    ) -> OracleResult:
        net = self.net
        rhs = self.rhs0.copy()
        rhs[self.row_demand] += demand
        t0 = time.perf_counter()
        mip = self._solve_milp(rhs, time_limit, mip_rel_gap) if binary and self.a_ub is not None else None
        if mip is not None:
            seconds = time.perf_counter() - t0
            return self._result(mip[0], mip[1], seconds, mip[3], "binary", mip[2])
        res = linprog(
            self.c,
            A_ub=self.a_ub,
            b_ub=self.b_ub,
            A_eq=self.a_eq,
            b_eq=rhs,
            bounds=self.bounds,
            method="highs",
        )
        seconds = time.perf_counter() - t0
        if res.status != 0 or res.x is None:
            raise OracleError(
                f"perfect_information_bound: HiGHS did not solve the LP (objective={self.objective!r}, "
                f"scenario {net.name!r}): status {res.status}: {res.message}"
            )
        return self._result(res.x, float(res.fun), seconds, str(res.message), "relaxed", 0.0)

    def _result(
        self, x: F64, fun: float, seconds: float, message: str, setups: str, gap: float
    ) -> OracleResult:
        net = self.net
        n_e = net.n_edges
        z = np.where(np.abs(x) < _NOISE, 0.0, x)
        orders, ship, back, lost, on_hand, ind = (z[self.idx[k]] for k in ("q", "x", "b", "l", "I", "y"))

        edge_ship = ship[:, :n_e].sum(axis=0)  # (E,)
        # initial pipeline units due in period k < L are in transit at the end of k periods
        pipe = net.initial_pipeline[:, : net.periods]
        initial_transit = pipe @ np.arange(pipe.shape[1], dtype=np.float64)  # (E,) unit-periods
        transit_units = (ship[:, :n_e] * self.transit_periods).sum(axis=0) + initial_transit
        breakdown = {
            "holding_cost": net.holding_cost * on_hand.sum(axis=0),
            "backlog_cost": net.backlog_cost * (back.sum(axis=0) @ net.out_from_src),
            "lost_sales_cost": net.lost_sales_cost * (lost.sum(axis=0) @ net.customer_of_store),
            "ordering_cost": (self.unit_cost * edge_ship) @ net.edge_to_dst,
            "fixed_cost": (net.fixed_cost * ind.sum(axis=0)) @ net.edge_to_dst,
            "transit_holding_cost": (net.transit_holding_cost * transit_units) @ net.edge_to_dst,
            "waste_cost": np.zeros(net.n_nodes),
        }
        breakdown = {f: breakdown[f] for f in COST_FIELDS}
        agent_cost = np.sum([breakdown[f] for f in COST_FIELDS], axis=0)
        revenue = (
            net.price * (ship[:, n_e:].sum(axis=0) @ net.customer_of_store)
            + (self.unit_cost * edge_ship) @ net.edge_from_src
        )
        # the initial pipeline's transit holding is a constant outside the LP's objective
        fun = fun + float(net.transit_holding_cost @ initial_transit)
        value = fun if self.objective == "cost" else -fun
        return OracleResult(
            objective_name=self.objective,
            objective=value,
            total_cost=float(agent_cost.sum()),
            total_revenue=float(revenue.sum()),
            agent_cost=agent_cost,
            cost_breakdown=breakdown,
            agent_revenue=revenue,
            orders=orders,
            shipments=ship,
            backlog=back,
            lost=lost,
            on_hand=on_hand,
            order_indicator=ind,
            solve_seconds=seconds,
            status=message,
            setups=setups,
            mip_gap=gap,
        )


def _check_objective(objective: str) -> None:
    if objective not in OBJECTIVES:
        raise ValueError(f"objective: must be one of {list(OBJECTIVES)}, got {objective!r}")


def _binary(net: Network, setups: str, time_limit: float) -> bool:
    if setups not in SETUPS:
        raise ValueError(f"setups: must be one of {list(SETUPS)}, got {setups!r}")
    if not time_limit > 0:
        raise ValueError(f"time_limit: must be > 0 seconds, got {time_limit!r}")
    return setups == "binary" or (setups == "auto" and net.any_fixed_cost)


def _no_products(net: Network) -> None:
    if net.product_axis:
        raise OracleError(
            f"perfect_information_bound: {net.name!r} has products; use product_bound / product_bound_many "
            "(demand (T, P, S)), which add the shared storage and budget constraints"
        )


def _check_demand(net: Network, demand: ArrayLike, batched: bool) -> F64:
    return check_demand(demand, periods=net.periods, n_stores=net.n_stores, batched=batched)


def perfect_information_bound(
    net: Network,
    demand: ArrayLike,
    objective: Objective = "cost",
    setups: Setups = "auto",
    time_limit: float = 10.0,
) -> OracleResult:
    """Solve the perfect-information LP (or, with set-up costs, MILP) for one demand path.

    Args:
        net: the compiled network.
        demand: ``(T, S)`` customer demand of every store in every period (``T = net.periods``).
        objective: ``"cost"`` (least total cost over all agents and periods) or ``"profit"`` (most
            total profit: team revenue minus team cost).
        setups: ``"auto"`` (binary set-ups when some edge has a fixed cost), ``"relaxed"`` (the LP,
            ``y in [0, 1]``) or ``"binary"``. The MILP's bound is never below the LP's; if HiGHS finds
            no incumbent (or no finite dual bound) within ``time_limit`` the LP is solved instead
            (``result.setups`` says which).
        time_limit: seconds for the MILP.

    Returns:
        The optimal plan and its value. ``result.objective`` is a lower bound on the total cost (an
        upper bound on the total profit) of every ordering policy on this demand path.

    Raises:
        ValueError: ``demand`` has the wrong shape or negative / non-finite entries, or an unknown
            ``objective``.
        OracleError: HiGHS did not report an optimal solution (the message names its status).
    """
    _check_objective(objective)
    _no_products(net)
    binary = _binary(net, setups, time_limit)
    d = _check_demand(net, demand, batched=False)
    return _LP(net, objective).solve(d, binary, time_limit)


def bound_many(
    net: Network,
    demand: ArrayLike,
    objective: Objective = "cost",
    progress: bool = False,
    setups: Setups = "auto",
    time_limit: float = 10.0,
) -> list[OracleResult]:
    """:func:`perfect_information_bound` for every path of a batch (the LP is built once).

    Args:
        net: the compiled network.
        demand: ``(B, T, S)`` customer demand paths.
        objective: ``"cost"`` or ``"profit"``.
        progress: show a transient ``rich`` progress bar (on the terminal; nothing is printed
            otherwise).
        setups: ``"auto"``, ``"relaxed"`` or ``"binary"`` (see :func:`perfect_information_bound`).
        time_limit: seconds for each path's MILP.

    Returns:
        ``B`` results, in batch order.

    Raises:
        ValueError: bad ``demand`` shape or values, or an unknown ``objective``.
        OracleError: HiGHS failed on one of the paths.
    """
    _check_objective(objective)
    _no_products(net)
    binary = _binary(net, setups, time_limit)
    d = _check_demand(net, demand, batched=True)
    lp = _LP(net, objective)
    if not progress:
        return [lp.solve(d[k], binary, time_limit) for k in range(d.shape[0])]
    from rich.progress import Progress

    out = []
    with Progress(transient=True) as bar:
        task = bar.add_task(f"LP bounds ({net.name})", total=d.shape[0])
        for k in range(d.shape[0]):
            out.append(lp.solve(d[k], binary, time_limit))
            bar.advance(task)
    return out


def replay_orders(net: Network, result: OracleResult, demand: ArrayLike) -> float:
    """Feed the LP's orders, open loop, to the real simulator and return its total cost.

    The simulator ships greedily under each node's allocation rule, where the LP may have held stock
    back or delayed a shipment, and it pays a full fixed cost for every positive order; replaying the
    plan is a feasible (open-loop) policy, so the result is always ``>= result.objective`` for
    ``objective="cost"``. The gap shows how much of the bound's advantage survives the real rules.

    Args:
        net: the compiled network the result was computed for.
        result: a result of :func:`perfect_information_bound` on ``net``.
        demand: ``(T, S)`` the demand path the result was computed for.

    Returns:
        The simulated total cost: the ledger's cost fields (``COST_FIELDS``) summed over agents and periods.

    Raises:
        ValueError: ``demand`` or ``result.orders`` has the wrong shape.
    """
    d = _check_demand(net, demand, batched=False)
    if result.orders.shape != (net.periods, net.n_edges):
        raise ValueError(
            f"result.orders: expected shape (T, E) = {(net.periods, net.n_edges)}, got {result.orders.shape}"
        )
    orders = np.clip(result.orders, 0.0, net.max_order)
    orders[orders < _NOISE] = 0.0  # no spurious fixed costs from solver noise
    state = initial_state(net, 1)
    total = 0.0
    for t in range(net.periods):
        state, ledger = step(net, state, orders[t][None], d[t][None])
        total += float(ledger.total_cost.sum())
    return total


# --------------------------------------------------------------------------------------------------
# Products: the same LP per product, coupled by the nodes' shared storage volume and ordering budget
# --------------------------------------------------------------------------------------------------

#: per-product fields of a product network (``(P, ...)``), sliced by :func:`product_slice`
_PER_PRODUCT_FIELDS: tuple[str, ...] = (
    "holding_cost",
    "backlog_cost",
    "lost_sales_cost",
    "price",
    "initial_on_hand",
    "lead_time",
    "unit_cost",
    "max_order",
    "initial_pipeline",
    "initial_orders",
    "initial_demand",
    "initial_backlog",
)

#: the joint LP of a coupled product network is refused above this many variables by default
MAX_PRODUCT_LP_VARIABLES = 400_000

Coupling = Literal["auto", "exact", "drop"]


def product_slice(net: Network, p: int) -> Network:
    """Product ``p`` of a product network as a one-product network without shared constraints (its
    own costs, lead times and initial state; no storage capacity, no budget)."""
    n_s = net.n_stores
    inf = np.full(net.n_nodes, np.inf)
    return replace(
        net,
        **{f: getattr(net, f)[p] for f in _PER_PRODUCT_FIELDS},
        demand_specs=tuple(net.demand_specs[p * n_s : (p + 1) * n_s]),
        product_axis=False,
        n_products=1,
        products=(net.products[p],),
        volume=np.ones(1),
        storage_capacity=inf,
        any_storage=False,
        any_shared_storage=False,
        any_budget=False,
        order_budget=inf,
    )


@dataclass(frozen=True, eq=False)
class ProductBoundResult:
    """The perfect-information bound of a product network on one demand path.

    Attributes:
        objective_name: ``"cost"`` or ``"profit"``.
        objective: least total cost (most total profit) over all nodes, products and periods: a
            lower (upper) bound for every policy on this path.
        product_objective: ``(P,)`` each product's part of ``objective`` (its own costs, refused or
            overflow charges and, under profit, revenue).
        method: ``"joint"`` (one LP with the shared constraints), ``"per_product"`` (nothing couples
            the products: ``P`` independent LPs, exact) or ``"relaxed_coupling"`` (the shared
            constraints dropped on request: a valid but weaker bound).
        orders: ``(T, P, E)``; on_hand: ``(T, P, N)`` end-of-period stock; refused: ``(T, P, N)`` units
            refused at the door (``overflow: refuse`` nodes); overflow: ``(T, P, N)`` units kept beyond
            the capacity (``overflow: keep`` nodes).
        n_variables: variables of the LP(s) solved, in all.
        solve_seconds: wall time of the HiGHS call(s).
        status: HiGHS's message (of the last LP, per product).
    """

    objective_name: str
    objective: float
    product_objective: F64
    method: str
    orders: F64
    on_hand: F64
    refused: F64
    overflow: F64
    n_variables: int
    solve_seconds: float
    status: str


def _coupled(net: Network) -> bool:
    return bool(np.any(np.isfinite(net.storage_capacity)) and net.any_shared_storage) or bool(
        net.any_budget and np.any(np.isfinite(net.order_budget))
    )


def product_bound(
    net: Network,
    demand: ArrayLike,
    objective: Objective = "cost",
    coupling: Coupling = "auto",
    max_variables: int = MAX_PRODUCT_LP_VARIABLES,
) -> ProductBoundResult:
    """The perfect-information LP bound of a network with products, for one demand path.

    Every product has the LP of :func:`perfect_information_bound` (its own costs, lead times, initial
    state; set-up costs relaxed). Products are coupled only by the nodes' shared constraints, added
    as rows over all products (``t`` every period, ``n`` every node with the constraint)::

        sum_p volume[p] * I[t, p, n] <= C'[n] (+ sum_p volume[p] * sum_{u <= t} o[u, p, n])
        sum_p sum_{e -> n} unit_cost[p, e] * q[t, p, e] <= order_budget[n]

    ``C'[n] = max(storage_capacity[n], volume of the initial stock)``. At ``overflow: refuse`` nodes
    the LP may refuse units at the door (``r >= 0``, charged ``overflow_cost``); at ``overflow: keep``
    nodes stock may exceed the capacity by the volume of the overflow units ``o >= 0`` kept so far,
    each charged ``overflow_cost``. Valid because every simulated trajectory satisfies these rows with
    the same cost: the simulator's end-of-period stock never exceeds the room arrivals were cut to
    (refuse: by induction the stock volume stays <= ``C'``; keep: the excess over the capacity grows
    at most by the volume kept as overflow), and the budget cuts orders to fit. Same-period arrivals
    that are sold at once are not counted against the capacity (only end-of-period stock is), which
    keeps the bound valid and can make it loose when arrivals are refused in the simulator.

    Args:
        net: a compiled network with products.
        demand: ``(T, P, S)`` customer demand.
        objective: ``"cost"`` or ``"profit"``.
        coupling: ``"auto"``: the joint LP when a shared constraint exists (refused above
            ``max_variables``), else one LP per product (exact, any size). ``"exact"``: the same but
            never decompose. ``"drop"``: ignore the shared constraints and solve per product -- a
            valid, weaker bound for instances too large for the joint LP.
        max_variables: the largest joint LP accepted (:func:`product_lp_size`: ``P x T x (2E + 2O + S + 3N)``
            variables).

    Raises:
        ValueError: not a product network, bad demand, objective or coupling.
        OracleError: the joint LP is larger than ``max_variables``, an unsupported feature, or HiGHS
            did not solve it.
    """
    _check_objective(objective)
    if not net.product_axis:
        raise ValueError(f"net: product_bound needs a network with products, got {net.name!r}")
    if coupling not in ("auto", "exact", "drop"):
        raise ValueError(f"coupling: must be 'auto', 'exact' or 'drop', got {coupling!r}")
    d = np.array(demand, dtype=np.float64)
    want = (net.periods, net.n_products, net.n_stores)
    if d.shape != want:
        raise ValueError(f"demand: expected shape (T, P, S) = {want}, got {d.shape}")
    check_demand(d.reshape(net.periods, -1), periods=net.periods)
    coupled = _coupled(net)
    if coupling == "drop" or (coupling == "auto" and not coupled):
        lps = [_LP(product_slice(net, p), objective) for p in range(net.n_products)]
        return _per_product(net, lps, d, objective, "relaxed_coupling" if coupled else "per_product")
    n_total = product_lp_size(net)
    if n_total > max_variables:
        raise OracleError(
            f"product_bound: the joint LP of {net.name!r} has {n_total:,} variables "
            f"(P={net.n_products}, T={net.periods}, N={net.n_nodes}, E={net.n_edges}), above "
            f"max_variables={max_variables:,}; raise max_variables, or pass coupling='drop' for a "
            "weaker bound that ignores the shared storage and budget"
        )
    lps = [_LP(product_slice(net, p), objective) for p in range(net.n_products)]
    return _joint(net, lps, d, objective)


def product_lp_size(net: Network) -> int:
    """Variables of the joint product LP: per product and period ``q, y (E)``, ``x, b (O)``, ``l (S)``,
    ``I, r (N)``, plus one overflow variable per (period, product, node)."""
    n_o = net.n_edges + net.n_stores
    per_period = 2 * net.n_edges + 2 * n_o + net.n_stores + 3 * net.n_nodes
    return net.periods * net.n_products * per_period


def product_bound_many(
    net: Network,
    demand: ArrayLike,
    objective: Objective = "cost",
    coupling: Coupling = "auto",
    max_variables: int = MAX_PRODUCT_LP_VARIABLES,
) -> list[ProductBoundResult]:
    """:func:`product_bound` for every path of ``demand`` ``(B, T, P, S)``."""
    d = np.asarray(demand, dtype=np.float64)
    if d.ndim != 4:
        raise ValueError(f"demand: expected shape (B, T, P, S), got {d.shape}")
    return [product_bound(net, d[k], objective, coupling, max_variables) for k in range(d.shape[0])]


def _per_product(net: Network, lps: list[_LP], d: F64, objective: str, method: str) -> ProductBoundResult:
    res = [lp.solve(d[:, p]) for p, lp in enumerate(lps)]
    zeros = np.zeros((net.periods, net.n_products, net.n_nodes))
    values = np.array([r.objective for r in res])
    return ProductBoundResult(
        objective_name=objective,
        objective=float(values.sum()),
        product_objective=values,
        method=method,
        orders=np.stack([r.orders for r in res], axis=1),
        on_hand=np.stack([r.on_hand for r in res], axis=1),
        refused=zeros,
        overflow=zeros.copy(),
        n_variables=sum(lp.n_vars for lp in lps),
        solve_seconds=float(sum(r.solve_seconds for r in res)),
        status=res[-1].status if res else "",
    )


def _initial_transit_cost(net: Network) -> float:
    """Transit holding of a (one-product) network's initial pipeline: a constant outside the LP."""
    pipe = net.initial_pipeline[:, : net.periods]
    return float(net.transit_holding_cost @ (pipe @ np.arange(pipe.shape[1], dtype=np.float64)))


def _joint(net: Network, lps: list[_LP], d: F64, objective: str) -> ProductBoundResult:
    """One LP over every product, with the shared storage and budget rows."""
    t_len, n_p, n_n = net.periods, net.n_products, net.n_nodes
    width = lps[0].n_vars  # every product's block has the same layout (same T, E, O, S, N)
    idx = lps[0].idx
    n_blocks = n_p * width
    keep = np.isfinite(net.storage_capacity) & ~net.overflow_refuse  # (N,) nodes keeping overflow
    refuse = np.isfinite(net.storage_capacity) & net.overflow_refuse
    ovf = n_blocks + np.arange(t_len * n_p * n_n, dtype=np.int64).reshape(t_len, n_p, n_n)  # o[t, p, n]
    n_vars = n_blocks + ovf.size

    c = np.concatenate([lp.c for lp in lps] + [np.zeros(ovf.size)])
    bounds = np.concatenate([lp.bounds for lp in lps] + [np.zeros((ovf.size, 2))])
    ref = (np.arange(n_p)[:, None, None] * width + idx["r"][None]).transpose(1, 0, 2)  # (T, P, N)
    inv = (np.arange(n_p)[:, None, None] * width + idx["I"][None]).transpose(1, 0, 2)  # (T, P, N)
    q = (np.arange(n_p)[:, None, None] * width + idx["q"][None]).transpose(1, 0, 2)  # (T, P, E)
    bounds[ref[..., refuse], 1] = np.inf  # refused at the door, charged the overflow cost
    c[ref] += net.overflow_cost
    bounds[ovf[..., keep], 1] = np.inf  # kept beyond the capacity, charged the overflow cost
    c[ovf] += net.overflow_cost

    rhs = np.concatenate([lp.rhs0 for lp in lps])
    rows_dem = np.concatenate(
        [lp.row_demand + p * lp.rhs0.size for p, lp in enumerate(lps)], axis=1
    )  # (T, P*S)
    rhs[rows_dem] += d.reshape(t_len, -1)
    a_eq = sp.block_diag([lp.a_eq for lp in lps], format="csr")
    a_eq = sp.hstack([a_eq, sp.csr_matrix((a_eq.shape[0], ovf.size))], format="csr")

    ub_rows: list[sp.csr_matrix] = []
    ub_rhs: list[F64] = []
    if any(lp.a_ub is not None for lp in lps):  # relaxed set-up costs, per product
        blocks = [lp.a_ub if lp.a_ub is not None else sp.csr_matrix((0, width)) for lp in lps]
        a_f = sp.block_diag(blocks, format="csr")
        ub_rows.append(sp.hstack([a_f, sp.csr_matrix((a_f.shape[0], ovf.size))], format="csr"))
        ub_rhs.append(np.zeros(a_f.shape[0]))
    cap_nodes = (
        np.flatnonzero(np.isfinite(net.storage_capacity)) if net.any_shared_storage else np.zeros(0, int)
    )
    for n in cap_nodes:  # sum_p v_p I[t, p, n] - [keep] sum_p v_p sum_{u<=t} o[u, p, n] <= C'
        r_ix, c_ix, v = [], [], []
        for t in range(t_len):
            r_ix.append(np.full(n_p, t))
            c_ix.append(inv[t, :, n])
            v.append(net.volume)
            if keep[n]:
                r_ix.append(np.full(n_p * (t + 1), t))
                c_ix.append(ovf[: t + 1, :, n].ravel())
                v.append(-np.tile(net.volume, t + 1))
        ub_rows.append(
            sp.csr_matrix(
                (np.concatenate(v), (np.concatenate(r_ix), np.concatenate(c_ix))), shape=(t_len, n_vars)
            )
        )
        cap = max(float(net.storage_capacity[n]), float(net.volume @ net.initial_on_hand[:, n]))
        ub_rhs.append(np.full(t_len, cap))
    bud_nodes = np.flatnonzero(np.isfinite(net.order_budget)) if net.any_budget else np.zeros(0, int)
    for n in bud_nodes:  # sum_p sum_{e -> n} unit_cost[p, e] q[t, p, e] <= budget
        edges = np.flatnonzero(net.edge_dst == n)
        cols = q[:, :, edges].reshape(t_len, -1)  # (T, P * k)
        vals = np.broadcast_to(net.unit_cost[:, edges].ravel(), cols.shape)
        rows = np.broadcast_to(np.arange(t_len)[:, None], cols.shape)
        ub_rows.append(sp.csr_matrix((vals.ravel(), (rows.ravel(), cols.ravel())), shape=(t_len, n_vars)))
        ub_rhs.append(np.full(t_len, float(net.order_budget[n])))
    a_ub = sp.vstack(ub_rows, format="csr") if ub_rows else None
    b_ub = np.concatenate(ub_rhs) if ub_rhs else None

    t0 = time.perf_counter()
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=rhs, bounds=bounds, method="highs")
    seconds = time.perf_counter() - t0
    if res.status != 0 or res.x is None:
        raise OracleError(
            f"product_bound: HiGHS did not solve the joint LP (objective={objective!r}, scenario "
            f"{net.name!r}): status {res.status}: {res.message}"
        )
    x = np.where(np.abs(res.x) < _NOISE, 0.0, res.x)
    blocks_x = x[:n_blocks].reshape(n_p, width)
    const = np.array([_initial_transit_cost(lp.net) for lp in lps])
    per = (
        (blocks_x * c[:n_blocks].reshape(n_p, width)).sum(axis=1) + (x[ovf] * c[ovf]).sum(axis=(0, 2)) + const
    )
    per = per if objective == "cost" else -per
    return ProductBoundResult(
        objective_name=objective,
        objective=float(per.sum()),
        product_objective=per,
        method="joint",
        orders=x[q],
        on_hand=x[inv],
        refused=x[ref],
        overflow=x[ovf],
        n_variables=n_vars,
        solve_seconds=seconds,
        status=str(res.message),
    )
