"""The SuperSuit path and the native batched VecEnv: equal step by step, seeding, truncation."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("stable_baselines3", reason="extra 'sb3' not installed")
pytest.importorskip("supersuit", reason="extra 'sb3' not installed")

from invmgmt_marl.adapters.sb3 import NativeVecEnv  # noqa: E402
from invmgmt_marl.adapters.supersuit import make_sb3_vec_env  # noqa: E402
from invmgmt_marl.env import InventoryParallelEnv  # noqa: E402

warnings.filterwarnings("ignore", message=".*render_mode.*")


@pytest.mark.parametrize("action_type", ["box", "discrete", "multidiscrete"])
@pytest.mark.parametrize("scenario", ["serial", "net_2x3", "hmarl"])
def test_native_equals_supersuit_step_by_step(scenario: str, action_type: str) -> None:
    periods = 12
    ss = make_sb3_vec_env(scenario, num_envs=3, seed=11, action_type=action_type, periods=periods)
    nat = NativeVecEnv(scenario, num_episodes=3, seed=11, action_type=action_type, periods=periods)
    assert ss.num_envs == nat.num_envs == 3 * len(InventoryParallelEnv(scenario).possible_agents)
    assert ss.observation_space == nat.observation_space and ss.action_space == nat.action_space
    np.testing.assert_array_equal(ss.reset(), nat.reset())
    rng = np.random.default_rng(0)
    ends = 0
    for _ in range(2 * periods + 3):  # crosses two episode ends (auto-reset)
        if action_type == "discrete":
            acts = rng.integers(0, nat.action_space.n, size=nat.num_envs)
        elif action_type == "multidiscrete":
            acts = rng.integers(0, nat.action_space.nvec, size=(nat.num_envs, len(nat.action_space.nvec)))
        else:
            acts = rng.uniform(-2, 1.5 * nat.action_space.high, size=(nat.num_envs, *nat.action_space.shape))
        o1, r1, d1, i1 = ss.step(acts)
        o2, r2, d2, i2 = nat.step(acts)
        np.testing.assert_array_equal(o1, o2)
        np.testing.assert_array_equal(np.asarray(r1, dtype=np.float32), r2)
        np.testing.assert_array_equal(d1, d2)
        if d2.any():
            ends += 1
            assert all(x["TimeLimit.truncated"] for x in i1) and all(x["TimeLimit.truncated"] for x in i2)
            np.testing.assert_array_equal(
                np.stack([x["terminal_observation"] for x in i1]),
                np.stack([x["terminal_observation"] for x in i2]),
            )
        else:
            assert not any(x.get("TimeLimit.truncated") for x in i1 + i2)
    assert ends == 2


def test_native_rewards_equal_the_parallel_env() -> None:
    """Slot b*N + i of the native env is agent i of a ParallelEnv seeded seed + b."""
    nat = NativeVecEnv("net_2x3", num_episodes=2, seed=5, periods=6)
    envs = [InventoryParallelEnv("net_2x3", shared_spaces=True, periods=6) for _ in range(2)]
    obs = nat.reset()
    for b, env in enumerate(envs):
        o, _ = env.reset(seed=5 + b)
        np.testing.assert_array_equal(obs[b * 6 : (b + 1) * 6], np.stack([o[a] for a in env.possible_agents]))
    rng = np.random.default_rng(1)
    for _ in range(5):
        acts = rng.uniform(0, 4, size=(nat.num_envs, 2)).astype(np.float32)
        _, rew, _, _ = nat.step(acts)
        for b, env in enumerate(envs):
            _, r, _, _, _ = env.step({a: acts[b * 6 + i] for i, a in enumerate(env.possible_agents)})
            np.testing.assert_allclose(
                rew[b * 6 : (b + 1) * 6], [r[a] for a in env.possible_agents], rtol=1e-6
            )


def test_seed_through_ppo_and_vec_env_seed() -> None:
    """PPO(seed=...) calls vec_env.seed(): it must work and make the first reset reproducible."""
    from stable_baselines3 import PPO

    for make in (
        lambda: make_sb3_vec_env("serial", num_envs=2, periods=8),
        lambda: NativeVecEnv("serial", 2, periods=8),
    ):
        a, b = make(), make()
        PPO("MlpPolicy", a, seed=3, n_steps=8, batch_size=8, device="cpu")
        PPO("MlpPolicy", b, seed=3, n_steps=8, batch_size=8, device="cpu")
        np.testing.assert_array_equal(a.reset(), b.reset())  # seeds were consumed by PPO's reset
        a.seed(9)
        b.seed(10)
        assert not np.array_equal(_demand_signature(a), _demand_signature(b))


def _demand_signature(venv: object) -> np.ndarray:
    venv.reset()  # type: ignore[attr-defined]
    acts = np.zeros((venv.num_envs, 1), dtype=np.float32)  # type: ignore[attr-defined]
    obs = [venv.step(acts)[0] for _ in range(3)]  # type: ignore[attr-defined]
    return np.stack(obs)


def test_normalized_actions_map_to_order_bounds() -> None:
    nat = NativeVecEnv("serial", num_episodes=1, seed=0, normalize_actions=True, periods=3)
    assert float(nat.action_space.low[0]) == -1.0 and float(nat.action_space.high[0]) == 1.0
    nat.reset()
    nat.step(np.array([[-1.0], [0.0], [1.0]], dtype=np.float32))
    ordered = nat._state.last_orders[0]  # edges: warehouse->store, supplier->warehouse, external->supplier
    np.testing.assert_array_equal(ordered, [0.0, 10.0, 20.0])
    with pytest.raises(ValueError, match="normalize_actions"):
        NativeVecEnv("serial", num_episodes=1, action_type="discrete", normalize_actions=True)
