"""The hybrid planner env: a zero residual reproduces the planner policy step by step; API conformance."""

from __future__ import annotations

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test

from invmgmt_marl.lotsizing.hybrid import MODES, HybridPlannerEnv
from invmgmt_marl.policies.rolling import RollingHorizonPolicy
from invmgmt_marl.rollout import rollout
from invmgmt_marl.sim import COST_FIELDS

PERIODS = 16


def planner() -> RollingHorizonPolicy:
    # integer orders: the inner env's Box actions are float32, which represents them exactly
    return RollingHorizonPolicy("wagner_whitin", horizon=6, integer=True, safety=2.0)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("scenario", "periods", "top"), [("serial", PERIODS, 30), ("hmarl", 30, 120)])
def test_zero_residual_reproduces_the_planner(mode: str, scenario: str, periods: int, top: int) -> None:
    env = HybridPlannerEnv(scenario, policy=planner(), mode=mode, periods=periods)
    demand = np.random.default_rng(5).integers(0, top, size=(periods, env.net.n_stores)).astype(float)
    traj = rollout(env.net, planner(), demand=demand[None])
    assert traj.node("ordered").sum() > 0  # the planner does order: the comparison below is not vacuous
    env.reset(seed=1, options={"demand": demand})
    zero = {a: (0 if mode == "gate" else np.zeros(env.action_space(a).shape, np.float32)) for a in env.agents}
    for t in range(periods):
        _, rewards, _, trunc, infos = env.step(zero)
        for i, a in enumerate(env.possible_agents):
            assert infos[a]["ordered"] == traj.node("ordered")[t, 0, i], (t, a)
            cost = sum(infos[a][f] for f in COST_FIELDS)
            assert cost == pytest.approx(sum(traj.node(f)[t, 0, i] for f in COST_FIELDS), abs=1e-9), (t, a)
            assert rewards[a] == pytest.approx(traj.rewards[t, 0, i], abs=1e-9)
    assert all(trunc.values()) and env.agents == []


def test_residuals_change_the_orders() -> None:
    env = HybridPlannerEnv("serial", policy=planner(), mode="scale", periods=PERIODS)
    env.reset(seed=0)
    prop = env.proposal
    full = {a: np.ones(env.action_space(a).shape, np.float32) for a in env.agents}
    none = {a: -np.ones(env.action_space(a).shape, np.float32) for a in env.agents}
    np.testing.assert_allclose(env.orders_from_actions(full), np.minimum(2 * prop, env.net.max_order))
    np.testing.assert_allclose(env.orders_from_actions(none), 0.0)
    gate = HybridPlannerEnv("serial", policy=planner(), mode="gate", periods=PERIODS)
    gate.reset(seed=0)
    np.testing.assert_allclose(gate.orders_from_actions(dict.fromkeys(gate.agents, 1)), 0.0)
    shift = HybridPlannerEnv("serial", policy=planner(), mode="shift", periods=PERIODS)
    shift.reset(seed=0)
    up = shift.orders_from_actions({a: np.full(1, 0.5, np.float32) for a in shift.agents})
    np.testing.assert_allclose(
        up, np.minimum(shift.proposal + 0.5 * shift.net.max_order, shift.net.max_order)
    )


@pytest.mark.parametrize("mode", MODES)
def test_parallel_api(mode: str) -> None:
    parallel_api_test(HybridPlannerEnv("serial", mode=mode, periods=12), num_cycles=30)
    parallel_api_test(HybridPlannerEnv("hmarl", mode=mode, periods=8, shared_spaces=True), num_cycles=10)


def test_bad_mode() -> None:
    with pytest.raises(ValueError, match="mode"):
        HybridPlannerEnv("serial", mode="residual")


def _act(mode: str, width: int):  # a deterministic, observation-dependent stand-in for a trained policy
    def act(obs: np.ndarray) -> np.ndarray:
        # residuals on a 0.5 grid: integer proposals times (1 + a), or plus a * max_order, stay exact in
        # float32 (the inner env's action dtype), so env and batched runs see identical orders
        z = np.sin(7.0 * obs.astype(np.float64).sum(axis=1))
        if mode == "gate":
            return np.floor((z + 1.0) * 1.5).clip(0, 2).astype(np.int64)
        return np.repeat((np.round(2 * z) / 2)[:, None], width, axis=1).astype(np.float32)

    return act


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("scenario", "periods", "top"), [("serial", PERIODS, 30), ("hmarl", 20, 120)])
def test_batch_policy_matches_the_env(mode: str, scenario: str, periods: int, top: int) -> None:
    """HybridPolicy on the batched simulator == the env run episode by episode with the same actor."""
    env = HybridPlannerEnv(scenario, policy=planner(), mode=mode, periods=periods, shared_spaces=True)
    width = env.action_space(env.possible_agents[0]).shape
    act = _act(mode, int(width[0]) if width else 1)
    demand = np.random.default_rng(9).integers(0, top, size=(2, periods, env.net.n_stores)).astype(float)
    traj = rollout(env.net, env.batch_policy(act), demand=demand)
    plain = rollout(env.net, planner(), demand=demand)
    assert not np.allclose(traj.node("ordered"), plain.node("ordered"))  # the residuals do act
    for b in range(2):
        obs, _ = env.reset(seed=3, options={"demand": demand[b]})
        for t in range(periods):
            a = act(np.stack([obs[x] for x in env.possible_agents]))
            obs, _, _, _, infos = env.step(dict(zip(env.possible_agents, a, strict=True)))
            for i, x in enumerate(env.possible_agents):
                # gate choice 2 orders the planned lot unrounded: the env's float32 action rounds it
                ordered = traj.node("ordered")[t, b, i]
                assert infos[x]["ordered"] == pytest.approx(ordered, rel=1e-6, abs=1e-9), (b, t, x)
                cost = sum(infos[x][f] for f in COST_FIELDS)
                expected = sum(traj.node(f)[t, b, i] for f in COST_FIELDS)
                assert cost == pytest.approx(expected, rel=1e-6, abs=1e-9), (b, t, x)
