"""The period ledger: per node (and per edge) flows and money of one simulated period.

Rewards and KPIs are functions of the ledger; nothing downstream re-derives inventory arithmetic.
All node fields are ``(B, N)``, edge fields ``(B, E)``, system fields ``(B,)``.

Units:
    requested   new requests that reached the node this period (downstream orders + customer demand)
    owed        what the node had to serve: backlog carried in + requested (capped by edge capacity
                where an edge has one is *not* applied here; see ``shipped``)
    shipped     units the node sent out (to downstream nodes and customers)
    sold        units shipped to customers (stores only)
    received    units that arrived at the node (pipeline heads)
    on_hand     stock at the end of the period
    backlog     units the node owes downstream/customers at the end of the period
    lost        customer demand lost this period (lost-sales stores only)
    ordered     units the node ordered on its inbound edges this period
    inbound_backlog  units the node's suppliers owe it at the end of the period
    in_transit  units on the way to the node at the end of the period (its inbound pipelines)

Money (all >= 0; rewards combine them with signs):
    holding_cost     holding_cost * on_hand (end of period)
    backlog_cost     backlog_cost * backlog (end of period)
    lost_sales_cost  lost_sales_cost * lost
    ordering_cost    unit_cost * units shipped *to* the node on each inbound edge this period
                     (paid when the supplier dispatches, as in Liu et al.)
    fixed_cost       fixed_cost of each inbound edge on which a positive order was placed
    revenue          price * sold, plus unit_cost * units the node shipped on internal edges
                     (transfer revenue: summed over the team it cancels the internal ordering costs)
    service_level    shipped / owed this period, 1 when nothing was owed (a fill rate in [0, 1])
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray

__all__ = ["Ledger", "NODE_FIELDS", "EDGE_FIELDS", "COST_FIELDS"]

F64 = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class Ledger:
    """One period's flows and money for a batch of episodes."""

    t: int  # the period this ledger records
    # node fields (B, N)
    requested: F64
    owed: F64
    shipped: F64
    sold: F64
    received: F64
    on_hand: F64
    backlog: F64
    lost: F64
    ordered: F64
    inbound_backlog: F64
    in_transit: F64
    holding_cost: F64
    backlog_cost: F64
    lost_sales_cost: F64
    ordering_cost: F64
    fixed_cost: F64
    revenue: F64
    service_level: F64
    # edge fields (B, E)
    edge_ordered: F64
    edge_shipped: F64
    edge_arrived: F64
    edge_backlog: F64
    # store fields (B, S)
    demand: F64
    # system fields (B,)
    external_in: F64  # units shipped into the network by the external source this period

    def node(self, name: str) -> F64:
        return getattr(self, name)  # type: ignore[no-any-return]

    @property
    def total_cost(self) -> F64:
        """(B, N) holding + backlog + lost-sales + ordering + fixed cost."""
        return self.holding_cost + self.backlog_cost + self.lost_sales_cost + self.ordering_cost + self.fixed_cost


_ALL = [f.name for f in fields(Ledger)]
EDGE_FIELDS: tuple[str, ...] = tuple(n for n in _ALL if n.startswith("edge_"))
NODE_FIELDS: tuple[str, ...] = tuple(n for n in _ALL if n not in EDGE_FIELDS and n not in ("t", "demand", "external_in"))
COST_FIELDS: tuple[str, ...] = ("holding_cost", "backlog_cost", "lost_sales_cost", "ordering_cost", "fixed_cost")
