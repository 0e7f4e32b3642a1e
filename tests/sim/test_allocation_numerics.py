"""Floating-point edge cases of the allocation rules (found by the property tests, pinned here)."""

from __future__ import annotations

import numpy as np
import pytest

from invmgmt_marl.compile import compile_network
from invmgmt_marl.scenario import validate_scenario
from invmgmt_marl.sim import allocate, initial_state, step


def two_stores_one_supplier(allocation: str, stock: float) -> dict:
    """store_0, store_1 <- supplier_0 <- external (all lead time 1); supplier_0 starts with ``stock``."""
    return {
        "periods": 5,
        "nodes": [
            {"role": "store", "demand": {"process": "constant", "value": 0}},
            {"role": "store", "demand": {"process": "constant", "value": 0}},
            {"role": "supplier", "initial_on_hand": stock, "allocation": allocation, "holding_cost": 1},
        ],
        "edges": [
            {"from": "supplier_0", "to": "store_0", "lead_time": 1},
            {"from": "supplier_0", "to": "store_1", "lead_time": 1},
            {"from": "external", "to": "supplier_0", "lead_time": 1},
        ],
        "actions": {"max_order": 1e10},
    }


def test_proportional_shortfall_ships_exactly_the_stock() -> None:
    # 3 units for requirements 1 and 14: fraction 3/15 -> 0.2 and 2.8. In floating point
    # 3 - (0.2 + 2.8000000000000003) = -4.4e-16: the stock must still end at 0, not below
    net = compile_network(validate_scenario(two_stores_one_supplier("proportional", 3)))
    st, led = step(net, initial_state(net, 1), np.array([[1.0, 14.0, 0.0]]), np.zeros((1, 2)))
    np.testing.assert_allclose(led.edge_shipped[0, :2], [0.2, 2.8], rtol=1e-12)
    assert led.on_hand[0, 2] >= 0.0
    assert led.holding_cost[0, 2] >= 0.0
    # and the next period (nothing ordered, nothing owed beyond the backlog) stays finite and sane
    for _ in range(3):
        st, led = step(net, st, np.zeros((1, 3)), np.zeros((1, 2)))
        for f in ("edge_shipped", "edge_backlog", "on_hand", "shipped", "backlog", "total_cost"):
            assert np.all(np.isfinite(getattr(led, f))), f
        assert led.on_hand[0, 2] >= 0.0


def test_proportional_observation_stays_in_observation_space(make_env) -> None:
    env = make_env(validate_scenario(two_stores_one_supplier("proportional", 3)))
    env.reset(seed=0)
    for acts in ([1.0, 14.0, 0.0], [0.0, 0.0, 0.0], [3.0, 7.0, 1.0]):
        obs, *_ = env.step(
            {a: np.array([q], dtype=np.float32) for a, q in zip(env.agents, acts, strict=False)}
        )
        for a, o in obs.items():
            assert env.observation_space(a).contains(o), (a, o)
        assert env.state_space.contains(env.state())


@pytest.mark.parametrize("stock", [0.3, 1.7, 2.5])
def test_allocate_respects_stock_and_requirements(stock: float) -> None:
    net = compile_network(validate_scenario(two_stores_one_supplier("priority", 0)))
    # outflows: [supplier->store_0, supplier->store_1, external->supplier, customers 0, customers 1]
    required = np.array([[0.7, 2.2, 5.0, 0.0, 0.0]])
    shipped = allocate(net, np.array([[0.0, 0.0, stock]]), required)
    assert np.all(shipped >= 0) and np.all(shipped <= required)
    assert shipped[0, :2].sum() == pytest.approx(min(stock, 2.9), rel=1e-15)
    assert shipped[0, 2] == 5.0  # the external source ships in full
    assert shipped[0, 0] == min(stock, 0.7)  # scenario order: store_0's edge first


@pytest.mark.parametrize(
    ("orders", "expected"),
    [
        ([0.3, 5.0], [0.3, 0.0]),  # over-ships: store_1 gets 4.77e-8 that does not exist
        ([0.1, 0.3], [0.1, 0.2]),  # under-ships: store_1 gets 0.19999998, 2.4e-8 stays on hand
    ],
)
def test_priority_allocation_precision_independent_of_other_nodes(orders, expected) -> None:
    net = compile_network(validate_scenario(two_stores_one_supplier("priority", 0.3)))
    demand = np.array([[1e9, 0.0]])  # store_0's customers: sorted before supplier_0's outflows
    _, led = step(net, initial_state(net, 1), np.array([[*orders, 0.0]]), demand)
    np.testing.assert_allclose(led.edge_shipped[0, :2], expected, rtol=1e-12, atol=1e-12)
    assert led.on_hand[0, 2] >= 0.0
    assert led.on_hand[0, 2] == pytest.approx(0.0, abs=1e-12)
