"""The period ledger: per node (and per edge) flows and money of one simulated period.

Rewards and KPIs are functions of the ledger; nothing downstream re-derives inventory arithmetic.
Node fields are stored stacked in one array ``nodes`` of shape ``(B, K, N)`` (``K = len(NODE_FIELDS)``)
and read by name, ``ledger.on_hand`` -> ``(B, N)``; edge fields likewise in ``edges`` ``(B, 9, E)``.
One array makes the ledger cheap to build, to copy into infos and to accumulate over an episode.
In a network with products every field has a product axis too: ``nodes`` ``(B, K, P, N)``,
``ledger.on_hand`` -> ``(B, P, N)``; :func:`node_totals` sums products into node totals.

Units (node fields):
    requested        new requests that reached the node this period (downstream orders + customer demand)
    owed             what the node had to serve: backlog carried in + requested
    shipped          units the node sent out (to downstream nodes and customers); at most ``owed``,
                     per outbound edge at most the edge's capacity, less what an unreliable supplier withheld
    backlog          units the node still owes downstream/customers at the end of the period
    ordered          units the node ordered on its inbound edges this period
    inbound_backlog  units the node's suppliers owe it at the end of the period
    in_transit       units on the way to the node at the end of the period (its inbound pipelines)
    transit_lost     units lost in transit among those due to arrive at the node this period
    sold             units shipped to customers (stores only)
    lost             customer demand lost this period (lost-sales stores only)
    received         units accepted from the inbound pipelines (into stock, or into component stock
                     at assembly nodes)
    refused          units that arrived but did not fit the node's storage capacity (they leave the system)
    on_hand          stock at the end of the period (finished goods at assembly nodes)
    components       component stock at the end of the period (assembly nodes)
    assembled        units made from components this period (assembly nodes)
    consumed         component units used up by assembly this period
    expired          units that passed their shelf life at the end of the period (perishable nodes)
    rejected         order units cut by the node's ordering budget or cash (``ordered`` is what was kept)
    rejected_lines   order lines (one product on one inbound edge) not placed in full for want of cash
    liquidated       units removed from stock by the node's liquidation action (after sales, oldest first)
    overflow         arriving units beyond the node's storage capacity: refused (then also counted
                     in ``refused``) or kept and charged ``overflow_cost`` each (booked in holding_cost)

Money (node fields, all >= 0; reward schemes combine them with signs):
    ordering_cost    unit cost x units shipped *to* the node on each inbound edge this period (paid when
                     the supplier dispatches, as in Liu et al.; all-units quantity discounts by tier)
    fixed_cost       fixed_cost of each inbound edge on which a positive order was placed
    transit_holding_cost  transit_holding_cost x units in transit to the node (end of period)
    holding_cost     holding_cost x (on_hand + components) (end of period), plus overflow_cost x overflow
    backlog_cost     backlog_cost x backlog (end of period)
    lost_sales_cost  lost_sales_cost x lost
    waste_cost       waste_cost x expired
    revenue          price x sold, plus what downstream nodes paid for the node's shipments on internal
                     edges (transfer revenue: summed over the team it cancels internal ordering costs)
    service_level    shipped / owed this period, 1 when nothing was owed (a fill rate in [0, 1])
    paid             money paid from the node's cash for the orders placed this period (unit_cost x
                     quantity, at placement; zero at nodes without cash)
    salvage          salvage value of the units liquidated
    cash             the node's cash balance at the end of the period: ``cash - paid + revenue +
                     salvage`` summed over products. A node quantity: with products it is booked in
                     the first product's row and zero in the others, so that node totals give the balance

Unit identities: per node ``on_hand' + components' = on_hand + components + received - shipped -
expired - consumed + assembled``; per edge, what arrives = received share + refused share + transit_lost.

Edge fields ``(B, E)``, stored stacked in ``edges`` ``(B, 9, E)``: ``edge_ordered``, ``edge_backlog``
(owed on the edge at the end of the period), ``edge_in_transit`` (end of period), ``edge_transit_lost``,
``edge_ordering_cost``, ``edge_fixed_cost``, ``edge_transit_holding_cost``, ``edge_shipped`` (dispatched
this period), ``edge_arrived`` (due this period, before transit loss and refusals).
"""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING, Any, NamedTuple, overload

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "COST_FIELDS",
    "EDGE_FIELDS",
    "NODE_FIELDS",
    "EdgeField",
    "Ledger",
    "NodeField",
    "edge_row",
    "node_row",
    "node_totals",
]

F64 = NDArray[np.float64]


class NodeField(IntEnum):
    """Row of each node field in ``Ledger.nodes`` ``(B, K, N)``; the one list of node fields."""

    # aggregated from outflows
    REQUESTED = 0
    OWED = 1
    SHIPPED = 2
    BACKLOG = 3
    # aggregated from inbound edges
    ORDERED = 4
    INBOUND_BACKLOG = 5
    IN_TRANSIT = 6
    TRANSIT_LOST = 7
    ORDERING_COST = 8
    FIXED_COST = 9
    TRANSIT_HOLDING_COST = 10
    # node level (the seven cost fields are contiguous: ORDERING_COST .. WASTE_COST)
    HOLDING_COST = 11
    BACKLOG_COST = 12
    LOST_SALES_COST = 13
    WASTE_COST = 14
    SOLD = 15
    LOST = 16
    RECEIVED = 17
    REFUSED = 18
    ON_HAND = 19
    COMPONENTS = 20
    ASSEMBLED = 21
    CONSUMED = 22
    EXPIRED = 23
    REVENUE = 24
    SERVICE_LEVEL = 25
    # shared constraints of networks with products (zero elsewhere)
    REJECTED = 26
    OVERFLOW = 27
    # cash, liquidation (networks with products; zero elsewhere)
    CASH = 28
    PAID = 29
    REJECTED_LINES = 30
    LIQUIDATED = 31
    SALVAGE = 32


class EdgeField(IntEnum):
    """Row of each edge field in ``Ledger.edges`` ``(B, 9, E)``; the one list of edge fields."""

    # the first seven aggregate to the receiving node's fields of the same name (without ``edge_``)
    EDGE_ORDERED = 0
    EDGE_BACKLOG = 1
    EDGE_IN_TRANSIT = 2
    EDGE_TRANSIT_LOST = 3
    EDGE_ORDERING_COST = 4
    EDGE_FIXED_COST = 5
    EDGE_TRANSIT_HOLDING_COST = 6
    EDGE_SHIPPED = 7
    EDGE_ARRIVED = 8


#: node field names in row order (lower-case :class:`NodeField` names)
NODE_FIELDS: tuple[str, ...] = tuple(f.name.lower() for f in NodeField)
#: edge field names in row order (lower-case :class:`EdgeField` names)
EDGE_FIELDS: tuple[str, ...] = tuple(f.name.lower() for f in EdgeField)
_NODE_ROW = {name: k for k, name in enumerate(NODE_FIELDS)}
_EDGE_ROW = {name: k for k, name in enumerate(EDGE_FIELDS)}


def node_row(name: str) -> int:
    """Row of node field ``name`` in ``Ledger.nodes``; ``KeyError`` naming the known fields."""
    try:
        return _NODE_ROW[name]
    except (KeyError, TypeError):
        raise KeyError(f"unknown node field {name!r}; known: {list(NODE_FIELDS)}") from None


def edge_row(name: str) -> int:
    """Row of edge field ``name`` in ``Ledger.edges``; ``KeyError`` naming the known fields."""
    try:
        return _EDGE_ROW[name]
    except (KeyError, TypeError):
        raise KeyError(f"unknown edge field {name!r}; known: {list(EDGE_FIELDS)}") from None


_COSTS = slice(NodeField.ORDERING_COST, NodeField.WASTE_COST + 1)
#: the seven cost fields, a contiguous block of NODE_FIELDS (so a total cost is one slice sum)
COST_FIELDS: tuple[str, ...] = NODE_FIELDS[_COSTS]


class _Field:
    """Named view of one row of a stacked ledger array."""

    def __init__(self, store: str, k: int) -> None:
        self.store, self.k = store, k

    @overload
    def __get__(self, obj: None, owner: type) -> _Field: ...
    @overload
    def __get__(self, obj: Ledger, owner: type) -> F64: ...
    def __get__(self, obj: Ledger | None, owner: type) -> Any:
        if obj is None:
            return self
        return getattr(obj, self.store)[:, self.k]


class _LedgerArrays(NamedTuple):
    t: int  # the period this ledger records
    nodes: F64  # (B, K, N) node fields in NODE_FIELDS order
    edges: F64  # (B, 9, E) edge fields in EDGE_FIELDS order
    demand: F64  # (B, S) customer demand of the period
    external_in: F64  # (B,) units the external source shipped into the network this period


class Ledger(_LedgerArrays):
    """One period's flows and money for a batch of episodes (an immutable named tuple).

    Fields: ``t``, ``nodes (B, K, N)``, ``edges (B, 9, E)``, ``demand (B, S)``, ``external_in (B,)``;
    every node and edge field is also readable by name, ``ledger.on_hand`` -> ``(B, N)``.
    """

    __slots__ = ()

    def field(self, name: str) -> F64:
        """A node or edge field by name: ``(B, N)`` or ``(B, E)``."""
        if name in _EDGE_ROW:
            return self.edges[:, _EDGE_ROW[name]]
        return self.nodes[:, node_row(name)]

    @property
    def total_cost(self) -> F64:
        """(B, N) sum of the seven cost fields (COST_FIELDS)."""
        return np.add.reduce(self.nodes[:, _COSTS], axis=1)

    if TYPE_CHECKING:  # named access, installed below as descriptors
        requested: F64
        owed: F64
        shipped: F64
        backlog: F64
        ordered: F64
        inbound_backlog: F64
        in_transit: F64
        transit_lost: F64
        ordering_cost: F64
        fixed_cost: F64
        transit_holding_cost: F64
        holding_cost: F64
        backlog_cost: F64
        lost_sales_cost: F64
        waste_cost: F64
        sold: F64
        lost: F64
        received: F64
        refused: F64
        on_hand: F64
        components: F64
        assembled: F64
        consumed: F64
        expired: F64
        revenue: F64
        service_level: F64
        rejected: F64
        overflow: F64
        cash: F64
        paid: F64
        rejected_lines: F64
        liquidated: F64
        salvage: F64
        edge_ordered: F64
        edge_backlog: F64
        edge_in_transit: F64
        edge_transit_lost: F64
        edge_ordering_cost: F64
        edge_fixed_cost: F64
        edge_transit_holding_cost: F64
        edge_shipped: F64
        edge_arrived: F64


for _k, _name in enumerate(NODE_FIELDS):
    setattr(Ledger, _name, _Field("nodes", _k))
for _k, _name in enumerate(EDGE_FIELDS):
    setattr(Ledger, _name, _Field("edges", _k))


def node_totals(ledger: Ledger) -> Ledger:
    """Node totals of a ledger with a product axis: ``nodes (B, K, P, N)`` -> ``(B, K, N)`` and
    ``edges (B, 9, P, E)`` -> ``(B, 9, E)`` summed over products, ``service_level`` recomputed as
    shipped / owed of the totals, ``demand`` ``(B, P, S)`` -> ``(B, S)``, ``external_in`` -> ``(B,)``."""
    nodes = ledger.nodes.sum(axis=2)
    owed, shipped = nodes[:, NodeField.OWED], nodes[:, NodeField.SHIPPED]
    nodes[:, NodeField.SERVICE_LEVEL] = 1.0 - (owed - shipped) / np.maximum(owed, 1e-300)
    return Ledger(
        ledger.t, nodes, ledger.edges.sum(axis=2), ledger.demand.sum(axis=1), ledger.external_in.sum(axis=1)
    )
