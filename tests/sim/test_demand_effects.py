"""Composable demand effects (trend, seasonal, weekly, shocks, events), the ``csv`` process and
correlated demand across stores (Gaussian copula). See docs/demand.md."""

from __future__ import annotations

import dataclasses
import os
import re
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats

from invmgmt_marl.compile import compile_network
from invmgmt_marl.demand import (
    DEMAND_PROCESSES,
    DemandParamError,
    apply_effects,
    correlation_matrix,
    demand_factor,
    load_csv_series,
    sample_demand,
    sample_network_demand,
)
from invmgmt_marl.errors import ScenarioError
from invmgmt_marl.scenario import DemandSpec, Scenario, validate_scenario


def spec(**kw: Any) -> DemandSpec:
    return DemandSpec.model_validate(kw)


def draw(s: DemandSpec, batch: int = 1, periods: int = 20, seed: int = 0) -> np.ndarray:
    out = sample_demand([s], np.random.default_rng(seed), batch, periods)
    assert out.shape == (batch, periods, 1)
    return out[:, :, 0]


def scenario(demand: dict[str, Any], periods: int = 10) -> dict[str, Any]:
    return {
        "periods": periods,
        "nodes": [{"role": "store", "demand": demand}, {"role": "supplier"}],
        "edges": [
            {"from": "supplier_0", "to": "store_0", "lead_time": 2},
            {"from": "external", "to": "supplier_0", "lead_time": 1},
        ],
    }


def scenario_error(demand: dict[str, Any], periods: int = 10) -> str:
    with pytest.raises(ScenarioError) as err:
        validate_scenario(scenario(demand, periods), source="my.yaml")
    return str(err.value)


T = np.arange(28.0)


# ------------------------------------------------------------------------------------------ effects
def test_trend_exact() -> None:
    d = draw(spec(process="constant", value=10, trend={"slope": 0.1}, integer=False), periods=28)[0]
    np.testing.assert_allclose(d, 10 * (1 + 0.1 * T), rtol=1e-15)
    d = draw(spec(process="constant", value=10, trend={"slope": 0.5, "start": 3}, integer=False), periods=8)[
        0
    ]
    np.testing.assert_array_equal(d, [10, 10, 10, 10, 15, 20, 25, 30])  # flat before start
    d = draw(spec(process="constant", value=8, trend={"slope": -0.25}, integer=False), periods=7)[0]
    np.testing.assert_array_equal(d, [8, 6, 4, 2, 0, 0, 0])  # max(0, 1 + slope t): never negative
    assert not np.signbit(d).any()


def test_shocks_are_lasting_and_cumulative() -> None:
    s = spec(
        process="constant",
        value=10,
        integer=False,
        shocks=[{"period": 5, "factor": 0.5}, {"period": 2, "factor": 2}, {"period": 99, "factor": 7}],
    )
    np.testing.assert_array_equal(draw(s, periods=8)[0], [10, 10, 20, 20, 20, 10, 10, 10])
    s = spec(process="constant", value=10, integer=False, shocks=[{"period": 3, "factor": 1.5}] * 2)
    np.testing.assert_array_equal(draw(s, periods=5)[0], [10, 10, 10, 22.5, 22.5])  # same period twice: 1.5^2


def test_events_one_off_and_recurring() -> None:
    s = spec(process="constant", value=10, integer=False, events=[{"period": 1, "factor": 3, "duration": 2}])
    np.testing.assert_array_equal(draw(s, periods=5)[0], [10, 30, 30, 10, 10])
    s = spec(process="constant", value=10, integer=False, events=[{"period": 4, "factor": 0}])  # duration 1
    np.testing.assert_array_equal(draw(s, periods=6)[0], [10, 10, 10, 10, 0, 10])
    s = spec(
        process="constant",
        value=1,
        integer=False,
        events=[{"period": 2, "factor": 2, "duration": 2, "every": 7}, {"period": 3, "factor": 5}],
    )
    want = np.ones(20)
    want[[2, 3, 9, 10, 16, 17]] = 2
    want[3] *= 5  # overlapping events multiply
    np.testing.assert_array_equal(draw(s, periods=20)[0], want)
    s = spec(
        process="constant",
        value=1,
        integer=False,
        events=[{"period": 0, "factor": 4, "duration": 3, "every": 3}],
    )
    np.testing.assert_array_equal(draw(s, periods=7)[0], [4] * 7)  # duration == every: always on


def test_weekly_profile_and_offset() -> None:
    prof = [1, 2, 3, 4, 5, 6, 7]
    d = draw(spec(process="constant", value=1, weekly=prof), periods=15)[0]
    np.testing.assert_array_equal(d, [prof[t % 7] for t in range(15)])
    d = draw(spec(process="constant", value=1, weekly={"profile": prof, "week_start": 5}), periods=10)[0]
    np.testing.assert_array_equal(d, [6, 7, 1, 2, 3, 4, 5, 6, 7, 1])  # period 0 is weekday 5
    weekend = [1, 1, 1, 1, 1, 1.3, 1.3]
    assert spec(process="constant", value=1, weekly=weekend) == spec(
        process="constant", value=1, weekly={"profile": weekend, "week_start": 0}
    )
    d = draw(spec(process="constant", value=10, weekly=weekend, integer=False), periods=14)[0]
    np.testing.assert_allclose(d, [10, 10, 10, 10, 10, 13, 13] * 2, rtol=1e-15)


def test_composition_order_and_formula() -> None:
    kw: dict[str, Any] = dict(
        process="constant",
        value=10,
        multiplier=1.5,
        trend={"slope": 0.02, "start": 2},
        seasonal={"amplitude": 0.3, "period": 12, "phase": 1},
        weekly={"profile": [1, 1, 1, 1, 1, 2, 2], "week_start": 3},
        shocks=[{"period": 10, "factor": 0.8}],
        events=[{"period": 4, "factor": 3, "duration": 2, "every": 9}],
    )
    t = T
    want = (
        1.5
        * np.maximum(0, 1 + 0.02 * np.maximum(t - 2, 0))
        * (1 + 0.3 * np.sin(2 * np.pi * (t + 1) / 12))
        * np.array([1, 1, 1, 1, 1, 2, 2])[(np.arange(28) + 3) % 7]
        * np.where(t >= 10, 0.8, 1.0)
        * np.where(np.isin(t, [4, 5, 13, 14, 22, 23]), 3.0, 1.0)
    )
    s = spec(**kw, integer=False)
    np.testing.assert_allclose(demand_factor(s, 28), want, rtol=1e-14)
    np.testing.assert_allclose(draw(s, batch=3, periods=28), np.broadcast_to(10 * want, (3, 28)), rtol=1e-14)
    np.testing.assert_array_equal(draw(spec(**kw), periods=28)[0], np.rint(10 * want))  # rounding last


def test_rounding_after_every_factor_then_clip() -> None:
    # 1 * 0.4 = 0.4 (rint 0), but with the event's factor 3 first: 1.2 -> rint 1; rounding is last
    s = spec(process="constant", value=1, multiplier=0.4, events=[{"period": 0, "factor": 3}])
    np.testing.assert_array_equal(draw(s, periods=3)[0], [1, 0, 0])
    # round half to even on the product: 2.5 -> 2, 3.5 -> 4
    s = spec(process="constant", value=1, multiplier=2.5, shocks=[{"period": 1, "factor": 1.4}])
    np.testing.assert_array_equal(draw(s, periods=2)[0], [2, 4])
    # apply_effects clips whatever the base: a (hypothetical) negative base comes out as 0
    np.testing.assert_array_equal(
        apply_effects(spec(process="constant", value=1), np.array([[-3.0, 2.0]]), 2), [[0.0, 2.0]]
    )


def test_effects_scale_random_draws_without_changing_the_stream() -> None:
    base = draw(spec(process="poisson", mean=10), batch=4, periods=30, seed=3)
    promo = draw(
        spec(process="poisson", mean=10, events=[{"period": 5, "factor": 2, "duration": 3}]),
        batch=4,
        periods=30,
        seed=3,
    )
    want = base.copy()
    want[:, 5:8] *= 2
    np.testing.assert_array_equal(promo, want)


def test_without_effects_the_draws_are_the_plain_process() -> None:
    # no new key, no correlation: the same random stream as before effects existed
    np.testing.assert_array_equal(
        draw(spec(process="poisson", mean=7), batch=3, periods=20, seed=4),
        np.random.default_rng(4).poisson(7, size=(3, 20)),
    )
    assert (
        demand_factor(spec(process="poisson", mean=7, multiplier=1.2), 5) == 1.2
    )  # scalar: nothing to build


@pytest.mark.parametrize(
    ("effect", "field", "shown"),
    [
        ({"multiplier": -1}, "multiplier", "-1"),
        ({"trend": {"slope": float("inf")}}, "trend.slope", "inf"),
        ({"trend": {"slope": 0.1, "start": -2}}, "trend.start", "-2"),
        ({"trend": {"slop": 0.1}}, "trend.slop", "0.1"),
        ({"weekly": [1, 1, 1, 1, 1, 1]}, "weekly.profile", "[1, 1, 1, 1, 1, 1]"),
        ({"weekly": [1, 1, 1, 1, 1, 1, -0.5]}, "weekly.profile[6]", "-0.5"),
        ({"weekly": {"profile": [1] * 7, "week_start": 7}}, "weekly.week_start", "7"),
        ({"shocks": [{"period": -1, "factor": 2}]}, "shocks[0].period", "-1"),
        ({"shocks": [{"period": 1, "factor": 2}, {"period": 3, "factor": -2}]}, "shocks[1].factor", "-2"),
        ({"shocks": {"period": 1, "factor": 2}}, "shocks", "'period': 1"),
        ({"events": [{"period": 1, "factor": 2, "duration": 0}]}, "events[0].duration", "0"),
        ({"events": [{"period": 1, "factor": 2, "duration": 3, "every": 2}]}, "events[0].every", "2"),
        ({"events": [{"period": 1, "factor": 2, "every": 0}]}, "events[0].every", "0"),
        ({"events": [{"period": 1, "factor": float("nan")}]}, "events[0].factor", "nan"),
        ({"seasonal": {"amplitude": 1.2, "period": 7}}, "seasonal.amplitude", "1.2"),
    ],
)
def test_invalid_effect_parameters_name_the_field(effect: dict[str, Any], field: str, shown: str) -> None:
    msg = scenario_error({"process": "constant", "value": 1, **effect})
    assert msg.startswith("my.yaml: ")
    m = re.search(re.escape(f"nodes[0].demand.{field}") + r": ([^;]*)", msg)
    assert m is not None, msg
    assert shown in m.group(1), msg


def test_events_missing_factor_is_reported() -> None:
    assert "nodes[0].demand.events[0].factor: required field is missing" in scenario_error(
        {"process": "constant", "value": 1, "events": [{"period": 1}]}
    )


def test_effects_round_trip_through_to_dict() -> None:
    d = {
        "process": "poisson",
        "mean": 4,
        "multiplier": 1.1,
        "trend": {"slope": -0.001, "start": 5},
        "weekly": {"profile": [1, 1, 1, 1, 1, 1.3, 1.3], "week_start": 2},
        "shocks": [{"period": 50, "factor": 1.5}],
        "events": [{"period": 10, "factor": 3.0, "every": 7}],
    }
    sc = validate_scenario(scenario(d))
    again = validate_scenario(sc.to_dict())
    assert again == sc
    assert again.nodes[0].demand.events[0].every == 7
    hash(again.nodes[0].demand)  # frozen all the way down (tuples, not lists)


# ---------------------------------------------------------------------------------------------- csv
def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_wide_round_trip(tmp_path: Path) -> None:
    rows = [(f"2024-01-{d:02d}", 3 * d, 100 + d) for d in range(1, 21)]
    shuffled = rows[10:] + rows[:10]  # rows are put in date order
    f = write(tmp_path / "wide.csv", "date,north,south\n" + "".join(f"{a},{b},{c}\n" for a, b, c in shuffled))
    sc = validate_scenario(scenario({"process": "csv", "path": str(f), "column": "south"}, periods=20))
    d = sample_demand([sc.nodes[0].demand], np.random.default_rng(0), 3, 20)
    np.testing.assert_array_equal(d[:, :, 0], np.broadcast_to([100 + k for k in range(1, 21)], (3, 20)))
    s = spec(process="csv", path=str(f), column="north", start=5, integer=False)
    np.testing.assert_array_equal(draw(s, periods=10)[0], [3 * k for k in range(6, 16)])
    # no date column: file order
    g = write(tmp_path / "plain.csv", "a,b\n1.5,2\n2.5,3\n0,4\n")
    np.testing.assert_array_equal(
        draw(spec(process="csv", path=str(g), column="a", integer=False), periods=3)[0], [1.5, 2.5, 0]
    )


def test_csv_long_round_trip(tmp_path: Path) -> None:
    lines = ["day,shop,units,note"]
    for t in (4, 0, 2, 1, 3):  # integer periods, unsorted, stores interleaved
        lines += [f"{t},7,{10 + t},x", f"{t},8,{20 + t},y"]
    f = write(tmp_path / "long.csv", "\n".join(lines) + "\n")
    kw = dict(
        process="csv",
        path=str(f),
        format="long",
        date_column="day",
        store_column="shop",
        value_column="units",
    )
    np.testing.assert_array_equal(draw(spec(**kw, store=7), periods=5)[0], [10, 11, 12, 13, 14])  # int -> "7"
    np.testing.assert_array_equal(draw(spec(**kw, store="8"), periods=5)[0], [20, 21, 22, 23, 24])
    # defaults date/store/quantity, ISO dates, and weekly dates (step 7 days) are not gaps
    g = write(
        tmp_path / "weekly.csv", "date,store,quantity\n2024-01-01,A,5\n2024-01-15,A,7\n2024-01-08,A,6\n"
    )
    np.testing.assert_array_equal(
        draw(spec(process="csv", path=str(g), format="long", store="A"), periods=3)[0], [5, 6, 7]
    )
    # monthly dates (same day of month) are not gaps either
    h = write(tmp_path / "monthly.csv", "date,x\n2024-01-31,1\n2024-02-29,2\n2024-03-31,3\n")
    with pytest.raises(ScenarioError, match="missing dates"):  # 29 vs 31: days, and Feb 29 -> Mar 31 is a gap
        validate_scenario(scenario({"process": "csv", "path": str(h), "column": "x"}, periods=3))
    m = write(tmp_path / "monthly2.csv", "date,x\n2023-11-01,1\n2023-12-01,2\n2024-01-01,3\n")
    np.testing.assert_array_equal(draw(spec(process="csv", path=str(m), column="x"), periods=3)[0], [1, 2, 3])


def test_csv_random_start_window(tmp_path: Path) -> None:
    v = np.arange(50) * 10 + 3  # every value distinct: a window is identified by its first value
    f = write(tmp_path / "s.csv", "q\n" + "".join(f"{x}\n" for x in v))
    s = spec(process="csv", path=str(f), column="q", start="random")
    d = draw(s, batch=200, periods=10, seed=1)
    first = (d[:, 0] - 3) / 10
    assert first.min() >= 0 and first.max() <= 40  # the window stays inside the 50 rows
    np.testing.assert_array_equal(d, v[first.astype(int)[:, None] + np.arange(10)])  # contiguous windows
    assert len(np.unique(first)) > 30  # differs across episodes (41 possible starts, 200 episodes)
    assert not np.array_equal(d, draw(s, batch=200, periods=10, seed=2))
    np.testing.assert_array_equal(d, draw(s, batch=200, periods=10, seed=1))  # seeded
    # exactly as long as the episode: one possible window
    np.testing.assert_array_equal(draw(s, batch=5, periods=50), np.broadcast_to(v, (5, 50)))


def test_csv_relative_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "data").mkdir()
    write(tmp_path / "data" / "d.csv", "q\n1\n2\n3\n")
    data = scenario({"process": "csv", "path": "data/d.csv", "column": "q"}, periods=3)
    # the loader's folder, given as validation context ...
    sc = Scenario.model_validate(data, context={"base_dir": tmp_path})
    assert sc.nodes[0].demand.params.path == str(tmp_path / "data" / "d.csv")
    # ... else the working directory
    monkeypatch.chdir(tmp_path)
    assert validate_scenario(data).nodes[0].demand.params.path == str(tmp_path / "data" / "d.csv")
    monkeypatch.chdir(tmp_path / "data")
    with pytest.raises(ScenarioError, match=re.escape("nodes[0].demand.path: file not found: ")):
        validate_scenario(data)
    assert validate_scenario(sc.to_dict()) == sc  # the stored path is absolute: round trips from anywhere


def test_csv_is_read_once_per_file_version(tmp_path: Path) -> None:
    f = write(tmp_path / "c.csv", "q\n1\n2\n")
    p = spec(process="csv", path=str(f), column="q").params
    a = load_csv_series(p)
    assert load_csv_series(p) is a  # cached
    assert not a.values.flags.writeable
    write(f, "q\n5\n6\n7\n")
    os.utime(f, ns=(os.stat(f).st_atime_ns, os.stat(f).st_mtime_ns + 10**9))
    np.testing.assert_array_equal(load_csv_series(p).values, [5, 6, 7])  # a new version is read again


BAD_CSV: list[tuple[str, dict[str, Any], str, str, list[str]]] = [
    # (file text, demand keys, field, then strings the message must contain)
    (
        "date,A\n2024-01-01,1\n",
        {"column": "B"},
        "column",
        "",
        ["row 1 (header)", "no column 'B'", "['date', 'A']"],
    ),
    ("date,A\n1,1\n2,abc\n", {"column": "A"}, "column", "", ["row 3", "column 'A'", "not a number: 'abc'"]),
    ("date,A\n1,1\n2,\n", {"column": "A"}, "column", "", ["row 3", "column 'A'", "not a number: ''"]),
    ("A\n1\n2\n\n-4\n", {"column": "A"}, "column", "", ["row 5", "column 'A'", "negative quantity '-4'"]),
    ("A\n1\nnan\n", {"column": "A"}, "column", "", ["row 3", "column 'A'", "not a finite number: 'nan'"]),
    ("A,B\n1,2\n3\n", {"column": "A"}, "path", "", ["row 3", "1 fields", "header (row 1) has 2"]),
    ("", {"column": "A"}, "path", "", ["row 1", "no header row"]),
    ("A\n", {"column": "A"}, "path", "", ["no data rows after the header (row 1)"]),
    (
        "date,A\n2024-01-01,1\n2024-13-01,2\n",
        {"column": "A"},
        "date_column",
        "",
        ["row 3", "column 'date'", "expected an ISO date YYYY-MM-DD, got '2024-13-01'"],
    ),
    (
        "day,A\n1,1\n2,2\n",
        {"column": "A", "date_column": "date"},
        "date_column",
        "",
        ["row 1 (header)", "no column 'date'"],
    ),
    (
        "date,store,quantity\n1,a,1\n2,a,2\n",
        {"format": "long", "store": "b"},
        "store",
        "",
        ["column 'store'", "no row (of rows 2-3) has store 'b'", "['a']"],
    ),
    (
        "date,shop,quantity\n1,a,1\n",
        {"format": "long", "store": "a"},
        "store_column",
        "",
        ["row 1 (header)", "no column 'store'"],
    ),
    (
        "date,store,qty\n1,a,1\n",
        {"format": "long", "store": "a"},
        "value_column",
        "",
        ["row 1 (header)", "no column 'quantity'"],
    ),
    (
        "store,quantity\na,1\n",
        {"format": "long", "store": "a"},
        "date_column",
        "",
        ["row 1 (header)", "no column 'date'"],
    ),
    (
        "date,store,quantity\n1,a,1\n1,b,5\n2,a,x\n",
        {"format": "long", "store": "a"},
        "value_column",
        "",
        ["row 4", "column 'quantity'", "not a number: 'x'"],
    ),
    (
        "date,store,quantity\n2024-01-01,a,1\n2024-01-01,b,1\n2024-01-02,a,1\n2024-01-05,a,1\n2024-01-02,b,1\n",
        {"format": "long", "store": "a"},
        "date_column",
        "",
        [
            "rows 4 and 5",
            "column 'date'",
            "missing dates between '2024-01-02' and '2024-01-05' for store 'a'",
            "steps by 1 day)",
        ],
    ),
    (
        "date,store,quantity\n3,a,1\n1,a,1\n3,a,2\n",
        {"format": "long", "store": "a"},
        "date_column",
        "",
        ["rows 2 and 4", "column 'date'", "duplicate date '3' for store 'a'"],
    ),
    (
        "date,store,quantity\n1,a,1\nx,a,1\n",
        {"format": "long", "store": "a"},
        "date_column",
        "",
        ["row 3", "column 'date'", "expected an integer period (as in the first data row), got 'x'"],
    ),
    ("A\n1\n", {"column": "A", "store": "x"}, "store", "", ["only for format: long"]),
    ("A\n1\n", {"format": "long", "store": "x", "column": "A"}, "column", "", ["only for format: wide"]),
    ("A\n1\n", {}, "column", "", ["format: wide needs the name of this store's column"]),
    ("A\n1\n", {"column": "A", "start": -1}, "start", "", ["must be an integer >= 0 or 'random', got -1"]),
    ("A\n1\n", {"column": "A", "start": "first"}, "start", "", ["got 'first'"]),
    ("A\n1\n", {"column": "A", "format": "tall"}, "format", "", ["'tall'"]),
]


@pytest.mark.parametrize(
    ("text", "keys", "field", "_", "must"), BAD_CSV, ids=[f"{i}-{b[2]}" for i, b in enumerate(BAD_CSV)]
)
def test_malformed_csv_errors_name_file_row_column(
    tmp_path: Path, text: str, keys: dict[str, Any], field: str, _: str, must: list[str]
) -> None:
    f = write(tmp_path / "bad.csv", text)
    msg = scenario_error({"process": "csv", "path": str(f), **keys}, periods=1)
    m = re.search(re.escape(f"nodes[0].demand.{field}") + r": (.*)", msg)
    assert m is not None, msg
    if field not in ("start", "format") and "only for" not in must[0] and "needs the name" not in must[0]:
        assert str(f) in m.group(1), msg  # the file
    for s in must:
        assert s in m.group(1), msg


def test_missing_file_error(tmp_path: Path) -> None:
    msg = scenario_error({"process": "csv", "path": str(tmp_path / "nope.csv"), "column": "A"})
    assert msg == f"my.yaml: nodes[0].demand.path: file not found: {tmp_path / 'nope.csv'}"
    msg = scenario_error({"process": "csv", "path": str(tmp_path), "column": "A"})
    assert msg.endswith(f"file not found: {tmp_path} (a folder)")


def test_too_few_rows(tmp_path: Path) -> None:
    f = write(tmp_path / "short.csv", "date,A\n" + "".join(f"{t},{t}\n" for t in range(20)))
    s = spec(process="csv", path=str(f), column="A", start=5)
    s.check_periods(15)  # rows 5..19: fits
    with pytest.raises(DemandParamError) as err:
        s.check_periods(16)
    assert err.value.field == "start"
    assert str(err.value) == (
        f"start: {f}, column 'A': 20 rows (rows 2-21), too few for an episode of 16 periods "
        "from start 5: it needs 21"
    )
    with pytest.raises(
        ValueError,
        match=re.escape(
            f"path: {f}, column 'A': 20 rows (rows 2-21), too few for an episode of 21 periods: it needs 21"
        ),
    ):
        draw(spec(process="csv", path=str(f), column="A", start="random"), periods=21)  # and at sampling


def test_too_few_rows_rejected_at_load(tmp_path: Path) -> None:
    f = write(tmp_path / "short.csv", "A\n1\n2\n")
    msg = scenario_error({"process": "csv", "path": str(f), "column": "A"}, periods=3)
    assert msg == (
        f"my.yaml: nodes[0] (store_0).demand.path: {f}, column 'A': 2 rows (rows 2-3), too few for an "
        "episode of 3 periods: it needs 3"
    )
    msg = scenario_error({"process": "csv", "path": str(f), "column": "A", "start": 1}, periods=2)
    assert msg.startswith("my.yaml: nodes[0] (store_0).demand.start: ") and "from start 1: it needs 3" in msg
    validate_scenario(
        scenario({"process": "csv", "path": str(f), "column": "A", "start": "random"}, periods=2)
    )


# -------------------------------------------------------------------------------------- correlation
POIS = spec(process="poisson", mean=10)


def implied_pearson(mean: float, rho: float) -> float:
    """Pearson correlation of two Poisson(mean) variables joined by a Gaussian copula with ``rho``, by
    Hoeffding's identity ``Cov = sum_ij [Phi2(a_i, a_j; rho) - F(i) F(j)]`` with ``a_i = Phi^-1(F(i))``."""
    k = np.arange(0, int(mean + 20 * np.sqrt(mean)) + 10)
    f = stats.poisson.cdf(k, mean)
    a = stats.norm.ppf(f)
    pts = np.stack(np.meshgrid(a, a, indexing="ij"), axis=-1).reshape(-1, 2)
    phi2 = stats.multivariate_normal.cdf(
        pts, mean=[0, 0], cov=[[1, rho], [rho, 1]], abseps=1e-12, releps=1e-12, rng=0
    )
    return float((phi2.reshape(len(k), len(k)) - np.outer(f, f)).sum() / mean)


def test_copula_pearson_correlation_of_poisson_pairs() -> None:
    # 2000 episodes x 200 periods = 400 000 independent pairs. The standard error of a sample Pearson r
    # is about (1 - r^2) / sqrt(n) = 0.52 / 632 = 0.0008; the tolerance 0.004 is 5 standard errors.
    # The target is not rho itself: a Gaussian copula on discrete marginals gives a Pearson correlation
    # a little below rho (0.6930 for Poisson(10), rho 0.7, computed exactly below), and the 0.007 between
    # the two is larger than the tolerance, so the test tells them apart.
    target = implied_pearson(10.0, 0.7)
    assert 0.690 < target < 0.696
    d = sample_demand([POIS, POIS], np.random.default_rng(12), 2000, 200, correlation=0.7)
    r = np.corrcoef(d[..., 0].ravel(), d[..., 1].ravel())[0, 1]
    assert abs(r - target) < 0.004, (r, target)
    # and rho = 0.3 between stores 0 and 2 of three
    c = [[1, 0.7, 0.3], [0.7, 1, 0.0], [0.3, 0.0, 1]]
    d = sample_demand([POIS] * 3, np.random.default_rng(13), 2000, 200, correlation=c)
    r = np.corrcoef(d.reshape(-1, 3).T)
    assert abs(r[0, 2] - implied_pearson(10.0, 0.3)) < 0.005 and abs(r[1, 2]) < 0.005, r


def test_copula_marginals_unchanged() -> None:
    # n = 400 000 per store. Mean: sd sqrt(10 / n) = 0.005, tolerance 0.03 (6 sd). Variance: sd
    # sqrt((mu4 - sigma^4) / n) = sqrt((10 * 31 - 100) / n) = 0.023, tolerance 0.15 (6.5 sd). CDF: the
    # largest deviation of an empirical CDF has sd at most 0.5 / sqrt(n) = 0.0008 per point, tolerance 0.004.
    d = sample_demand([POIS, POIS], np.random.default_rng(14), 2000, 200, correlation=0.7)
    k = np.arange(40)
    for s in range(2):
        x = d[..., s].ravel()
        assert abs(x.mean() - 10) < 0.03 and abs(x.var() - 10) < 0.15
        ecdf = np.searchsorted(np.sort(x), k, side="right") / x.size
        assert np.abs(ecdf - stats.poisson.cdf(k, 10)).max() < 0.004
    np.testing.assert_array_equal(d, np.floor(d))


def test_ppfs_match_scipy() -> None:
    u = np.concatenate(
        [np.random.default_rng(0).random(20000), [np.finfo(float).tiny, 1e-12, 0.5, 1 - 2.0**-53]]
    )
    for mean in (0.0, 0.3, 10.0, 1000.0):
        p = spec(process="poisson", mean=mean).params
        np.testing.assert_array_equal(DEMAND_PROCESSES["poisson"].ppf(p, u), stats.poisson.ppf(u, mean))
    p = spec(process="uniform", low=2, high=5).params
    np.testing.assert_array_equal(DEMAND_PROCESSES["uniform"].ppf(p, u), stats.randint.ppf(u, 2, 6))
    p = spec(process="normal", mean=3, std=2).params
    np.testing.assert_allclose(
        DEMAND_PROCESSES["normal"].ppf(p, u), np.maximum(stats.norm.ppf(u, 3, 2), 0), rtol=1e-12
    )
    p = spec(process="constant", value=4).params
    np.testing.assert_array_equal(DEMAND_PROCESSES["constant"].ppf(p, u), np.full(u.shape, 4.0))
    assert {k for k, v in DEMAND_PROCESSES.items() if v.ppf is None} >= {"merton", "fixed", "csv"}


def test_scalar_and_matrix_correlation_are_equivalent() -> None:
    specs = [POIS, spec(process="normal", mean=20, std=4), spec(process="uniform", low=0, high=9)]
    a = sample_demand(specs, np.random.default_rng(5), 8, 30, correlation=0.4)
    b = sample_demand(
        specs, np.random.default_rng(5), 8, 30, correlation=[[1, 0.4, 0.4], [0.4, 1, 0.4], [0.4, 0.4, 1]]
    )
    c = sample_demand(
        specs,
        np.random.default_rng(5),
        8,
        30,
        correlation=np.array([[1, 0.4, 0.4], [0.4, 1, 0.4], [0.4, 0.4, 1]]),
    )
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, sample_demand(specs, np.random.default_rng(5), 8, 30, correlation=0.5))


def test_extreme_correlations() -> None:
    d = sample_demand([POIS, POIS], np.random.default_rng(1), 50, 40, correlation=1.0)  # singular: eigen path
    np.testing.assert_array_equal(d[..., 0], d[..., 1])
    u = spec(process="uniform", low=0, high=9)
    d = sample_demand([u, u], np.random.default_rng(1), 50, 40, correlation=-1.0)  # antithetic
    np.testing.assert_array_equal(d[..., 0] + d[..., 1], 9)
    d = sample_demand(
        [POIS, POIS, POIS], np.random.default_rng(1), 500, 200, correlation=-0.5
    )  # the bound -1/(S-1)
    np.testing.assert_allclose(
        d.sum(axis=2).var(), 0, atol=3
    )  # sum of 3 nearly constant (var 30 if independent)


def test_effects_apply_after_the_copula() -> None:
    specs = [POIS, spec(process="constant", value=5)]
    plain = sample_demand(specs, np.random.default_rng(2), 6, 20, correlation=0.8)
    np.testing.assert_array_equal(plain[..., 1], 5)  # constant: unchanged
    eff = [
        spec(process="poisson", mean=10, multiplier=2, events=[{"period": 3, "factor": 1.5}]),
        spec(process="constant", value=5, weekly=[1, 1, 1, 1, 1, 2, 2]),
    ]
    d = sample_demand(eff, np.random.default_rng(2), 6, 20, correlation=0.8)
    want0 = plain[..., 0] * 2
    want0[:, 3] = np.rint(want0[:, 3] * 1.5)
    np.testing.assert_array_equal(d[..., 0], want0)
    np.testing.assert_array_equal(d[0, :7, 1], [5, 5, 5, 5, 5, 10, 10])


@pytest.mark.parametrize(
    ("corr", "match"),
    [
        ([[1, 0.5, 0], [0.4, 1, 0], [0, 0, 1]], r"symmetric, got \[0\]\[1\] = 0.5 but \[1\]\[0\] = 0.4"),
        ([[1, 0.5, 0], [0.5, 0.9, 0], [0, 0, 1]], r"diagonal must be 1, got \[1\]\[1\] = 0.9"),
        ([[1, 1.5, 0], [1.5, 1, 0], [0, 0, 1]], r"\[-1, 1\], got \[0\]\[1\] = 1.5"),
        (
            [[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1]],
            "positive semi-definite, got smallest eigenvalue -0.8",
        ),
        ([[1, 0.5, 0.5], [0.5, 1, 0.5]], r"3x3 matrix .*got shape \(2, 3\)"),
        ([[1, 0.5], [0.5]], "expected a number or a 3x3 matrix"),
        ([[1, np.nan, 0], [np.nan, 1, 0], [0, 0, 1]], "finite"),
        (1.5, r"\[-1, 1\], got 1.5"),
        (-0.6, r"must be >= -1/2 = -0.5 .*got -0.6"),
        (float("nan"), "got nan"),
        ("high", "expected a number or a 3x3 matrix, got 'high'"),
    ],
)
def test_invalid_correlation_rejected(corr: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        correlation_matrix(corr, 3)
    with pytest.raises(ValueError, match=match):
        sample_demand([POIS] * 3, np.random.default_rng(0), 2, 5, correlation=corr)


@pytest.mark.parametrize("proc", ["merton", "fixed", "csv"])
def test_correlation_needs_an_inverse_cdf(proc: str, tmp_path: Path) -> None:
    other = {
        "merton": spec(process="merton"),
        "fixed": spec(process="fixed", values=[1, 2, 3, 4, 5]),
        "csv": spec(process="csv", path=str(write(tmp_path / "c.csv", "q\n1\n2\n3\n4\n5\n")), column="q"),
    }[proc]
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=f"demand process '{proc}' \\(store 1\\) has no inverse CDF"):
        sample_demand([POIS, other], rng, 2, 5, correlation=0.5)
    assert rng.random() == np.random.default_rng(0).random()  # nothing drawn before the check
    sample_demand([POIS, other], rng, 2, 5)  # fine without correlation


def test_sample_network_demand_uses_the_scenario_correlation() -> None:
    net = compile_network(validate_scenario(two_stores(0.6)))
    np.testing.assert_array_equal(
        sample_network_demand(net, np.random.default_rng(3), 4),
        sample_demand(list(net.demand_specs), np.random.default_rng(3), 4, 10, correlation=0.6),
    )
    plain = compile_network(validate_scenario(two_stores(None)))
    np.testing.assert_array_equal(
        sample_network_demand(plain, np.random.default_rng(3), 4, 6),
        sample_demand(list(plain.demand_specs), np.random.default_rng(3), 4, 6),
    )
    duck = types.SimpleNamespace(demand_specs=(POIS, POIS), periods=5, demand_correlation=None)  # independent
    np.testing.assert_array_equal(
        sample_network_demand(duck, np.random.default_rng(3), 2),
        sample_demand([POIS, POIS], np.random.default_rng(3), 2, 5),
    )


@pytest.mark.parametrize("correlation", [None, 0.5])
def test_sampling_is_vectorised_over_the_batch(
    monkeypatch: pytest.MonkeyPatch, correlation: float | None
) -> None:
    # one sampler (or inverse-CDF) call per store, each with the whole (batch, periods) block: no Python
    # loop over episodes or periods
    calls: list[tuple[str, tuple[int, ...]]] = []
    proc = DEMAND_PROCESSES["poisson"]

    def sample(p: Any, rng: np.random.Generator, batch: int, periods: int) -> np.ndarray:
        calls.append(("sample", (batch, periods)))
        return proc.sample(p, rng, batch, periods)

    def ppf(p: Any, u: np.ndarray) -> np.ndarray:
        calls.append(("ppf", u.shape))
        return proc.ppf(p, u)  # type: ignore[misc]

    monkeypatch.setitem(
        DEMAND_PROCESSES._loaded, "poisson", dataclasses.replace(proc, sample=sample, ppf=ppf)
    )
    specs = [
        spec(
            process="poisson",
            mean=10,
            trend={"slope": 0.001},
            weekly=[1, 1, 1, 1, 1, 1.3, 1.3],
            events=[{"period": 3, "factor": 2, "every": 30}],
            shocks=[{"period": 100, "factor": 1.1}],
        )
    ] * 3
    d = sample_demand(specs, np.random.default_rng(0), 400, 365, correlation=correlation)
    assert d.shape == (400, 365, 3)
    assert calls == [("sample" if correlation is None else "ppf", (400, 365))] * 3


# ------------------------------------------------------------------------- scenario demand_correlation
def two_stores(corr: Any, second: dict[str, Any] | None = None) -> dict[str, Any]:
    store = {"role": "store", "demand": {"process": "poisson", "mean": 10}}
    return {
        "periods": 10,
        "demand_correlation": corr,
        "nodes": [store, {"role": "store", "demand": second or store["demand"]}, {"role": "supplier"}],
        "edges": [
            {"from": "supplier_0", "to": "store_0", "lead_time": 2},
            {"from": "supplier_0", "to": "store_1", "lead_time": 2},
            {"from": "external", "to": "supplier_0", "lead_time": 1},
        ],
    }


def test_scenario_demand_correlation_accepted_and_round_trips() -> None:
    for corr in (0.6, [[1, 0.6], [0.6, 1]], -1.0):
        sc = validate_scenario(two_stores(corr))
        assert sc.demand_correlation == corr
        assert validate_scenario(sc.to_dict()) == sc
    assert validate_scenario(two_stores(None)).demand_correlation is None


@pytest.mark.parametrize(
    ("corr", "second", "want"),
    [
        (
            [[1, 0.6], [0.5, 1]],
            None,
            "demand_correlation: the matrix must be symmetric, got [0][1] = 0.6 but [1][0] = 0.5",
        ),
        (
            [[1, 0.6, 0], [0.6, 1, 0], [0, 0, 1]],
            None,
            "demand_correlation: expected a 2x2 matrix (one row and column per store), got shape (3, 3)",
        ),
        ([[2, 0], [0, 1]], None, "demand_correlation: the diagonal must be 1, got [0][0] = 2.0"),
        (1.2, None, "demand_correlation: a correlation must lie in [-1, 1], got 1.2"),
        (
            0.5,
            {"process": "merton"},
            "nodes[1] (store_1).demand.process: demand_correlation needs a process with an "
            "inverse CDF (constant, normal, poisson, uniform), got 'merton'",
        ),
    ],
)
def test_scenario_demand_correlation_rejected(corr: Any, second: dict[str, Any] | None, want: str) -> None:
    with pytest.raises(ScenarioError) as err:
        validate_scenario(two_stores(corr, second), source="my.yaml")
    assert str(err.value) == f"my.yaml: {want}"


def test_scenario_demand_correlation_not_psd() -> None:
    data = two_stores([[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1]])
    data["nodes"].insert(2, {"role": "store", "demand": {"process": "constant", "value": 1}})
    data["edges"].insert(2, {"from": "supplier_0", "to": "store_2", "lead_time": 1})
    with pytest.raises(ScenarioError, match=r"demand_correlation: the matrix must be positive semi-definite"):
        validate_scenario(data)
    data["demand_correlation"] = -0.6  # three stores: a common rho must be >= -0.5
    with pytest.raises(
        ScenarioError, match=r"demand_correlation: a common correlation of 3 stores must be >= -1/2"
    ):
        validate_scenario(data)
    data["demand_correlation"] = -0.5
    validate_scenario(data)
