"""Demand-set files with a product axis: (B, T, P, S) written as P x S values a line (product-major),
read back by file, by network and through ``evaluate(demand=folder)``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import invmgmt_marl
from invmgmt_marl.cli import main
from invmgmt_marl.compile import compile_network
from invmgmt_marl.demand import sample_network_demand
from invmgmt_marl.demandsets import (
    DemandSetError,
    generate_demand_set,
    load_demand_set,
    read_meta,
    write_demand_set,
)
from invmgmt_marl.policies import ConstantPolicy
from invmgmt_marl.scenario import load_scenario, validate_scenario

# two stores fed by one warehouse, three products: P x S = 6 values a line
TWO_STORES: dict[str, Any] = {
    "periods": 3,
    "nodes": [
        {"role": "store", "demand": {"process": "constant", "value": 1}},
        {"role": "store", "demand": {"process": "constant", "value": 2}},
        {"role": "supplier"},
    ],
    "edges": [
        {"from": "supplier_0", "to": "store_0", "lead_time": 1},
        {"from": "supplier_0", "to": "store_1", "lead_time": 1},
        {"from": "external", "to": "supplier_0", "lead_time": 1},
    ],
    "products": [{"name": "a"}, {"name": "b"}, {"name": "c"}],
    "actions": {"type": "box"},
}


def test_product_major_lines_by_hand(tmp_path: Path) -> None:
    # line t holds (a@store_0, a@store_1, b@store_0, b@store_1, c@store_0, c@store_1): row-major (P, S)
    (tmp_path / "0.txt").write_text("1 2 3 4 5 6\n7 8 9 10 11 12\n0 0 0 0 0 1.5\n", encoding="utf-8")
    net = compile_network(validate_scenario(TWO_STORES))
    d = load_demand_set(tmp_path, net)
    assert d.shape == (1, 3, 3, 2)
    np.testing.assert_array_equal(d[0, 0], [[1, 2], [3, 4], [5, 6]])  # [product, store]
    np.testing.assert_array_equal(d[0, 1, :, 1], [8, 10, 12])  # store_1 in period 1: a, b, c
    assert d[0, 2, 2, 1] == 1.5
    # without a network: products= gives P, the width of the first row gives P x S
    np.testing.assert_array_equal(load_demand_set(tmp_path, products=3), d)
    np.testing.assert_array_equal(load_demand_set(tmp_path, products=2)[0, 0], [[1, 2, 3], [4, 5, 6]])
    (tmp_path / "0.txt").write_text("1 2 3 4 5\n" * 3, encoding="utf-8")
    with pytest.raises(DemandSetError, match=r"0.txt:1: expected 6 value\(s\)"):
        load_demand_set(tmp_path, net)
    with pytest.raises(DemandSetError, match="not a multiple of products=2"):
        load_demand_set(tmp_path, products=2)
    with pytest.raises(ValueError, match="products: expected an integer >= 1, got 0"):
        load_demand_set(tmp_path, products=0)


def test_write_then_read_keeps_the_product_axis(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    d = rng.poisson(3, (2, 4, 3, 2)).astype(float)
    d[1, 3, 2, 0] = 0.1 + 0.2  # not integral: written in full precision
    write_demand_set(tmp_path, d, {"scenario": "x"})
    meta = read_meta(tmp_path)
    assert meta is not None
    assert (meta["episodes"], meta["periods"], meta["products"], meta["stores"]) == (2, 4, 3, 2)
    assert (tmp_path / "1.txt").read_text(encoding="utf-8").splitlines()[0].split() == [
        str(int(v)) for v in d[1, 0].ravel()
    ]
    back = load_demand_set(tmp_path)  # P from meta.json
    np.testing.assert_array_equal(back, d)
    net = compile_network(validate_scenario(TWO_STORES))
    np.testing.assert_array_equal(load_demand_set(tmp_path, net), d[:, :3])  # the first T = 3 rows
    bad = dict(meta, products=-1)
    (tmp_path / "meta.json").write_text(json.dumps(bad), encoding="utf-8")
    with pytest.raises(DemandSetError, match="'products' must be an integer >= 1, got -1"):
        load_demand_set(tmp_path)


def test_liu_layout_with_products(tmp_path: Path) -> None:
    # one folder per store, P values a line (one per product)
    for s, rows in enumerate((["1 2 3", "4 5 6", "7 8 9"], ["10 20 30", "40 50 60", "70 80 90"])):
        (tmp_path / str(s)).mkdir()
        (tmp_path / str(s) / "0.txt").write_text("\n".join(rows) + "\n", encoding="utf-8")
    net = compile_network(validate_scenario(TWO_STORES))
    d = load_demand_set(tmp_path, net)
    assert d.shape == (1, 3, 3, 2)
    np.testing.assert_array_equal(d[0, 1], [[4, 40], [5, 50], [6, 60]])  # [product, store]


def test_generated_set_is_the_rollout_draw_and_evaluates_as_the_array(tmp_path: Path) -> None:
    out = tmp_path / "sku"
    d = generate_demand_set("sku50_1w", 2, 5, out, periods=6)
    net = compile_network(load_scenario("sku50_1w", periods=6))
    # the same draw as rollout / evaluate without a demand set: default_rng(seed), (B, T, P, S)
    np.testing.assert_array_equal(d, sample_network_demand(net, np.random.default_rng(5), 2, 6))
    meta = read_meta(out)
    assert meta is not None and meta["products"] == 50 and meta["product_names"] == list(net.products)
    np.testing.assert_array_equal(load_demand_set(out, net), d)
    kw: dict[str, Any] = {"periods": 6, "bound": False, "ladder": False}
    from_files = invmgmt_marl.evaluate(ConstantPolicy(2.0), "sku50_1w", demand=str(out), **kw)
    from_array = invmgmt_marl.evaluate(ConstantPolicy(2.0), "sku50_1w", demand=d, **kw)
    assert from_files.kpis.keys() == from_array.kpis.keys()
    for k, v in from_array.kpis.items():
        np.testing.assert_array_equal(from_files.kpis[k], v, err_msg=k)
    assert (
        main(
            [
                "demand",
                "generate",
                "--scenario",
                "sku50_1w",
                "--episodes",
                "1",
                "--periods",
                "4",
                "--out",
                str(tmp_path / "c"),
            ]
        )
        == 0
    )
    assert load_demand_set(tmp_path / "c").shape == (1, 4, 50, 1)
