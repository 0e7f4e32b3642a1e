"""Schema of cash, perishable products and liquidation: keys, errors naming the field, round trip,
product-table columns, and shipped scenarios untouched."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

import invmgmt_marl
from invmgmt_marl import ScenarioError
from invmgmt_marl.compile import compile_network
from invmgmt_marl.scenario import validate_scenario
from tests.sim.test_retail_mechanics import STORE


def test_round_trip_keeps_the_new_keys() -> None:
    data = copy.deepcopy(STORE)
    data["products"][1]["salvage_value"] = 2.0
    data["product_overrides"] = [{"product": "b", "node": "store_0", "shelf_life": 3}]
    sc = validate_scenario(data)
    d = sc.to_dict()
    assert d["nodes"][0]["cash"] == {"initial": 50.0, "rule": "reject"}
    assert d["nodes"][0]["liquidation"] == {"salvage": 0.5}
    assert d["products"][0]["shelf_life"] == 2 and d["products"][1]["salvage_value"] == 2.0
    assert validate_scenario(d) == sc


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"cash": {"initial": -1}}, "nodes[0].cash.initial: Input should be greater than or equal to 0"),
        (
            {"cash": {"initial": 5, "rule": "borrow"}},
            "nodes[0].cash.rule: Input should be 'reject' or 'scale'",
        ),
        ({"cash": {"rule": "scale"}}, "nodes[0].cash.initial: required field is missing"),
        (
            {"liquidation": {"salvage": 1.5}},
            "nodes[0].liquidation.salvage: Input should be less than or equal to 1",
        ),
        ({"liquidation": {"max_units": 0}}, "nodes[0].liquidation.max_units: Input should be greater than 0"),
        ({"shelf_life": 0}, "nodes[0].shelf_life: Input should be greater than or equal to 1"),
    ],
)
def test_node_key_errors_name_the_field(patch: dict[str, Any], message: str) -> None:
    data = copy.deepcopy(STORE)
    data["nodes"][0].update(patch)
    with pytest.raises(ScenarioError) as err:
        validate_scenario(data)
    assert message in str(err.value)


def test_product_key_errors_name_the_field() -> None:
    data = copy.deepcopy(STORE)
    data["products"][0]["shelf_life"] = 0
    with pytest.raises(ScenarioError, match=r"products\[0\]\.shelf_life: Input should be greater"):
        validate_scenario(data)
    data = copy.deepcopy(STORE)
    data["product_overrides"] = [{"product": "a", "edge": 0, "shelf_life": 3}]
    with pytest.raises(
        ScenarioError, match=r"product_overrides\[0\]\.shelf_life: a node value, got it on edge 0"
    ):
        validate_scenario(data)


def test_node_shelf_life_broadcasts_to_products(tmp_path: Path) -> None:
    data = copy.deepcopy(STORE)
    data["nodes"][0]["shelf_life"] = 6
    net = compile_network(validate_scenario(data))
    # a: its own shelf life 2 wins; b: the node's scalar 6
    assert net.pair_shelf_life.tolist() == [2, 6] and net.age_buckets == 6


def test_product_table_columns(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text(
        "name,unit_cost,shelf_life,waste_cost,salvage_value\na,5,3,0.5,\nb,20,,,4\n"
    )
    data = copy.deepcopy(STORE)
    data.pop("products")
    data["product_table"] = "p.csv"
    sc = validate_scenario(data, base_dir=str(tmp_path))
    assert sc.products is not None
    assert sc.products[0].shelf_life == 3 and isinstance(sc.products[0].shelf_life, int)
    assert sc.products[0].waste_cost == 0.5 and sc.products[1].salvage_value == 4.0
    net = compile_network(sc)
    assert net.salvage[:, 0].tolist() == [0.5 * 5, 4.0]
    assert net.waste_cost[:, 0].tolist() == [0.5, 0.0]


@pytest.mark.parametrize("name", ["sku50_1w", "serial"])
def test_shipped_scenarios_have_none_of_the_features(name: str) -> None:
    sc = invmgmt_marl.load_scenario(name)
    d = sc.to_dict()
    assert all("cash" not in n and "liquidation" not in n for n in d["nodes"])
    assert all("shelf_life" not in p for p in d.get("products", []))
    net = compile_network(sc)
    assert not (net.any_cash or net.any_liquidation or net.any_perishable_products)
