"""Compile a :class:`~invmgmt_marl.scenario.Scenario` into static index arrays and cost vectors.

The :class:`Network` is the simulator's *params* (static, frozen); :class:`~invmgmt_marl.sim.state.SimState`
is its *state*. Everything derived from the scenario (incidence matrices, allocation order, padded
sizes) is computed here once, so the step function is a fixed sequence of array operations.

Index conventions:
    N  nodes (agents), in scenario order.
    E  supply edges, in scenario order; ``edge_src == N`` marks the unlimited external source.
    S  stores (customer streams), in node order.
    O = E + S  *outflows*: every place stock can be shipped to. Outflow ``o < E`` is edge ``o``;
       outflow ``E + s`` is store ``s``'s customers. Backlog is owed per outflow.
    L  the longest lead time: the pipeline ring buffer's length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from invmgmt_marl.scenario.schema import EXTERNAL, ROLES, DemandSpec, Scenario

__all__ = ["Network", "compile_network"]

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
BoolA = NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class Network:
    """Static description of a supply network, as arrays. Built by :func:`compile_network`."""

    scenario: Scenario
    agents: tuple[str, ...]  # (N,)
    roles: tuple[str, ...]  # (N,)
    periods: int
    n_nodes: int  # N
    n_edges: int  # E
    n_stores: int  # S
    max_lead: int  # L

    # nodes
    role_index: I64  # (N,) index into ROLES
    holding_cost: F64  # (N,)
    backlog_cost: F64  # (N,)
    lost_sales_cost: F64  # (N,)
    price: F64  # (N,)
    initial_on_hand: F64  # (N,)
    store_nodes: I64  # (S,) node index of each store
    store_lost_sales: BoolA  # (S,)
    demand_specs: tuple[DemandSpec, ...]  # (S,)

    # edges
    edge_src: I64  # (E,) source node, N = external
    edge_dst: I64  # (E,)
    lead_time: I64  # (E,)
    unit_cost: F64  # (E,)
    fixed_cost: F64  # (E,)
    max_order: F64  # (E,) action upper bound
    external_edges: BoolA  # (E,)
    initial_pipeline: F64  # (E, L) arrivals in periods 0..L-1
    initial_orders: F64  # (E,) orders "of period -1" (seen by observations at reset only)
    initial_demand: F64  # (S,) customer demand "of period -1" (likewise)
    agent_edges: tuple[I64, ...]  # (N,) inbound edge indices of each agent, its action order

    # outflows (E edges then S customer streams)
    out_src: I64  # (O,) shipping node, N = external
    out_capacity: F64  # (O,) per-period shipping cap, inf if none
    out_lost: BoolA  # (O,) unmet quantity is lost (lost-sales customers), else backlogged
    initial_backlog: F64  # (O,)
    alloc_order: I64  # (O,) outflows sorted by (src, priority, index)
    alloc_inverse: I64  # (O,) inverse permutation of alloc_order
    alloc_group_first: I64  # (O,) for each sorted position, the sorted position of its group's first entry
    alloc_grid_idx: (
        I64  # (O,) sorted outflow -> flat cell (g * W + k) of a (groups, W) grid, k = rank in group
    )
    alloc_grid_width: int  # W = 1 + the most outflows of any shipping node
    alloc_grid_size: int  # groups * W
    alloc_before: (
        F64 | None
    )  # (O, O) [p, q] = 1 if p is served before q by the same node; None on big networks
    out_proportional: BoolA  # (O,) the shipping node allocates proportionally
    any_proportional: bool
    any_priority: bool
    any_capacity: bool
    any_lost: bool
    any_fixed_cost: bool
    any_external: bool  # always true for a valid scenario (suppliers buy from the external source)
    multi_outflow: bool  # some node ships on more than one outflow
    alloc_identity: bool  # allocation order is the outflow order (no permutation needed)
    uniform_lead: bool  # every edge has lead time L
    external_f: F64  # (E,) 1.0 on edges from the external source

    # the same, permuted into allocation order (the step function works in this order)
    alloc_src: F64  # (O, N) outflow -> shipping node, sorted
    alloc_src_T: F64  # (N, O) its transpose, contiguous
    alloc_external: F64  # (O,) +inf where the external source ships (unlimited stock), else 0
    alloc_proportional: BoolA  # (O,)

    # flat indices into a (B, E * L) view of the pipeline, per ``t % L``
    pipe_insert_idx: I64  # (L, E) slot where a shipment sent in period t lands (t + lead_time)
    pipe_order: I64  # (L, L) ring slots in arrival order, per t % L: (t + k) % L

    # incidence matrices (0/1 as float, so flows aggregate by matmul)
    edge_to_dst: F64  # (E, N) edge -> receiving node
    edge_from_src: F64  # (E, N) edge -> shipping node (external rows zero)
    out_from_src: F64  # (O, N) outflow -> shipping node (external rows zero)
    customer_of_store: F64  # (S, N)

    # optional features (see docs/model.md); each has an any_* flag so a network without it pays nothing
    storage_capacity: F64  # (N,) inf where unlimited
    any_storage: bool
    shelf_life: I64  # (N,) 0 where not perishable
    perishable_nodes: I64  # (P,)
    age_buckets: int  # A = the longest shelf life (0 without perishables)
    waste_cost: F64  # (N,)
    any_perishable: bool
    component_qty: (
        F64  # (E,) units of the edge's component per unit assembled at its target (0: not a component)
    )
    assembly_nodes: I64  # (M,)
    production_capacity: F64  # (N,) inf where unlimited
    component_inverse: F64  # (E,) 1 / component_qty (0 on other edges)
    assembly_edge_idx: I64  # (M, K) inbound edges of each assembly node, padded with E
    not_assembly: F64  # (N,) 0.0 at assembly nodes (their arrivals are components), else 1.0
    any_assembly: bool
    store_integer: BoolA  # (S,) the store's demand is integer (rounded after goodwill)
    goodwill: F64  # (5, S): decay, recovery, floor, cap, initial (initial 1 and decay 0 where off)
    goodwill_on: BoolA  # (S,)
    any_goodwill: bool
    lead_extra_max: I64  # (E,) the most extra periods an edge's shipment can take
    lead_extra_probs: F64  # (E, K + 1) probabilities of 0..K extra periods of lead time
    any_lead_jitter: bool
    reliability: F64  # (3, E): p_disruption, fill low, fill high
    any_reliability: bool
    transit_loss: F64  # (E,) largest fraction lost at arrival
    any_transit_loss: bool
    tier_qty: F64  # (E, K) tier thresholds (inf padding)
    tier_cost: F64  # (E, K) unit cost from each threshold on
    any_tiers: bool
    transit_holding_cost: F64  # (E,)
    any_transit_holding: bool

    # neighbours (for observation views): padded with -1
    upstream: I64  # (N, max_in) internal upstream nodes
    downstream: I64  # (N, max_out) downstream nodes

    @property
    def n_outflows(self) -> int:
        return self.n_edges + self.n_stores

    @property
    def any_uncertain_supply(self) -> bool:
        """Whether a period needs a supply shock (stochastic lead times, reliability, transit loss)."""
        return self.any_lead_jitter or self.any_reliability or self.any_transit_loss

    def pipeline_slots(self, t: int) -> I64:
        """Ring-buffer slots, in arrival order, of the arrivals due in periods ``t .. t+L-1``."""
        return self.pipe_order[t % self.max_lead]


def _pad_rows(rows: list[list[int]], fill: int) -> I64:
    width = max((len(r) for r in rows), default=0)
    out = np.full((len(rows), max(width, 1)), fill, dtype=np.int64)
    for k, r in enumerate(rows):
        out[k, : len(r)] = r
    return out


def compile_network(sc: Scenario) -> Network:
    """Compile a validated scenario into a :class:`Network`."""
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
    grid_width = int(rank.max()) + 2
    grid_idx = group_of * grid_width + rank
    proportional_node = np.array([nd.allocation == "proportional" for nd in nodes] + [False])
    out_prop = proportional_node[out_src]

    edge_to_dst = np.zeros((e_cnt, n))
    edge_to_dst[np.arange(e_cnt), edge_dst] = 1.0
    edge_from_src = np.zeros((e_cnt, n + 1))
    edge_from_src[np.arange(e_cnt), edge_src] = 1.0
    out_from_src = np.zeros((o_cnt, n + 1))
    out_from_src[np.arange(o_cnt), out_src] = 1.0
    cust = np.zeros((s_cnt, n))
    cust[np.arange(s_cnt), stores] = 1.0

    ups = [
        sorted({int(edge_src[j]) for j in range(e_cnt) if edge_dst[j] == i and edge_src[j] < n})
        for i in range(n)
    ]
    downs = [sorted({int(edge_dst[j]) for j in range(e_cnt) if edge_src[j] == i}) for i in range(n)]

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

    return Network(
        scenario=sc,
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
        demand_specs=tuple(nodes[i].demand for i in stores),  # type: ignore[misc]
        edge_src=edge_src,
        edge_dst=edge_dst,
        lead_time=lead,
        unit_cost=np.array([e.unit_cost for e in sc.edges], dtype=np.float64),
        fixed_cost=np.array([e.fixed_cost for e in sc.edges], dtype=np.float64),
        max_order=max_order,
        external_edges=edge_src == n,
        initial_pipeline=pipe0,
        initial_orders=np.array([e.initial_order for e in sc.edges], dtype=np.float64),
        initial_demand=np.array([nodes[i].initial_demand for i in stores], dtype=np.float64),
        agent_edges=tuple(np.flatnonzero(edge_dst == i) for i in range(n)),
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
        alloc_src=np.ascontiguousarray(out_from_src[order, :n]),
        alloc_src_T=np.ascontiguousarray(out_from_src[order, :n].T),
        alloc_external=np.where(out_src[order] == n, np.inf, 0.0),
        alloc_proportional=out_prop[order],
        pipe_order=(np.arange(lmax)[:, None] + np.arange(lmax)[None, :]) % lmax,
        pipe_insert_idx=np.arange(e_cnt)[None, :] * lmax + (np.arange(lmax)[:, None] + lead[None, :]) % lmax,
        edge_to_dst=edge_to_dst,
        edge_from_src=edge_from_src[:, :n].copy(),
        out_from_src=out_from_src[:, :n].copy(),
        customer_of_store=cust,
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
        store_integer=np.array([nodes[i].demand.integer for i in stores], dtype=bool),  # type: ignore[union-attr]
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
