"""Value iteration on small single-store instances: exact, attained in the simulator, beats base stock."""

from __future__ import annotations

import numpy as np
import pytest

from invmgmt_marl.bounds.clark_scarf import pmf_dist
from invmgmt_marl.bounds.ladder import newsvendor_cost
from invmgmt_marl.bounds.mdp import (
    MDPPolicy,
    SingleStoreMDP,
    base_stock_table,
    evaluate_policy,
    single_store_scenario,
    solve_mdp,
)
from invmgmt_marl.compile import compile_network
from invmgmt_marl.demand import sample_network_demand
from invmgmt_marl.policies.base import BaseStockPolicy
from invmgmt_marl.rollout import rollout
from invmgmt_marl.scenario.schema import validate_scenario
from invmgmt_marl.sim.ledger import COST_FIELDS

UNIFORM = (0.2,) * 5  # demand uniform on 0..4


def _best_base_stock(m: SingleStoreMDP) -> tuple[float, int]:
    tabs = m.tables()
    return min((evaluate_policy(m, base_stock_table(m, s), tabs)[0], s) for s in range(0, 25))


def _sim_costs(m: SingleStoreMDP, policies: list[object], episodes: int = 300, warm: int = 30) -> np.ndarray:
    """``(len(policies), episodes)`` per-period cost after the warm-up, same demand paths for all."""
    net = compile_network(validate_scenario(single_store_scenario(m, periods=200)))
    demand = sample_network_demand(net, np.random.default_rng(11), episodes)
    out = []
    for pol in policies:
        tr = rollout(net, pol, demand=demand)  # type: ignore[arg-type]
        out.append(sum(tr.node(f)[warm:] for f in COST_FIELDS).sum(axis=2).mean(axis=0))  # type: ignore[union-attr]
    return np.array(out)


def test_backorders_optimum_is_base_stock_and_the_newsvendor() -> None:
    # with backorders base stock is optimal and its cost is the newsvendor cost of L + 1 = 3 periods
    # of demand (computed independently from the pmf): value iteration must find exactly that
    m = SingleStoreMDP(UNIFORM, lead_time=2, holding_cost=1.0, shortage_cost=9.0, mode="backlog")
    sol = solve_mdp(m)
    nv, level = newsvendor_cost(pmf_dist(UNIFORM).power(3), 1.0, 9.0)
    assert sol.gain == pytest.approx(nv, abs=1e-6)
    assert _best_base_stock(m) == (pytest.approx(nv, abs=1e-9), int(level))
    assert sol.edge_mass < 1e-9


def test_lost_sales_optimum_beats_base_stock_in_the_simulator() -> None:
    # lost sales with lead time 2: base stock is not optimal (e.g. Zipkin 2008, "Old and new methods for
    # lost-sales inventory systems"); here 3.8058 vs 3.9393 for the best level 9
    m = SingleStoreMDP(UNIFORM, lead_time=2, holding_cost=1.0, shortage_cost=9.0, mode="lost_sales")
    sol = solve_mdp(m)
    lo, hi = sol.gain_bounds
    assert lo - 1e-6 <= sol.gain <= hi + 1e-6
    bs_cost, bs_level = _best_base_stock(m)
    assert sol.gain < bs_cost - 0.1
    # one-period newsvendor rung of the ladder is below the optimum
    assert newsvendor_cost(pmf_dist(UNIFORM), 1.0, 9.0)[0] <= sol.gain
    sim = _sim_costs(m, [MDPPolicy(sol), BaseStockPolicy([bs_level, 0.0])])
    mean, se = sim.mean(axis=1), sim.std(axis=1, ddof=1) / np.sqrt(sim.shape[1])
    assert abs(mean[0] - sol.gain) < 3 * se[0]  # the table policy attains the DP gain in our simulator
    assert abs(mean[1] - bs_cost) < 3 * se[1]
    diff = sim[1] - sim[0]  # paired: base stock minus optimal, same demand
    assert diff.mean() > 3 * diff.std(ddof=1) / np.sqrt(len(diff))


def test_perishable_lost_sales() -> None:
    m = SingleStoreMDP(
        UNIFORM, lead_time=1, holding_cost=1.0, shortage_cost=9.0, shelf_life=2, waste_cost=2.0, max_order=8
    )
    sol = solve_mdp(m)
    bs_cost, _ = _best_base_stock(m)
    assert sol.gain <= bs_cost + 1e-9
    sim = _sim_costs(m, [MDPPolicy(sol)], episodes=200)[0]
    assert abs(sim.mean() - sol.gain) < 3 * sim.std(ddof=1) / np.sqrt(len(sim))


def test_bad_model_names_the_field() -> None:
    with pytest.raises(ValueError, match="lead_time"):
        SingleStoreMDP(UNIFORM, lead_time=0, holding_cost=1.0, shortage_cost=1.0)
    with pytest.raises(ValueError, match="shelf_life"):
        SingleStoreMDP(
            UNIFORM, lead_time=1, holding_cost=1.0, shortage_cost=1.0, mode="backlog", shelf_life=2
        )
    with pytest.raises(ValueError, match="demand_pmf"):
        single_store_scenario(
            SingleStoreMDP((0.5, 0.3, 0.2), lead_time=1, holding_cost=1.0, shortage_cost=1.0)
        )
