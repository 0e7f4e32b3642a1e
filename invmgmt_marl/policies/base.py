"""Baseline ordering policies, batched over the simulator state.

A policy is any callable ``policy(net, state, rng) -> (B, E)`` order quantities on every edge. A
policy that keeps memory across periods (a demand forecast) also has ``reset(net, batch, rng)``,
which :func:`invmgmt_marl.rollout.rollout` calls before the first period.

Parameters that are "one per node" may also be given one row per episode, shape ``(B, N)``: that is
how tuning scores many candidate settings in one batched rollout.

In a network with products (``net.product_axis``, docs/products.md) every policy works per (node,
product): parameters are ``(P, N)`` (or ``(N,)``, the same for every product, or ``(B, P, N)``),
positions ``(B, P, N)`` and orders ``(B, P, E)``. Without products nothing changes.

Nodes with several inbound edges spread their order over them in scenario order, filling each edge
up to its ``max_order`` before the next (so the first listed source is preferred); assembly nodes
instead order every component in the ratio of their bill of materials (:func:`assembly_orders`;
installation policies only: the echelon variants do not know bills of materials).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from invmgmt_marl.demand import sample_network_demand
from invmgmt_marl.positions import echelon_inventory_position, inventory_position
from invmgmt_marl.positions import echelon_matrix as _echelon_matrix
from invmgmt_marl.registry import POLICIES
from invmgmt_marl.sim.network import Network
from invmgmt_marl.sim.state import SimState

__all__ = [
    "Policy",
    "ConstantPolicy",
    "RandomPolicy",
    "BaseStockPolicy",
    "EchelonBaseStockPolicy",
    "SSPolicy",
    "ForecastOrderUpToPolicy",
    "inventory_position",
    "echelon_inventory_position",
    "node_throughput",
    "throughput_matrix",
    "demand_statistics",
    "heuristic_base_stock_levels",
    "split_over_edges",
    "assembly_orders",
    "POLICIES",
    "make_policy",
]

F64 = NDArray[np.float64]


@runtime_checkable
class Policy(Protocol):
    """``policy(net, state, rng) -> (B, E)`` order quantities on every edge."""

    def __call__(self, net: Network, state: SimState, rng: np.random.Generator) -> F64: ...


def _per_node(values: Any, name: str) -> F64:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim not in (1, 2, 3) or not np.all(np.isfinite(arr)):
        raise ValueError(
            f"{name}: expected finite values of shape (N,), (B, N), (P, N) or (B, P, N), got {arr.shape}"
        )
    return arr


# --------------------------------------------------------------------------------------------------
class ConstantPolicy:
    """Order the same quantity on every edge every period (a scalar or one value per edge)."""

    #: does not look at the period index: long-run bounds apply to its steady-state cost
    stationary = True

    def __init__(self, quantity: float | F64 = 0.0) -> None:
        self.quantity = np.asarray(quantity, dtype=np.float64)

    def __call__(self, net: Network, state: SimState, rng: np.random.Generator) -> F64:
        # (B, E), or (B, P, E) with products (max_order is then (P, E))
        return np.broadcast_to(self.quantity, (state.on_hand.shape[0], *net.max_order.shape)).copy()

    def __repr__(self) -> str:
        return f"ConstantPolicy({self.quantity.tolist()})"


class RandomPolicy:
    """Uniform random orders in ``[0, max_order]`` (integers if ``integer``)."""

    #: does not look at the period index: long-run bounds apply to its steady-state cost
    stationary = True

    def __init__(self, integer: bool = True) -> None:
        self.integer = integer

    def __call__(self, net: Network, state: SimState, rng: np.random.Generator) -> F64:
        size = (state.on_hand.shape[0], *net.max_order.shape)  # (B, E) or (B, P, E)
        if self.integer:
            return rng.integers(0, net.max_order.astype(np.int64) + 1, size=size).astype(np.float64)
        return rng.uniform(0.0, net.max_order, size=size)

    def __repr__(self) -> str:
        return f"RandomPolicy(integer={self.integer})"


# --------------------------------------------------------------------------------------------------
def split_over_edges(net: Network, quantity: F64) -> F64:
    """Spread each node's ``(B, N)`` order over its inbound edges in scenario order, filling each up
    to its ``max_order`` before the next. Returns ``(B, E)``; ``(B, P, N)`` -> ``(B, P, E)`` with
    products (each product on its own, up to its own ``max_order``)."""
    orders = np.zeros((*quantity.shape[:-1], net.n_edges))
    remaining = quantity.copy()
    width = max(len(e) for e in net.agent_edges)
    for k in range(width):  # the k-th inbound edge of every node at once
        nodes = np.array([i for i, e in enumerate(net.agent_edges) if len(e) > k], dtype=np.int64)
        edges = np.array([net.agent_edges[i][k] for i in nodes], dtype=np.int64)
        q = np.minimum(remaining[..., nodes], net.max_order[..., edges])
        orders[..., edges] = q
        remaining[..., nodes] -= q
    return orders


def assembly_orders(net: Network, state: SimState, level: F64, orders: F64, active: F64 | None = None) -> F64:
    """Order components at assembly nodes in the ratio of their bill of materials.

    An assembly node keeps each component's position (component stock + in transit + owed to it) at
    ``qty`` times its finished-goods shortfall ``level - on_hand + owed``; ``active`` (``(B, N)``, 0/1)
    switches a node's ordering off (an (s, S) policy above ``s``). Other nodes' orders are unchanged.
    """
    if state.components is None:
        return orders
    orders = orders.copy()
    shortfall = level - state.on_hand + state.backlog @ net.out_from_src  # (B, N) finished units
    position = state.components + state.pipeline.sum(axis=2) + state.backlog[:, : net.n_edges]  # (B, E)
    for i in net.assembly_nodes:  # a handful of assembly nodes: their component edges at once
        e = net.agent_edges[i]
        q = np.maximum(net.component_qty[e] * shortfall[:, i : i + 1] - position[:, e], 0.0)
        if active is not None:
            q = q * active[:, i : i + 1]
        orders[:, e] = np.minimum(q, net.max_order[e])
    return orders


class BaseStockPolicy:
    """Installation base-stock (order-up-to): each node orders ``max(0, S - inventory position)``."""

    #: does not look at the period index: long-run bounds apply to its steady-state cost
    stationary = True

    def __init__(self, levels: Any, integer: bool = False) -> None:
        self.levels = _per_node(levels, "levels")
        self.integer = integer

    def __call__(self, net: Network, state: SimState, rng: np.random.Generator) -> F64:
        need = np.maximum(self.levels - inventory_position(net, state), 0.0)
        orders = split_over_edges(net, np.ceil(need) if self.integer else need)
        return assembly_orders(net, state, np.broadcast_to(self.levels, state.on_hand.shape), orders)

    def __repr__(self) -> str:
        return f"BaseStockPolicy({np.round(self.levels, 2).tolist()})"


class EchelonBaseStockPolicy:
    """Echelon base-stock: each node orders ``max(0, S_echelon - echelon inventory position)``."""

    #: does not look at the period index: long-run bounds apply to its steady-state cost
    stationary = True

    def __init__(self, levels: Any, integer: bool = False) -> None:
        self.levels = _per_node(levels, "levels")
        self.integer = integer
        self._m: F64 | None = None

    def __call__(self, net: Network, state: SimState, rng: np.random.Generator) -> F64:
        if self._m is None or self._m.shape[0] != net.n_nodes:
            self._m = _echelon_matrix(net)
        need = np.maximum(self.levels - echelon_inventory_position(net, state, self._m), 0.0)
        return split_over_edges(net, np.ceil(need) if self.integer else need)

    def __repr__(self) -> str:
        return f"EchelonBaseStockPolicy({np.round(self.levels, 2).tolist()})"


class SSPolicy:
    """(s, S): when the inventory position is at or below ``s``, order up to ``S``; else nothing."""

    #: does not look at the period index: long-run bounds apply to its steady-state cost
    stationary = True

    def __init__(self, s: Any, S: Any, integer: bool = False) -> None:  # noqa: N803 (the literature's name)
        self.s = _per_node(s, "s")
        self.S = _per_node(S, "S")
        if np.any(self.s > self.S):
            raise ValueError(f"S: must be >= s per node, got s={self.s.tolist()}, S={self.S.tolist()}")
        self.integer = integer

    def __call__(self, net: Network, state: SimState, rng: np.random.Generator) -> F64:
        ip = inventory_position(net, state)
        trigger = ip <= self.s
        need = np.where(trigger, np.maximum(self.S - ip, 0.0), 0.0)
        orders = split_over_edges(net, np.ceil(need) if self.integer else need)
        return assembly_orders(
            net, state, np.broadcast_to(self.S, ip.shape), orders, trigger.astype(np.float64)
        )

    def __repr__(self) -> str:
        return f"SSPolicy(s={np.round(self.s, 2).tolist()}, S={np.round(self.S, 2).tolist()})"


class ForecastOrderUpToPolicy:
    """Adaptive order-up-to: the level follows a moving-average forecast,
    ``S_t = cover * forecast_t + safety``, per node.

    Args:
        safety: units added to the level, per node ``(N,)`` or ``(B, N)``.
        cover: periods of forecast demand to cover, per node; default lead time + 1 of the node's
            first inbound edge (its whole echelon's lead times with ``echelon=True``).
        window: periods in the moving average; ``1`` follows the last period.
        signal: ``"demand"`` forecasts from customer demand, passed up the network (information
            sharing, as the order-up-to rule of Liu et al. that follows the last demand);
            ``"requests"`` from the orders each node itself receives.
        echelon: compare the level with the echelon inventory position instead of the installation one.
    """

    #: does not look at the period index: long-run bounds apply to its steady-state cost
    stationary = True

    def __init__(
        self,
        safety: Any = 0.0,
        cover: Any = None,
        window: int = 1,
        signal: str = "demand",
        echelon: bool = False,
        integer: bool = False,
    ) -> None:
        if window < 1:
            raise ValueError(f"window: must be >= 1, got {window}")
        if signal not in ("demand", "requests"):
            raise ValueError(f"signal: expected 'demand' or 'requests', got {signal!r}")
        self.safety = np.asarray(safety, dtype=np.float64)
        self.cover = None if cover is None else np.asarray(cover, dtype=np.float64)
        self.window, self.signal, self.echelon, self.integer = window, signal, echelon, integer
        self._history: F64 | None = None  # (B, window, N)
        self._m: F64 | None = None

    def default_cover(self, net: Network) -> F64:
        """Lead time + 1 of each node's first inbound edge, summed over its echelon if ``echelon``:
        ``(N,)``, or ``(P, N)`` with products (per-product lead times)."""
        cover = first_lead_time(net) + 1.0
        return cover @ _echelon_matrix(net).T if self.echelon else cover

    def reset(self, net: Network, batch: int, rng: np.random.Generator) -> F64:
        """Start every episode's history at the expected throughput of each node."""
        mean, _ = demand_statistics(net)
        through = node_throughput(net, mean)  # (N,) or (P, N)
        self._history = np.broadcast_to(through, (batch, self.window, *through.shape)).copy()
        self._m = _echelon_matrix(net)
        return self._history

    def __call__(self, net: Network, state: SimState, rng: np.random.Generator) -> F64:
        batch = state.on_hand.shape[0]
        history = self._history
        if history is None or history.shape[0] != batch or state.t == 0 or self._m is None:
            history = self.reset(net, batch, rng)
        else:  # last period's signal joins the history
            if self.signal == "demand":
                sig = state.last_demand @ throughput_matrix(net)
            else:
                sig = np.concatenate([state.last_orders, state.last_demand], axis=-1) @ net.out_from_src
            history = self._history = np.concatenate([history[:, 1:], sig[:, None]], axis=1)
        forecast = history.mean(axis=1)
        cover = self.cover if self.cover is not None else self.default_cover(net)
        level = cover * forecast + self.safety
        ip = (
            echelon_inventory_position(net, state, self._m)
            if self.echelon
            else inventory_position(net, state)
        )
        need = np.maximum(level - ip, 0.0)
        orders = split_over_edges(net, np.ceil(need) if self.integer else need)
        return orders if self.echelon else assembly_orders(net, state, level, orders)

    def __repr__(self) -> str:
        cover = "lead+1" if self.cover is None else np.round(self.cover, 2).tolist()
        return (
            f"ForecastOrderUpToPolicy(signal={self.signal!r}, window={self.window}, echelon={self.echelon}, "
            f"cover={cover}, safety={np.round(self.safety, 2).tolist()})"
        )


def throughput_matrix(net: Network) -> F64:
    """``(S, N)`` linear map from per-store values to per-node throughput (see :func:`node_throughput`)."""
    return np.stack([node_throughput(net, np.eye(net.n_stores)[s]) for s in range(net.n_stores)])


# --------------------------------------------------------------------------------------------------
def node_throughput(net: Network, store_values: F64) -> F64:
    """``(N,)`` per-period units through each node: each store's value, passed upstream and split
    equally over each node's internal suppliers (component suppliers of an assembly node carry the
    bill-of-materials quantity per unit instead). ``store_values`` ``(..., S)`` gives ``(..., N)``
    (e.g. ``(P, S)`` per product)."""
    store_values = np.asarray(store_values, dtype=np.float64)
    through = np.zeros((*store_values.shape[:-1], net.n_nodes))
    through[..., net.store_nodes] += store_values
    n_int_in = np.array([np.sum(net.edge_src[e] < net.n_nodes) for e in net.agent_edges])
    for i in sorted(range(net.n_nodes), key=lambda i: -_depth(net, i)):  # downstream first
        for e in net.agent_edges[i]:
            src = int(net.edge_src[e])
            if src < net.n_nodes:  # components: qty per unit made; other sources share the throughput
                through[..., src] += (
                    through[..., i] * net.component_qty[e]
                    if net.component_qty[e] > 0
                    else through[..., i] / n_int_in[i]
                )
    return through


def _depth(net: Network, i: int) -> int:
    """Longest number of edges from node ``i`` up to the external source."""
    ups = [int(net.edge_src[e]) for e in net.agent_edges[i] if net.edge_src[e] < net.n_nodes]
    return 0 if not ups else 1 + max(_depth(net, u) for u in ups)


#: with products, demand_statistics draws at most this many (path x period x product x store) values
_MAX_STAT_VALUES = 4_000_000


def demand_statistics(net: Network, seed: int = 0, samples: int = 256) -> tuple[F64, F64]:
    """Mean and standard deviation of each store's per-period demand, from sampled paths: ``(S,)``,
    or ``(P, S)`` per product (with at most ``_MAX_STAT_VALUES`` values drawn in all, at least 8 paths)."""
    if net.product_axis:
        per_path = net.periods * net.n_products * net.n_stores
        samples = max(8, min(samples, _MAX_STAT_VALUES // per_path))
    d = sample_network_demand(net, np.random.default_rng(seed), samples, net.periods)
    return d.mean(axis=(0, 1)), d.std(axis=(0, 1))


def first_lead_time(net: Network) -> F64:
    """Lead time of each node's first inbound edge (the one filled first): ``(N,)``, or ``(P, N)``
    with products."""
    first = np.array([e[0] for e in net.agent_edges], dtype=np.int64)
    return net.lead_time[..., first].astype(np.float64)


def heuristic_base_stock_levels(net: Network, safety: float = 1.0, seed: int = 0, samples: int = 256) -> F64:
    """Untuned installation base-stock levels: ``(L + 1) * mean + safety * sqrt(L + 1) * std`` of each
    node's throughput (``L`` = lead time of the node's first inbound edge, the one filled first).
    ``(N,)``, or ``(P, N)`` per (product, node) with products."""
    mean, std = demand_statistics(net, seed, samples)
    m, s = node_throughput(net, mean), node_throughput(net, std)
    lead = first_lead_time(net)
    return np.ceil((lead + 1) * m + safety * np.sqrt(lead + 1) * s)


def _levels_or_heuristic(net: Network, levels: Any) -> F64:
    return heuristic_base_stock_levels(net) if levels is None else np.asarray(levels, dtype=np.float64)


def _echelon_levels(net: Network, levels: Any) -> F64:
    if levels is not None:
        return np.asarray(levels, dtype=np.float64)
    return _levels_or_heuristic(net, None) @ _echelon_matrix(net).T


def _make_constant(net: Network, quantity: float = 0.0, **kw: Any) -> Policy:
    return ConstantPolicy(quantity)


def _make_random(net: Network, **kw: Any) -> Policy:
    return RandomPolicy(**kw)


def _make_base_stock(net: Network, levels: Any = None, **kw: Any) -> Policy:
    return BaseStockPolicy(_levels_or_heuristic(net, levels), **kw)


def _make_echelon_base_stock(net: Network, levels: Any = None, **kw: Any) -> Policy:
    return EchelonBaseStockPolicy(_echelon_levels(net, levels), **kw)


def _make_s_S(net: Network, s: Any = None, S: Any = None, **kw: Any) -> Policy:  # noqa: N803
    if s is None or S is None:
        s, S = 0.8 * _levels_or_heuristic(net, None), _levels_or_heuristic(net, None)
    return SSPolicy(s, S, **kw)


def _make_forecast(net: Network, **kw: Any) -> Policy:
    return ForecastOrderUpToPolicy(**kw)


def make_policy(name: str, net: Network, **kwargs: Any) -> Policy:
    """Build a registered policy by name for ``net`` (untuned defaults where parameters are omitted).

    Policies are the factories ``factory(net, **params) -> Policy`` registered in
    :data:`invmgmt_marl.registry.POLICIES`.
    """
    if name not in POLICIES:
        raise ValueError(f"policy: unknown policy {name!r}; known: {list(POLICIES)}")
    factory: Callable[..., Policy] = POLICIES.get(name)
    return factory(net, **kwargs)
