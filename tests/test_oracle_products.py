"""The perfect-information LP bound on product networks: a hand-solved instance with shared storage and
with a budget, decomposition when nothing couples products, the size limit, and the bound never above
the simulated cost (never below the simulated profit) of any policy on random coupled instances."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from invmgmt_marl.compile import compile_network
from invmgmt_marl.oracle import (
    OracleError,
    perfect_information_bound,
    product_bound,
    product_bound_many,
    product_lp_size,
)
from invmgmt_marl.policies import (
    BaseStockPolicy,
    CapacityBaseStockPolicy,
    ConstantPolicy,
    RandomPolicy,
    simulate_products,
)
from invmgmt_marl.scenario import validate_scenario


def hold_for_later(**node: Any) -> dict[str, Any]:
    """Three periods, one lost-sales store buying from the vendor (lead time 1, the vendor ships at
    most 4 units a period per product); products a (volume 1) and b (volume 2), unit cost 1, holding
    0.1, lost-sales cost 10; demand 8 of each in period 2 only."""
    return {
        "periods": 3,
        "nodes": [
            {
                "role": "store",
                "lost_sales": True,
                "holding_cost": 0.1,
                "lost_sales_cost": 10.0,
                "demand": {"process": "constant", "value": 0},
                **node,
            }
        ],
        "edges": [{"from": "external", "to": "store_0", "lead_time": 1, "unit_cost": 1.0, "capacity": 4}],
        "products": [{"name": "a", "volume": 1.0}, {"name": "b", "volume": 2.0}],
        "actions": {"type": "box"},
    }


DEMAND = np.array([[[0.0], [0.0]], [[0.0], [0.0]], [[8.0], [8.0]]])  # (T, P, S)


def test_hand_solved_instances() -> None:
    """Period 2 needs 8 of each but at most 4 arrive then (shipped in period 1): 4 of each must be
    shipped in period 0 and held at the end of period 1. Each unit held saves 10 - 1 - 0.1 = 8.9.
    (The LP, like the simulator, lets an order wait as backlog at the vendor and be shipped later.)

    - No capacity: hold 4 + 4, sell everything: ordering 16 + holding 0.8 = 16.8 (per product 8.4).
    - Capacity 8 volume units: hold a 4 (volume 4) and b 2 (volume 4), the best use per volume; b loses
      2: ordering 14 + holding 0.6 + lost 20 = 34.6.
    - Budget 5 a period (and no capacity): at most 10 units ordered in periods 0 and 1; of the 10,
      at most 4 + 4 ship in period 1, so at least 2 ship in period 0 and are held: ordering 10 +
      holding 0.2 + lost 6 x 10 = 70.2.
    """
    res = product_bound(compile_network(validate_scenario(hold_for_later())), DEMAND)
    assert res.method == "per_product"
    assert res.objective == pytest.approx(16.8, abs=1e-7)
    np.testing.assert_allclose(res.product_objective, [8.4, 8.4], atol=1e-7)
    res = product_bound(compile_network(validate_scenario(hold_for_later(storage_capacity=8.0))), DEMAND)
    assert res.method == "joint"
    assert res.objective == pytest.approx(34.6, abs=1e-7)
    np.testing.assert_allclose(res.on_hand[1, :, 0], [4.0, 2.0], atol=1e-7)
    np.testing.assert_allclose(res.product_objective, [8.4, 6 + 0.2 + 20], atol=1e-7)
    res = product_bound(compile_network(validate_scenario(hold_for_later(order_budget=5.0))), DEMAND)
    assert res.objective == pytest.approx(70.2, abs=1e-7)
    assert np.all(res.orders.sum(axis=(1, 2)) <= 5.0 + 1e-7)
    # "drop" ignores the coupling: the uncoupled value, a weaker bound
    net = compile_network(validate_scenario(hold_for_later(storage_capacity=8.0)))
    res = product_bound(net, DEMAND, coupling="drop")
    assert res.method == "relaxed_coupling" and res.objective == pytest.approx(16.8, abs=1e-7)


def test_uncoupled_products_decompose_into_one_product_bounds() -> None:
    """Without shared constraints the bound is the sum of each product's own LP, which equals the
    exact joint LP (coupling="exact" builds the joint LP with no coupling rows)."""
    data = hold_for_later()
    data["products"][1]["lead_time"] = 2
    net = compile_network(validate_scenario(data))
    d = np.random.default_rng(0).poisson(3, (3, 2, 1)).astype(float)
    split = product_bound(net, d)
    joint = product_bound(net, d, coupling="exact")
    assert split.method == "per_product" and joint.method == "joint"
    assert split.objective == pytest.approx(joint.objective, rel=1e-9, abs=1e-7)
    np.testing.assert_allclose(split.product_objective, joint.product_objective, atol=1e-7)


def test_size_limit_and_bad_input() -> None:
    net = compile_network(validate_scenario(hold_for_later(storage_capacity=8.0)))
    with pytest.raises(OracleError, match=r"max_variables=10.*coupling='drop'"):
        product_bound(net, DEMAND, max_variables=10)
    with pytest.raises(ValueError, match="demand: expected shape"):
        product_bound(net, DEMAND[:, :, 0])
    with pytest.raises(ValueError, match="coupling"):
        product_bound(net, DEMAND, coupling="nope")  # type: ignore[arg-type]
    with pytest.raises(OracleError, match="product_bound"):
        perfect_information_bound(net, DEMAND)


def random_instance(rng: np.random.Generator) -> dict[str, Any]:
    """A 1- or 2-node chain with 3 products, random costs, lead times, capacity (refuse or keep,
    with an overflow cost) and budget."""
    n_nodes = int(rng.integers(1, 3))
    lost = bool(rng.integers(2))
    store: dict[str, Any] = {
        "role": "store",
        "lost_sales": lost,
        "holding_cost": float(rng.uniform(0.05, 0.5)),
        **(
            {"lost_sales_cost": float(rng.uniform(1, 6))}
            if lost
            else {"backlog_cost": float(rng.uniform(1, 4))}
        ),
        "price": float(rng.uniform(2, 5)),
        "storage_capacity": float(rng.uniform(8, 30)),
        "overflow": ["refuse", "keep"][int(rng.integers(2))],
        "overflow_cost": float(rng.uniform(0, 1)),
        "demand": {"process": "poisson", "mean": float(rng.uniform(1, 5))},
    }
    if rng.integers(2):
        store["order_budget"] = float(rng.uniform(5, 20))
    nodes = [store]
    edges = [{"from": "external", "to": "store_0", "lead_time": int(rng.integers(1, 3)), "unit_cost": 1.0}]
    if n_nodes == 2:
        nodes.append(
            {"role": "supplier", "holding_cost": 0.05, "storage_capacity": float(rng.uniform(10, 40))}
        )
        edges = [
            {"from": "supplier_0", "to": "store_0", "lead_time": 1, "unit_cost": 0.5},
            {"from": "external", "to": "supplier_0", "lead_time": int(rng.integers(1, 3)), "unit_cost": 1.0},
        ]
    products = [
        {
            "name": f"p{k}",
            "volume": float(rng.uniform(0.5, 2)),
            "unit_cost": float(rng.uniform(0.5, 2)),
            "initial_on_hand": float(rng.integers(0, 4)),
        }
        for k in range(3)
    ]
    return {
        "periods": 8,
        "nodes": nodes,
        "edges": edges,
        "products": products,
        "actions": {"type": "box"},
        "reward": {"scheme": "profit"},
    }


@pytest.mark.parametrize("seed", range(6))
def test_bound_below_every_simulated_policy(seed: int) -> None:
    """Independent check: the simulator's cost of base-stock, capacity-aware base-stock, constant and
    random orders on the same demand path is never below the cost bound, and its profit never above
    the profit bound (the LP only relaxes the simulator's rules)."""
    rng = np.random.default_rng(seed)
    net = compile_network(validate_scenario(random_instance(rng)))
    demand = rng.poisson(3, (2, net.periods, 3, 1)).astype(float)
    levels = rng.uniform(2, 15, (3, net.n_nodes))
    policies = [
        BaseStockPolicy(levels),
        CapacityBaseStockPolicy(levels),
        ConstantPolicy(3.0),
        RandomPolicy(integer=False),
    ]
    cost_bounds = product_bound_many(net, demand, "cost")
    profit_bounds = product_bound_many(net, demand, "profit")
    assert all(b.method == "joint" for b in cost_bounds)
    for pol in policies:
        run = simulate_products(net, pol, demand, seed=seed)
        for k in range(2):
            cost = run.cost[k].sum()
            profit = run.revenue[k].sum() - cost
            assert cost_bounds[k].objective <= cost + 1e-6, (pol, k)
            assert profit_bounds[k].objective >= profit - 1e-6, (pol, k)


def test_lp_size_matches_the_built_lp() -> None:
    """`product_lp_size` (used to refuse large instances before building anything) counts exactly the
    variables the joint LP has."""
    for node in ({"storage_capacity": 8.0}, {"storage_capacity": 8.0, "overflow": "keep"}):
        net = compile_network(validate_scenario(hold_for_later(**node)))
        res = product_bound(net, DEMAND)
        assert res.n_variables == product_lp_size(net) == 3 * 2 * (2 * 1 + 2 * 2 + 1 + 3 * 1)
