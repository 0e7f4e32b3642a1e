"""The ParallelEnv on scenarios with products: both agent groupings pass PettingZoo's API tests, give
identical ledgers for the same orders, and decode, observe and reward as documented."""

from __future__ import annotations

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test

import invmgmt_marl
from invmgmt_marl.errors import InvalidActionError
from invmgmt_marl.product_interface import make_interface
from invmgmt_marl.scenario import list_product_scenarios, list_scenarios
from invmgmt_marl.sim.ledger import node_totals

SMALL = {
    "name": "two_sku_chain",
    "periods": 8,
    "nodes": [
        {
            "role": "store",
            "lost_sales": True,
            "storage_capacity": 40,
            "demand": {"process": "poisson", "mean": 3},
        },
        {"role": "supplier", "holding_cost": 0.1, "order_budget": 30, "initial_on_hand": 5},
    ],
    "edges": [
        {"from": "supplier_0", "to": "store_0", "lead_time": 1},
        {"from": "external", "to": "supplier_0", "lead_time": 2},
    ],
    "products": [
        {"name": "a", "unit_cost": 2, "price": 5, "volume": 1.5, "max_order": 6},
        {"name": "b", "unit_cost": 1, "price": 2, "lead_time": 1, "max_order": 9},
    ],
    "reward": {"scheme": "profit"},
}


def test_product_scenarios_are_listed_but_the_largest() -> None:
    from invmgmt_marl.scenario.loader import UNLISTED_PRODUCT_SCENARIOS

    products = set(list_product_scenarios())
    assert {"sku50_1w", "sku200_1w", "sku1000_1w", "sku2000_3w"} <= products
    assert products & set(list_scenarios()) == products - set(UNLISTED_PRODUCT_SCENARIOS)
    assert {"sku50_1w", "sku200_1w"} <= set(list_scenarios())
    # reasons: docs/products.md (the SKU scenarios); the retail store is listed (docs/retail.md)
    assert set(UNLISTED_PRODUCT_SCENARIOS) == {"sku1000_1w", "sku2000_3w"}
    assert {"retail_easy", "retail_medium", "retail_hard", "retail_chain"} <= set(list_scenarios())


@pytest.mark.parametrize("agents", ["node", "node_product"])
@pytest.mark.parametrize("scenario", ["sku50_1w", "small"])
def test_parallel_api(make_env, scenario: str, agents: str) -> None:  # type: ignore[no-untyped-def]
    env = make_env(SMALL if scenario == "small" else scenario, agents=agents)
    parallel_api_test(env, num_cycles=12)


def test_names_and_spaces(make_env) -> None:  # type: ignore[no-untyped-def]
    sku = make_env(SMALL, agents="node_product")
    assert sku.possible_agents == ["store_0__a", "store_0__b", "supplier_0__a", "supplier_0__b"]
    assert sku.action_space("store_0__b").high.tolist() == [9.0]
    node = make_env(SMALL)
    assert node.possible_agents == ["store_0", "supplier_0"]
    assert node.action_space("supplier_0").high.tolist() == [6.0, 9.0]  # (a, external), (b, external)
    shared = make_env(SMALL, agents="node_product", shared_spaces=True)
    assert len({id(shared.action_space(a)) for a in shared.possible_agents}) == 1
    assert len({id(shared.observation_space(a)) for a in shared.possible_agents}) == 1
    with pytest.raises(ValueError, match="agents: 'node_product' needs a scenario with products"):
        make_env("serial", agents="node_product")
    with pytest.raises(ValueError, match="agents: expected one of"):
        make_env(SMALL, agents="sku")


def test_both_groupings_give_identical_ledgers(make_env) -> None:  # type: ignore[no-untyped-def]
    node, sku = make_env(SMALL), make_env(SMALL, agents="node_product")
    node.reset(seed=5)
    sku.reset(seed=5)
    rng = np.random.default_rng(0)
    while node.agents:
        q = rng.uniform(0, 1, (2, 2)) * np.array(
            [6.0, 9.0]
        )  # (node, product): each node has one inbound edge
        _, rn, *_, infos_n = node.step(
            {"store_0": q[0].astype(np.float32), "supplier_0": q[1].astype(np.float32)}
        )
        acts = {
            f"{n}__{p}": q[i, k : k + 1].astype(np.float32)
            for i, n in enumerate(["store_0", "supplier_0"])
            for k, p in enumerate("ab")
        }
        _, rs, *_ = sku.step(acts)
        np.testing.assert_array_equal(node.last_ledger.nodes, sku.last_ledger.nodes)  # type: ignore[union-attr]
        tot = node_totals(sku.last_ledger)  # type: ignore[arg-type]
        # node agents' reward = profit of the node total = the sum of its SKU agents' rewards (alpha 1)
        for i, n in enumerate(["store_0", "supplier_0"]):
            assert rn[n] == pytest.approx(rs[f"{n}__a"] + rs[f"{n}__b"], rel=1e-12, abs=1e-9)
            assert rn[n] == pytest.approx(tot.revenue[0, i] - tot.total_cost[0, i], rel=1e-12, abs=1e-9)
            assert infos_n[n]["rejected"] == pytest.approx(tot.rejected[0, i])


def test_observation_layout(make_env) -> None:  # type: ignore[no-untyped-def]
    env = make_env(SMALL, agents="node_product", obs_scale=1.0)
    obs, _ = env.reset(seed=0)
    lmax = env.net.max_lead  # 2: product a's vendor lead time
    f = 4 + lmax
    assert env.observation_space("supplier_0__a").shape == (f + 3,)
    # supplier_0 starts with 5 units of each product; the storage context is 0 (no capacity there)
    assert obs["supplier_0__a"][0] == 5.0 and obs["supplier_0__b"][0] == 5.0
    assert obs["supplier_0__a"][f] == 0.0
    acts = {a: np.array([0.0], dtype=np.float32) for a in env.agents}
    acts["supplier_0__a"] = np.array([6.0], dtype=np.float32)  # cost 12 of the budget 30
    acts["supplier_0__b"] = np.array([9.0], dtype=np.float32)  # cost 9: 21 in all, within budget
    obs, *_ = env.step(acts)
    assert obs["supplier_0__a"][f + 1] == pytest.approx(21 / 30)  # budget share used by the last orders
    # store_0 holds nothing yet: its storage share is (1.5 x 0 + 1 x 0) / 40
    assert obs["store_0__a"][f] == 0.0


def test_invalid_actions(make_env) -> None:  # type: ignore[no-untyped-def]
    env = make_env(SMALL, agents="node_product")
    env.reset(seed=0)
    acts = {a: np.array([1.0], dtype=np.float32) for a in env.agents}
    with pytest.raises(InvalidActionError, match=r"actions\['store_0__a'\]: expected shape \(1,\)"):
        env.step({**acts, "store_0__a": np.array([1.0, 2.0])})
    with pytest.raises(InvalidActionError, match="must be finite"):
        env.step({**acts, "store_0__b": np.array([np.nan])})
    with pytest.raises(InvalidActionError, match="missing"):
        env.step({a: v for a, v in acts.items() if a != "supplier_0__b"})
    *_, infos = env.step({**acts, "store_0__a": np.array([100.0])})  # clipped to 6 and counted
    assert infos["store_0__a"]["clipped"] == 1 and env.last_ledger.ordered[0, 0, 0] == 6.0  # type: ignore[union-attr]


def test_decode_batch_matches_decode() -> None:
    net = invmgmt_marl.compile_network(invmgmt_marl.load_scenario("sku50_1w"))
    for agents in ("node", "node_product"):
        iface = make_interface(net, agents=agents)
        rng = np.random.default_rng(1)
        a = rng.uniform(-1, 40, (3, *iface.batch_shape))
        orders, clipped = iface.decode_batch(a)
        for b in range(3):
            acts = {ag: a[b, k].astype(np.float64) for k, ag in enumerate(iface.agents)}
            one, c = iface.decode(acts, list(iface.agents))
            np.testing.assert_array_equal(one[0], orders[b])
            assert [c.get(ag, 0) for ag in iface.agents] == clipped[b].tolist()
