"""Cash, perishable products and liquidation through the agent interface and the ParallelEnv: the
action layout (orders, then liquidation), both agent groupings, observations and state()."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test

import invmgmt_marl
from invmgmt_marl.scenario import validate_scenario
from tests.sim.test_retail_mechanics import STORE

CHAIN: dict[str, Any] = copy.deepcopy(STORE)
CHAIN["nodes"].append({"role": "supplier", "initial_on_hand": 6, "cash": {"initial": 30, "rule": "scale"}})
CHAIN["edges"] = [
    {"from": "external", "to": "supplier_0", "lead_time": 1, "unit_cost": 2.0},
    {"from": "supplier_0", "to": "store_0", "lead_time": 1, "unit_cost": 5.0},
]


def make(agents: str, data: dict[str, Any] = CHAIN) -> Any:
    return invmgmt_marl.parallel_env(validate_scenario(data), agents=agents)


def test_action_layout_orders_then_liquidation() -> None:
    node = make("node")
    # store_0: 2 products x 1 inbound edge, then one liquidation entry per product; supplier_0: orders only
    assert node.action_space("store_0").shape == (4,)
    assert node.action_space("supplier_0").shape == (2,)
    np.testing.assert_array_equal(node.action_space("store_0").high, [20, 20, 20, 20])
    sku = make("node_product")
    assert sku.action_space("store_0__a").shape == (2,) and sku.action_space("supplier_0__b").shape == (1,)


def test_both_groupings_give_identical_ledgers_and_liquidate_what_they_ask() -> None:
    node, sku = make("node"), make("node_product")
    node.reset(seed=3)
    sku.reset(seed=3)
    rng = np.random.default_rng(0)
    for _ in range(5):
        o = rng.integers(0, 6, (2, 2)).astype(np.float32)  # (node, product) orders
        liq = rng.integers(0, 3, 2).astype(np.float32)  # store_0's liquidation per product
        before = node.sim_state.on_hand[0, :, 0].copy()
        node.step({"store_0": np.r_[o[0], liq], "supplier_0": o[1]})
        sku.step(
            {
                "store_0__a": np.r_[o[0, 0], liq[0]],
                "store_0__b": np.r_[o[0, 1], liq[1]],
                "supplier_0__a": o[1, :1],
                "supplier_0__b": o[1, 1:],
            }
        )
        la, lb = node.last_ledger, sku.last_ledger
        np.testing.assert_array_equal(la.nodes, lb.nodes)
        np.testing.assert_array_equal(la.edges, lb.edges)
        # liquidated = what was asked, capped at what was left after sales
        after_sales = before + la.received[0, :, 0] - la.shipped[0, :, 0]
        np.testing.assert_allclose(la.liquidated[0, :, 0], np.minimum(liq, after_sales), atol=1e-12)
        assert la.liquidated[0, :, 1].sum() == 0.0  # the supplier declares no liquidation


def test_cash_in_observations_and_ages_in_state() -> None:
    env = make("node")
    obs, _ = env.reset(seed=0)
    net = env.net
    f = env.interface.features
    # node context: storage share, budget share, progress, cash / initial cash
    assert obs["store_0"].shape == (2 * f + 4,)
    assert obs["store_0"][-1] == pytest.approx(1.0) and obs["supplier_0"][-1] == pytest.approx(1.0)
    env.step({"store_0": np.array([2, 0, 0, 0], dtype=np.float32), "supplier_0": np.zeros(2, np.float32)})
    cash = env.sim_state.cash[0]
    obs = {a: env.interface.observe(env.sim_state)[0][k] for k, a in enumerate(env.agents)}
    assert obs["store_0"][-1] == pytest.approx(cash[0] / 50.0)
    assert obs["supplier_0"][-1] == pytest.approx(cash[1] / 30.0)
    # state: features, shares, progress, cash of each node, then the age buckets of the perishable pairs
    state = env.state()
    q, a = len(net.perish_pairs), net.age_buckets
    assert state.shape == env.state_space.shape == (2 * 2 * f + 2 * 2 + 1 + 2 + q * a,)
    np.testing.assert_allclose(state[-q * a :], env.sim_state.age[0].ravel() / env.interface.scale, rtol=1e-6)
    np.testing.assert_allclose(state[-q * a - 2 : -q * a], cash / net.cash_scale, rtol=1e-6)


def test_decode_controls_batch_equals_mapping() -> None:
    env = make("node_product")
    itf = env.interface
    rng = np.random.default_rng(1)
    batch = rng.uniform(-1, 25, (3, *itf.batch_shape))
    got = itf.decode_controls(batch)["liquidate"]
    for b in range(3):
        mapping = {a: batch[b, k, : itf.action_spaces[a].shape[0]] for k, a in enumerate(itf.agents)}
        np.testing.assert_array_equal(itf.decode_controls(mapping)["liquidate"][0], got[b])
    assert got.shape == (3, 2, 2) and (got[:, :, 1] == 0).all() and got.max() <= 20 and got.min() >= 0
    data = copy.deepcopy(CHAIN)
    data["nodes"][0].pop("liquidation")
    assert make("node", data).interface.decode_controls(batch[:, :2, :1]) == {}


@pytest.mark.parametrize("agents", ["node", "node_product"])
@pytest.mark.parametrize("options", [{}, {"shared_spaces": True}, {"action_type": "multidiscrete"}])
def test_parallel_api(agents: str, options: dict[str, Any]) -> None:
    env = invmgmt_marl.parallel_env(validate_scenario(CHAIN), agents=agents, **options)
    parallel_api_test(env, num_cycles=10)


def test_shared_spaces_pad_after_the_liquidation_entries() -> None:
    env = invmgmt_marl.parallel_env(validate_scenario(CHAIN), agents="node", shared_spaces=True)
    env.reset(seed=0)
    assert env.action_space("supplier_0").shape == (4,)  # padded to the store's 2 orders + 2 liquidations
    env.step(
        {"store_0": np.array([0, 0, 1, 2], np.float32), "supplier_0": np.array([1, 1, 9, 9], np.float32)}
    )
    led = env.last_ledger
    np.testing.assert_array_equal(led.liquidated[0, :, 0], [1, 1])  # b: 4 - 3 sold = 1 left, capped
    assert led.liquidated[0, :, 1].sum() == 0.0  # the supplier's padding is ignored
    np.testing.assert_array_equal(led.ordered[0, :, 1], [1, 1])


def test_profit_reward_counts_salvage() -> None:
    data = copy.deepcopy(STORE)
    data["reward"] = {"scheme": "profit"}
    data["products"][1]["salvage_value"] = 3.0
    env = make("node", data)
    env.reset(seed=0)
    # no orders; demand 3 of each sold at 10 (60); 1 unit of b left, liquidated at 3; no costs declared
    _, rewards, *_ = env.step({"store_0": np.array([0, 0, 0, 1], dtype=np.float32)})
    led = env.last_ledger
    assert led.salvage.sum() == 3.0 and led.total_cost.sum() == 0.0
    assert rewards["store_0"] == 60.0 + 3.0
