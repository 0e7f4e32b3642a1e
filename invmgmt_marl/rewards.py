"""Reward schemes: functions of the period ledger, registered by name.

Each scheme maps ``(net, ledger, weights) -> (B, N)`` *own* rewards; :func:`compute_rewards` then mixes
own and team: ``alpha * own + (1 - alpha) * mean over agents``.

- ``cost``: ``-(holding + backlog + lost-sales + ordering + fixed cost)``.
- ``profit``: ``revenue - (holding + backlog + lost-sales + ordering + fixed cost)``.
- ``reconciliation``: ``w_sl * service_level - w_h * holding_cost - w_s * (backlog_cost + lost_sales_cost)
  - w_o * (ordering_cost + fixed_cost) + w_r * revenue``, weights from the scenario's ``reward.weights``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
from numpy.typing import NDArray

from invmgmt_marl.sim.ledger import Ledger
from invmgmt_marl.sim.network import Network

__all__ = ["REWARD_SCHEMES", "RECONCILIATION_WEIGHTS", "register_reward_scheme", "compute_rewards", "mix"]

F64 = NDArray[np.float64]
RewardFn = Callable[[Network, Ledger, Mapping[str, float]], F64]
REWARD_SCHEMES: dict[str, RewardFn] = {}

#: default weights of the reconciliation scheme (the hmarl scenario's values)
RECONCILIATION_WEIGHTS: dict[str, float] = {
    "service_level": 10.0,
    "holding_cost": 0.01,
    "stockout_cost": 0.1,
    "ordering_cost": 0.0,
    "revenue": 0.0,
}


def register_reward_scheme(name: str) -> Callable[[RewardFn], RewardFn]:
    def deco(fn: RewardFn) -> RewardFn:
        REWARD_SCHEMES[name] = fn
        return fn

    return deco


@register_reward_scheme("cost")
def cost(net: Network, ledger: Ledger, weights: Mapping[str, float]) -> F64:
    return -ledger.total_cost


@register_reward_scheme("profit")
def profit(net: Network, ledger: Ledger, weights: Mapping[str, float]) -> F64:
    return ledger.revenue - ledger.total_cost


@register_reward_scheme("reconciliation")
def reconciliation(net: Network, ledger: Ledger, weights: Mapping[str, float]) -> F64:
    w = {**RECONCILIATION_WEIGHTS, **weights}
    return (
        w["service_level"] * ledger.service_level
        - w["holding_cost"] * ledger.holding_cost
        - w["stockout_cost"] * (ledger.backlog_cost + ledger.lost_sales_cost)
        - w["ordering_cost"] * (ledger.ordering_cost + ledger.fixed_cost)
        + w["revenue"] * ledger.revenue
    )


def mix(own: F64, alpha: float) -> F64:
    """``alpha * own + (1 - alpha) * team_mean`` over the agent axis of ``(B, N)``."""
    if alpha == 1.0:
        return own
    return alpha * own + (1.0 - alpha) * own.mean(axis=1, keepdims=True)


def compute_rewards(
    net: Network, ledger: Ledger, scheme: str = "cost", alpha: float = 1.0, weights: Mapping[str, float] | None = None
) -> F64:
    """``(B, N)`` rewards of ``scheme`` with the own/team mix ``alpha``."""
    return mix(REWARD_SCHEMES[scheme](net, ledger, weights or {}), alpha)
