"""The perfect-information MILP (binary set-ups): never below the LP, never above a simulated policy."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings

from invmgmt_marl import oracle
from invmgmt_marl.oracle import bound_many, perfect_information_bound, replay_orders
from invmgmt_marl.policies import make_policy
from invmgmt_marl.rollout import rollout
from invmgmt_marl.sim import Network
from tests.test_oracle import instance, sim_cost, tiny


@pytest.mark.parametrize("max_order", [20, 5])
def test_hand_fixed_cost_binary(max_order: float) -> None:
    # Same instance as test_oracle.test_hand_fixed_cost_relaxation: demand [0, 5, 0] at the store, fixed
    # cost 10 on supplier -> store. True optimum: one order of 5 at t=0 -> fixed cost 10 (not ordering
    # costs 2 periods of backlog 5 * 10 = 100). The LP gets 2.5 with max_order 20; the MILP gets 10.
    net, d = tiny([0, 5, 0], edge={"fixed_cost": 10, "max_order": max_order})
    r = perfect_information_bound(net, d)  # auto: fixed costs present -> binary
    assert r.setups == "binary"
    assert r.objective == pytest.approx(10.0, abs=1e-6)
    assert r.total_cost == pytest.approx(10.0, abs=1e-6)
    assert r.order_indicator[0, 0] == pytest.approx(1.0)
    assert r.mip_gap <= 1e-6
    assert replay_orders(net, r, d) == pytest.approx(10.0, abs=1e-6)  # the MILP plan is exactly feasible


def test_auto_uses_lp_without_fixed_costs() -> None:
    net, d = tiny([0, 5, 3])
    r = perfect_information_bound(net, d)
    assert r.setups == "relaxed" and r.mip_gap == 0.0


@settings(max_examples=60, deadline=None)
@given(instance())
def test_milp_between_lp_and_policy(case: tuple[Network, np.ndarray, Any, int]) -> None:
    net, demand, policy, seed = case
    traj = rollout(net, policy, seed=seed, demand=demand[None])
    lp = perfect_information_bound(net, demand, setups="relaxed")
    mip = perfect_information_bound(net, demand, setups="binary")
    scale = max(1.0, abs(lp.objective))
    assert mip.objective >= lp.objective - 1e-6 * scale
    assert mip.objective <= sim_cost(traj) + 1e-6 * scale
    assert mip.objective <= mip.total_cost + 1e-6 * scale  # the dual bound never exceeds the incumbent
    if net.any_fixed_cost:
        assert mip.setups == "binary"
        np.testing.assert_allclose(mip.order_indicator, np.round(mip.order_indicator), atol=1e-6)


def test_milp_below_rolling_ww_on_a_fixed_cost_chain() -> None:
    from invmgmt_marl.compile import compile_network
    from invmgmt_marl.scenario import load_scenario

    sc = load_scenario("serial", periods=12)
    net = compile_network(
        sc.model_copy(update={"edges": [e.model_copy(update={"fixed_cost": 15.0}) for e in sc.edges]})
    )
    traj = rollout(net, make_policy("rolling_ww", net, horizon=6), episodes=2, seed=4)
    for b, r in enumerate(bound_many(net, traj.demand)):
        lp = perfect_information_bound(net, traj.demand[b], setups="relaxed")
        assert r.setups == "binary"
        assert lp.objective - 1e-6 <= r.objective <= traj.cost()[b].sum() + 1e-6


def test_lp_fallback_when_the_milp_finds_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    net, d = tiny([0, 5, 0], edge={"fixed_cost": 10, "max_order": 20})
    monkeypatch.setattr(oracle._LP, "_solve_milp", lambda self, rhs, tl, gap: None)
    r = perfect_information_bound(net, d, setups="binary")
    assert r.setups == "relaxed" and r.objective == pytest.approx(2.5)  # the LP's value


def test_bad_setups_and_time_limit() -> None:
    net, d = tiny([0, 5, 0])
    with pytest.raises(ValueError, match="setups"):
        perfect_information_bound(net, d, setups="integer")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="time_limit"):
        perfect_information_bound(net, d, time_limit=0.0)


def test_evaluate_reports_how_the_bound_was_solved() -> None:
    from invmgmt_marl import evaluate
    from invmgmt_marl.compile import compile_network
    from invmgmt_marl.scenario import load_scenario

    # hmarl has a fixed cost per order: the bound is the MILP, its gap reported
    net = compile_network(load_scenario("hmarl", periods=12))
    summary = evaluate("base_stock", net, episodes=2, seed=1, ladder=False).summary()
    assert summary["bound"]["setups"] == "binary"
    assert 0.0 <= summary["bound"]["mip_gap"] <= 1.0
    # serial has none: the LP, gap 0
    serial = compile_network(load_scenario("serial", periods=12))
    summary = evaluate("base_stock", serial, episodes=2, seed=1, ladder=False).summary()
    assert summary["bound"]["setups"] == "relaxed" and summary["bound"]["mip_gap"] == 0.0
    # a bound given by the caller carries no solver information
    given = evaluate("base_stock", serial, episodes=2, seed=1, bound=[1.0, 1.0], ladder=False).summary()
    assert "setups" not in given["bound"]
