"""The Clark-Scarf / Chen-Zheng recursion against published values, stockpyl and brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from invmgmt_marl.bounds.clark_scarf import (
    normal_dist,
    pmf_dist,
    poisson_dist,
    serial_cost,
    solve_serial,
)


def test_snyder_shen_example_6_1() -> None:
    # Snyder & Shen, Fundamentals of Supply Chain Theory (2nd ed.), Example 6.1: local holding 7/4/2
    # (echelon 3/2/2), lead times 1/1/2, p = 37.12, demand N(5, 1); stage 1 downstream.
    # Independent value: stockpyl 1.0.2 (separate venv, numpy<2), optimize_base_stock_levels with dict
    # arguments echelon_holding_cost={1:3,2:2,3:2}, lead_time={1:1,2:1,3:2}, x_num=3000, d_num=300:
    # C* = 47.660147, S* = 6.4987 / 12.028 / 22.705 (its default grid gives 47.6654). Its own unit test
    # on a coarse grid (x_num=100, d_num=10) has 47.8206. The brief's 47.7747 / 6.60 / 12.00 / 22.79 was
    # reproduced by neither this recursion (grid 0.02 .. 0.005: 47.66036 .. 47.66016) nor stockpyl.
    sol = solve_serial([1, 1, 2], 37.12, normal_dist(5, 1, step=0.01), local_holding=[7, 4, 2])
    assert sol.cost == pytest.approx(47.6601, rel=2e-5)
    np.testing.assert_allclose(sol.echelon_levels, [6.50, 12.03, 22.705], atol=0.015)
    np.testing.assert_allclose(sol.local_levels, np.diff(np.r_[0.0, sol.echelon_levels]))


def test_stockpyl_readme_instance() -> None:
    # stockpyl README (github.com/LarrySnyder/stockpyl, 2023): optimize_base_stock_levels(num_nodes=3,
    # echelon_holding_cost=[4, 3, 1], lead_time=[1, 1, 2], stockout_cost=40, demand_mean=10,
    # demand_standard_deviation=2) -> C* = 86.02533, S* = 12.765 / 23.497 / 46.280 (an older release and
    # grid). stockpyl 1.0.2 with dict arguments (stage 1 = the first entry) gives 86.01606 (default
    # grid) and S* = 12.79 / 23.53 / 46.32. Our grid 0.01 gives 86.0156: within 1.2e-4 of the README.
    sol = solve_serial([1, 1, 2], 40.0, normal_dist(10, 2, step=0.01), echelon_holding=[4, 3, 1])
    assert sol.cost == pytest.approx(86.016, rel=2e-5)
    assert sol.cost == pytest.approx(86.0253, rel=2e-4)
    np.testing.assert_allclose(sol.echelon_levels, [12.765, 23.497, 46.280], atol=0.04)


def test_single_stage_is_the_newsvendor() -> None:
    # one stage, lam periods of Poisson(3) demand: S* = the smallest S with F(S) >= p / (p + h)
    # (critical fractile) and C* = E[h (S - D)^+ + p (D - S)^+], both from scipy directly.
    h, p, lam = 2.0, 9.0, 3
    sol = solve_serial([lam], p, poisson_dist(3.0), local_holding=[h])
    lt = stats.poisson(3.0 * lam)
    s = int(lt.ppf(p / (p + h)))
    d = np.arange(0, 80)
    cost = float(((h * np.maximum(s - d, 0) + p * np.maximum(d - s, 0)) * lt.pmf(d)).sum())
    assert sol.echelon_levels[0] == s
    assert sol.cost == pytest.approx(cost, rel=1e-9)


def test_two_stage_brute_force() -> None:
    # integer demand: every cost is exact; minimise serial_cost (forward distribution of the echelon
    # levels, a different computation from the backward recursion) over a grid of levels by brute force
    demand = pmf_dist([0.1, 0.2, 0.3, 0.25, 0.15])
    kw = {"local_holding": [3.0, 1.0]}
    sol = solve_serial([2, 1], 19.0, demand, **kw)
    best = min(
        (serial_cost([s1, s2], [2, 1], 19.0, demand, **kw), s1, s2)
        for s1, s2 in itertools.product(range(0, 14), range(0, 20))
    )
    assert sol.cost == pytest.approx(best[0], rel=1e-12)
    assert tuple(sol.echelon_levels) == (best[1], best[2])


def test_serial_cost_at_the_optimum_equals_the_recursion() -> None:
    demand = poisson_dist(4.0)
    sol = solve_serial([1, 2, 1], 12.0, demand, echelon_holding=[1.0, 0.5, 0.25])
    c = serial_cost(sol.echelon_levels, [1, 2, 1], 12.0, demand, echelon_holding=[1.0, 0.5, 0.25])
    assert c == pytest.approx(sol.cost, rel=1e-10)
    for j in range(3):
        for dj in (-1, 1):
            lv = sol.echelon_levels.copy()
            lv[j] += dj
            assert (
                serial_cost(lv, [1, 2, 1], 12.0, demand, echelon_holding=[1.0, 0.5, 0.25]) >= sol.cost - 1e-9
            )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"lead_times": [1, -1], "local_holding": [2, 1]}, r"lead_times\[1\]"),
        ({"lead_times": [1], "local_holding": [2, 1]}, "lead_times: expected 2"),
        ({"lead_times": [1, 1], "echelon_holding": [1, -1]}, "echelon_holding"),
        ({"lead_times": [1, 1]}, "give exactly one"),
    ],
)
def test_bad_input_names_the_field(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        solve_serial(stockout_cost=5.0, demand=poisson_dist(2.0), **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="pmf: must sum to 1"):
        pmf_dist([0.5, 0.4])
