"""Value iteration on two-node serial instances: exact transitions, Clark-Scarf where it applies, attained
in the simulator, and better than every tuned heuristic where internal costs make echelon base-stock
suboptimal."""

from __future__ import annotations

import numpy as np
import pytest

from invmgmt_marl.bounds import serial_optimum
from invmgmt_marl.bounds.mdp_serial import (
    SerialMDP,
    SerialMDPPolicy,
    echelon_base_stock_table,
    evaluate_serial_policy,
    installation_base_stock_table,
    solve_serial_mdp,
    two_node_scenario,
)
from invmgmt_marl.compile import compile_network
from invmgmt_marl.demand import sample_network_demand
from invmgmt_marl.policies import tune
from invmgmt_marl.rollout import rollout
from invmgmt_marl.scenario.schema import validate_scenario
from invmgmt_marl.sim.ledger import COST_FIELDS

U3 = (1 / 3,) * 3  # demand uniform on 0..2


def _model(**kw: object) -> SerialMDP:
    base: dict[str, object] = {
        "demand_pmf": U3,
        "lead_times": (1, 1),
        "holding_cost": (2.0, 1.0),
        "shortage_cost": 9.0,
        "warehouse_backlog_cost": 3.0,
        "mode": "backlog",
        "max_order": 4,
        "max_stock": (10, 10),
        "max_backlog": (6, 6),
    }
    base.update(kw)
    return SerialMDP(**base)  # type: ignore[arg-type]


def _net(m: SerialMDP):  # type: ignore[no-untyped-def]
    return compile_network(validate_scenario(two_node_scenario(m, periods=200)))


def test_transition_by_hand() -> None:
    # L1 = 2, L2 = 2: state (I, a_1, W, R, b_1). Store: I = 1, a_1 = 2; warehouse: W = 3 on hand, owes
    # R = 2, b_1 = 4 arriving next period. Orders q1 = 4 (store), q2 = 1 (warehouse); demand d = 2.
    # store: end = 1 - 2 = -1 -> backorder cost 9 * 1; next I = -1 + a_1 = 1, a_1' = shipment.
    # warehouse: needs R + q1 = 6, ships min(3, 6) = 3, keeps 0, owes 3 -> cost 3 * 3 = 9; next W =
    # 0 + b_1 = 4, R' = 3, b_1' = q2 = 1. Total cost 18.
    m = _model(lead_times=(2, 2))
    nxt, cost = m.transition(np.array([[1, 2, 3, 2, 4]]), 4, 1, 2)
    assert nxt.tolist() == [[1, 3, 4, 3, 1]]
    assert cost.tolist() == [18.0]
    # lost sales: the unmet unit is lost (cost 9), stock stays 0; warehouse with stock left: holding 1 * 1
    m = _model(lead_times=(1, 1), mode="lost_sales")
    nxt, cost = m.transition(np.array([[1, 3, 0]]), 2, 0, 2)
    # store end -1 -> lost 1, I' = 0 + shipped 2; warehouse ships 2 of 3, keeps 1
    assert nxt.tolist() == [[2, 1, 0]]
    assert cost.tolist() == [9.0 + 1.0]


def test_without_internal_backlog_cost_the_optimum_is_clark_scarf() -> None:
    # with no warehouse backlog cost and holding falling upstream the Clark-Scarf model applies: the
    # optimum of value iteration must equal the Chen-Zheng recursion (an independent method,
    # bounds/clark_scarf.py through the timing mapping of bounds/bridge.py): 109/27 = 4.0370 per period
    m = _model(warehouse_backlog_cost=0.0)
    sol = solve_serial_mdp(m)
    opt = serial_optimum(_net(m))
    assert opt.mapping.exact
    assert sol.gain == pytest.approx(opt.cost, abs=1e-6)
    assert sol.edge_mass < 1e-9
    # and echelon base-stock at the Clark-Scarf levels attains it in the MDP as well
    levels = (int(opt.echelon_levels[0]), int(opt.echelon_levels[1]))
    assert evaluate_serial_policy(m, echelon_base_stock_table(m, levels))[0] == pytest.approx(
        sol.gain, abs=1e-6
    )


def test_internal_backlog_cost_makes_echelon_base_stock_suboptimal() -> None:
    # a warehouse backlog cost of 3: Clark-Scarf leaves it out, so its levels are no longer optimal.
    # value iteration still reaches 109/27 (it avoids internal backlog); the best echelon base-stock
    # levels on a grid cost 4.2222 (exact long-run costs of the policy tables, 3 / 5 the best)
    m = _model()
    tabs = m.tables()
    sol = solve_serial_mdp(m)
    assert sol.gain == pytest.approx(109 / 27, abs=1e-6)
    ech = min(
        evaluate_serial_policy(m, echelon_base_stock_table(m, (a, b)), tabs)[0]
        for a in range(1, 7)
        for b in range(a, 9)
    )
    inst = min(
        evaluate_serial_policy(m, installation_base_stock_table(m, (a, b)), tabs)[0]
        for a in range(1, 7)
        for b in range(0, 6)
    )
    assert ech == pytest.approx(38 / 9, abs=1e-6)  # 4.2222
    assert sol.gain < ech - 0.15
    assert sol.gain < inst - 0.15


def test_optimal_policy_attains_its_gain_and_beats_every_tuned_heuristic() -> None:
    # lost sales at the store, lead times 2 / 1: the table policy run in the simulator costs its exact
    # gain (3.5636) within sampling error, and less than each tuned heuristic on the same paths
    m = _model(lead_times=(2, 1), mode="lost_sales")
    sol = solve_serial_mdp(m)
    assert sol.edge_mass < 1e-6
    net = _net(m)
    demand = sample_network_demand(net, np.random.default_rng(7), 100)
    policies = {"optimal": SerialMDPPolicy(sol)}
    for kind in ("base_stock", "echelon_base_stock", "s_S", "forecast_order_up_to"):
        policies[kind] = tune(net, kind, episodes=8, seed=5, max_sweeps=4).policy(net)
    warm = 30
    cost = {}
    for name, pol in policies.items():
        tr = rollout(net, pol, demand=demand)  # type: ignore[arg-type]
        per_period = sum(tr.node(f)[warm:] for f in COST_FIELDS).sum(axis=2)  # type: ignore[union-attr]
        cost[name] = per_period.mean(axis=0)  # (episodes,) mean cost per period after the warm-up
    opt = cost.pop("optimal")
    assert abs(opt.mean() - sol.gain) < 3 * opt.std(ddof=1) / np.sqrt(len(opt))
    for name, c in cost.items():
        diff = c - opt  # paired over the same demand paths
        assert diff.mean() > 3 * diff.std(ddof=1) / np.sqrt(len(diff)), name


def test_bad_model_names_the_field() -> None:
    with pytest.raises(ValueError, match="lead_times"):
        _model(lead_times=(0, 1))
    with pytest.raises(ValueError, match="demand_pmf"):
        _model(demand_pmf=(0.5, 0.6))
    with pytest.raises(ValueError, match="mode"):
        _model(mode="perish")
    with pytest.raises(ValueError, match="max_stock"):
        _model(max_stock=(2, 10))
    with pytest.raises(ValueError, match="demand_pmf"):
        two_node_scenario(_model(demand_pmf=(0.5, 0.3, 0.2)))
