"""The conditional newsvendor rung for Merton demand: the inner minimum by hand, the sampler's law, a
hand-computed value without volatility, and validity against simulated policies."""

from __future__ import annotations

import numpy as np
import pytest

from invmgmt_marl.bounds import Bound
from invmgmt_marl.bounds.merton import (
    conditional_newsvendor,
    merton_newsvendor_bound,
    sample_merton_paths,
)
from invmgmt_marl.compile import compile_network
from invmgmt_marl.demand import sample_network_demand
from invmgmt_marl.policies.base import ForecastOrderUpToPolicy
from invmgmt_marl.rollout import rollout
from invmgmt_marl.scenario.loader import load_scenario


def test_conditional_newsvendor_by_hand() -> None:
    # samples 0 and 10, h = 1, b = 3: y = 0 costs 3 * 10 / 2 = 15, y = 10 costs 1 * 10 / 2 = 5
    assert conditional_newsvendor(np.array([10.0, 0.0]), 1.0, 3.0) == pytest.approx(5.0)
    # samples 1, 2, 3 with h = b = 1: the median 2 costs (1 + 0 + 1) / 3
    assert conditional_newsvendor(np.array([3.0, 1.0, 2.0]), 1.0, 1.0) == pytest.approx(2 / 3)
    assert conditional_newsvendor(np.array([]), 1.0, 1.0) == 0.0  # no accepted sample: cost >= 0


def test_sampler_draws_the_simulators_paths() -> None:
    # same seed, same order of draws: on 10-period paths every path is accepted in the first round,
    # so the paths are identical to the simulator's demand
    net = compile_network(load_scenario("serial", periods=10))
    sim = sample_network_demand(net, np.random.default_rng(3), 16)[:, :, 0]
    _, ours = sample_merton_paths(net.demand_specs[0].params, np.random.default_rng(3), 16, 10)
    np.testing.assert_array_equal(ours, sim)


def test_no_volatility_by_hand() -> None:
    # delta = jump_scale = 0: demand is 10 every period and known, so every decision period's
    # conditional newsvendor cost is 0. Periods 0..3 (lead time 4, window 5) are decided by the initial
    # stock 10 and the pipeline of 10 a period: net stock 10 + 10 (tau + 1) - 10 (tau + 1) = 10, holding
    # cost 10 each; total 40 over 3 agents x 200 periods
    net = compile_network(
        load_scenario("serial", demand={"process": "merton", "delta": 0.0, "jump_scale": 0.0})
    )
    b = merton_newsvendor_bound(net, paths=3, samples=4, seed=0)
    assert isinstance(b, Bound)
    assert b.value == pytest.approx(40 / 600)
    assert b.details["stderr"] == pytest.approx(0.0)


def test_bound_is_below_simulated_policies() -> None:
    # the forecast order-up-to rule tuned in docs/benchmark.md (12.58 on Liu's files) and a cruder one,
    # each on 40 fresh paths: the bound (about 1.5) must lie below both, beyond the sampling errors
    net = compile_network(load_scenario("serial"))
    b = merton_newsvendor_bound(net, paths=6, samples=64, seed=1)
    assert isinstance(b, Bound) and b.kind == "lower_bound" and b.value > 0.5  # above 0 by far
    demand = sample_network_demand(net, np.random.default_rng(5), 40)
    for pol in (
        ForecastOrderUpToPolicy(safety=[3, 0, 0], cover=[5, 6, 6]),
        ForecastOrderUpToPolicy(cover=[5, 5, 5]),
    ):
        per_ep = rollout(net, pol, demand=demand, keep="sum").cost().sum(axis=1) / (3 * net.periods)
        se = per_ep.std(ddof=1) / np.sqrt(len(per_ep))
        assert b.value + 3 * b.details["stderr"] < per_ep.mean() - 3 * se  # type: ignore[operator]


def test_other_demand_is_skipped_and_bad_arguments() -> None:
    net = compile_network(load_scenario("serial", demand={"process": "poisson", "mean": 10}))
    out = merton_newsvendor_bound(net, paths=2, samples=2)
    assert not isinstance(out, Bound) and "poisson" in out.reason
    with pytest.raises(ValueError, match="paths"):
        merton_newsvendor_bound(net, paths=1)
