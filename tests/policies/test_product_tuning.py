"""Tuning per-product parameters in one batched search: on constant demand the optimal base-stock
level of each product is known by hand, and the search finds it from zero for every product at once."""

from __future__ import annotations

import numpy as np

from invmgmt_marl.compile import compile_network
from invmgmt_marl.demand import sample_network_demand
from invmgmt_marl.policies import (
    BaseStockPolicy,
    CapacityBaseStockPolicy,
    simulate_products,
    tune,
    tune_products,
)
from invmgmt_marl.scenario import validate_scenario
from tests.policies.test_product_policies import tight_store


def constant_store(capacity: float) -> object:
    data = tight_store(capacity)
    for p, value in zip(data["products"], (4, 3, 6), strict=True):
        p["demand"] = {"process": "constant", "value": value}
    return compile_network(validate_scenario(data))


def test_search_finds_the_hand_optimum_from_zero() -> None:
    """Constant demand 4, 3, 6, lead time 2, lost-sales cost 3 above every unit cost: the level
    (L + 1) x demand = 12, 9, 18 sells everything and ends every period with nothing on hand; a
    lower level loses sales (3 > unit cost each), a higher one pays holding. The search starts at 0
    for every product and moves all products in the same batched simulations."""
    net = constant_store(1e6)
    demand = sample_network_demand(net, np.random.default_rng(0), 2, net.periods)
    res = tune_products(
        net,
        lambda p: BaseStockPolicy(p),
        np.zeros((3, 1)),
        np.zeros(1),
        np.array([[4.0], [3.0], [6.0]]),
        demand,
    )
    np.testing.assert_array_equal(res.theta[:, 0], [12.0, 9.0, 18.0])
    # the score is the simulated cost of the result (an independent rerun)
    run = simulate_products(net, BaseStockPolicy(res.theta), demand)
    assert res.score == run.cost.sum(axis=1).mean()


def test_tune_on_a_product_network() -> None:
    """`tune` dispatches product networks to the batched search; the result rebuilds a per-(product,
    node) policy. With a capacity of 40 volume units the uncoupled optimum still fits (12 x 1 + 9 x 2
    + 18 x 0.5 = 39 volume units on hand and in transit), so the capacity-aware family never does
    worse than that start and never overflows."""
    net = constant_store(1e6)
    res = tune(net, "base_stock", episodes=2, seed=0)
    assert list(res.params) == ["S[store_0][a]", "S[store_0][b]", "S[store_0][c]"]
    np.testing.assert_array_equal(res.policy(net).levels[:, 0], [12.0, 9.0, 18.0])  # type: ignore[attr-defined]
    tight = constant_store(40.0)
    res = tune(tight, "base_stock_capacity", episodes=2, seed=0)
    pol = res.policy(tight)
    assert isinstance(pol, CapacityBaseStockPolicy) and pol.levels.shape == (3, 1)
    d = sample_network_demand(tight, np.random.default_rng(0), 2, tight.periods)
    start = simulate_products(tight, CapacityBaseStockPolicy(np.array([[12.0], [9.0], [18.0]])), d)
    tuned = simulate_products(tight, pol, d)
    assert tuned.cost.sum() <= start.cost.sum() + 1e-9
    assert np.all(tuned.overflow <= 1e-6)


def test_cached_product_result_round_trips(tmp_path: object, monkeypatch: object) -> None:
    """A product tuning result is cached as JSON and rebuilds the same (P, N) levels from the cache."""
    monkeypatch.setenv("INVMGMT_MARL_CACHE", str(tmp_path))  # type: ignore[attr-defined]
    net = constant_store(1e6)
    first = tune(net, "s_S", episodes=2, seed=1, cache=True)
    again = tune(net, "s_S", episodes=2, seed=1, cache=True)
    assert again == first and len(first.vector) == 3 * 2
    pol = again.policy(net)
    np.testing.assert_array_equal(pol.s, np.asarray(first.vector).reshape(3, 2)[:, :1])  # type: ignore[attr-defined]
