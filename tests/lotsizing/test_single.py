"""Single-item planners: Wagner-Whitin against brute force and a published optimum, the heuristics
against plans computed by hand, the capacitated MILP against Wagner-Whitin."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invmgmt_marl.lotsizing import (
    PLANNERS,
    capacitated_lot_sizing,
    get_planner,
    least_unit_cost,
    part_period_balancing,
    silver_meal,
    wagner_whitin,
    wagner_whitin_batch,
)


def brute_force(d: np.ndarray, K: np.ndarray, h: np.ndarray) -> float:  # noqa: N803
    """Least cost over all 2^(T-1) set-up patterns (period 0 always may order): each set-up receives
    the demand up to the next set-up; the cost is simulated directly (stock = cumsum(q - d))."""
    t_len = d.size
    best = np.inf
    for rest in itertools.product([False, True], repeat=t_len - 1):
        setup = np.array([True, *rest])
        starts = np.flatnonzero(setup)
        q = np.zeros(t_len)
        for a, b in zip(starts, [*starts[1:], t_len], strict=True):
            q[a] = d[a:b].sum()
        inv = np.cumsum(q - d)
        best = min(best, float(K @ (q > 0) + h @ inv))
    return best


@st.composite
def instances(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t_len = draw(st.integers(1, 8))
    d = np.array(
        draw(st.lists(st.sampled_from([0, 0, 1, 3, 7, 10, 25]), min_size=t_len, max_size=t_len)), float
    )
    k = np.array(draw(st.lists(st.integers(0, 60), min_size=t_len, max_size=t_len)), float)
    h = np.array(draw(st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0]), min_size=t_len, max_size=t_len)))
    return d, k, h


@settings(max_examples=150, deadline=None)
@given(instances())
def test_wagner_whitin_equals_brute_force(inst: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    d, K, h = inst  # noqa: N806
    plan = wagner_whitin(d, K, h)
    assert plan.total_cost == pytest.approx(brute_force(d, K, h), abs=1e-9)
    # the plan is what it claims: feasible, and its recomputed cost is its DP value
    assert np.all(np.cumsum(plan.quantities - d) >= -1e-9)
    assert plan.info["dp_cost"] == pytest.approx(plan.total_cost, abs=1e-9)


def test_wagner_whitin_1958_example() -> None:
    """Wagner & Whitin, "Dynamic version of the economic lot size model", Management Science 5(1),
    1958, their 12-month example: demand and set-up costs below, holding cost 1 per unit-month; the
    paper's optimal total cost is 864 (their F(12))."""
    demand = [69, 29, 36, 61, 61, 26, 34, 67, 45, 67, 79, 56]
    setup = [85, 102, 102, 101, 98, 114, 105, 86, 119, 110, 98, 114]
    plan = wagner_whitin(demand, setup, 1.0)
    assert plan.total_cost == pytest.approx(864.0)
    assert plan.quantities.sum() == pytest.approx(sum(demand))


def test_batch_matches_single() -> None:
    rng = np.random.default_rng(3)
    d = rng.integers(0, 30, size=(20, 9)).astype(float)
    q, cost = wagner_whitin_batch(d, 40.0, 1.5)
    for b in range(20):
        one = wagner_whitin(d[b], 40.0, 1.5)
        assert cost[b] == pytest.approx(one.total_cost)
        assert np.all(np.cumsum(q[b] - d[b]) >= -1e-9)


# Instance A: d = [30, 10, 60, 20, 40, 10], K = 50, h = 1. Lot costs c(j, k) = K + holding; holding of
# period u's demand in a lot from j is d[u] * (u - j).
INST_A = ([30, 10, 60, 20, 40, 10], 50.0, 1.0)


def test_silver_meal_by_hand() -> None:
    # lot at 0: {0} 50/1 = 50; {0,1} (50 + 10*1)/2 = 30; {0,1,2} (60 + 60*2)/3 = 60 > 30 -> stop: q0 = 40
    # lot at 2: {2} 50; {2,3} (50 + 20)/2 = 35; {2,3,4} (70 + 40*2)/3 = 50 > 35 -> stop: q2 = 80
    # lot at 4: {4} 50; {4,5} (50 + 10)/2 = 30, end of horizon: q4 = 50
    # cost: 3 set-ups 150 + end stock 10 (t0) + 20 (t2) + 10 (t4) = 190
    plan = silver_meal(*INST_A)
    np.testing.assert_allclose(plan.quantities, [40, 0, 80, 0, 50, 0])
    assert plan.total_cost == pytest.approx(190.0)


def test_least_unit_cost_by_hand() -> None:
    # lot at 0: {0} 50/30 = 1.667; {0,1} 60/40 = 1.5; {0,1,2} 180/100 = 1.8 > 1.5 -> q0 = 40
    # lot at 2: {2} 50/60 = 0.833; {2,3} 70/80 = 0.875 > 0.833 -> q2 = 60
    # lot at 3: {3} 50/20 = 2.5; {3,4} 90/60 = 1.5; {3,4,5} 110/70 = 1.571 > 1.5 -> q3 = 60
    # lot at 5: q5 = 10
    # cost: 4 set-ups 200 + end stock 10 (t0) + 40 (t3) = 250
    plan = least_unit_cost(*INST_A)
    np.testing.assert_allclose(plan.quantities, [40, 0, 60, 60, 0, 10])
    assert plan.total_cost == pytest.approx(250.0)


def test_part_period_balancing_by_hand() -> None:
    # instance A. lot at 0: holding {0} 0, {0,1} 10 <= 50, {0,1,2} 130 > 50; |130-50| = 80 > |10-50| = 40
    #   -> q0 = 40 (periods 0-1); lot at 2: {2,3} 20, {2,3,4} 100; |100-50| = 50 > |20-50| = 30 -> q2 = 80;
    #   lot at 4: {4,5} 10, end -> q4 = 50. Cost 150 + 40 = 190.
    plan = part_period_balancing(*INST_A)
    np.testing.assert_allclose(plan.quantities, [40, 0, 80, 0, 50, 0])
    # instance B: d = [10, 10, 10, 10], K = 25, h = 1. Lot at 0: {0,1} holding 10 <= 25; {0,1,2} holding
    #   10 + 20 = 30 > 25 but |30-25| = 5 < |10-25| = 15: one more period -> q0 = 30; lot at 3: q3 = 10.
    #   Cost 2 * 25 + end stock 20 + 10 = 80. (Silver-Meal stops at {0,1}: 17.5 < 55/3, cost 70.)
    plan = part_period_balancing([10, 10, 10, 10], 25.0, 1.0)
    np.testing.assert_allclose(plan.quantities, [30, 0, 0, 10])
    assert plan.total_cost == pytest.approx(80.0)
    np.testing.assert_allclose(silver_meal([10, 10, 10, 10], 25.0, 1.0).quantities, [20, 0, 20, 0])


@settings(max_examples=60, deadline=None)
@given(instances())
def test_heuristics_feasible_and_not_better_than_optimum(
    inst: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    d, K, h = inst  # noqa: N806
    best = wagner_whitin(d, K, h).total_cost
    for fn in (silver_meal, least_unit_cost, part_period_balancing):
        plan = fn(d, K, h)
        assert np.all(plan.inventory >= 0) and plan.quantities.sum() == pytest.approx(d.sum())
        assert plan.total_cost >= best - 1e-9


@settings(max_examples=40, deadline=None)
@given(instances())
def test_capacitated_milp_with_infinite_capacity_equals_wagner_whitin(
    inst: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    d, K, h = inst  # noqa: N806
    plan = capacitated_lot_sizing(d, K, h, capacity=np.inf)
    # HiGHS meets equalities to its feasibility tolerance (1e-7 per row): allow 1e-5
    assert plan.total_cost == pytest.approx(wagner_whitin(d, K, h).total_cost, rel=1e-7, abs=1e-5)


def test_capacitated_milp_by_hand() -> None:
    # d = [0, 0, 30], capacity 20, K = 10, h = 1: period 2 can get only 20, so 10 more come earlier.
    # Best: 10 in period 1 (held one period: 10) + 20 in period 2 -> 2 set-ups 20 + holding 10 = 30.
    # (10 in period 0 holds two periods: 20 + 20 = 40.)
    plan = capacitated_lot_sizing([0, 0, 30], 10.0, 1.0, capacity=20)
    np.testing.assert_allclose(plan.quantities, [0, 10, 20], atol=1e-9)
    assert plan.total_cost == pytest.approx(30.0)
    assert plan.info["mip_gap"] <= 1e-6
    with pytest.raises(ValueError, match="no feasible plan"):
        capacitated_lot_sizing([0, 0, 30], 10.0, 1.0, capacity=5)


def test_bad_input_names_the_field() -> None:
    with pytest.raises(ValueError, match="demand"):
        wagner_whitin([1, -2], 1.0, 1.0)
    with pytest.raises(ValueError, match="setup_cost"):
        silver_meal([1, 2], [1.0, 2.0, 3.0], 1.0)
    with pytest.raises(ValueError, match="holding_cost"):
        least_unit_cost([1, 2], 1.0, -1.0)
    with pytest.raises(ValueError, match="planner"):
        get_planner("dalsa")


def test_registry_planners_all_meet_demand() -> None:
    d = [30, 10, 60, 20, 40, 10]
    for name in PLANNERS:
        plan = get_planner(name)(d, 50.0, 1.0)
        assert plan.quantities.sum() == pytest.approx(sum(d)), name
        assert plan.total_cost >= 190.0 - 1e-9, name  # 190 = the optimum (brute force below)
    assert brute_force(np.array(d, float), np.full(6, 50.0), np.ones(6)) == pytest.approx(190.0)
