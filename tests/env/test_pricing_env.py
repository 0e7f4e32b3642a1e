"""Price actions, shipping modes and the event calendar through the agent interface and the ParallelEnv,
for both agent groupings: the action layout, decoding of prices, observations (last price
multiplier, event countdowns) and PettingZoo's API test."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test

from invmgmt_marl.compile import compile_network
from invmgmt_marl.product_interface import ProductInterface, make_interface
from invmgmt_marl.scenario.schema import validate_scenario
from invmgmt_marl.sim.state import initial_state

RAW: dict[str, Any] = {
    "name": "retail_pair",
    "periods": 8,
    "nodes": [
        {"role": "store", "lost_sales": True, "initial_on_hand": 20, "pricing": {"min": 0.5, "max": 1.5}},
        {"role": "store", "lost_sales": True, "initial_on_hand": 20},  # no pricing
        {"role": "supplier", "initial_on_hand": 50},
    ],
    "edges": [
        {"from": "external", "to": "supplier_0", "lead_time": 1},
        {
            "from": "supplier_0",
            "to": "store_0",
            "modes": [
                {"name": "slow", "unit_cost": 1, "lead_time": [2, 4]},
                {"name": "fast", "unit_cost": 3, "lead_time": 1},
            ],
        },
        {"from": "supplier_0", "to": "store_1", "lead_time": 1},
    ],
    "products": [
        {
            "name": "toys",
            "price": 25,
            "unit_cost": 12,
            "price_elasticity": 1.3,
            "max_order": 10,
            "demand": {"process": "constant", "value": 10},
        },
        {
            "name": "food",
            "price": 10,
            "unit_cost": 5,
            "price_elasticity": 0.4,
            "max_order": 10,
            "demand": {"process": "constant", "value": 10},
        },
    ],
    "events": [
        {"name": "xmas", "start": 2, "duration": 2, "factor": {"toys": 3}, "stores": ["store_0"]},
        {"name": "promo", "start": 1, "duration": 1, "every": 3, "factor": 1.5},
    ],
    "reward": {"scheme": "profit"},
}


@pytest.mark.parametrize("agents", ["node", "node_product"])
@pytest.mark.parametrize("shared", [False, True])
def test_parallel_api(make_env, agents: str, shared: bool) -> None:  # type: ignore[no-untyped-def]
    env = make_env(RAW, agents=agents, shared_spaces=shared)
    parallel_api_test(env, num_cycles=10)


def test_action_layout_node_agents() -> None:
    iface = make_interface(compile_network(validate_scenario(RAW)))
    assert isinstance(iface, ProductInterface)
    # store_0: orders for (toys, slow), (toys, fast), (food, slow), (food, fast), then a price per product
    sp = iface.action_spaces["store_0"]
    np.testing.assert_array_equal(sp.low, [0, 0, 0, 0, 0.5, 0.5])  # type: ignore[attr-defined]
    np.testing.assert_array_equal(sp.high, [10, 10, 10, 10, 1.5, 1.5])  # type: ignore[attr-defined]
    assert iface.action_spaces["store_1"].shape == (2,)  # no pricing: orders only
    assert iface.action_spaces["supplier_0"].shape == (2,)
    acts = {
        "store_0": np.array([1, 2, 3, 4, 1.3, 0.7], dtype=np.float32),
        "store_1": np.array([5, 6], dtype=np.float32),
        "supplier_0": np.array([7, 8], dtype=np.float32),
    }
    orders, clipped = iface.decode(acts, list(iface.agents))
    # edges: 0 external->supplier_0, 1 slow, 2 fast, 3 supplier_0->store_1
    np.testing.assert_array_equal(orders[0], [[7, 1, 2, 5], [8, 3, 4, 6]])
    assert not any(clipped.values())
    price = iface.decode_controls(acts)["price"]
    np.testing.assert_allclose(price[0], [[1.3, 1.0], [0.7, 1.0]], rtol=1e-6)  # (P, S): store_1 at list price
    # the batch form gives the same
    batch = np.zeros((2, *iface.batch_shape))
    for k, a in enumerate(iface.agents):
        batch[:, k, : len(acts[a])] = acts[a]
    orders_b, _ = iface.decode_batch(batch)
    np.testing.assert_array_equal(orders_b[1], orders[0])
    np.testing.assert_allclose(iface.decode_controls(batch)["price"][1], price[0])
    # out of the price bounds: clipped and counted
    acts["store_0"] = np.array([0, 0, 0, 0, 2.0, 0.1], dtype=np.float32)
    _, clipped = iface.decode(acts, list(iface.agents))
    assert clipped["store_0"] == 2
    np.testing.assert_allclose(iface.decode_controls(acts)["price"][0, :, 0], [1.5, 0.5])


def test_action_layout_sku_agents() -> None:
    iface = make_interface(compile_network(validate_scenario(RAW)), agents="node_product")
    sp = iface.action_spaces["store_0__food"]
    np.testing.assert_array_equal(sp.low, [0, 0, 0.5])  # type: ignore[attr-defined]  # slow, fast, price
    acts = {a: np.zeros(iface.action_spaces[a].shape, dtype=np.float32) for a in iface.agents}
    acts["store_0__toys"] = np.array([0, 0, 1.2], dtype=np.float32)
    acts["store_0__food"] = np.array([0, 0, 0.8], dtype=np.float32)
    price = iface.decode_controls(acts)["price"]
    np.testing.assert_allclose(price[0], [[1.2, 1.0], [0.8, 1.0]], rtol=1e-6)


def test_prices_move_demand_and_show_in_observations(make_env) -> None:  # type: ignore[no-untyped-def]
    env = make_env(RAW)
    obs, _ = env.reset(seed=0)
    iface = env.interface
    f = iface.features  # 4 + L + 1 (the last price multiplier)
    assert f == 4 + env.net.max_lead + 1
    assert obs["store_0"][f - 1] == 1.0  # list price at reset
    acts = {a: np.zeros(env.action_space(a).shape, dtype=np.float32) for a in env.agents}
    acts["store_0"][4:] = [1.3, 0.7]
    obs, *_ = env.step(acts)
    led = env.last_ledger
    # period 0, no event: toys 10 x 1.3^-1.3 = 7.11 -> 7; food 10 x 0.7^-0.4 = 11.53 -> 12 (rint)
    np.testing.assert_array_equal(led.demand[0, :, 0], [7, 12])
    np.testing.assert_array_equal(led.demand[0, :, 1], [10, 10])  # store_1 sets no prices
    # revenue at store_0: toys 7 x 25 x 1.3 = 227.5, food 12 x 10 x 0.7 = 84
    np.testing.assert_allclose(led.revenue[0, :, 0], [227.5, 84.0])
    assert obs["store_0"][f - 1] == pytest.approx(1.3)  # toys' last multiplier
    assert obs["store_0"][2 * f - 1] == pytest.approx(0.7)
    assert obs["store_1"][f - 1] == 0.0  # no pricing there


def test_event_countdowns_in_store_context() -> None:
    net = compile_network(validate_scenario(RAW))
    iface = make_interface(net)
    assert isinstance(iface, ProductInterface)
    assert iface.n_context == 3 + 2 * 2
    state = initial_state(net, 1)
    for t, (xmas, promo) in enumerate(
        # (until / 8, left / duration) by hand: xmas starts 2 (2 periods, once), promo 1, 4, 7 (1 period)
        [((2 / 8, 0), (1 / 8, 0)), ((1 / 8, 0), (0, 1)), ((0, 1), (2 / 8, 0)), ((1.0, 0.5), (1 / 8, 0))]
    ):
        ctx = iface.context(state._replace(t=t))[0]  # (N, 7)
        np.testing.assert_allclose(ctx[0, 3:], [*xmas, *promo])  # store_0: both events
        np.testing.assert_allclose(ctx[1, 3:], [0, 0, *promo])  # store_1: not in xmas's stores
        np.testing.assert_array_equal(ctx[2, 3:], 0)  # the supplier sees no calendar
    assert iface.state(state)[0].shape == iface.state_space.shape


def test_multidiscrete_with_pricing_is_refused() -> None:
    with pytest.raises(ValueError, match="price actions .* need box actions"):
        make_interface(compile_network(validate_scenario(RAW)), action_type="multidiscrete")
