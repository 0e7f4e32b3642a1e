"""What third-party clients and bad callers expect of the env (issue 13, items 11, 12, 14, 16-19).

Each test here failed on the env before these conventions were added: failed resets changed state,
unseeded copies shared one random stream, reset infos were empty, ``max_cycles`` and the registries
were unknown, ``render_mode="human"`` was refused, odd action containers gave internal tracebacks.
"""

from __future__ import annotations

import copy
import pickle
from typing import Any

import gymnasium
import numpy as np
import pettingzoo
import pytest
from pettingzoo.test import max_cycles_test, parallel_api_test, render_test

import invmgmt_marl
from invmgmt_marl import supply_chain_v0
from invmgmt_marl.errors import InvalidActionError
from invmgmt_marl.registration import env_ids
from invmgmt_marl.sim import NODE_FIELDS
from tests.helpers import skip_unsupported_on_products

SCENARIOS = invmgmt_marl.list_scenarios()


def _run(env: Any, steps: int, rng: np.random.Generator) -> list[dict[str, float]]:
    out = []
    for _ in range(steps):
        acts = {a: env.action_space(a).sample() for a in env.agents}
        _, rew, *_ = env.step({a: np.asarray(v) for a, v in acts.items()})
        out.append(rew)
    return out


# ---- item 11: validate first, then change state --------------------------------------------------
@pytest.mark.parametrize("bad", [1e308, np.nan, -1.0, "x"])
def test_a_failed_reset_changes_nothing(bad: Any) -> None:
    ref = invmgmt_marl.parallel_env("serial", periods=12)
    env = invmgmt_marl.parallel_env("serial", periods=12)
    for e in (ref, env):
        e.reset(seed=3)
        for a in e.action_spaces.values():
            a.seed(0)
        _run(e, 4, np.random.default_rng(0))
    demand = np.full((12, 1), 5.0, dtype=object)
    demand[2, 0] = bad
    with pytest.raises(ValueError, match=r"options\['demand'\]"):
        env.reset(seed=99, options={"demand": demand})
    # the old episode goes on exactly as the reference's (same demand path, same generator)
    np.testing.assert_array_equal(env.demand, ref.demand)
    assert env.agents == ref.agents
    assert _run(env, 8, np.random.default_rng(1)) == _run(ref, 8, np.random.default_rng(1))
    # and the next unseeded reset draws the same as the reference's next one: the generator was not reseeded
    env.reset()
    ref.reset()
    np.testing.assert_array_equal(env.demand, ref.demand)


def test_bad_seed_and_options_types_are_refused() -> None:
    env = invmgmt_marl.parallel_env("serial")
    with pytest.raises(ValueError, match="seed: expected an integer"):
        env.reset(seed="7")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="options: expected a mapping"):
        env.reset(options=[("demand", 1)])  # type: ignore[arg-type]


# ---- item 12: unseeded copies never share a stream -----------------------------------------------
def test_unseeded_copies_draw_different_demand() -> None:
    base = invmgmt_marl.parallel_env("serial", periods=30)
    copies = [copy.deepcopy(base), copy.deepcopy(base), pickle.loads(pickle.dumps(base))]
    paths = []
    for env in copies:
        env.reset()
        paths.append(env.demand.copy())
    for i in range(len(paths)):
        for j in range(i + 1, len(paths)):
            assert not np.array_equal(paths[i], paths[j]), (i, j)
    # copies of an unseeded env made mid-episode also part ways at their next reset
    base.reset()
    c1, c2 = copy.deepcopy(base), copy.deepcopy(base)
    c1.reset()
    c2.reset()
    assert not np.array_equal(c1.demand, c2.demand)


def test_seeded_copies_stay_reproducible() -> None:
    base = invmgmt_marl.parallel_env("serial", periods=30)
    base.reset(seed=5)
    c1, c2 = copy.deepcopy(base), copy.deepcopy(base)
    c1.reset()
    c2.reset()
    np.testing.assert_array_equal(c1.demand, c2.demand)


def test_supersuit_vec_env_without_seed_trains_on_different_episodes() -> None:
    pytest.importorskip("supersuit")
    import supersuit as ss

    env = invmgmt_marl.parallel_env("serial", periods=20, shared_spaces=True)
    vec = ss.pettingzoo_env_to_vec_env_v1(env)
    vec = ss.concat_vec_envs_v1(vec, 3, num_cpus=0, base_class="gymnasium")
    vec.reset()  # no seed
    inner = [v.par_env for v in vec.vec_envs]
    paths = [e.demand.copy() for e in inner]
    assert len({p.tobytes() for p in paths}) == 3, "copies replayed one demand path"
    vec.close()


# ---- item 14: odd calls and odd actions ----------------------------------------------------------
def test_step_before_reset_says_so() -> None:
    env = invmgmt_marl.parallel_env("serial")
    with pytest.raises(RuntimeError, match="before reset"):
        env.step({})
    env.reset(seed=0)
    while env.agents:
        env.step({a: env.action_space(a).sample() for a in env.agents})
    with pytest.raises(RuntimeError, match="after the episode ended"):
        env.step({})


@pytest.mark.parametrize("action_type", ["box", "discrete", "multidiscrete"])
@pytest.mark.parametrize(
    "make",
    [
        lambda env: None,
        lambda env: [env.action_space(a).sample() for a in env.agents],
        lambda env: dict.fromkeys(env.agents, "3"),
        lambda env: dict.fromkeys(env.agents, np.array(["1"], dtype=object)),
        lambda env: dict.fromkeys(env.agents, b"1"),
        lambda env: {**{a: env.action_space(a).sample() for a in env.agents}, 3: 1, None: 2},
        lambda env: dict.fromkeys(env.agents, [[1, 2], [3]]),
    ],
    ids=["None", "list", "str", "object-array", "bytes", "mixed-keys", "ragged"],
)
def test_odd_actions_raise_invalid_action_error(action_type: str, make: Any) -> None:
    env = invmgmt_marl.parallel_env("net_2x3", action_type=action_type)
    env.reset(seed=0)
    with pytest.raises(InvalidActionError, match="actions"):
        env.step(make(env))
    env.step({a: env.action_space(a).sample() for a in env.agents})  # the env is still usable


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("action_type", ["box", "discrete", "multidiscrete"])
def test_shared_strict_accepts_every_legal_sample(scenario: str, action_type: str) -> None:
    skip_unsupported_on_products(scenario, action_type)
    try:
        env = invmgmt_marl.parallel_env(
            scenario, action_type=action_type, shared_spaces=True, strict=True, periods=5
        )
    except invmgmt_marl.ScenarioError:
        pytest.skip(f"{scenario} has non-integer bounds for {action_type}")
    env.reset(seed=0)
    for space in env.action_spaces.values():
        space.seed(1)
    clipped = 0
    while env.agents:
        *_, infos = env.step({a: env.action_space(a).sample() for a in env.agents})
        clipped += sum(i["clipped"] for i in infos.values())
    # outside the shared space still raises
    env.reset(seed=0)
    space = env.action_space(env.agents[0])
    too_big = (
        np.array(space.n)
        if isinstance(space, gymnasium.spaces.Discrete)
        else np.asarray(space.high if hasattr(space, "high") else space.nvec, dtype=np.float64) + 1
    )
    with pytest.raises(InvalidActionError, match="strict|must be in|must lie in"):
        env.step({a: too_big.astype(space.dtype) for a in env.agents})


# ---- items 16 and 19: PettingZoo conventions -----------------------------------------------------
def test_pettingzoo_registry_has_every_shipped_scenario() -> None:
    ids = env_ids()
    assert sorted(ids) == SCENARIOS
    assert ids["serial"][0] == "InvMgmt/Serial-v0" and ids["net_2x3"][0] == "InvMgmt/Net2x3-v0"
    par = pettingzoo.make("parallel", "InvMgmt/Net2x3-v0", max_cycles=6)
    assert isinstance(par, invmgmt_marl.InventoryParallelEnv)
    assert par.net.name == "net_2x3" and par.net.periods == 6
    aec = pettingzoo.make("aec", "InvMgmt/Serial-v0")
    assert aec.possible_agents == ["store_0", "warehouse_0", "supplier_0"]


def test_max_cycles_sets_the_episode_length() -> None:
    max_cycles_test(supply_chain_v0)
    env = invmgmt_marl.parallel_env("serial", max_cycles=7)
    env.reset(seed=0)
    steps = 0
    while env.agents:
        env.step({a: env.action_space(a).sample() for a in env.agents})
        steps += 1
    assert steps == 7
    with pytest.raises(ValueError, match="given twice"):
        invmgmt_marl.parallel_env("serial", max_cycles=7, periods=8)


def test_render_test_passes_in_every_mode(capsys: pytest.CaptureFixture[str]) -> None:
    render_test(lambda render_mode=None: supply_chain_v0.env("serial", render_mode=render_mode, periods=3))
    env = invmgmt_marl.parallel_env("serial", render_mode="human", periods=3)
    env.reset(seed=0)
    capsys.readouterr()
    assert env.render() is None
    assert "serial: t=0/3" in capsys.readouterr().out


# ---- item 17: reset infos carry the step info keys -----------------------------------------------
@pytest.mark.parametrize("scenario", ["serial", "net_2x3"])
def test_reset_infos_have_the_step_info_keys(scenario: str) -> None:
    env = invmgmt_marl.parallel_env(scenario)
    _, reset_infos = env.reset(seed=0)
    *_, step_infos = env.step({a: env.action_space(a).sample() for a in env.agents})
    for a in env.possible_agents:
        assert reset_infos[a].keys() == step_infos[a].keys()
        assert {k: type(v) for k, v in reset_infos[a].items()} == {
            k: type(v) for k, v in step_infos[a].items()
        }
        assert all(reset_infos[a][k] == 0.0 for k in NODE_FIELDS)
        assert reset_infos[a]["t"] == -1 and step_infos[a]["t"] == 0


def test_torchrl_rollout_keeps_step_infos() -> None:
    pytest.importorskip("torchrl", reason="torchrl is a test extra (pip install -e '.[torchrl]')")
    from torchrl.envs.libs.pettingzoo import PettingZooWrapper

    env = PettingZooWrapper(
        env=invmgmt_marl.parallel_env("serial", periods=4, shared_spaces=True), use_mask=False
    )
    td = env.rollout(4)
    group = next(iter(env.group_map))
    info = td["next", group, "info"]
    assert set(NODE_FIELDS) <= set(info.keys())
    # the info carries the simulator's numbers: on-hand stock is never negative and t counts periods
    assert (info["on_hand"] >= 0).all()
    np.testing.assert_array_equal(info["t"][:, 0].numpy(), np.arange(4))


# ---- item 18: a single-agent Gymnasium env -------------------------------------------------------
@pytest.mark.parametrize("scenario", ["serial", "net_2x3", "divergent"])
def test_centralised_gymnasium_env_passes_check_env(scenario: str) -> None:
    from gymnasium.utils.env_checker import check_env

    env = gymnasium.make(env_ids()[scenario][1], periods=10)
    check_env(env.unwrapped, skip_render_check=True)
    obs, _ = env.reset(seed=0)
    assert obs.shape == env.observation_space.shape


def test_centralised_env_equals_the_multi_agent_env() -> None:
    central = gymnasium.make("InvMgmt/Net2x3Central-v0", periods=15).unwrapped
    multi = invmgmt_marl.parallel_env("net_2x3", periods=15)
    c_obs, _ = central.reset(seed=4)
    multi.reset(seed=4)
    np.testing.assert_array_equal(c_obs, multi.state())
    rng = np.random.default_rng(0)
    for _ in range(15):
        action = rng.uniform(0, central.action_space.high).astype(np.float32)
        c_obs, c_rew, term, trunc, info = central.step(action)
        per_agent = {a: action[e] for a, e in zip(multi.possible_agents, multi.net.agent_edges, strict=True)}
        _, rew, *_ = multi.step(per_agent)
        assert c_rew == pytest.approx(sum(rew.values()), rel=1e-12)
        assert info["team_cost"] == pytest.approx(float(multi.last_ledger.total_cost.sum()), rel=1e-12)
        np.testing.assert_array_equal(c_obs, multi.state())
        assert not term
    assert trunc


def test_rllib_multiagent_checks_pass() -> None:
    pytest.importorskip("ray.rllib", reason="RLlib is an extra (pip install -e '.[rllib]')")
    from ray.rllib.env.wrappers.pettingzoo_env import ParallelPettingZooEnv
    from ray.rllib.utils.pre_checks.env import check_multiagent_environments

    check_multiagent_environments(ParallelPettingZooEnv(invmgmt_marl.parallel_env("net_2x3", periods=5)))


def test_parallel_api_test_with_registry_env() -> None:
    parallel_api_test(pettingzoo.make("parallel", "InvMgmt/Hmarl-v0", max_cycles=5), num_cycles=10)


@pytest.mark.parametrize("scenario", ["serial", "assembly"])
def test_rgb_array_frames_follow_the_state(scenario: str) -> None:
    pytest.importorskip("matplotlib", reason="rgb_array frames need the plots extra")
    env = invmgmt_marl.parallel_env(scenario, render_mode="rgb_array", periods=3)
    env.reset(seed=0)
    first = env.render()
    assert (
        isinstance(first, np.ndarray) and first.dtype == np.uint8 and first.ndim == 3 and first.shape[2] == 3
    )
    env.step({a: env.action_space(a).sample() for a in env.agents})
    second = env.render()
    assert second.shape == first.shape
    assert (second != first).any(axis=2).sum() > 50  # the period's stock, flows and title changed
    np.testing.assert_array_equal(env.render(), second)  # the same state draws the same frame
