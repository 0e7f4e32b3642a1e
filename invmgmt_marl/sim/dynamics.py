"""The one implementation of the inventory dynamics: a pure, batched step function.

Order of events in period ``t`` (every node simultaneously, from the state at the start of ``t``);
the optional features (docs/features.md) act at the steps marked with them:

1. **Arrivals.** What is due on every inbound pipeline in period ``t`` arrives [minus transit loss;
   what does not fit the node's storage capacity is refused]. It joins on-hand stock [component
   stock at assembly nodes; the youngest age bucket at perishable nodes] and can be shipped in this
   same period. [Assembly nodes then make as many units as their scarcest component allows, up to
   their production capacity.]
   [With products, a node's products share its storage capacity in volume units: when arrivals do
   not fit, every product's arrivals are cut by the same fraction, and the cut units are refused or
   kept and charged, as the node declares. Perishable products' arrivals join the youngest age bucket
   of their (product, node) pair.]
2. **Orders placed.** Each node orders a quantity on each of its inbound edges [for each product].
   [Orders costing more than the node's ordering budget are scaled down by one factor; the cut is
   recorded as rejected. Then a node with cash pays for the orders kept, ``unit_cost`` x quantity, from
   its balance at the start of the period: under ``rule: scale`` all its orders are cut by one factor
   when they cost more than the cash; under ``rule: reject`` its order lines are paid one by one in
   product-major, edge order and a line costing more than the cash left is rejected whole (later,
   cheaper lines may still be paid). Cut units are rejected, cut lines counted in rejected_lines.]
   Orders reach the supplier at once (no information delay) and add to what the supplier owes on
   that edge.
3. **Customer demand** of period ``t`` is realised at the stores [x price multiplier ** -elasticity at
   stores with pricing] [x goodwill] and adds to what each store owes its customers.
4. **Shipping.** Each node serves what it owes on each outflow (its outbound edges and, for stores,
   its customers): requirement = backlog carried in + new requests, capped per period by the edge's
   shipping capacity. When stock does not cover all requirements the node's declared rule decides:
   ``priority`` serves outflows in ascending ``priority`` (ties in scenario order, customers last
   among equals), ``proportional`` ships the same fraction of every requirement. The external source
   ships every requirement in full (up to capacity). [An unreliable supplier sends only part; a
   perishable node ships its oldest units first.]
5. **Unmet requirements** stay owed (backlog) on edges and at backlogging stores; at lost-sales
   stores unmet customer demand is lost. [Liquidation: after sales, a node with ``liquidation``
   removes the units its agent asked for, per product, capped at its stock, oldest first. Then the
   units of perishable products past their shelf life expire (the oldest age bucket; removing them
   at the end of period ``t`` is removing them before the arrivals of ``t + 1``) and the others age
   by one period.]
6. **In transit.** A shipment sent on an edge with lead time ``L`` in period ``t`` arrives at the
   start of period ``t + L`` [+ a random extra delay].
7. **Ledger.** Holding cost on end-of-period stock (and components), backlog cost on end-of-period
   backlog, lost-sales cost on lost units, ordering cost on units dispatched to the node [by
   quantity-discount tier], fixed cost per positive order, [transit holding cost on units in transit,
   waste cost on units that expire at the end of the period,] revenue on sales (and transfer revenue
   on internal shipments). [Goodwill moves with the period's service. Salvage on liquidated units.
   A node's cash at the end of the period is ``cash - paid + revenue + salvage`` (summed over
   products).]

With products (``net.product_axis``) every array carries a product axis ``P`` before its node or
edge axis, every product is shipped and allocated on its own, and only the shared constraints
(storage volume, ordering budget) couple products. Units are conserved per product and in total.

Units are conserved: for every node ``on_hand' + components' = on_hand + components + received -
shipped - expired - consumed + assembled``; for every outflow ``backlog' + lost = backlog + requested -
shipped``; and system-wide the units held (on hand, components, in transit) change by
``external_in + assembled - sold - transit_lost - refused - expired - consumed``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from invmgmt_marl.sim.kernel import step_function
from invmgmt_marl.sim.ledger import EDGE_FIELDS, NODE_FIELDS, EdgeField, Ledger, NodeField
from invmgmt_marl.sim.network import Network
from invmgmt_marl.sim.state import SimState
from invmgmt_marl.sim.supply import SupplyShock

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
            # zero-padded (position + 1, node) grid and a cumsum over positions (row by row: fast)
            if net.alloc_before is not None:
                avail -= required @ net.alloc_before
            else:
                lead = required.shape[:-1]
                width, idx = net.alloc_grid_width, net.alloc_grid_idx
                groups = net.alloc_grid_size // width
                cell = (idx % width) * groups + idx // width  # (O,) cell of each outflow, transposed
                grid = np.zeros((*lead, net.alloc_grid_size))
                grid[..., cell + groups] = required
                rows = grid.reshape(*lead, width, groups)
                for k in range(2, width):  # cumsum over positions, one whole row at a time
                    rows[..., k, :] += rows[..., k - 1, :]
                avail -= grid.take(cell, axis=-1)
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
        available: ``(B, N)`` stock each node can ship this period (``(B, P, N)`` with products:
            every product is allocated on its own).
        required: ``(B, O)`` requirement on each outflow (edges, then customer streams), already
            capped by shipping capacity (``(B, P, O)`` with products).

    Returns:
        ``(B, O)`` (or ``(B, P, O)``) shipped quantities: ``0 <= shipped <= required`` and, per node,
        ``sum(shipped) <= available``.
    """
    shipped = _allocate_sorted(net, available, required.take(net.alloc_order, axis=-1))
    return shipped.take(net.alloc_inverse, axis=-1)


_REDUCE = np.add.reduce


def step(
    net: Network,
    state: SimState,
    orders: F64,
    demand: F64,
    supply: SupplyShock | None = None,
    *,
    liquidate: F64 | None = None,
    price: F64 | None = None,
) -> tuple[SimState, Ledger]:
    """Advance every episode of the batch by one period.

    Args:
        net: the compiled network (static).
        state: the state at the start of period ``state.t``.
        orders: ``(B, E)`` finite, non-negative order quantities on every edge (already clipped to
            ``[0, net.max_order]``); ``(B, P, E)`` in a network with products (``net.product_axis``).
        demand: ``(B, S)`` finite, non-negative customer demand at every store for this period
            (before goodwill, which the simulator applies itself); ``(B, P, S)`` with products.
        supply: this period's supply randomness (:func:`~invmgmt_marl.sim.supply.sample_supply`),
            required when the network has stochastic lead times, unreliable suppliers or transit loss.
        liquidate: ``(B, P, N)`` units each node asks to liquidate after sales (networks with
            ``liquidation``; capped at stock; ignored where the network has none). ``None``: nothing.
        price: ``(B, P, S)`` price multipliers at the stores (products with ``pricing``; ``None``: 1).
            Demand at a store with pricing becomes ``demand x price ** -elasticity`` (``np.rint`` where
            the demand is integer) and its sales are paid at ``price x multiplier``. Check it with
            :func:`invmgmt_marl.validation.check_price`.

    Returns:
        ``(next_state, ledger)``; neither input is modified.

    Contract: ``step`` does not check ``orders`` and ``demand`` (it is the hot path). NaN, infinite
    or negative values are not refused here: they propagate into the state and the ledger and break
    unit conservation (a negative order ships negative units). Whoever takes inputs from outside
    calls :func:`invmgmt_marl.validation.check_inputs` first (the env, :func:`~invmgmt_marl.rollout.rollout`
    and the Stable-Baselines3 VecEnv do); it raises ``InvalidActionError`` / ``ValueError`` naming the
    first bad entry and costs two reductions per array.
    """
    if net.product_axis and (compiled := step_function(net)) is not None:  # sim/kernel.py
        return compiled(net, state, orders, demand)
    t = state.t
    lead = orders.shape[:-1]  # (B,), or (B, P) with a product axis
    batch = lead[0]
    n_edges = net.n_edges
    slot = t % net.max_lead
    if net.any_uncertain_supply and supply is None:
        raise ValueError("supply: this network has uncertain supply; pass supply=sample_supply(...).at(t)")
    nodes = np.empty((len(NODE_FIELDS), *lead, net.n_nodes))  # field-major: every field is contiguous
    edges = np.empty((len(EDGE_FIELDS), *lead, n_edges))
    nodes[_CASH : _SALVAGE + 1] = 0.0  # cash and liquidation fields: written below where a feature is on

    # 1. arrivals: slot t % L of the ring buffer holds what is due on every edge this period
    pipeline = state.pipeline.copy()
    arrived = edges[_E_ARRIVED]
    arrived[...] = pipeline[..., slot]
    pipeline[..., slot] = 0.0
    if net.any_transit_loss:  # part of what arrives was lost on the way
        np.multiply(arrived, supply.loss, out=edges[_E_TRANSIT_LOST])  # type: ignore[union-attr]
        incoming = arrived - edges[_E_TRANSIT_LOST]
    else:
        edges[_E_TRANSIT_LOST] = 0.0
        incoming = arrived
    components = state.components
    stock = state.on_hand if components is None else state.on_hand + components @ net.edge_to_dst
    if net.any_storage:  # what does not fit is refused at the door
        room = np.maximum(net.storage_capacity - stock, 0.0)
        gross = incoming @ net.edge_to_dst
        accept = np.ones_like(gross)
        np.divide(room, gross, out=accept, where=gross > room)
        incoming = incoming * (accept @ net.edge_to_dst.T)
        received = incoming @ net.edge_to_dst
        np.subtract(gross, received, out=nodes[_REFUSED])
        nodes[_OVERFLOW] = nodes[_REFUSED]
    elif net.any_shared_storage:  # products share the node's volume: arrivals cut proportionally
        received = _shared_storage(net, stock, incoming @ net.edge_to_dst, nodes)
    else:
        received = incoming @ net.edge_to_dst  # (B, N)
        nodes[_REFUSED] = 0.0
        nodes[_OVERFLOW] = 0.0
    nodes[_RECEIVED] = received
    age = state.age
    if net.any_assembly:  # components wait at assembly nodes; as many units as possible are made
        components = components + incoming * (net.component_qty > 0)
        per_unit = np.concatenate([components * net.component_inverse, np.full((batch, 1), np.inf)], axis=1)
        makeable = per_unit[:, net.assembly_edge_idx].min(axis=2)  # (B, M): the scarcest component
        made = np.zeros((batch, net.n_nodes))
        made[:, net.assembly_nodes] = np.minimum(makeable, net.production_capacity[net.assembly_nodes])
        used = (made @ net.edge_to_dst.T) * net.component_qty  # (B, E) component units consumed
        components = np.maximum(components - used, 0.0)
        nodes[_ASSEMBLED] = made
        nodes[_CONSUMED] = used @ net.edge_to_dst
        available = state.on_hand + made + received * net.not_assembly
    else:
        nodes[_ASSEMBLED] = 0.0
        nodes[_CONSUMED] = 0.0
        available = state.on_hand + received
    if net.any_perishable:  # fresh arrivals join the youngest age bucket
        age = age.copy()  # type: ignore[union-attr]
        age[:, :, 0] += received[:, net.perishable_nodes]
    elif net.any_perishable_products:  # likewise, per perishable (product, node) pair
        age = age.copy()  # type: ignore[union-attr]
        age[:, :, 0] += received.reshape(batch, -1)[:, net.perish_pairs]

    # 2.-3. orders and customer demand join what is owed on each outflow (edges, then customers)
    if net.any_pricing and price is not None:  # demand responds to the stores' price multipliers
        price = np.where(net.pricing_on, price, 1.0)  # (stores without pricing sell at list price)
        demand = _price_response(net, demand, price)
    if net.any_goodwill:  # stores with goodwill see base demand x goodwill (rounded if integer)
        scaled = demand * state.goodwill  # type: ignore[operator]
        demand = np.where(net.goodwill_on, np.where(net.store_integer, np.rint(scaled), scaled), demand)
    if net.any_budget:  # orders beyond a node's budget are scaled down, the rest rejected
        orders = _apply_budget(net, orders, nodes[_REJECTED])
    else:
        nodes[_REJECTED] = 0.0
    if net.any_cash:  # orders are paid from cash; what cash cannot pay is cut or rejected
        orders = _apply_cash(net, state.cash, orders, nodes)  # type: ignore[arg-type]
    flows = np.empty((4, *lead, net.n_outflows))  # requested, owed, shipped, backlog
    requested, owed, shipped, backlog = flows
    requested[..., :n_edges] = orders
    requested[..., n_edges:] = demand
    np.add(state.backlog, requested, out=owed)
    required = np.minimum(owed, net.out_capacity) if net.any_capacity else owed
    if net.any_shared_shipping:  # products share each edge's volume per period: requirements cut
        required = _shared_shipping(net, owed)

    # 4. shipping, in each node's allocation order (an unreliable supplier sends only part)
    if net.alloc_identity:
        shipped[...] = _allocate_sorted(net, available, required)
    else:
        shipped[...] = _allocate_sorted(net, available, required.take(net.alloc_order, axis=-1)).take(
            net.alloc_inverse, axis=-1
        )
    if net.any_reliability:
        shipped[..., :n_edges] *= supply.fill  # type: ignore[union-attr]

    # 5. unmet requirements: backlogged, or lost at lost-sales stores
    np.subtract(owed, shipped, out=backlog)
    if net.any_lost:
        lost = backlog[..., n_edges:] * net.store_lost_sales
        backlog[..., n_edges:] -= lost

    # 6. in transit: a shipment on an edge lands in the slot of period t + lead_time (+ extra)
    edge_shipped = edges[_E_SHIPPED]
    edge_shipped[...] = shipped[..., :n_edges]
    if net.any_lead_jitter:
        slots = (t + net.lead_time + supply.lead_extra) % net.max_lead  # type: ignore[union-attr]
        if net.product_axis:  # one lead-time draw per order line (B, P, E)
            b_i, p_i, e_i = np.indices(edge_shipped.shape, sparse=True)
            pipeline[b_i, p_i, e_i, slots] += edge_shipped
        else:
            pipeline[np.arange(batch)[:, None], np.arange(n_edges)[None, :], slots] += edge_shipped
    elif net.uniform_lead:
        pipeline[..., (t + net.max_lead) % net.max_lead] += edge_shipped
    else:  # (with products the flat index runs over (P, E, L))
        flat = pipeline.reshape(batch, -1)
        flat[:, net.pipe_insert_idx[slot]] += edge_shipped.reshape(batch, -1)

    # 7. ledger: aggregate flows to nodes with incidence matrices, then price them
    np.matmul(
        flows, net.out_from_src, out=nodes[_REQUESTED : _BACKLOG + 1]
    )  # requested, owed, shipped, backlog
    edges[_E_ORDERED] = orders
    edges[_E_BACKLOG] = backlog[..., :n_edges]
    _sum_slots(pipeline, edges[_E_IN_TRANSIT])
    if net.any_tiers:  # all-units quantity discounts on what is dispatched
        tier = (edge_shipped[:, :, None] >= net.tier_qty[None]).sum(axis=2) - 1
        unit = np.take_along_axis(
            np.broadcast_to(net.tier_cost, (batch, *net.tier_cost.shape)), tier[..., None], 2
        )
        np.multiply(edge_shipped, unit[..., 0], out=edges[_E_ORDERING_COST])
    else:
        np.multiply(edge_shipped, net.unit_cost, out=edges[_E_ORDERING_COST])
    if net.any_fixed_cost:
        np.multiply(orders > 0, net.fixed_cost, out=edges[_E_FIXED_COST])
    else:
        edges[_E_FIXED_COST] = 0.0
    np.multiply(edges[_E_IN_TRANSIT], net.transit_holding_cost, out=edges[_E_TRANSIT_HOLDING_COST])
    # ordered, inbound_backlog, in_transit, transit_lost, ordering_cost, fixed_cost, transit_holding_cost
    np.matmul(
        edges[: _E_TRANSIT_HOLDING_COST + 1], net.edge_to_dst, out=nodes[_ORDERED : _TRANSIT_HOLDING_COST + 1]
    )
    np.matmul(shipped[..., n_edges:], net.customer_of_store, out=nodes[_SOLD])
    if net.any_lost:
        np.matmul(lost, net.customer_of_store, out=nodes[_LOST])
    else:
        nodes[_LOST] = 0.0
    on_hand = nodes[_ON_HAND]
    np.subtract(available, nodes[_SHIPPED], out=on_hand)
    # a node that ships all its stock in fractional parts may round to -1e-17: such stock is zero
    np.maximum(on_hand, 0.0, out=on_hand)
    if net.any_perishable:  # first in, first out; then the oldest bucket expires and everything ages
        age = _ship_oldest_first(age, nodes[_SHIPPED][:, net.perishable_nodes])  # type: ignore[arg-type]
        expired = np.zeros((batch, net.n_nodes))
        last = net.shelf_life[net.perishable_nodes] - 1
        expired[:, net.perishable_nodes] = age[:, np.arange(len(last)), last]
        age[:, np.arange(len(last)), last] = 0.0
        age = np.roll(age, 1, axis=2)
        on_hand[:, net.perishable_nodes] = age.sum(axis=2)
        nodes[_EXPIRED] = expired
    else:
        nodes[_EXPIRED] = 0.0
    if net.any_liquidation or net.any_perishable_products:  # liquidation, then expiry, oldest first
        age = _after_sales(net, age, liquidate, nodes)
    if components is not None:
        nodes[_COMPONENTS] = components @ net.edge_to_dst
        np.multiply(on_hand + nodes[_COMPONENTS], net.holding_cost, out=nodes[_HOLDING_COST])
    else:
        nodes[_COMPONENTS] = 0.0
        np.multiply(on_hand, net.holding_cost, out=nodes[_HOLDING_COST])
    if net.any_shared_storage:  # the overflow charge is a storage cost: booked with holding
        nodes[_HOLDING_COST] += nodes[_OVERFLOW] * net.overflow_cost
    np.multiply(nodes[_BACKLOG], net.backlog_cost, out=nodes[_BACKLOG_COST])
    np.multiply(nodes[_LOST], net.lost_sales_cost, out=nodes[_LOST_SALES_COST])
    np.multiply(nodes[_EXPIRED], net.waste_cost, out=nodes[_WASTE_COST])
    np.add(nodes[_SOLD] * net.price, edges[_E_ORDERING_COST] @ net.edge_from_src, out=nodes[_REVENUE])
    if net.any_pricing and price is not None:  # sales are paid at price x multiplier
        nodes[_REVENUE] += ((shipped[..., n_edges:] * (price - 1.0)) @ net.customer_of_store) * net.price
    cash = _cash_after(net, state.cash, nodes) if net.any_cash else state.cash  # type: ignore[arg-type]
    # service level = shipped / owed, 1 where nothing was owed
    owed_n, shipped_n = nodes[_OWED], nodes[_SHIPPED]
    np.subtract(1.0, (owed_n - shipped_n) / np.maximum(owed_n, _TINY), out=nodes[_SERVICE_LEVEL])

    goodwill = state.goodwill
    if net.any_goodwill:  # stockout (lost or newly backlogged demand) -> goodwill falls, else recovers
        decay, recovery, floor, cap, _ = net.goodwill
        short = backlog[:, n_edges:] > 1e-9  # customers still owed (outbound edges do not count) ...
        if net.any_lost:
            short |= lost > 1e-9  # ... or customers lost
        goodwill = np.where(
            short, np.maximum(goodwill * (1 - decay), floor), np.minimum(goodwill + recovery, cap)
        )

    demand = demand.copy()  # state and ledger never alias the caller's arrays
    ledger = Ledger(t, nodes.swapaxes(0, 1), edges.swapaxes(0, 1), demand, edge_shipped @ net.external_f)
    next_state = SimState(
        t + 1,
        on_hand.copy(),
        backlog.copy(),
        pipeline,
        edges[_E_ORDERED],
        demand,
        age,
        components,
        goodwill,
        cash,
    )
    if net.any_pricing:  # the last price multipliers (observations show them)
        next_state = next_state._replace(price=state.price if price is None else price.astype(np.float64))
    return next_state, ledger


def _price_response(net: Network, demand: F64, price: F64) -> F64:
    """Demand ``(B, P, S)`` under price multipliers ``price`` ``(B, P, S)``: constant elasticity,
    ``demand x price ** -elasticity`` at stores with pricing (elasticity 0 elsewhere), rounded to the
    nearest integer (``np.rint``, halves to even) where the demand is integer."""
    scaled = demand * np.power(price, -net.price_elasticity)
    return np.where(net.pricing_on, np.where(net.demand_integer, np.rint(scaled), scaled), demand)


def _sum_slots(pipeline: F64, out: F64) -> None:
    """``out[...] = pipeline.sum(axis=-1)``, bit for bit. numpy adds fewer than 8 terms left to right,
    which ``L - 1`` whole-array adds reproduce without its per-row reduction overhead (about 5x faster
    at ``L = 7``); from 8 terms on numpy sums pairwise, so its own reduction runs."""
    lmax = pipeline.shape[-1]
    if lmax >= 8:
        _REDUCE(pipeline, axis=-1, out=out)
        return
    out[...] = pipeline[..., 0]
    for k in range(1, lmax):
        out += pipeline[..., k]


def _shared_storage(net: Network, stock: F64, gross: F64, nodes: F64) -> F64:
    """Arrivals at nodes whose products share a storage capacity in volume units.

    ``stock`` and ``gross`` (what arrives) are ``(B, P, N)``. Where the arrivals' volume exceeds the
    room left (capacity minus the volume in stock), every product's arrivals are cut by the same
    fraction ``room / arriving volume`` (proportional acceptance); the cut units are the node's
    ``overflow``: refused (they leave the system) at ``overflow: refuse`` nodes, kept at ``overflow:
    keep`` nodes. Writes ``refused`` and ``overflow`` into ``nodes`` and returns the units received.
    """
    room = np.maximum(net.storage_capacity - _volume_of(net, stock), 0.0)  # (B, N)
    arriving = _volume_of(net, gross)  # (B, N) volume
    accept = np.ones_like(arriving)
    np.divide(room, arriving, out=accept, where=arriving > room)
    accepted = gross * accept[..., None, :]
    np.subtract(gross, accepted, out=nodes[_OVERFLOW])
    received = np.where(net.overflow_refuse, accepted, gross)
    np.subtract(gross, received, out=nodes[_REFUSED])
    return received


def _volume_of(net: Network, units: F64) -> F64:
    """``(B, N)`` volume of ``units`` ``(B, P, N)``: ``sum_p volume_p x units_p``, summed by numpy's
    reduction over the product axis (in product order when N > 1, pairwise when N = 1), an order
    the compiled step (:mod:`invmgmt_marl.sim.kernel`) reproduces, unlike a BLAS product's."""
    return np.multiply(units, net.volume[:, None]).sum(axis=-2)


def _shared_shipping(net: Network, owed: F64) -> F64:
    """Requirements on edges whose products share a shipping capacity in volume units per period.

    ``owed`` is ``(B, P, O)``. Where the volume owed on an edge (``sum_p volume_p x owed_p``) exceeds
    its ``ship_capacity``, every product's requirement on that edge is cut by the same fraction
    ``capacity / volume owed`` (proportional cut, as for storage); customer outflows are not capped.
    The cut is not shipped this period and stays owed (backlog). Returns the ``(B, P, O)`` requirements.
    """
    e = net.n_edges
    load = net.volume @ owed[..., :e]  # (B, E) volume owed per edge
    scale = np.ones_like(load)
    np.divide(net.ship_capacity, load, out=scale, where=load > net.ship_capacity)
    required = owed.copy()
    required[..., :e] *= scale[..., None, :]
    return required


def _apply_budget(net: Network, orders: F64, rejected: F64) -> F64:
    """Orders within each node's ordering budget per period.

    ``orders`` ``(B, P, E)``; a node whose orders cost (``unit_cost`` x quantity, over its inbound
    edges and products) more than its ``order_budget`` has every order scaled by ``budget / cost``.
    Writes the units cut, per (node, product), into ``rejected`` ``(B, P, N)``; returns the orders kept.
    """
    cost = ((orders * net.unit_cost) @ net.edge_to_dst).sum(axis=-2)  # (B, N)
    keep = np.ones_like(cost)
    np.divide(net.order_budget, cost, out=keep, where=cost > net.order_budget)
    kept = orders * (keep @ net.edge_to_dst.T)[..., None, :]
    np.matmul(orders - kept, net.edge_to_dst, out=rejected)
    return kept


def _apply_cash(net: Network, cash: F64, orders: F64, nodes: F64) -> F64:
    """Orders a node's cash can pay for (networks with products and ``cash``).

    ``cash`` ``(B, N)`` is the balance at the start of the period, ``orders`` ``(B, P, E)`` the orders
    left after the ordering budget. Cost of a line (product ``p`` on inbound edge ``e``) =
    ``unit_cost[p, e] x quantity``. ``rule: scale`` nodes whose orders cost more than their cash scale
    every line by ``cash / cost``; ``rule: reject`` nodes pay their lines in ``net.cash_lines`` order
    (product-major, then edge order) and reject whole every line costing more than the cash left.
    Adds the units cut to ``rejected`` and writes ``paid`` and ``rejected_lines`` (``(B, P, N)``, zero
    at nodes without cash) into ``nodes``; returns the orders kept.
    """
    batch, p_cnt, e_cnt = orders.shape
    cost = orders * net.unit_cost  # (B, P, E)
    total = (cost @ net.edge_to_dst).sum(axis=1)  # (B, N)
    short = (total > cash) & net.cash_on  # (B, N) nodes whose cash does not cover their orders
    if not short.any():  # every order is paid in full (rejected and rejected_lines stay zero)
        np.matmul(cost, net.edge_to_dst * net.cash_on, out=nodes[_PAID])
        return orders
    scale = np.ones_like(total)
    np.divide(cash, total, out=scale, where=short & ~net.cash_reject)
    keep = np.broadcast_to((scale @ net.edge_to_dst.T)[:, None, :], orders.shape)  # (B, P, E)
    # reject-rule nodes whose orders cost more than their cash pay line by line (where they can pay
    # for everything, every line is paid: no loop); a Python loop over floats is the fastest here
    rows = np.argwhere(short & net.cash_reject)  # (rows, 2): (b, node)
    if rows.size:
        flat = cost.reshape(batch, -1)
        accept = np.ones_like(flat)
        pe = p_cnt * e_cnt
        for b, i in rows.tolist():
            idx = net.cash_lines[i]
            idx = idx[idx < pe]
            left = float(cash[b, i])
            ok = []
            for c in flat[b, idx].tolist():
                paid = c <= left * (1.0 + 1e-12)  # a line costing exactly the cash left is paid
                if paid:
                    left = max(left - c, 0.0)
                ok.append(paid)
            accept[b, idx] = ok
        keep = keep * accept.reshape(batch, p_cnt, e_cnt)
    kept = orders * keep
    cut = orders - kept
    nodes[_REJECTED] += cut @ net.edge_to_dst
    np.matmul(kept * net.unit_cost, net.edge_to_dst * net.cash_on, out=nodes[_PAID])
    np.matmul((cut > 0).astype(np.float64), net.edge_to_dst, out=nodes[_REJECTED_LINES])
    return kept


def _after_sales(net: Network, age: F64 | None, liquidate: F64 | None, nodes: F64) -> F64 | None:
    """Liquidation and expiry after sales (networks with products), on ``nodes[ON_HAND]`` in place.

    Liquidation (``liquidate`` ``(B, P, N)``, at nodes with ``liquidation``): ``min(liquidate,
    stock)`` units leave; ``liquidated`` and ``salvage`` (x ``net.salvage``) are written. At
    perishable pairs (``age`` ``(B, Q, A)``, arrivals included) the period's shipments and then the
    liquidated units leave the oldest buckets first (one removal of their sum, oldest first, is the
    same); then the pair's bucket ``shelf_life - 1`` expires (``expired``) and the others age by one.
    Returns the new ``age`` (``None`` without perishables).
    """
    on_hand = nodes[_ON_HAND]  # (B, P, N)
    batch = on_hand.shape[0]
    leaving = nodes[_SHIPPED]
    if net.any_liquidation and liquidate is not None:
        liq = np.minimum(liquidate * net.liquidation_on, on_hand)
        on_hand -= liq
        np.maximum(on_hand, 0.0, out=on_hand)
        nodes[_LIQUIDATED] = liq
        np.multiply(liq, net.salvage, out=nodes[_SALVAGE])
        leaving = leaving + liq
    if not net.any_perishable_products:
        return age
    pairs = net.perish_pairs
    buckets = _remove_oldest_first(age, leaving.reshape(batch, -1)[:, pairs])  # type: ignore[arg-type]
    q = np.arange(len(pairs))
    last = net.pair_shelf_life - 1
    expired = np.zeros((batch, on_hand[0].size))
    expired[:, pairs] = buckets[:, q, last]
    buckets[:, q, last] = 0.0
    aged = np.zeros_like(buckets)  # everything ages by one (the last bucket of every pair is empty now)
    aged[:, :, 1:] = buckets[:, :, :-1]
    nodes[_EXPIRED] = expired.reshape(on_hand.shape)
    a = aged.shape[2]
    on_hand.reshape(batch, -1)[:, pairs] = (aged.reshape(-1, a) @ np.ones(a)).reshape(batch, -1)
    return aged


def _remove_oldest_first(age: F64, amount: F64) -> F64:
    """``age`` ``(B, Q, A)`` (bucket ``A - 1`` the oldest) less ``amount`` ``(B, Q)`` units, oldest
    first; a new array. Sums over the short bucket axis run as matrix products (numpy's cumsum and sum
    along a short last axis are slow), so results may differ from :func:`_ship_oldest_first` by
    rounding only."""
    a = age.shape[2]
    flat = age.reshape(-1, a)
    before = flat @ np.tri(a, a, -1)  # [., k] = units in the buckets older than k
    np.subtract(amount.reshape(-1, 1), before, out=before)  # what bucket k must still give
    np.maximum(before, 0.0, out=before)
    np.minimum(before, flat, out=before)
    return (flat - before).reshape(age.shape)


def _cash_after(net: Network, cash: F64, nodes: F64) -> F64:
    """``(B, N)`` cash at the end of the period: ``cash - paid + revenue + salvage`` (summed over
    products) at nodes with cash, 0 elsewhere; written into ``nodes[CASH]`` in the first product's
    row (a node quantity: node totals then give the balance). Rounding below zero is clipped."""
    flow = (nodes[_REVENUE] + nodes[_SALVAGE] - nodes[_PAID]).sum(axis=1)  # (B, N)
    new = np.where(net.cash_on, np.maximum(cash + flow, 0.0), 0.0)
    nodes[_CASH, :, 0] = new
    return new


def _ship_oldest_first(age: F64, shipped: F64) -> F64:
    """Remove ``shipped`` ``(B, P)`` units from ``age`` ``(B, P, A)`` buckets, oldest first.

    The oldest bucket has the highest index.
    """
    oldest_first = age[:, :, ::-1]
    before = np.cumsum(oldest_first, axis=2) - oldest_first  # units older than each bucket
    take = np.clip(shipped[:, :, None] - before, 0.0, oldest_first)
    return (oldest_first - take)[:, :, ::-1].copy()


_TINY = 1e-300
# ledger row of each node field, and of each edge field (plain ints for the hot path)
_REQUESTED = int(NodeField.REQUESTED)
_OWED = int(NodeField.OWED)
_SHIPPED = int(NodeField.SHIPPED)
_BACKLOG = int(NodeField.BACKLOG)
_ORDERED = int(NodeField.ORDERED)
_INBOUND_BACKLOG = int(NodeField.INBOUND_BACKLOG)
_IN_TRANSIT = int(NodeField.IN_TRANSIT)
_TRANSIT_LOST = int(NodeField.TRANSIT_LOST)
_ORDERING_COST = int(NodeField.ORDERING_COST)
_FIXED_COST = int(NodeField.FIXED_COST)
_TRANSIT_HOLDING_COST = int(NodeField.TRANSIT_HOLDING_COST)
_HOLDING_COST = int(NodeField.HOLDING_COST)
_BACKLOG_COST = int(NodeField.BACKLOG_COST)
_LOST_SALES_COST = int(NodeField.LOST_SALES_COST)
_WASTE_COST = int(NodeField.WASTE_COST)
_SOLD = int(NodeField.SOLD)
_LOST = int(NodeField.LOST)
_RECEIVED = int(NodeField.RECEIVED)
_REFUSED = int(NodeField.REFUSED)
_ON_HAND = int(NodeField.ON_HAND)
_COMPONENTS = int(NodeField.COMPONENTS)
_ASSEMBLED = int(NodeField.ASSEMBLED)
_CONSUMED = int(NodeField.CONSUMED)
_EXPIRED = int(NodeField.EXPIRED)
_REJECTED = int(NodeField.REJECTED)
_OVERFLOW = int(NodeField.OVERFLOW)
_CASH = int(NodeField.CASH)
_PAID = int(NodeField.PAID)
_REJECTED_LINES = int(NodeField.REJECTED_LINES)
_LIQUIDATED = int(NodeField.LIQUIDATED)
_SALVAGE = int(NodeField.SALVAGE)
_REVENUE = int(NodeField.REVENUE)
_SERVICE_LEVEL = int(NodeField.SERVICE_LEVEL)
_E_ORDERED = int(EdgeField.EDGE_ORDERED)
_E_BACKLOG = int(EdgeField.EDGE_BACKLOG)
_E_IN_TRANSIT = int(EdgeField.EDGE_IN_TRANSIT)
_E_TRANSIT_LOST = int(EdgeField.EDGE_TRANSIT_LOST)
_E_ORDERING_COST = int(EdgeField.EDGE_ORDERING_COST)
_E_FIXED_COST = int(EdgeField.EDGE_FIXED_COST)
_E_TRANSIT_HOLDING_COST = int(EdgeField.EDGE_TRANSIT_HOLDING_COST)
_E_SHIPPED = int(EdgeField.EDGE_SHIPPED)
_E_ARRIVED = int(EdgeField.EDGE_ARRIVED)
