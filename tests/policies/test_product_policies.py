"""Baseline policies per (node, product): each product of an uncoupled product network orders exactly as
the product-free network carrying that product's values; the capacity-aware base-stock never
overflows or exceeds the budget where the plain one does; the newsvendor levels by hand."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from invmgmt_marl.compile import compile_network
from invmgmt_marl.policies import (
    BaseStockPolicy,
    CapacityBaseStockPolicy,
    EchelonBaseStockPolicy,
    ForecastOrderUpToPolicy,
    SSPolicy,
    make_policy,
    newsvendor_levels,
    simulate_products,
)
from invmgmt_marl.scenario import validate_scenario
from invmgmt_marl.sim import initial_state, step
from tests.sim.test_products import CHAIN, PRODUCTS, _as_scalars, with_products

# levels per (product, node): product a, product b; nodes store_0, supplier_0
LEVELS = np.array([[9.0, 14.0], [6.0, 11.0]])


def _policies(levels: np.ndarray) -> dict[str, Any]:
    return {
        "base_stock": BaseStockPolicy(levels),
        "echelon": EchelonBaseStockPolicy(levels + [0.0, 8.0]),
        "s_S": SSPolicy(levels - 3.0, levels + 2.0),
        "forecast": ForecastOrderUpToPolicy(safety=levels / 4, window=2),
        "forecast_requests": ForecastOrderUpToPolicy(safety=levels / 4, window=3, signal="requests"),
    }


@pytest.mark.parametrize("kind", list(_policies(LEVELS)))
def test_uncoupled_products_order_as_separate_networks(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Independent method: product p's orders on the joint network equal the orders the same policy
    (with product p's levels) places on the product-free network whose scalars are p's values, period
    by period, on the same demand (costs too: the simulator's equivalence is tests/sim/test_products)."""

    def exact_stats(net: Any, *a: Any, **k: Any) -> tuple[np.ndarray, np.ndarray]:
        # the forecast's starting history comes from sampled demand, drawn differently on the two
        # networks: give both the exact Poisson(4) mean and std instead
        shape = (net.n_products, net.n_stores) if net.product_axis else (net.n_stores,)
        return np.full(shape, 4.0), np.full(shape, 2.0)

    monkeypatch.setattr("invmgmt_marl.policies.base.demand_statistics", exact_stats)
    joint = compile_network(validate_scenario(with_products(CHAIN, PRODUCTS)))
    demand = np.random.default_rng(5).poisson(4, (3, CHAIN["periods"], 2, 1)).astype(float)
    pol = _policies(LEVELS)[kind]
    rng = np.random.default_rng(0)
    state = initial_state(joint, 3)
    if hasattr(pol, "reset"):
        pol.reset(joint, 3, rng)
    joint_orders = []
    for t in range(joint.periods):
        o = np.clip(pol(joint, state, rng), 0.0, joint.max_order)
        joint_orders.append(o)
        state, _ = step(joint, state, o, demand[:, t])
    for p, prod in enumerate(PRODUCTS):
        alone = compile_network(validate_scenario(_as_scalars(prod)))
        pol_p = _policies(LEVELS[p])[kind]
        state = initial_state(alone, 3)
        if hasattr(pol_p, "reset"):
            pol_p.reset(alone, 3, rng)
        for t in range(alone.periods):
            o = np.clip(pol_p(alone, state, rng), 0.0, alone.max_order)
            np.testing.assert_allclose(joint_orders[t][:, p], o, rtol=0, atol=1e-12, err_msg=f"t={t}")
            state, _ = step(alone, state, o, demand[:, t, p])


def tight_store(capacity: float, **node: Any) -> dict[str, Any]:
    """One lost-sales store buying from the vendor (lead time 2); three products of volumes 1, 2, 0.5,
    demand 4, 3, 6 a period; capacity below what base-stock holds."""
    return {
        "periods": 30,
        "nodes": [
            {
                "role": "store",
                "lost_sales": True,
                "holding_cost": 0.1,
                "lost_sales_cost": 3.0,
                "storage_capacity": capacity,
                "overflow_cost": 1.0,
                **node,
            }
        ],
        "edges": [{"from": "external", "to": "store_0", "lead_time": 2}],
        "products": [
            {"name": "a", "volume": 1.0, "unit_cost": 1.0, "demand": {"process": "poisson", "mean": 4}},
            {"name": "b", "volume": 2.0, "unit_cost": 2.0, "demand": {"process": "poisson", "mean": 3}},
            {"name": "c", "volume": 0.5, "unit_cost": 0.5, "demand": {"process": "poisson", "mean": 6}},
        ],
        "actions": {"type": "box"},
    }


@pytest.mark.parametrize(
    ("node", "what"),
    [({}, "overflow"), ({"overflow": "keep"}, "overflow"), ({"order_budget": 12.0}, "rejected")],
)
def test_capacity_variant_never_overflows_where_plain_does(node: dict[str, Any], what: str) -> None:
    """Levels 20, 15, 25 (volume 20 + 30 + 12.5 = 62.5 at the level) against a capacity of 30: the
    plain base-stock overflows (or, with a budget of 12 per period, has orders rejected); the
    capacity-aware one, from the same levels and an initial state within capacity, never does."""
    cap = 30.0 if what == "overflow" else 1e6
    net = compile_network(validate_scenario(tight_store(cap, **node)))
    levels = np.array([[20.0], [15.0], [25.0]])
    demand = np.random.default_rng(1).poisson([4, 3, 6], (8, net.periods, 3))[..., None].astype(float)
    plain = simulate_products(net, BaseStockPolicy(levels), demand)
    capped = simulate_products(net, CapacityBaseStockPolicy(levels), demand)
    assert getattr(plain, what).sum() > 10.0
    # exactly zero up to the 1e-9 relative margin the policy keeps below each limit
    assert np.all(capped.overflow <= 1e-6) and np.all(capped.rejected <= 1e-6)


def test_capacity_variant_scales_one_node_by_hand() -> None:
    """Capacity 30, stock a=4, b=2, c=6 (volume 4 + 4 + 3 = 11), nothing in transit: room 19. Levels 20,
    15, 25 ask for 16, 13, 19 units (below max_order 20) = volume 16 + 26 + 9.5 = 51.5; every order is
    scaled by 19 / 51.5."""
    net = compile_network(validate_scenario(tight_store(30.0)))
    state = initial_state(net, 1)._replace(on_hand=np.array([[[4.0], [2.0], [6.0]]]))
    orders = CapacityBaseStockPolicy(np.array([[20.0], [15.0], [25.0]]))(net, state, np.random.default_rng())
    f = 19 / 51.5 * (1 - 1e-9)
    np.testing.assert_allclose(orders[0, :, 0], [16 * f, 13 * f, 19 * f], rtol=1e-12)
    # room enough: the plain orders, unscaled
    net = compile_network(validate_scenario(tight_store(1000.0)))
    orders = CapacityBaseStockPolicy(np.array([[20.0], [15.0], [25.0]]))(net, state, np.random.default_rng())
    np.testing.assert_array_equal(orders[0, :, 0], [16.0, 13.0, 19.0])


def test_capacity_variant_budget_by_hand() -> None:
    """Budget 12: orders 16 a (unit cost 1), 13 b (2), 19 c (0.5) cost 16 + 26 + 9.5 = 51.5, scaled by
    12 / 51.5 (the capacity, 1e6, does not bind)."""
    net = compile_network(validate_scenario(tight_store(1e6, order_budget=12.0)))
    state = initial_state(net, 1)._replace(on_hand=np.array([[[4.0], [2.0], [6.0]]]))
    orders = CapacityBaseStockPolicy(np.array([[20.0], [15.0], [25.0]]))(net, state, np.random.default_rng())
    f = 12 / 51.5 * (1 - 1e-9)
    np.testing.assert_allclose(orders[0, :, 0], [16 * f, 13 * f, 19 * f], rtol=1e-12)


def test_registered_policies_run_on_products_and_refuse_bad_args() -> None:
    net = compile_network(validate_scenario(tight_store(30.0)))
    demand = np.random.default_rng(2).poisson(4, (2, net.periods, 3, 1)).astype(float)
    for name in ("constant", "random", "base_stock", "echelon_base_stock", "s_S", "forecast_order_up_to"):
        run = simulate_products(net, make_policy(name, net), demand)
        assert run.cost.shape == (2, 3) and np.all(np.isfinite(run.cost))
    run = simulate_products(net, make_policy("base_stock_capacity", net, rule="expected"), demand)
    assert np.all(run.cost > 0)
    with pytest.raises(ValueError, match="rule"):
        CapacityBaseStockPolicy(np.ones((3, 1)), rule="nope")
    with pytest.raises(ValueError, match="demand"):
        simulate_products(net, make_policy("base_stock", net), demand[..., 0])
    with pytest.raises(ValueError, match=r"expected orders of shape \(B, P, E\)"):
        simulate_products(net, lambda n, st, r: np.zeros((2, 1)), demand)  # a product-free policy


def test_newsvendor_levels_by_hand() -> None:
    """Constant demand (std 0) and lead time 2: S = 3 x mean whatever the ratio; with Poisson demand
    the safety term is z x sqrt(3) x std, z = Phi^-1(3 / 3.1) for a (cost 3, holding 0.1)."""
    data = tight_store(1e6)
    for p, value in zip(data["products"], (4, 3, 6), strict=True):
        p["demand"] = {"process": "constant", "value": value}
    net = compile_network(validate_scenario(data))
    np.testing.assert_array_equal(newsvendor_levels(net)[:, 0], [12.0, 9.0, 18.0])
    # normal quantile of 3 / 3.1 = 0.96774: 1.8486 (tables); Poisson(4): mean 4, std 2 (sampled)
    net = compile_network(validate_scenario(tight_store(1e6)))
    lv = newsvendor_levels(net)[0, 0]
    assert 12 + 1.84 * np.sqrt(3) * 1.9 <= lv <= np.ceil(12 + 1.85 * np.sqrt(3) * 2.1)


def test_rolling_policies_refuse_products_by_name() -> None:
    net = compile_network(validate_scenario(tight_store(30.0)))
    demand = np.zeros((1, net.periods, 3, 1))
    with pytest.raises(ValueError, match="rolling-horizon policies plan one product per node"):
        simulate_products(net, make_policy("rolling_ww", net), demand)


def test_capacity_variant_on_a_network_without_products() -> None:
    """Without products the capacity is in units and nothing else changes: a level of 20 with a lead
    time of 2 against a capacity of 10 units makes the plain policy refuse arrivals; the variant never."""
    from invmgmt_marl.rollout import rollout

    data = {
        "periods": 30,
        "nodes": [
            {
                "role": "store",
                "storage_capacity": 10,
                "holding_cost": 0.1,
                "backlog_cost": 2.0,
                "demand": {"process": "poisson", "mean": 4},
            }
        ],
        "edges": [{"from": "supplier_0", "to": "store_0", "lead_time": 2}],
    }
    data["nodes"].append({"role": "supplier", "initial_on_hand": 0})
    data["edges"].append({"from": "external", "to": "supplier_0", "lead_time": 1})
    net = compile_network(validate_scenario(data))
    levels = np.array([20.0, 30.0])
    plain = rollout(net, BaseStockPolicy(levels), episodes=8, seed=3, keep="sum")
    capped = rollout(net, CapacityBaseStockPolicy(levels), episodes=8, seed=3, keep="sum")
    assert plain.node("refused").sum() > 10.0
    assert np.all(capped.node("refused") <= 1e-6)
