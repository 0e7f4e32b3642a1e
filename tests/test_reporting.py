"""Tables stay readable at 80 columns (agents as rows beyond four agents); writers; trajectory_summary."""

from __future__ import annotations

import pytest
from rich.console import Console

from invmgmt_marl.compile import compile_network
from invmgmt_marl.evaluate import evaluate
from invmgmt_marl.metrics import trajectory_summary
from invmgmt_marl.policies import make_policy
from invmgmt_marl.reporting import (
    WIDE_MAX_AGENTS,
    benchmark_document,
    simulation_tables,
    summary_table,
    trace_table,
)
from invmgmt_marl.rollout import rollout
from invmgmt_marl.scenario import load_scenario
from invmgmt_marl.sim.ledger import COST_FIELDS


def _render(obj: object, width: int = 80) -> str:
    console = Console(record=True, width=width)
    console.print(obj)
    return console.export_text()


def test_many_agents_are_rows_and_fit_80_columns() -> None:
    ev = evaluate("base_stock", "large_network", episodes=1, seed=0, periods=12, bound=False, floor=False)
    assert len(ev.agents) > WIDE_MAX_AGENTS
    text = _render(summary_table(ev))
    lines = text.splitlines()
    assert max(len(ln) for ln in lines) <= 80
    assert "…" not in text  # nothing truncated
    # one row per agent, its name in full at the start of the row, and the system rows
    for a in ev.agents:
        assert any(ln.lstrip().startswith(a + " ") for ln in lines), a
    assert "bullwhip (supplier)" in text and "do-nothing floor" not in text
    # the first agent's cost per period, as the table prints it
    assert f"{ev.cost[0, 0] / 12:,.2f}" in text


def test_few_agents_keep_one_column_per_agent() -> None:
    ev = evaluate("base_stock", "serial", episodes=2, seed=0, periods=20, bound=False)
    header = next(ln for ln in _render(summary_table(ev), 120).splitlines() if "store_0" in ln)
    assert (
        header.index("store_0")
        < header.index("warehouse_0")
        < header.index("supplier_0")
        < header.index("system")
    )


def test_trajectory_summary_against_the_ledger() -> None:
    """Totals checked against independent sums of the trajectory: ``Trajectory.cost()`` (the ledger's
    total cost, all cost fields) and the demand array."""
    net = compile_network(load_scenario("hmarl", periods=15))
    traj = rollout(net, make_policy("base_stock", net), episodes=3, seed=4)
    s = trajectory_summary(net, traj)
    cost = traj.cost()  # (B, N)
    assert s["system"]["total_cost"] == pytest.approx(cost.sum(axis=1).mean())
    for i, a in enumerate(net.agents):
        assert set(COST_FIELDS) <= set(s["agents"][a])
        assert s["agents"][a]["total_cost"] == pytest.approx(cost[:, i].mean())
        assert s["agents"][a]["total_cost"] == pytest.approx(sum(s["agents"][a][f] for f in COST_FIELDS))
    assert s["system"]["demand"] == pytest.approx(traj.demand.sum(axis=(1, 2)).mean())
    assert s["system"]["unit_balance_error"] < 1e-6
    # the simulate tables at 80 columns: five agents, so one row per agent, nothing truncated
    s["policy"] = "base_stock"
    text = "".join(_render(t) for t in simulation_tables(s)) + _render(trace_table(traj, net, 2))
    assert "…" not in text and max(len(ln) for ln in text.splitlines()) <= 80
    assert f"{s['agents']['store_0']['ordered']:,.1f}" in text


def test_benchmark_document_keeps_the_liu_section() -> None:
    old = "x\n<!-- liu-reference:start -->\nLIU\n<!-- liu-reference:end -->\ny\n"
    text = benchmark_document([], "cmd", episodes=3, seed=1, train_episodes=4, train_seed=5, previous=old)
    assert text.startswith("# Baseline benchmark")
    assert f"the {['five', 'six', 'seven'][len(COST_FIELDS) - 5]} ledger cost fields" in text
    assert text.rstrip().endswith("<!-- liu-reference:end -->") and "\nLIU\n" in text
    assert "3 test demand paths" in text and "Regenerate with: `cmd`" in text
