"""Issue 13 item 4: a demand ``csv`` path resolves against the scenario file's folder, must be a regular
file of bounded size, and errors never echo file content beyond the offending cell (capped too)."""

from __future__ import annotations

from pathlib import Path

import pytest

from invmgmt_marl import demand as demand_mod
from invmgmt_marl.errors import QUOTE_LIMIT, ScenarioError
from invmgmt_marl.scenario import load_scenario, scenario_dir

SECRET = "root:x:0:0:root:/root:/bin/bash"


def _scenario_file(folder: Path, demand: str) -> Path:
    text = (scenario_dir() / "serial.yaml").read_text()
    text = text.replace("demand: {process: merton, base: 10, max_demand: 20}", f"demand: {demand}")
    text = text.replace("periods: 200", "periods: 5")
    path = folder / "s.yaml"
    path.write_text(text)
    return path


def test_relative_path_resolves_against_the_scenario_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "d.csv").write_text("A\n" + "7\n" * 5)
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "d.csv").write_text("A\n" + "1\n" * 5)
    monkeypatch.chdir(other)  # the working directory's d.csv must not be the one read
    sc = load_scenario(_scenario_file(tmp_path, "{process: csv, path: d.csv, column: A}"))
    assert sc.nodes[0].demand is not None
    assert sc.nodes[0].demand.params.path == str(tmp_path / "d.csv")


def test_system_file_is_not_echoed(tmp_path: Path) -> None:
    # an /etc/passwd-like file: one "column" per line, no commas. Before: the error listed its lines.
    secret = tmp_path / "passwd"
    secret.write_text("\n".join(f"{SECRET}{k}" for k in range(200)) + "\n")
    path = _scenario_file(tmp_path, "{process: csv, path: passwd, format: long, store: x}")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    msg = str(info.value)
    assert "date_column" in msg  # the long format needs a date column that is not there
    assert msg.count("root:x:") <= 1 and len(msg) < 600


def test_wide_header_and_cells_are_capped(tmp_path: Path) -> None:
    header = ",".join(f"column_{'x' * 50}_{k}" for k in range(100))
    (tmp_path / "wide.csv").write_text(header + "\n" + ",".join(["1"] * 100) + "\n")
    path = _scenario_file(tmp_path, "{process: csv, path: wide.csv, column: A}")
    with pytest.raises(ScenarioError, match="no column 'A'") as info:
        load_scenario(path)
    assert len(str(info.value)) < 600  # before: the whole 5,800-character header was quoted

    (tmp_path / "cells.csv").write_text("A\n" + "1\n" * 3 + "y" * 100_000 + "\n1\n")
    path = _scenario_file(tmp_path, "{process: csv, path: cells.csv, column: A}")
    with pytest.raises(ScenarioError, match=r"row 5, column 'A': not a number") as info:
        load_scenario(path)
    assert len(str(info.value)) < 300 + QUOTE_LIMIT


@pytest.mark.parametrize("target", ["folder", "/dev/null", "missing.csv"])
def test_paths_that_are_not_regular_files_are_refused(tmp_path: Path, target: str) -> None:
    (tmp_path / "folder").mkdir()
    path = _scenario_file(tmp_path, f"{{process: csv, path: {target}, column: A}}")
    with pytest.raises(ScenarioError, match=r"nodes\[0\]\.demand\.path: file not found"):
        load_scenario(path)


def test_oversized_csv_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demand_mod, "MAX_CSV_BYTES", 1000)
    (tmp_path / "big.csv").write_text("A\n" + "12345\n" * 300)
    path = _scenario_file(tmp_path, "{process: csv, path: big.csv, column: A}")
    with pytest.raises(ScenarioError, match=r"demand\.path: .*big\.csv.*1802 bytes, more than the 1000"):
        load_scenario(path)
