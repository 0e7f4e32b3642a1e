"""Run a policy on the batched simulator over whole episodes and keep the ledgers."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from invmgmt_marl.demand import sample_network_demand
from invmgmt_marl.errors import InvalidActionError
from invmgmt_marl.rewards import compute_rewards
from invmgmt_marl.sim import (
    COST_FIELDS,
    EDGE_FIELDS,
    NODE_FIELDS,
    Network,
    initial_state,
    step,
)
from invmgmt_marl.sim.ledger import edge_row, node_row, node_totals
from invmgmt_marl.sim.state import SimState
from invmgmt_marl.sim.supply import SupplyPath, sample_supply
from invmgmt_marl.validation import check_demand, check_orders

if TYPE_CHECKING:  # pragma: no cover
    from invmgmt_marl.policies.base import Policy

__all__ = ["Trajectory", "check_product_demand", "rollout", "units_held", "LARGE_TRAJECTORY_BYTES"]

logger = logging.getLogger(__name__)
#: a trajectory kept with ``keep="all"`` beyond this size is logged as a warning (2,000 products x 3
#: nodes x 100 periods hold 134 MB of ledgers per episode)
LARGE_TRAJECTORY_BYTES = 2**30


def units_held(state: SimState) -> F64:
    """``(B,)`` units in the network: on hand, component stock and in transit (over every product)."""
    batch = state.on_hand.shape[0]
    held = state.on_hand.reshape(batch, -1).sum(axis=1) + state.pipeline.reshape(batch, -1).sum(axis=1)
    return held if state.components is None else held + state.components.reshape(batch, -1).sum(axis=1)


F64 = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class Trajectory:
    """Stacked ledgers of a batch of episodes."""

    # products: nodes (T, B, K, P, N), edges (T, B, 9, P, E), demand (B, T, P, S)
    nodes: F64  # (T, B, K, N) ledger node fields per period (T = 1: sums, with keep="sum")
    edges: F64  # (T, B, 9, E) ledger edge fields per period
    demand: F64  # (B, T, S) customer demand
    rewards: F64  # (T, B, N) rewards under the scenario's scheme (node agents: node totals with products)
    start_units: F64  # (B,) units on hand, in component stock and in transit at t = 0 (every product)
    end_units: F64  # (B,) the same at the end
    external_in: F64  # (T, B) units shipped in by the external source (every product)

    @property
    def product_axis(self) -> bool:
        """Whether the ledgers carry a product axis (a network with products)."""
        return self.nodes.ndim == 5

    def cost(self) -> F64:
        """``(B, N)`` total cost of each agent over the episode (sum of every cost field; products
        summed)."""
        tr = self.totals()
        return sum(tr.node(f).sum(axis=0) for f in COST_FIELDS)

    def node(self, name: str) -> F64:
        """``(T, B, N)`` one ledger node field over the episode (``(T, B, P, N)`` with products)."""
        return self.nodes[:, :, node_row(name)]

    def edge(self, name: str) -> F64:
        """``(T, B, E)`` one ledger edge field over the episode (``(T, B, P, E)`` with products)."""
        return self.edges[:, :, edge_row(name)]

    def totals(self) -> Trajectory:
        """The node totals: products summed (``service_level`` recomputed from the totals, as
        :func:`~invmgmt_marl.sim.ledger.node_totals`); ``self`` without a product axis. Linear KPIs
        (costs, flows, stock, orders) of a product network are those of its totals; ratios per product
        (fill rates, stockouts) need the product axis (:mod:`invmgmt_marl.metrics`)."""
        if not self.product_axis:
            return self
        cached = self.__dict__.get("_totals")
        if cached is not None:
            return cached
        nodes = self.nodes.sum(axis=3)
        owed, shipped = nodes[:, :, node_row("owed")], nodes[:, :, node_row("shipped")]
        nodes[:, :, node_row("service_level")] = 1.0 - (owed - shipped) / np.maximum(owed, 1e-300)
        out = Trajectory(
            nodes,
            self.edges.sum(axis=3),
            self.demand.sum(axis=2),
            self.rewards,
            self.start_units,
            self.end_units,
            self.external_in,
        )
        object.__setattr__(self, "_totals", out)
        return out


def rollout(
    net: Network,
    policy: Policy,
    episodes: int = 1,
    seed: int | None = 0,
    demand: F64 | None = None,
    keep: str = "all",
    supply: SupplyPath | None = None,
) -> Trajectory:
    """Simulate ``episodes`` episodes in one batch.

    Args:
        net: the compiled network.
        policy: ``policy(net, state, rng) -> (B, E)`` orders; clipped to ``[0, max_order]``. With
            products ``(B, P, E)``; a ``(B, E)`` answer orders that quantity of every product
            (``ConstantPolicy(0)``, the do-nothing floor, works on both).
        episodes: batch size when ``demand`` is not given.
        seed: seeds demand sampling and the policy's generator.
        demand: optional ``(B, T, S)`` customer demand paths to replay (``(B, T, P, S)`` with products).
        keep: ``"all"`` keeps every period's ledger; ``"sum"`` keeps only the sums over the episode
            (the trajectory then has a time axis of length 1), which is what tuning needs.
        supply: optional supply randomness to replay (drawn after the demand when the network has
            uncertain supply and none is given).
    """
    if keep not in ("all", "sum"):
        raise ValueError(f"keep: expected 'all' or 'sum', got {keep!r}")
    rng = np.random.default_rng(seed)
    if demand is None:
        demand = sample_network_demand(net, rng, episodes, net.periods)
    if net.product_axis:  # (B, >= T, P, S)
        demand = check_product_demand(net, demand)
    else:  # (B, >= T, S) finite and non-negative, checked once
        demand = check_demand(
            demand, periods=net.periods, n_stores=net.n_stores, batched=True, allow_longer=True
        )
    batch = demand.shape[0]
    if supply is None:
        supply = sample_supply(net, rng, batch, net.periods)
    state = initial_state(net, batch)
    start = units_held(state)
    steps = net.periods if keep == "all" else 1
    per = (net.n_products,) if net.product_axis else ()
    size = (
        8
        * steps
        * batch
        * int(np.prod(per, dtype=np.int64))
        * (len(NODE_FIELDS) * net.n_nodes + len(EDGE_FIELDS) * net.n_edges)
    )
    if size > LARGE_TRAJECTORY_BYTES:
        logger.warning(
            "rollout: every period's ledger of %d episode(s) takes %.1f GiB; fewer episodes, or keep='sum'",
            batch,
            size / 2**30,
        )
    nodes = np.zeros((steps, batch, len(NODE_FIELDS), *per, net.n_nodes))
    edges = np.zeros((steps, batch, len(EDGE_FIELDS), *per, net.n_edges))
    rewards = np.zeros((steps, batch, net.n_nodes))
    ext = np.zeros((steps, batch))
    reset = getattr(policy, "reset", None)
    if callable(reset):
        reset(net, batch, rng)
    for t in range(net.periods):
        orders = np.asarray(policy(net, state, rng), dtype=np.float64)
        if net.product_axis and orders.ndim == 2:  # (B, E): the same quantity for every product
            orders = np.broadcast_to(orders[:, None, :], (orders.shape[0], net.n_products, net.n_edges))
        orders = np.clip(orders, 0.0, net.max_order)
        if net.product_axis:
            _check_product_orders(net, orders, batch)
        else:
            check_orders(net, orders)  # a policy's NaN survives the clip: refuse it, naming the edge
        state, ledger = step(net, state, orders, demand[:, t], None if supply is None else supply.at(t))
        k = t if keep == "all" else 0
        nodes[k] += ledger.nodes
        edges[k] += ledger.edges
        if net.product_axis:
            ledger = node_totals(ledger)  # the node agents' rewards: the scheme on node totals
        ext[k] += ledger.external_in
        rewards[k] += compute_rewards(net, ledger)
    end = units_held(state)
    return Trajectory(nodes, edges, demand, rewards, start, end, ext)


def check_product_demand(net: Network, demand: F64, name: str = "demand") -> F64:
    """``demand`` of a network with products as a new float64 ``(B, >= T, P, S)`` array, finite and
    non-negative (ValueError naming the shape or the first bad value, as
    :func:`~invmgmt_marl.validation.check_demand`)."""
    d = np.asarray(demand)
    p, s = net.n_products, net.n_stores
    if d.ndim != 4 or d.shape[0] < 1 or d.shape[1] < net.periods or d.shape[2:] != (p, s):
        raise ValueError(
            f"{name}: expected shape (B, T, P, S) with T=periods={net.periods}, P=products={p}, "
            f"S=stores={s}, got {d.shape}"
        )
    flat = check_demand(d.reshape(d.shape[0], d.shape[1], p * s), batched=True, name=name)
    return flat.reshape(d.shape)


def _check_product_orders(net: Network, orders: F64, batch: int) -> None:
    """Refuse orders that are not ``(B, P, E)`` or not finite, naming the first bad entry."""
    want = (batch, net.n_products, net.n_edges)
    if orders.shape != want:
        raise InvalidActionError(f"orders: expected shape (B, P, E) = {want}, got {orders.shape}")
    bad = ~np.isfinite(orders)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise InvalidActionError(f"orders{list(idx)}: must be finite, got {orders[idx]}")
