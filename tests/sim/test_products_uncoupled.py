"""Property (issue 10): a network whose products share nothing equals one product-free run per product,
field by field, for random product values, random orders and random demand (hypothesis).

Independent method: each product's slice of the product network is compared with a separately
compiled product-free scenario whose node and edge scalars carry that product's values; nothing of
the product path is reused on the other side. The one fixed example of this is
``tests/sim/test_products.py::test_uncoupled_products_equal_separate_runs``; here the scenario, the
products' values, the orders and the demand are drawn.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from invmgmt_marl.compile import compile_network
from invmgmt_marl.scenario import validate_scenario
from invmgmt_marl.sim import initial_state, step
from tests.strategies import examples

MONEY = st.floats(0, 5, allow_nan=False).map(lambda x: round(x, 2))


@st.composite
def uncoupled(draw: st.DrawFn) -> tuple[dict[str, Any], list[dict[str, Any]], int]:
    """A store fed by a supplier fed by the external source, no shared constraint, and 2-3 products,
    each with a random subset of the per-product fields set."""
    lost = draw(st.booleans())
    store: dict[str, Any] = {"role": "store", "holding_cost": draw(MONEY), "lost_sales": lost}
    store["demand"] = {"process": "poisson", "mean": 4}  # (the test gives the demand)
    store["backlog_cost"] = 0.0 if lost else draw(MONEY)
    store["price"] = draw(MONEY)
    supplier = {"role": "supplier", "holding_cost": draw(MONEY), "initial_on_hand": draw(st.integers(0, 9))}
    base: dict[str, Any] = {
        "periods": draw(st.integers(3, 8)),
        "nodes": [store, supplier],
        "edges": [
            {
                "from": "supplier_0",
                "to": "store_0",
                "lead_time": draw(st.integers(1, 3)),
                "unit_cost": draw(MONEY),
            },
            {
                "from": "external",
                "to": "supplier_0",
                "lead_time": draw(st.integers(1, 3)),
                "unit_cost": draw(MONEY),
            },
        ],
    }
    products = []
    for k in range(draw(st.integers(2, 3))):
        p: dict[str, Any] = {"name": f"p{k}"}
        for field, values in (
            ("holding_cost", MONEY),
            ("price", MONEY),
            ("unit_cost", MONEY),
            ("initial_on_hand", st.integers(0, 9)),
            ("lead_time", st.integers(1, 4)),
            ("backlog_cost", MONEY),
        ):
            if field == "backlog_cost" and lost:
                continue  # a lost-sales store takes no backlog cost
            if draw(st.booleans()):
                p[field] = draw(values)
        products.append(p)
    return base, products, draw(st.integers(0, 2**31))


def alone(base: dict[str, Any], product: dict[str, Any]) -> dict[str, Any]:
    """The product-free scenario whose scalars are this product's values (precedence: the product's
    field over the node's or edge's scalar; a product lead time is its vendor lead time, so it applies
    to edges from ``external`` only; a price matters only where there are sales)."""
    nodes = [dict(n) for n in base["nodes"]]
    edges = [dict(e) for e in base["edges"]]
    for n in nodes:
        for f in ("holding_cost", "initial_on_hand", "backlog_cost", "price"):
            if f in product and (f != "price" or n["role"] == "store"):
                n[f] = product[f]
    for e in edges:
        if "unit_cost" in product:
            e["unit_cost"] = product["unit_cost"]
        if "lead_time" in product and e["from"] == "external":
            e["lead_time"] = product["lead_time"]
    return {**base, "nodes": nodes, "edges": edges}


def ahead(pipeline: np.ndarray, t: int, width: int) -> np.ndarray:
    """The ring buffer ``(..., L)`` as arrivals in ``0 .. width - 1`` periods from ``t`` (zeros past L)."""
    lag = pipeline.shape[-1]
    out = np.zeros((*pipeline.shape[:-1], width))
    out[..., :lag] = np.roll(pipeline, -(t % lag), axis=-1)
    return out


@given(uncoupled())
@settings(max_examples=examples(25), deadline=None)
def test_uncoupled_products_equal_one_product_runs(
    case: tuple[dict[str, Any], list[dict[str, Any]], int],
) -> None:
    base, products, seed = case
    joint_net = compile_network(validate_scenario({**base, "products": products, "actions": {"type": "box"}}))
    assert not (joint_net.any_shared_storage or joint_net.any_budget)
    rng = np.random.default_rng(seed)
    b, t_end, n_p = 2, base["periods"], len(products)
    orders = rng.uniform(0, 12, (t_end, b, n_p, joint_net.n_edges)) * (rng.random((t_end, b, n_p, 2)) < 0.8)
    demand = rng.poisson(4, (b, t_end, n_p, 1)).astype(float)
    nets = [compile_network(validate_scenario(alone(base, p))) for p in products]
    joint = initial_state(joint_net, b)
    single = [initial_state(n, b) for n in nets]
    for t in range(t_end):
        joint, led = step(joint_net, joint, orders[t], demand[:, t])
        for p, net in enumerate(nets):
            single[p], one = step(net, single[p], orders[t, :, p], demand[:, t, p])
            s0, s1 = single[p], joint
            # every ledger field (costs, revenue, flows) of the product's slice
            np.testing.assert_allclose(led.nodes[:, :, p], one.nodes, rtol=0, atol=1e-12)
            np.testing.assert_allclose(led.edges[:, :, p], one.edges, rtol=0, atol=1e-12)
            np.testing.assert_allclose(led.external_in[:, p], one.external_in, rtol=0, atol=1e-12)
            # and the state: stock, backlogs, what arrives in k periods, last orders and demand
            np.testing.assert_allclose(s1.on_hand[:, p], s0.on_hand, rtol=0, atol=1e-12)
            np.testing.assert_allclose(s1.backlog[:, p], s0.backlog, rtol=0, atol=1e-12)
            width = joint_net.max_lead
            np.testing.assert_allclose(
                ahead(s1.pipeline[:, p], s1.t, width), ahead(s0.pipeline, s0.t, width), rtol=0, atol=1e-12
            )
            np.testing.assert_array_equal(s1.last_orders[:, p], s0.last_orders)
            np.testing.assert_array_equal(s1.last_demand[:, p], s0.last_demand)
