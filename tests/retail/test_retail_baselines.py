"""Retail baselines and tasks: the runner plays the env's episodes, the heuristic by hand, the grader."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import invmgmt_marl
from invmgmt_marl.compile import compile_network
from invmgmt_marl.policies import make_policy
from invmgmt_marl.policies.retail import (
    RetailHeuristic,
    passive_policy,
    run_retail,
    tune_retail,
)
from invmgmt_marl.scenario import load_scenario, validate_scenario
from invmgmt_marl.sim import initial_state
from invmgmt_marl.sim.ledger import node_row
from invmgmt_marl.tasks import (
    TASKS,
    baseline_profit,
    ceiling,
    floor,
    get_task,
    grade,
    grade_value,
    ledger_profit,
)


def _net(name: str) -> Any:
    return compile_network(load_scenario(name))


def test_runner_plays_the_env_episode() -> None:
    # the heuristic's orders replayed through the PettingZoo env (agent action = orders, then
    # liquidation 0, then price 1 per product) give the runner's profit, seed by seed
    net = _net("retail_medium")
    policy = RetailHeuristic([1.5, 1.0, 1.0, 2.0, 1.0])
    for seed in (0, 7):
        ran = run_retail(net, policy, [seed])
        env = invmgmt_marl.parallel_env("retail_medium")
        env.reset(seed=seed)
        profit = reward = 0.0
        for _ in range(net.periods):
            orders = policy(env.net, env.sim_state, np.random.default_rng(0))[0]  # (P, E)
            action = np.concatenate([orders.ravel(), np.zeros(5), np.ones(5)]).astype(np.float32)
            _, rewards, *_ = env.step({"store_0": action})
            profit += ledger_profit(env.net, env.last_ledger)
            reward += rewards["store_0"]
        assert profit == pytest.approx(float(ran.profit[0]))
        assert reward == pytest.approx(float(ran.reward[0]))
    # and a batch of seeds is the seeds one by one
    both = run_retail(net, policy, [0, 7])
    assert both.profit.tolist() == pytest.approx(
        [float(run_retail(net, policy, [s]).profit[0]) for s in (0, 7)]
    )


def _one_product(on_hand: float) -> Any:
    store = {"role": "store", "lost_sales": True, "price": 30, "initial_on_hand": on_hand, "holding_cost": 0}
    store["demand"] = {"process": "constant", "value": 10}
    modes = [
        {"name": "slow", "unit_cost": 2, "lead_time": [3, 7]},
        {"name": "medium", "unit_cost": 5, "lead_time": [2, 4]},
        {"name": "fast", "unit_cost": 10, "lead_time": 1},
    ]
    sc = {
        "periods": 30,
        "nodes": [store],
        "edges": [{"from": "external", "to": "store_0", "unit_cost": 10, "max_order": 100, "modes": modes}],
        "products": [{"name": "a"}],
    }
    return compile_network(validate_scenario(sc))


@pytest.mark.parametrize(
    ("on_hand", "expected"),
    [
        # demand 10 a day, safety 1, nothing in transit, t = 0:
        (100, [0, 0, 0]),  # slow fits (7 days = 70 <= 100); up to 8 days = 80 < 100: nothing
        (75, [5, 0, 0]),  # slow fits (70 <= 75): 80 - 75 = 5 by the slow mode
        (45, [0, 5, 0]),  # slow fails (70 > 45), medium fits (4 days = 40 <= 45): 5 days 50 - 45 = 5
        (15, [0, 0, 5]),  # only fast: up to 2 days = 20, 20 - 15 = 5
    ],
)
def test_heuristic_by_hand(on_hand: float, expected: list[float]) -> None:
    net = _one_product(on_hand)
    orders = RetailHeuristic(1.0)(net, initial_state(net, 1), np.random.default_rng(0))
    assert orders[0, 0].tolist() == expected


def test_heuristic_respects_cash_and_storage_and_switches_to_fast_before_events() -> None:
    for name in ("retail_easy", "retail_medium", "retail_hard"):
        net = _net(name)
        res = run_retail(net, RetailHeuristic(2.0), list(range(6)))
        assert res.nodes[:, node_row("rejected_lines")].sum() == 0  # never ordered beyond cash
        assert res.nodes[:, node_row("refused")].sum() == 0  # never beyond the warehouse
        assert res.nodes[:, node_row("liquidated")].sum() == 0
        assert (res.profit > run_retail(net, passive_policy, list(range(6))).profit).all()
    # medium: Black Friday triples electronics on days 6-7; the fast order placed on day 5 (arriving on
    # day 6) is the largest of the first week (low initial stock makes it use fast shipping earlier too)
    net = _net("retail_medium")
    policy = RetailHeuristic(1.0)
    env = invmgmt_marl.parallel_env("retail_medium")
    env.reset(seed=0)
    fast = []
    for _ in range(8):
        orders = policy(env.net, env.sim_state, np.random.default_rng(0))[0]
        fast.append(orders[0, 2])
        env.step({"store_0": np.concatenate([orders.ravel(), np.zeros(5), np.ones(5)]).astype(np.float32)})
    assert fast[5] > max(fast[:5]) and fast[5] > fast[7], fast


def test_registered_policies() -> None:
    net = _net("retail_easy")
    assert isinstance(make_policy("retail_heuristic", net, safety=1.5), RetailHeuristic)
    with pytest.raises(ValueError, match="safety"):
        RetailHeuristic([1.0, 2.0])(net, initial_state(net, 1), np.random.default_rng(0))
    with pytest.raises(ValueError, match="products"):
        run_retail(compile_network(load_scenario("serial")), passive_policy, [0])
    # retail_tuned builds anywhere (the policy listing of docs/evaluation.md) and tunes on first use
    serial = compile_network(load_scenario("serial"))
    tuned = make_policy("retail_tuned", serial)
    assert repr(tuned) == "RetailHeuristic(safety='tuned')"
    with pytest.raises(ValueError, match="products"):
        tuned(serial, initial_state(serial, 1), np.random.default_rng(0))


def test_tuning_does_not_lose() -> None:
    net = _net("retail_easy")
    seeds = (10_000, 10_001, 10_002, 10_003)
    res = tune_retail(net, seeds=seeds, grid=(0.5, 1.0, 1.5), sweeps=1)
    start = float(run_retail(net, RetailHeuristic(1.0), seeds).profit.mean())
    assert res.profit >= start
    assert res.profit == pytest.approx(float(run_retail(net, res.policy(), seeds).profit.mean()))


# floors by hand: the passive agent sells its initial stock at list price (30 days of demand exceed it,
# groceries included: 10-15 a day against at most 20 on hand, sold within the shelf life) and pays nothing
FLOORS = {
    "retail_easy": 3 * 150 + 6 * 40 + 10 * 10 + 2 * 200 + 5 * 25,  # 1315
    "retail_medium": 5 * 150 + 10 * 40 + 20 * 10 + 3 * 200 + 8 * 25,  # 2150
    "retail_hard": 2 * 150 + 4 * 40 + 8 * 10 + 1 * 200 + 3 * 25,  # 815
}


@pytest.mark.parametrize("name", list(FLOORS))
def test_floor_grades_zero(name: str) -> None:
    task = get_task(name)
    assert name in TASKS and task.scenario == name
    for seed in (0, 3):
        low = floor(task, seed)
        assert low == pytest.approx(FLOORS[name])
        assert low == pytest.approx(float(run_retail(_net(name), passive_policy, [seed]).profit[0]))
        assert grade_value(low, low, low + 1.0) == 0.0  # (grade() itself on easy below: it tunes)


def test_grade_scale_on_easy() -> None:
    task = get_task("retail_easy")
    top = ceiling(task, 0)
    plain = float(run_retail(_net("retail_easy"), RetailHeuristic(), [0]).profit[0])
    tuned = baseline_profit(task, 0)
    if top.kind == "reference":  # no bound module: the best of the two heuristics
        assert "not a bound" in top.method
        assert top.value == max(plain, tuned)
    else:  # the proven ceiling (invmgmt_marl.bounds.retail): no simulated policy beats it
        assert top.value >= max(plain, tuned) - 1e-6
    g = grade(task, plain, 0)
    assert g.grade == pytest.approx((plain - FLOORS["retail_easy"]) / (top.value - FLOORS["retail_easy"]))
    assert grade(task, FLOORS["retail_easy"], 0).grade == 0.0  # the floor grades 0
    assert grade(task, top.value + 1000, 0).grade == 1.0 and grade(task, -1e6, 0).grade == 0.0
    assert g.to_dict()[top.kind] == top.value


def _random_retail(net: Any, state: Any, rng: np.random.Generator) -> tuple[Any, dict[str, Any]]:
    """Random orders, liquidations and prices within the action bounds."""
    b = state.on_hand.shape[0]
    orders = np.floor(rng.random((b, net.n_products, net.n_edges)) * 8)
    liquidate = np.floor(rng.random((b, net.n_products, net.n_nodes)) * 2)
    price = rng.uniform(0.5, 1.5, (b, net.n_products, net.n_stores))
    return orders, {"liquidate": liquidate, "price": price}


@pytest.mark.parametrize("name", list(FLOORS))
def test_no_simulated_policy_beats_the_ceiling(name: str) -> None:
    task = get_task(name)
    net = _net(name)
    for seed in (0, 1):
        top = ceiling(task, seed)
        if top.kind != "ceiling":
            pytest.skip(f"{name}: no proven ceiling ({top.method})")
        best = max(
            float(run_retail(net, p, [seed]).profit[0])
            for p in (passive_policy, RetailHeuristic(), RetailHeuristic(2.0), _random_retail)
        )
        assert best <= top.value + 1e-6, (seed, best, top.value)
        assert floor(task, seed) <= top.value
