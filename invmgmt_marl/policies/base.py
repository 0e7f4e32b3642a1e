"""Constant, random and installation base-stock policies over the batched state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from invmgmt_marl.sim.demand import sample_demand
from invmgmt_marl.sim.network import Network
from invmgmt_marl.sim.state import SimState

__all__ = [
    "Policy",
    "ConstantPolicy",
    "RandomPolicy",
    "BaseStockPolicy",
    "inventory_position",
    "node_throughput",
    "heuristic_base_stock_levels",
    "POLICIES",
    "make_policy",
]

F64 = NDArray[np.float64]


class Policy(Protocol):
    """``policy(net, state, rng) -> (B, E)`` order quantities on every edge."""

    def __call__(self, net: Network, state: SimState, rng: np.random.Generator) -> F64: ...


class ConstantPolicy:
    """Order the same quantity on every edge every period (scalar or one value per edge)."""

    def __init__(self, quantity: float | F64 = 0.0) -> None:
        self.quantity = np.asarray(quantity, dtype=np.float64)

    def __call__(self, net: Network, state: SimState, rng: np.random.Generator) -> F64:
        return np.broadcast_to(self.quantity, (state.on_hand.shape[0], net.n_edges)).copy()

    def __repr__(self) -> str:
        return f"ConstantPolicy({self.quantity.tolist()})"


class RandomPolicy:
    """Uniform random orders in ``[0, max_order]`` (integers if ``integer``)."""

    def __init__(self, integer: bool = True) -> None:
        self.integer = integer

    def __call__(self, net: Network, state: SimState, rng: np.random.Generator) -> F64:
        batch = state.on_hand.shape[0]
        if self.integer:
            return rng.integers(0, net.max_order.astype(np.int64) + 1, size=(batch, net.n_edges)).astype(np.float64)
        return rng.uniform(0.0, net.max_order, size=(batch, net.n_edges))

    def __repr__(self) -> str:
        return f"RandomPolicy(integer={self.integer})"


def inventory_position(net: Network, state: SimState) -> F64:
    """``(B, N)`` installation inventory position: on hand + in transit to the node + owed to the node
    by its suppliers - owed by the node downstream."""
    n_edges = net.n_edges
    in_transit = state.pipeline.sum(axis=2) @ net.edge_to_dst
    owed_to = state.backlog[:, :n_edges] @ net.edge_to_dst
    owed_by = state.backlog @ net.out_from_src
    return state.on_hand + in_transit + owed_to - owed_by


def _split_over_edges(net: Network, quantity: F64) -> F64:
    """Spread each node's ``(B, N)`` order over its inbound edges in scenario order, filling each up
    to its ``max_order`` before the next."""
    batch = quantity.shape[0]
    orders = np.zeros((batch, net.n_edges))
    remaining = quantity.copy()
    width = max(len(e) for e in net.agent_edges)
    for k in range(width):  # k-th inbound edge of every node at once
        nodes = np.array([i for i, e in enumerate(net.agent_edges) if len(e) > k], dtype=np.int64)
        edges = np.array([net.agent_edges[i][k] for i in nodes], dtype=np.int64)
        q = np.minimum(remaining[:, nodes], net.max_order[edges])
        orders[:, edges] = q
        remaining[:, nodes] -= q
    return orders


class BaseStockPolicy:
    """Installation base-stock (order-up-to): each node orders ``max(0, S - inventory position)``,
    spread over its inbound edges in order, each up to its ``max_order``."""

    def __init__(self, levels: F64 | list[float], integer: bool = False) -> None:
        self.levels = np.asarray(levels, dtype=np.float64)
        self.integer = integer

    def __call__(self, net: Network, state: SimState, rng: np.random.Generator) -> F64:
        need = np.maximum(self.levels - inventory_position(net, state), 0.0)
        if self.integer:
            need = np.ceil(need)
        return _split_over_edges(net, need)

    def __repr__(self) -> str:
        return f"BaseStockPolicy({np.round(self.levels, 2).tolist()})"


def node_throughput(net: Network, store_mean: F64) -> F64:
    """``(N,)`` expected units per period through each node: store demand, passed upstream and split
    equally over each node's internal suppliers."""
    through = np.zeros(net.n_nodes)
    through[net.store_nodes] += store_mean
    n_int_in = np.array([np.sum(net.edge_src[e] < net.n_nodes) for e in net.agent_edges])
    # downstream first: a node's throughput is final once every node it supplies is done
    order = sorted(range(net.n_nodes), key=lambda i: -_depth(net, i))
    for i in order:
        for e in net.agent_edges[i]:
            src = int(net.edge_src[e])
            if src < net.n_nodes:
                through[src] += through[i] / n_int_in[i]
    return through


def _depth(net: Network, i: int) -> int:
    """Longest number of edges from node ``i`` up to the external source."""
    ups = [int(net.edge_src[e]) for e in net.agent_edges[i] if net.edge_src[e] < net.n_nodes]
    return 0 if not ups else 1 + max(_depth(net, u) for u in ups)


def heuristic_base_stock_levels(
    net: Network, safety: float = 1.0, seed: int = 0, samples: int = 256
) -> F64:
    """Untuned installation base-stock levels: ``(lead + 1) * mean + safety * sqrt(lead + 1) * std`` of
    each node's throughput, from sampled demand (lead = lead time of the node's first inbound edge,
    the one :class:`BaseStockPolicy` fills first)."""
    rng = np.random.default_rng(seed)
    d = sample_demand(list(net.demand_specs), rng, samples, net.periods)  # (B, T, S)
    mean = node_throughput(net, d.mean(axis=(0, 1)))
    std = node_throughput(net, d.std(axis=(0, 1)))
    lead = np.array([net.lead_time[e[0]] for e in net.agent_edges], dtype=np.float64)
    return np.ceil((lead + 1) * mean + safety * np.sqrt(lead + 1) * std)


def _base_stock(net: Network, levels: Any = None, **kw: Any) -> BaseStockPolicy:
    lv = heuristic_base_stock_levels(net) if levels is None else np.asarray(levels, dtype=np.float64)
    return BaseStockPolicy(lv, **kw)


POLICIES: dict[str, Callable[..., Policy]] = {
    "constant": lambda net, quantity=0.0, **kw: ConstantPolicy(quantity),
    "random": lambda net, **kw: RandomPolicy(**kw),
    "base_stock": _base_stock,
}


def make_policy(name: str, net: Network, **kwargs: Any) -> Policy:
    """Build a registered policy by name for ``net``."""
    if name not in POLICIES:
        raise ValueError(f"policy: unknown policy {name!r}; known: {sorted(POLICIES)}")
    return POLICIES[name](net, **kwargs)
