"""The command line on scenarios with products: evaluate (CSV per product, the episode report),
simulate, show and benchmark, none printing one line per product."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from invmgmt_marl.cli import main

pytest.importorskip("matplotlib")


def _named_products(text: str) -> set[str]:
    return set(re.findall(r"\bsku\d+\b", text))


def test_evaluate_writes_products_csv_and_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "ev"
    argv = ["evaluate", "--policy", "constant", "--option", "quantity=2", "--scenario", "sku50_1w"]
    argv += ["--episodes", "2", "--periods", "6", "--out", str(out)]
    argv += ["--no-plots", "--report", str(tmp_path / "report.png")]  # (plots: test_product_plots.py)
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert len(_named_products(printed)) <= 6  # the worst three by fill rate and by cost at most
    rows = list(csv.DictReader((out / "products.csv").open(encoding="utf-8")))
    assert [r["product"] for r in rows] == [f"sku{i}" for i in range(50)]
    data = json.loads((out / "evaluation.json").read_text(encoding="utf-8"))
    p = data["summary"]["products"]
    assert p["count"] == 50 and len(p["worst_fill_rate"]) == 10
    assert p["cost"]["total"] == pytest.approx(sum(float(r["cost"]) for r in rows))
    assert (tmp_path / "report.png").read_bytes()[:4] == b"\x89PNG"


def test_simulate_and_show(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["simulate", "--scenario", "sku50_1w", "--periods", "4", "--policy", "constant", "--quantity", "1"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "(totals over 50 products)" in printed and not _named_products(printed)
    assert main(["show", "sku2000_3w", "--out", str(tmp_path / "net.png")]) == 0
    assert (tmp_path / "net.png").read_bytes()[:4] == b"\x89PNG"


def test_benchmark_has_a_products_table(tmp_path: Path) -> None:
    md = tmp_path / "bench.md"
    argv = ["benchmark", "--scenarios", "sku50_1w", "--policies", "constant", "--episodes", "2"]
    argv += ["--periods", "10", "--no-bound", "--out", str(md), "--json", str(tmp_path / "rows.json")]
    assert main(argv) == 0
    text = md.read_text(encoding="utf-8")
    section = text[text.index("## Products") :]
    row = next(line for line in section.splitlines() if line.startswith("| sku50_1w"))
    summary = json.loads((tmp_path / "rows.json").read_text(encoding="utf-8"))[0]["summary"]["products"]
    assert f"{summary['fill_rate']['demand_weighted']:.1%}" in row
    assert f"{summary['cost']['per_product_period']:.2f}" in row
    assert len(_named_products(text)) <= 3
