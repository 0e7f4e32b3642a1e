"""KPIs of networks with products: per (node, product) and per product, aggregated over products.

Golden values: (1) uncoupled products equal separate one-product runs (the one-product KPIs are the
independent method), (2) a two-product store computed by hand, (3) the aggregates against numpy on
the per-product arrays."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import numpy as np
import pytest
from rich.console import Console

from invmgmt_marl.compile import compile_network
from invmgmt_marl.errors import InvalidActionError
from invmgmt_marl.evaluate import evaluate
from invmgmt_marl.kpis import compute_kpis, product_summary
from invmgmt_marl.policies import ConstantPolicy
from invmgmt_marl.reporting import products_csv, write_evaluation
from invmgmt_marl.rollout import rollout
from invmgmt_marl.scenario import validate_scenario
from invmgmt_marl.sim import Network, SimState
from tests.sim.test_products import CHAIN, PRODUCTS, _as_scalars, with_products


class Replay:
    """Orders given in advance: ``orders[t]`` ``(B, [P,] E)``."""

    def __init__(self, orders: np.ndarray) -> None:
        self.orders = orders

    def __call__(self, net: Network, state: SimState, rng: np.random.Generator) -> np.ndarray:
        return self.orders[int(state.t)]


def test_uncoupled_products_have_the_kpis_of_separate_runs() -> None:
    """Each product's KPIs equal those of the product-free scenario carrying its values (tests/sim/
    test_products.py shows the ledgers are equal; here the KPI formulas on the product axis)."""
    net = compile_network(validate_scenario(with_products(CHAIN, PRODUCTS)))
    rng = np.random.default_rng(1)
    b, t = 3, CHAIN["periods"]
    orders = rng.uniform(0, 12, (t, b, 2, net.n_edges))
    demand = rng.poisson(4, (b, t, 2, 1)).astype(float)
    joint = compute_kpis(rollout(net, Replay(orders), demand=demand), net)
    costs, sold_on_time, total_demand = [], [], []
    for p, prod in enumerate(PRODUCTS):
        alone_net = compile_network(validate_scenario(_as_scalars(prod)))
        alone = compute_kpis(rollout(alone_net, Replay(orders[:, :, p]), demand=demand[:, :, p]), alone_net)
        close = {"rtol": 1e-12, "atol": 1e-9}
        np.testing.assert_allclose(joint["product_fill_rate"][:, p], alone["fill_rate"][:, 0], **close)
        np.testing.assert_allclose(
            joint["product_cycle_service_level"][:, p], alone["cycle_service_level"][:, 0], **close
        )
        np.testing.assert_allclose(joint["product_cost"][:, p], alone["cost"].sum(axis=1), **close)
        np.testing.assert_allclose(joint["node_product_cost"][:, p], alone["cost"], **close)
        np.testing.assert_allclose(joint["node_product_fill_rate"][:, p], alone["node_fill_rate"], **close)
        np.testing.assert_allclose(joint["product_revenue"][:, p], alone["revenue"].sum(axis=1), **close)
        np.testing.assert_allclose(joint["product_demand"][:, p], demand[:, :, p].sum(axis=(1, 2)))
        costs.append(alone["cost"])
        sold_on_time.append(alone["fill_rate"][:, 0] * demand[:, :, p].sum(axis=(1, 2)))
        total_demand.append(demand[:, :, p].sum(axis=(1, 2)))
    # node-level KPIs of the product network: costs add up; fill rates are demand-weighted
    np.testing.assert_allclose(joint["cost"], sum(costs), rtol=1e-12)
    weighted = sum(sold_on_time) / sum(total_demand)
    np.testing.assert_allclose(joint["system_fill_rate"], weighted, rtol=1e-12)
    np.testing.assert_allclose(joint["fill_rate"][:, 0], weighted, rtol=1e-12)


def two_products_by_hand() -> Network:
    """One lost-sales store, no orders (ConstantPolicy(0)), 2 periods. Product a: 2 on hand, demand
    3 a period; product b: 5 on hand, demand 1. Holding 0.5 per unit left, lost sales 2 per unit."""
    return compile_network(
        validate_scenario(
            {
                "periods": 2,
                "nodes": [{"role": "store", "lost_sales": True, "holding_cost": 0.5, "lost_sales_cost": 2.0}],
                "edges": [{"from": "external", "to": "store_0", "lead_time": 1}],
                "actions": {"type": "box"},
                "products": [
                    {"name": "a", "initial_on_hand": 2, "demand": {"process": "constant", "value": 3}},
                    {"name": "b", "initial_on_hand": 5, "demand": {"process": "constant", "value": 1}},
                ],
            }
        )
    )


def test_two_products_by_hand() -> None:
    """a: sells 2 of 3, then 0 of 3: fill rate 2/6, a stockout in both periods (CSL 0), 1 + 3 = 4
    units lost (cost 8), nothing held. b: sells 1 and 1: fill rate 1, CSL 1, holds 4 then 3 (cost
    0.5 x 7 = 3.5). Demand-weighted fill rate (2 + 2) / (6 + 2) = 0.5; unweighted (1/3 + 1) / 2;
    CSL over product-periods 2/4; costliest a with 8 / 11.5 of the cost."""
    net = two_products_by_hand()
    ev = evaluate(ConstantPolicy(0.0), net, episodes=1, bound=False, floor=False, ladder=False)
    np.testing.assert_allclose(ev.kpis["product_fill_rate"][0], [2 / 6, 1.0])
    np.testing.assert_allclose(ev.kpis["product_cycle_service_level"][0], [0.0, 1.0])
    np.testing.assert_allclose(ev.kpis["product_cost"][0], [8.0, 3.5])
    np.testing.assert_allclose(ev.kpis["node_product_on_hand"][0, :, 0], [0.0, 3.5])
    assert ev.system_fill_rate[0] == pytest.approx(0.5)
    assert ev.cycle_service_level[0, 0] == pytest.approx(0.5)
    assert ev.cost[0, 0] == pytest.approx(11.5)
    p = ev.summary(top=1)["products"]
    assert p["count"] == 2 and p["demand"] == pytest.approx(8.0)
    assert p["fill_rate"]["demand_weighted"] == pytest.approx(0.5)
    assert p["fill_rate"]["mean"] == pytest.approx((1 / 3 + 1) / 2)
    assert p["cost"]["per_product_period"] == pytest.approx(11.5 / 4)
    assert p["cost"]["top_share"]["10%"] == pytest.approx(8 / 11.5)  # ceil(0.1 x 2) = 1 product
    assert p["worst_fill_rate"] == [{"product": "a", "fill_rate": pytest.approx(1 / 3), "demand": 6.0}]
    assert [c["product"] for c in p["costliest"]] == ["a"]


@pytest.fixture(scope="module")
def sku50() -> Any:
    return evaluate(ConstantPolicy(1.0), "sku50_1w", episodes=2, seed=0, periods=30, ladder=False)


def test_product_summary_against_numpy(sku50: Any) -> None:
    ev = sku50
    fr = ev.kpis["product_fill_rate"].mean(axis=0)
    cost = ev.kpis["product_cost"].mean(axis=0)
    s = ev.summary(top=5)["products"]
    assert s["count"] == 50
    assert s["fill_rate"]["median"] == pytest.approx(np.median(fr))
    assert s["fill_rate"]["p10"] == pytest.approx(np.quantile(fr, 0.1))
    assert s["fill_rate"]["demand_weighted"] == pytest.approx(ev.system_fill_rate.mean())
    assert s["cost"]["total"] == pytest.approx(ev.cost.sum(axis=1).mean())
    assert s["cost"]["top_share"]["20%"] == pytest.approx(np.sort(cost)[::-1][:10].sum() / cost.sum())
    worst = [w["product"] for w in s["worst_fill_rate"]]
    demand = ev.kpis["product_demand"].mean(axis=0)
    order = [i for i in np.argsort(fr, kind="stable") if demand[i] > 0][:5]
    assert worst == [ev.products[i] for i in order]
    assert [c["product"] for c in s["costliest"]] == [
        ev.products[i] for i in np.argsort(-cost, kind="stable")[:5]
    ]
    # the product-free KPI arrays with products are the node totals
    assert ev.cost.shape == (2, 1) and ev.fill_rate.shape == (2, 1)
    with pytest.raises(KeyError, match="no product KPIs"):
        product_summary({}, ("a",), 10)


def test_outputs_do_not_list_every_product_by_default(sku50: Any, tmp_path: Any) -> None:
    ev = sku50
    header = ev.to_csv().splitlines()[0]
    assert "sku" not in header
    data = json.loads(ev.to_json())
    assert "products" not in data and len(data["summary"]["products"]["worst_fill_rate"]) == 10
    assert len(json.loads(ev.to_json(products=True))["products"]) == 50
    rows = list(csv.DictReader(io.StringIO(products_csv(ev))))
    assert len(rows) == 50 and rows[0]["product"] == "sku0"
    assert float(rows[3]["cost"]) == pytest.approx(ev.kpis["product_cost"][:, 3].mean())
    assert float(rows[3]["fill_rate[store_0]"]) == pytest.approx(
        ev.kpis["node_product_fill_rate"][:, 3, 0].mean()
    )
    paths = write_evaluation(ev, tmp_path)
    assert [p.name for p in paths] == ["evaluation.json", "episodes.csv", "products.csv"]
    buf = io.StringIO()
    Console(file=buf, width=120).print(ev.summary_table())
    text = buf.getvalue()
    named = {f"sku{i}" for i in range(50) if f"sku{i} " in text}
    assert 1 <= len(named) <= 6  # the 3 lowest fill rates and the 3 costliest, nothing more
    assert "cost / product-period" in text


def test_bad_product_inputs_name_the_shape() -> None:
    net = two_products_by_hand()
    with pytest.raises(ValueError, match=r"\(B, T, P, S\).*got \(1, 2, 1\)"):
        rollout(net, ConstantPolicy(0.0), demand=np.zeros((1, 2, 1)))
    with pytest.raises(ValueError, match="must be finite"):
        rollout(net, ConstantPolicy(0.0), demand=np.full((1, 2, 2, 1), np.nan))

    def nan_orders(n: Network, state: SimState, rng: np.random.Generator) -> np.ndarray:
        o = np.zeros((1, 2, 1))
        o[0, 1, 0] = np.nan
        return o

    with pytest.raises(InvalidActionError, match=r"orders\[0, 1, 0\]: must be finite"):
        rollout(net, nan_orders, episodes=1)
    with pytest.raises(ValueError, match="some/folder: demand set not found"):
        evaluate(ConstantPolicy(0.0), net, demand="some/folder", bound=False, ladder=False)


def test_a_large_trajectory_is_announced(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """2 periods x 1 episode x 2 products x (28 node fields x 1 node + 9 edge fields x 1 edge) x 8 bytes
    = 1,184 bytes: above a 1,000-byte limit, below a 2,000-byte one."""
    import invmgmt_marl.rollout as R

    net = two_products_by_hand()
    monkeypatch.setattr(R, "LARGE_TRAJECTORY_BYTES", 1000)
    with caplog.at_level("WARNING", logger="invmgmt_marl.rollout"):
        rollout(net, ConstantPolicy(0.0), episodes=1)
    assert "takes 0.0 GiB" in caplog.text
    caplog.clear()
    monkeypatch.setattr(R, "LARGE_TRAJECTORY_BYTES", 2000)
    with caplog.at_level("WARNING", logger="invmgmt_marl.rollout"):
        rollout(net, ConstantPolicy(0.0), episodes=1)
    assert "GiB" not in caplog.text
