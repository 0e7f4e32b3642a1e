"""Demand-set files: writing, reading (ours and Liu et al.'s per-store layout), and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from invmgmt_marl.cli import main
from invmgmt_marl.compile import compile_network
from invmgmt_marl.demand import sample_demand
from invmgmt_marl.demandsets import (
    DemandSetError,
    generate_demand_set,
    load_demand_set,
    read_meta,
    write_demand_set,
)
from invmgmt_marl.policies import ConstantPolicy
from invmgmt_marl.rollout import rollout
from invmgmt_marl.scenario import load_scenario

REPO_ROOT = Path(__file__).resolve().parents[1]
LIU = (REPO_ROOT / ".." / "shared" / "datasets" / "liu2022").resolve()
LIU_MISSING = (
    f"Liu et al. test demand files not found at {LIU} (../shared/datasets/liu2022 next to the repository)"
)


@pytest.fixture(scope="module")
def serial() -> object:
    return compile_network(load_scenario("serial", periods=5))


@pytest.fixture(scope="module")
def net2() -> object:
    return compile_network(load_scenario("net_2x3", periods=5))


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / name
    p.write_text(text, encoding="utf-8")
    return p


# --------------------------------------------------------------------------------------------------
def test_round_trip_one_and_several_stores(tmp_path: Path, serial, net2) -> None:
    rng = np.random.default_rng(1)
    one = rng.integers(0, 30, size=(3, 5, 1)).astype(float)
    write_demand_set(tmp_path / "one", one, {"scenario": "serial"})
    np.testing.assert_array_equal(load_demand_set(tmp_path / "one", serial), one)
    assert (tmp_path / "one" / "0.txt").read_text().splitlines()[0] == str(int(one[0, 0, 0]))

    two = rng.normal(3, 1, size=(4, 5, 2)).clip(0)  # non-integers round-trip exactly too
    write_demand_set(tmp_path / "two", two)
    np.testing.assert_array_equal(load_demand_set(tmp_path / "two", net2), two)
    first = (tmp_path / "two" / "2.txt").read_text().splitlines()[0].split()
    assert len(first) == 2 and float(first[1]) == two[2, 0, 1]
    meta = read_meta(tmp_path / "two")
    assert meta == {"episodes": 4, "periods": 5, "stores": 2}


def test_numeric_file_order_and_first_periods_only(tmp_path: Path, serial) -> None:
    # episode k holds the value k in every row; 12 rows, the network uses the first 5
    for k in range(12):
        _write(tmp_path, f"{k}.txt", "".join(f"{k}\n" for _ in range(12)) + "\n\n")
    d = load_demand_set(tmp_path, serial)
    assert d.shape == (12, 5, 1)
    np.testing.assert_array_equal(d[:, 0, 0], np.arange(12))  # 10.txt after 9.txt, not after 1.txt
    assert load_demand_set(tmp_path, periods=12).shape == (12, 12, 1)


def test_liu_layout_one_folder_per_store(tmp_path: Path, net2) -> None:
    for s in (0, 1):
        for k in (0, 1, 10, 2):
            _write(tmp_path / str(s), f"{k}.txt", "\n".join(str(100 * s + k + t) for t in range(7)) + "\n")
    d = load_demand_set(tmp_path, net2)
    assert d.shape == (4, 5, 2)
    np.testing.assert_array_equal(d[:, 0, 0], [0, 1, 2, 10])
    np.testing.assert_array_equal(d[:, 0, 1], [100, 101, 102, 110])
    np.testing.assert_array_equal(d[3, :, 1], 110 + np.arange(5))


def test_liu_layout_errors(tmp_path: Path, serial, net2) -> None:
    for s in (0, 1):
        _write(tmp_path / str(s), "0.txt", "1\n" * 5)
    _write(tmp_path / "1", "1.txt", "1\n" * 5)
    with pytest.raises(DemandSetError, match=r"1\.txt.*one folder only"):
        load_demand_set(tmp_path, net2)
    (tmp_path / "1" / "1.txt").unlink()
    with pytest.raises(DemandSetError, match=r"2 store folder\(s\).*stores=1"):
        load_demand_set(tmp_path, serial)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("3\n4\nabc\n5\n6\n", 3, r"not a number: 'abc'"),
        ("3\n4\n5\n-1\n6\n", 4, r"demand must be finite and >= 0, got '-1'"),
        ("3\n4\n5\nnan\n6\n", 4, r"demand must be finite and >= 0, got 'nan'"),
        ("3\n4 5\n5\n5\n6\n", 2, r"expected 1 value\(s\) \(one per store\), got 2"),
        ("3\n\n5\n5\n6\n", 2, r"expected 1 value\(s\) \(one per store\), got 0"),
    ],
)
def test_malformed_rows_name_file_and_line(
    tmp_path: Path, serial, text: str, line: int, message: str
) -> None:
    _write(tmp_path, "0.txt", "1\n" * 5)
    bad = _write(tmp_path, "1.txt", text)
    with pytest.raises(DemandSetError, match=rf"{bad.name}:{line}: {message}") as err:
        load_demand_set(tmp_path, serial)
    assert str(bad) in str(err.value)


def test_wrong_store_count_and_too_few_periods(tmp_path: Path, serial, net2) -> None:
    _write(tmp_path / "a", "0.txt", "1\n2\n3\n4\n5\n")
    with pytest.raises(DemandSetError, match=r"0\.txt:1: expected 2 value\(s\) \(one per store\), got 1"):
        load_demand_set(tmp_path / "a", net2)
    short = _write(tmp_path / "b", "0.txt", "1\n2\n3\n")
    with pytest.raises(DemandSetError, match=r"3 rows, but the episode has periods=5") as err:
        load_demand_set(tmp_path / "b", serial)
    assert str(short) in str(err.value)
    with pytest.raises(DemandSetError, match="no \\*\\.txt demand files"):
        load_demand_set(_empty(tmp_path), serial)
    with pytest.raises(DemandSetError, match="not found"):
        load_demand_set(tmp_path / "nope", serial)


def _empty(tmp_path: Path) -> Path:
    p = tmp_path / "empty"
    p.mkdir()
    return p


def test_generate_matches_rollout_draw_and_cli(tmp_path: Path) -> None:
    net = compile_network(load_scenario("net_2x3", periods=30))
    d = generate_demand_set("net_2x3", 3, 7, tmp_path / "gen", periods=30)
    np.testing.assert_array_equal(d, sample_demand(list(net.demand_specs), np.random.default_rng(7), 3, 30))
    np.testing.assert_array_equal(d, rollout(net, ConstantPolicy(0.0), episodes=3, seed=7).demand)
    np.testing.assert_array_equal(load_demand_set(tmp_path / "gen", net), d)

    out = tmp_path / "cli"
    assert (
        main(
            [
                "demand",
                "generate",
                "--scenario",
                "serial",
                "--episodes",
                "4",
                "--seed",
                "9",
                "--out",
                str(out),
                "--demand-process",
                '{"process": "poisson", "mean": 10}',
            ]
        )
        == 0
    )
    meta = json.loads((out / "meta.json").read_text())
    assert meta["scenario"] == "serial" and meta["seed"] == 9 and meta["episodes"] == 4
    assert meta["periods"] == 200 and meta["process"] == "poisson"
    assert sorted(p.name for p in out.glob("*.txt")) == ["0.txt", "1.txt", "2.txt", "3.txt"]
    pois = compile_network(load_scenario("serial", demand={"process": "poisson", "mean": 10}))
    want = sample_demand(list(pois.demand_specs), np.random.default_rng(9), 4, 200)
    np.testing.assert_array_equal(load_demand_set(out, pois), want)


# --------------------------------------------------------------------------------------------------
@pytest.mark.skipif(not LIU.is_dir(), reason=LIU_MISSING)
@pytest.mark.parametrize("folder", ["test_demand_merton", "test_demand_stationary"])
def test_published_serial_files(folder: str) -> None:
    net = compile_network(load_scenario("serial"))
    d = load_demand_set(LIU / folder, net)
    assert d.shape == (20, 200, 1)
    for k in (0, 10, 19):  # numeric order: episode k is file k.txt
        raw = [float(x) for x in (LIU / folder / f"{k}.txt").read_text().split()[:200]]
        np.testing.assert_array_equal(d[k, :, 0], raw)


@pytest.mark.skipif(not LIU.is_dir(), reason=LIU_MISSING)
def test_published_net_files() -> None:
    net = compile_network(load_scenario("net_2x3"))
    d = load_demand_set(LIU / "test_demand_net", net)
    assert d.shape == (20, 200, 2)
    for s in (0, 1):
        raw = [float(x) for x in (LIU / "test_demand_net" / str(s) / "13.txt").read_text().split()[:200]]
        np.testing.assert_array_equal(d[13, :, s], raw)
