"""The shipped SKU scenarios are what ``scenarios/products/generate.py`` writes, and load."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from invmgmt_marl.scenario.loader import list_product_scenarios, load_scenario, scenario_dir
from invmgmt_marl.scenario.skus import write_sku_scenario


def _shipped() -> dict[str, tuple[int, int, int]]:
    path = scenario_dir() / "products" / "generate.py"
    if not path.exists():
        pytest.skip("scenarios/products/generate.py not next to the package")
    spec = importlib.util.spec_from_file_location("generate_products", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return dict(mod.SHIPPED)


def test_shipped_files_are_current(tmp_path: Path) -> None:
    shipped = _shipped()
    assert {"sku50_1w", "sku200_1w", "sku1000_1w", "sku2000_3w"} <= set(shipped)
    assert set(shipped) <= set(list_product_scenarios())
    for name, (n, w, seed) in shipped.items():
        write_sku_scenario(tmp_path, name, n, w, seed=seed)
        for ext in ("yaml", "csv"):
            fresh = (tmp_path / f"{name}.{ext}").read_text()
            assert fresh == (scenario_dir() / "products" / f"{name}.{ext}").read_text(), f"{name}.{ext}"


def test_sku1000_1w_loads() -> None:
    sc = load_scenario("sku1000_1w")
    assert sc.products is not None and len(sc.products) == 1000
    assert [n.role for n in sc.nodes] == ["store"]
    assert sc.edges[0].source == "external"
    assert sc.nodes[0].storage_capacity is not None and sc.nodes[0].storage_capacity > 0
