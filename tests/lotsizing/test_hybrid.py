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
