"""The bound ladder in evaluate / benchmark: ladder rows, gaps against the right quantity, validity."""

from __future__ import annotations

import math

import numpy as np
import pytest
from rich.console import Console

from invmgmt_marl import evaluate, load_scenario
from invmgmt_marl.bounds import Bound, Skipped, bound_ladder, serial_optimum, steady_state_cost
from invmgmt_marl.bounds.gaps import PERFECT_INFORMATION, best_valid_gap, relative_gap
from invmgmt_marl.compile import compile_network
from invmgmt_marl.evaluate import run_benchmark, select_baselines
from invmgmt_marl.kpis import steady_state_warmup
from invmgmt_marl.policies import make_policy
from invmgmt_marl.policies.base import EchelonBaseStockPolicy, RandomPolicy
from invmgmt_marl.reporting import benchmark_document
from invmgmt_marl.sim.ledger import COST_FIELDS

LADDER: list[Bound | Skipped] = [
    Bound("newsvendor", 8.0, "lower_bound", "agent-period", "episode", "x"),
    Bound("newsvendor", 7.0, "lower_bound", "agent-period", "long_run", "x"),
    Bound("clark_scarf", 8.5, "optimum", "agent-period", "long_run", "x"),
    Bound("ref", 100.0, "reference", "agent-period", "episode", "not a bound"),
    Skipped("mdp", "too big"),
]


def test_gaps_use_only_valid_comparisons() -> None:
    # hand computation: episode mean 10 (s.e. 1), steady-state 9 (s.e. 0.5), LP 2
    #   LP: (10 - 2) / 2 = 4;  newsvendor episode: (10 - 8) / 8 = 0.25
    #   newsvendor long run: (9 - 7) / 7 = 0.2857;  Clark-Scarf: (9 - 8.5) / 8.5 = 0.0588 (the best)
    best, gaps = best_valid_gap(LADDER, (10.0, 1.0), (9.0, 0.5), 2.0)
    got = {(g.bound, g.horizon, g.quantity): g.gap for g in gaps}
    assert got == pytest.approx(
        {
            ("perfect_information", "episode", "episode mean"): 4.0,
            ("newsvendor", "episode", "episode mean"): 0.25,
            ("newsvendor", "long_run", "steady-state cost"): 2 / 7,
            ("clark_scarf", "long_run", "steady-state cost"): 0.5 / 8.5,
        }
    )
    assert best is not None and best.bound == "clark_scarf" and best.gap_stderr == pytest.approx(0.5 / 8.5)
    # a policy that may look at the period index: long-run rungs are never compared with its episode mean
    best, gaps = best_valid_gap(LADDER, (10.0, 1.0), None, 2.0)
    assert {g.quantity for g in gaps} == {"episode mean"}
    assert best is not None and (best.bound, best.gap) == ("newsvendor", pytest.approx(0.25))
    # profit: the cost rungs do not bound it, only the LP does: (bound - profit) / |bound| = (12 - 10) / 12
    best, gaps = best_valid_gap(LADDER, (10.0, 1.0), (9.0, 0.5), 12.0, objective="profit")
    assert [g.bound for g in gaps] == ["perfect_information"] and best is not None
    assert best.gap == pytest.approx(2 / 12)
    assert math.isnan(relative_gap(1.0, 0.0))


def test_evaluate_reports_the_ladder_against_the_right_quantity() -> None:
    net = compile_network(load_scenario("serial_clark_scarf", periods=40))
    opt = serial_optimum(net)
    pol = EchelonBaseStockPolicy(opt.echelon_levels)
    ev = evaluate(pol, net, episodes=6, seed=3)
    s = ev.summary()
    names = [(r["name"], r.get("horizon")) for r in s["ladder"]]
    assert names == [
        ("perfect_information", "episode"),
        ("newsvendor", "episode"),
        ("newsvendor", "long_run"),
        ("clark_scarf", "long_run"),
    ]
    assert s["ladder"][0]["label"] == PERFECT_INFORMATION
    assert s["ladder"][3]["kind"] == "optimum" and s["stationary"] is True
    # the steady-state cost is recomputed independently: bounds.steady_state_cost draws the same paths
    # (default_rng(seed), as evaluate) and averages periods 10..39 (warm-up 40 // 4)
    w = steady_state_warmup(40)
    assert w == 10
    ss, ss_se = steady_state_cost(net, pol, episodes=6, warmup=w, seed=3)
    assert s["steady_state"]["cost_per_agent_period"] == pytest.approx(ss)
    # by hand from the trajectory as well
    tr = ev.trajectory
    assert tr is not None
    by_hand = sum(tr.node(f)[w:].sum() for f in COST_FIELDS) / (6 * (40 - w) * net.n_nodes)
    assert ss == pytest.approx(by_hand)
    gaps = {(g["bound"], g["quantity"]): g for g in s["valid_gaps"]}
    cs = gaps[("clark_scarf", "steady-state cost")]
    assert cs["policy_value"] == pytest.approx(ss) and cs["policy_stderr"] == pytest.approx(ss_se)
    assert cs["gap"] == pytest.approx((ss - opt.cost / 3) / (opt.cost / 3))
    nv = gaps[("newsvendor", "episode mean")]
    assert nv["policy_value"] == pytest.approx(s["cost"]["per_agent_period"])
    assert s["best_valid_bound"]["gap"] == min(g["gap"] for g in s["valid_gaps"])
    # the same policy declared non-stationary: no long-run comparison at all
    s2 = evaluate(pol, net, episodes=6, seed=3, stationary=False, bound=False, floor=False).summary()
    assert {g["quantity"] for g in s2["valid_gaps"]} == {"episode mean"}
    assert s2["best_valid_bound"]["bound"] == "newsvendor"
    # a plain function has no `stationary` attribute: treated as non-stationary
    s3 = evaluate(lambda n, st, rng: pol(n, st, rng), net, episodes=2, seed=3, bound=False, floor=False)
    assert s3.stationary is False
    # the rich table shows every rung and the gap with its bound and quantity
    console = Console(record=True, width=200)
    console.print(ev.summary_table())
    out = console.export_text()
    for text in (PERFECT_INFORMATION, "newsvendor lower bound (episode)", "clark_scarf optimum (long run)"):
        assert text in out
    assert "gap to best valid bound" in out and "steady-state cost)" in out


def test_benchmark_ladder_rows_and_best_policy_gap() -> None:
    rows = run_benchmark(
        ["serial_clark_scarf"],
        episodes=3,
        train_episodes=4,
        baselines=select_baselines(["constant", "random"]),
        cache=False,
        periods=30,
    )
    kinds = [(r["kind"], r["label"]) for r in rows]
    assert kinds == [
        ("constant", "floor: order nothing"),
        ("random", "random"),
        ("oracle", PERFECT_INFORMATION),
        ("ladder", "newsvendor"),
        ("ladder", "newsvendor"),
        ("ladder", "clark_scarf"),
    ]
    floor, rnd = rows[0]["summary"], rows[1]["summary"]
    c0, c1 = floor["cost"]["per_agent_period"], rnd["cost"]["per_agent_period"]
    best = min(c0, c1)
    for s, c in ((floor, c0), (rnd, c1)):
        assert s["best_policy"]["value_per_agent_period"] == pytest.approx(best)
        assert s["best_policy"]["gap"] == pytest.approx((c - best) / best)
    assert min(floor["best_policy"]["gap"], rnd["best_policy"]["gap"]) == 0.0
    doc = benchmark_document(rows, "cmd", 3, 0, 4, 123)
    assert "**newsvendor lower bound (episode)**" in doc and "**clark_scarf optimum (long run)**" in doc
    assert "## Bound ladder per scenario" in doc
    ladder_line = [ln for ln in doc.splitlines() if ln.startswith("| serial_clark_scarf | cost | ")][-1]
    assert "(optimum)" in ladder_line


@pytest.mark.parametrize(
    "scenario", ["serial_clark_scarf", "distribution_tree", "divergent", "seasonal_retail", "hmarl"]
)
def test_no_bound_above_a_simulated_policy(scenario: str) -> None:
    """Every episode rung <= every policy's episode mean, every long-run rung <= every stationary
    policy's steady-state cost, up to 3 standard errors (the bounds are expectations)."""
    net = compile_network(load_scenario(scenario))
    rungs = [r for r in bound_ladder(net) if isinstance(r, Bound)]
    assert rungs
    policies = [RandomPolicy(), make_policy("base_stock", net), make_policy("echelon_base_stock", net)]
    if scenario == "serial_clark_scarf":
        policies.append(EchelonBaseStockPolicy(serial_optimum(net).echelon_levels))
    for pol in policies:
        ev = evaluate(pol, net, episodes=12, seed=5, bound=False, floor=False, ladder=rungs)
        per = ev.cost_per_agent_period
        ss = ev.kpis["steady_state_cost"]
        for r in rungs:
            x = per if r.horizon == "episode" else ss
            slack = 3 * x.std(ddof=1) / np.sqrt(len(x))
            assert r.value <= x.mean() + slack, (r.name, r.horizon, repr(pol), r.value, x.mean())
