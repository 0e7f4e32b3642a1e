"""Reward schemes as functions of the ledger, alpha mixing, and the reward override keywords."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import invmgmt_marl
from invmgmt_marl import ScenarioError
from invmgmt_marl.rewards import RECONCILIATION_WEIGHTS, compute_rewards
from invmgmt_marl.sim import COST_FIELDS
from invmgmt_marl.sim.ledger import node_totals

COSTS = (
    "ordering_cost",
    "fixed_cost",
    "transit_holding_cost",
    "holding_cost",
    "backlog_cost",
    "lost_sales_cost",
    "waste_cost",
)


def _episode(env: Any, seed: int = 4, steps: int = 40) -> list[tuple[dict[str, float], dict[str, dict], Any]]:
    """``[(rewards, infos, ledger)]`` of a random-action episode."""
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(min(steps, env.scenario.periods)):
        acts = {
            a: (rng.uniform(0, 1, env.action_space(a).shape) * env.action_space(a).high).astype(np.float32)
            for a in env.agents
        }
        _, rew, _, _, infos = env.step(acts)
        out.append((rew, infos, env.last_ledger))
    return out


def test_cost_fields() -> None:
    assert tuple(COST_FIELDS) == COSTS


def test_cost_scheme_is_minus_total_cost(scenario_name: str) -> None:
    env = invmgmt_marl.parallel_env(scenario_name, reward="cost", alpha=1.0, reward_weights={})
    for rew, infos, led in _episode(env):
        for a, info in infos.items():
            assert rew[a] == pytest.approx(-sum(info[c] for c in COSTS), rel=1e-12, abs=1e-12)
            assert all(info[c] >= 0 for c in COSTS)
        if env.net.product_axis:  # node agents: the node totals over products
            led = node_totals(led)
        np.testing.assert_allclose([rew[a] for a in env.possible_agents], -led.total_cost[0], rtol=1e-12)


def test_profit_scheme_is_revenue_minus_cost(scenario_name: str) -> None:
    env = invmgmt_marl.parallel_env(scenario_name, reward="profit", reward_weights={})
    for rew, infos, _ in _episode(env):
        for a, info in infos.items():
            assert rew[a] == pytest.approx(info["revenue"] - sum(info[c] for c in COSTS), rel=1e-12, abs=1e-9)


def test_profit_transfers_cancel_over_the_team() -> None:
    """Internal ordering costs are the suppliers' transfer revenue: the team's profit is sales minus
    holding, backlog, lost-sales and fixed costs minus what the external source was paid."""
    env = invmgmt_marl.parallel_env("hmarl", reward="profit", reward_weights={})
    net = env.net
    for rew, _, led in _episode(env):
        external_cost = (led.edge_shipped[0] * net.unit_cost)[net.external_edges].sum()
        team = (
            (led.sold[0] * net.price).sum()
            - led.holding_cost.sum()
            - led.backlog_cost.sum()
            - led.lost_sales_cost.sum()
            - led.fixed_cost.sum()
            - external_cost
        )
        assert sum(rew.values()) == pytest.approx(team, rel=1e-9, abs=1e-6)


def _reconciliation(info: dict[str, float], w: dict[str, float]) -> float:
    w = {**RECONCILIATION_WEIGHTS, **w}
    return (
        w["service_level"] * info["service_level"]
        - w["holding_cost"] * info["holding_cost"]
        - w["stockout_cost"] * (info["backlog_cost"] + info["lost_sales_cost"])
        - w["ordering_cost"] * (info["ordering_cost"] + info["fixed_cost"])
        + w["revenue"] * info["revenue"]
    )


def test_reconciliation_with_the_hmarl_weights() -> None:
    env = invmgmt_marl.parallel_env("hmarl")
    assert env.scenario.reward.scheme == "reconciliation"
    w = dict(env.scenario.reward.weights)
    assert w == {"service_level": 10, "holding_cost": 0.01, "stockout_cost": 0.1}
    for rew, infos, _ in _episode(env, steps=90):
        for a, info in infos.items():
            assert rew[a] == pytest.approx(_reconciliation(info, w), rel=1e-12, abs=1e-12)
            assert 0 <= info["service_level"] <= 1


@pytest.mark.parametrize(
    "weights",
    [
        {},
        {"service_level": 1.0},
        {"ordering_cost": 0.5, "revenue": 0.2},
        dict.fromkeys(RECONCILIATION_WEIGHTS, 2.0),
    ],
    ids=["defaults", "sl", "ordering-revenue", "all"],
)
def test_reconciliation_weights_override(weights: dict[str, float]) -> None:
    env = invmgmt_marl.parallel_env("serial", reward="reconciliation", reward_weights=weights)
    assert dict(env.scenario.reward.weights) == weights
    for rew, infos, _ in _episode(env):
        for a, info in infos.items():
            assert rew[a] == pytest.approx(_reconciliation(info, weights), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("scheme", ["cost", "profit", "reconciliation"])
@pytest.mark.parametrize("alpha", [0.0, 0.3, 0.75])
def test_alpha_mixes_own_and_team_mean(scheme: str, alpha: float) -> None:
    own_env = invmgmt_marl.parallel_env("net_2x3", reward=scheme, alpha=1.0)
    mix_env = invmgmt_marl.parallel_env("net_2x3", reward=scheme, alpha=alpha)
    assert mix_env.scenario.reward.alpha == alpha
    for (own, *_), (mixed, *_) in zip(_episode(own_env), _episode(mix_env), strict=True):
        o = np.array([own[a] for a in own_env.possible_agents])
        m = np.array([mixed[a] for a in own_env.possible_agents])
        np.testing.assert_allclose(m, alpha * o + (1 - alpha) * o.mean(), rtol=1e-12, atol=1e-12)
        if alpha == 0.0:
            assert np.ptp(m) == pytest.approx(0.0, abs=1e-12)  # everyone gets the team mean


def test_compute_rewards_matches_env(scenario_name: str) -> None:
    env = invmgmt_marl.parallel_env(scenario_name, alpha=0.5)
    for rew, _, led in _episode(env, steps=5):
        r = compute_rewards(env.net, led, env.scenario.reward.scheme, 0.5, env.scenario.reward.weights)
        np.testing.assert_array_equal(r[0], [rew[a] for a in env.possible_agents])


def test_reward_override_keyword() -> None:
    cost = invmgmt_marl.parallel_env("serial")
    profit = invmgmt_marl.parallel_env("serial", reward="profit")
    assert cost.scenario.reward.scheme == "cost"
    assert profit.scenario.reward.scheme == "profit"
    rc = _episode(cost)
    rp = _episode(profit)
    # serial: no prices, so profit = transfer revenue - cost; the warehouse sells to the store
    diffs = [rp[t][0]["warehouse_0"] - rc[t][0]["warehouse_0"] for t in range(len(rc))]
    revenue = [rc[t][1]["warehouse_0"]["revenue"] for t in range(len(rc))]
    np.testing.assert_allclose(diffs, revenue)
    with pytest.raises(ScenarioError, match="bogus"):
        invmgmt_marl.parallel_env("serial", reward="bogus")
    with pytest.raises(ScenarioError, match="alpha"):
        invmgmt_marl.parallel_env("serial", alpha=2.0)


def test_reward_override_on_a_reconciliation_scenario() -> None:
    """Switching hmarl (reconciliation with weights) to another scheme drops the weights (regression:
    this used to raise 'weights: only the reconciliation scheme takes weights')."""
    env = invmgmt_marl.parallel_env("hmarl", reward="cost")
    assert env.scenario.reward.scheme == "cost"
    assert dict(env.scenario.reward.weights) == {}
    for rew, infos, _ in _episode(env, steps=5):
        for a, info in infos.items():
            assert rew[a] == pytest.approx(-sum(info[c] for c in COSTS), rel=1e-12, abs=1e-12)
    # explicit weights with a non-reconciliation scheme are still an error
    with pytest.raises(ScenarioError, match="weights"):
        invmgmt_marl.parallel_env("hmarl", reward="cost", reward_weights={"service_level": 1.0})
    # and keeping reconciliation keeps them
    assert dict(invmgmt_marl.parallel_env("hmarl", alpha=0.5).scenario.reward.weights)["service_level"] == 10
