"""evaluate(): batched KPIs agree with the env run episode by episode, with rollout, with the oracle;
result serialisation; the evaluate and benchmark commands."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console
from rich.table import Table

import invmgmt_marl
from invmgmt_marl.cli import main
from invmgmt_marl.compile import compile_network
from invmgmt_marl.demandsets import write_demand_set
from invmgmt_marl.evaluate import evaluate
from invmgmt_marl.oracle import perfect_information_bound
from invmgmt_marl.policies import ConstantPolicy, EchelonBaseStockPolicy, ForecastOrderUpToPolicy, make_policy
from invmgmt_marl.rollout import rollout
from invmgmt_marl.scenario import load_scenario
from invmgmt_marl.sim import COST_FIELDS

PERIODS = 40


@pytest.mark.parametrize(
    ("scenario", "policy_name"),
    [("serial", "base_stock"), ("net_2x3", "base_stock"), ("serial", "forecast"), ("hmarl", "base_stock")],
)
def test_batch_evaluation_equals_env_episode_by_episode(scenario: str, policy_name: str) -> None:
    """The same policy through the PettingZoo ParallelEnv, one episode at a time: with
    ``action_type="box"`` an agent's action is the orders on its inbound edges in ``net.agent_edges[i]``
    order. Orders are integers (integer levels and demand), so the Box's float32 holds them exactly."""
    net = compile_network(load_scenario(scenario, periods=PERIODS))

    def make() -> object:
        if policy_name == "forecast":  # stateful: keeps a demand history, reset at t = 0
            return ForecastOrderUpToPolicy(safety=3.0, window=3, integer=True)
        return make_policy("base_stock", net, integer=True)

    ev = evaluate(make(), scenario, episodes=3, seed=11, bound=False, floor=False, periods=PERIODS)
    demand = ev.trajectory.demand
    env = invmgmt_marl.parallel_env(scenario, periods=PERIODS, action_type="box")
    rng = np.random.default_rng(0)
    for k in range(3):
        policy = make()
        env.reset(seed=k, options={"demand": demand[k]})
        cost = np.zeros(net.n_nodes)
        while env.agents:
            orders = policy(env.net, env._sim_state, rng)
            assert np.array_equal(orders, np.round(orders))
            actions = {
                a: orders[0, env.net.agent_edges[i]].astype(np.float32) for i, a in enumerate(env.net.agents)
            }
            _, _, _, _, infos = env.step(actions)
            cost += [sum(infos[a][f] for f in COST_FIELDS) for a in env.net.agents]
        np.testing.assert_allclose(ev.cost[k], cost, rtol=1e-12, atol=1e-9)
        assert cost.sum() > 0
    env.close()


def test_evaluate_agrees_with_rollout_and_oracle(tmp_path: Path) -> None:
    net = compile_network(load_scenario("serial", periods=PERIODS))
    policy = make_policy("base_stock", net)
    ev = evaluate(policy, net, episodes=4, seed=3)
    traj = rollout(net, policy, episodes=4, seed=3)  # same draw: evaluate == rollout(episodes, seed)
    np.testing.assert_array_equal(ev.cost, traj.cost())
    np.testing.assert_allclose(ev.cost.sum(axis=1), sum(ev.breakdown[f] for f in COST_FIELDS).sum(axis=1))
    np.testing.assert_allclose(ev.cost_per_agent_period, traj.cost().sum(axis=1) / (3 * PERIODS))
    # bound: the LP on each path, below the policy's cost
    lp = perfect_information_bound(net, traj.demand[2])
    assert ev.bound[2] == pytest.approx(lp.objective)
    assert np.all(ev.bound <= ev.value + 1e-6)
    assert ev.gap[2] == pytest.approx((ev.value[2] - lp.objective) / lp.objective)
    # floor: ordering nothing on the same demand; the score puts the floor at 0 and the bound at 1
    floor_cost = rollout(net, ConstantPolicy(0.0), seed=3, demand=traj.demand).cost().sum(axis=1)
    np.testing.assert_allclose(ev.floor, floor_cost)
    np.testing.assert_allclose(ev.score, (ev.value - floor_cost) / (ev.bound - floor_cost))
    assert np.all((ev.score > 0) & (ev.score < 1))
    floor_ev = evaluate(ConstantPolicy(0.0), net, demand=traj.demand, seed=3, bound=ev.bound)
    np.testing.assert_array_equal(floor_ev.score, 0.0)
    np.testing.assert_array_equal(floor_ev.bound, ev.bound)  # precomputed bounds are used as given
    s = ev.summary()
    assert s["bound"]["gap"] == pytest.approx((ev.value.mean() - ev.bound.mean()) / ev.bound.mean())
    assert s["cost"]["per_agent_period"] == pytest.approx(ev.cost_per_agent_period.mean())
    # the same paths from a demand-set folder give the same result
    write_demand_set(tmp_path / "set", traj.demand)
    ev2 = evaluate(policy, net, demand=tmp_path / "set", seed=3, bound=False, floor=False)
    np.testing.assert_array_equal(ev2.cost, ev.cost)
    assert ev2.demand_source == str(tmp_path / "set") and ev2.bound is None and ev2.score is None


def test_profit_objective_and_errors() -> None:
    ev = evaluate("base_stock", "hmarl", episodes=2, seed=0, objective="profit", periods=20)
    np.testing.assert_allclose(ev.value, (ev.revenue - ev.cost).sum(axis=1))
    assert np.all(ev.bound >= ev.value - 1e-6)  # the profit bound is an upper bound
    assert np.all(ev.gap >= -1e-9)
    with pytest.raises(ValueError, match="objective: expected one of"):
        evaluate("base_stock", "serial", objective="margin")
    with pytest.raises(ValueError, match=r"bound: expected one value per episode \(2\)"):
        evaluate("base_stock", "serial", episodes=2, bound=[1.0, 2.0, 3.0], periods=10)
    with pytest.raises(ValueError, match=r"demand: expected shape \(B, T, S\) with T=periods=10"):
        evaluate("base_stock", "serial", demand=np.ones((2, 9, 1)), periods=10)


def test_serialisation_and_table(tmp_path: Path) -> None:
    # constant demand: the variance ratio is undefined (NaN), which JSON must carry as null
    ev = evaluate("base_stock", "serial", episodes=3, seed=1, periods=30)
    const = evaluate("base_stock", "serial", demand=np.full((2, 30, 1), 10.0), periods=30, bound=False)
    data = json.loads(const.to_json(tmp_path / "c.json"))
    assert data["episodes"][0]["bullwhip_variance_ratio[store]"] is None
    assert json.loads((tmp_path / "c.json").read_text()) == data
    text = ev.to_csv(tmp_path / "e.csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 3 and float(rows[1]["cost"]) == pytest.approx(ev.cost[1].sum())
    assert float(rows[0]["gap"]) == pytest.approx(ev.gap[0])
    assert {"fill_rate[store_0]", "bullwhip_cv[supplier]", "holding_cost[warehouse_0]"} <= set(rows[0])
    table = ev.summary_table()
    assert isinstance(table, Table)
    console = Console(record=True, width=200)
    console.print(table)
    out = console.export_text()
    assert "fill rate" in out and "gap to perfect information" in out and "bullwhip (supplier)" in out


def test_cli_evaluate_tune_and_plots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INVMGMT_MARL_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "out"
    assert (
        main(
            [
                "evaluate",
                "--scenario",
                "serial",
                "--policy",
                "base_stock",
                "--tune",
                "--train-episodes",
                "4",
                "--episodes",
                "2",
                "--periods",
                "30",
                "--seed",
                "5",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    data = json.loads((out / "evaluation.json").read_text())
    assert data["tuning"]["seed"] == 123 and data["tuning"]["kind"] == "base_stock"
    assert data["summary"]["episodes"] == 2 and data["summary"]["bound"]["gap"] > 0
    assert len((out / "episodes.csv").read_text().splitlines()) == 3
    for name in ("episode.png", "bullwhip.png", "costs.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert list((tmp_path / "cache").rglob("*.json"))  # --tune caches
    # the same seed for training and test is refused
    assert main(["evaluate", "--policy", "base_stock", "--tune", "--seed", "123", "--periods", "10"]) == 2
    assert main(["evaluate", "--policy", "random", "--tune", "--periods", "10"]) == 2


def test_cli_benchmark_keeps_liu_section(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INVMGMT_MARL_CACHE", str(tmp_path / "cache"))
    doc = tmp_path / "bench.md"
    doc.write_text("old\n<!-- liu-reference:start -->\nLIU TABLE\n<!-- liu-reference:end -->\n")
    assert (
        main(
            [
                "benchmark",
                "--scenarios",
                "serial,net_2x3",
                "--policies",
                "constant,base_stock",
                "--episodes",
                "2",
                "--periods",
                "20",
                "--train-episodes",
                "2",
                "--out",
                str(doc),
                "--json",
                str(tmp_path / "rows.json"),
            ]
        )
        == 0
    )
    text = doc.read_text()
    assert "LIU TABLE" in text and not text.startswith("old")
    assert "Regenerate with: `invmgmt-marl benchmark --episodes 2" in text
    main_table = text.split("## Bound ladder per scenario")[0]
    table = [ln for ln in main_table.splitlines() if ln.startswith("| ")][1:]
    assert len(table) == 2 * 3  # 2 scenarios x (floor, base_stock, bound); Merton demand: no other rung
    assert any("floor: order nothing" in ln and "| 0.000 |" in ln for ln in table)
    rows = json.loads((tmp_path / "rows.json").read_text())
    assert [r["label"] for r in rows[:3]] == [
        "floor: order nothing",
        "base_stock",
        "perfect-information (knows the future)",
    ]


REPO_ROOT = Path(__file__).resolve().parents[1]
LIU = (REPO_ROOT / ".." / "shared" / "datasets" / "liu2022").resolve()


@pytest.mark.skipif(not LIU.is_dir(), reason=f"Liu et al. test demand files not found at {LIU}")
@pytest.mark.parametrize(
    ("folder", "demand", "policy", "expected", "liu"),
    [
        # the tuned parameters of docs/benchmark.md (64 training paths, seed 123): the figures there
        (
            "test_demand_stationary",
            {"process": "poisson", "mean": 10},
            EchelonBaseStockPolicy([53, 96, 137]),
            6.105583,
            6.62,
        ),
        (
            "test_demand_merton",
            None,
            ForecastOrderUpToPolicy(cover=[5, 6, 6], safety=[3, 0, 0], signal="demand"),
            12.579729,
            13.09,
        ),
        ("test_demand_merton", None, EchelonBaseStockPolicy([47, 93, 143]), 27.801417, 32.98),
    ],
    ids=["stationary-echelon", "merton-forecast", "merton-static"],
)
def test_liu_reference_figures_on_published_files(folder, demand, policy, expected, liu) -> None:
    """Pins the numbers reported in docs/benchmark.md: each tuned rule on Liu et al.'s 20 published
    test paths, at or below the cost Liu et al. report for the corresponding rule in their env."""
    net = compile_network(load_scenario("serial", demand=demand))
    ev = evaluate(policy, net, demand=LIU / folder, bound=False, floor=False)
    assert ev.episodes == 20
    assert ev.cost_per_agent_period.mean() == pytest.approx(expected, abs=1e-5)
    assert ev.cost_per_agent_period.mean() < liu
