"""Reward schemes: functions of the period ledger, registered by name.

Each scheme maps ``(net, ledger, weights) -> (B, N)`` *own* rewards; :func:`compute_rewards` then mixes
own and team: ``alpha * own + (1 - alpha) * mean over agents``.

- ``cost``: minus the sum of the seven cost fields (ordering, fixed, transit holding, holding, backlog,
  lost sales, waste).
- ``profit``: ``revenue`` (plus ``salvage`` of liquidated units) minus the same costs.
- ``retail_step``: the OpenEnv retail store's per-step reward (issue 14; docs/retail.md):
  ``0.001 x revenue - 0.001 x missed x list price - 0.05 x expired - 0.5 x rejected order lines
  - 0.001 x liquidated x unit cost``, per product row (``RewardScheme.per_product``).
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
    "RETAIL_STEP_WEIGHTS",
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
    #: the scheme needs every product's own ledger row (``(B, P, N)`` in, ``(B, P, N)`` out): node
    #: agents of a product network then get its sum over products instead of the scheme on node totals
    per_product: bool = False

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


#: default weights of the retail_step scheme (the OpenEnv retail store's per-step reward, issue 14)
RETAIL_STEP_WEIGHTS: dict[str, float] = {
    "sales": 0.001,
    "missed": 0.001,
    "expired": 0.05,
    "rejected": 0.5,
    "liquidated": 0.001,
}


def liquidation_value(net: Network) -> F64:
    """``(P, N)`` (``(N,)`` without products) value of one liquidated unit in the ``retail_step``
    reward: the unit cost of the node's cheapest inbound order line (for the retail scenarios the
    product's cost plus the slow mode's shipping, e.g. 100 + 2 for electronics); 0 at nodes
    without inbound edges."""
    cost = np.asarray(net.unit_cost, dtype=np.float64)  # (P, E) or (E,)
    out = np.zeros((*cost.shape[:-1], net.n_nodes))
    for n in range(net.n_nodes):
        inbound = np.flatnonzero(np.asarray(net.edge_dst) == n)
        if inbound.size:
            out[..., n] = cost[..., inbound].min(axis=-1)
    return out


_LIQ_VALUE: weakref.WeakKeyDictionary[Network, F64] = weakref.WeakKeyDictionary()


def _retail_step(net: Network, ledger: Ledger, weights: Mapping[str, float]) -> F64:
    """The OpenEnv retail store's per-step reward, per (node, product) row of the ledger:
    ``w_sales x revenue - w_missed x lost x list price - w_expired x expired
    - w_rejected x rejected_lines - w_liquidated x liquidated x liquidation_value``.

    ``revenue`` is sold x list price x the period's multiplier (the ledger's); missed sales are valued
    at the list price (the ledger does not carry the multiplier); ``rejected_lines`` counts order
    lines refused for want of cash.
    """
    w = {**RETAIL_STEP_WEIGHTS, **weights}
    try:
        value = _LIQ_VALUE[net]
    except KeyError:
        value = _LIQ_VALUE[net] = liquidation_value(net)
    price = np.asarray(net.price, dtype=np.float64)  # (P, N) or (N,)
    return (
        w["sales"] * ledger.revenue
        - w["missed"] * ledger.lost * price
        - w["expired"] * ledger.expired
        - w["rejected"] * ledger.rejected_lines
        - w["liquidated"] * ledger.liquidated * value
    )


# the built-ins, found by name through invmgmt_marl.registry.REWARD_SCHEMES
COST = RewardScheme(_cost)
PROFIT = RewardScheme(_profit)
RECONCILIATION = RewardScheme(_reconciliation, RECONCILIATION_WEIGHTS)
RETAIL_STEP = RewardScheme(_retail_step, RETAIL_STEP_WEIGHTS, per_product=True)


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
    (:func:`~invmgmt_marl.sim.ledger.node_totals`): the node agents' rewards; a scheme with
    ``per_product`` gets the per-product ledger and its rows are summed over products instead.
    """
    full = ledger
    if ledger.nodes.ndim == 4:
        ledger = node_totals(ledger)

    def apply(fn: RewardScheme, w: Mapping[str, float]) -> F64:  # (B, N)
        if getattr(fn, "per_product", False) and full.nodes.ndim == 4:  # per product row, then summed
            return fn(net, full, w).sum(axis=1)
        return fn(net, ledger, w)

    if scheme is not None:
        return mix(apply(REWARD_SCHEMES.get(scheme), weights or {}), 1.0 if alpha is None else alpha)
    try:
        uniform = _UNIFORM[net]
    except KeyError:
        uniform = _UNIFORM[net] = uniform_reward(net)
    if uniform is not None:
        fn, w, alpha = uniform
        return mix(apply(fn, w), alpha)
    plan = net.reward_plan
    out = np.empty((ledger.nodes.shape[0], net.n_nodes))
    for g in plan:
        own = apply(REWARD_SCHEMES.get(g.scheme), dict(g.weights))  # (B, N): this scheme for everyone
        out[:, g.agents] = g.alphas * own[:, g.agents] + (1.0 - g.alphas) * own.mean(axis=1, keepdims=True)
    return out


_UNIFORM: weakref.WeakKeyDictionary[Network, tuple[RewardScheme, dict[str, float], float] | None] = (
    weakref.WeakKeyDictionary()
)
