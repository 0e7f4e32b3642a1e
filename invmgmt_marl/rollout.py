"""Run a policy on the batched simulator over whole episodes and keep the ledgers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from invmgmt_marl.demand import sample_network_demand
from invmgmt_marl.rewards import compute_rewards
from invmgmt_marl.sim import (
    COST_FIELDS,
    EDGE_FIELDS,
    NODE_FIELDS,
    Network,
    initial_state,
    step,
)
from invmgmt_marl.sim.ledger import edge_row, node_row
from invmgmt_marl.sim.state import SimState
from invmgmt_marl.sim.supply import SupplyPath, sample_supply
from invmgmt_marl.validation import check_demand, check_orders

if TYPE_CHECKING:  # pragma: no cover
    from invmgmt_marl.policies.base import Policy

__all__ = ["Trajectory", "rollout", "units_held"]


def units_held(state: SimState) -> F64:
    """``(B,)`` units in the network: on hand, component stock and in transit."""
    held = state.on_hand.sum(axis=1) + state.pipeline.sum(axis=(1, 2))
    return held if state.components is None else held + state.components.sum(axis=1)


F64 = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class Trajectory:
    """Stacked ledgers of a batch of episodes."""

    nodes: F64  # (T, B, K, N) ledger node fields per period (T = 1: sums, with keep="sum")
    edges: F64  # (T, B, 7, E) ledger edge fields per period
    demand: F64  # (B, T, S) customer demand
    rewards: F64  # (T, B, N) rewards under the scenario's scheme
    start_units: F64  # (B,) units on hand, in component stock and in transit at t = 0
    end_units: F64  # (B,) the same at the end
    external_in: F64  # (T, B) units shipped in by the external source

    def cost(self) -> F64:
        """``(B, N)`` total cost of each agent over the episode (sum of every cost field)."""
        return sum(self.node(f).sum(axis=0) for f in COST_FIELDS)

    def node(self, name: str) -> F64:
        """``(T, B, N)`` one ledger node field over the episode."""
        return self.nodes[:, :, node_row(name)]

    def edge(self, name: str) -> F64:
        """``(T, B, E)`` one ledger edge field over the episode."""
        return self.edges[:, :, edge_row(name)]


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
        policy: ``policy(net, state, rng) -> (B, E)`` orders; clipped to ``[0, max_order]``.
        episodes: batch size when ``demand`` is not given.
        seed: seeds demand sampling and the policy's generator.
        demand: optional ``(B, T, S)`` customer demand paths to replay.
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
    # (B, >= T, S) finite and non-negative, checked once
    demand = check_demand(demand, periods=net.periods, n_stores=net.n_stores, batched=True, allow_longer=True)
    batch = demand.shape[0]
    if supply is None:
        supply = sample_supply(net, rng, batch, net.periods)
    state = initial_state(net, batch)
    start = units_held(state)
    steps = net.periods if keep == "all" else 1
    nodes = np.zeros((steps, batch, len(NODE_FIELDS), net.n_nodes))
    edges = np.zeros((steps, batch, len(EDGE_FIELDS), net.n_edges))
    rewards = np.zeros((steps, batch, net.n_nodes))
    ext = np.zeros((steps, batch))
    reset = getattr(policy, "reset", None)
    if callable(reset):
        reset(net, batch, rng)
    for t in range(net.periods):
        orders = np.clip(np.asarray(policy(net, state, rng), dtype=np.float64), 0.0, net.max_order)
        check_orders(net, orders)  # a policy's NaN survives the clip: refuse it, naming the edge
        state, ledger = step(net, state, orders, demand[:, t], None if supply is None else supply.at(t))
        k = t if keep == "all" else 0
        nodes[k] += ledger.nodes
        edges[k] += ledger.edges
        ext[k] += ledger.external_in
        rewards[k] += compute_rewards(net, ledger)
    end = units_held(state)
    return Trajectory(nodes, edges, demand, rewards, start, end, ext)
