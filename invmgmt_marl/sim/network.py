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
    alloc_grid_idx: I64  # (O,) sorted outflow -> flat cell (g * W + k) of a (groups, W) grid, k = rank in group
    alloc_grid_width: int  # W = 1 + the most outflows of any shipping node
    alloc_grid_size: int  # groups * W
    alloc_before: F64 | None  # (O, O) [p, q] = 1 if p is served before q by the same node; None on big networks
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

    # neighbours (for observation views): padded with -1
    upstream: I64  # (N, max_in) internal upstream nodes
    downstream: I64  # (N, max_out) downstream nodes

    @property
    def n_outflows(self) -> int:
        return self.n_edges + self.n_stores

    def pipeline_slots(self, t: int) -> I64:
        """Ring-buffer slots, in arrival order, of the arrivals due in periods ``t .. t+L-1``."""
        return self.pipe_order[t % self.max_lead]


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
    lmax = max(e.lead_time for e in sc.edges)

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
        [e.capacity if e.capacity is not None else np.inf for e in sc.edges] + [np.inf] * s_cnt, dtype=np.float64
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

    ups = [sorted({int(edge_src[j]) for j in range(e_cnt) if edge_dst[j] == i and edge_src[j] < n}) for i in range(n)]
    downs = [sorted({int(edge_dst[j]) for j in range(e_cnt) if edge_src[j] == i}) for i in range(n)]

    def pad(lists: list[list[int]]) -> I64:
        width = max(1, max(len(x) for x in lists))
        arr = -np.ones((len(lists), width), dtype=np.int64)
        for i, x in enumerate(lists):
            arr[i, : len(x)] = x
        return arr

    def arr(attr: str) -> F64:
        return np.array([getattr(nd, attr) for nd in nodes], dtype=np.float64)

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
            [e.initial_backlog for e in sc.edges] + [nodes[i].initial_backlog for i in stores], dtype=np.float64
        ),
        alloc_order=order,
        alloc_inverse=inverse,
        alloc_group_first=first,
        alloc_grid_idx=grid_idx,
        alloc_grid_width=grid_width,
        alloc_grid_size=grid_width * n_groups,
        alloc_before=(
            ((group_of[:, None] == group_of[None, :]) & (rank[:, None] < rank[None, :])).astype(np.float64)
            if o_cnt <= 128 else None
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
        upstream=pad(ups),
        downstream=pad(downs),
    )
