"""The native SB3 VecEnv and the RLlib adapter on a product network (sku50_1w), with node agents and
with SKU agents (``agents="node_product"``): they step like the ParallelEnv."""

from __future__ import annotations

from importlib.util import find_spec
from typing import Any

import numpy as np
import pytest

from invmgmt_marl.env import InventoryParallelEnv

PERIODS = 4


def _parallel_copies(agents: str, n: int, seed: int) -> tuple[list[InventoryParallelEnv], list[Any]]:
    envs = [
        InventoryParallelEnv("sku50_1w", agents=agents, shared_spaces=True, periods=PERIODS) for _ in range(n)
    ]
    return envs, [env.reset(seed=seed + b)[0] for b, env in enumerate(envs)]


@pytest.mark.parametrize("agents", ["node", "node_product"])
def test_native_vec_env_equals_parallel_env_copies(agents: str) -> None:
    """Slot ``b * A + i`` of the VecEnv is agent ``i`` of the ParallelEnv seeded ``seed + b``: the same
    observations and rewards for the same actions, across an episode end (auto-reset)."""
    pytest.importorskip("stable_baselines3", reason="extra 'sb3' not installed")
    from invmgmt_marl.adapters.sb3 import NativeVecEnv

    n, seed = 2, 5
    vec = NativeVecEnv("sku50_1w", num_episodes=n, seed=seed, agents=agents, periods=PERIODS)
    envs, obs = _parallel_copies(agents, n, seed)
    names = envs[0].possible_agents
    a_cnt = len(names)
    assert a_cnt == (50 if agents == "node_product" else 1)
    assert vec.num_envs == n * a_cnt
    assert vec.observation_space == envs[0].observation_space(names[0])
    assert vec.action_space == envs[0].action_space(names[0])
    o = vec.reset()
    want = np.stack([ob[a] for ob in obs for a in names])
    np.testing.assert_array_equal(o, want)
    rng = np.random.default_rng(0)
    for t in range(PERIODS + 2):
        acts = rng.uniform(0, vec.action_space.high, size=(vec.num_envs, *vec.action_space.shape)).astype(
            np.float32
        )
        o, r, d, infos = vec.step(acts)
        want_o, want_r = [], []
        for b, env in enumerate(envs):
            step_obs, rew, _, trunc, _ = env.step({a: acts[b * a_cnt + i] for i, a in enumerate(names)})
            if all(trunc.values()):  # the VecEnv reports the terminal observation and restarts
                term = np.stack([infos[b * a_cnt + i]["terminal_observation"] for i in range(a_cnt)])
                np.testing.assert_allclose(term, np.stack([step_obs[a] for a in names]), rtol=1e-6)
                step_obs, _ = env.reset()
            want_o += [step_obs[a] for a in names]
            want_r += [rew[a] for a in names]
        assert d.all() == (t == PERIODS - 1)
        # equal up to float32 rounding: the VecEnv runs both episodes as one batch of the simulator
        np.testing.assert_allclose(o, np.stack(want_o), rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(r, np.array(want_r, dtype=np.float32), rtol=1e-6)


@pytest.mark.parametrize("agents", ["node", "node_product"])
def test_rllib_wrapper_steps_like_the_parallel_env(agents: str) -> None:
    if find_spec("ray") is None:
        pytest.skip("extra 'rllib' not installed")
    pytest.importorskip("ray.rllib", reason="extra 'rllib' not installed")
    from invmgmt_marl.adapters.rllib import _make_env, policy_groups

    config = {"scenario": "sku50_1w", "agents": agents, "shared_spaces": True, "periods": PERIODS}
    wrapped = _make_env(config)
    plain = InventoryParallelEnv(**config)
    o1, _ = wrapped.reset(seed=3)
    o2, _ = plain.reset(seed=3)
    assert set(o1) == set(plain.possible_agents)
    for a in plain.possible_agents:
        np.testing.assert_array_equal(o1[a], o2[a])
    rng = np.random.default_rng(0)
    space = plain.action_space(plain.possible_agents[0])
    for t in range(PERIODS):
        acts = {a: rng.uniform(0, space.high).astype(np.float32) for a in plain.possible_agents}  # type: ignore[attr-defined]
        _, r1, _, tr1, _ = wrapped.step(acts)
        _, r2, _, _, _ = plain.step(acts)
        assert r1 == r2
        assert tr1["__all__"] == (t == PERIODS - 1)
    # one shared module for every SKU agent; per role: the 50 SKU agents of the store share one
    groups = policy_groups(plain, "shared")
    assert groups == {"shared": list(plain.possible_agents)}
    per_role = policy_groups(plain, "per_role")
    assert per_role == {"store": list(plain.possible_agents)}


@pytest.mark.slow  # Ray start-up, then one PPO iteration over 50 SKU agents: ~10 s of CPU
def test_ppo_trains_one_iteration_with_sku_agents(monkeypatch: pytest.MonkeyPatch) -> None:
    if find_spec("ray") is None:
        pytest.skip("extra 'rllib' not installed")
    pytest.importorskip("ray.rllib", reason="extra 'rllib' not installed")
    import ray

    from invmgmt_marl.adapters.rllib import ppo_config

    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    try:
        config = ppo_config(
            "sku50_1w",
            policies="shared",
            agents="node_product",
            periods=PERIODS,
            train_batch_size=20,
            minibatch_size=20,
            num_epochs=1,
        )
        algo = config.build_algo()
        try:
            result = algo.train()
            assert "shared" in result["learners"]
            assert result["env_runners"]["num_agent_steps_sampled_lifetime"]["store_0__sku0"] > 0
        finally:
            algo.stop()
    finally:
        if started:
            ray.shutdown()
