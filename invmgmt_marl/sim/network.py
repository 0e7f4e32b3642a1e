"""The simulator's static params: a supply network as index arrays and cost vectors.

The :class:`Network` is the simulator's *params* (static, frozen); :class:`~invmgmt_marl.sim.state.SimState`
is its *state*. :func:`invmgmt_marl.compile.compile_network` builds it from a scenario, computing
everything derived (incidence matrices, allocation order, padded sizes) once, so the step function is
a fixed sequence of array operations. A ``Network`` stands alone: it carries every setting the
simulator, observations and rewards read, and no reference back to the scenario it came from.

Index conventions:
    N  nodes (agents), in scenario order.
    E  supply edges, in scenario order; ``edge_src == N`` marks the unlimited external source.
    S  stores (customer streams), in node order.
    O = E + S  *outflows*: every place stock can be shipped to. Outflow ``o < E`` is edge ``o``;
       outflow ``E + s`` is store ``s``'s customers. Backlog is owed per outflow.
    L  the longest lead time: the pipeline ring buffer's length.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["Network", "RewardGroup"]

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
BoolA = NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class RewardGroup:
    """Agents that share one reward scheme and weights (their own/team mix may differ)."""

    scheme: str  # a name in invmgmt_marl.registry.REWARD_SCHEMES
    weights: tuple[tuple[str, float], ...]  # sorted (name, weight) pairs
    agents: NDArray[np.int64]  # (G,) agent indices
    alphas: NDArray[np.float64]  # (G,) own/team mix of each


@dataclass(frozen=True, eq=False)
class Network:
    """Static description of a supply network, as arrays; see :func:`invmgmt_marl.compile.compile_network`."""

    # identity and agent-interface defaults (from the scenario; nothing else refers back to it)
    name: str
    fingerprint: str  # sha256 of the scenario's canonical form: caches and checkpoints compare it
    obs_scale: float  # quantities in observations are divided by this
    view: str  # default observation view, a name in invmgmt_marl.registry.VIEWS
    action_type: str  # default action type, a name in invmgmt_marl.registry.ACTION_TYPES
    reward_plan: tuple[RewardGroup, ...]  # every agent in exactly one group
    demand_correlation: float | tuple[tuple[float, ...], ...] | None  # Gaussian-copula correlation
    agents: tuple[str, ...]  # (N,)
    roles: tuple[str, ...]  # (N,)
    periods: int
    n_nodes: int  # N
    n_edges: int  # E
    n_stores: int  # S
    max_lead: int  # L

    # nodes
    role_index: I64  # (N,) index into invmgmt_marl.scenario.ROLES
    holding_cost: F64  # (N,)
    backlog_cost: F64  # (N,)
    lost_sales_cost: F64  # (N,)
    price: F64  # (N,)
    initial_on_hand: F64  # (N,)
    store_nodes: I64  # (S,) node index of each store
    store_lost_sales: BoolA  # (S,)
    demand_specs: tuple[Any, ...]  # (S,) demand specs, sampled by invmgmt_marl.demand (opaque here)

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
    # sorted outflow -> flat cell (g * W + k) of a (groups, W) grid, k = rank in group
    alloc_grid_idx: I64  # (O,) (the external source's outflows all map to rank 0: it ships in full)
    alloc_grid_width: int  # W = 1 + the most outflows of any internal shipping node
    alloc_grid_size: int  # groups * W
    # [p, q] = 1 if p is served before q by the same node; None on big networks
    alloc_before: F64 | None  # (O, O)
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
    # units of the edge's component per unit assembled at its target (0: not a component)
    component_qty: F64  # (E,)
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

    # products (docs/products.md). With a product axis, state and ledger arrays carry P after the
    # batch axis, and these fields become per product: holding_cost, backlog_cost, lost_sales_cost,
    # price, initial_on_hand (P, N); unit_cost, max_order, lead_time, initial_orders (P, E);
    # initial_pipeline (P, E, L); initial_backlog (P, O); initial_demand (P, S); demand_specs (P * S,)
    # product-major. Without products (the default) nothing has a product axis.
    product_axis: bool = False
    n_products: int = 1  # P
    products: tuple[str, ...] = ()  # (P,) product names
    volume: F64 = field(default_factory=lambda: np.ones(1))  # (P,) storage volume per unit
    any_shared_storage: bool = False  # storage_capacity (N,) is then in volume units, shared by products
    overflow_refuse: BoolA = field(default_factory=lambda: np.ones(1, dtype=bool))  # (N,) refuse, else keep
    overflow_cost: F64 = field(default_factory=lambda: np.zeros(1))  # (N,) per unit beyond capacity
    any_budget: bool = False
    order_budget: F64 = field(default_factory=lambda: np.full(1, np.inf))  # (N,) money per period
    # cash, perishable products and liquidation (docs/products.md; networks with products only)
    any_cash: bool = False
    cash_on: BoolA = field(default_factory=lambda: np.zeros(1, dtype=bool))  # (N,) the node holds cash
    cash_initial: F64 = field(default_factory=lambda: np.zeros(1))  # (N,) balance at t = 0
    cash_reject: BoolA = field(default_factory=lambda: np.ones(1, dtype=bool))  # (N,) reject, else scale
    cash_scale: F64 = field(default_factory=lambda: np.ones(1))  # (N,) observations: cash / this
    # order lines of each node with cash and rule "reject", flat (p * E + e), product-major then edge
    # order (the order in which they are paid), padded with P * E (other nodes: padding only)
    cash_lines: I64 = field(default_factory=lambda: np.zeros((1, 1), dtype=np.int64))  # (N, K)
    any_perishable_products: bool = False
    perish_pairs: I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # (Q,) flat p * N + i
    pair_shelf_life: I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # (Q,)
    any_liquidation: bool = False
    liquidation_on: BoolA = field(default_factory=lambda: np.zeros(1, dtype=bool))  # (N,)
    salvage: F64 = field(default_factory=lambda: np.zeros((1, 1)))  # (P, N) money per liquidated unit
    liquidation_max: F64 = field(default_factory=lambda: np.zeros((1, 1)))  # (P, N) action bound

    # retail mechanics (products only; docs/products.md): price actions at stores with pricing, whose
    # demand is scaled by multiplier ** -elasticity (rounded with np.rint where the demand is integer)
    any_pricing: bool = False
    pricing_on: BoolA = field(default_factory=lambda: np.zeros(1, dtype=bool))  # (S,) store sets prices
    price_bounds: F64 = field(default_factory=lambda: np.ones((2, 1)))  # (2, S) min, max multiplier
    price_elasticity: F64 = field(default_factory=lambda: np.zeros((1, 1)))  # (P, S), 0 without pricing
    demand_integer: BoolA = field(default_factory=lambda: np.ones((1, 1), dtype=bool))  # (P, S)
    # the event calendar (its demand factors are compiled into demand_specs; these drive countdowns)
    any_events: bool = False
    event_names: tuple[str, ...] = ()  # (V,)
    event_start: I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # (V,)
    event_duration: I64 = field(default_factory=lambda: np.ones(0, dtype=np.int64))  # (V,)
    event_every: I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # (V,) 0: once
    event_stores: BoolA = field(default_factory=lambda: np.zeros((0, 1), dtype=bool))  # (V, S) affected
    # shipping capacity per edge in volume units, shared by the edge's products (edge ``capacity`` of a
    # product scenario); any_capacity is then False and out_capacity keeps the values for display
    any_shared_shipping: bool = False
    ship_capacity: F64 = field(default_factory=lambda: np.full(1, np.inf))  # (E,) volume per period

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
