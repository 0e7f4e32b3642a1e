"""Map a compiled serial :class:`~invmgmt_marl.sim.network.Network` onto the Clark-Scarf model.

Timing (``invmgmt_marl/sim/dynamics.py``): in period ``t`` arrivals come first, then orders are placed,
then customer demand ``D_t``, then shipping (an order placed in ``t`` is shipped in ``t`` if the
supplier has stock, and arrives at the start of ``t + L``), then holding and backlog costs are charged
on *end-of-period* stock and backlog. Number the stages ``1`` (the store) .. ``N`` (buys from the
external source), with sim lead times ``L_j >= 1`` and local holding costs ``h'_j``; echelon stock
``E_j`` = on hand at stages ``1..j`` + in transit to stages ``1..j-1`` - customer backlog.

* Stage 1: the store's net stock at the end of period ``t + L_1`` is ``y_1(t) - (short from stage 2 in
  t) - D[t .. t + L_1]``: ``L_1 + 1`` periods of demand, because orders precede demand within a period.
* Stage ``j >= 2``: what stage ``j`` can ship at ``t`` is its echelon stock *after the arrivals of t and
  before D_t*, ``Z_j(t) = min(y_j, Z_{j+1})(t - L_j) - D[t - L_j .. t - 1]``: ``L_j`` periods.

So the model of :mod:`~invmgmt_marl.bounds.clark_scarf` holds with lead times
``lam_1 = L_1 + 1`` and ``lam_j = L_j`` (``j >= 2``), with ``X_1`` = the store's end-of-period net stock
and ``X_j = Z_j``. The simulator charges holding on end-of-period stock only (``E_j = Z_j - D_t``) and
nothing on pipeline stock, whereas the model charges echelon holding on ``X_j`` including stock in
transit between stages (in transit to stage ``i`` at rate ``h'_{i+1}``; in steady state ``L_i`` periods'
shipments, mean ``L_i mu``). For every policy under which the long-run throughput is ``mu``::

    cost_sim = cost_model - mu * (h'_2 + sum_{i=1}^{N-1} h'_{i+1} L_i) + mu * sum_e c_e L_e

(``c_e`` the edges' transit holding costs, ``h'_2 = 0`` when ``N = 1``), a constant, so both models
have the same optimal levels and ``C*_sim = C*_model + offset``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from invmgmt_marl.bounds.clark_scarf import GridDist, SerialSolution, serial_cost, solve_serial
from invmgmt_marl.bounds.demand_dist import NotApplicable, period_factors, store_period_dist
from invmgmt_marl.sim.network import Network

__all__ = ["SerialMapping", "serial_mapping", "serial_optimum", "SerialOptimum", "chain_order"]

F64 = NDArray[np.float64]


def chain_order(net: Network) -> list[int]:
    """Node indices of a serial chain from the store (stage 1) up to the node buying from the external
    source (stage N). Raises :class:`NotApplicable` if the network is not one chain."""
    n = net.n_nodes
    if net.n_stores != 1:
        raise NotApplicable(f"not a serial chain: {net.n_stores} stores (need exactly 1)")
    if net.n_edges != n:
        raise NotApplicable(f"not a serial chain: {net.n_edges} edges for {n} nodes")
    inbound = np.bincount(net.edge_dst, minlength=n)
    outbound = np.bincount(net.edge_src[net.edge_src < n], minlength=n)
    if np.any(inbound != 1):
        raise NotApplicable(f"not a serial chain: inbound edges per node {inbound.tolist()} (need 1 each)")
    order = [int(net.store_nodes[0])]
    if outbound[order[0]] != 0:
        raise NotApplicable("not a serial chain: the store ships to other nodes")
    while True:
        e = int(np.flatnonzero(net.edge_dst == order[-1])[0])
        src = int(net.edge_src[e])
        if src == n:
            break
        if outbound[src] != 1 or src in order:
            raise NotApplicable(f"not a serial chain: node {net.agents[src]} ships to {outbound[src]} nodes")
        order.append(src)
    if len(order) != n:
        raise NotApplicable(f"not a serial chain: the chain from the store reaches {len(order)} of {n} nodes")
    return order


@dataclass(frozen=True)
class SerialMapping:
    """A serial network's parameters in the Clark-Scarf model (see the module docstring).

    Attributes:
        nodes: ``(N,)`` node index of stages ``1..N`` (store first).
        edges: ``(N,)`` inbound edge index of each stage.
        local_holding: ``(N,)`` local holding costs used by the model; ``min(h'_1, .., h'_j)`` of the
            network's (equal to them when they do not increase upstream).
        sim_lead_times: ``(N,)`` the edges' lead times ``L_j``.
        lead_times: ``(N,)`` the model's ``lam_1 = L_1 + 1``, ``lam_j = L_j``.
        stockout_cost: the store's backlog cost ``p``.
        demand: one period's demand at the store.
        offset: ``C_sim - C_model`` for every policy with long-run throughput ``mu``.
        relaxations: what the model drops or lowers relative to the network (empty: exact model).
    """

    nodes: tuple[int, ...]
    edges: tuple[int, ...]
    local_holding: F64  # (N,)
    sim_lead_times: tuple[int, ...]
    lead_times: tuple[int, ...]
    stockout_cost: float
    demand: GridDist
    offset: float
    relaxations: tuple[str, ...]

    @property
    def exact(self) -> bool:
        """Whether the model is the network itself (no relaxation), so its optimum is the network's."""
        return not self.relaxations


def serial_mapping(net: Network, step: float = 0.01) -> SerialMapping:
    """Map a serial network onto the Clark-Scarf model, relaxing what the model does not have.

    Relaxations (each only lowers the optimal cost, so the model's ``C*`` stays a lower bound): internal
    backlog costs, ordering and fixed costs, order caps (``max_order``) and shipping capacities are
    dropped; local holding costs that increase upstream are lowered to ``min(h'_1 .. h'_j)``.

    Raises:
        NotApplicable: the network is not a serial chain, or has a feature the model cannot represent or
            relax soundly (lost sales, perishables, storage caps, assembly, goodwill, stochastic lead
            times, unreliable supply or transit loss, demand not i.i.d. with a known marginal).
    """
    order = chain_order(net)
    store = order[0]
    if net.store_lost_sales[0]:
        raise NotApplicable("the store loses unmet demand (Clark-Scarf needs backorders)")
    for flag, what in (
        (net.any_perishable, "perishable stock"),
        (net.any_storage, "storage capacities"),
        (net.any_assembly, "assembly nodes"),
        (net.any_goodwill, "customer goodwill"),
        (net.any_lead_jitter, "stochastic lead times"),
        (net.any_reliability, "unreliable suppliers"),
        (net.any_transit_loss, "transit loss"),
    ):
        if flag:
            raise NotApplicable(f"the network has {what}")
    if np.any(net.initial_backlog[: net.n_edges] < 0):
        raise NotApplicable("negative initial backlog")
    spec = net.demand_specs[0]
    factors = period_factors(spec, net.periods)
    if not np.all(factors == factors[0]):
        raise NotApplicable("the store's demand is not stationary (time-varying effects)")
    demand = store_period_dist(spec, float(factors[0]), step)
    p = float(net.backlog_cost[store])
    if p <= 0:
        raise NotApplicable(f"the store's backlog_cost is {p} (need > 0)")
    h_net = net.holding_cost[order]
    h = np.minimum.accumulate(h_net)
    edges = tuple(int(np.flatnonzero(net.edge_dst == i)[0]) for i in order)
    lt = tuple(int(net.lead_time[e]) for e in edges)
    lam = (lt[0] + 1, *lt[1:])
    mu = demand.mean
    h_up = np.r_[h[1:], 0.0]  # h'_{i+1}
    offset = -mu * (float(h_up[0]) + float(np.dot(h_up[:-1], lt[:-1])))
    offset += mu * float(np.dot(net.transit_holding_cost[list(edges)], lt))
    relax = []
    internal = [i for i in order[1:] if net.backlog_cost[i] > 0]
    if internal:
        relax.append("internal backlog costs dropped")
    if np.any(net.unit_cost > 0) or np.any(net.fixed_cost > 0) or net.any_tiers:
        relax.append("ordering and fixed costs dropped")
    if np.any(h < h_net):
        relax.append("holding costs increasing upstream lowered to the running minimum")
    if net.any_capacity:
        relax.append("shipping capacities dropped")
    if np.isfinite(net.max_order).any():
        cap = demand.hi * demand.step
        if np.any(net.max_order < cap):
            relax.append("order caps (max_order) dropped")
    return SerialMapping(
        nodes=tuple(order),
        edges=edges,
        local_holding=h,
        sim_lead_times=lt,
        lead_times=lam,
        stockout_cost=p,
        demand=demand,
        offset=offset,
        relaxations=tuple(relax),
    )


@dataclass(frozen=True)
class SerialOptimum:
    """The Clark-Scarf optimum of a serial network in the simulator's terms.

    Attributes:
        mapping: the :class:`SerialMapping` used.
        solution: the model's :class:`~invmgmt_marl.bounds.clark_scarf.SerialSolution`.
        echelon_levels: ``(N,)`` optimal echelon base-stock levels per *node* (scenario order), for
            :class:`~invmgmt_marl.policies.base.EchelonBaseStockPolicy`.
        cost: long-run expected cost per period in the simulator's accounting (all nodes summed):
            ``solution.cost + mapping.offset``. Optimal when ``mapping.exact``, else a lower bound.
    """

    mapping: SerialMapping
    solution: SerialSolution
    echelon_levels: F64  # (N,)
    cost: float

    def cost_of(self, echelon_levels: F64) -> float:
        """Long-run expected cost per period (simulator accounting) of other echelon levels ``(N,)`` per
        node, on the demand grid (exact in the model; the network's when ``mapping.exact``)."""
        m = self.mapping
        lv = np.asarray(echelon_levels, dtype=np.float64)[list(m.nodes)]
        model = serial_cost(lv, m.lead_times, m.stockout_cost, m.demand, local_holding=m.local_holding)
        return model + m.offset


def serial_optimum(net: Network, step: float = 0.01) -> SerialOptimum:
    """Optimal echelon base-stock levels and long-run cost per period of a serial network (module
    docstring for the mapping). Raises :class:`NotApplicable` like :func:`serial_mapping`."""
    m = serial_mapping(net, step)
    sol = solve_serial(m.lead_times, m.stockout_cost, m.demand, local_holding=m.local_holding)
    levels = np.zeros(net.n_nodes)
    levels[list(m.nodes)] = sol.echelon_levels
    return SerialOptimum(m, sol, levels, sol.cost + m.offset)
