"""Training the hybrid planner's residual policy (SB3 PPO through SuperSuit): a two-iteration smoke run."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("stable_baselines3")
pytest.importorskip("supersuit")

from invmgmt_marl.demand import sample_network_demand  # noqa: E402
from invmgmt_marl.lotsizing.hybrid_train import hybrid_cost, train_hybrid  # noqa: E402
from invmgmt_marl.policies.rolling import RollingHorizonPolicy  # noqa: E402
from invmgmt_marl.rollout import rollout  # noqa: E402

PERIODS = 16


def planner() -> RollingHorizonPolicy:
    return RollingHorizonPolicy("wagner_whitin", horizon=6, integer=True)


def test_train_hybrid_two_iterations() -> None:
    res = train_hybrid(
        "lot_sizing",
        planner=planner(),
        iterations=2,
        steps_per_iteration=96,
        num_envs=1,
        seed=0,
        val_episodes=2,
        ppo={"n_epochs": 2, "batch_size": 32},
        periods=PERIODS,
    )
    env, net = res.env, res.env.net
    assert net.periods == PERIODS
    steps = [row["agent_steps"] for row in res.curve]
    assert [row["iteration"] for row in res.curve] == [0, 1, 2]
    assert steps[0] == 0 and steps[1] > 0 and steps[2] == 2 * steps[1]
    # the kept parameters are the best iteration's: re-scoring the validation paths reproduces its cost
    val = sample_network_demand(net, np.random.default_rng(10_000), 2, PERIODS)
    costs = [row["val_cost_per_agent_period"] for row in res.curve]
    assert res.curve[res.best_iteration]["val_cost_per_agent_period"] == min(costs)
    assert hybrid_cost(res.policy, env, val).mean() == pytest.approx(min(costs), rel=1e-12)
    # the trained policy's actions lie in the shared action space
    obs, _ = env.reset(seed=0)
    acts = res.model.predict(np.stack([obs[a] for a in env.possible_agents]), deterministic=True)[0]
    space = env.action_space(env.possible_agents[0])
    assert all(space.contains(a) for a in acts)
    # zero the residual head: the policy's mean action is 0, so it is the planner exactly
    head = res.model.policy.action_net
    head.weight.data.zero_()
    head.bias.data.zero_()
    test = sample_network_demand(net, np.random.default_rng(7), 3, PERIODS)
    planned = rollout(net, planner(), demand=test, seed=0).cost().sum(axis=1) / (net.n_nodes * PERIODS)
    np.testing.assert_allclose(hybrid_cost(res.policy, env, test), planned, rtol=1e-12)


def test_bad_budget() -> None:
    with pytest.raises(ValueError, match="iterations"):
        train_hybrid("lot_sizing", iterations=-1)
    with pytest.raises(ValueError, match="num_envs"):
        train_hybrid("lot_sizing", num_envs=0)
