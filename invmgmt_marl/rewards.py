"""Reward schemes: functions of the period ledger, registered by name.

Each scheme maps ``(net, ledger, weights) -> (B, N)`` *own* rewards; :func:`compute_rewards` then mixes
own and team: ``alpha * own + (1 - alpha) * mean over agents``.

- ``cost``: minus the sum of the seven cost fields (ordering, fixed, transit holding, holding, backlog,
  lost sales, waste).
- ``profit``: ``revenue`` (plus ``salvage`` of liquidated units) minus the same costs.
- ``reconciliation``: ``w_sl * service_level - w_h * (holding + transit holding + waste cost)
  - w_s * (backlog_cost + lost_sales_cost) - w_o * (ordering_cost + fixed_cost) + w_r * revenue``,
  weights from the scenario's ``reward.weights``.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from invmgmt_marl.registry import REWARD_SCHEMES
from invmgmt_marl.sim.ledger import Ledger, node_totals
from invmgmt_marl.sim.network import Network, RewardGroup

__all__ = [
    "REWARD_SCHEMES",
    "RECONCILIATION_WEIGHTS",
    "RewardScheme",
    "register_reward_scheme",
    "compute_rewards",
    "mix",
    "reward_plan",
]

F64 = NDArray[np.float64]
RewardFn = Callable[[Network, Ledger, Mapping[str, float]], F64]

#: default weights of the reconciliation scheme (the hmarl scenario's values)
RECONCILIATION_WEIGHTS: dict[str, float] = {
    "service_level": 10.0,
    "holding_cost": 0.01,
    "stockout_cost": 0.1,
    "ordering_cost": 0.0,
    "revenue": 0.0,
}


@dataclass(frozen=True)
class RewardScheme:
    """A reward scheme: ``fn(net, ledger, weights) -> (B, N)`` own rewards, and the weights it takes.

    ``weights`` are the defaults of every weight the scheme accepts (empty: the scheme takes none);
    the scenario schema checks the names a scenario gives against them.
    """

    fn: RewardFn
    weights: Mapping[str, float] = field(default_factory=dict)

    def __call__(self, net: Network, ledger: Ledger, weights: Mapping[str, float]) -> F64:
        return self.fn(net, ledger, weights)


def register_reward_scheme(
    name: str, weights: Mapping[str, float] | None = None, *, replace: bool = False
) -> Callable[[RewardFn], RewardFn]:
    """Decorator registering ``fn(net, ledger, weights) -> (B, N)`` as a reward scheme ``name``."""

    def deco(fn: RewardFn) -> RewardFn:
        REWARD_SCHEMES.register(name, RewardScheme(fn, dict(weights or {})), replace=replace)
        return fn

    return deco


def _cost(net: Network, ledger: Ledger, weights: Mapping[str, float]) -> F64:
    return -ledger.total_cost


def _profit(net: Network, ledger: Ledger, weights: Mapping[str, float]) -> F64:
    profit = ledger.revenue - ledger.total_cost
    if net.any_liquidation:  # the salvage of liquidated units is income too
        profit += ledger.salvage
    return profit


def _reconciliation(net: Network, ledger: Ledger, weights: Mapping[str, float]) -> F64:
    w = {**RECONCILIATION_WEIGHTS, **weights}
    return (
        w["service_level"] * ledger.service_level
        - w["holding_cost"] * (ledger.holding_cost + ledger.transit_holding_cost + ledger.waste_cost)
        - w["stockout_cost"] * (ledger.backlog_cost + ledger.lost_sales_cost)
        - w["ordering_cost"] * (ledger.ordering_cost + ledger.fixed_cost)
        + w["revenue"] * ledger.revenue
    )


# the built-ins, found by name through invmgmt_marl.registry.REWARD_SCHEMES
COST = RewardScheme(_cost)
PROFIT = RewardScheme(_profit)
RECONCILIATION = RewardScheme(_reconciliation, RECONCILIATION_WEIGHTS)


def mix(own: F64, alpha: float | F64) -> F64:
    """``alpha * own + (1 - alpha) * team_mean`` over the agent axis of ``(B, N)``.

    ``alpha`` is a scalar or ``(N,)``.
    """
    if np.isscalar(alpha) and alpha == 1.0:
        return own
    return alpha * own + (1.0 - alpha) * own.mean(axis=1, keepdims=True)


def reward_plan(net: Network) -> tuple[RewardGroup, ...]:
    """The network's agents grouped by effective ``(scheme, weights)`` (resolved when compiling)."""
    return net.reward_plan


def uniform_reward(net: Network) -> tuple[RewardScheme, dict[str, float], float] | None:
    """``(scheme, weights, alpha)`` when every agent has one scheme, weights and own/team mix (the
    common case, computed in one call per period), else ``None``."""
    plan = net.reward_plan
    if len(plan) == 1 and bool(np.all(plan[0].alphas == plan[0].alphas[0])):
        return REWARD_SCHEMES.get(plan[0].scheme), dict(plan[0].weights), float(plan[0].alphas[0])
    return None


def compute_rewards(
    net: Network,
    ledger: Ledger,
    scheme: str | None = None,
    alpha: float | None = None,
    weights: Mapping[str, float] | None = None,
) -> F64:
    """``(B, N)`` rewards.

    With ``scheme`` given: that scheme for every agent, mixed with ``alpha`` (default 1). Without it:
    the scenario's reward settings, per role and per agent. Each agent's team term is the team mean of
    *its own* scheme (so mixed schemes never average incomparable units):
    ``r_i = alpha_i * own_i + (1 - alpha_i) * mean_j own_j``, both under agent i's scheme.

    A ledger with a product axis (``nodes (B, K, P, N)``) is summed into node totals first
    (:func:`~invmgmt_marl.sim.ledger.node_totals`): the node agents' rewards.
    """
    if ledger.nodes.ndim == 4:
        ledger = node_totals(ledger)
    if scheme is not None:
        return mix(REWARD_SCHEMES.get(scheme)(net, ledger, weights or {}), 1.0 if alpha is None else alpha)
    try:
        uniform = _UNIFORM[net]
    except KeyError:
        uniform = _UNIFORM[net] = uniform_reward(net)
    if uniform is not None:
        fn, w, alpha = uniform
        return mix(fn(net, ledger, w), alpha)
    plan = net.reward_plan
    out = np.empty((ledger.nodes.shape[0], net.n_nodes))
    for g in plan:
        own = REWARD_SCHEMES.get(g.scheme)(net, ledger, dict(g.weights))  # (B, N): this scheme for everyone
        out[:, g.agents] = g.alphas * own[:, g.agents] + (1.0 - g.alphas) * own.mean(axis=1, keepdims=True)
    return out


_UNIFORM: weakref.WeakKeyDictionary[Network, tuple[RewardScheme, dict[str, float], float] | None] = (
    weakref.WeakKeyDictionary()
)
