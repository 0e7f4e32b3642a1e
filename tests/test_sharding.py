"""Sharding the benchmark as Ray tasks (invmgmt_marl.sharding): the same rows as the local run."""

from __future__ import annotations

import math
from importlib.util import find_spec
from typing import Any

import pytest

if find_spec("ray") is None:
    pytest.skip("extra 'rllib' not installed", allow_module_level=True)

import invmgmt_marl  # noqa: E402
from invmgmt_marl.evaluate import run_benchmark, select_baselines  # noqa: E402
from invmgmt_marl.sharding import run_benchmark_sharded, shard_map  # noqa: E402


def _square_plus(x: int) -> int:
    return x * x + 1


def _package_file(_: int) -> str:
    return str(invmgmt_marl.__file__)


def _without_timings(x: Any) -> Any:
    """Rows with the wall-clock figures taken out (NaN kept comparable as a string)."""
    if isinstance(x, dict):
        return {k: _without_timings(v) for k, v in x.items() if k != "seconds"}
    if isinstance(x, (list, tuple)):
        return [_without_timings(v) for v in x]
    if isinstance(x, float) and math.isnan(x):
        return "nan"
    return x


@pytest.mark.slow  # Ray start-up (2-10 s on the shared machine), then small benchmarks
def test_sharded_benchmark_equals_the_local_run(ray_local: Any) -> None:
    assert shard_map(_square_plus, [3, 1, 2]) == [10, 2, 5]  # results in input order
    assert shard_map(_package_file, [0]) == [invmgmt_marl.__file__]  # the workers run this copy
    kw: dict[str, Any] = {
        "episodes": 3,
        "seed": 0,
        "train_episodes": 4,
        "train_seed": 1,
        "baselines": select_baselines(["constant", "random", "base_stock"]),
        "bound": False,
        "cache": False,
        "periods": 12,
    }
    scenarios = ["serial", "divergent", "net_2x3"]
    local = run_benchmark(scenarios, **kw)
    sharded = run_benchmark_sharded(scenarios, **kw)
    assert [r["scenario"] for r in sharded] == [r["scenario"] for r in local]
    assert len(local) >= 3 * 3
    assert _without_timings(sharded) == _without_timings(local)


def test_cli_benchmark_address_shards_with_ray(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """``benchmark --address`` hands the run to run_benchmark_sharded with the address and CPUs (Ray
    itself replaced by a recorder: the sharded run is checked above)."""
    from invmgmt_marl import sharding
    from invmgmt_marl.cli import main

    seen: dict[str, Any] = {}

    def fake(scenarios: Any, *, address: Any = None, num_cpus: Any = None, **kw: Any) -> list[dict[str, Any]]:
        seen.update(scenarios=scenarios, address=address, num_cpus=num_cpus, episodes=kw["episodes"])
        return run_benchmark(scenarios, **kw)

    monkeypatch.setattr(sharding, "run_benchmark_sharded", fake)
    out = tmp_path / "b.md"
    args = ["benchmark", "--scenarios", "serial", "--policies", "constant", "--episodes", "2"]
    code = main(
        [*args, "--no-bound", "--periods", "6", "--address", "auto", "--num-cpus", "2", "--out", str(out)]
    )
    assert code == 0 and out.exists()
    assert seen == {"scenarios": ["serial"], "address": "auto", "num_cpus": 2, "episodes": 2}
