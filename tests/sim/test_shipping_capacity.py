"""Shipping capacity per edge in volume units, shared by the edge's products (docs/products.md): a hand
example, one product of volume 1 equals the product-free per-unit capacity, and conservation with
the capacity never exceeded (hypothesis)."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from invmgmt_marl.compile import compile_network
from invmgmt_marl.scenario import validate_scenario
from invmgmt_marl.sim import initial_state, step
from tests.strategies import examples


def one_store(capacity: float | None) -> dict[str, Any]:
    """A store buying from the external source over one edge (lead time 1), products a (volume 1) and
    b (volume 2), no demand."""
    edge: dict[str, Any] = {"from": "external", "to": "store_0", "lead_time": 1}
    if capacity is not None:
        edge["capacity"] = capacity
    return {
        "periods": 4,
        "nodes": [{"role": "store", "lost_sales": True, "demand": {"process": "constant", "value": 0}}],
        "edges": [edge],
        "products": [{"name": "a", "volume": 1.0}, {"name": "b", "volume": 2.0}],
    }


def test_proportional_cut_by_hand() -> None:
    net = compile_network(validate_scenario(one_store(10.0)))
    assert net.any_shared_shipping and not net.any_capacity
    state = initial_state(net, 1)
    zero = np.zeros((1, 2, 1))
    # period 0: a 4 units (volume 4) and b 5 units (volume 10) = 14 > 10: both cut by 10/14 = 5/7
    state, led = step(net, state, np.array([[[4.0], [5.0]]]), zero)
    np.testing.assert_allclose(led.edge_shipped[0, :, 0], [20 / 7, 25 / 7], rtol=1e-14)
    np.testing.assert_allclose(net.volume @ led.edge_shipped[0, :, 0], 10.0, rtol=1e-14)  # the capacity
    # the cut stays owed: a 4 - 20/7 = 8/7, b 5 - 25/7 = 10/7
    np.testing.assert_allclose(led.edge_backlog[0, :, 0], [8 / 7, 10 / 7], rtol=1e-14)
    # period 1, no new orders: owed volume 8/7 + 2 x 10/7 = 4 <= 10, all shipped; period 0's shipment arrives
    state, led = step(net, state, np.zeros((1, 2, 1)), zero)
    np.testing.assert_allclose(led.edge_shipped[0, :, 0], [8 / 7, 10 / 7], rtol=1e-14)
    np.testing.assert_allclose(led.edge_backlog[0, :, 0], [0.0, 0.0], atol=1e-15)
    np.testing.assert_allclose(led.received[0, :, 0], [20 / 7, 25 / 7], rtol=1e-14)
    # period 2: 6 units of b alone (volume 12 > 10): 5 shipped, 1 owed
    state, led = step(net, state, np.array([[[0.0], [6.0]]]), zero)
    np.testing.assert_allclose(led.edge_shipped[0, :, 0], [0.0, 5.0], rtol=1e-14)
    np.testing.assert_allclose(led.edge_backlog[0, :, 0], [0.0, 1.0], rtol=1e-14)


def test_without_capacity_nothing_is_cut() -> None:
    net = compile_network(validate_scenario(one_store(None)))
    assert not net.any_shared_shipping
    _, led = step(net, initial_state(net, 1), np.array([[[4.0], [5.0]]]), np.zeros((1, 2, 1)))
    np.testing.assert_array_equal(led.edge_shipped[0, :, 0], [4.0, 5.0])


CHAIN: dict[str, Any] = {
    "periods": 10,
    "nodes": [
        {
            "role": "store",
            "holding_cost": 1.0,
            "backlog_cost": 4.0,
            "demand": {"process": "poisson", "mean": 4},
        },
        {"role": "supplier", "holding_cost": 0.5, "initial_on_hand": 30},
    ],
    "edges": [
        {"from": "supplier_0", "to": "store_0", "lead_time": 2, "unit_cost": 0.5, "capacity": 6.0},
        {"from": "external", "to": "supplier_0", "lead_time": 1, "unit_cost": 1.0, "capacity": 9.0},
    ],
}


def test_one_product_of_volume_one_equals_the_per_unit_capacity() -> None:
    """Without products ``capacity`` caps each edge's units; one product of volume 1 gives the same."""
    plain = compile_network(validate_scenario(CHAIN))
    one = compile_network(validate_scenario({**CHAIN, "products": [{"name": "x"}]}))
    assert plain.any_capacity and one.any_shared_shipping
    rng = np.random.default_rng(1)
    b = 3
    s0, s1 = initial_state(plain, b), initial_state(one, b)
    for _ in range(CHAIN["periods"]):
        orders = rng.uniform(0, 15, (b, 2))
        demand = rng.poisson(4, (b, 1)).astype(float)
        s0, l0 = step(plain, s0, orders, demand)
        s1, l1 = step(one, s1, orders[:, None], demand[:, None])
        np.testing.assert_allclose(l1.edges[:, :, 0], l0.edges, rtol=1e-13, atol=1e-12)
        np.testing.assert_allclose(l1.nodes[:, :, 0], l0.nodes, rtol=1e-13, atol=1e-12)


@st.composite
def capped(draw: st.DrawFn) -> tuple[dict[str, Any], int]:
    n_p = draw(st.integers(1, 4))
    prods = [
        {"name": f"p{k}", "volume": draw(st.floats(0.2, 3)), "lead_time": draw(st.integers(1, 3))}
        for k in range(n_p)
    ]
    d: dict[str, Any] = {
        **CHAIN,
        "nodes": [dict(n) for n in CHAIN["nodes"]],
        "edges": [dict(e) for e in CHAIN["edges"]],
        "products": prods,
    }
    for e in d["edges"]:
        cap = draw(st.one_of(st.none(), st.floats(0.5, 60)))
        e.pop("capacity")
        if cap is not None:
            e["capacity"] = cap
    d["nodes"][1]["initial_on_hand"] = draw(st.floats(0, 40))
    d["nodes"][0]["storage_capacity"] = draw(st.one_of(st.none(), st.floats(20, 200)))
    if d["nodes"][0]["storage_capacity"] is None:
        d["nodes"][0].pop("storage_capacity")
    return d, draw(st.integers(0, 2**31))


@given(capped())
@settings(max_examples=examples(40))
def test_conservation_and_capacity_never_exceeded(case: tuple[dict[str, Any], int]) -> None:
    """Per product, every period: stock and pipelines change by external_in - sold - refused; on every
    edge, backlog' = backlog + ordered - shipped (the cut stays owed); the volume shipped on an edge is
    at most its capacity; nothing ships beyond what is owed."""
    data, seed = case
    net = compile_network(validate_scenario(data))
    rng = np.random.default_rng(seed)
    b, p, e = 3, net.n_products, net.n_edges
    state = initial_state(net, b)
    for _ in range(net.periods):
        orders = rng.uniform(0, 25, (b, p, e)) * (rng.random((b, p, e)) < 0.7)
        demand = rng.poisson(6, (b, p, 1)).astype(float)
        held = state.on_hand.sum(axis=2) + state.pipeline.sum(axis=(2, 3))  # (B, P)
        new, led = step(net, state, orders, demand)
        held_new = new.on_hand.sum(axis=2) + new.pipeline.sum(axis=(2, 3))
        np.testing.assert_allclose(
            held_new, held + led.external_in - led.sold.sum(axis=2) - led.refused.sum(axis=2), atol=1e-9
        )
        np.testing.assert_allclose(
            led.edge_backlog, state.backlog[..., :e] + orders - led.edge_shipped, rtol=1e-12, atol=1e-9
        )
        assert (led.edge_shipped >= -1e-12).all() and (led.edge_backlog >= -1e-9).all()
        volume = net.volume @ led.edge_shipped  # (B, E)
        assert (volume <= net.ship_capacity * (1 + 1e-12) + 1e-9).all()
        state = new
