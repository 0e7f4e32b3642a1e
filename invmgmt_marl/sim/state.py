"""The simulator's dynamic state: arrays with a leading batch axis ``B``."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from invmgmt_marl.sim.network import Network

__all__ = ["SimState", "initial_state"]

F64 = NDArray[np.float64]


class SimState(NamedTuple):
    """State at the start of period ``t`` (equivalently, the end of period ``t - 1``).

    Every row of the batch is a separate episode; all rows advance in lockstep (same ``t``).
    Immutable (a named tuple: cheap to build every period); the step function never writes into
    the arrays of the state it is given.
    """

    t: int  # the next period to simulate, 0..periods
    # with products (net.product_axis) the first five carry a product axis after B: (B, P, N), ...
    on_hand: F64  # (B, N) units in stock at each node
    backlog: F64  # (B, O) units owed on each outflow (edges, then each store's customers)
    pipeline: F64  # (B, E, L) ring buffer: slot (t + k) % L holds what arrives on the edge in period t + k
    last_orders: F64  # (B, E) orders placed in period t - 1 (the scenario's initial_order at t = 0)
    last_demand: F64  # (B, S) customer demand of period t - 1 (the scenario's initial_demand at t = 0)
    # (B, P, A) perishable nodes' stock by age, bucket 0 the youngest (None without perishables); with
    # products (B, Q, A) for the Q perishable (product, node) pairs of net.perish_pairs
    age: F64 | None = None
    components: F64 | None = None  # (B, E) component stock at assembly nodes, per inbound edge (None without)
    goodwill: F64 | None = None  # (B, S) stores' demand multipliers (None without goodwill)
    cash: F64 | None = None  # (B, N) cash balance of every node (0 at nodes without cash; None without)
    price: F64 | None = None  # (B, P, S) last price multipliers at the stores (None without pricing)

    @property
    def batch_size(self) -> int:
        return int(self.on_hand.shape[0])

    def row(self, b: int) -> SimState:
        """Row ``b`` as a batch of one."""
        sl = slice(b, b + 1)
        return SimState(*(x[sl] if isinstance(x, np.ndarray) else x for x in self))  # type: ignore[arg-type]


def initial_state(net: Network, batch: int = 1) -> SimState:
    """The state at ``t = 0`` from the scenario's initial stock, backlogs and pipelines."""
    return SimState(
        t=0,
        on_hand=_rows(net.initial_on_hand, batch),
        backlog=_rows(net.initial_backlog, batch),
        pipeline=_rows(net.initial_pipeline, batch),
        last_orders=_rows(net.initial_orders, batch),
        last_demand=_rows(net.initial_demand, batch),
        age=_initial_age(net, batch) if net.any_perishable or net.any_perishable_products else None,
        components=np.zeros((batch, net.n_edges)) if net.any_assembly else None,
        goodwill=np.tile(net.goodwill[4], (batch, 1)) if net.any_goodwill else None,
        cash=_rows(net.cash_initial, batch) if net.any_cash else None,
        price=np.ones((batch, net.n_products, net.n_stores)) if net.any_pricing else None,
    )


def _rows(x: F64, batch: int) -> F64:
    """``batch`` copies of ``x`` stacked on a new leading axis (a fresh, contiguous array)."""
    return np.broadcast_to(x, (batch, *x.shape)).copy()


def _initial_age(net: Network, batch: int) -> F64:
    """Initial stock of perishable nodes (or (product, node) pairs) counts as fresh (age 0)."""
    if net.any_perishable_products:
        age = np.zeros((batch, len(net.perish_pairs), net.age_buckets))
        age[:, :, 0] = net.initial_on_hand.ravel()[net.perish_pairs]
        return age
    age = np.zeros((batch, len(net.perishable_nodes), net.age_buckets))
    age[:, :, 0] = net.initial_on_hand[net.perishable_nodes]
    return age
