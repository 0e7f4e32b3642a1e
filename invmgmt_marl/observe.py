"""Observation views and the centralised state, derived from the simulator state.

Per-node *local features* (``F = 5 + L``, plus one column for each optional feature the network
uses), quantities divided by the scenario's observation scale:

====  ==========================================================================
0     on-hand stock at the end of the last period
1     backlog the node owes downstream (and customers)
2     backlog owed *to* the node by its suppliers (sum over inbound edges)
3     new requests that reached the node last period (orders from downstream, customer demand)
4..   arrivals due in the next ``L`` periods (sum over inbound edges), nearest first
+1    networks with assembly: units the node could make from its component stock now (0 elsewhere)
+1    networks with perishable stock: units that expire at the end of the next period unless
      shipped (0 at other nodes)
last  progress ``t / periods`` (not scaled)
====  ==========================================================================

Views (the registry :data:`invmgmt_marl.registry.VIEWS`), each ``(net, features) -> (B, N, D)``:

- ``local``: the node's own features.
- ``neighbours``: own features, then those of its upstream nodes and downstream nodes, each padded
  with zeros to the largest in- and out-degree in the network.
- ``global``: every node's features (node order) followed by a one-hot of the node's index.

``state`` is every node's features flattened, ``(B, N * F)``: the centralised critic's input.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from invmgmt_marl.registry import VIEWS
from invmgmt_marl.sim.network import Network
from invmgmt_marl.sim.state import SimState

__all__ = [
    "FEATURES",
    "VIEWS",
    "register_view",
    "local_features",
    "observe",
    "view_dim",
    "global_state",
    "default_scale",
]

F64 = NDArray[np.float64]
FEATURES = ("on_hand", "backlog", "inbound_backlog", "incoming")


def default_scale(net: Network) -> float:
    """The scenario's observation scale, or the largest order bound of any edge (``net.obs_scale``)."""
    return net.obs_scale


def n_features(net: Network) -> int:
    return len(FEATURES) + net.max_lead + int(net.any_assembly) + int(net.any_perishable) + 1


def local_features(net: Network, state: SimState, scale: float) -> F64:
    """``(B, N, F)`` local features of every node (see the module docstring)."""
    batch = state.on_hand.shape[0]
    n_edges, lmax = net.n_edges, net.max_lead
    out = np.empty((batch, net.n_nodes, n_features(net)))
    out[:, :, 0] = state.on_hand
    per_outflow = np.empty((batch, 2, net.n_outflows))  # backlog owed, last period's requests
    per_outflow[:, 0] = state.backlog
    per_outflow[:, 1, :n_edges] = state.last_orders
    per_outflow[:, 1, n_edges:] = state.last_demand
    per_node = per_outflow @ net.out_from_src  # (B, 2, N)
    out[:, :, 1] = per_node[:, 0]
    out[:, :, 2] = state.backlog[:, :n_edges] @ net.edge_to_dst
    out[:, :, 3] = per_node[:, 1]
    # pipeline slots in arrival order (next period first), summed over each node's inbound edges
    pipe = state.pipeline.take(net.pipe_order[state.t % lmax], axis=2) if state.t % lmax else state.pipeline
    out[:, :, 4 : 4 + lmax] = (pipe.transpose(0, 2, 1) @ net.edge_to_dst).transpose(0, 2, 1)
    col = 4 + lmax
    if net.any_assembly:  # finished units the component stock allows (the scarcest component decides)
        per_unit = np.concatenate(
            [state.components * net.component_inverse, np.full((batch, 1), np.inf)],  # type: ignore[operator]
            axis=1,
        )
        out[:, :, col] = 0.0
        out[:, net.assembly_nodes, col] = per_unit[:, net.assembly_edge_idx].min(axis=2)
        col += 1
    if net.any_perishable:  # the oldest bucket that can still be sold: it expires after the next period
        out[:, :, col] = 0.0
        last = net.shelf_life[net.perishable_nodes] - 1
        out[:, net.perishable_nodes, col] = state.age[:, np.arange(len(last)), last]  # type: ignore[index]
    if scale != 1.0:
        out[:, :, :-1] *= 1.0 / scale
    out[:, :, -1] = state.t / net.periods
    return out


View = Callable[[Network, F64], F64]


def register_view(name: str, *, replace: bool = False) -> Callable[[View], View]:
    """Decorator registering an observation view ``(net, features (B, N, F)) -> (B, N, D)``."""

    def deco(fn: View) -> View:
        VIEWS.register(name, fn, replace=replace)
        return fn

    return deco


# the built-in views, found by name through invmgmt_marl.registry.VIEWS
def local_view(net: Network, feats: F64) -> F64:
    return feats


def neighbours_view(net: Network, feats: F64) -> F64:
    batch, n, f = feats.shape
    padded = np.concatenate([feats, np.zeros((batch, 1, f))], axis=1)  # index n (= -1 padding) is zeros
    idx = np.concatenate([net.upstream, net.downstream], axis=1)  # (N, K)
    idx = np.where(idx < 0, n, idx)
    neigh = padded[:, idx, :].reshape(batch, n, -1)
    return np.concatenate([feats, neigh], axis=2)


def global_view(net: Network, feats: F64) -> F64:
    batch, n, f = feats.shape
    flat = np.broadcast_to(feats.reshape(batch, 1, n * f), (batch, n, n * f))
    onehot = np.broadcast_to(np.eye(n), (batch, n, n))
    return np.concatenate([flat, onehot], axis=2)


def view_dim(net: Network, view: str) -> int:
    """Observation length per agent under ``view``."""
    return int(VIEWS.get(view)(net, np.zeros((1, net.n_nodes, n_features(net)))).shape[2])


def observe(net: Network, state: SimState, view: str = "local", scale: float = 1.0) -> F64:
    """``(B, N, D)`` observations of every agent."""
    return VIEWS.get(view)(net, local_features(net, state, scale))


def global_state(net: Network, state: SimState, scale: float = 1.0) -> F64:
    """``(B, N * F)`` centralised state."""
    feats = local_features(net, state, scale)
    return feats.reshape(feats.shape[0], -1)
