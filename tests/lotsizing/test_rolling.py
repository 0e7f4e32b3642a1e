"""The rolling-horizon policy: with the true demand path it reproduces Wagner-Whitin's cost."""

from __future__ import annotations

import numpy as np
import pytest

from invmgmt_marl.compile import compile_network
from invmgmt_marl.lotsizing import wagner_whitin
from invmgmt_marl.policies import make_policy
from invmgmt_marl.policies.rolling import RollingHorizonPolicy, net_requirements
from invmgmt_marl.rollout import rollout
from invmgmt_marl.scenario import load_scenario, validate_scenario


def store_instance(periods: int, setup: float, hold: float):  # type: ignore[no-untyped-def]
    """store_0 <- supplier_0 <- external. The supplier has free, ample stock (holding 0, no fixed or
    unit cost), so all cost is the store's: fixed cost per order and holding on end-of-period stock.
    Lead time 1 is the simulator's shortest (an order placed in period t arrives at the start of t+1),
    i.e. Wagner-Whitin's instantaneous replenishment for periods 1..T-1; demand in period 0 is zero and
    the store starts empty."""
    sc = validate_scenario(
        {
            "name": "one_store",
            "periods": periods,
            "nodes": [
                {
                    "role": "store",
                    "holding_cost": hold,
                    "backlog_cost": 1000,
                    "demand": {"process": "poisson", "mean": 5},
                },
                {"role": "supplier", "initial_on_hand": 1e6},
            ],
            "edges": [
                {
                    "from": "supplier_0",
                    "to": "store_0",
                    "lead_time": 1,
                    "fixed_cost": setup,
                    "max_order": 1e6,
                },
                {"from": "external", "to": "supplier_0", "lead_time": 1, "max_order": 1e6},
            ],
        }
    )
    return compile_network(sc)


@pytest.mark.parametrize(("setup", "hold"), [(30.0, 1.0), (100.0, 0.5), (5.0, 2.0)])
def test_rolling_oracle_matches_wagner_whitin(setup: float, hold: float) -> None:
    periods = 14
    net = store_instance(periods, setup, hold)
    rng = np.random.default_rng(1)
    demand = rng.choice([0.0, 2.0, 5.0, 9.0, 14.0], size=(4, periods, 1))
    demand[:, 0] = 0.0
    policy = make_policy("rolling_ww", net, forecast="oracle", demand=demand, horizon=periods)
    traj = rollout(net, policy, demand=demand)
    cost = traj.cost().sum(axis=1)
    n_orders = (traj.edge("edge_ordered")[:, :, 0] > 0).sum(axis=0)
    for b in range(4):
        ww = wagner_whitin(demand[b, 1:, 0], setup, hold)
        assert cost[b] == pytest.approx(ww.total_cost, abs=1e-9)
        assert n_orders[b] == ww.setups.sum()
    assert traj.node("backlog").sum() == 0.0


def test_rolling_silver_meal_oracle_is_feasible_and_not_better_than_ww() -> None:
    net = store_instance(12, 40.0, 1.0)
    demand = np.random.default_rng(2).choice([0.0, 3.0, 8.0, 12.0], size=(3, 12, 1))
    demand[:, 0] = 0.0
    sm = rollout(
        net,
        make_policy("rolling_silver_meal", net, forecast="oracle", demand=demand, horizon=12),
        demand=demand,
    )
    ww = rollout(
        net, make_policy("rolling_ww", net, forecast="oracle", demand=demand, horizon=12), demand=demand
    )
    assert sm.node("backlog").sum() == 0.0
    assert np.all(sm.cost().sum(axis=1) >= ww.cost().sum(axis=1) - 1e-9)


def test_net_requirements_by_hand() -> None:
    # available 7 covers period 0 (5) and 2 of period 1 (4 -> 2 left); shortfall -3 joins period 0
    gross = np.array([[5.0, 4.0, 6.0], [5.0, 4.0, 6.0]])
    np.testing.assert_allclose(net_requirements(gross, np.array([7.0, -3.0])), [[0, 2, 6], [8, 4, 6]])


@pytest.mark.parametrize(
    "name", ["rolling", "rolling_ww", "rolling_silver_meal", "rolling_luc", "rolling_ppb", "rolling_ga"]
)
def test_registered_and_runs_on_serial(name: str) -> None:
    sc = load_scenario("serial", periods=12)
    net = compile_network(sc)
    kw = {"planner_kwargs": {"population": 6, "generations": 3}} if name == "rolling_ga" else {}
    policy = make_policy(name, net, horizon=6, integer=True, **kw)
    traj = rollout(net, policy, episodes=2, seed=0)
    orders = traj.edge("edge_ordered")
    assert np.all(orders >= 0) and np.all(orders == np.round(orders))
    assert orders.sum() > 0  # it does order (the serial chain would otherwise run dry)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="forecast"):
        RollingHorizonPolicy(forecast="crystal_ball")
    with pytest.raises(ValueError, match="demand"):
        RollingHorizonPolicy(forecast="oracle")
    with pytest.raises(ValueError, match="planner"):
        RollingHorizonPolicy(planner="dalsa")
    with pytest.raises(ValueError, match="horizon"):
        RollingHorizonPolicy(horizon=0)
