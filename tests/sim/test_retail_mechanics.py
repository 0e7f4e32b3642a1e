"""Cash, perishable products and liquidation in the simulator (docs/products.md): hand-checked traces
on a 1-store 2-product network, the cash rules, and conservation of units and money (hypothesis)."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import invmgmt_marl
from invmgmt_marl import ScenarioError
from invmgmt_marl.compile import compile_network
from invmgmt_marl.errors import InvalidActionError
from invmgmt_marl.scenario import validate_scenario
from invmgmt_marl.sim import Network, initial_state, step
from invmgmt_marl.validation import check_liquidate

STORE: dict[str, Any] = {
    "periods": 6,
    "nodes": [
        {
            "role": "store",
            "lost_sales": True,
            "price": 10.0,
            "initial_on_hand": 4.0,
            "cash": {"initial": 50.0, "rule": "reject"},
            "liquidation": {"salvage": 0.5},
            "demand": {"process": "constant", "value": 3},
        }
    ],
    "edges": [{"from": "external", "to": "store_0", "lead_time": 1, "unit_cost": 5.0}],
    "products": [{"name": "a", "shelf_life": 2, "waste_cost": 1.0}, {"name": "b", "unit_cost": 20.0}],
}


def build(data: dict[str, Any]) -> Network:
    return compile_network(validate_scenario(data))


def col(x: list[float]) -> np.ndarray:
    """One store, P products: (1, P, 1)."""
    return np.array(x, dtype=np.float64)[None, :, None]


def test_fifo_expiry_liquidation_and_cash_by_hand() -> None:
    net = build(STORE)
    s0 = initial_state(net, 1)
    np.testing.assert_array_equal(s0.age, [[[4.0, 0.0]]])  # product a only: initial stock is fresh
    assert s0.cash is not None and s0.cash[0, 0] == 50.0

    # period 0: lines in order a (6 x 5 = 30 <= 50: paid, 20 left), b (2 x 20 = 40 > 20: rejected whole)
    # sales 3 + 3 at price 10 = 60; b: 4 - 3 = 1 left, liquidated (0.5 x 20 = 10 salvage)
    # a: 4 fresh - 3 sold -> 1, ages to bucket 1; cash 50 - 30 + 60 + 10 = 90
    s1, l0 = step(net, s0, col([6, 2]), col([3, 3]), liquidate=col([0, 1]))
    np.testing.assert_array_equal(l0.ordered[0, :, 0], [6, 0])
    np.testing.assert_array_equal(l0.rejected[0, :, 0], [0, 2])
    np.testing.assert_array_equal(l0.rejected_lines[0, :, 0], [0, 1])
    np.testing.assert_array_equal(l0.paid[0, :, 0], [30, 0])
    np.testing.assert_array_equal(l0.revenue[0, :, 0], [30, 30])
    np.testing.assert_array_equal(l0.liquidated[0, :, 0], [0, 1])
    np.testing.assert_array_equal(l0.salvage[0, :, 0], [0, 10])
    np.testing.assert_array_equal(l0.on_hand[0, :, 0], [1, 0])
    np.testing.assert_array_equal(l0.cash[0, :, 0], [90, 0])  # booked in the first product's row
    np.testing.assert_array_equal(s1.age, [[[0.0, 1.0]]])
    np.testing.assert_array_equal(s1.cash, [[90.0]])

    # period 1: the 6 units of a arrive fresh: buckets [6, 1]; no demand; liquidate 2 of a: the oldest
    # unit first, then one fresh -> [5, 0]; nothing left to expire; salvage 2 x 0.5 x 5 = 5
    # (last-in-first-out would leave [4, 1] and expire 1 unit)
    s2, l1 = step(net, s1, col([0, 0]), col([0, 0]), liquidate=col([2, 0]))
    np.testing.assert_array_equal(l1.received[0, :, 0], [6, 0])
    np.testing.assert_array_equal(l1.liquidated[0, :, 0], [2, 0])
    np.testing.assert_array_equal(l1.salvage[0, :, 0], [5, 0])
    np.testing.assert_array_equal(l1.expired[0, :, 0], [0, 0])
    np.testing.assert_array_equal(s2.age, [[[0.0, 5.0]]])
    np.testing.assert_array_equal(s2.cash, [[95.0]])

    # period 2: demand 2 of a, sold oldest first -> 3 left in the last bucket, which expire (waste 3 x 1);
    # revenue 20, cash 115; liquidation capped at the stock (b has none)
    s3, l2 = step(net, s2, col([0, 0]), col([2, 0]), liquidate=col([0, 7]))
    np.testing.assert_array_equal(l2.sold[0, :, 0], [2, 0])
    np.testing.assert_array_equal(l2.expired[0, :, 0], [3, 0])
    np.testing.assert_array_equal(l2.waste_cost[0, :, 0], [3, 0])
    np.testing.assert_array_equal(l2.liquidated[0, :, 0], [0, 0])
    np.testing.assert_array_equal(l2.on_hand[0, :, 0], [0, 0])
    np.testing.assert_array_equal(s3.age, [[[0.0, 0.0]]])
    np.testing.assert_array_equal(s3.cash, [[115.0]])


def test_reject_pays_later_cheaper_lines_and_scale_cuts_every_line() -> None:
    net = build(STORE)
    # reject: a = 20 x 5 = 100 > 50 rejected whole; b = 2 x 20 = 40 <= 50 still paid (10 left)
    _, led = step(net, initial_state(net, 1), col([20, 2]), col([0, 0]))
    np.testing.assert_array_equal(led.ordered[0, :, 0], [0, 2])
    np.testing.assert_array_equal(led.rejected_lines[0, :, 0], [1, 0])
    np.testing.assert_array_equal(led.paid[0, :, 0], [0, 40])
    np.testing.assert_array_equal(led.cash[0, 0, 0], 10.0)
    # a line costing exactly the cash left is paid: 10 x 5 = 50
    _, led = step(net, initial_state(net, 1), col([10, 0]), col([0, 0]))
    np.testing.assert_array_equal(led.ordered[0, :, 0], [10, 0])
    # scale: 30 + 40 = 70 > 50, every line x 50 / 70
    data = copy.deepcopy(STORE)
    data["nodes"][0]["cash"]["rule"] = "scale"
    net = build(data)
    _, led = step(net, initial_state(net, 1), col([6, 2]), col([0, 0]))
    np.testing.assert_allclose(led.ordered[0, :, 0], [6 * 5 / 7, 2 * 5 / 7], rtol=1e-15)
    np.testing.assert_allclose(led.rejected[0, :, 0], [6 * 2 / 7, 2 * 2 / 7], rtol=1e-14)
    np.testing.assert_array_equal(led.rejected_lines[0, :, 0], [1, 1])
    np.testing.assert_allclose(led.paid[0, :, 0].sum(), 50.0, rtol=1e-15)
    assert led.cash[0, 0, 0] == pytest.approx(0.0, abs=1e-12)


def test_budget_applies_before_cash() -> None:
    data = copy.deepcopy(STORE)
    data["nodes"][0]["order_budget"] = 35.0
    net = build(data)
    # budget: 30 + 40 = 70 > 35 -> every order x 1/2: a 3 (15), b 1 (20); then cash 50 pays both lines
    _, led = step(net, initial_state(net, 1), col([6, 2]), col([0, 0]))
    np.testing.assert_allclose(led.ordered[0, :, 0], [3, 1])
    np.testing.assert_allclose(led.rejected[0, :, 0], [3, 1])
    np.testing.assert_array_equal(led.rejected_lines[0, :, 0], [0, 0])  # cash rejected nothing
    np.testing.assert_allclose(led.cash[0, 0, 0], 50 - 35)


def test_salvage_value_per_product_and_liquidation_bound() -> None:
    data = copy.deepcopy(STORE)
    data["products"][1]["salvage_value"] = 3.0
    data["nodes"][0]["liquidation"]["max_units"] = 9
    net = build(data)
    np.testing.assert_array_equal(net.salvage[:, 0], [0.5 * 5, 3.0])  # fraction of unit cost, or the value
    np.testing.assert_array_equal(net.liquidation_max[:, 0], [9, 9])
    assert build(STORE).liquidation_max[0, 0] == 20  # default: max_order (actions.max_order = 20)


def test_shelf_life_override_per_node_and_product() -> None:
    data = copy.deepcopy(STORE)
    data["nodes"].append({"role": "supplier", "initial_on_hand": 5, "shelf_life": 4})
    data["edges"] = [
        {"from": "external", "to": "supplier_0", "lead_time": 1, "unit_cost": 5.0},
        {"from": "supplier_0", "to": "store_0", "lead_time": 1, "unit_cost": 5.0},
    ]
    data["product_overrides"] = [{"product": "b", "node": "store_0", "shelf_life": 3}]
    net = build(data)
    # flat pairs p * N + i: a@store (2, product), a@supplier (2, product), b@store (3, override),
    # b@supplier (4, the node's scalar)
    np.testing.assert_array_equal(net.perish_pairs, [0, 1, 2, 3])
    np.testing.assert_array_equal(net.pair_shelf_life, [2, 2, 3, 4])
    assert net.age_buckets == 4 and not net.any_perishable


def test_features_need_products_and_liquidate_is_checked() -> None:
    data = copy.deepcopy(STORE)
    data.pop("products")
    for key in ("cash", "liquidation"):
        d = copy.deepcopy(data)
        d["nodes"][0].pop("liquidation" if key == "cash" else "cash")
        with pytest.raises(ScenarioError, match=rf"nodes\[0\] \(store_0\)\.{key}: requires products"):
            validate_scenario(d)
    net = build(STORE)
    with pytest.raises(InvalidActionError, match=r"liquidate\[0, 1, 0\]: must be finite, got nan"):
        check_liquidate(net, col([0, np.nan]))
    with pytest.raises(InvalidActionError, match=r"liquidate: expected shape \(B, 2, 1\)"):
        check_liquidate(net, np.zeros((1, 2)))
    d = copy.deepcopy(STORE)
    d["nodes"][0].pop("liquidation")
    with pytest.raises(InvalidActionError, match="declares no liquidation"):
        check_liquidate(build(d), col([1, 0]))


def test_product_network_without_the_features_has_zero_new_fields() -> None:
    net = compile_network(invmgmt_marl.load_scenario("sku50_1w"))
    assert not (net.any_cash or net.any_liquidation or net.any_perishable_products)
    rng = np.random.default_rng(0)
    s = initial_state(net, 2)
    assert s.cash is None and s.age is None
    orders = rng.uniform(0, 5, (2, net.n_products, net.n_edges))
    _, led = step(net, s, orders, rng.uniform(0, 5, (2, net.n_products, net.n_stores)))
    for f in ("cash", "paid", "rejected_lines", "liquidated", "salvage", "expired"):
        assert not getattr(led, f).any(), f


# ---- conservation of units and money under random settings (hypothesis) -------------------------
@st.composite
def chains(draw: st.DrawFn) -> dict[str, Any]:
    n_p = draw(st.integers(1, 3))
    products = []
    for k in range(n_p):
        pr: dict[str, Any] = {"name": f"p{k}", "unit_cost": draw(st.sampled_from([0.0, 1.0, 2.5, 4.0]))}
        life = draw(st.sampled_from([None, 1, 2, 4]))
        if life is not None:
            pr["shelf_life"] = life
        products.append(pr)
    cash = [draw(st.sampled_from([None, "reject", "reject", "scale"])) for _ in range(2)]
    liq = [draw(st.booleans()) for _ in range(2)]
    nodes: list[dict[str, Any]] = [
        {
            "role": "store",
            "price": 3.0,
            "lost_sales": draw(st.booleans()),
            "initial_on_hand": 3.0,
            "demand": {"process": "constant", "value": 2},
        },
        {
            "role": "supplier",
            "initial_on_hand": 4.0,
            "allocation": draw(st.sampled_from(["priority", "proportional"])),
        },
    ]
    for nd, rule, lq in zip(nodes, cash, liq, strict=True):
        if rule is not None:
            nd["cash"] = {"initial": draw(st.sampled_from([0.0, 5.0, 15.0, 40.0])), "rule": rule}
        if lq:
            nd["liquidation"] = {"salvage": draw(st.sampled_from([0.0, 0.5]))}
    if draw(st.booleans()):
        nodes[0]["order_budget"] = 6.0
    if draw(st.booleans()):
        nodes[0]["storage_capacity"] = 30.0
    return {
        "periods": 8,
        "nodes": nodes,
        "edges": [
            {"from": "external", "to": "supplier_0", "lead_time": draw(st.integers(1, 3)), "unit_cost": 1.0},
            {"from": "supplier_0", "to": "store_0", "lead_time": draw(st.integers(1, 2)), "unit_cost": 2.0},
        ],
        "products": products,
    }


def reference_cash(net: Network, cash: np.ndarray, orders: np.ndarray) -> np.ndarray:
    """The cash rules written out plainly, one episode and node at a time (an independent check of
    the simulator's vectorised and fast paths): the orders kept, (B, P, E)."""
    kept = orders.copy()
    for b in range(orders.shape[0]):
        for i in np.flatnonzero(net.cash_on):
            lines = [(q, int(e)) for q in range(net.n_products) for e in net.agent_edges[i]]
            cost = {(q, e): orders[b, q, e] * net.unit_cost[q, e] for q, e in lines}
            if not net.cash_reject[i]:
                total = sum(cost.values())
                if total > cash[b, i]:
                    for q, e in lines:
                        kept[b, q, e] *= cash[b, i] / total
                continue
            left = cash[b, i]
            for q, e in lines:  # product-major, then edge order; a line beyond the cash left fails whole
                if cost[q, e] <= left + 1e-9:
                    left -= cost[q, e]
                else:
                    kept[b, q, e] = 0.0
    return kept


@settings(max_examples=40, deadline=None)
@given(chains(), st.integers(0, 2**31 - 1))
def test_conservation_of_units_and_money(data: dict[str, Any], seed: int) -> None:
    net = build(data)
    rng = np.random.default_rng(seed)
    b, p, n, e = 3, net.n_products, net.n_nodes, net.n_edges
    state = initial_state(net, b)
    for _ in range(8):
        orders = rng.uniform(0, 8, (b, p, e)) * (rng.random((b, p, e)) < 0.8)
        demand = rng.uniform(0, 5, (b, p, net.n_stores))
        liq = rng.uniform(0, 4, (b, p, n)) * net.liquidation_on * (rng.random((b, p, n)) < 0.5)
        nxt, led = step(net, state, orders, demand, liquidate=check_liquidate(net, liq))
        tol = {"rtol": 0, "atol": 1e-9}
        # orders: kept + rejected = given; cash pays at most what the node had
        np.testing.assert_allclose(
            led.edge_ordered @ net.edge_to_dst + led.rejected, orders @ net.edge_to_dst, **tol
        )
        # per node and product: on_hand' = on_hand + received - shipped - expired - liquidated
        np.testing.assert_allclose(
            led.on_hand, state.on_hand + led.received - led.shipped - led.expired - led.liquidated, **tol
        )
        np.testing.assert_allclose(led.on_hand, nxt.on_hand, **tol)
        assert (led.liquidated <= liq + 1e-12).all() and (led.liquidated >= 0).all()
        # system-wide per product: stock + pipelines change by
        # external_in - sold - refused - expired - liquidated
        held0 = state.on_hand.sum(-1) + state.pipeline.sum((-1, -2))
        held1 = nxt.on_hand.sum(-1) + nxt.pipeline.sum((-1, -2))
        out = (led.sold + led.refused + led.expired + led.liquidated).sum(-1)
        np.testing.assert_allclose(held1 - held0, led.external_in - out, rtol=0, atol=1e-8)
        # perishable pairs: the age buckets hold the stock, nothing older than the shelf life
        if net.any_perishable_products:
            np.testing.assert_allclose(
                nxt.age.sum(-1), nxt.on_hand.reshape(b, -1)[:, net.perish_pairs], **tol
            )
            assert (nxt.age >= 0).all()
            too_old = np.arange(net.age_buckets)[None, :] >= net.pair_shelf_life[:, None]
            assert not nxt.age[:, too_old].any()
        # money: cash' = cash - paid + revenue + salvage at cash nodes; paid <= cash; never negative
        if net.any_cash:
            paid = led.paid.sum(1)
            assert (paid <= state.cash * (1 + 1e-12) + 1e-12).all()
            want = state.cash - paid + led.revenue.sum(1) + led.salvage.sum(1)
            np.testing.assert_allclose(nxt.cash, np.where(net.cash_on, np.maximum(want, 0), 0), **tol)
            np.testing.assert_allclose(led.cash.sum(1), nxt.cash, **tol)
            assert (nxt.cash >= 0).all()
            if not net.any_budget:  # (with a budget the cash sees the budget's cut orders)
                np.testing.assert_allclose(led.edge_ordered, reference_cash(net, state.cash, orders), **tol)
            # paid = unit cost x orders kept at cash nodes
            np.testing.assert_allclose(
                paid, (led.edge_ordered * net.unit_cost).sum(1) @ net.edge_to_dst * net.cash_on, **tol
            )
        else:
            assert nxt.cash is None
        state = nxt
