"""RLlib (new API stack): env wrapper rewards, the three policy layouts, checkpoints."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("ray.rllib", reason="extra 'rllib' not installed")
torch = pytest.importorskip("torch", reason="extra 'rllib' not installed")

from invmgmt_marl.adapters.rllib import (  # noqa: E402
    load_rllib_policy,
    policy_groups,
    ppo_config,
    register_env,
    save_metadata,
)
from invmgmt_marl.env import InventoryParallelEnv  # noqa: E402
from invmgmt_marl.sim import COST_FIELDS  # noqa: E402

SMALL = {"periods": 20, "train_batch_size": 200, "minibatch_size": 50, "num_epochs": 1}


@pytest.fixture(scope="module")
def ray_session() -> Any:
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    import ray

    torch.set_num_threads(1)
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    if started:
        ray.shutdown()


def test_wrapped_env_steps_like_the_parallel_env() -> None:
    from ray.rllib.env.wrappers.pettingzoo_env import ParallelPettingZooEnv

    wrapped = ParallelPettingZooEnv(InventoryParallelEnv("net_2x3", periods=5))
    plain = InventoryParallelEnv("net_2x3", periods=5)
    o1, _ = wrapped.reset(seed=3)
    o2, _ = plain.reset(seed=3)
    for a in plain.possible_agents:
        np.testing.assert_array_equal(o1[a], o2[a])
    rng = np.random.default_rng(0)
    for t in range(5):
        acts = {a: rng.uniform(0, 4, size=2).astype(np.float32) for a in plain.possible_agents}
        _, r1, te1, tr1, _ = wrapped.step(acts)
        _, r2, _, _, _ = plain.step(acts)
        assert r1 == r2
        assert tr1["__all__"] == (t == 4) and te1["__all__"] is False


@pytest.mark.parametrize(
    "layout,modules",
    [
        ("shared", {"shared"}),
        ("per_role", {"store", "warehouse", "supplier"}),
        ("per_agent", {"store_0", "store_1", "warehouse_0", "warehouse_1", "supplier_0", "supplier_1"}),
    ],
)
def test_layouts_build_and_train_one_iteration(ray_session: Any, layout: str, modules: set[str]) -> None:
    config = ppo_config("net_2x3", policies=layout, reward_scale=0.25, **SMALL)
    scale = config.env_config["reward_scale"]
    assert scale == 0.25
    algo = config.build_algo()
    try:
        result = algo.train()
        assert modules <= set(result["learners"]), result["learners"].keys()
        assert result["env_runners"]["num_env_steps_sampled_lifetime"] >= 200
        # the sampled per-agent batches carry the env's own rewards: -(sum of the agent's costs) x scale
        episodes = algo.env_runner.sample(num_timesteps=40, explore=True)
        checked = 0
        for ep in episodes:
            for sa in ep.agent_episodes.values():
                rewards = np.asarray(sa.get_rewards())
                infos = sa.get_infos()[1:]  # infos[0] is the reset info (or the chunk's first)
                expected = [-scale * sum(info[f] for f in COST_FIELDS) for info in infos]
                np.testing.assert_allclose(rewards, expected, rtol=1e-12)
                checked += len(rewards)
        assert checked >= 40
    finally:
        algo.stop()


def test_per_role_needs_equal_spaces_within_a_role() -> None:
    from invmgmt_marl.scenario import load_scenario, validate_scenario

    env = InventoryParallelEnv("hmarl")
    # hmarl's stores share spaces; make one store's order bound differ: the layout must refuse
    data = load_scenario("hmarl").to_dict()
    data["edges"][0]["max_order"] = 50
    odd = InventoryParallelEnv(validate_scenario(data))
    assert policy_groups(env, "per_role")["store"] == ["store_0", "store_1", "store_2"]
    with pytest.raises(ValueError, match="share module 'store'"):
        policy_groups(odd, "per_role")
    assert len(policy_groups(odd, "per_agent")) == 5


def test_checkpoint_restores_identical_actions(ray_session: Any, tmp_path: Path) -> None:
    from ray.rllib.algorithms.algorithm import Algorithm

    config = ppo_config("serial", policies="per_role", seed=4, **SMALL)
    algo = config.build_algo()
    try:
        algo.train()
        ckpt = tmp_path / "ckpt"
        algo.save_to_path(str(ckpt))
        env = InventoryParallelEnv(**config.env_config)
        groups = policy_groups(env, "per_role")
        save_metadata(ckpt, config.env_config, groups)
        obs = np.random.default_rng(0).uniform(0, 2, size=(16, env.observation_space("store_0").shape[0]))
        obs = obs.astype(np.float32)

        def act(module: Any) -> np.ndarray:
            with torch.no_grad():
                out = module.forward_inference({"obs": torch.as_tensor(obs)})
            return out["action_dist_inputs"].numpy()

        before = {gid: act(algo.get_module(gid)) for gid in groups}
    finally:
        algo.stop()
    register_env()
    restored = Algorithm.from_checkpoint(str(ckpt))
    try:
        for gid in groups:
            np.testing.assert_array_equal(act(restored.get_module(gid)), before[gid])
    finally:
        restored.stop()
    # the checkpoint as a deterministic policy over the batched simulator: the same orders twice,
    # and orders equal to the modules' deterministic (mean) actions, unsquashed and clipped
    policy = load_rllib_policy(ckpt)
    from invmgmt_marl.sim import initial_state

    state = initial_state(env.net, 3)
    orders1 = policy(env.net, state, np.random.default_rng(0))
    orders2 = load_rllib_policy(ckpt)(env.net, state, np.random.default_rng(1))
    np.testing.assert_array_equal(orders1, orders2)
    assert orders1.shape == (3, env.net.n_edges)
    assert np.all((orders1 >= 0) & (orders1 <= env.net.max_order))


def test_checkpoint_of_an_in_memory_scenario_loads(ray_session: Any, tmp_path: Path) -> None:
    """A Scenario object (not a name or path) survives save_metadata / load_rllib_policy."""
    from invmgmt_marl.scenario import load_scenario

    sc = load_scenario("serial", demand={"process": "poisson", "mean": 10}, periods=20)
    config = ppo_config(sc, policies="shared", **{k: v for k, v in SMALL.items() if k != "periods"})
    algo = config.build_algo()
    try:
        algo.train()
        ckpt = tmp_path / "ckpt"
        algo.save_to_path(str(ckpt))
        env = InventoryParallelEnv(**config.env_config)
        save_metadata(ckpt, config.env_config, policy_groups(env, "shared"))
    finally:
        algo.stop()
    policy = load_rllib_policy(ckpt)
    from invmgmt_marl.sim import initial_state

    orders = policy(env.net, initial_state(env.net, 2), np.random.default_rng(0))
    assert orders.shape == (2, env.net.n_edges)
