"""The bridge from the simulator to Clark-Scarf: simulated cost at the optimal levels equals C*."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from invmgmt_marl import load_scenario
from invmgmt_marl.bounds import NotApplicable, serial_mapping, serial_optimum
from invmgmt_marl.compile import compile_network
from invmgmt_marl.demand import sample_network_demand
from invmgmt_marl.policies.base import EchelonBaseStockPolicy
from invmgmt_marl.rollout import rollout
from invmgmt_marl.sim.ledger import COST_FIELDS

SCEN = Path(__file__).resolve().parents[2] / "scenarios"


@pytest.fixture(scope="module")
def net():  # type: ignore[no-untyped-def]
    return compile_network(load_scenario(SCEN / "serial_clark_scarf.yaml"))


def test_mapping_of_the_shipped_scenario(net) -> None:  # type: ignore[no-untyped-def]
    m = serial_mapping(net)
    assert m.nodes == (0, 1, 2) and m.exact
    assert m.sim_lead_times == (1, 1, 2)
    assert m.lead_times == (2, 1, 2)  # the store sees L + 1 periods of demand, the others L
    # offset = -mu (h'_2 + h'_2 L_1 + h'_3 L_2) = -5 (4 + 4 + 2) = -50 (pipeline and end-of-period holding)
    assert m.offset == pytest.approx(-50.0, abs=1e-5)
    # the model's optimum equals stockpyl 1.0.2's for echelon holding {1: 3, 2: 2, 3: 2}, lead times
    # {1: 2, 2: 1, 3: 2}, p = 37.12, N(5, 1): C* = 71.18672 (default grid), S* = 12.12 / 17.36 / 27.88
    opt = serial_optimum(net)
    assert opt.solution.cost == pytest.approx(71.1867, rel=2e-5)
    np.testing.assert_allclose(opt.echelon_levels, [12.12, 17.36, 27.88], atol=0.02)


def test_simulated_cost_at_the_optimum_matches_clark_scarf(net) -> None:  # type: ignore[no-untyped-def]
    """C* (model) + offset vs the simulator, 120 episodes x 200 periods, first 20 periods discarded;
    the same demand paths for the optimum and each +-1 perturbation (common random numbers)."""
    opt = serial_optimum(net)
    levels = [opt.echelon_levels]
    for j in range(3):
        for d in (-1.0, 1.0):
            lv = opt.echelon_levels.copy()
            lv[j] += d
            levels.append(lv)
    k, eps, warm = len(levels), 120, 20
    demand = sample_network_demand(net, np.random.default_rng(7), eps)
    rows = np.repeat(np.array(levels), eps, axis=0)  # (k * eps, N): one row of levels per episode
    tr = rollout(net, EchelonBaseStockPolicy(rows), demand=np.tile(demand, (k, 1, 1)))
    cost = sum(tr.node(f)[warm:] for f in COST_FIELDS).sum(axis=2).mean(axis=0).reshape(k, eps)  # type: ignore[union-attr]
    mean = cost.mean(axis=1)
    se = cost.std(axis=1, ddof=1) / np.sqrt(eps)
    exact = np.array([opt.cost_of(lv) for lv in levels])
    assert exact[0] == pytest.approx(opt.cost)
    # every level set: the simulated cost is its exact long-run cost within 3 standard errors
    np.testing.assert_array_less(np.abs(mean - exact), 3 * se)
    # no +-1 perturbation beats the optimum beyond sampling error (paired differences)
    diff = cost[1:] - cost[0]
    se_d = diff.std(axis=1, ddof=1) / np.sqrt(eps)
    assert np.all(diff.mean(axis=1) > -3 * se_d)
    assert np.all(exact[1:] > exact[0])


def test_not_applicable_names_the_reason() -> None:
    serial = compile_network(load_scenario(SCEN / "serial.yaml"))
    with pytest.raises(NotApplicable, match="merton"):
        serial_mapping(serial)
    tree = compile_network(load_scenario(SCEN / "distribution_tree.yaml"))
    with pytest.raises(NotApplicable, match="stores"):
        serial_mapping(tree)
