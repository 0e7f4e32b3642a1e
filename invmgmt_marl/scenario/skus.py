"""Seeded generator of SKU populations and MABIM-sized product scenarios (docs/products.md).

:func:`sku_population` draws one row per SKU (a product table row, see
:func:`~invmgmt_marl.scenario.products.read_product_table`); :func:`sku_scenario` puts a population in
a chain of ``warehouses`` nodes in series (one: a single store buying from an outside vendor, as
MABIM's single-warehouse tasks; three: supplier -> warehouse -> store) whose last node faces the
demand with lost sales, with one storage capacity per node shared by every SKU.

What is drawn, from one ``numpy.random.default_rng(seed)`` in a fixed order, every number rounded:

- demand level: lognormal mean per period (median ``demand_median``, log-sd ``demand_sigma``);
  a share ``intermittent_share`` of SKUs is intermittent instead (Poisson mean 0.05 .. 0.5, so most
  periods see no demand); a weekly seasonal swing of amplitude 0 .. ``seasonal_amplitude``;
- vendor lead time: integer in ``lead_time_range``;
- unit cost: lognormal (median ``cost_median``, log-sd 0.8); margin uniform in ``margin_range``
  (price = unit cost x (1 + margin)); holding cost ``holding_rate`` x unit cost per period; lost-sales
  cost = price - unit cost (the margin lost);
- volume per unit: lognormal (median 1, log-sd 0.5).

Derived: ``max_order`` = ceil(4 x mean demand) + 1; initial stock at every node = mean demand x
(lead time + 1), rounded; each node's storage capacity = ``capacity_tightness`` x the volume of
mean demand x (vendor lead time + 2) over every SKU (below 1 the shared capacity binds).
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["sku_population", "sku_scenario", "write_sku_scenario", "TABLE_COLUMNS"]

TABLE_COLUMNS = (
    "name",
    "unit_cost",
    "price",
    "holding_cost",
    "lost_sales_cost",
    "volume",
    "lead_time",
    "initial_on_hand",
    "max_order",
    "demand.process",
    "demand.mean",
    "demand.seasonal.amplitude",
    "demand.seasonal.period",
    "demand.seasonal.phase",
)


def sku_population(
    n_skus: int,
    seed: int = 0,
    *,
    demand_median: float = 5.0,
    demand_sigma: float = 1.0,
    intermittent_share: float = 0.2,
    seasonal_amplitude: float = 0.3,
    lead_time_range: tuple[int, int] = (1, 7),
    cost_median: float = 10.0,
    margin_range: tuple[float, float] = (0.1, 0.6),
    holding_rate: float = 0.005,
) -> list[dict[str, Any]]:
    """``n_skus`` product rows (mappings keyed by :data:`TABLE_COLUMNS`), named ``sku0`` ...

    Raises:
        ValueError: naming the argument and its value.
    """
    if not isinstance(n_skus, int) or n_skus < 1:
        raise ValueError(f"n_skus: must be a positive integer, got {n_skus!r}")
    if not 0.0 <= intermittent_share <= 1.0:
        raise ValueError(f"intermittent_share: must lie in [0, 1], got {intermittent_share!r}")
    if not 0.0 <= seasonal_amplitude < 1.0:
        raise ValueError(f"seasonal_amplitude: must lie in [0, 1), got {seasonal_amplitude!r}")
    lo, hi = lead_time_range
    if not 1 <= lo <= hi:
        raise ValueError(f"lead_time_range: expected 1 <= low <= high, got {lead_time_range!r}")
    rng = np.random.default_rng(seed)
    level = demand_median * np.exp(demand_sigma * rng.standard_normal(n_skus))
    intermittent = rng.random(n_skus) < intermittent_share
    level = np.where(intermittent, rng.uniform(0.05, 0.5, n_skus), level)
    amplitude = rng.uniform(0.0, seasonal_amplitude, n_skus)
    phase = rng.integers(0, 7, n_skus)
    lead = rng.integers(lo, hi + 1, n_skus)
    cost = cost_median * np.exp(0.8 * rng.standard_normal(n_skus))
    margin = rng.uniform(*margin_range, n_skus)
    volume = np.exp(0.5 * rng.standard_normal(n_skus))
    rows = []
    for k in range(n_skus):
        mean = round(float(level[k]), 3)
        c = round(float(cost[k]), 2)
        price = round(c * (1.0 + float(margin[k])), 2)
        rows.append(
            {
                "name": f"sku{k}",
                "unit_cost": c,
                "price": price,
                "holding_cost": round(holding_rate * c, 4),
                "lost_sales_cost": round(price - c, 2),
                "volume": round(float(volume[k]), 3),
                "lead_time": int(lead[k]),
                "initial_on_hand": float(round(mean * (int(lead[k]) + 1))),
                "max_order": float(math.ceil(4.0 * mean) + 1),
                "demand.process": "poisson",
                "demand.mean": mean,
                "demand.seasonal.amplitude": round(float(amplitude[k]), 3),
                "demand.seasonal.period": 7,
                "demand.seasonal.phase": int(phase[k]),
            }
        )
    return rows


def sku_scenario(
    name: str,
    n_skus: int,
    warehouses: int = 1,
    seed: int = 0,
    *,
    capacity_tightness: float = 0.8,
    periods: int = 100,
    table: str = "products.csv",
    **population: Any,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A scenario mapping (``product_table: table``) and its product rows.

    Args:
        name: the scenario name.
        n_skus: products.
        warehouses: nodes in series: 1 (a store buying from the vendor) or 3 (supplier -> warehouse
            -> store).
        seed: seeds the population.
        capacity_tightness: each node's storage capacity as a share of the volume a base-stock
            policy would hold at mean demand (below 1: the capacity binds).
        periods: episode length.
        table: the product table's file name, next to the YAML.
        **population: passed to :func:`sku_population`.
    """
    if warehouses not in (1, 3):
        raise ValueError(f"warehouses: 1 or 3 nodes in series, got {warehouses!r}")
    if not capacity_tightness > 0:
        raise ValueError(f"capacity_tightness: must be positive, got {capacity_tightness!r}")
    rows = sku_population(n_skus, seed, **population)
    need = sum(r["volume"] * r["demand.mean"] * (r["lead_time"] + 2) for r in rows)
    init_vol = sum(r["volume"] * r["initial_on_hand"] for r in rows)
    capacity = float(round(max(capacity_tightness * need, 1.05 * init_vol, 1.0), 1))
    store = {
        "role": "store",
        "lost_sales": True,
        "storage_capacity": capacity,
        "overflow": "refuse",
        "overflow_cost": 0.0,
    }
    if warehouses == 1:
        nodes = [store]
        edges = [{"from": "external", "to": "store_0", "lead_time": 1}]
    else:
        nodes = [
            store,
            {"role": "warehouse", "storage_capacity": capacity},
            {"role": "supplier", "storage_capacity": capacity},
        ]
        edges = [
            {"from": "warehouse_0", "to": "store_0", "lead_time": 1},
            {"from": "supplier_0", "to": "warehouse_0", "lead_time": 2},
            {"from": "external", "to": "supplier_0", "lead_time": 1},
        ]
    data = {
        "name": name,
        "description": (
            f"{n_skus} SKUs, {warehouses} node(s) in series, shared storage capacity (tightness "
            f"{capacity_tightness}), generated by invmgmt_marl.scenario.skus (seed {seed})"
        ),
        "periods": periods,
        "nodes": nodes,
        "edges": edges,
        "reward": {"scheme": "profit"},
        "product_table": table,
    }
    return data, rows


def table_csv(rows: list[dict[str, Any]]) -> str:
    """The product rows as CSV text (:data:`TABLE_COLUMNS`)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(TABLE_COLUMNS), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def write_sku_scenario(folder: str | Path, name: str, n_skus: int, warehouses: int = 1, **kw: Any) -> Path:
    """Write ``<name>.yaml`` and ``<name>.csv`` (its product table) into ``folder``; returns the YAML path."""
    import yaml

    from invmgmt_marl._io import atomic_write_text, check_name

    check_name(name, "name")
    folder = Path(folder)
    data, rows = sku_scenario(name, n_skus, warehouses, table=f"{name}.csv", **kw)
    atomic_write_text(folder / f"{name}.csv", table_csv(rows))
    return atomic_write_text(folder / f"{name}.yaml", yaml.safe_dump(data, sort_keys=False))
