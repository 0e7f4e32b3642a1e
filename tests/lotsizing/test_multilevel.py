"""Multi-level lot sizing: the joint MILP is never worse than level by level, the GA is reproducible
and never worse than its initial population."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invmgmt_marl.lotsizing import (
    MultiLevelProblem,
    evaluate_receipts,
    genetic_algorithm,
    joint_milp,
    level_by_level,
    silver_meal,
    wagner_whitin,
)


def tree_problem(seed: int, t_len: int = 8) -> MultiLevelProblem:
    """Two stores <- warehouse <- supplier (root); lead times 0..2; initial stock covers every
    requirement before the lead times (stores: demand of their first L periods; upstream: everything
    the children could release in the first periods)."""
    rng = np.random.default_rng(seed)
    d = np.zeros((4, t_len))
    d[:2] = rng.integers(0, 15, size=(2, t_len))
    lead = rng.integers(0, 3, size=4)
    init = np.zeros(4)
    init[:2] = [d[i, : lead[i]].sum() for i in range(2)]
    init[2] = d[:2].sum() if lead[2] > 0 else 0.0
    init[3] = d[:2].sum() if lead[3] > 0 else 0.0
    k = rng.integers(10, 80, size=4)
    h = rng.choice([0.5, 1.0, 2.0], size=4)
    h[3] = h[3] / 2  # upstream stock is cheaper
    return MultiLevelProblem.create(d, [2, 2, 3, -1], lead, k, h, init)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000))
def test_joint_milp_not_worse_than_level_by_level(seed: int) -> None:
    prob = tree_problem(seed)
    joint = joint_milp(prob)
    assert joint.total_cost <= level_by_level(prob).total_cost + 1e-6
    assert joint.total_cost <= level_by_level(prob, silver_meal).total_cost + 1e-6
    # the joint plan is a feasible plan of the same model (re-evaluated independently)
    assert evaluate_receipts(prob, joint.receipts).total_cost == pytest.approx(joint.total_cost)


def test_level_by_level_is_suboptimal_by_hand() -> None:
    """Serial store <- supplier, no lead times, store demand [10, 10]; store K = 5, h = 1.

    Supplier K = 100, h = 0. Level by level: the store alone orders lot-for-lot (2 * 5 = 10 beats one
    lot, 5 + 10 holding = 15); the supplier then needs [10, 10] and takes one lot of 20 (100, holding
    free): 110. Joint alternative (store one lot: 15, supplier 100) = 115, so 110 is optimal too.
    """
    prob = MultiLevelProblem.create([[10, 10], [0, 0]], [1, -1], [0, 0], [5, 100], [1, 0])
    assert level_by_level(prob).total_cost == pytest.approx(110.0)
    assert joint_milp(prob).total_cost == pytest.approx(110.0)
    # with supplier holding 20 per unit-period, level by level (supplier lot of 20 held 10 units: 200,
    # or two set-ups: 200) pays 10 + 200 = 210; joint: the store takes 20 at t=0 (5 + 10) and the
    # supplier one lot of 20 at t=0 with nothing left over (100) = 115.
    prob = MultiLevelProblem.create([[10, 10], [0, 0]], [1, -1], [0, 0], [5, 100], [1, 20])
    assert level_by_level(prob).total_cost == pytest.approx(210.0)
    assert joint_milp(prob).total_cost == pytest.approx(115.0)


def test_joint_milp_single_node_equals_wagner_whitin() -> None:
    d = [69, 29, 36, 61, 61, 26, 34, 67, 45, 67, 79, 56]
    k = [85, 102, 102, 101, 98, 114, 105, 86, 119, 110, 98, 114]
    prob = MultiLevelProblem.create([d], [-1], [0], [k], 1.0)
    assert joint_milp(prob).total_cost == pytest.approx(wagner_whitin(d, k, 1.0).total_cost)  # 864


def test_ga_reproducible_and_never_worse_than_initial_best() -> None:
    prob = tree_problem(7, t_len=10)
    a = genetic_algorithm(prob, rng=123, population=16, generations=25, seed_plans=False)
    b = genetic_algorithm(
        prob, rng=np.random.default_rng(123), population=16, generations=25, seed_plans=False
    )
    np.testing.assert_array_equal(a.receipts, b.receipts)
    assert a.info["history"] == b.info["history"]
    assert a.total_cost <= a.info["initial_best"] + 1e-9
    hist = np.array(a.info["history"])
    assert np.all(np.diff(hist) <= 1e-9)  # elitism: the best never gets worse
    assert a.total_cost == pytest.approx(hist[-1])
    assert a.total_cost >= joint_milp(prob).total_cost - 1e-6  # the MILP is exact
    c = genetic_algorithm(prob, rng=124, population=16, generations=25, seed_plans=False)
    assert c.info["history"] != a.info["history"]  # the seed matters


def test_ga_budget_and_seeding() -> None:
    prob = tree_problem(11)
    g = genetic_algorithm(prob, rng=0, population=10, generations=1000, max_evaluations=50)
    assert g.info["evaluations"] <= 50
    # seeded with the level-by-level Wagner-Whitin pattern: never worse than it
    assert g.total_cost <= level_by_level(prob).total_cost + 1e-9


def test_infeasible_and_bad_input() -> None:
    prob = MultiLevelProblem.create([[5, 5, 5]], [-1], [1], 10.0, 1.0)  # needs 5 in period 0, lead time 1
    with pytest.raises(ValueError, match="before its lead time"):
        level_by_level(prob)
    with pytest.raises(ValueError, match="no feasible plan"):
        joint_milp(prob)
    with pytest.raises(ValueError, match="cycle"):
        MultiLevelProblem.create([[1], [1]], [1, 0], [0, 0], 1.0, 1.0)
    with pytest.raises(ValueError, match="lead_time"):
        MultiLevelProblem.create([[1]], [-1], [-1], 1.0, 1.0)
    with pytest.raises(ValueError, match="runs short"):
        evaluate_receipts(MultiLevelProblem.create([[3, 3]], [-1], [0], 1.0, 1.0), [[3, 0]])
