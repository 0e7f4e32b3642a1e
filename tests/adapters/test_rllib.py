"""RLlib (new API stack): env wrapper rewards, the three policy layouts, checkpoints."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np
import pytest

# ray.rllib itself (about 2 s to import) is imported by the tests that use it, not at collection
if find_spec("ray") is None:
    pytest.skip("extra 'rllib' not installed", allow_module_level=True)
torch = pytest.importorskip("torch", reason="extra 'rllib' not installed")
RLLIB_MISSING = "extra 'rllib' not installed"

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


def _snapshots(env: InventoryParallelEnv, seed: int, at: tuple[int, ...]) -> list[tuple[dict[str, Any], Any]]:
    """``(observations, SimState)`` of one seeded episode after ``at`` steps of random box actions."""
    obs, _ = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    out = []
    for t in range(max(at) + 1):
        if t in at:
            out.append((obs, env._sim_state))
        acts = {a: rng.uniform(0, env.action_space(a).high).astype(np.float32) for a in env.agents}
        obs, *_ = env.step(acts)
    return out


def _mean_action_orders(
    get_module: Any, groups: dict[str, list[str]], env: InventoryParallelEnv, obs: dict[str, Any]
) -> np.ndarray:
    """``(1, E)`` orders the deterministic policy must give, computed apart from the policy wrapper.

    Per agent: its module's forward pass on the env's own observation; the action distribution is
    a diagonal Gaussian whose inputs are ``[mean, log_std]``, so the deterministic action is the first
    half; RLlib's Box normalisation maps [-1, 1] linearly onto [low, high] (then clipped); the env's
    action codec turns the actions into edge orders.
    """
    actions = {}
    for gid, members in groups.items():
        for a in members:
            with torch.no_grad():
                out = get_module(gid).forward_inference({"obs": torch.as_tensor(obs[a][None])})
            inputs = out["action_dist_inputs"].numpy()[0]
            space = env.action_space(a)
            assert inputs.shape == (2 * space.shape[0],)  # a diagonal Gaussian over the Box
            mean = inputs[: space.shape[0]].astype(np.float64)
            unsquashed = space.low + (mean + 1.0) * (space.high - space.low) / 2.0
            actions[a] = np.clip(unsquashed, space.low, space.high)
    orders, _ = env.interface.decode(actions, list(env.possible_agents))
    return orders


@pytest.fixture(scope="module")
def ray_session() -> Iterator[Any]:
    pytest.importorskip("ray.rllib", reason=RLLIB_MISSING)
    import ray

    threads = torch.get_num_threads()
    with pytest.MonkeyPatch.context() as mp:  # the variable is restored when the module's tests end
        mp.setenv("RAY_AUTH_MODE", "disabled")
        torch.set_num_threads(1)
        started = not ray.is_initialized()
        if started:
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        try:
            yield ray
        finally:
            if started:
                ray.shutdown()
            torch.set_num_threads(threads)


def test_wrapped_env_steps_like_the_parallel_env() -> None:
    pytest.importorskip("ray.rllib", reason=RLLIB_MISSING)
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


@pytest.mark.slow  # with the Ray start-up of the module: 2-5 s each
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


@pytest.mark.slow  # trains, saves and restores an algorithm: 2-4 s
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
        # expected orders of the deterministic policy at a few states of a seeded episode
        snaps = _snapshots(InventoryParallelEnv(**config.env_config), seed=5, at=(0, 3, 11))
        expected = [_mean_action_orders(algo.get_module, groups, env, o) for o, _ in snaps]
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
    again = load_rllib_policy(ckpt)
    for (_, state), want in zip(snaps, expected, strict=True):
        orders = policy(env.net, state, np.random.default_rng(0))
        assert orders.shape == (1, env.net.n_edges)
        np.testing.assert_allclose(orders, want, rtol=1e-6, atol=1e-6)
        np.testing.assert_array_equal(again(env.net, state, np.random.default_rng(1)), orders)
    # the snapshots are different states with different orders (the comparison is not of constants)
    assert not np.allclose(expected[0], expected[-1])


@pytest.mark.slow  # trains and saves an algorithm, then Ray shuts down: 2-3 s
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
        groups = policy_groups(env, "shared")
        save_metadata(ckpt, config.env_config, groups)
        snaps = _snapshots(InventoryParallelEnv(**config.env_config), seed=2, at=(0, 7))
        expected = [_mean_action_orders(algo.get_module, groups, env, o) for o, _ in snaps]
    finally:
        algo.stop()
    policy = load_rllib_policy(ckpt)
    for (_, state), want in zip(snaps, expected, strict=True):
        orders = policy(env.net, state, np.random.default_rng(0))
        np.testing.assert_allclose(orders, want, rtol=1e-6, atol=1e-6)
