"""Compile a validated :class:`~invmgmt_marl.scenario.Scenario` into a :class:`~invmgmt_marl.sim.Network`.

This is the one place where scenario data (pydantic models) becomes simulator params (numpy arrays).
It sits above both :mod:`invmgmt_marl.scenario` and :mod:`invmgmt_marl.sim`, which know nothing of
each other.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from numpy.typing import NDArray

from invmgmt_marl import fingerprint
from invmgmt_marl.scenario import retail
from invmgmt_marl.scenario.products import product_values
from invmgmt_marl.scenario.schema import EXTERNAL, ROLES, DemandSpec, Event, Scenario
from invmgmt_marl.sim.incidence import DENSE_MAX_NODES, Incidence
from invmgmt_marl.sim.network import Network, RewardGroup

__all__ = ["compile_network", "scenario_fingerprint"]

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


def scenario_fingerprint(sc: Scenario) -> str:
    """sha256 of the scenario's canonical form and of every file it reads (CSV demand series)."""
    return fingerprint.scenario_fingerprint(sc, length=64)


def _reward_plan(sc: Scenario, agents: tuple[str, ...], roles: tuple[str, ...]) -> tuple[RewardGroup, ...]:
    """Group agents by effective ``(scheme, weights)``, in order of first appearance."""
    groups: dict[tuple[str, tuple[tuple[str, float], ...]], list[tuple[int, float]]] = {}
    for i, (agent, role) in enumerate(zip(agents, roles, strict=True)):
        scheme, alpha, weights = sc.reward.resolve(agent, role)
        groups.setdefault((scheme, tuple(sorted(weights.items()))), []).append((i, alpha))
    return tuple(
        RewardGroup(
            scheme=scheme,
            weights=w,
            agents=np.array([i for i, _ in members], dtype=np.int64),
            alphas=np.array([a for _, a in members], dtype=np.float64),
        )
        for (scheme, w), members in groups.items()
    )


def _frozen_correlation(c: Any) -> float | tuple[tuple[float, ...], ...] | None:
    if c is None or np.ndim(c) == 0:
        return None if c is None else float(c)
    return tuple(tuple(float(x) for x in row) for row in c)


def _pad_rows(rows: list[list[int]], fill: int) -> I64:
    width = max((len(r) for r in rows), default=0)
    out = np.full((len(rows), max(width, 1)), fill, dtype=np.int64)
    for k, r in enumerate(rows):
        out[k, : len(r)] = r
    return out


def _incidence(n: int, edge_src: I64, edge_dst: I64, out_src: I64, stores: I64, order: I64) -> dict[str, Any]:
    """The incidence matrices of the network (index N marks the external source): dense 0/1 float
    arrays up to ``DENSE_MAX_NODES`` nodes (BLAS matmul, the fastest path on small networks), else
    :class:`~invmgmt_marl.sim.incidence.Incidence` operators with the same ``x @ M`` / ``x @ M.T``
    products in memory linear in the network's size (docs/large_networks.md)."""
    e_cnt, o_cnt, s_cnt = len(edge_src), len(out_src), len(stores)
    if n > DENSE_MAX_NODES:
        alloc_src = Incidence(out_src[order], n)
        return {
            "edge_to_dst": Incidence(edge_dst, n),
            "edge_from_src": Incidence(edge_src, n),
            "out_from_src": Incidence(out_src, n),
            "customer_of_store": Incidence(stores, n),
            "alloc_src": alloc_src,
            "alloc_src_T": alloc_src.T,
        }
    edge_to_dst = np.zeros((e_cnt, n))
    edge_to_dst[np.arange(e_cnt), edge_dst] = 1.0
    edge_from_src = np.zeros((e_cnt, n + 1))
    edge_from_src[np.arange(e_cnt), edge_src] = 1.0
    out_from_src = np.zeros((o_cnt, n + 1))
    out_from_src[np.arange(o_cnt), out_src] = 1.0
    cust = np.zeros((s_cnt, n))
    cust[np.arange(s_cnt), stores] = 1.0
    return {
        "edge_to_dst": edge_to_dst,
        "edge_from_src": edge_from_src[:, :n].copy(),
        "out_from_src": out_from_src[:, :n].copy(),
        "customer_of_store": cust,
        "alloc_src": np.ascontiguousarray(out_from_src[order, :n]),
        "alloc_src_T": np.ascontiguousarray(out_from_src[order, :n].T),
    }


def _inbound_edges(edge_dst: I64, n: int) -> tuple[I64, ...]:
    """``(N,)`` the inbound edges of each node, ascending: ``np.flatnonzero(edge_dst == i)`` in O(E log E)."""
    by_dst = np.argsort(edge_dst, kind="stable")
    return tuple(np.split(by_dst, np.searchsorted(edge_dst[by_dst], np.arange(1, n))))


def compile_network(sc: Scenario) -> Network:
    """Compile a validated scenario into a :class:`~invmgmt_marl.sim.Network`."""
    agents = tuple(sc.agents)
    index = {a: i for i, a in enumerate(agents)}
    n = len(agents)
    e_cnt = len(sc.edges)
    nodes = sc.nodes
    stores = [i for i, nd in enumerate(nodes) if nd.role == "store"]
    s_cnt = len(stores)
    o_cnt = e_cnt + s_cnt
    extra = [len(e.lead_time_extra) - 1 if e.lead_time_extra else 0 for e in sc.edges]
    lmax = max(
        e.lead_time + k for e, k in zip(sc.edges, extra, strict=True)
    )  # the ring buffer holds the longest

    edge_src = np.array([n if e.source == EXTERNAL else index[e.source] for e in sc.edges], dtype=np.int64)
    edge_dst = np.array([index[e.target] for e in sc.edges], dtype=np.int64)
    lead = np.array([e.lead_time for e in sc.edges], dtype=np.int64)
    max_order = np.array(
        [e.max_order if e.max_order is not None else sc.actions.max_order for e in sc.edges], dtype=np.float64
    )
    pipe0 = np.zeros((e_cnt, lmax))
    for j, e in enumerate(sc.edges):
        pipe0[j, : len(e.initial_pipeline)] = e.initial_pipeline

    out_src = np.concatenate([edge_src, np.array(stores, dtype=np.int64)])
    out_cap = np.array(
        [e.capacity if e.capacity is not None else np.inf for e in sc.edges] + [np.inf] * s_cnt,
        dtype=np.float64,
    )
    out_lost = np.array([False] * e_cnt + [nodes[i].lost_sales for i in stores], dtype=bool)
    prio = np.array([e.priority for e in sc.edges] + [0] * s_cnt, dtype=np.int64)
    order = np.lexsort((np.arange(o_cnt), prio, out_src))
    inverse = np.empty_like(order)
    inverse[order] = np.arange(o_cnt)
    src_sorted = out_src[order]
    first = np.zeros(o_cnt, dtype=np.int64)
    for k in range(1, o_cnt):
        first[k] = first[k - 1] if src_sorted[k] == src_sorted[k - 1] else k
    group_of = np.cumsum(np.r_[0, (src_sorted[1:] != src_sorted[:-1]).astype(np.int64)])  # (O,)
    rank = np.arange(o_cnt) - first
    n_groups = int(group_of[-1]) + 1
    # the external source ships in full (no prefix needed): its outflows share cell 0 of its row, so
    # the grid is as wide as the busiest internal shipper, not as the number of suppliers
    grid_rank = np.where(src_sorted < n, rank, 0)
    grid_width = int(grid_rank.max()) + 2
    grid_idx = group_of * grid_width + grid_rank
    proportional_node = np.array([nd.allocation == "proportional" for nd in nodes] + [False])
    out_prop = proportional_node[out_src]

    mats = _incidence(n, edge_src, edge_dst, out_src, np.array(stores, dtype=np.int64), order)

    up_sets: list[set[int]] = [set() for _ in range(n)]
    down_sets: list[set[int]] = [set() for _ in range(n)]
    for src, dst in zip(edge_src.tolist(), edge_dst.tolist(), strict=True):  # O(E), not O(N x E)
        if src < n:
            up_sets[dst].add(src)
            down_sets[src].add(dst)
    ups = [sorted(x) for x in up_sets]
    downs = [sorted(x) for x in down_sets]

    def pad(lists: list[list[int]]) -> I64:
        width = max(1, max(len(x) for x in lists))
        arr = -np.ones((len(lists), width), dtype=np.int64)
        for i, x in enumerate(lists):
            arr[i, : len(x)] = x
        return arr

    def arr(attr: str) -> F64:
        return np.array([getattr(nd, attr) for nd in nodes], dtype=np.float64)

    k_extra = max(extra) + 1
    probs = np.zeros((e_cnt, k_extra))
    probs[:, 0] = 1.0
    for j, e in enumerate(sc.edges):
        if e.lead_time_extra:
            probs[j] = 0.0
            probs[j, : len(e.lead_time_extra)] = e.lead_time_extra
    n_tiers = max((len(e.unit_cost_tiers or []) for e in sc.edges), default=0)
    tier_qty = np.full((e_cnt, max(n_tiers, 1)), np.inf)
    tier_cost = np.zeros((e_cnt, max(n_tiers, 1)))
    for j, e in enumerate(sc.edges):
        tiers = e.unit_cost_tiers or [(0.0, e.unit_cost)]
        tier_qty[j, : len(tiers)] = [q for q, _ in tiers]
        tier_cost[j, : len(tiers)] = [c for _, c in tiers]
    comp_qty = np.zeros(e_cnt)
    for j, e in enumerate(sc.edges):
        bom = nodes[index[e.target]].bom
        if bom is not None:
            comp_qty[j] = bom[e.source]
    shelf = np.array([nd.shelf_life or 0 for nd in nodes], dtype=np.int64)
    gw = np.zeros((5, s_cnt))
    gw[2:] = 1.0  # floor, cap, initial
    for k, i in enumerate(stores):
        g = nodes[i].goodwill
        if g is not None:
            gw[:, k] = [g.decay, g.recovery, g.floor, g.cap, g.initial]
    rel = np.zeros((3, e_cnt))
    rel[1:] = 1.0
    for j, e in enumerate(sc.edges):
        if e.reliability is not None:
            rel[:, j] = [e.reliability.p_disruption, *e.reliability.fill]

    max_order_all = max_order
    if sc.has_products:  # the per-product values decide the observation scale too
        max_order_all = product_values(sc).max_order
    net = Network(
        name=sc.name,
        fingerprint=scenario_fingerprint(sc),
        obs_scale=float(sc.observation.scale)
        if sc.observation.scale is not None
        else float(max_order_all.max()),
        view=sc.observation.view,
        action_type=sc.actions.type,
        reward_plan=_reward_plan(sc, agents, tuple(nd.role for nd in nodes)),
        demand_correlation=_frozen_correlation(sc.demand_correlation),
        agents=agents,
        roles=tuple(nd.role for nd in nodes),
        periods=sc.periods,
        n_nodes=n,
        n_edges=e_cnt,
        n_stores=s_cnt,
        max_lead=lmax,
        role_index=np.array([ROLES.index(nd.role) for nd in nodes], dtype=np.int64),
        holding_cost=arr("holding_cost"),
        backlog_cost=arr("backlog_cost"),
        lost_sales_cost=arr("lost_sales_cost"),
        price=arr("price"),
        initial_on_hand=arr("initial_on_hand"),
        store_nodes=np.array(stores, dtype=np.int64),
        store_lost_sales=np.array([nodes[i].lost_sales for i in stores], dtype=bool),
        demand_specs=tuple(nodes[i].demand for i in stores),
        edge_src=edge_src,
        edge_dst=edge_dst,
        lead_time=lead,
        unit_cost=np.array([e.unit_cost + (e.shipping_cost or 0.0) for e in sc.edges], dtype=np.float64),
        fixed_cost=np.array([e.fixed_cost for e in sc.edges], dtype=np.float64),
        max_order=max_order,
        external_edges=edge_src == n,
        initial_pipeline=pipe0,
        initial_orders=np.array([e.initial_order for e in sc.edges], dtype=np.float64),
        initial_demand=np.array([nodes[i].initial_demand for i in stores], dtype=np.float64),
        agent_edges=_inbound_edges(edge_dst, n),
        out_src=out_src,
        out_capacity=out_cap,
        out_lost=out_lost,
        initial_backlog=np.array(
            [e.initial_backlog for e in sc.edges] + [nodes[i].initial_backlog for i in stores],
            dtype=np.float64,
        ),
        alloc_order=order,
        alloc_inverse=inverse,
        alloc_group_first=first,
        alloc_grid_idx=grid_idx,
        alloc_grid_width=grid_width,
        alloc_grid_size=grid_width * n_groups,
        alloc_before=(
            ((group_of[:, None] == group_of[None, :]) & (rank[:, None] < rank[None, :])).astype(np.float64)
            if o_cnt <= 128
            else None
        ),
        out_proportional=out_prop,
        any_proportional=bool(out_prop.any()),
        any_priority=bool((~out_prop).any()),
        any_capacity=bool(np.isfinite(out_cap).any()),
        any_lost=bool(out_lost.any()),
        any_fixed_cost=bool(any(e.fixed_cost > 0 for e in sc.edges)),
        any_external=bool((edge_src == n).any()),
        multi_outflow=len(np.unique(out_src)) < o_cnt,
        alloc_identity=bool((order == np.arange(o_cnt)).all()),
        uniform_lead=bool((lead == lmax).all()),
        external_f=(edge_src == n).astype(np.float64),
        alloc_src=mats["alloc_src"],
        alloc_src_T=mats["alloc_src_T"],
        alloc_external=np.where(out_src[order] == n, np.inf, 0.0),
        alloc_proportional=out_prop[order],
        pipe_order=(np.arange(lmax)[:, None] + np.arange(lmax)[None, :]) % lmax,
        pipe_insert_idx=np.arange(e_cnt)[None, :] * lmax + (np.arange(lmax)[:, None] + lead[None, :]) % lmax,
        edge_to_dst=mats["edge_to_dst"],
        edge_from_src=mats["edge_from_src"],
        out_from_src=mats["out_from_src"],
        customer_of_store=mats["customer_of_store"],
        storage_capacity=np.array([nd.storage_capacity or np.inf for nd in nodes], dtype=np.float64),
        any_storage=any(nd.storage_capacity is not None for nd in nodes),
        shelf_life=shelf,
        perishable_nodes=np.flatnonzero(shelf > 0),
        age_buckets=int(shelf.max()),
        waste_cost=arr("waste_cost"),
        any_perishable=bool((shelf > 0).any()),
        component_qty=comp_qty,
        assembly_nodes=np.array([i for i, nd in enumerate(nodes) if nd.bom is not None], dtype=np.int64),
        production_capacity=np.array([nd.production_capacity or np.inf for nd in nodes], dtype=np.float64),
        component_inverse=np.divide(1.0, comp_qty, out=np.zeros(e_cnt), where=comp_qty > 0),
        assembly_edge_idx=_pad_rows(
            [list(np.flatnonzero(edge_dst == i)) for i, nd in enumerate(nodes) if nd.bom is not None], e_cnt
        ),
        not_assembly=np.array([0.0 if nd.bom is not None else 1.0 for nd in nodes]),
        any_assembly=any(nd.bom is not None for nd in nodes),
        store_integer=np.array(
            [nodes[i].demand.integer if nodes[i].demand is not None else True for i in stores],  # type: ignore[union-attr]
            dtype=np.bool_,
        ),
        goodwill=gw,
        goodwill_on=np.array([nodes[i].goodwill is not None for i in stores], dtype=bool),
        any_goodwill=any(nodes[i].goodwill is not None for i in stores),
        lead_extra_max=np.array(extra, dtype=np.int64),
        lead_extra_probs=probs,
        any_lead_jitter=k_extra > 1,
        reliability=rel,
        any_reliability=any(e.reliability is not None for e in sc.edges),
        transit_loss=np.array([e.transit_loss.max_fraction if e.transit_loss else 0.0 for e in sc.edges]),
        any_transit_loss=any(e.transit_loss is not None for e in sc.edges),
        tier_qty=tier_qty,
        tier_cost=tier_cost,
        any_tiers=any(e.unit_cost_tiers for e in sc.edges),
        transit_holding_cost=np.array([e.transit_holding_cost for e in sc.edges], dtype=np.float64),
        any_transit_holding=any(e.transit_holding_cost > 0 for e in sc.edges),
        upstream=pad(ups),
        downstream=pad(downs),
    )
    return _with_products(sc, net) if sc.has_products else net


def _with_products(sc: Scenario, net: Network) -> Network:
    """The network of a scenario with products: per-product arrays (P before the node / edge axis),
    per-(edge, product) lead times in the pipeline layout, and the shared constraints."""
    v = product_values(sc)
    p_cnt, e_cnt = len(v.names), net.n_edges
    lead = v.lead_time  # (P, E)
    lmax = int((lead + net.lead_extra_max).max())  # the ring buffer holds the longest (with extra periods)
    pipe0 = np.zeros((p_cnt, e_cnt, lmax))
    pipe0[:, :, : net.initial_pipeline.shape[1]] = net.initial_pipeline[None, :, :lmax]
    flat_pe = np.arange(p_cnt * e_cnt).reshape(p_cnt, e_cnt)  # (p, e) -> p * E + e
    insert = flat_pe[None] * lmax + (np.arange(lmax)[:, None, None] + lead[None]) % lmax  # (L, P, E)
    nodes = sc.nodes

    def per_product(x: F64) -> F64:
        return np.ascontiguousarray(np.broadcast_to(x, (p_cnt, *x.shape)))

    specs = _event_demand(sc, v.demand)  # (P * S,) with the calendar's events
    stores = [nodes[i] for i in v.store_nodes]
    pricing_on = np.array([nd.pricing is not None for nd in stores], dtype=bool)
    events = sc.events

    return dataclasses.replace(
        net,
        max_lead=lmax,
        holding_cost=v.holding_cost,
        backlog_cost=v.backlog_cost,
        lost_sales_cost=v.lost_sales_cost,
        price=v.price,
        initial_on_hand=v.initial_on_hand,
        demand_specs=specs,
        lead_time=lead,
        unit_cost=v.unit_cost,
        max_order=v.max_order,
        initial_pipeline=pipe0,
        initial_orders=per_product(net.initial_orders),
        initial_demand=per_product(net.initial_demand),
        initial_backlog=per_product(net.initial_backlog),
        uniform_lead=bool((lead == lmax).all()),
        pipe_order=(np.arange(lmax)[:, None] + np.arange(lmax)[None, :]) % lmax,
        pipe_insert_idx=insert.reshape(lmax, p_cnt * e_cnt),
        any_storage=False,  # storage is shared by products, in volume units (below)
        product_axis=True,
        n_products=p_cnt,
        products=v.names,
        volume=v.volume,
        any_shared_storage=any(nd.storage_capacity is not None for nd in nodes),
        overflow_refuse=np.array([nd.overflow == "refuse" for nd in nodes], dtype=bool),
        overflow_cost=np.array([nd.overflow_cost for nd in nodes], dtype=np.float64),
        any_capacity=False,  # edge capacity is volume per period shared by products (below)
        any_shared_shipping=any(e.capacity is not None for e in sc.edges),
        ship_capacity=np.array([e.capacity or np.inf for e in sc.edges], dtype=np.float64),
        any_budget=any(nd.order_budget is not None for nd in nodes),
        order_budget=np.array(
            [nd.order_budget if nd.order_budget is not None else np.inf for nd in nodes], dtype=np.float64
        ),
        any_pricing=bool(pricing_on.any()),
        pricing_on=pricing_on,
        price_bounds=np.array(
            [[nd.pricing.min, nd.pricing.max] if nd.pricing is not None else [1.0, 1.0] for nd in stores],
            dtype=np.float64,
        ).T.reshape(2, len(stores)),
        price_elasticity=retail.price_elasticity(sc) * pricing_on,
        demand_integer=np.array([d.integer for d in specs], dtype=bool).reshape(p_cnt, len(stores)),
        any_events=bool(events),
        event_names=tuple(ev.name for ev in events),
        event_start=np.array([ev.start for ev in events], dtype=np.int64),
        event_duration=np.array([ev.duration for ev in events], dtype=np.int64),
        event_every=np.array([ev.every or 0 for ev in events], dtype=np.int64),
        event_stores=np.array(
            [[ev.stores is None or sc.agents[i] in ev.stores for i in v.store_nodes] for ev in events],
            dtype=bool,
        ).reshape(len(events), len(stores)),
        **_retail_fields(sc, net, v),
    )


def _retail_fields(sc: Scenario, net: Network, v: Any) -> dict[str, Any]:
    """Network fields of cash, perishable products and liquidation (docs/products.md)."""
    nodes, n, p_cnt, e_cnt = sc.nodes, net.n_nodes, len(v.names), net.n_edges
    cash_on = np.array([nd.cash is not None for nd in nodes], dtype=bool)
    initial = np.array([nd.cash.initial if nd.cash is not None else 0.0 for nd in nodes], dtype=np.float64)
    lines = [
        [q * e_cnt + int(e) for q in range(p_cnt) for e in net.agent_edges[i]]
        if nd.cash is not None and nd.cash.rule == "reject"
        else []
        for i, nd in enumerate(nodes)
    ]
    shelf = v.shelf_life.ravel()  # (P * N,) flat p * N + i
    pairs = np.flatnonzero(shelf > 0)
    liq_on = np.array([nd.liquidation is not None for nd in nodes], dtype=bool)
    out: dict[str, Any] = {
        "any_cash": bool(cash_on.any()),
        "cash_on": cash_on,
        "cash_initial": initial,
        "cash_reject": np.array([nd.cash is None or nd.cash.rule == "reject" for nd in nodes], dtype=bool),
        "cash_scale": np.maximum(initial, 1.0),
        "cash_lines": _pad_rows(lines, p_cnt * e_cnt),
        "any_perishable_products": bool(pairs.size),
        "perish_pairs": pairs.astype(np.int64),
        "pair_shelf_life": shelf[pairs].astype(np.int64),
        "any_liquidation": bool(liq_on.any()),
        "liquidation_on": liq_on,
        "salvage": v.salvage,
        "liquidation_max": v.liquidation_max,
        "waste_cost": v.waste_cost,
        # the one-product perishable path (per node) is off: products age per (product, node) pair
        "shelf_life": np.zeros(n, dtype=np.int64),
        "perishable_nodes": np.zeros(0, dtype=np.int64),
        "any_perishable": False,
        "age_buckets": int(shelf.max()) if pairs.size else 0,
    }
    return out


def _event_demand(sc: Scenario, demand: tuple[tuple[DemandSpec | None, ...], ...]) -> tuple[Any, ...]:
    """``demand`` ``(P, S)`` with the calendar's events appended to each affected spec's ``events``
    (the demand module multiplies overlapping events), flattened product-major ``(P * S,)``."""
    products = [p.name for p in sc.products or []]
    stores = [a for a, n in zip(sc.agents, sc.nodes, strict=True) if n.role == "store"]
    out: list[Any] = []
    for p, row in enumerate(demand):
        for s, spec in enumerate(row):
            extra = []
            for ev in sc.events:
                if ev.stores is not None and stores[s] not in ev.stores:
                    continue
                f = ev.factor.get(products[p]) if isinstance(ev.factor, dict) else ev.factor
                if f is None:
                    continue
                extra.append(Event(period=ev.start, factor=f, duration=ev.duration, every=ev.every))
            if extra and spec is not None:
                spec = spec.model_copy(update={"events": (*spec.events, *extra)})
            out.append(spec)
    return tuple(out)
