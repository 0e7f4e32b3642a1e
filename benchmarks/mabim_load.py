"""Time loading a MABIM-layout task (invmgmt_marl.scenario.mabim) of MABIM's sizes.

    python benchmarks/mabim_load.py                  # 1,000 SKUs x 3 warehouses x 100 days
    python benchmarks/mabim_load.py --skus 2000 --days 365

Writes a task with :func:`write_mabim_task` (SKUs from :func:`sku_population`, Poisson demand drawn
once and written as the daily series) into a temporary folder, then times ``load_mabim_task`` (read and
map the YAML and CSVs), validation included, and ``compile_network``. Prints the figures.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from invmgmt_marl.compile import compile_network
from invmgmt_marl.scenario import validate_scenario
from invmgmt_marl.scenario.mabim import load_mabim_task, write_mabim_task
from invmgmt_marl.scenario.skus import sku_population


def task_scenario(n_skus: int, days: int, seed: int = 0) -> dict[str, object]:
    rows = sku_population(n_skus, seed)
    rng = np.random.default_rng(seed)
    products = [
        {
            "name": r["name"],
            "volume": r["volume"],
            "unit_cost": r["unit_cost"],
            "price": r["price"],
            "holding_cost": r["holding_cost"],
            "lost_sales_cost": round(0.1 * (r["price"] - r["unit_cost"]), 4),
            "initial_on_hand": r["initial_on_hand"],
            "lead_time": r["lead_time"],
            "demand": {
                "process": "fixed",
                "values": rng.poisson(r["demand.mean"], days).astype(float).tolist(),
            },
        }
        for r in rows
    ]
    cap = float(sum(r["volume"] * r["initial_on_hand"] for r in rows) * 2.0)
    return {
        "name": "mabim_bench",
        "periods": days,
        "nodes": [
            {"role": "store", "lost_sales": True, "storage_capacity": cap, "label": "store1"},
            {"role": "warehouse", "storage_capacity": cap, "label": "store2"},
            {"role": "supplier", "storage_capacity": cap, "label": "store3"},
        ],
        "edges": [
            {"from": "warehouse_0", "to": "store_0", "lead_time": 1, "fixed_cost": 10.0},
            {"from": "supplier_0", "to": "warehouse_0", "lead_time": 2, "fixed_cost": 10.0},
            {"from": "external", "to": "supplier_0", "lead_time": 1, "fixed_cost": 10.0},
        ],
        "reward": {"scheme": "profit"},
        "products": products,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--skus", type=int, default=1000)
    ap.add_argument("--days", type=int, default=100)
    args = ap.parse_args()
    sc = validate_scenario(task_scenario(args.skus, args.days))
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        write_mabim_task(sc, tmp)
        t_write = time.perf_counter() - t0
        size = sum(p.stat().st_size for p in Path(tmp).iterdir())
        t0 = time.perf_counter()
        loaded = load_mabim_task(tmp)
        t_load = time.perf_counter() - t0
        t0 = time.perf_counter()
        compile_network(loaded)
        t_compile = time.perf_counter() - t0
    print(f"MABIM task: {args.skus} SKUs x 3 warehouses x {args.days} days, {size / 1e6:.1f} MB of files")
    print(f"write_mabim_task: {t_write:.2f} s")
    print(f"load_mabim_task (read, map, validate): {t_load:.2f} s")
    print(f"compile_network: {t_compile:.2f} s")


if __name__ == "__main__":
    main()
