"""Full-episode determinism under seeding, and pickling mid-episode."""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pytest
import yaml
from pettingzoo.test import parallel_seed_test

import invmgmt_marl
from tests.helpers import REPO_ROOT, has_pricing, is_product_scenario


def _actions(env: Any, rng: np.random.Generator) -> dict[str, Any]:
    """Random in-bounds box actions from our own generator (independent of the env's spaces)."""
    return {
        a: (rng.uniform(0, 1, env.action_space(a).shape) * env.action_space(a).high).astype(np.float32)
        for a in env.agents
    }


def _assert_same_step(x: tuple[Any, ...], y: tuple[Any, ...], where: str) -> None:
    obs_x, rew_x, term_x, trunc_x, info_x = x
    obs_y, rew_y, term_y, trunc_y, info_y = y
    assert obs_x.keys() == obs_y.keys()
    for a in obs_x:
        np.testing.assert_array_equal(obs_x[a], obs_y[a], err_msg=f"obs {a} {where}")
    assert rew_x == rew_y, where
    assert term_x == term_y and trunc_x == trunc_y, where
    assert info_x == info_y, where


def _yaml_periods(name: str) -> int:
    """The episode length written in the scenario file, read without the package's loader."""
    path = REPO_ROOT / "scenarios" / f"{name}.yaml"
    if not path.exists():  # a scenario with products
        path = REPO_ROOT / "scenarios" / "products" / f"{name}.yaml"
    with open(path, encoding="utf-8") as fh:
        return int(yaml.safe_load(fh)["periods"])


def _episode(env: Any, seed: int) -> list[tuple[Any, ...]]:
    """Every (obs, rewards, terminations, truncations, infos) of one seeded episode, reset first, under
    the same action sequence (box actions drawn from a generator seeded 0, independent of ``seed``)."""
    obs, info = env.reset(seed=seed)
    steps: list[tuple[Any, ...]] = [(obs, {}, {}, {}, info)]
    rng = np.random.default_rng(0)
    while env.agents:
        steps.append(env.step(_actions(env, rng)))
    return steps


def test_full_episode_determinism(scenario_name: str) -> None:
    e1 = invmgmt_marl.parallel_env(scenario_name)
    e2 = invmgmt_marl.parallel_env(scenario_name)
    o1, i1 = e1.reset(seed=42)
    o2, i2 = e2.reset(seed=42)
    np.testing.assert_array_equal(e1.demand, e2.demand)
    _assert_same_step((o1, {}, {}, {}, i1), (o2, {}, {}, {}, i2), "reset")
    rng = np.random.default_rng(0)
    steps = 0
    while e1.agents or e2.agents:
        acts = _actions(e1, rng)
        _assert_same_step(e1.step(acts), e2.step(acts), f"t={steps}")
        np.testing.assert_array_equal(e1.state(), e2.state())
        steps += 1
    assert e1.agents == e2.agents == []
    # the two runs covered the whole episode: as many steps as the file says
    assert steps == _yaml_periods(scenario_name)


def test_different_seeds_give_different_trajectories(scenario_name: str) -> None:
    env = invmgmt_marl.parallel_env(scenario_name)
    other = invmgmt_marl.parallel_env(scenario_name)
    a, b = _episode(env, seed=42), _episode(other, seed=43)
    # every shipped scenario has stochastic demand: the two seeds draw different paths ...
    assert not np.array_equal(env.demand, other.demand)
    assert len(a) == len(b) == _yaml_periods(scenario_name) + 1
    # ... so, under the same actions, the trajectories differ: observations or rewards of some step
    differ = [
        t
        for t, (x, y) in enumerate(zip(a, b, strict=True))
        if x[1] != y[1] or any(not np.array_equal(x[0][k], y[0][k]) for k in x[0])
    ]
    assert differ, f"{scenario_name}: seeds 42 and 43 gave identical trajectories"


def test_different_seeds_give_different_demand(scenario_name: str) -> None:
    env = invmgmt_marl.parallel_env(scenario_name)
    paths = []
    for seed in (0, 1, 2):
        env.reset(seed=seed)
        paths.append(env.demand.copy())
    assert not np.array_equal(paths[0], paths[1])
    assert not np.array_equal(paths[1], paths[2])
    env.reset(seed=1)  # re-seeding restarts the generator
    np.testing.assert_array_equal(env.demand, paths[1])


def test_unseeded_resets_continue_the_seeded_stream() -> None:
    a = invmgmt_marl.parallel_env("serial")
    b = invmgmt_marl.parallel_env("serial")
    a.reset(seed=9)
    b.reset(seed=9)
    a.reset()
    b.reset()
    np.testing.assert_array_equal(a.demand, b.demand)  # same stream ...
    c = invmgmt_marl.parallel_env("serial")
    c.reset(seed=9)
    assert not np.array_equal(a.demand, c.demand)  # ... and the next episode is a new path


def test_pettingzoo_seed_test(scenario_name: str) -> None:
    # (products take no discrete actions, docs/products.md: their integer form is multidiscrete;
    # price actions take box actions only)
    at = "multidiscrete" if is_product_scenario(scenario_name) else "discrete"
    at = "box" if has_pricing(scenario_name) else at
    parallel_seed_test(
        lambda: invmgmt_marl.parallel_env(scenario_name, periods=30, action_type=at), num_cycles=30
    )


@pytest.mark.parametrize("at_step", [0, 57])
def test_pickle_mid_episode_continues_identically(scenario_name: str, at_step: int) -> None:
    env = invmgmt_marl.parallel_env(scenario_name, render_mode="ansi")
    env.reset(seed=123)
    rng = np.random.default_rng(1)
    at_step = min(at_step, env.scenario.periods - 1)  # short scenarios: pickle one period before the end
    for _ in range(at_step):
        env.step(_actions(env, rng))
    clone = pickle.loads(pickle.dumps(env))
    assert clone is not env
    assert clone.agents == env.agents
    np.testing.assert_array_equal(clone.demand, env.demand)
    np.testing.assert_array_equal(clone.state(), env.state())
    assert clone.render() == env.render()
    t = at_step
    while env.agents:
        acts = _actions(env, rng)
        _assert_same_step(env.step(acts), clone.step(acts), f"t={t}")
        t += 1
    assert clone.agents == []
    # the demand generator's state travelled too: the next unseeded episodes match
    env.reset()
    clone.reset()
    np.testing.assert_array_equal(env.demand, clone.demand)


def test_pickled_env_is_independent() -> None:
    env = invmgmt_marl.parallel_env("serial", periods=10)
    env.reset(seed=0)
    clone = pickle.loads(pickle.dumps(env))
    env.step({a: np.array([20.0], np.float32) for a in env.agents})
    assert len(clone.agents) == 3
    np.testing.assert_array_equal(clone.state()[-1], 0.0)  # the clone is still at t = 0 (progress 0)
    assert env.state()[-1] == pytest.approx(0.1)
