"""Issue 13 items 3 (names used as paths), 5 (atomic writes, corrupt entries ignored) and 7 (the tuning
cache fingerprint covers the content of CSV demand files)."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import pytest

from invmgmt_marl import _io
from invmgmt_marl._io import atomic_write_json, atomic_write_text, child_path, read_json_or_none
from invmgmt_marl.ablation import AblationError, load_grid
from invmgmt_marl.compile import compile_network
from invmgmt_marl.errors import ScenarioError
from invmgmt_marl.policies import tune
from invmgmt_marl.scenario import load_scenario, scenario_dir, validate_scenario


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


# -- item 3: names used as paths -------------------------------------------------------------------
@pytest.mark.parametrize("name", ["../../escaped", "a/b", "/abs", ".hidden", "", "x" * 101, "a\\b", "a b"])
def test_scenario_name_must_be_a_safe_slug(name: str) -> None:
    data = load_scenario("serial").to_dict()
    data["name"] = name
    with pytest.raises(ScenarioError, match="name: must be a name of letters, digits"):
        validate_scenario(data)


def test_scenario_file_stem_becomes_a_safe_default_name(tmp_path: Path) -> None:
    text = (scenario_dir() / "serial.yaml").read_text().replace("name: serial\n", "")
    path = tmp_path / "my scenario (v2).yaml"
    path.write_text(text)
    assert load_scenario(path).name == "my_scenario__v2_"


@pytest.mark.parametrize("config", ["a/b", "../../x", "..", "/etc/x", ".hidden"])
def test_grid_config_names_must_be_safe(tmp_path: Path, config: str) -> None:
    grid = tmp_path / "grid.yaml"
    grid.write_text(json.dumps({"configs": {config: {"reward": {"scheme": "cost"}}}}))
    with pytest.raises(AblationError, match="configuration name: must be a name of letters"):
        load_grid(grid, scenario="serial")
    assert _tree(tmp_path) == {"grid.yaml"}  # nothing written anywhere


def test_child_path_never_leaves_the_folder(tmp_path: Path) -> None:
    assert child_path(tmp_path, "trials", "a__seed0.json") == tmp_path.resolve() / "trials" / "a__seed0.json"
    for bad in (("..", "x"), ("../../x",), ("/etc/passwd",), ("trials", "../../x")):
        with pytest.raises(ValueError, match="would leave the folder"):
            child_path(tmp_path, *bad)


def test_tuning_cache_stays_in_its_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("INVMGMT_MARL_CACHE", str(cache))
    net = compile_network(load_scenario("serial", periods=20, demand={"process": "constant", "value": 4}))
    tune(net, episodes=2, cache=True)
    written = _tree(tmp_path)
    assert len(written) == 3 and all(p.startswith("cache") for p in written)  # cache, cache/tuned, the entry


# -- item 5: atomic writes, corrupt entries ignored ----------------------------------------------------
def test_atomic_write_keeps_the_old_file_when_killed_before_the_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "rec.json"
    atomic_write_json(target, {"v": 1})

    def killed(*args: Any) -> None:  # the process dies between writing the temp file and renaming it
        raise KeyboardInterrupt

    monkeypatch.setattr(_io.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_text(target, '{"v": 2, "half-writ')
    assert json.loads(target.read_text()) == {"v": 1}
    assert _tree(tmp_path) == {"rec.json"}  # the temporary file was removed


def test_read_json_or_none_ignores_corrupt_files(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    p = tmp_path / "x.json"
    assert read_json_or_none(p) is None  # missing: no warning
    p.write_text('{"key": "abc", "kpis": {')  # killed mid-write by the old in-place writer
    with caplog.at_level(logging.WARNING):
        assert read_json_or_none(p, "trial record") is None
    assert "ignoring corrupt trial record" in caplog.text
    p.write_bytes(b"\xff\xfe\x00")
    assert read_json_or_none(p) is None


@pytest.mark.parametrize("content", ['{"kind": "base_stock", "par', "[1, 2]", '{"kind": 1}', "null"])
def test_corrupt_tuning_cache_entry_is_ignored_and_rewritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, content: str
) -> None:
    monkeypatch.setenv("INVMGMT_MARL_CACHE", str(tmp_path))
    net = compile_network(load_scenario("serial", periods=20, demand={"process": "constant", "value": 4}))
    good = tune(net, episodes=2, cache=True)
    (entry,) = (tmp_path / "tuned").iterdir()
    entry.write_text(content)
    with caplog.at_level(logging.WARNING):
        again = tune(net, episodes=2, cache=True)  # before: JSONDecodeError / TypeError on every --tune
    assert again == good
    assert "ignoring corrupt" in caplog.text
    assert json.loads(entry.read_text())["vector"] == good.vector


# -- item 7: the fingerprint covers the CSV content ------------------------------------------------
def test_tuning_cache_sees_a_changed_csv_series(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INVMGMT_MARL_CACHE", str(tmp_path / "cache"))
    csv = tmp_path / "demand.csv"
    data = load_scenario("serial").to_dict()
    data["periods"] = 30
    data["nodes"][0]["demand"] = {"process": "csv", "path": "demand.csv", "column": "A"}

    csv.write_text("A\n" + "5\n" * 40)
    low = tune(compile_network(validate_scenario(data, base_dir=tmp_path)), episodes=2, cache=True)
    csv.write_text("A\n" + "500\n" * 40)
    os.utime(csv, ns=(1, 1))  # even with the old file times, the content decides
    high = tune(compile_network(validate_scenario(data, base_dir=tmp_path)), episodes=2, cache=True)
    # constant demand d and lead time 4: the tuned level of every node scales with d (5 -> 500 a period);
    # before, the second call returned the cached levels of the first
    assert max(low.vector) < 100 < min(high.vector)
    assert len(list((tmp_path / "cache" / "tuned").iterdir())) == 2
