"""Sharding as Ray tasks (issue 10 item 9): tuning over many scenarios, and the benchmark over product
scenarios, give the local results exactly."""

from __future__ import annotations

from importlib.util import find_spec
from typing import Any

import pytest

if find_spec("ray") is None:
    pytest.skip("extra 'rllib' not installed", allow_module_level=True)

from invmgmt_marl.compile import compile_network  # noqa: E402
from invmgmt_marl.evaluate import run_benchmark, select_baselines  # noqa: E402
from invmgmt_marl.policies import tune  # noqa: E402
from invmgmt_marl.scenario import load_scenario  # noqa: E402
from invmgmt_marl.sharding import run_benchmark_sharded, tune_sharded  # noqa: E402
from tests.test_sharding import _without_timings  # noqa: E402


def test_tune_sharded_refuses_no_scenarios() -> None:
    with pytest.raises(ValueError, match="scenarios: give at least one scenario"):
        tune_sharded([], "base_stock")


@pytest.mark.slow  # Ray start-up (2-10 s on the shared machine), then four small tunings twice
def test_sharded_tuning_and_product_benchmark_equal_the_local_runs(ray_local: Any) -> None:
    # tuning: a one-product chain and a product scenario (a Network object and a name), each task
    # drawing its training paths from the same seed as the local call
    sku = compile_network(load_scenario("sku50_1w", periods=8))
    kw: dict[str, Any] = {"episodes": 3, "seed": 4, "max_sweeps": 1}
    sharded = tune_sharded([sku, "serial"], "base_stock", **kw)
    local = [
        tune(sku, "base_stock", **kw),
        tune(compile_network(load_scenario("serial")), "base_stock", **kw),
    ]
    assert [r.kind for r in sharded] == ["base_stock", "base_stock"]
    assert len(sharded[0].vector) == 50  # one level per (product, node)
    assert sharded == local  # dataclass equality: params, vector, cost, evaluations

    # the benchmark over product scenarios, one task per scenario
    bk: dict[str, Any] = {
        "episodes": 2,
        "seed": 0,
        "train_episodes": 2,
        "train_seed": 1,
        "baselines": select_baselines(["constant", "base_stock"]),
        "bound": False,
        "cache": False,
        "periods": 6,
    }
    scenarios = ["sku50_1w", "sku200_1w"]
    rows, local_rows = run_benchmark_sharded(scenarios, **bk), run_benchmark(scenarios, **bk)
    assert [r["scenario"] for r in rows] == ["sku50_1w"] * 2 + ["sku200_1w"] * 2
    assert any("products" in r["summary"] for r in rows)  # the product summary travelled back
    assert _without_timings(rows) == _without_timings(local_rows)
