"""Size, solve time and tightness of the retail profit ceiling (invmgmt_marl.bounds.retail).

    python benchmarks/retail_ceiling.py                        # a 5-product x 30-day store, 5 seeds
    python benchmarks/retail_ceiling.py --scenario retail_hard # a shipped scenario (name or YAML path)

Per seed: LP columns and rows, HiGHS wall time (median of ``--repeats`` solves), the ceiling, the
passive floor, and the LP's own plan replayed in the simulator (its orders, and at each (period,
product) the highest price multiplier whose rounded demand still covers the units the plan sells) as
a share of the ceiling: how much of the ceiling a real policy with perfect information reaches.

The default store is built here (the issue-14 table: five products with prices, costs, elasticities,
groceries perishable in 5 days; slow / medium / fast shipping modes with jittered lead times; cash
2,000; storage 300 volume units; liquidation; prices 0.5-1.5; five 2-day events; 30 days).
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import numpy as np

from invmgmt_marl.bounds.retail import retail_path, retail_profit_bound
from invmgmt_marl.compile import compile_network
from invmgmt_marl.scenario import load_scenario, validate_scenario
from invmgmt_marl.sim import Network, initial_state, step
from invmgmt_marl.tasks import ledger_profit, passive_profit

WEEK = [1, 1, 1, 1, 1, 1.2, 1.2]
PRODUCTS = [  # name, price, cost, elasticity, volume, initial stock, demand low..high
    ("electronics", 150, 100, 1.2, 2, 5, 2, 5),
    ("clothing", 40, 25, 1.5, 1, 10, 4, 10),
    ("groceries", 10, 5, 0.4, 1, 20, 10, 20),
    ("furniture", 200, 130, 0.8, 5, 3, 1, 3),
    ("toys", 25, 12, 1.3, 1, 8, 3, 8),
]


def store_scenario() -> dict[str, Any]:
    """A 5-product, 30-day single store with every retail feature."""
    products = []
    for name, price, cost, e, vol, init, low, high in PRODUCTS:
        prod: dict[str, Any] = {
            "name": name,
            "price": price,
            "unit_cost": cost,
            "price_elasticity": e,
            "volume": vol,
            "initial_on_hand": init,
            "demand": {"process": "uniform", "low": low, "high": high, "weekly": WEEK},
        }
        if name == "groceries":
            prod["shelf_life"] = 5
        products.append(prod)
    return {
        "name": "retail_store_bench",
        "periods": 30,
        "nodes": [
            {
                "role": "store",
                "lost_sales": True,
                "storage_capacity": 300,
                "overflow": "refuse",
                "cash": {"initial": 2000, "rule": "reject"},
                "liquidation": {"salvage": 0.0},
                "pricing": {"min": 0.5, "max": 1.5},
            }
        ],
        "edges": [
            {
                "from": "external",
                "to": "store_0",
                "max_order": 50,
                "modes": [
                    {"name": "slow", "unit_cost": 2, "lead_time": [3, 7]},
                    {"name": "medium", "unit_cost": 5, "lead_time": [2, 4]},
                    {"name": "fast", "unit_cost": 10, "lead_time": 1},
                ],
            }
        ],
        "products": products,
        "events": [
            {"name": "black_friday", "start": 6, "duration": 2, "factor": {"electronics": 3}},
            {"name": "christmas", "start": 12, "duration": 2, "factor": {"toys": 3}},
            {"name": "competitor", "start": 18, "duration": 2, "factor": 0.6},
            {"name": "school", "start": 24, "duration": 2, "factor": {"clothing": 2.5}},
            {"name": "feast", "start": 28, "duration": 2, "factor": {"groceries": 2.5}},
        ],
    }


def replay_plan(net: Network, demand: Any, supply: Any, plan: Any) -> float:
    """The task profit of the LP plan's orders, priced to sell the plan's units, in the simulator."""
    lo, hi = net.price_bounds[:, 0]
    e = np.maximum(net.price_elasticity[:, 0], 1e-9)
    state, total = initial_state(net, 1), 0.0
    for t in range(net.periods):
        price = None
        if net.any_pricing:
            k = np.ceil(plan.sold[t] - 1e-6)
            with np.errstate(divide="ignore", over="ignore"):
                m = (demand[t, :, 0] / np.maximum(k - 0.5, 1e-9)) ** (1 / e) * (1 - 1e-9)
            price = np.clip(np.where(k >= 1, m, hi), lo, hi).reshape(1, -1, 1)
        shock = None if supply is None else supply.at(t)
        state, led = step(net, state, plan.orders[t][None], demand[None, t], shock, price=price)
        total += ledger_profit(net, led)
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenario", default=None, help="a shipped scenario name or YAML path")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    if args.scenario is None:
        net = compile_network(validate_scenario(store_scenario()))
    else:
        net = compile_network(load_scenario(args.scenario))
    print(f"{net.name}: {net.n_products} products x {net.periods} periods, {net.n_edges} edges (modes)")
    head = ("seed", "columns", "rows", "solve ms", "ceiling", "floor", "LP plan %")
    print(" ".join(f"{h:>{w}}" for h, w in zip(head, (4, 8, 6, 9, 10, 9, 9), strict=True)))
    for seed in range(args.seeds):
        demand, supply = retail_path(net, seed)
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            res = retail_profit_bound(net, demand, supply)
            times.append(time.perf_counter() - t0)
        replay = replay_plan(net, demand, supply, res)
        print(
            f"{seed:>4} {res.n_vars:>8} {res.n_rows:>6} {1000 * statistics.median(times):>9.1f} "
            f"{res.value:>10.1f} {passive_profit(net, seed):>9.1f} {100 * replay / res.value:>9.1f}"
        )


if __name__ == "__main__":
    main()
