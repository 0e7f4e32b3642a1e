"""Baseline ordering policies, batched over the simulator state.

A policy is any callable ``policy(net, state, rng) -> orders`` returning ``(B, E)`` order quantities
for every edge (clipped to ``[0, max_order]`` by :func:`invmgmt_marl.rollout.rollout`).
"""

from invmgmt_marl.policies.base import (
    POLICIES,
    BaseStockPolicy,
    ConstantPolicy,
    Policy,
    RandomPolicy,
    heuristic_base_stock_levels,
    inventory_position,
    make_policy,
    node_throughput,
)

__all__ = [
    "POLICIES",
    "BaseStockPolicy",
    "ConstantPolicy",
    "Policy",
    "RandomPolicy",
    "heuristic_base_stock_levels",
    "inventory_position",
    "make_policy",
    "node_throughput",
]
