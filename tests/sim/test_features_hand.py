"""Hand-checked traces of the optional simulator features (storage capacity, stochastic lead times,
supplier reliability, transit loss, quantity discounts, transit holding cost, perishables, assembly,
goodwill), plus the statistics of ``sample_supply``.

Every case is a tiny scenario built from a dict, run for 2-6 periods with given orders and demand;
the expected numbers are derived by hand in the comments above each case. Random features are made
deterministic either by their parameters (``p_disruption: 1`` with ``fill: [0.5, 0.5]``,
``lead_time_extra: [0, 1]``) or by passing hand-built :class:`SupplyShock` s to ``step``.

Edge / node order in the comments is the scenario order; ``e0`` is the first listed edge.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

from invmgmt_marl.compile import compile_network
from invmgmt_marl.scenario import validate_scenario
from invmgmt_marl.sim import COST_FIELDS, initial_state, step
from invmgmt_marl.sim.supply import SupplyShock, sample_supply

CONST0: dict[str, Any] = {"process": "constant", "value": 0}


def net_of(d: dict[str, Any]) -> Any:
    return compile_network(validate_scenario(d))


def scenario(nodes: list[Any], edges: list[Any], periods: int = 6) -> dict[str, Any]:
    return {
        "name": "hand",
        "periods": periods,
        "nodes": copy.deepcopy(nodes),
        "edges": copy.deepcopy(edges),
        "actions": {"max_order": 100},
    }


def shock(net: Any, lead_extra: Any = None, fill: Any = None, loss: Any = None) -> SupplyShock:
    """One period's supply shock for a batch of one; defaults: no extra lead time, full fill, no loss."""
    e = net.n_edges
    return SupplyShock(
        np.zeros((1, e), dtype=np.int64) if lead_extra is None else np.array([lead_extra], dtype=np.int64),
        np.ones((1, e)) if fill is None else np.array([fill], dtype=np.float64),
        np.zeros((1, e)) if loss is None else np.array([loss], dtype=np.float64),
    )


def run(
    net: Any, orders: list[list[Any]], demand: list[list[Any]], shocks: list[SupplyShock] | None = None
) -> tuple[list[Any], list[Any]]:
    """Run ``orders (T, E)`` and ``demand (T, S)`` for a batch of one; ``states[0]`` is the initial state."""
    state = initial_state(net, 1)
    states, ledgers = [state], []
    for t in range(len(orders)):
        sh = None if shocks is None else shocks[t]
        state, led = step(
            net, state, np.array([orders[t]], dtype=np.float64), np.array([demand[t]], dtype=np.float64), sh
        )
        states.append(state)
        ledgers.append(led)
    return states, ledgers


def series(ledgers: list[Any], name: str) -> np.ndarray:
    """``(T, N)`` or ``(T, E)``: one ledger field over the periods (batch row 0)."""
    return np.array([led.field(name)[0] for led in ledgers])


def assert_fields(ledgers: list[Any], expected: dict[str, list[list[float]]]) -> None:
    for name, want in expected.items():
        np.testing.assert_array_equal(series(ledgers, name), np.array(want, dtype=np.float64), err_msg=name)


def check_identities(net: Any, states: list[Any], leds: list[Any]) -> None:
    """Per node: on_hand' + components' = on_hand + components + received - shipped - expired - consumed
    + assembled; per receiving node: arrived = received + refused + lost in transit; perishable buckets
    add up to on hand; the cost total is the sum of the seven cost fields."""
    for s0, s1, led in zip(states, states[1:], leds, strict=False):
        comp0 = 0.0 if s0.components is None else s0.components @ net.edge_to_dst
        comp1 = 0.0 if s1.components is None else s1.components @ net.edge_to_dst
        np.testing.assert_array_equal(led.components, np.broadcast_to(comp1, led.components.shape))
        np.testing.assert_allclose(
            led.on_hand + led.components,
            s0.on_hand + comp0 + led.received - led.shipped - led.expired - led.consumed + led.assembled,
            rtol=0,
            atol=1e-12,
        )
        np.testing.assert_allclose(
            led.edge_arrived @ net.edge_to_dst,
            led.received + led.refused + led.transit_lost,
            rtol=0,
            atol=1e-12,
        )
        np.testing.assert_array_equal(s1.on_hand, led.on_hand)
        np.testing.assert_allclose(led.total_cost, sum(getattr(led, f) for f in COST_FIELDS), rtol=1e-15)
        if s1.age is not None:
            np.testing.assert_allclose(
                s1.age.sum(axis=2), s1.on_hand[:, net.perishable_nodes], rtol=0, atol=1e-12
            )


# -------------------------------------------------------------------------------------------------
# Storage capacity: refusal shared over two arriving edges
#
# store_0: on hand 4, storage 10, holding 1. e0 supplier_0 -> store_0 (L1, pipeline [8]),
# e1 supplier_1 -> store_0 (L1, pipeline [4]), e2/e3 external -> suppliers. Suppliers hold 20 each.
# t0: arrivals 8 + 4 = 12, room 10 - 4 = 6 -> accept 6/12 = 1/2 (4 from e0, 2 from e1): received 6,
#     refused 6. demand 3 -> sold 3, on hand 4 + 6 - 3 = 7, holding 7. Store orders 3 on e0, 1 on e1.
# t1: arrivals 3 + 1 = 4, room 10 - 7 = 3 -> accept 3/4: received 3, refused 1; demand 0 -> on hand 10.
# t2: nothing arrives, refused 0; demand 10 -> sold 10, on hand 0.
# Suppliers: no capacity, never refuse; on hand 20 - 3 = 17, 20 - 1 = 19.
STORAGE_NODES = [
    {
        "role": "store",
        "initial_on_hand": 4,
        "storage_capacity": 10,
        "holding_cost": 1,
        "backlog_cost": 1,
        "demand": CONST0,
    },
    {"role": "supplier", "initial_on_hand": 20},
    {"role": "supplier", "initial_on_hand": 20},
]
STORAGE_EDGES = [
    {"from": "supplier_0", "to": "store_0", "lead_time": 1, "initial_pipeline": [8]},
    {"from": "supplier_1", "to": "store_0", "lead_time": 1, "initial_pipeline": [4]},
    {"from": "external", "to": "supplier_0", "lead_time": 1},
    {"from": "external", "to": "supplier_1", "lead_time": 1},
]


def test_storage_refusal_over_two_edges() -> None:
    net = net_of(scenario(STORAGE_NODES, STORAGE_EDGES))
    states, leds = run(net, [[3, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]], [[3], [0], [10]])
    assert_fields(
        leds,
        {  # [store_0, supplier_0, supplier_1]
            "edge_arrived": [[8, 4, 0, 0], [3, 1, 0, 0], [0, 0, 0, 0]],
            "received": [[6, 0, 0], [3, 0, 0], [0, 0, 0]],
            "refused": [[6, 0, 0], [1, 0, 0], [0, 0, 0]],
            "sold": [[3, 0, 0], [0, 0, 0], [10, 0, 0]],
            "on_hand": [[7, 17, 19], [10, 17, 19], [0, 17, 19]],
            "holding_cost": [[7, 0, 0], [10, 0, 0], [0, 0, 0]],
            "transit_lost": [[0, 0, 0]] * 3,
        },
    )
    # the edge identity: arrived = received + refused + lost in transit, per receiving node
    for led in leds:
        np.testing.assert_array_equal(
            led.edge_arrived @ net.edge_to_dst, led.received + led.refused + led.transit_lost
        )
    check_identities(net, states, leds)


# Refusal split made visible by assembly: component stock is kept per inbound edge.
#
# warehouse_0 assembles with bom {supplier_0: 1, supplier_1: 1}; storage 6, on hand 2, holding 1.
# e0 warehouse_0 -> store_0, e1 supplier_0 -> warehouse_0 (pipeline [6]), e2 supplier_1 -> warehouse_0
# (pipeline [2]), e3/e4 external. All lead times 1.
# t0: stock 2 (no components), room 4, arrivals 6 + 2 = 8 -> accept 1/2: components e1 3, e2 1 (the
#     3:1 split of the arrivals), received 4, refused 4. Assemble min(3/1, 1/1) = 1: consumed 2,
#     components [2, 0]; available 2 + 1 = 3, nothing ordered by the store -> on hand 3;
#     holding 1 x (3 + 2) = 5. Identity: 3 + 2 = 2 + 0 + 4 - 0 - 0 - 2 + 1.
def test_storage_refusal_is_proportional_per_edge() -> None:
    nodes = [
        {"role": "store", "demand": CONST0},
        {
            "role": "warehouse",
            "bom": {"supplier_0": 1, "supplier_1": 1},
            "storage_capacity": 6,
            "initial_on_hand": 2,
            "holding_cost": 1,
        },
        {"role": "supplier", "initial_on_hand": 10},
        {"role": "supplier", "initial_on_hand": 10},
    ]
    edges = [
        {"from": "warehouse_0", "to": "store_0", "lead_time": 1},
        {"from": "supplier_0", "to": "warehouse_0", "lead_time": 1, "initial_pipeline": [6]},
        {"from": "supplier_1", "to": "warehouse_0", "lead_time": 1, "initial_pipeline": [2]},
        {"from": "external", "to": "supplier_0", "lead_time": 1},
        {"from": "external", "to": "supplier_1", "lead_time": 1},
    ]
    net = net_of(scenario(nodes, edges))
    states, leds = run(net, [[0] * 5], [[0]])
    assert_fields(
        leds,
        {  # [store_0, warehouse_0, supplier_0, supplier_1]
            "received": [[0, 4, 0, 0]],
            "refused": [[0, 4, 0, 0]],
            "assembled": [[0, 1, 0, 0]],
            "consumed": [[0, 2, 0, 0]],
            "components": [[0, 2, 0, 0]],
            "on_hand": [[0, 3, 10, 10]],
            "holding_cost": [[0, 5, 0, 0]],
        },
    )
    np.testing.assert_array_equal(states[1].components, [[0, 2, 0, 0, 0]])
    check_identities(net, states, leds)


# -------------------------------------------------------------------------------------------------
# Stochastic lead times
#
# store_0 (no costs), supplier_0 on hand 20. e0 supplier_0 -> store_0 L1, e1 external -> supplier_0 L1.
# With lead_time_extra [0, 1] every shipment on e0 takes 1 + 1 = 2 periods (ring buffer length 2).
# t0: store orders 5 -> shipped 5, arrives t2; in transit 5.
# t1: store orders 3 -> shipped 3, arrives t3; in transit 8.
# t2: arrival 5 (received 5, on hand 5); in transit 3.   t3: arrival 3, on hand 8, in transit 0.
LEAD_NODES = [{"role": "store", "demand": CONST0}, {"role": "supplier", "initial_on_hand": 20}]


def lead_edges(extra: list[float]) -> list[dict[str, Any]]:
    return [
        {"from": "supplier_0", "to": "store_0", "lead_time": 1, "lead_time_extra": extra},
        {"from": "external", "to": "supplier_0", "lead_time": 1},
    ]


def test_lead_time_extra_always_one() -> None:
    net = net_of(scenario(LEAD_NODES, lead_edges([0, 1])))
    assert net.max_lead == 2
    path = sample_supply(net, np.random.default_rng(0), 1, 4)
    assert path is not None
    np.testing.assert_array_equal(path.lead_extra[0], [[1, 0]] * 4)  # edge e1 has no extra
    np.testing.assert_array_equal(path.fill, 1.0)
    np.testing.assert_array_equal(path.loss, 0.0)
    states, leds = run(net, [[5, 0], [3, 0], [0, 0], [0, 0]], [[0]] * 4, [path.at(t) for t in range(4)])
    assert_fields(
        leds,
        {
            "edge_shipped": [[5, 0], [3, 0], [0, 0], [0, 0]],
            "edge_arrived": [[0, 0], [0, 0], [5, 0], [3, 0]],
            "received": [[0, 0], [0, 0], [5, 0], [3, 0]],
            "on_hand": [[0, 15], [0, 12], [5, 12], [8, 12]],
            "in_transit": [[5, 0], [8, 0], [3, 0], [0, 0]],
        },
    )


# Hand-built shocks with lead_time_extra [0.5, 0.5]: the t0 shipment (5) takes an extra period, the t1
# shipment (3) none: both land in t2 (orders cross). t2 arrival 8, t3 nothing.
def test_lead_time_extra_hand_shock_orders_cross() -> None:
    net = net_of(scenario(LEAD_NODES, lead_edges([0.5, 0.5])))
    shocks = [shock(net, lead_extra=[1, 0]), shock(net, lead_extra=[0, 0]), shock(net), shock(net)]
    states, leds = run(net, [[5, 0], [3, 0], [0, 0], [0, 0]], [[0]] * 4, shocks)
    assert_fields(
        leds,
        {
            "edge_arrived": [[0, 0], [0, 0], [8, 0], [0, 0]],
            "on_hand": [[0, 15], [0, 12], [8, 12], [8, 12]],
            "in_transit": [[5, 0], [8, 0], [0, 0], [0, 0]],
        },
    )


# -------------------------------------------------------------------------------------------------
# Supplier reliability (p_disruption 1, fill [0.5, 0.5]: exactly half of every allocated shipment leaves)
#
# store_0 backlog cost 1; supplier_0 on hand 10, holding 1, backlog cost 1.
# e0 supplier_0 -> store_0 L1 unit cost 2, unreliable; e1 external -> supplier_0 L1 unit cost 1, unreliable.
# orders e0 [8, 0, 30], e1 [10, 0, 0]
# t0: supplier available 10; e0 owed 8 -> allocated 8, shipped 4, backlog 4; on hand 6.
#     e1 owed 10 -> shipped 5 (external_in 5), backlog 5.
#     store ordering 2 x 4 = 8; supplier ordering 1 x 5 = 5, holding 6, backlog cost 4, service 4/8.
# t1: supplier receives 5 -> available 11; e0 owed 4 -> shipped 2, backlog 2; on hand 9.
#     e1 owed 5 -> shipped 2.5, backlog 2.5. store receives 4.
# t2: supplier receives 2.5 -> available 11.5; e0 owed 2 + 30 = 32 -> allocated 11.5 (stock), shipped
#     5.75, backlog 26.25; on hand 5.75. e1 owed 2.5 -> shipped 1.25, backlog 1.25. store receives 2.
def test_reliability_half_fill() -> None:
    nodes = [
        {"role": "store", "backlog_cost": 1, "demand": CONST0},
        {"role": "supplier", "initial_on_hand": 10, "holding_cost": 1, "backlog_cost": 1},
    ]
    rel = {"p_disruption": 1, "fill": [0.5, 0.5]}
    edges = [
        {"from": "supplier_0", "to": "store_0", "lead_time": 1, "unit_cost": 2, "reliability": rel},
        {"from": "external", "to": "supplier_0", "lead_time": 1, "unit_cost": 1, "reliability": rel},
    ]
    net = net_of(scenario(nodes, edges))
    path = sample_supply(net, np.random.default_rng(3), 1, 3)
    assert path is not None
    np.testing.assert_array_equal(path.fill, 0.5)
    states, leds = run(net, [[8, 10], [0, 0], [30, 0]], [[0]] * 3, [path.at(t) for t in range(3)])
    assert_fields(
        leds,
        {  # [store_0, supplier_0] / [e0, e1]
            "edge_shipped": [[4, 5], [2, 2.5], [5.75, 1.25]],
            "edge_backlog": [[4, 5], [2, 2.5], [26.25, 1.25]],
            "shipped": [[0, 4], [0, 2], [0, 5.75]],
            "backlog": [[0, 4], [0, 2], [0, 26.25]],
            "inbound_backlog": [[4, 5], [2, 2.5], [26.25, 1.25]],
            "received": [[0, 0], [4, 5], [2, 2.5]],
            "on_hand": [[0, 6], [4, 9], [6, 5.75]],
            "ordering_cost": [[8, 5], [4, 2.5], [11.5, 1.25]],
            "holding_cost": [[0, 6], [0, 9], [0, 5.75]],
            "backlog_cost": [[0, 4], [0, 2], [0, 26.25]],
            "service_level": [[1, 0.5], [1, 0.5], [1, 5.75 / 32]],
        },
    )
    np.testing.assert_array_equal([led.external_in[0] for led in leds], [5, 2.5, 1.25])
    np.testing.assert_array_equal(states[-1].backlog, [[26.25, 1.25, 0]])
    check_identities(net, states, leds)


# -------------------------------------------------------------------------------------------------
# Transit loss (hand shocks: a quarter lost at t0, half at t1 and t2)
#
# store_0 holding 1; e0 supplier_0 -> store_0 L1 pipeline [8], max_fraction 0.5; supplier on hand 10.
# t0: arrived 8, lost 2, received 6; on hand 6. Store orders 4 (shipped, arrives t1).
# t1: arrived 4, lost 2, received 2; on hand 8.   t2: nothing arrives, nothing lost; on hand 8.
def test_transit_loss_hand_shock() -> None:
    nodes = [
        {"role": "store", "holding_cost": 1, "demand": CONST0},
        {"role": "supplier", "initial_on_hand": 10},
    ]
    edges = [
        {
            "from": "supplier_0",
            "to": "store_0",
            "lead_time": 1,
            "initial_pipeline": [8],
            "transit_loss": {"max_fraction": 0.5},
        },
        {"from": "external", "to": "supplier_0", "lead_time": 1},
    ]
    net = net_of(scenario(nodes, edges))
    shocks = [shock(net, loss=[0.25, 0]), shock(net, loss=[0.5, 0]), shock(net, loss=[0.5, 0])]
    states, leds = run(net, [[4, 0], [0, 0], [0, 0]], [[0]] * 3, shocks)
    assert_fields(
        leds,
        {
            "edge_arrived": [[8, 0], [4, 0], [0, 0]],  # before the loss
            "edge_transit_lost": [[2, 0], [2, 0], [0, 0]],
            "transit_lost": [[2, 0], [2, 0], [0, 0]],  # at the receiving node
            "received": [[6, 0], [2, 0], [0, 0]],
            "on_hand": [[6, 6], [8, 6], [8, 6]],
            "holding_cost": [[6, 0], [8, 0], [8, 0]],
        },
    )
    check_identities(net, states, leds)


# -------------------------------------------------------------------------------------------------
# All-units quantity discounts, priced on the quantity dispatched
#
# e0 supplier_0 -> store_0 tiers [[0, 3], [10, 2], [20, 1]];
# e1 external -> supplier_0 tiers [[0, 4], [5, 3.5]].
# supplier_0 on hand 15. orders e0 [9, 10, 25, 0, 0], e1 [5, 4, 0, 20, 0].
# e1 (external ships in full): 5 x 3.5 = 17.5 (exactly at the threshold), 4 x 4 = 16, 0, 20 x 3.5 = 70, 0.
# e0: t0 ships 9 (stock 15) at 3 = 27; on hand 6.
#     t1 stock 6 + 5 = 11, ships 10 at 2 = 20 (exactly at the threshold); on hand 1.
#     t2 stock 1 + 4 = 5, owed 25, ships 5 at 3 = 15 (tier of the dispatch, not of the order 25);
#        backlog 20; on hand 0.
#     t3 stock 0, ships 0 -> 0.   t4 stock 0 + 20, owed 20, ships 20 at 1 = 20 (threshold); on hand 0.
# Transfer revenue of supplier_0 = the store's ordering cost.
def test_quantity_discount_tiers_at_boundaries() -> None:
    nodes = [{"role": "store", "demand": CONST0}, {"role": "supplier", "initial_on_hand": 15}]
    edges = [
        {
            "from": "supplier_0",
            "to": "store_0",
            "lead_time": 1,
            "unit_cost_tiers": [[0, 3], [10, 2], [20, 1]],
        },
        {"from": "external", "to": "supplier_0", "lead_time": 1, "unit_cost_tiers": [[0, 4], [5, 3.5]]},
    ]
    net = net_of(scenario(nodes, edges))
    states, leds = run(net, [[9, 5], [10, 4], [25, 0], [0, 20], [0, 0]], [[0]] * 5)
    assert_fields(
        leds,
        {
            "edge_shipped": [[9, 5], [10, 4], [5, 0], [0, 20], [20, 0]],
            "edge_ordering_cost": [[27, 17.5], [20, 16], [15, 0], [0, 70], [20, 0]],
            "ordering_cost": [[27, 17.5], [20, 16], [15, 0], [0, 70], [20, 0]],
            "revenue": [[0, 27], [0, 20], [0, 15], [0, 0], [0, 20]],
            "on_hand": [[0, 6], [9, 1], [19, 0], [24, 0], [24, 0]],
            "edge_backlog": [[0, 0], [0, 0], [20, 0], [20, 0], [0, 0]],
        },
    )


@pytest.mark.parametrize(
    ("qty", "unit"), [(0, 3), (9.5, 3), (10, 2), (10.25, 2), (19.75, 2), (20, 1), (50, 1)]
)
def test_quantity_discount_unit_cost_by_tier(qty: float, unit: float) -> None:
    nodes = [{"role": "store", "demand": CONST0}, {"role": "supplier"}]
    edges = [
        {"from": "supplier_0", "to": "store_0", "lead_time": 1},
        {
            "from": "external",
            "to": "supplier_0",
            "lead_time": 1,
            "unit_cost": 99,  # ignored with tiers
            "unit_cost_tiers": [[0, 3], [10, 2], [20, 1]],
        },
    ]
    net = net_of(scenario(nodes, edges))
    _, leds = run(net, [[0, qty]], [[0]])
    assert leds[0].edge_ordering_cost[0, 1] == qty * unit


# -------------------------------------------------------------------------------------------------
# Transit holding cost on units in transit to the node at the end of the period
#
# e0 supplier_0 -> store_0 L3 pipeline [0, 2, 4], 0.5 per unit; e1 external -> supplier_0 L1 pipeline
# [1], 0.25 per unit. orders e0 [5, 3, 0], e1 [2, 0, 0]; supplier_0 on hand 20.
# t0: e0: 0 arrives, 5 shipped -> in transit 2 + 4 + 5 = 11 -> 5.5; e1: 1 arrives, 2 shipped -> 2 -> 0.5
# t1: e0: 2 arrives, 3 shipped -> 4 + 5 + 3 = 12 -> 6;       e1: 2 arrives -> 0 -> 0
# t2: e0: 4 arrives -> 5 + 3 = 8 -> 4;                        e1: 0
def test_transit_holding_cost() -> None:
    nodes = [{"role": "store", "demand": CONST0}, {"role": "supplier", "initial_on_hand": 20}]
    edges = [
        {
            "from": "supplier_0",
            "to": "store_0",
            "lead_time": 3,
            "initial_pipeline": [0, 2, 4],
            "transit_holding_cost": 0.5,
        },
        {
            "from": "external",
            "to": "supplier_0",
            "lead_time": 1,
            "initial_pipeline": [1],
            "transit_holding_cost": 0.25,
        },
    ]
    net = net_of(scenario(nodes, edges))
    states, leds = run(net, [[5, 2], [3, 0], [0, 0]], [[0]] * 3)
    assert_fields(
        leds,
        {
            "edge_in_transit": [[11, 2], [12, 0], [8, 0]],
            "in_transit": [[11, 2], [12, 0], [8, 0]],
            "edge_transit_holding_cost": [[5.5, 0.5], [6, 0], [4, 0]],
            "transit_holding_cost": [[5.5, 0.5], [6, 0], [4, 0]],
            "on_hand": [[0, 16], [2, 15], [6, 15]],
        },
    )
    for led in leds:
        np.testing.assert_array_equal(led.total_cost, led.transit_holding_cost)  # the only cost here


# -------------------------------------------------------------------------------------------------
# Perishables: FIFO across age buckets, shelf life 3
#
# store_0: on hand 5 (fresh in period 0), shelf life 3, waste cost 2, holding 1.
# e0 supplier_0 -> store_0 L1 (store orders 3 at t0, 6 at t1); supplier_0 on hand 20, not perishable.
# demand [2, 0, 7, 0, 2]. Buckets written [age 0, age 1, age 2] (age 2 = last period it can be shipped).
# t0: [5,0,0]; sell 2 from the oldest -> [3,0,0]; nothing expires; ages -> [0,3,0]; on hand 3.
# t1: +3 -> [3,3,0]; no sales -> ages -> [0,3,3]; on hand 6.
# t2: +6 -> [6,3,3]; sell 7 oldest first: 3 (age 2, the initial stock), 3 (age 1), 1 (fresh) -> [5,0,0];
#     nothing expires (LIFO would have left the 3 of age 2 to expire); ages -> [0,5,0]; on hand 5.
# t3: no sales -> [0,5,0] -> ages -> [0,0,5].
# t4: sell 2 from age 2 -> [0,0,3]; those 3 (arrived t2) expire at the end of t2 + 3 - 1 = 4;
#     waste 2 x 3 = 6; on hand 0.
def test_perishable_fifo_shelf_life_3() -> None:
    nodes = [
        {
            "role": "store",
            "initial_on_hand": 5,
            "shelf_life": 3,
            "waste_cost": 2,
            "holding_cost": 1,
            "backlog_cost": 1,
            "demand": CONST0,
        },
        {"role": "supplier", "initial_on_hand": 20},
    ]
    edges = [
        {"from": "supplier_0", "to": "store_0", "lead_time": 1},
        {"from": "external", "to": "supplier_0", "lead_time": 1},
    ]
    net = net_of(scenario(nodes, edges))
    states, leds = run(net, [[3, 0], [6, 0], [0, 0], [0, 0], [0, 0]], [[2], [0], [7], [0], [2]])
    np.testing.assert_array_equal(states[0].age, [[[5, 0, 0]]])
    ages = [s.age[0, 0].tolist() for s in states[1:]]
    assert ages == [[0, 3, 0], [0, 3, 3], [0, 5, 0], [0, 0, 5], [0, 0, 0]]
    assert states[1].age.shape == (1, 1, 3)  # only the perishable node has buckets
    assert_fields(
        leds,
        {
            "received": [[0, 0], [3, 0], [6, 0], [0, 0], [0, 0]],
            "sold": [[2, 0], [0, 0], [7, 0], [0, 0], [2, 0]],
            "expired": [[0, 0], [0, 0], [0, 0], [0, 0], [3, 0]],
            "waste_cost": [[0, 0], [0, 0], [0, 0], [0, 0], [6, 0]],
            "on_hand": [[3, 17], [6, 11], [5, 11], [5, 11], [0, 11]],
            "holding_cost": [[3, 0], [6, 0], [5, 0], [5, 0], [0, 0]],
            "backlog": [[0, 0]] * 5,
        },
    )
    check_identities(net, states, leds)


# Expiry timing at shelf life 1: what arrives in period t can only be shipped in t.
# store_0: on hand 4, shelf life 1, waste 3, holding 1; e0 pipeline [2]; orders e0 [3, 4, 0, 0];
# demand [1, 3, 1, 0].
# t0: 4 + 2 = 6, sell 1, 5 expire (waste 15), on hand 0.   t1: +3, sell 3, nothing expires.
# t2: +4, sell 1, 3 expire (waste 9).                       t3: nothing arrives, nothing expires.
def test_perishable_expiry_shelf_life_1() -> None:
    nodes = [
        {
            "role": "store",
            "initial_on_hand": 4,
            "shelf_life": 1,
            "waste_cost": 3,
            "holding_cost": 1,
            "demand": CONST0,
        },
        {"role": "supplier", "initial_on_hand": 20},
    ]
    edges = [
        {"from": "supplier_0", "to": "store_0", "lead_time": 1, "initial_pipeline": [2]},
        {"from": "external", "to": "supplier_0", "lead_time": 1},
    ]
    net = net_of(scenario(nodes, edges))
    states, leds = run(net, [[3, 0], [4, 0], [0, 0], [0, 0]], [[1], [3], [1], [0]])
    assert_fields(
        leds,
        {
            "received": [[2, 0], [3, 0], [4, 0], [0, 0]],
            "sold": [[1, 0], [3, 0], [1, 0], [0, 0]],
            "expired": [[5, 0], [0, 0], [3, 0], [0, 0]],
            "waste_cost": [[15, 0], [0, 0], [9, 0], [0, 0]],
            "on_hand": [[0, 17], [0, 13], [0, 13], [0, 13]],
            "holding_cost": [[0, 0]] * 4,
        },
    )
    for s in states[1:]:
        np.testing.assert_array_equal(s.age, [[[0]]])
    check_identities(net, states, leds)


@pytest.mark.parametrize("shelf", [1, 2, 3, 4])
def test_initial_stock_counts_as_arriving_in_period_0(shelf: int) -> None:
    """Unsold initial stock expires at the end of period shelf_life - 1, and not before."""
    nodes = [
        {"role": "store", "initial_on_hand": 4, "shelf_life": shelf, "demand": CONST0},
        {"role": "supplier"},
    ]
    edges = [
        {"from": "supplier_0", "to": "store_0", "lead_time": 1},
        {"from": "external", "to": "supplier_0", "lead_time": 1},
    ]
    net = net_of(scenario(nodes, edges))
    states, leds = run(net, [[0, 0]] * 5, [[0]] * 5)
    expired = series(leds, "expired")[:, 0]
    np.testing.assert_array_equal(expired, [4.0 if t == shelf - 1 else 0.0 for t in range(5)])
    np.testing.assert_array_equal(
        series(leds, "on_hand")[:, 0], [4.0 if t < shelf - 1 else 0.0 for t in range(5)]
    )


# -------------------------------------------------------------------------------------------------
# Assembly: the scarcest component and the production capacity limit what is made; leftovers carry
#
# warehouse_0 assembles with bom {supplier_0: 2, supplier_1: 1}, production capacity 3, holding 1.
# e0 warehouse_0 -> store_0, e1 supplier_0 -> warehouse_0 (pipeline [8]), e2 supplier_1 -> warehouse_0
# (pipeline [5]), e3/e4 external -> suppliers; all L1; suppliers hold 20 each.
# orders: t0 e0 1; t1 e1 6; t2 nothing.
# t0: components [8, 5] (received 13) -> makeable min(8/2, 5/1) = 4, capacity 3 -> made 3, used
#     [6, 3] (consumed 9) -> components [2, 2]; ships 1 to the store -> on hand 2; holding 2 + 4 = 6.
# t1: nothing arrives -> makeable min(2/2, 2/1) = 1 (supplier_0's component is scarcest) -> used
#     [2, 1] (consumed 3) -> components [0, 1]; on hand 3; holding 3 + 1 = 4. supplier_0 ships 6.
# t2: 6 arrive on e1 -> components [6, 1] -> makeable min(3, 1) = 1 (now supplier_1's is scarcest)
#     -> used [2, 1] -> components [4, 0]; on hand 4; holding 4 + 4 = 8.
# The store receives the unit shipped at t0 in t1.
def test_assembly_scarcest_component_and_capacity() -> None:
    nodes = [
        {"role": "store", "demand": CONST0},
        {
            "role": "warehouse",
            "bom": {"supplier_0": 2, "supplier_1": 1},
            "production_capacity": 3,
            "holding_cost": 1,
        },
        {"role": "supplier", "initial_on_hand": 20},
        {"role": "supplier", "initial_on_hand": 20},
    ]
    edges = [
        {"from": "warehouse_0", "to": "store_0", "lead_time": 1},
        {"from": "supplier_0", "to": "warehouse_0", "lead_time": 1, "initial_pipeline": [8]},
        {"from": "supplier_1", "to": "warehouse_0", "lead_time": 1, "initial_pipeline": [5]},
        {"from": "external", "to": "supplier_0", "lead_time": 1},
        {"from": "external", "to": "supplier_1", "lead_time": 1},
    ]
    net = net_of(scenario(nodes, edges))
    states, leds = run(net, [[1, 0, 0, 0, 0], [0, 6, 0, 0, 0], [0, 0, 0, 0, 0]], [[0]] * 3)
    assert_fields(
        leds,
        {  # [store_0, warehouse_0, supplier_0, supplier_1]
            "received": [[0, 13, 0, 0], [1, 0, 0, 0], [0, 6, 0, 0]],
            "assembled": [[0, 3, 0, 0], [0, 1, 0, 0], [0, 1, 0, 0]],
            "consumed": [[0, 9, 0, 0], [0, 3, 0, 0], [0, 3, 0, 0]],
            "components": [[0, 4, 0, 0], [0, 1, 0, 0], [0, 4, 0, 0]],
            "shipped": [[0, 1, 0, 0], [0, 0, 6, 0], [0, 0, 0, 0]],
            "on_hand": [[0, 2, 20, 20], [1, 3, 14, 20], [1, 4, 14, 20]],
            "holding_cost": [[0, 6, 0, 0], [0, 4, 0, 0], [0, 8, 0, 0]],
            "expired": [[0, 0, 0, 0]] * 3,
        },
    )
    assert [s.components[0].tolist() for s in states] == [
        [0, 0, 0, 0, 0],
        [0, 2, 2, 0, 0],
        [0, 0, 1, 0, 0],
        [0, 4, 0, 0, 0],
    ]
    check_identities(net, states, leds)


# -------------------------------------------------------------------------------------------------
# Goodwill: down to the floor after stockouts, back up to the cap after periods without
#
# store_0 lost sales, goodwill {decay 0.5, recovery 0.25, floor 0.375, cap 1, initial 1}; base demand
# 10 every period; e0 supplier_0 -> store_0 L1, the store orders 40 at t1 (arrives t2).
# (all numbers dyadic: exact in floating point)
#   t   g      demand = 10 g   stock   sold   lost   next g
#   0   1      10              0       0      10     max(0.375, 0.5)  = 0.5
#   1   0.5    5               0       0      5      max(0.375, 0.25) = 0.375  (floor)
#   2   0.375  3.75            40      3.75   0      0.625
#   3   0.625  6.25            36.25   6.25   0      0.875
#   4   0.875  8.75            30      8.75   0      min(1, 1.125) = 1  (cap)
#   5   1      10              21.25   10     0      1
# With integer demand the realised demand is rounded: 10, 5, 4, 6, 9, 10 (same goodwill path: no stockout
# arises from rounding here).
GOODWILL = {"decay": 0.5, "recovery": 0.25, "floor": 0.375, "cap": 1, "initial": 1}


def goodwill_net(integer: bool, lost_sales: bool = True) -> Any:
    store: dict[str, Any] = {
        "role": "store",
        "goodwill": GOODWILL,
        "demand": {"process": "constant", "value": 0, "integer": integer},
    }
    store.update({"lost_sales": True, "lost_sales_cost": 1} if lost_sales else {"backlog_cost": 1})
    nodes = [store, {"role": "supplier", "initial_on_hand": 100}]
    edges = [
        {"from": "supplier_0", "to": "store_0", "lead_time": 1},
        {"from": "external", "to": "supplier_0", "lead_time": 1},
    ]
    return net_of(scenario(nodes, edges))


@pytest.mark.parametrize("integer", [False, True])
def test_goodwill_falls_to_floor_and_recovers_to_cap(integer: bool) -> None:
    net = goodwill_net(integer)
    np.testing.assert_array_equal(initial_state(net, 1).goodwill, [[1.0]])
    orders = [[0, 0], [40, 0], [0, 0], [0, 0], [0, 0], [0, 0]]
    states, leds = run(net, orders, [[10]] * 6)
    demand = [10, 5, 4, 6, 9, 10] if integer else [10, 5, 3.75, 6.25, 8.75, 10]
    np.testing.assert_array_equal([led.demand[0, 0] for led in leds], demand)
    np.testing.assert_array_equal([s.last_demand[0, 0] for s in states[1:]], demand)
    np.testing.assert_array_equal([s.goodwill[0, 0] for s in states[1:]], [0.5, 0.375, 0.625, 0.875, 1, 1])
    np.testing.assert_array_equal(series(leds, "lost")[:, 0], [10, 5, 0, 0, 0, 0])
    np.testing.assert_array_equal(series(leds, "lost_sales_cost")[:, 0], [10, 5, 0, 0, 0, 0])
    np.testing.assert_array_equal(series(leds, "sold")[:, 0], [0, 0] + demand[2:])
    check_identities(net, states, leds)


# A backlogging store: backlogged demand is a stockout too.
# t0: g 1, demand 10, no stock -> backlog 10 -> g 0.5. t1: 20 arrive, demand 5, owed 15 -> all served,
# on hand 5 -> g 0.75.
def test_goodwill_backlog_counts_as_stockout() -> None:
    net = goodwill_net(integer=False, lost_sales=False)
    states, leds = run(net, [[20, 0], [0, 0]], [[10], [10]])
    np.testing.assert_array_equal([led.demand[0, 0] for led in leds], [10, 5])
    np.testing.assert_array_equal(series(leds, "backlog")[:, 0], [10, 0])
    np.testing.assert_array_equal(series(leds, "sold")[:, 0], [0, 15])
    np.testing.assert_array_equal([s.goodwill[0, 0] for s in states[1:]], [0.5, 0.75])


# -------------------------------------------------------------------------------------------------
# step needs a supply shock exactly when supply is uncertain
UNCERTAIN: dict[str, dict[str, Any]] = {
    "lead_time_extra": {"lead_time_extra": [0.5, 0.5]},
    "reliability": {"reliability": {"p_disruption": 0.5, "fill": [0.2, 0.8]}},
    "transit_loss": {"transit_loss": {"max_fraction": 0.1}},
}


@pytest.mark.parametrize("feature", sorted(UNCERTAIN))
def test_step_requires_supply_when_uncertain(feature: str) -> None:
    nodes = [{"role": "store", "demand": CONST0}, {"role": "supplier"}]
    edges = [
        {"from": "supplier_0", "to": "store_0", "lead_time": 1, **UNCERTAIN[feature]},
        {"from": "external", "to": "supplier_0", "lead_time": 1},
    ]
    net = net_of(scenario(nodes, edges))
    assert net.any_uncertain_supply
    state = initial_state(net, 1)
    with pytest.raises(ValueError, match="supply"):
        step(net, state, np.zeros((1, 2)), np.zeros((1, 1)))
    step(net, state, np.zeros((1, 2)), np.zeros((1, 1)), shock(net))  # a shock makes it work


def test_certain_features_need_no_supply() -> None:
    """Storage, tiers, transit holding, perishables, assembly and goodwill are deterministic."""
    nodes = [
        {"role": "store", "storage_capacity": 5, "shelf_life": 2, "goodwill": {}, "demand": CONST0},
        {"role": "warehouse", "bom": {"supplier_0": 1}},
        {"role": "supplier"},
    ]
    edges = [
        {"from": "warehouse_0", "to": "store_0", "lead_time": 1, "transit_holding_cost": 1},
        {"from": "supplier_0", "to": "warehouse_0", "lead_time": 1, "unit_cost_tiers": [[0, 2], [5, 1]]},
        {"from": "external", "to": "supplier_0", "lead_time": 1},
    ]
    net = net_of(scenario(nodes, edges))
    assert not net.any_uncertain_supply
    assert sample_supply(net, np.random.default_rng(0), 2, 6) is None
    step(net, initial_state(net, 2), np.ones((2, 3)), np.ones((2, 1)))


# -------------------------------------------------------------------------------------------------
# Statistics of sample_supply
#
# n = B x T = 40 x 500 = 20,000 draws per edge. A frequency p has standard error sqrt(p(1-p)/n) <=
# 0.5 / sqrt(20000) = 0.0035, so a tolerance of 0.02 is over 5 standard errors (the seeds are fixed,
# so the test is deterministic anyway; the tolerance only has to be honest). A uniform on [lo, hi] has
# standard deviation (hi - lo) / sqrt(12); its sample mean over m draws has standard error
# (hi - lo) / sqrt(12 m), and we allow 6 of those.
B, T = 40, 500


def stats_net() -> Any:
    nodes = [{"role": "store", "demand": CONST0}, {"role": "warehouse"}, {"role": "supplier"}]
    edges = [
        {
            "from": "warehouse_0",
            "to": "store_0",
            "lead_time": 1,
            "lead_time_extra": [0.2, 0.5, 0.3],
            "reliability": {"p_disruption": 0.3, "fill": [0.2, 0.6]},
        },
        {
            "from": "supplier_0",
            "to": "warehouse_0",
            "lead_time": 2,
            "transit_loss": {"max_fraction": 0.3},
            "lead_time_extra": [0.9, 0.1],
        },
        {"from": "external", "to": "supplier_0", "lead_time": 1},  # certain
    ]
    return net_of(scenario(nodes, edges))


@pytest.mark.parametrize("seed", [0, 1])
def test_sample_supply_statistics(seed: int) -> None:
    net = stats_net()
    path = sample_supply(net, np.random.default_rng(seed), B, T)
    assert path is not None
    assert path.lead_extra.shape == path.fill.shape == path.loss.shape == (B, T, 3)
    assert path.lead_extra.dtype == np.int64
    n = B * T
    # lead-time extras: support and frequencies
    for j, probs in ((0, [0.2, 0.5, 0.3]), (1, [0.9, 0.1])):
        x = path.lead_extra[:, :, j]
        assert set(np.unique(x)) <= set(range(len(probs))), j
        freq = np.bincount(x.ravel(), minlength=len(probs)) / n
        np.testing.assert_allclose(freq, probs, atol=0.02, err_msg=f"edge {j}")
        assert net.lead_time[j] + x.max() <= net.max_lead  # fits the ring buffer
    np.testing.assert_array_equal(path.lead_extra[:, :, 2], 0)
    # reliability: disrupted with probability 0.3, then a fill uniform in [0.2, 0.6]
    fill = path.fill[:, :, 0]
    disrupted = fill < 1.0
    assert abs(disrupted.mean() - 0.3) < 0.02
    assert np.all((fill[disrupted] >= 0.2) & (fill[disrupted] <= 0.6))
    m = int(disrupted.sum())
    assert abs(fill[disrupted].mean() - 0.4) < 6 * 0.4 / np.sqrt(12 * m)
    np.testing.assert_array_equal(path.fill[:, :, 1:], 1.0)
    # transit loss: uniform in [0, 0.3] on edge 1 only
    loss = path.loss[:, :, 1]
    assert loss.min() >= 0.0 and loss.max() <= 0.3
    assert abs(loss.mean() - 0.15) < 6 * 0.3 / np.sqrt(12 * n)
    assert loss.max() > 0.29 and loss.min() < 0.01  # it does cover the range
    np.testing.assert_array_equal(path.loss[:, :, [0, 2]], 0.0)
    # SupplyPath slices
    sh = path.at(7)
    np.testing.assert_array_equal(sh.lead_extra, path.lead_extra[:, 7])
    np.testing.assert_array_equal(sh.fill, path.fill[:, 7])
    np.testing.assert_array_equal(sh.loss, path.loss[:, 7])
    row = path.row(3)
    np.testing.assert_array_equal(row.fill, path.fill[3:4])


def test_sample_supply_is_seeded() -> None:
    net = stats_net()
    a = sample_supply(net, np.random.default_rng(5), 2, 10)
    b = sample_supply(net, np.random.default_rng(5), 2, 10)
    c = sample_supply(net, np.random.default_rng(6), 2, 10)
    assert a is not None and b is not None and c is not None
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a.fill, c.fill)


# -------------------------------------------------------------------------------------------------
# bugs found
def test_goodwill_ignores_backlog_on_store_edges() -> None:
    # store_0 (10 on hand, goodwill initial 0.5, decay 0.5, recovery 0.25) also supplies store_1 on an edge
    # served after its customers (priority 1). t0: base demand 4 -> realised 2, sold 2 (no customer
    # shortage); store_1 orders 50, gets the remaining 8, 42 stay owed on the edge. The customers saw no
    # stockout, so goodwill should recover to 0.75; the code lowers it to 0.25.
    nodes = [
        {
            "role": "store",
            "initial_on_hand": 10,
            "demand": CONST0,
            "goodwill": {"decay": 0.5, "recovery": 0.25, "floor": 0.25, "initial": 0.5},
        },
        {"role": "store", "demand": CONST0},
        {"role": "supplier"},
    ]
    edges = [
        {"from": "supplier_0", "to": "store_0", "lead_time": 1},
        {"from": "store_0", "to": "store_1", "lead_time": 1, "priority": 1},
        {"from": "external", "to": "supplier_0", "lead_time": 1},
    ]
    net = net_of(scenario(nodes, edges))
    states, leds = run(net, [[0, 50, 0]], [[4, 0]])
    assert leds[0].sold[0, 0] == 2 and leds[0].lost[0, 0] == 0
    assert states[1].backlog[0, 3] == 0  # store_0's customers are owed nothing
    assert states[1].backlog[0, 1] == 42  # the edge to store_1 is
    assert states[1].goodwill[0, 0] == 0.75


def test_goodwill_does_not_round_other_stores_demand() -> None:
    # store_0 has goodwill (g = 1), store_1 has none. A replayed fractional demand of 2.5 at store_1 is
    # passed through unchanged without goodwill anywhere, but becomes 2 once store_0 has goodwill.
    def two_stores(gw: bool) -> Any:
        nodes = [
            {"role": "store", "demand": CONST0, **({"goodwill": {}} if gw else {})},
            {"role": "store", "demand": CONST0},
            {"role": "supplier"},
        ]
        edges = [
            {"from": "supplier_0", "to": "store_0", "lead_time": 1},
            {"from": "supplier_0", "to": "store_1", "lead_time": 1},
            {"from": "external", "to": "supplier_0", "lead_time": 1},
        ]
        return net_of(scenario(nodes, edges))

    _, plain = run(two_stores(False), [[0, 0, 0]], [[3, 2.5]])
    assert plain[0].demand[0, 1] == 2.5
    _, with_gw = run(two_stores(True), [[0, 0, 0]], [[3, 2.5]])
    assert with_gw[0].demand[0, 1] == 2.5  # store_1's demand must not depend on store_0's goodwill


class _StubRng:
    """Stands in for a Generator whose uniform draws all equal ``u`` (sample_supply only calls random)."""

    def __init__(self, u: float) -> None:
        self.u = u

    def random(self, shape: Any) -> np.ndarray:
        return np.full(shape, self.u)


def test_lead_extra_stays_within_the_edges_support() -> None:
    # e0: lead 2, extras [0.5, 0.4999999995] (valid: sums to 1 within 1e-9) -> extra 0 or 1.
    # e1: lead 1, extras [0, 0, 0, 1] -> max_lead = 4. A uniform draw u in (0.9999999995, 1) exceeds every
    # entry of e0's zero-padded CDF, so e0 gets extra 3 (clipped only to the global 3): lead 2 + 3 = 5,
    # slot (t + 5) % 4 = t + 1 -> the 5 units shipped at t0 arrive at t1, before the lead time of 2.
    nodes = [
        {"role": "store", "demand": CONST0},
        {"role": "store", "demand": CONST0},
        {"role": "supplier", "initial_on_hand": 10},
    ]
    edges = [
        {"from": "supplier_0", "to": "store_0", "lead_time": 2, "lead_time_extra": [0.5, 0.4999999995]},
        {"from": "supplier_0", "to": "store_1", "lead_time": 1, "lead_time_extra": [0, 0, 0, 1]},
        {"from": "external", "to": "supplier_0", "lead_time": 1},
    ]
    net = net_of(scenario(nodes, edges))
    path = sample_supply(net, _StubRng(0.9999999999), 1, 3)  # type: ignore[arg-type]
    assert path is not None
    _, leds = run(net, [[5, 0, 0], [0, 0, 0], [0, 0, 0]], [[0, 0]] * 3, [path.at(t) for t in range(3)])
    assert series(leds, "edge_arrived")[1, 0] == 0  # nothing can arrive on e0 before t2
    assert path.lead_extra[0, 0, 0] <= 1
