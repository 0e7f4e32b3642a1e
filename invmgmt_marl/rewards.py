"""Reward schemes: functions of the period ledger, registered by name.

Each scheme maps ``(net, ledger, weights) -> (B, N)`` *own* rewards; :func:`compute_rewards` then mixes
own and team: ``alpha * own + (1 - alpha) * mean over agents``.

- ``cost``: minus the sum of the seven cost fields (ordering, fixed, transit holding, holding, backlog,
  lost sales, waste).
- ``profit``: ``revenue`` minus the same costs.
- ``reconciliation``: ``w_sl * service_level - w_h * (holding + transit holding + waste cost)
  - w_s * (backlog_cost + lost_sales_cost) - w_o * (ordering_cost + fixed_cost) + w_r * revenue``,
  weights from the scenario's ``reward.weights``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
from numpy.typing import NDArray

from invmgmt_marl.sim.ledger import Ledger
from invmgmt_marl.sim.network import Network

__all__ = [
    "REWARD_SCHEMES",
    "RECONCILIATION_WEIGHTS",
    "register_reward_scheme",
    "compute_rewards",
    "mix",
    "reward_plan",
]

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
        - w["holding_cost"] * (ledger.holding_cost + ledger.transit_holding_cost + ledger.waste_cost)
        - w["stockout_cost"] * (ledger.backlog_cost + ledger.lost_sales_cost)
        - w["ordering_cost"] * (ledger.ordering_cost + ledger.fixed_cost)
        + w["revenue"] * ledger.revenue
    )


def mix(own: F64, alpha: float | F64) -> F64:
    """``alpha * own + (1 - alpha) * team_mean`` over the agent axis of ``(B, N)``.

    ``alpha`` is a scalar or ``(N,)``.
    """
    if np.isscalar(alpha) and alpha == 1.0:
        return own
    return alpha * own + (1.0 - alpha) * own.mean(axis=1, keepdims=True)


def reward_plan(net: Network) -> list[tuple[str, dict[str, float], NDArray[np.int64], F64]]:
    """Group agents by effective ``(scheme, weights)``: ``[(scheme, weights, agent indices, alphas)]``."""
    spec = net.scenario.reward
    groups: dict[tuple[str, tuple[tuple[str, float], ...]], list[tuple[int, float]]] = {}
    for i, (agent, role) in enumerate(zip(net.agents, net.roles, strict=True)):
        scheme, alpha, weights = spec.resolve(agent, role)
        groups.setdefault((scheme, tuple(sorted(weights.items()))), []).append((i, alpha))
    return [
        (scheme, dict(w), np.array([i for i, _ in members]), np.array([a for _, a in members]))
        for (scheme, w), members in groups.items()
    ]


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
    """
    if scheme is not None:
        return mix(REWARD_SCHEMES[scheme](net, ledger, weights or {}), 1.0 if alpha is None else alpha)
    cached = _PLANS.get(id(net))
    if cached is None or cached[0] is not net:
        plan = reward_plan(net)
        uniform = len(plan) == 1 and bool(np.all(plan[0][3] == plan[0][3][0]))
        cached = _PLANS[id(net)] = (net, plan, float(plan[0][3][0]) if uniform else None)
    _, groups, uniform_alpha = cached
    if uniform_alpha is not None:  # one scheme and one alpha for everyone: the common case
        scheme_name, w, _, _ = groups[0]
        return mix(REWARD_SCHEMES[scheme_name](net, ledger, w), uniform_alpha)
    out = np.empty((ledger.nodes.shape[0], net.n_nodes))
    for scheme_name, w, idx, alphas in groups:
        own = REWARD_SCHEMES[scheme_name](net, ledger, w)  # (B, N): this scheme for everyone
        out[:, idx] = alphas * own[:, idx] + (1.0 - alphas) * own.mean(axis=1, keepdims=True)
    return out


_PLANS: dict[
    int, tuple[Network, list[tuple[str, dict[str, float], NDArray[np.int64], F64]], float | None]
] = {}
