"""The scenario catalogue: divergent, distribution_tree, assembly, perishable_grocery, seasonal_retail and
the generated large_network (docs/scenario_catalogue.md).

Each scenario loads with the agents, edges and feature settings intended (the numbers transcribed from
gym-invmgmt for ``divergent`` are checked one by one), passes PettingZoo's parallel API test, conserves
units in a short base-stock rollout, and is sane under base-stock over a whole episode. The generator of
``large_network`` is deterministic and the shipped file is its current output.
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test

import invmgmt_marl
from invmgmt_marl.compile import compile_network
from invmgmt_marl.demand import demand_factor
from invmgmt_marl.policies import make_policy
from invmgmt_marl.policies.base import inventory_position, split_over_edges
from invmgmt_marl.rollout import Trajectory, rollout
from invmgmt_marl.scenario import DemandSpec, NodeSpec, load_scenario, scenario_dir, validate_scenario
from invmgmt_marl.scenario.generate import generate_network, network_yaml
from invmgmt_marl.sim.network import Network
from invmgmt_marl.sim.state import SimState

NEW = ["assembly", "distribution_tree", "divergent", "large_network", "perishable_grocery", "seasonal_retail"]


class BomBaseStock:
    """Installation base-stock that knows bills of materials (the shipped ``base_stock`` does not).

    Ordinary nodes order ``max(0, S - inventory position)`` as ``BaseStockPolicy`` does. An assembly node
    keeps each component's position (component stock + in transit + owed to it) at ``qty`` times its
    finished-goods shortfall ``S - on_hand + owed``: it orders the components in the ratio of the bill.
    """

    def __init__(self, levels: Any) -> None:
        self.levels = np.asarray(levels, dtype=np.float64)

    def __call__(self, net: Network, state: SimState, rng: np.random.Generator) -> np.ndarray:
        orders = split_over_edges(net, np.maximum(self.levels - inventory_position(net, state), 0.0))
        if state.components is not None:
            shortfall = self.levels - state.on_hand + state.backlog @ net.out_from_src  # (B, N)
            # (B, E): component stock + in transit + owed, per inbound edge
            position = state.components + state.pipeline.sum(axis=2) + state.backlog[:, : net.n_edges]
            for i in net.assembly_nodes:
                for e in net.agent_edges[i]:
                    orders[:, e] = np.maximum(net.component_qty[e] * shortfall[:, i] - position[:, e], 0.0)
        return orders


ASSEMBLY_LEVELS = [70, 130, 110, 80]  # store_0, warehouse_0 (factory), supplier_0 (A), supplier_1 (B)


def _policy(name: str, net: Network) -> Any:
    return BomBaseStock(ASSEMBLY_LEVELS) if name == "assembly" else make_policy("base_stock", net)


def _units_balance(traj: Trajectory) -> np.ndarray:
    """Per episode: start + external in + assembled - sold - lost in transit - refused - expired - consumed
    - end units (0 when units are conserved)."""
    out = traj.start_units + traj.external_in.sum(axis=0) - traj.end_units
    out = out + traj.node("assembled").sum(axis=(0, 2)) - traj.node("sold").sum(axis=(0, 2))
    for f in ("transit_lost", "refused", "expired", "consumed"):
        out = out - traj.node(f).sum(axis=(0, 2))
    return out


def _demand(node: NodeSpec) -> DemandSpec:
    assert node.demand is not None
    return node.demand


def _edge(sc: Any, src: str, dst: str, k: int = 0) -> Any:
    return [e for e in sc.edges if e.source == src and e.target == dst][k]


# --------------------------------------------------------------------------------------------------
def test_listed() -> None:
    assert set(NEW) <= set(invmgmt_marl.list_scenarios())


@pytest.mark.parametrize("name", NEW)
def test_loads_with_a_header_and_round_trips(name: str) -> None:
    sc = load_scenario(name)
    assert sc.name == name and sc.description
    text = (scenario_dir() / f"{name}.yaml").read_text(encoding="utf-8")
    assert text.startswith("# ") and "Episode" in text and "Action bounds" in text  # documented header
    assert validate_scenario(sc.to_dict()) == sc


# gym-invmgmt 0.2.1 "network" (topologies/divergent.yaml), transcribed: node -> (agent, I0, h, C, o)
DIVERGENT_NODES = {
    1: ("store_0", 100, 0.030, None, None),
    2: ("warehouse_0", 110, 0.020, None, None),
    3: ("warehouse_1", 80, 0.015, None, None),
    4: ("supplier_0", 400, 0.012, 90, 0.010),
    5: ("supplier_1", 350, 0.013, 90, 0.015),
    6: ("supplier_2", 380, 0.011, 80, 0.012),
}
# (from, to) -> (L, p, g); 7 and 8 are the raw materials
DIVERGENT_EDGES = {
    (2, 1): (5, 1.500, 0.010),
    (3, 1): (3, 1.600, 0.015),
    (4, 2): (8, 1.000, 0.008),
    (4, 3): (10, 0.800, 0.006),
    (5, 2): (9, 0.700, 0.005),
    (6, 2): (11, 0.750, 0.007),
    (6, 3): (12, 0.800, 0.004),
    (7, 4): (0, 0.150, 0.000),
    (7, 5): (1, 0.050, 0.005),
    (8, 5): (2, 0.070, 0.002),
    (8, 6): (0, 0.200, 0.000),
}


def test_divergent_matches_gym_invmgmt() -> None:
    sc = load_scenario("divergent")
    assert sc.agents == ["store_0", "warehouse_0", "warehouse_1", "supplier_0", "supplier_1", "supplier_2"]
    assert sc.periods == 30 and len(sc.edges) == 11 and sc.reward.scheme == "profit"
    nodes = dict(zip(sc.agents, sc.nodes, strict=True))
    for agent, i0, h, _, _ in DIVERGENT_NODES.values():
        assert (nodes[agent].initial_on_hand, nodes[agent].holding_cost) == (i0, h), agent
    store = nodes["store_0"]
    assert (store.price, store.backlog_cost, store.lost_sales) == (2.0, 0.1, False)
    assert _demand(store).process == "poisson" and _demand(store).params.mean == 20
    for (u, v), (lead, price, g) in DIVERGENT_EDGES.items():
        dst, *_, cap, o = DIVERGENT_NODES[v]
        cap, o = cap or 0, o or 0.0  # None off the factories
        if u in (7, 8):  # raw material: one external edge per (raw material, factory), in listed order
            k = sorted(x for (x, y) in DIVERGENT_EDGES if y == v).index(u)
            e = _edge(sc, "external", dst, k)
            n_raw = sum(1 for (x, y) in DIVERGENT_EDGES if y == v)
            assert e.unit_cost == pytest.approx(price + o), (u, v)  # operating cost folded in
            assert e.capacity == e.max_order == cap / n_raw, (u, v)  # production capacity, split per raw edge
            assert f"raw [{u}]->[{v}] L={lead}" in e.label
        else:
            e = _edge(sc, DIVERGENT_NODES[u][0], dst)
            assert e.unit_cost == price and e.capacity is None, (u, v)
            assert e.label.endswith(f"L={lead}")
        assert e.transit_holding_cost == g, (u, v)
        # deliveries into the retailer keep L; into factories and distributors L + 1 (shippable next period)
        assert e.lead_time == lead + (0 if dst == "store_0" else 1), (u, v)


def test_distribution_tree_settings() -> None:
    sc = load_scenario("distribution_tree")
    assert sc.agents == [f"store_{k}" for k in range(8)] + ["warehouse_0", "supplier_0"]
    stores = [n for n in sc.nodes if n.role == "store"]
    assert [_demand(n).multiplier for n in stores] == [0.5, 0.75, 1.0, 1.0, 1.25, 1.5, 2.0, 3.0]
    assert all(n.lost_sales for n in stores)
    assert all(_demand(n).process == "poisson" and _demand(n).params.mean == 10 for n in stores)
    assert sc.nodes[8].allocation == "proportional"
    caps = {e.target: e.capacity for e in sc.edges if e.source == "warehouse_0"}
    assert caps == {
        "store_0": 15,
        "store_1": 15,
        "store_2": None,
        "store_3": None,
        "store_4": None,
        "store_5": None,
        "store_6": 40,
        "store_7": 60,
    }
    assert _edge(sc, "external", "supplier_0").capacity == 150


def test_assembly_settings() -> None:
    sc = load_scenario("assembly")
    assert sc.agents == ["store_0", "warehouse_0", "supplier_0", "supplier_1"]
    factory = sc.nodes[1]
    assert factory.bom == {"supplier_0": 2.0, "supplier_1": 1.0} and factory.production_capacity == 30
    assert [e.source for e in sc.edges if e.target == "warehouse_0"] == ["supplier_0", "supplier_1"]


def _assembly_run(orders_a: bool, orders_b: bool) -> Trajectory:
    """Assembly with the BOM-aware policy, but with component A's or B's orders zeroed."""
    net = compile_network(load_scenario("assembly"))
    inner = BomBaseStock(ASSEMBLY_LEVELS)
    e_a, e_b = net.agent_edges[1]

    def policy(net: Network, state: SimState, rng: np.random.Generator) -> np.ndarray:
        o = inner(net, state, rng)
        o[:, e_a] *= orders_a
        o[:, e_b] *= orders_b
        return o

    return rollout(net, policy, episodes=4, seed=3)


def test_assembly_needs_both_components() -> None:
    both = _assembly_run(True, True)
    only_a = _assembly_run(True, False)
    only_b = _assembly_run(False, True)
    demand = both.demand.sum(axis=(1, 2))
    assert np.all(both.node("assembled").sum(axis=(0, 2)) > 0.85 * demand)  # makes (nearly) what is sold
    assert np.all(both.node("sold").sum(axis=(0, 2)) > 0.95 * demand)
    # without new B only the 80 B already in the pipeline are assembled (1 B each) ...
    assert np.all(only_a.node("assembled").sum(axis=(0, 2)) <= 80 + 1e-9)
    # ... and without new A only the 80 A in the pipeline (2 A each): 40 units
    assert np.all(only_b.node("assembled").sum(axis=(0, 2)) <= 40 + 1e-9)
    # the one component ordered piles up at the factory, unused
    assert only_a.node("components")[-1, :, 1].min() > 1000
    assert np.all(only_a.node("sold").sum(axis=(0, 2)) < 0.2 * demand)


def test_perishable_grocery_settings_and_waste() -> None:
    sc = load_scenario("perishable_grocery")
    assert sc.agents == ["store_0", "store_1", "store_2", "warehouse_0", "supplier_0"] and sc.periods == 60
    stores = sc.nodes[:3]
    assert [n.shelf_life for n in sc.nodes] == [5, 5, 5, 10, 10]
    assert [n.waste_cost for n in sc.nodes] == [0.3, 0.3, 0.3, 0.2, 0.2]
    assert all(n.lost_sales and n.price == 3.0 and n.storage_capacity == 200 for n in stores)
    assert [_demand(n).params.mean for n in stores] == [20, 30, 15]
    weekly = _demand(stores[0]).weekly
    assert weekly is not None and all(_demand(n).weekly == weekly for n in stores)
    profile = weekly.profile
    assert len(profile) == 7 and sum(profile) == pytest.approx(7.0) and max(profile) == profile[5]  # Saturday
    # over-stocked stores throw food away, and pay for it
    net = compile_network(sc)
    traj = rollout(net, make_policy("base_stock", net, levels=[150, 200, 110, 400, 200]), episodes=4, seed=1)
    expired = traj.node("expired").sum(axis=0)
    assert np.all(expired[:, :3] > 50)
    np.testing.assert_allclose(traj.node("waste_cost").sum(axis=0), expired * net.waste_cost)


def test_seasonal_retail_calendar() -> None:
    sc = load_scenario("seasonal_retail")
    assert sc.agents == ["store_0", "store_1", "store_2", "warehouse_0", "supplier_0"] and sc.periods == 126
    shop, web = _demand(sc.nodes[0]), _demand(sc.nodes[2])
    assert sc.nodes[0].lost_sales and sc.nodes[1].lost_sales and not sc.nodes[2].lost_sales
    assert shop.trend is not None and shop.trend.slope == 0.002
    f = np.asarray(demand_factor(shop, sc.periods))
    assert shop.weekly is not None
    week = np.asarray(shop.weekly.profile)
    trend = 1 + 0.002 * np.arange(sc.periods)
    base = trend * week[np.arange(sc.periods) % 7]
    np.testing.assert_allclose(f[[11, 39, 67, 95]] / base[[11, 39, 67, 95]], 3.0)  # promotion Fridays
    assert f[88] / base[88] == pytest.approx(4.0) and f[88] == f.max()  # Black Friday, the peak day
    np.testing.assert_allclose(f[101:115] / base[101:115], 1.6)  # holiday weeks
    np.testing.assert_allclose((f / base)[[115, 122, 125]], [0.7, 0.7, 0.7])  # lull (123: promo 3 x 0.7)
    web_f = np.asarray(demand_factor(web, sc.periods))
    assert web_f[88] == pytest.approx(5.0 * trend[88])  # 5x online, on a flat Friday


def test_large_network_shape() -> None:
    sc = load_scenario("large_network")
    roles = [n.role for n in sc.nodes]
    assert (roles.count("store"), roles.count("warehouse"), roles.count("supplier")) == (40, 10, 4)
    assert len(sc.agents) >= 50
    inbound = {a: [e for e in sc.edges if e.target == a] for a in sc.agents}
    multi = [a for a, es in inbound.items() if len(es) > 1 and not a.startswith("supplier")]
    assert len(multi) >= 5  # multi-sourcing at several layers
    assert {a.split("_")[0] for a in multi} == {"store", "warehouse"}
    served = {e.source for e in sc.edges}
    assert all(a in served for a in sc.agents if not a.startswith("store"))  # every upstream node serves
    assert all(e.capacity is not None for e in sc.edges if e.source == "external")


def test_generator_is_deterministic_and_current(tmp_path: Path) -> None:
    a, b = generate_network(0), generate_network(0)
    assert a == b and network_yaml(a) == network_yaml(b)
    assert generate_network(1) != a
    # the shipped file is what scenarios/generate_large.py writes
    path = scenario_dir() / "generate_large.py"
    if not path.is_file():  # pragma: no cover - an installed wheel ships the YAML only
        pytest.skip("scenarios/generate_large.py not next to the package")
    spec = importlib.util.spec_from_file_location("generate_large", path)
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    out = tmp_path / "large_network.yaml"
    mod.main(["--out", str(out)])
    shipped = (scenario_dir() / "large_network.yaml").read_text(encoding="utf-8")
    assert out.read_text(encoding="utf-8") == shipped


@pytest.mark.parametrize(
    "sizes",
    [
        {"suppliers": 1, "regional": 1, "local": 1, "stores": 1},
        {"suppliers": 5, "regional": 2, "local": 3, "stores": 12, "second_source": 1.0},
        {
            "suppliers": 2,
            "regional": 4,
            "local": 9,
            "stores": 60,
            "second_source": 0.0,
            "lost_sales_share": 1.0,
        },
    ],
)
def test_generator_sizes_validate(sizes: dict[str, Any]) -> None:
    for seed in range(3):
        sc = validate_scenario(generate_network(seed, **sizes))
        assert len(sc.agents) == sizes["suppliers"] + sizes["regional"] + sizes["local"] + sizes["stores"]


def test_generator_rejects_bad_sizes() -> None:
    with pytest.raises(ValueError, match="at least one node"):
        generate_network(0, stores=0)
    with pytest.raises(ValueError, match="demand_range"):
        generate_network(0, demand_range=(5, 2))


# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NEW)
def test_parallel_api(name: str) -> None:
    env = invmgmt_marl.parallel_env(name, periods=4)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*observation space value is infinity.*")
        parallel_api_test(env, num_cycles=6)
    env.close()


@pytest.mark.parametrize("name", NEW)
def test_short_base_stock_rollout_conserves_units(name: str) -> None:
    net = compile_network(load_scenario(name, periods=20))
    traj = rollout(net, _policy(name, net), episodes=4, seed=7)
    np.testing.assert_allclose(_units_balance(traj), 0.0, atol=1e-6)
    rnd = rollout(net, make_policy("random", net), episodes=4, seed=8)  # also off the base-stock path
    np.testing.assert_allclose(_units_balance(rnd), 0.0, atol=1e-6)


@pytest.mark.parametrize("name", NEW)
def test_base_stock_episode_is_sane(name: str) -> None:
    """A whole episode under (untuned) base-stock neither loses most demand nor piles stock up."""
    net = compile_network(load_scenario(name))
    traj = rollout(net, _policy(name, net), episodes=8, seed=0)
    demand, sold = traj.demand.sum(axis=(1, 2)), traj.node("sold").sum(axis=(0, 2))
    assert np.all(sold >= 0.8 * demand), (sold / demand).round(3)
    # end_units counts on hand, in transit and component stock
    assert np.all(traj.end_units <= 2.0 * traj.start_units + 0.1 * demand), (traj.end_units, traj.start_units)
