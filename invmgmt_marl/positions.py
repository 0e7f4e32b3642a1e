"""Inventory positions of every node, computed from the simulator state (one definition).

Policies (base-stock, (s,S), forecast order-up-to) and the order-up-to action codecs compare targets
with these positions; both import them from here.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from invmgmt_marl.sim.network import Network
from invmgmt_marl.sim.state import SimState

__all__ = ["echelon_inventory_position", "echelon_matrix", "inventory_position"]

F64 = NDArray[np.float64]


def inventory_position(net: Network, state: SimState) -> F64:
    """``(B, N)`` installation inventory position: on hand + in transit to the node + owed to the
    node by its suppliers - owed by the node (downstream and customers). ``(B, P, N)`` per product in
    a network with products (the same formula on the product axis)."""
    in_transit = state.pipeline.sum(axis=-1) @ net.edge_to_dst
    owed_to = state.backlog[..., : net.n_edges] @ net.edge_to_dst
    owed_by = state.backlog @ net.out_from_src
    return state.on_hand + in_transit + owed_to - owed_by


def echelon_matrix(net: Network) -> F64:
    """``(N, N)``: ``M[i, j] = 1`` if node ``j`` is node ``i`` or downstream of it."""
    m = np.eye(net.n_nodes)
    internal = net.edge_src < net.n_nodes
    for _ in range(net.n_nodes):  # transitive closure by repeated propagation (N is small)
        step_m = m.copy()
        for e in np.flatnonzero(internal):
            step_m[:, net.edge_dst[e]] = np.maximum(step_m[:, net.edge_dst[e]], m[:, net.edge_src[e]])
        if np.array_equal(step_m, m):
            break
        m = step_m
    return m


def echelon_inventory_position(net: Network, state: SimState, echelon: F64 | None = None) -> F64:
    """``(B, N)`` echelon inventory position: stock on hand and in transit at the node and everywhere
    downstream of it, plus what its own suppliers owe it, minus customer backlog downstream.

    Exact for serial chains and trees; in general DAGs a downstream node's inbound transit from
    outside the echelon is counted too. ``(B, P, N)`` per product in a network with products.
    """
    m = echelon_matrix(net) if echelon is None else echelon
    in_transit = state.pipeline.sum(axis=-1) @ net.edge_to_dst  # (B, [P,] N)
    owed_to = state.backlog[..., : net.n_edges] @ net.edge_to_dst
    cust_backlog = state.backlog[..., net.n_edges :] @ net.customer_of_store  # (B, [P,] N)
    return (state.on_hand + in_transit - cust_backlog) @ m.T + owed_to
