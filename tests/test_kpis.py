"""The KPI table: every entry reaches the summary, the per-episode rows, the table and the markdown;
a new KPI is one entry."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from rich.console import Console

from invmgmt_marl import kpis
from invmgmt_marl.evaluate import evaluate
from invmgmt_marl.kpis import KPI, KPIS, PRODUCT_AXES, kpi
from invmgmt_marl.objective import OBJECTIVES, check_objective
from invmgmt_marl.reporting import benchmark_markdown, summary_table
from invmgmt_marl.sim.ledger import COST_FIELDS


def _path_value(summary: dict, path: tuple[str, ...]) -> object:
    for key in path:
        summary = summary[key]
    return summary


def test_every_kpi_is_computed_summarised_and_written() -> None:
    ev = evaluate("base_stock", "net_2x3", episodes=3, seed=2, periods=25, bound=False, floor=False)
    axis_len = {"agent": 6, "store": 2, "level": len(ev.levels)}
    s = ev.summary()
    rows = ev.episode_rows()
    axis_labels = {"agent": ev.agents, "store": ev.stores, "level": ev.levels}
    for k in KPIS:
        if k.axis in PRODUCT_AXES:  # networks with products only (tests/test_product_kpis.py)
            assert k.name not in ev.kpis, k.name
            continue
        a = ev.kpis[k.name]
        assert a.shape == ((3,) if k.axis == "episode" else (3, axis_len[k.axis])), k.name
        if k.path is not None:  # the summary holds the mean over episodes at the KPI's path
            got = _path_value(s, k.path)
            want = k.mean(a)
            if k.axis == "episode":
                assert got == pytest.approx(float(want)), k.name
            else:
                got_list = [got[lab] for lab in axis_labels[k.axis]]  # turns also holds "system"
                assert got_list == pytest.approx(list(want), nan_ok=True), k.name
        if k.stem is not None:  # and every episode row one column per label
            labels = axis_labels.get(k.axis)
            for b, row in enumerate(rows):
                if labels is None:
                    assert row[k.stem] == pytest.approx(a[b]), k.name
                else:
                    got_row = [row[f"{k.stem}[{lab}]"] for lab in labels]
                    assert got_row == pytest.approx(list(a[b]), nan_ok=True), k.name
    # the cost KPIs are the ledger's cost fields, one entry each, summing to the total
    assert [k.name for k in KPIS if k.name in COST_FIELDS] == list(COST_FIELDS)
    np.testing.assert_allclose(sum(ev.kpis[f] for f in COST_FIELDS), ev.kpis["cost"])


def test_a_new_kpi_is_one_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Add one KPI to the table: it is computed by evaluate() and appears in the summary, the CSV,
    the rich table and the benchmark markdown. Its value is checked against the trajectory directly:
    the mean of ``on_hand`` over the periods at each store."""
    extra = KPI(
        "mean_store_stock",
        lambda tr, net, by: tr.node("on_hand")[:, :, net.store_nodes].mean(axis=0),
        "store",
        "units",
        ",.3f",
        None,
        "mean end-of-period stock at each store",
        markdown="store stock",
    )
    monkeypatch.setattr(kpis, "KPIS", (*KPIS, extra))
    ev = evaluate("base_stock", "serial", episodes=2, seed=0, periods=20, bound=False)
    on_hand = ev.trajectory.node("on_hand")[:, :, 0]  # (T, B) at the store
    assert ev.summary()["mean_store_stock"]["store_0"] == pytest.approx(on_hand.mean())
    rows = list(csv.DictReader(io.StringIO(ev.to_csv())))
    assert [float(r["mean_store_stock[store_0]"]) for r in rows] == pytest.approx(on_hand.mean(axis=0))
    console = Console(record=True, width=200)
    console.print(summary_table(ev))
    text = console.export_text()
    assert "mean store stock" in text and f"{on_hand.mean():,.3f}" in text
    row = {"scenario": "serial", "label": "x", "kind": "base_stock", "tuned": False, "summary": ev.summary()}
    md = benchmark_markdown([row], "cmd")
    assert "| store stock |" in md.splitlines()[2] and f"| {on_hand.mean():.3f} |" in md.splitlines()[4]


def test_kpi_lookup_and_objective() -> None:
    assert kpi("fill_rate").higher_is_better is True
    with pytest.raises(KeyError, match="unknown KPI 'nope'; known:"):
        kpi("nope")
    assert OBJECTIVES == ("cost", "profit")
    assert check_objective("profit") == "profit"
    with pytest.raises(ValueError, match=r"objective: expected one of \['cost', 'profit'\], got 'margin'"):
        check_objective("margin")
