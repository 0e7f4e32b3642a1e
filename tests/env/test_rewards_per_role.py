"""Per-role and per-agent reward settings (each agent's team term uses its own scheme)."""

from __future__ import annotations

import numpy as np
import pytest

import invmgmt_marl
from invmgmt_marl.compile import compile_network
from invmgmt_marl.errors import ScenarioError
from invmgmt_marl.rewards import REWARD_SCHEMES, compute_rewards

W = {"service_level": 10.0, "holding_cost": 0.01, "stockout_cost": 0.1}
SPEC = {
    "scheme": "cost",
    "alpha": 0.5,
    "roles": {"store": {"scheme": "reconciliation", "weights": W, "alpha": 1.0}},
    "agents": {"supplier_0": {"alpha": 0.0}},
}


def test_resolution_order() -> None:
    sc = invmgmt_marl.load_scenario("serial", reward_spec=SPEC)
    r = sc.reward
    assert r.resolve("store_0", "store") == ("reconciliation", 1.0, W)
    assert r.resolve("warehouse_0", "warehouse") == ("cost", 0.5, {})
    assert r.resolve("supplier_0", "supplier") == ("cost", 0.0, {})  # the agent setting wins


def test_mixed_rewards_equal_hand_formula() -> None:
    env = invmgmt_marl.parallel_env("serial", reward_spec=SPEC)
    env.reset(seed=3)
    rng = np.random.default_rng(0)
    for _ in range(15):
        _, rew, _, _, _ = env.step({a: rng.uniform(0, 20, 1).astype(np.float32) for a in env.agents})
        led = env.last_ledger
        recon = REWARD_SCHEMES["reconciliation"](env.net, led, W)[0]
        cost = REWARD_SCHEMES["cost"](env.net, led, {})[0]
        # store: alpha 1 on reconciliation; warehouse: 0.5 own cost + 0.5 team mean cost;
        # supplier: team mean cost
        assert rew["store_0"] == pytest.approx(recon[0], rel=1e-12)
        assert rew["warehouse_0"] == pytest.approx(0.5 * cost[1] + 0.5 * cost.mean(), rel=1e-12)
        assert rew["supplier_0"] == pytest.approx(cost.mean(), rel=1e-12)
        np.testing.assert_allclose(compute_rewards(env.net, led)[0], [rew[a] for a in env.possible_agents])


def test_uniform_settings_match_the_explicit_scheme() -> None:
    sc = invmgmt_marl.load_scenario("hmarl")
    net = compile_network(sc)  # reconciliation for everyone, in the YAML
    from invmgmt_marl.policies import make_policy
    from invmgmt_marl.rollout import rollout

    traj = rollout(net, make_policy("base_stock", net), episodes=2, seed=1)
    assert traj.rewards.shape == (90, 2, 5)
    r = sc.reward
    assert r.scheme == "reconciliation" and not r.roles and not r.agents


@pytest.mark.parametrize(
    "spec,field",
    [
        ({"scheme": "cost", "roles": {"depot": {"alpha": 0.5}}}, "roles"),
        ({"scheme": "cost", "agents": {"store_7": {"alpha": 0.5}}}, "reward.agents"),
        ({"scheme": "cost", "roles": {"store": {"scheme": "nope"}}}, "roles.store.scheme"),
        ({"scheme": "cost", "roles": {"store": {"weights": {"service_level": 1}}}}, "roles.store.weights"),
        (
            {"scheme": "reconciliation", "roles": {"store": {"weights": {"service_level": -1}}}},
            "roles.store.weights",
        ),
        ({"scheme": "cost", "roles": {"store": {"alpha": 2}}}, "alpha"),
    ],
)
def test_invalid_per_role_settings(spec: dict, field: str) -> None:
    with pytest.raises(ScenarioError) as info:
        invmgmt_marl.load_scenario("serial", reward_spec=spec)
    assert field in str(info.value), str(info.value)
