"""Retail mechanics in the simulator (issue 14): price actions with a constant-elasticity demand
response, stochastic lead times per order line on the product path (shipping modes), and the event
calendar's demand factors and countdowns. Every expected value is computed by hand in a comment."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from invmgmt_marl.compile import compile_network
from invmgmt_marl.demand import demand_factor
from invmgmt_marl.errors import InvalidActionError
from invmgmt_marl.scenario.schema import validate_scenario
from invmgmt_marl.sim.calendar import event_clock, event_features
from invmgmt_marl.sim.dynamics import step
from invmgmt_marl.sim.network import Network
from invmgmt_marl.sim.state import initial_state
from invmgmt_marl.sim.supply import sample_supply
from invmgmt_marl.validation import check_price

#: the retail table of issue 14: product -> (sell price, unit cost, price elasticity)
RETAIL = {
    "electronics": (150, 100, 1.2),
    "clothing": (40, 25, 1.5),
    "groceries": (10, 5, 0.4),
    "furniture": (200, 130, 0.8),
    "toys": (25, 12, 1.3),
}


def store_scenario(integer: bool = True, **extra: Any) -> dict[str, Any]:
    """One store buying from the vendor, the five retail products, constant demand 10 each."""
    return {
        "name": "retail_mini",
        "periods": 14,
        "nodes": [
            {"role": "store", "lost_sales": True, "pricing": {"min": 0.5, "max": 1.5}, "initial_on_hand": 100}
        ],
        "edges": [
            {
                "from": "external",
                "to": "store_0",
                "modes": [
                    {"name": "slow", "unit_cost": 2, "lead_time": [3, 7]},
                    {"name": "medium", "unit_cost": 5, "lead_time": [2, 4]},
                    {"name": "fast", "unit_cost": 10, "lead_time": 1},
                ],
            }
        ],
        "products": [
            {
                "name": name,
                "price": price,
                "unit_cost": cost,
                "price_elasticity": el,
                "demand": {"process": "constant", "value": 10, "integer": integer},
            }
            for name, (price, cost, el) in RETAIL.items()
        ],
        **extra,
    }


def net_of(raw: dict[str, Any]) -> Network:
    return compile_network(validate_scenario(raw))


def shock(net: Network, batch: int) -> Any:
    """Period 0's supply draw (the modes' stochastic lead times need one)."""
    path = sample_supply(net, np.random.default_rng(0), batch, net.periods)
    assert path is not None
    return path.at(0)


# ---- prices and demand response ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("m", "expected"),
    [
        # 10 x m ** -elasticity = 10 x exp(-elasticity x ln m), per product in RETAIL order, computed with
        # math.exp / math.log in plain Python (the table of docs/products.md):
        # 1.3: 1.3^-1.2 = 0.7299, 1.3^-1.5 = 0.6747, 1.3^-0.4 = 0.9004, 1.3^-0.8 = 0.8107, 1.3^-1.3 = 0.7110
        (1.3, [7.2991, 6.7466, 9.0037, 8.1067, 7.1101]),
        # 0.7: 0.7^-1.2 = 1.5342, 0.7^-1.5 = 1.7075, 0.7^-0.4 = 1.1533, 0.7^-0.8 = 1.3302, 0.7^-1.3 = 1.5899
        (0.7, [15.3420, 17.0747, 11.5335, 13.3021, 15.8991]),
    ],
)
def test_constant_elasticity_demand_and_revenue(m: float, expected: list[float]) -> None:
    net = net_of(store_scenario(integer=False))
    state = initial_state(net, 1)
    orders = np.zeros((1, 5, net.n_edges))
    demand = np.full((1, 5, 1), 10.0)
    price = np.full((1, 5, 1), m)
    nxt, led = step(net, state, orders, demand, shock(net, 1), price=check_price(net, price))
    np.testing.assert_allclose(led.demand[0, :, 0], expected, atol=1e-4)
    np.testing.assert_allclose(nxt.last_demand[0, :, 0], expected, atol=1e-4)
    np.testing.assert_allclose(led.sold[0, :, 0], expected, atol=1e-4)  # 100 in stock: every unit sold
    prices = np.array([v[0] for v in RETAIL.values()])
    np.testing.assert_allclose(led.revenue[0, :, 0], np.array(expected) * prices * m, rtol=1e-4)
    np.testing.assert_array_equal(nxt.price, price)


def test_integer_demand_is_rounded_with_rint() -> None:
    net = net_of(store_scenario(integer=True))
    state = initial_state(net, 1)
    demand = np.full((1, 5, 1), 10.0)
    _, led = step(net, state, np.zeros((1, 5, 3)), demand, shock(net, 1), price=np.full((1, 5, 1), 1.3))
    # rint of [7.2991, 6.7466, 9.0037, 8.1067, 7.1101]
    np.testing.assert_array_equal(led.demand[0, :, 0], [7, 7, 9, 8, 7])
    # revenue = sold x price x m: electronics 7 x 150 x 1.3 = 1365
    assert led.revenue[0, 0, 0] == pytest.approx(1365.0)


def test_no_price_means_list_price_and_unchanged_demand() -> None:
    net = net_of(store_scenario())
    state = initial_state(net, 2)
    demand = np.full((2, 5, 1), 10.0)
    orders = np.ones((2, 5, net.n_edges))
    a, la = step(net, state, orders, demand, shock(net, 2))
    b, lb = step(net, state, orders, demand, shock(net, 2), price=np.ones((2, 5, 1)))
    np.testing.assert_array_equal(la.nodes, lb.nodes)
    np.testing.assert_array_equal(a.price, np.ones((2, 5, 1)))  # the initial multipliers, kept
    assert la.revenue[0, 0, 0] == 10 * 150


def test_check_price_names_the_bad_entry() -> None:
    net = net_of(store_scenario())
    with pytest.raises(InvalidActionError, match=r"price\[0, 2, 0\]: must lie in \[0.5, 1.5\].*1.6"):
        check_price(net, np.array([[[1.0], [1.0], [1.6], [1.0], [1.0]]]))
    with pytest.raises(InvalidActionError, match=r"price: expected shape \(B, 5, 1\)"):
        check_price(net, np.ones((1, 5)))


# ---- shipping modes and stochastic lead times per order line ------------------------------------
def test_modes_compile_into_parallel_edges() -> None:
    sc = validate_scenario(store_scenario())
    assert [e.label for e in sc.edges] == [
        "external->store_0:slow",
        "external->store_0:medium",
        "external->store_0:fast",
    ]
    net = compile_network(sc)
    # unit cost = purchase cost + the mode's shipping cost: electronics 100 + (2, 5, 10)
    np.testing.assert_array_equal(net.unit_cost[0], [102, 105, 110])
    np.testing.assert_array_equal(net.lead_time[0], [3, 2, 1])  # the ranges' minimum
    np.testing.assert_array_equal(net.lead_extra_max, [4, 2, 0])
    assert net.max_lead == 7  # 3 + 4 extra: the ring buffer holds the longest
    # uniform over the range: 5 values of 1/5 (slow), 3 of 1/3 (medium), fast certain
    np.testing.assert_allclose(net.lead_extra_probs[0], [0.2] * 5)
    np.testing.assert_allclose(net.lead_extra_probs[1], [1 / 3] * 3 + [0, 0])
    np.testing.assert_allclose(net.lead_extra_probs[2], [1, 0, 0, 0, 0])


def test_jitter_draws_stay_in_range_and_cover_it() -> None:
    net = net_of(store_scenario())
    path = sample_supply(net, np.random.default_rng(7), 200, 14)
    assert path is not None and path.lead_extra.shape == (200, 14, 5, 3)  # one draw per order line
    lead = net.lead_time[None, None] + path.lead_extra  # (B, T, P, E) total lead times
    for e, (lo, hi) in enumerate([(3, 7), (2, 4), (1, 1)]):
        seen = np.unique(lead[..., e])
        np.testing.assert_array_equal(seen, np.arange(lo, hi + 1))  # within [min, max], every value
    # uniform: 200 x 14 x 5 = 14,000 draws of 5 values, each about 2,800 (sd ~ 47)
    counts = np.bincount(lead[..., 0].ravel())[3:]
    assert np.all(np.abs(counts - 2800) < 300)


def test_shipments_arrive_within_the_mode_range() -> None:
    """One unit per product on the slow mode in period 0: each arrives in one of periods 3..7, per
    order line (products of one episode may differ), and every unit arrives exactly once."""
    net = net_of(store_scenario())
    batch = 400
    path = sample_supply(net, np.random.default_rng(3), batch, 14)
    assert path is not None
    state = initial_state(net, batch)
    orders = np.zeros((batch, 5, 3))
    orders[:, :, 0] = 1.0
    demand = np.zeros((batch, 5, 1))
    arrival = np.full((batch, 5), -1)
    for t in range(10):
        state, led = step(net, state, orders if t == 0 else 0 * orders, demand, path.at(t))
        got = led.received[:, :, 0] > 0
        assert np.all(arrival[got] == -1)  # nothing arrives twice
        arrival[got] = t
    assert np.all((arrival >= 3) & (arrival <= 7))
    np.testing.assert_array_equal(np.unique(arrival), [3, 4, 5, 6, 7])
    np.testing.assert_array_equal(arrival, 3 + path.lead_extra[:, 0, :, 0])  # the drawn extra, per line
    assert len({tuple(r) for r in arrival}) > 1 and (arrival != arrival[:, :1]).any()  # lines differ


def test_parallel_edges_between_two_nodes_are_allowed_and_overrides_follow_modes() -> None:
    raw = {
        "name": "dual",
        "periods": 4,
        "nodes": [
            {"role": "store", "demand": {"process": "constant", "value": 1}},
            {"role": "supplier", "initial_on_hand": 10},
        ],
        "edges": [
            {"from": "external", "to": "supplier_0", "lead_time": 1},
            {
                "from": "supplier_0",
                "to": "store_0",
                "label": "road",
                "modes": [
                    {"name": "truck", "lead_time": 3},
                    {"name": "van", "unit_cost": 1.5, "lead_time": 1},
                ],
            },
        ],
        "products": [{"name": "a", "unit_cost": 2}, {"name": "b"}],
        "product_overrides": [{"product": "a", "edge": 1, "max_order": 4}],
    }
    sc = validate_scenario(raw)
    assert [e.label for e in sc.edges] == [None, "road:truck", "road:van"]
    assert [(o.edge, o.max_order) for o in sc.product_overrides] == [(1, 4), (2, 4)]  # remapped
    net = compile_network(sc)
    np.testing.assert_array_equal(net.unit_cost, [[2, 2, 3.5], [0, 0, 1.5]])
    np.testing.assert_array_equal(net.max_order[0], [20, 4, 4])
    assert validate_scenario(sc.to_dict()) == sc  # the expanded form round-trips
    # a plain duplicate edge is still refused
    dup = {**raw, "edges": [raw["edges"][0], *[{"from": "supplier_0", "to": "store_0", "lead_time": 1}] * 2]}
    dup.pop("product_overrides")
    with pytest.raises(ValueError, match=r"edges\[2\]: duplicate edge"):
        validate_scenario(dup)


# ---- the event calendar -----------------------------------------------------------------------
EVENTS = [
    {"name": "black_friday", "start": 3, "duration": 2, "factor": {"electronics": 3}},
    {"name": "christmas", "start": 9, "duration": 2, "factor": {"toys": 3}},
    {"name": "competitor", "start": 6, "duration": 30, "factor": 0.8},
    {"name": "flash_sale", "start": 2, "duration": 1, "every": 4, "factor": {"clothing": 1.5}},
]


def test_event_factors_in_the_demand_specs() -> None:
    weekly = {"process": "constant", "value": 10, "weekly": [1, 1, 1, 1, 1, 1.2, 1.2]}
    raw = store_scenario(events=EVENTS)
    for p in raw["products"]:
        p["demand"] = weekly
    net = net_of(raw)
    f = {name: demand_factor(net.demand_specs[k], 14) for k, name in enumerate(RETAIL)}
    week = np.array([1, 1, 1, 1, 1, 1.2, 1.2] * 2)  # days 5-6 of each week (period 0 is day 0)
    comp = np.where(np.arange(14) >= 6, 0.8, 1.0)  # the competitor from period 6 on (30 periods)
    bf = np.where(np.isin(np.arange(14), [3, 4]), 3.0, 1.0)
    xmas = np.where(np.isin(np.arange(14), [9, 10]), 3.0, 1.0)
    flash = np.where(np.isin(np.arange(14), [2, 6, 10]), 1.5, 1.0)
    np.testing.assert_allclose(f["electronics"], week * comp * bf)
    np.testing.assert_allclose(f["toys"], week * comp * xmas)
    np.testing.assert_allclose(f["clothing"], week * comp * flash)
    np.testing.assert_allclose(f["groceries"], week * comp)
    # e.g. electronics in period 4: 10 x 1 x 1 x 3 = 30; toys in period 10: 10 x 1 x 0.8 x 3 = 24


def test_calendar_and_pricing_round_trip() -> None:
    sc = validate_scenario(store_scenario(events=EVENTS))
    again = validate_scenario(sc.to_dict())
    assert again == sc
    assert again.events[0].factor == {"electronics": 3} and again.nodes[0].pricing == sc.nodes[0].pricing


def test_event_countdowns_period_by_period() -> None:
    net = net_of(store_scenario(events=EVENTS))
    until, left = zip(*(event_clock(net, t) for t in range(12)), strict=True)
    until, left = np.array(until), np.array(left)  # (T, V)
    # black_friday (start 3, 2 periods, once): 3 2 1 0 then never (-1); active in 3 and 4
    np.testing.assert_array_equal(until[:, 0], [3, 2, 1, 0, -1, -1, -1, -1, -1, -1, -1, -1])
    np.testing.assert_array_equal(left[:, 0], [0, 0, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0])
    # flash_sale (start 2, 1 period, every 4): starts 2, 6, 10
    np.testing.assert_array_equal(until[:, 3], [2, 1, 0, 3, 2, 1, 0, 3, 2, 1, 0, 3])
    np.testing.assert_array_equal(left[:, 3], [0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0])
    # competitor (start 6, 30 periods): active from 6 on, 30 left in period 6
    np.testing.assert_array_equal(left[6:, 2], [30, 29, 28, 27, 26, 25])
    feats = event_features(net, 4)  # scaled: until / periods (14), left / duration
    np.testing.assert_allclose(feats[0], [1.0, 0.5])  # black_friday: never again, 1 of 2 left
    np.testing.assert_allclose(feats[1], [5 / 14, 0.0])  # christmas in 5 periods
    np.testing.assert_allclose(feats[3], [2 / 14, 0.0])  # flash sale in 2 (period 6)


@pytest.mark.parametrize(
    ("patch", "match"),
    [
        (
            {"events": [{"name": "x", "start": 1, "factor": {"robots": 2}}]},
            r"events\[0\].factor: unknown product",
        ),
        ({"events": [{"name": "x", "start": 1, "factor": 2, "stores": ["store_9"]}]}, r"events\[0\].stores"),
        (
            {"events": [{"name": "x", "start": 1, "factor": 2}, {"name": "x", "start": 2, "factor": 2}]},
            r"events\[1\].name: duplicate",
        ),
        (
            {"events": [{"name": "x", "start": 1, "duration": 3, "every": 2, "factor": 2}]},
            r"every: must be >=",
        ),
    ],
)
def test_bad_events_are_refused_naming_the_field(patch: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        validate_scenario(store_scenario(**patch))


def test_retail_features_require_products() -> None:
    base = {
        "name": "plain",
        "periods": 4,
        "nodes": [{"role": "store", "demand": {"process": "constant", "value": 1}}, {"role": "supplier"}],
        "edges": [
            {"from": "external", "to": "supplier_0", "lead_time": 1},
            {"from": "supplier_0", "to": "store_0", "lead_time": 1},
        ],
    }
    with pytest.raises(ValueError, match=r"nodes\[0\] \(store_0\).pricing: requires products"):
        validate_scenario({**base, "nodes": [{**base["nodes"][0], "pricing": {}}, base["nodes"][1]]})
    with pytest.raises(ValueError, match=r"events: an event calendar requires products"):
        validate_scenario({**base, "events": [{"name": "x", "start": 0, "factor": 2}]})
    moded = {**base["edges"][1], "modes": [{"name": "a"}, {"name": "b", "lead_time": 2}]}
    with pytest.raises(ValueError, match=r"edges\[1\].mode: shipping modes requires products"):
        validate_scenario({**base, "edges": [base["edges"][0], moded]})
    bad_mode = {**base["edges"][1], "modes": [{"name": "a", "colour": "red"}]}
    with pytest.raises(ValueError, match=r"edges\[1\].modes\[0\].colour: not a mode field"):
        validate_scenario({**base, "edges": [base["edges"][0], bad_mode]})


def test_units_are_conserved_per_product_with_modes_and_prices() -> None:
    """Random orders on every mode, random prices, a two-node chain: per episode and product, units
    held (stock + pipelines) change by external_in - sold - refused every period."""
    raw = store_scenario(events=EVENTS)
    raw["nodes"] = [
        {**raw["nodes"][0], "storage_capacity": 505},  # 500 in stock: arrivals are cut now and then
        {"role": "supplier", "initial_on_hand": 30},
    ]
    raw["edges"] = [
        {**raw["edges"][0], "from": "supplier_0"},
        {
            "from": "external",
            "to": "supplier_0",
            "lead_time": 2,
            "modes": [{"name": "a"}, {"name": "b", "lead_time": [1, 3]}],
        },
    ]
    net = net_of(raw)
    rng = np.random.default_rng(11)
    batch = 32
    path = sample_supply(net, rng, batch, net.periods)
    assert path is not None
    state = initial_state(net, batch)
    refused = 0.0
    for t in range(net.periods):
        orders = rng.integers(0, 8, (batch, 5, net.n_edges)).astype(float)
        price = rng.uniform(0.5, 1.5, (batch, 5, 1))
        demand = rng.integers(0, 15, (batch, 5, 1)).astype(float)
        held = state.on_hand.sum(-1) + state.pipeline.sum((-1, -2))  # (B, P)
        state, led = step(net, state, orders, demand, path.at(t), price=price)
        after = state.on_hand.sum(-1) + state.pipeline.sum((-1, -2))
        flow = led.external_in - led.sold.sum(-1) - led.refused.sum(-1)
        np.testing.assert_allclose(after - held, flow, atol=1e-9)
        assert np.all(led.sold[:, :, 0] <= led.demand[:, :, 0] + 1e-9)
        refused += led.refused.sum()
    assert refused > 0  # the capacity did cut arrivals


def test_elasticity_override_per_store_and_product() -> None:
    raw = store_scenario()
    raw["product_overrides"] = [{"product": "toys", "node": "store_0", "price_elasticity": 2.0}]
    net = net_of(raw)
    # override > the product's value; RETAIL order: electronics, clothing, groceries, furniture, toys
    np.testing.assert_array_equal(net.price_elasticity[:, 0], [1.2, 1.5, 0.4, 0.8, 2.0])
    state = initial_state(net, 1)
    _, led = step(
        net,
        state,
        np.zeros((1, 5, 3)),
        np.full((1, 5, 1), 10.0),
        shock(net, 1),
        price=np.full((1, 5, 1), 0.8),
    )
    assert led.demand[0, 4, 0] == 16  # rint(10 x 0.8 ** -2) = rint(15.625) = 16
    assert led.demand[0, 0, 0] == 13  # electronics keep 1.2: rint(10 x 0.8 ** -1.2) = rint(13.07) = 13
    raw["product_overrides"] = [{"product": "toys", "edge": 0, "price_elasticity": 2.0}]
    with pytest.raises(
        ValueError, match=r"product_overrides\[0\].price_elasticity: a node value|a \(store, product\)"
    ):
        validate_scenario(raw)
