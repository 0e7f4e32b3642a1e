"""The one implementation of the inventory dynamics: a pure, batched step function.

Order of events in period ``t`` (every node simultaneously, from the state at the start of ``t``):

1. **Arrivals.** What is due on every inbound pipeline in period ``t`` arrives and joins on-hand
   stock; it can be shipped in this same period.
2. **Orders placed.** Each node orders a quantity on each of its inbound edges. Orders reach the
   supplier at once (no information delay) and add to what the supplier owes on that edge.
3. **Customer demand** of period ``t`` is realised at the stores and adds to what each store owes
   its customers.
4. **Shipping.** Each node serves what it owes on each outflow (its outbound edges and, for stores,
   its customers): requirement = backlog carried in + new requests, capped per period by the edge's
   shipping capacity. When stock does not cover all requirements the node's declared rule decides:
   ``priority`` serves outflows in ascending ``priority`` (ties in scenario order, customers last
   among equals), ``proportional`` ships the same fraction of every requirement. The external source
   ships every requirement in full (up to capacity).
5. **Unmet requirements** stay owed (backlog) on edges and at backlogging stores; at lost-sales
   stores unmet customer demand is lost.
6. **In transit.** A shipment sent on an edge with lead time ``L`` in period ``t`` arrives at the
   start of period ``t + L``.
7. **Ledger.** Holding cost on end-of-period stock, backlog cost on end-of-period backlog, lost-sales
   cost on lost units, ordering cost on units dispatched to the node, fixed cost per positive order,
   revenue on sales (and transfer revenue on internal shipments).

Units are conserved: for every node ``on_hand' = on_hand + received - shipped``; for every outflow
``backlog' + lost = backlog + requested - shipped``; and system-wide
``sum(on_hand) + sum(pipeline)`` changes by ``external_in - sold``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from invmgmt_marl.sim.ledger import EDGE_FIELDS, NODE_FIELDS, Ledger
from invmgmt_marl.sim.network import Network
from invmgmt_marl.sim.state import SimState

__all__ = ["step", "allocate"]

F64 = NDArray[np.float64]


def _allocate_sorted(net: Network, available: F64, required: F64) -> F64:
    """:func:`allocate` on outflows already in allocation order (``net.alloc_order``)."""
    avail = available @ net.alloc_src_T  # (B, O) stock of each outflow's shipper
    if net.any_external:
        avail += net.alloc_external  # the external source ships in full
    shipped = required
    if net.any_priority:
        if net.multi_outflow:  # a node serves several outflows: each gets what is left after those before it
            # exclusive prefix sums within each shipping node (never mixing other nodes' magnitudes):
            # one matmul with a 0/1 "same node, served earlier" matrix on small networks, else a
            # zero-padded (node, position + 1) grid and a cumsum
            if net.alloc_before is not None:
                avail -= required @ net.alloc_before
            else:
                grid = np.zeros((required.shape[0], net.alloc_grid_size))
                grid[:, net.alloc_grid_idx + 1] = required
                grid = grid.reshape(required.shape[0], -1, net.alloc_grid_width).cumsum(axis=2)
                avail -= grid.reshape(required.shape[0], -1).take(net.alloc_grid_idx, axis=1)
        shipped = np.minimum(np.maximum(avail, 0.0), required)
    if net.any_proportional:
        total = required @ net.alloc_src  # (B, N)
        frac = np.ones_like(total)
        np.divide(available, total, out=frac, where=(total > available) & (total > 0))
        frac_out = frac @ net.alloc_src_T + (net.alloc_external != 0)  # external ships in full
        shipped = np.where(net.alloc_proportional, required * np.minimum(frac_out, 1.0), shipped)
    return shipped


def allocate(net: Network, available: F64, required: F64) -> F64:
    """Ship from each node's stock to its outflows under the node's allocation rule.

    Args:
        net: the network.
        available: ``(B, N)`` stock each node can ship this period.
        required: ``(B, O)`` requirement on each outflow (edges, then customer streams), already
            capped by shipping capacity.

    Returns:
        ``(B, O)`` shipped quantities: ``0 <= shipped <= required`` and, per node,
        ``sum(shipped) <= available``.
    """
    shipped = _allocate_sorted(net, available, required.take(net.alloc_order, axis=1))
    return shipped.take(net.alloc_inverse, axis=1)


_REDUCE = np.add.reduce


def step(net: Network, state: SimState, orders: F64, demand: F64) -> tuple[SimState, Ledger]:
    """Advance every episode of the batch by one period.

    Args:
        net: the compiled network (static).
        state: the state at the start of period ``state.t``.
        orders: ``(B, E)`` non-negative order quantities on every edge (already clipped to bounds).
        demand: ``(B, S)`` non-negative customer demand at every store for this period.

    Returns:
        ``(next_state, ledger)``; neither input is modified.
    """
    t = state.t
    batch = orders.shape[0]
    n_edges = net.n_edges
    slot = t % net.max_lead

    # 1. arrivals: slot t % L of the ring buffer holds what is due on every edge this period
    pipeline = state.pipeline.copy()
    arrived = pipeline[:, :, slot].copy()  # (B, E)
    pipeline[:, :, slot] = 0.0
    received = arrived @ net.edge_to_dst  # (B, N)
    available = state.on_hand + received

    # 2.-3. orders and customer demand join what is owed on each outflow (edges, then customers)
    flows = np.empty((batch, 4, net.n_outflows))  # requested, owed, shipped, backlog
    requested, owed, shipped, backlog = flows[:, 0], flows[:, 1], flows[:, 2], flows[:, 3]
    requested[:, :n_edges] = orders
    requested[:, n_edges:] = demand
    np.add(state.backlog, requested, out=owed)
    required = np.minimum(owed, net.out_capacity) if net.any_capacity else owed

    # 4. shipping, in each node's allocation order
    if net.alloc_identity:
        shipped[...] = _allocate_sorted(net, available, required)
    else:
        shipped[...] = _allocate_sorted(net, available, required.take(net.alloc_order, axis=1)).take(
            net.alloc_inverse, axis=1
        )

    # 5. unmet requirements: backlogged, or lost at lost-sales stores
    np.subtract(owed, shipped, out=backlog)
    if net.any_lost:
        lost = backlog[:, n_edges:] * net.store_lost_sales
        backlog[:, n_edges:] -= lost

    # 6. in transit: a shipment on an edge lands in the slot of period t + lead_time
    edge_shipped = shipped[:, :n_edges]
    if net.uniform_lead:
        pipeline[:, :, (t + net.max_lead) % net.max_lead] += edge_shipped
    else:
        flat = pipeline.reshape(batch, -1)
        flat[:, net.pipe_insert_idx[slot]] += edge_shipped

    # 7. ledger: aggregate flows to nodes with incidence matrices, then price them
    nodes = np.empty((batch, len(NODE_FIELDS), net.n_nodes))
    np.matmul(flows, net.out_from_src, out=nodes[:, _REQUESTED : _BACKLOG + 1])  # requested, owed, shipped, backlog
    edges = np.empty((batch, len(EDGE_FIELDS), n_edges))
    edges[:, 0] = orders
    edges[:, 1] = backlog[:, :n_edges]
    _REDUCE(pipeline, axis=2, out=edges[:, 2])
    np.multiply(edge_shipped, net.unit_cost, out=edges[:, 3])
    if net.any_fixed_cost:
        np.multiply(orders > 0, net.fixed_cost, out=edges[:, 4])
    else:
        edges[:, 4] = 0.0
    edges[:, 5] = edge_shipped
    edges[:, 6] = arrived
    # ordered, inbound_backlog, in_transit, ordering_cost, fixed_cost
    np.matmul(edges[:, 0:5], net.edge_to_dst, out=nodes[:, _ORDERED : _FIXED_COST + 1])
    np.matmul(shipped[:, n_edges:], net.customer_of_store, out=nodes[:, _SOLD])
    if net.any_lost:
        np.matmul(lost, net.customer_of_store, out=nodes[:, _LOST])
    else:
        nodes[:, _LOST] = 0.0
    nodes[:, _RECEIVED] = received
    on_hand = nodes[:, _ON_HAND]
    np.subtract(available, nodes[:, _SHIPPED], out=on_hand)
    # a node that ships all its stock in fractional parts may round to -1e-17: such stock is zero
    np.maximum(on_hand, 0.0, out=on_hand)
    np.multiply(on_hand, net.holding_cost, out=nodes[:, _HOLDING_COST])
    np.multiply(nodes[:, _BACKLOG], net.backlog_cost, out=nodes[:, _BACKLOG_COST])
    np.multiply(nodes[:, _LOST], net.lost_sales_cost, out=nodes[:, _LOST_SALES_COST])
    np.add(nodes[:, _SOLD] * net.price, edges[:, 3] @ net.edge_from_src, out=nodes[:, _REVENUE])
    # service level = shipped / owed, 1 where nothing was owed
    owed_n, shipped_n = nodes[:, _OWED], nodes[:, _SHIPPED]
    np.subtract(1.0, (owed_n - shipped_n) / np.maximum(owed_n, _TINY), out=nodes[:, _SERVICE_LEVEL])

    demand = demand.copy()  # state and ledger never alias the caller's arrays
    ledger = Ledger(t, nodes, edges, demand, edge_shipped @ net.external_f)
    next_state = SimState(t + 1, on_hand.copy(), backlog.copy(), pipeline, edges[:, 0], demand)
    return next_state, ledger


_TINY = 1e-300
# ledger row of each node field
(_REQUESTED, _OWED, _SHIPPED, _BACKLOG, _ORDERED, _INBOUND_BACKLOG, _IN_TRANSIT, _ORDERING_COST, _FIXED_COST,
 _HOLDING_COST, _BACKLOG_COST, _LOST_SALES_COST, _SOLD, _LOST, _RECEIVED, _ON_HAND, _REVENUE,
 _SERVICE_LEVEL) = range(len(NODE_FIELDS))
if NODE_FIELDS[_ON_HAND] != "on_hand" or NODE_FIELDS[_SERVICE_LEVEL] != "service_level":  # pragma: no cover
    raise RuntimeError("dynamics: ledger row constants out of step with NODE_FIELDS")
