"""The products schema: lists and CSV tables, broadcast and precedence of per-product values, errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from invmgmt_marl import ScenarioError
from invmgmt_marl.scenario import load_scenario, validate_scenario
from invmgmt_marl.scenario.products import product_values


def base(**extra: Any) -> dict[str, Any]:
    """warehouse_0 (supplier role) -> store_0, two products."""
    d: dict[str, Any] = {
        "periods": 6,
        "nodes": [
            {
                "role": "store",
                "holding_cost": 1.0,
                "backlog_cost": 5.0,
                "demand": {"process": "constant", "value": 2},
            },
            {"role": "supplier", "holding_cost": 0.5, "initial_on_hand": 7},
        ],
        "edges": [
            {"from": "supplier_0", "to": "store_0", "lead_time": 2, "unit_cost": 0.25},
            {"from": "external", "to": "supplier_0", "lead_time": 3, "unit_cost": 1.0},
        ],
        "products": [{"name": "a"}, {"name": "b-2", "holding_cost": 3.0, "lead_time": 5, "volume": 2.5}],
    }
    d.update(extra)
    return d


def test_scalars_broadcast_and_product_fields_replace_them() -> None:
    v = product_values(validate_scenario(base()))
    assert v.names == ("a", "b-2")
    # holding: product a inherits the nodes' scalars (1.0 store, 0.5 supplier); b-2 sets 3.0 everywhere
    np.testing.assert_array_equal(v.holding_cost, [[1.0, 0.5], [3.0, 3.0]])
    np.testing.assert_array_equal(v.initial_on_hand, [[0, 7], [0, 7]])
    # a product's lead_time is its vendor lead time: only the external edge (edge 1) changes
    np.testing.assert_array_equal(v.lead_time, [[2, 3], [2, 5]])
    np.testing.assert_array_equal(v.volume, [1.0, 2.5])
    np.testing.assert_array_equal(v.max_order, [[20.0, 20.0], [20.0, 20.0]])


def test_overrides_win_over_product_and_scalar() -> None:
    sc = validate_scenario(
        base(
            product_overrides=[
                {"product": "b-2", "edge": 1, "lead_time": 1},
                {"product": "a", "node": "supplier_0", "initial_on_hand": 4, "holding_cost": 0.0},
                {"product": "a", "node": "store_0", "demand": {"process": "constant", "value": 9}},
                {"product": "a", "edge": 0, "unit_cost": 2.0, "max_order": 3},
            ]
        )
    )
    v = product_values(sc)
    np.testing.assert_array_equal(v.lead_time, [[2, 3], [2, 1]])
    np.testing.assert_array_equal(v.initial_on_hand, [[0, 4], [0, 7]])
    np.testing.assert_array_equal(v.holding_cost, [[1.0, 0.0], [3.0, 3.0]])
    np.testing.assert_array_equal(v.unit_cost, [[2.0, 1.0], [0.25, 1.0]])
    np.testing.assert_array_equal(v.max_order, [[3.0, 20.0], [20.0, 20.0]])
    assert v.demand[0][0].params.value == 9 and v.demand[1][0].params.value == 2  # type: ignore[union-attr]
    again = validate_scenario(sc.to_dict())  # round trip keeps products and overrides
    assert again.to_dict() == sc.to_dict()


def test_product_table_csv(tmp_path: Path) -> None:
    (tmp_path / "skus.csv").write_text(
        "name,unit_cost,price,volume,lead_time,demand.process,demand.mean\n"
        "s0,1.5,3,2,4,poisson,2.5\n"
        "s1,,4,,,,\n"
    )
    data = base()
    data.pop("products")
    data["product_table"] = "skus.csv"
    data["nodes"][0]["demand"] = {"process": "constant", "value": 1}
    import yaml

    (tmp_path / "sc.yaml").write_text(yaml.safe_dump(data))
    sc = load_scenario(tmp_path / "sc.yaml")
    assert [p.name for p in sc.products or []] == ["s0", "s1"]
    v = product_values(sc)
    np.testing.assert_array_equal(v.volume, [2.0, 1.0])  # empty cell: the default
    np.testing.assert_array_equal(v.unit_cost, [[1.5, 1.5], [0.25, 1.0]])  # empty cell: the edges' scalars
    np.testing.assert_array_equal(v.lead_time, [[2, 4], [2, 3]])
    assert v.demand[0][0].process == "poisson" and v.demand[0][0].params.mean == 2.5  # type: ignore[union-attr]
    # s1's demand cells are empty: the store's own demand (constant 1) applies to it
    assert v.demand[1][0].process == "constant" and v.demand[1][0].params.value == 1  # type: ignore[union-attr]
    assert "product_table" not in sc.to_dict()
    assert validate_scenario(sc.to_dict()).products == sc.products


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"products": [{"name": "a"}, {"name": "a"}]}, "products[1].name: duplicate product name 'a'"),
        ({"products": [{"name": "a__b"}]}, "products[0].name"),
        ({"products": [{"name": "a", "volume": 0}]}, "products[0].volume"),
        ({"products": []}, "products: at least one product"),
        (
            {"product_overrides": [{"product": "zz", "node": "store_0", "holding_cost": 1}]},
            "unknown product 'zz'",
        ),
        (
            {"product_overrides": [{"product": "a", "node": "store_0", "lead_time": 2}]},
            "product_overrides[0].lead_time",
        ),
        (
            {"product_overrides": [{"product": "a", "edge": 7, "lead_time": 2}]},
            "product_overrides[0].edge: no edge 7",
        ),
        (
            {
                "product_overrides": [
                    {"product": "a", "node": "supplier_0", "demand": {"process": "constant", "value": 1}}
                ]
            },
            "product_overrides[0].demand: only stores",
        ),
        ({"demand_correlation": 0.5}, "demand_correlation: not supported with products yet"),
        (
            {"actions": {"type": "discrete", "max_order": 3}},
            "actions.type: products take box or multidiscrete",
        ),
    ],
)
def test_errors_name_field_and_value(patch: dict[str, Any], message: str) -> None:
    with pytest.raises(ScenarioError) as err:
        validate_scenario(base(**patch))
    assert message in str(err.value)


def test_unsupported_node_feature_and_capacity_errors() -> None:
    d = base()
    d["nodes"][1]["production_capacity"] = 3  # (shelf_life is supported: perishable products)
    with pytest.raises(
        ScenarioError,
        match=r"nodes\[1\] \(supplier_0\)\.production_capacity: not supported with products yet, got 3",
    ):
        validate_scenario(d)
    d = base()
    d["nodes"][1]["storage_capacity"] = 20  # initial stock: 7 x 1 + 7 x 2.5 = 24.5 volume units
    with pytest.raises(ScenarioError, match=r"storage_capacity: initial stock takes 24.5 volume units"):
        validate_scenario(d)
    d["nodes"][1]["overflow"] = "keep"  # kept overflow may start above capacity
    validate_scenario(d)


def test_shared_constraint_fields_need_products() -> None:
    d = base()
    d.pop("products")
    d["nodes"][1]["order_budget"] = 10
    with pytest.raises(
        ScenarioError, match=r"nodes\[1\] \(supplier_0\)\.order_budget: shared constraints need products"
    ):
        validate_scenario(d)


def test_external_into_store_only_with_products() -> None:
    one = {
        "periods": 3,
        "nodes": [{"role": "store", "demand": {"process": "constant", "value": 1}}],
        "edges": [{"from": "external", "to": "store_0", "lead_time": 1}],
    }
    with pytest.raises(ScenarioError, match="only suppliers order from 'external'"):
        validate_scenario(one)
    sc = validate_scenario(
        {**one, "products": [{"name": "x"}]}
    )  # MABIM's single warehouse buys from a vendor
    assert sc.has_products


def test_product_table_errors(tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("name,price\ns0,1,2\n")
    d = base()
    d.pop("products")
    d["product_table"] = str(tmp_path / "bad.csv")
    with pytest.raises(ScenarioError, match=r"bad.csv row 2: 3 fields, but the header has 2"):
        validate_scenario(d)
    (tmp_path / "noname.csv").write_text("price\n1\n")
    d["product_table"] = str(tmp_path / "noname.csv")
    with pytest.raises(ScenarioError, match=r"no column 'name'"):
        validate_scenario(d)
    (tmp_path / "neg.csv").write_text("name,price\ns0,-1\n")
    d["product_table"] = str(tmp_path / "neg.csv")
    with pytest.raises(ScenarioError, match=r"products\[0\]\.price"):
        validate_scenario(d)
    d["product_table"] = str(tmp_path / "missing.csv")
    with pytest.raises(ScenarioError, match=r"product_table: file not found"):
        validate_scenario(d)
