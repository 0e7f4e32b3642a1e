"""The ``retail_step`` reward scheme (the OpenEnv retail store's per-step reward) on a hand-built period."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import invmgmt_marl
from invmgmt_marl.compile import compile_network
from invmgmt_marl.registry import REWARD_SCHEMES
from invmgmt_marl.rewards import RETAIL_STEP_WEIGHTS, liquidation_value
from invmgmt_marl.scenario import validate_scenario
from invmgmt_marl.sim import initial_state, step


def _scenario(reward: str = "retail_step") -> dict[str, Any]:
    store: dict[str, Any] = {"role": "store", "lost_sales": True, "price": 10, "holding_cost": 0}
    store["cash"] = {"initial": 50}  # rule: reject
    store["liquidation"] = {"salvage": 0.0}
    store["pricing"] = {"min": 0.5, "max": 1.5}
    return {
        "periods": 3,
        "nodes": [store],
        "edges": [{"from": "external", "to": "store_0", "lead_time": 1, "unit_cost": 5}],
        "products": [
            {
                "name": "groceries",
                "shelf_life": 1,
                "initial_on_hand": 6,
                "demand": {"process": "constant", "value": 5},
            },
            {
                "name": "toys",
                "unit_cost": 20,
                "initial_on_hand": 4,
                "demand": {"process": "constant", "value": 6},
            },
            {
                "name": "books",
                "unit_cost": 8,
                "price": 30,
                "initial_on_hand": 5,
                "demand": {"process": "constant", "value": 2},
            },
        ],
        "reward": {"scheme": reward},
    }


# The period, by hand:
# - orders groceries 6 (6 x 5 = 30 paid, 20 cash left), toys 2 (2 x 20 = 40 > 20: rejected), books 3
#   (3 x 8 = 24 > 20: rejected): 2 rejected order lines;
# - sales (elasticity 0: demand does not react to the price): groceries min(6, 5) = 5 at 10, toys
#   min(4, 6) = 4 at 10 (2 missed, list price 10), books min(5, 2) = 2 at 30 x 1.2 = 36:
#   revenue 50 + 40 + 72 = 162;
# - liquidation of 1 book (3 left after sales), valued at the books' unit cost 8;
# - the last grocery (shelf life 1: sellable in period 0 only) expires.
# reward = 0.001 x 162 - 0.001 x 2 x 10 - 0.05 x 1 - 0.5 x 2 - 0.001 x 1 x 8 = -0.916
HAND_REWARD = 0.001 * 162 - 0.001 * 20 - 0.05 * 1 - 0.5 * 2 - 0.001 * 8
ORDERS = np.array([[[6.0], [2.0], [3.0]]])  # (B, P, E)
LIQUIDATE = np.array([[[0.0], [0.0], [1.0]]])  # (B, P, N)
PRICE = np.array([[[1.0], [1.0], [1.2]]])  # (B, P, S)


def test_retail_step_by_hand_on_the_simulator() -> None:
    net = compile_network(validate_scenario(_scenario()))
    state, led = step(
        net,
        initial_state(net, 1),
        ORDERS,
        np.array([[[5.0], [6.0], [2.0]]]),
        liquidate=LIQUIDATE,
        price=PRICE,
    )
    # the ledger agrees with the hand computation above
    assert led.revenue[0, :, 0].tolist() == pytest.approx([50.0, 40.0, 72.0])
    assert led.lost[0, :, 0].tolist() == [0.0, 2.0, 0.0]
    assert led.rejected_lines[0, :, 0].tolist() == [0.0, 1.0, 1.0]
    assert led.liquidated[0, :, 0].tolist() == [0.0, 0.0, 1.0]
    assert led.expired[0, :, 0].tolist() == [1.0, 0.0, 0.0]
    own = REWARD_SCHEMES.get("retail_step")(net, led, {})  # (B, P, N)
    assert own.shape == (1, 3, 1)
    # per product: groceries 0.05 - 0.05; toys 0.04 - 0.02 - 0.5; books 0.072 - 0.5 - 0.008
    assert own[0, :, 0].tolist() == pytest.approx([0.0, -0.48, -0.436])
    assert float(own.sum()) == pytest.approx(HAND_REWARD)
    assert liquidation_value(net)[:, 0].tolist() == [5.0, 20.0, 8.0]


def test_retail_step_weights_scale_each_term() -> None:
    net = compile_network(validate_scenario(_scenario()))
    _, led = step(
        net,
        initial_state(net, 1),
        ORDERS,
        np.array([[[5.0], [6.0], [2.0]]]),
        liquidate=LIQUIDATE,
        price=PRICE,
    )
    # only the rejected-order term: 2 lines x 0.5 x 10 (weight 5 instead of 0.5)
    w = dict.fromkeys(RETAIL_STEP_WEIGHTS, 0.0) | {"rejected": 5.0}
    assert float(REWARD_SCHEMES.get("retail_step")(net, led, w).sum()) == pytest.approx(-10.0)


@pytest.mark.parametrize("agents", ["node", "node_product"])
def test_retail_step_in_the_env(agents: str) -> None:
    env = invmgmt_marl.parallel_env(validate_scenario(_scenario()), agents=agents)
    env.reset(seed=0)
    if agents == "node":
        # [orders per (product, edge)] + [liquidation per product] + [price per product]
        _, rewards, *_ = env.step({"store_0": np.array([6, 2, 3, 0, 0, 1, 1, 1, 1.2], dtype=np.float32)})
        assert rewards["store_0"] == pytest.approx(HAND_REWARD)
    else:  # one agent per product, each [order, liquidation, price]; its own row (alpha 1 by default)
        acts = {
            "store_0__groceries": np.array([6, 0, 1], dtype=np.float32),
            "store_0__toys": np.array([2, 0, 1], dtype=np.float32),
            "store_0__books": np.array([3, 1, 1.2], dtype=np.float32),
        }
        _, rewards, *_ = env.step(acts)
        assert sum(rewards.values()) == pytest.approx(HAND_REWARD)
        assert rewards["store_0__toys"] == pytest.approx(-0.48)


def test_compute_rewards_sums_the_product_rows() -> None:
    # the rollout / evaluate path: compute_rewards on the per-product ledger gives the node agent's sum
    from invmgmt_marl.rewards import compute_rewards

    net = compile_network(validate_scenario(_scenario()))
    _, led = step(
        net,
        initial_state(net, 1),
        ORDERS,
        np.array([[[5.0], [6.0], [2.0]]]),
        liquidate=LIQUIDATE,
        price=PRICE,
    )
    assert compute_rewards(net, led)[0].tolist() == pytest.approx([HAND_REWARD])
    assert compute_rewards(net, led, scheme="retail_step")[0].tolist() == pytest.approx([HAND_REWARD])
    # profit on node totals: revenue 162 - ordering 30
    assert compute_rewards(net, led, scheme="profit")[0].tolist() == pytest.approx([162.0 - 30.0])
