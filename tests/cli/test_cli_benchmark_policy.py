"""``invmgmt-marl benchmark --policy NAME[:KEY=VALUE,...]``: any registered policy as an extra row."""

from __future__ import annotations

import json

import numpy as np
import pytest

from invmgmt_marl.cli import main
from invmgmt_marl.cli.evaluation import _split_top_level, extra_baselines
from invmgmt_marl.compile import compile_network
from invmgmt_marl.demand import sample_network_demand
from invmgmt_marl.policies import make_policy
from invmgmt_marl.rollout import rollout
from invmgmt_marl.scenario import load_scenario


def test_split_top_level_keeps_lists_and_mappings() -> None:
    text = 'a=1,levels=[1,2,3],b={"x":1,"y":2},c=x'
    assert _split_top_level(text) == ["a=1", "levels=[1,2,3]", 'b={"x":1,"y":2}', "c=x"]
    assert _split_top_level("") == []


def test_extra_baselines_parse_and_check() -> None:
    (b,) = extra_baselines(["rolling_ww:horizon=8,window=6"], "lot_sizing")
    assert (b.label, b.kind, b.tuned, b.options) == (
        "rolling_ww:horizon=8,window=6",
        "rolling_ww",
        False,
        {"horizon": 8, "window": 6},
    )
    assert extra_baselines(None) == []
    with pytest.raises(ValueError, match="--policy: unknown policy 'rolling_nope'"):
        extra_baselines(["rolling_nope"])
    with pytest.raises(ValueError, match="--policy: policy 'rolling_ww' has no option 'horizn'"):
        extra_baselines(["rolling_ww:horizn=8"])
    with pytest.raises(ValueError, match="--policy: expected KEY=VALUE"):
        extra_baselines(["rolling_ww:8"])


def test_benchmark_scores_the_extra_policy(tmp_path) -> None:
    out, rows_path = tmp_path / "b.md", tmp_path / "b.json"
    argv = [
        "benchmark",
        "--scenarios",
        "lot_sizing",
        "--episodes",
        "2",
        "--periods",
        "20",
        "--no-bound",
        "--policies",
        "constant",
        "--policy",
        "rolling_ww:horizon=6",
        "--out",
        str(out),
        "--json",
        str(rows_path),
    ]
    assert main(argv) == 0
    # policy rows (the bound ladder adds rows of kind "ladder" for the rungs that apply)
    rows = {r["label"]: r for r in json.loads(rows_path.read_text()) if r["kind"] != "ladder"}
    assert set(rows) == {"floor: order nothing", "rolling_ww:horizon=6"}
    assert "--policy rolling_ww:horizon=6" in out.read_text()
    # independently: the same policy on the benchmark's test paths (seed 0) through rollout
    net = compile_network(load_scenario("lot_sizing", periods=20))
    demand = sample_network_demand(net, np.random.default_rng(0), 2, 20)
    traj = rollout(net, make_policy("rolling_ww", net, horizon=6), demand=demand, seed=0)
    expected = traj.cost().sum(axis=1).mean() / (net.n_nodes * 20)
    got = rows["rolling_ww:horizon=6"]["summary"]["cost"]["per_agent_period"]
    assert got == pytest.approx(expected, rel=1e-12)
