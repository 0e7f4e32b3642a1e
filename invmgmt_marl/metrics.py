"""Key performance indicators: pure functions over a :class:`~invmgmt_marl.rollout.Trajectory` or arrays.

Every function reads the ledger fields (see :mod:`invmgmt_marl.sim.ledger`); none re-derives the
inventory arithmetic. Shapes: ``T`` periods, ``B`` episodes, ``N`` nodes, ``S`` stores, ``L`` echelon
levels. Trajectories must keep every period (``rollout(..., keep="all")``), except for the cost
functions, which also accept ``keep="sum"``.

Notation in the formulas: ``x[t]`` is a ledger field of period ``t`` (end-of-period stocks, flows of the
period); ``d[t, s]`` customer demand at store ``s``; sums over ``t`` run over the whole episode unless
stated otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from invmgmt_marl.sim.ledger import COST_FIELDS

if TYPE_CHECKING:  # pragma: no cover
    from invmgmt_marl.rollout import Trajectory
    from invmgmt_marl.sim.network import Network

__all__ = [
    "ECHELON_GROUPINGS",
    "echelon_levels",
    "cost_breakdown",
    "total_cost",
    "revenue",
    "customer_backlog",
    "on_time",
    "fill_rate",
    "system_fill_rate",
    "node_fill_rate",
    "cycle_service_level",
    "product_fill_rate",
    "node_product_fill_rate",
    "product_cycle_service_level",
    "order_cv",
    "node_order_cv",
    "demand_cv",
    "bullwhip_cv",
    "bullwhip_variance_ratio",
    "inventory_turns",
    "system_turns",
    "gap_to_bound",
    "normalised_score",
    "level_labels",
    "trajectory_summary",
]

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

#: the ways nodes can be grouped into echelon levels (see :func:`echelon_levels`)
ECHELON_GROUPINGS: tuple[str, ...] = ("role", "distance")
_ROLE_ORDER = ("store", "warehouse", "supplier")
#: below this a mean order is treated as zero (its coefficient of variation is reported as 0)
CV_MEAN_FLOOR = 1e-6


def _full(traj: Trajectory, what: str) -> None:
    t_nodes, t_demand = traj.nodes.shape[0], traj.demand.shape[1]
    if t_nodes != t_demand:
        raise ValueError(
            f"{what}: needs every period's ledger (rollout keep='all'); the trajectory has {t_nodes} "
            f"period(s) for {t_demand} demand periods"
        )


# --------------------------------------------------------------------------------------------------
# echelon levels
def _distance_to_customer(net: Network) -> I64:
    """Edges from each node down to the nearest store (stores 0); -1 if no store is downstream."""
    n = net.n_nodes
    dist = np.full(n, -1, dtype=np.int64)
    dist[net.store_nodes] = 0
    frontier = list(net.store_nodes.tolist())
    while frontier:
        nxt = []
        for j in frontier:
            for e in net.agent_edges[j]:
                src = int(net.edge_src[e])
                if src < n and dist[src] < 0:
                    dist[src] = dist[j] + 1
                    nxt.append(src)
        frontier = nxt
    return dist


def echelon_levels(net: Network, by: str = "role") -> list[tuple[str, I64]]:
    """The network's echelon levels, from the customer up: ``[(label, node indices), ...]``.

    ``by="role"`` groups stores, warehouses and suppliers (labels ``store``, ``warehouse``,
    ``supplier``; roles without nodes are left out). ``by="distance"`` groups nodes by the number of
    edges down to the nearest store (labels ``d0`` = stores, ``d1``, ...; nodes from which no store can
    be reached form a last level ``unlinked``).
    """
    if by == "role":
        out = []
        for role in _ROLE_ORDER:
            idx = np.array([i for i, r in enumerate(net.roles) if r == role], dtype=np.int64)
            if len(idx):
                out.append((role, idx))
        return out
    if by == "distance":
        dist = _distance_to_customer(net)
        out = [(f"d{k}", np.flatnonzero(dist == k).astype(np.int64)) for k in range(int(dist.max()) + 1)]
        out = [(lab, idx) for lab, idx in out if len(idx)]
        if np.any(dist < 0):
            out.append(("unlinked", np.flatnonzero(dist < 0).astype(np.int64)))
        return out
    raise ValueError(f"by: expected one of {list(ECHELON_GROUPINGS)}, got {by!r}")


# --------------------------------------------------------------------------------------------------
# money
def cost_breakdown(traj: Trajectory) -> dict[str, F64]:
    """``{field: (B, N)}`` episode totals of each cost field of the ledger
    (:data:`~invmgmt_marl.sim.ledger.COST_FIELDS`, in that order): ``C_f[b, n] = sum_t f[t, b, n]``
    (summed over products too)."""
    traj = traj.totals()  # products summed
    return {f: traj.node(f).sum(axis=0) for f in COST_FIELDS}


def total_cost(traj: Trajectory) -> F64:
    """``(B, N)`` episode cost of each node: ``sum_f C_f`` over the cost fields (``COST_FIELDS``)."""
    return np.asarray(sum(cost_breakdown(traj).values()))


def revenue(traj: Trajectory) -> F64:
    """``(B, N)`` episode revenue: ``sum_t revenue[t]`` (sales plus internal transfer revenue)."""
    return traj.totals().node("revenue").sum(axis=0)


# --------------------------------------------------------------------------------------------------
# service
def customer_backlog(traj: Trajectory, net: Network) -> F64:
    """``(T, B, S)`` units owed to each store's customers at the end of each period (``(T, B, P, S)``
    with products).

    ``cb[t, s] = backlog[t, store_s] - sum_{e out of store_s} edge_backlog[t, e]`` (a store's node
    backlog also counts what it owes on outbound edges, if it has any); 0 at lost-sales stores.
    """
    _full(traj, "customer_backlog")
    stores = net.store_nodes
    edge_owed = traj.edge("edge_backlog") @ net.edge_from_src  # (T, B, N) or (T, B, P, N)
    cb = traj.node("backlog")[..., stores] - edge_owed[..., stores]
    return np.maximum(cb, 0.0)


def on_time(traj: Trajectory, net: Network) -> F64:
    """``(T, B, S)`` customer demand shipped in the period it arrived (``(T, B, P, S)`` with products).

    Old backlog is served first, so ``on_time[t] = clip(sold[t] - cb[t-1], 0, d[t])`` with ``cb`` the
    customer backlog (:func:`customer_backlog`, ``cb[-1]`` = the store's initial backlog). For a store
    without outbound edges this is the issue's ``clip(shipped - (owed - requested), 0, requested)``.
    """
    _full(traj, "on_time")
    cb = customer_backlog(traj, net)
    init = np.broadcast_to(net.initial_backlog[..., net.n_edges :], cb.shape[1:])
    carried = np.concatenate([init[None], cb[:-1]], axis=0)
    demand = np.moveaxis(traj.demand, 1, 0)  # (T, B, S) or (T, B, P, S)
    sold = traj.node("sold")[..., net.store_nodes]
    return np.clip(sold - carried, 0.0, demand)


def _ratio(num: F64, den: F64, empty: float) -> F64:
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), empty)


def _products_summed(x: F64, traj: Trajectory) -> F64:
    """``x`` ``(..., P, X)`` summed over its product axis (the second to last) when ``traj`` has one."""
    return x.sum(axis=-2) if traj.product_axis else x


def fill_rate(traj: Trajectory, net: Network) -> F64:
    """``(B, S)`` fill rate of each store: ``sum_t on_time[t] / sum_t d[t]`` (1 when no demand).

    With products, on time demand and demand are summed over products (``on_time`` is computed per
    product): the demand-weighted fill rate of the store's products."""
    on = _products_summed(on_time(traj, net).sum(axis=0), traj)
    return _ratio(on, _products_summed(traj.demand.sum(axis=1), traj), 1.0)


def product_fill_rate(traj: Trajectory, net: Network, per_store: bool = False) -> F64:
    """``(B, P)`` fill rate of each product of a network with products over all stores:
    ``sum_{t,s} on_time[t, p, s] / sum_{t,s} d[t, p, s]`` (1 when the product had no demand);
    ``(B, P, S)`` per (product, store) with ``per_store=True``."""
    if not traj.product_axis:
        raise ValueError("product_fill_rate: the trajectory has no product axis")
    on, d = on_time(traj, net).sum(axis=0), traj.demand.sum(axis=1)  # (B, P, S)
    if not per_store:
        on, d = on.sum(axis=-1), d.sum(axis=-1)
    return _ratio(on, d, 1.0)


def system_fill_rate(traj: Trajectory, net: Network) -> F64:
    """``(B,)`` fill rate over all stores (and products): ``sum_{t,p,s} on_time / sum_{t,p,s} d``
    (1 when no demand): with products, the demand-weighted fill rate over every product."""
    on = on_time(traj, net)
    batch = on.shape[1]
    return _ratio(
        on.sum(axis=0).reshape(batch, -1).sum(axis=1), traj.demand.reshape(batch, -1).sum(axis=1), 1.0
    )


def node_fill_rate(traj: Trajectory) -> F64:
    """``(B, N)`` fill rate of every node towards all its requesters (downstream nodes and customers):
    ``sum_t clip(shipped - (owed - requested), 0, requested) / sum_t requested`` (1 when nothing was
    requested). With products the clip is per product and the sums run over products too."""
    _full(traj, "node_fill_rate")
    req, owed, shipped = traj.node("requested"), traj.node("owed"), traj.node("shipped")
    ok = np.clip(shipped - (owed - req), 0.0, req)
    return _ratio(_products_summed(ok.sum(axis=0), traj), _products_summed(req.sum(axis=0), traj), 1.0)


def node_product_fill_rate(traj: Trajectory) -> F64:
    """``(B, P, N)`` :func:`node_fill_rate` of every (node, product) of a network with products."""
    if not traj.product_axis:
        raise ValueError("node_product_fill_rate: the trajectory has no product axis")
    _full(traj, "node_product_fill_rate")
    req, owed, shipped = traj.node("requested"), traj.node("owed"), traj.node("shipped")
    ok = np.clip(shipped - (owed - req), 0.0, req)
    return _ratio(ok.sum(axis=0), req.sum(axis=0), 1.0)


def cycle_service_level(traj: Trajectory, net: Network, tol: float = 1e-9) -> F64:
    """``(B, S)`` share of periods without a stockout at each store.

    A period is a stockout when some of its customer demand was not shipped in that period (it became
    new backlog or was lost): ``d[t] - on_time[t] > tol * max(1, d[t])``. Periods without demand are
    never stockouts. ``CSL = (1/T) sum_t [no stockout in t]``. With products: the share of
    (period, product) pairs without a stockout (the mean of :func:`product_cycle_service_level` over
    products).
    """
    csl = _stockout_free(traj, net, tol)
    return csl.mean(axis=1) if traj.product_axis else csl


def product_cycle_service_level(traj: Trajectory, net: Network, tol: float = 1e-9) -> F64:
    """``(B, P, S)`` share of periods without a stockout of each (product, store)
    (:func:`cycle_service_level` per product)."""
    if not traj.product_axis:
        raise ValueError("product_cycle_service_level: the trajectory has no product axis")
    return _stockout_free(traj, net, tol)


def _stockout_free(traj: Trajectory, net: Network, tol: float) -> F64:
    ot = on_time(traj, net)
    demand = np.moveaxis(traj.demand, 1, 0)
    out = demand - ot > tol * np.maximum(1.0, demand)
    return 1.0 - out.mean(axis=0)


# --------------------------------------------------------------------------------------------------
# bullwhip
def order_cv(orders: F64) -> F64:
    """Coefficient of variation of order series ``(T, ...)`` over the first ``T - 1`` periods, as
    reported by Liu et al.: ``std(q[0:T-1]) / mean(q[0:T-1])`` (population std), and 0 where the
    mean is below ``1e-6``. Returns the trailing shape (e.g. ``(B, N)``)."""
    q = np.asarray(orders, dtype=np.float64)
    if q.shape[0] < 2:
        raise ValueError(f"orders: need at least 2 periods, got {q.shape[0]}")
    q = q[:-1]
    mean = q.mean(axis=0)
    std = q.std(axis=0)
    return np.where(mean < CV_MEAN_FLOOR, 0.0, std / np.where(mean < CV_MEAN_FLOOR, 1.0, mean))


def node_order_cv(traj: Trajectory) -> F64:
    """``(B, N)`` :func:`order_cv` of each node's total order over its inbound edges (``ordered``)."""
    _full(traj, "node_order_cv")
    return order_cv(traj.node("ordered"))


def demand_cv(traj: Trajectory) -> F64:
    """``(B,)`` :func:`order_cv` of the total customer demand ``sum_s d[t, s]`` (same window): the
    baseline against which order CVs show amplification."""
    return order_cv(traj.demand.sum(axis=2).T)


def bullwhip_cv(traj: Trajectory, net: Network, by: str = "role") -> F64:
    """``(B, L)`` bullwhip per echelon level as order variability: the mean over the level's nodes of
    each node's :func:`order_cv` (``std/mean`` of ``ordered[0:T-1]``; total over inbound edges)."""
    cv = node_order_cv(traj)
    return np.stack([cv[:, idx].mean(axis=1) for _, idx in echelon_levels(net, by)], axis=1)


def bullwhip_variance_ratio(traj: Trajectory, net: Network, by: str = "role") -> F64:
    """``(B, L)`` bullwhip per echelon level as a variance ratio:
    ``Var_t(sum_{n in level} ordered[t, n]) / Var_t(sum_s d[t, s])`` over ``t = 0..T-2`` (population
    variances; the same window as :func:`order_cv`). NaN where customer demand does not vary."""
    _full(traj, "bullwhip_variance_ratio")
    orders = traj.node("ordered")[:-1]  # (T-1, B, N)
    dvar = traj.demand.sum(axis=2)[:, :-1].var(axis=1)  # (B,)
    cols = [orders[:, :, idx].sum(axis=2).var(axis=0) for _, idx in echelon_levels(net, by)]
    ratio = np.stack(cols, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(dvar[:, None] > 1e-12, ratio / np.where(dvar > 1e-12, dvar, 1.0)[:, None], np.nan)


# --------------------------------------------------------------------------------------------------
# inventory turns
def _turns(sold: F64, mean_on_hand: F64) -> F64:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(
            mean_on_hand > 0,
            sold / np.where(mean_on_hand > 0, mean_on_hand, 1.0),
            np.where(sold > 0, np.inf, 0.0),
        )


def inventory_turns(traj: Trajectory, net: Network) -> F64:
    """``(B, S)`` turns of each store over the episode: ``sum_t sold[t] / mean_t on_hand[t]``
    (``inf`` if it sold with no stock at the end of any period, 0 if it sold nothing)."""
    _full(traj, "inventory_turns")
    stores = net.store_nodes
    return _turns(
        traj.node("sold")[:, :, stores].sum(axis=0), traj.node("on_hand")[:, :, stores].mean(axis=0)
    )


def system_turns(traj: Trajectory, net: Network) -> F64:
    """``(B,)`` system turns: ``sum_{t,s} sold / mean_t sum_n on_hand[t, n]`` (stock at every node)."""
    _full(traj, "system_turns")
    return _turns(traj.node("sold").sum(axis=(0, 2)), traj.node("on_hand").sum(axis=2).mean(axis=0))


# --------------------------------------------------------------------------------------------------
# comparisons
def gap_to_bound(value: F64 | float, bound: F64 | float, objective: str = "cost") -> F64:
    """Relative gap to the perfect-information bound: cost ``(cost - bound) / bound``; profit
    ``(bound - profit) / |bound|``. ``>= 0`` for any policy; NaN where the bound is 0."""
    v, b = np.asarray(value, dtype=np.float64), np.asarray(bound, dtype=np.float64)
    diff = v - b if objective == "cost" else b - v
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.abs(b) > 0, diff / np.where(np.abs(b) > 0, np.abs(b), 1.0), np.nan)


def normalised_score(value: F64 | float, floor: F64 | float, bound: F64 | float) -> F64:
    """``(value - floor) / (bound - floor)``: 0 = the do-nothing floor, 1 = the perfect-information
    bound (for cost or profit alike). NaN where the floor equals the bound."""
    v, f, b = (np.asarray(x, dtype=np.float64) for x in (value, floor, bound))
    den = b - f
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.abs(den) > 1e-12, (v - f) / np.where(np.abs(den) > 1e-12, den, 1.0), np.nan)


def level_labels(levels: Sequence[tuple[str, I64]]) -> list[str]:
    """The labels of :func:`echelon_levels`' output."""
    return [lab for lab, _ in levels]


# --------------------------------------------------------------------------------------------------
# a trajectory's totals (``invmgmt-marl simulate``)
#: the per-agent flows of :func:`trajectory_summary` that are ledger fields summed over the episode
_SUMMED_FLOWS = ("ordered", "received", "shipped")


def trajectory_summary(net: Network, traj: Trajectory) -> dict[str, Any]:
    """Per-agent and system totals of a trajectory, averaged over the episodes of the batch.

    Per agent: the flows ``ordered``, ``received``, ``shipped`` and ``lost`` summed over the episode,
    the fill rate (:func:`node_fill_rate`), mean on hand and backlog, every cost field of the ledger
    (``COST_FIELDS``), ``revenue``, ``total_cost`` and the summed ``reward``. System: the total cost
    and cost per agent-period, customer demand, units sold and lost, the customer backlog at the end,
    and the unit balance ``start + external in + assembled - sold - (transit lost, refused, expired,
    consumed) - end`` (``unit_balance_error``: its largest absolute value over episodes, 0 up to
    rounding).

    Needs every period's ledger (``rollout(..., keep="all")``).
    """
    _full(traj, "trajectory_summary")
    fill = node_fill_rate(traj).mean(axis=0)  # per product, then summed (products only)
    traj = traj.totals()

    def total(name: str) -> F64:
        return np.asarray(
            traj.node(name).sum(axis=0).mean(axis=0)
        )  # (N,) sum over periods, mean over episodes

    costs = {f: total(f) for f in COST_FIELDS}
    cost = np.asarray(sum(costs.values()))
    revenue_n = total("revenue")
    reward = traj.rewards.sum(axis=0).mean(axis=0)
    on_hand, backlog = traj.node("on_hand"), traj.node("backlog")
    agents: dict[str, dict[str, float]] = {}
    for i, a in enumerate(net.agents):
        row = {f: float(total(f)[i]) for f in _SUMMED_FLOWS}
        row["fill_rate"] = float(fill[i])
        row["mean_on_hand"] = float(on_hand[:, :, i].mean())
        row["mean_backlog"] = float(backlog[:, :, i].mean())
        row["lost"] = float(total("lost")[i])
        row.update({f: float(c[i]) for f, c in costs.items()})
        row["revenue"] = float(revenue_n[i])
        row["total_cost"] = float(cost[i])
        row["reward"] = float(reward[i])
        agents[a] = row
    sold = traj.node("sold").sum(axis=(0, 2))
    ext = traj.external_in.sum(axis=0)
    assembled = traj.node("assembled").sum(axis=(0, 2))
    gone = sum(traj.node(f).sum(axis=(0, 2)) for f in ("transit_lost", "refused", "expired", "consumed"))
    balance = traj.start_units + ext + assembled - sold - gone - traj.end_units
    return {
        "scenario": net.name,
        "episodes": int(traj.demand.shape[0]),
        "periods": net.periods,
        "agents": agents,
        "system": {
            "total_cost": float(cost.sum()),
            "cost_per_agent_period": float(cost.sum() / (net.n_nodes * net.periods)),
            "demand": float(traj.demand.sum(axis=(1, 2)).mean()),
            "sold": float(sold.mean()),
            "lost": float(total("lost").sum()),
            "customer_backlog_end": float(backlog[-1][:, net.store_nodes].sum(axis=1).mean()),
            "units_other": float(np.mean(gone) - assembled.mean()),
            "units_start": float(traj.start_units.mean()),
            "units_in": float(ext.mean()),
            "units_end": float(traj.end_units.mean()),
            "unit_balance_error": float(np.abs(balance).max()),
        },
    }
