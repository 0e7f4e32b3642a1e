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

from invmgmt_marl.sim.ledger import Ledger
from invmgmt_marl.sim.network import Network
from invmgmt_marl.sim.state import SimState

__all__ = ["step", "allocate"]

F64 = NDArray[np.float64]


def allocate(net: Network, available: F64, required: F64) -> F64:
    """Ship from each node's stock to its outflows under the node's allocation rule.

    Args:
        net: the network.
        available: ``(B, N)`` stock each node can ship this period.
        required: ``(B, O)`` requirement on each outflow (already capped by capacity).

    Returns:
        ``(B, O)`` shipped quantities, ``0 <= shipped <= required``, and per node
        ``sum(shipped) <= available``.
    """
    batch = available.shape[0]
    avail = np.concatenate([available, np.full((batch, 1), np.inf)], axis=1)[:, net.out_src]  # (B, O)
    shipped = required
    if net.any_priority:
        req_sorted = required[:, net.alloc_order]
        before = np.cumsum(req_sorted, axis=1) - req_sorted  # exclusive prefix sums over all outflows
        before -= before[:, net.alloc_group_first]  # ... restarted at each shipping node
        ship_sorted = np.clip(avail[:, net.alloc_order] - before, 0.0, req_sorted)
        shipped = ship_sorted[:, net.alloc_inverse]
    if net.any_proportional:
        total = required @ net.out_from_src  # (B, N)
        frac = np.ones_like(total)
        np.divide(available, total, out=frac, where=total > available)
        frac_out = np.concatenate([frac, np.ones((batch, 1))], axis=1)[:, net.out_src]
        shipped = np.where(net.out_proportional, required * frac_out, shipped)
    return shipped


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
    n_edges = net.n_edges
    lmax = net.max_lead
    slot = t % lmax

    # 1. arrivals
    pipeline = state.pipeline.copy()
    arrived = pipeline[:, :, slot].copy()  # (B, E)
    pipeline[:, :, slot] = 0.0
    received = arrived @ net.edge_to_dst  # (B, N)
    available = state.on_hand + received

    # 2.-3. orders and demand join what is owed on each outflow
    requested_out = np.concatenate([orders, demand], axis=1)  # (B, O)
    owed_out = state.backlog + requested_out
    required = np.minimum(owed_out, net.out_capacity)

    # 4. shipping
    shipped_out = allocate(net, available, required)  # (B, O)
    shipped = shipped_out @ net.out_from_src  # (B, N)
    on_hand = available - shipped

    # 5. unmet: backlog or lost
    unmet = owed_out - shipped_out
    lost_out = np.where(net.out_lost, unmet, 0.0)
    backlog_out = unmet - lost_out

    # 6. in transit
    edge_shipped = shipped_out[:, :n_edges]
    pipeline[:, np.arange(n_edges), (t + net.lead_time) % lmax] += edge_shipped

    # 7. ledger
    customer_shipped = shipped_out[:, n_edges:]
    sold = customer_shipped @ net.customer_of_store
    purchase = edge_shipped * net.unit_cost  # (B, E)
    owed = owed_out @ net.out_from_src
    backlog = backlog_out @ net.out_from_src
    lost = lost_out[:, n_edges:] @ net.customer_of_store
    service = np.ones_like(owed)
    np.divide(shipped, owed, out=service, where=owed > 0)
    ledger = Ledger(
        t=t,
        requested=requested_out @ net.out_from_src,
        owed=owed,
        shipped=shipped,
        sold=sold,
        received=received,
        on_hand=on_hand,
        backlog=backlog,
        lost=lost,
        ordered=orders @ net.edge_to_dst,
        inbound_backlog=backlog_out[:, :n_edges] @ net.edge_to_dst,
        in_transit=pipeline.sum(axis=2) @ net.edge_to_dst,
        holding_cost=on_hand * net.holding_cost,
        backlog_cost=backlog * net.backlog_cost,
        lost_sales_cost=lost * net.lost_sales_cost,
        ordering_cost=purchase @ net.edge_to_dst,
        fixed_cost=(orders > 0) * net.fixed_cost @ net.edge_to_dst,
        revenue=sold * net.price + purchase @ net.edge_from_src,
        service_level=service,
        edge_ordered=orders,
        edge_shipped=edge_shipped,
        edge_arrived=arrived,
        edge_backlog=backlog_out[:, :n_edges],
        demand=demand,
        external_in=edge_shipped[:, net.external_edges].sum(axis=1),
    )
    next_state = SimState(
        t=t + 1,
        on_hand=on_hand,
        backlog=backlog_out,
        pipeline=pipeline,
        last_orders=orders,
        last_demand=demand,
    )
    return next_state, ledger
