"""invmgmt_marl.demand_vector: runs of Poisson streams drawn in one call equal the per-store path bit
for bit (the reference: ``sample_store_demand`` called once per store, in order, on a generator with
the same seed), and leave the generator in the same state."""

from __future__ import annotations

import numpy as np
import pytest

import invmgmt_marl
from invmgmt_marl.compile import compile_network
from invmgmt_marl.demand import sample_demand, sample_network_demand, sample_store_demand
from invmgmt_marl.demand_vector import MIN_RUN, sample_poisson_run, simple_poisson
from invmgmt_marl.scenario.schema import DemandSpec


def _per_store(specs: list[DemandSpec], seed: int, batch: int, periods: int) -> tuple[np.ndarray, float]:
    rng = np.random.default_rng(seed)
    out = np.stack([sample_store_demand(s, rng, batch, periods) for s in specs], axis=-1)
    return out, rng.random()


def _specs(seed: int, k: int) -> list[DemandSpec]:
    rng = np.random.default_rng(seed)
    specs = []
    for i in range(k):
        d: dict = {"process": "poisson", "mean": float(rng.choice([0.0, 0.05, 0.3, 2.5, 40.0]))}
        if i % 3:
            d["seasonal"] = {
                "amplitude": float(rng.uniform(0, 0.9)),
                "period": float(rng.choice([7, 12])),
                "phase": float(rng.integers(0, 5)),
            }
        if i % 4 == 1:
            d["multiplier"] = float(rng.uniform(0.5, 2.0))
        d["integer"] = bool(i % 5)
        specs.append(DemandSpec.model_validate(d))
    return specs


@pytest.mark.parametrize("seed", range(4))
def test_run_equals_per_store_calls(seed: int) -> None:
    specs = _specs(seed, 40)
    assert all(simple_poisson(s) for s in specs)
    ref, after_ref = _per_store(specs, seed, 3, 30)
    rng = np.random.default_rng(seed)
    got = sample_poisson_run(specs, rng, 3, 30)
    np.testing.assert_array_equal(got, ref)
    assert rng.random() == after_ref  # the generator is where the per-store calls leave it


def test_sample_demand_mixes_runs_and_other_processes() -> None:
    specs = _specs(9, 3 * MIN_RUN)
    other = DemandSpec.model_validate({"process": "normal", "mean": 5, "std": 2, "trend": {"slope": 0.1}})
    specs = [other, *specs[:2], other, *specs[2:], other]  # a short run (2), a long one, others between
    ref, after_ref = _per_store(specs, 3, 2, 25)
    rng = np.random.default_rng(3)
    np.testing.assert_array_equal(sample_demand(specs, rng, 2, 25), ref)
    assert rng.random() == after_ref


def test_sku_scenario_reset_demand_unchanged() -> None:
    net = compile_network(invmgmt_marl.load_scenario("sku200_1w"))
    ref, _ = _per_store(list(net.demand_specs), 11, 2, net.periods)
    got = sample_network_demand(net, np.random.default_rng(11), 2)
    np.testing.assert_array_equal(got, ref.reshape(2, net.periods, net.n_products, net.n_stores))
