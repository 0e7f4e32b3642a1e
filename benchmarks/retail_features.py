"""Cost of the retail mechanics in the batched simulator: cash (scale / reject), perishable products
and liquidation on the shipped SKU scenarios, against the same scenario without them.

    python benchmarks/retail_features.py           # about a minute
    python benchmarks/retail_features.py --quick   # fewer repeats

Prints milliseconds per ``sim.step``: the best of the repeats, run round robin over the variants so
that load from other processes hits them alike; orders, demand and liquidation are drawn before
timing. The column ``off`` is the product path every other product scenario runs.
"""

from __future__ import annotations

import argparse
import copy
import time
from typing import Any

import numpy as np

import invmgmt_marl
from invmgmt_marl.compile import compile_network
from invmgmt_marl.demand import sample_network_demand
from invmgmt_marl.scenario import validate_scenario
from invmgmt_marl.sim import Network, initial_state, step


def variant(base: dict[str, Any], what: str) -> dict[str, Any]:
    """``base`` with one feature (or all) switched on at every node / product."""
    d = copy.deepcopy(base)
    for nd in d["nodes"]:
        if what in ("cash_scale", "all"):
            nd["cash"] = {"initial": 1e6, "rule": "scale"}
        if what == "cash_reject":
            nd["cash"] = {"initial": 1e4, "rule": "reject"}
        if what in ("liquidation", "all"):
            nd["liquidation"] = {"salvage": 0.2}
    if what in ("perishable", "all"):
        for pr in d["products"]:
            pr["shelf_life"] = 7
    return d


def prepare(net: Network, batch: int, periods: int) -> tuple[Any, ...]:
    rng = np.random.default_rng(0)
    orders = rng.uniform(0, 3, (periods, batch, net.n_products, net.n_edges))
    demand = sample_network_demand(net, rng, batch, periods)
    liq = rng.uniform(0, 1, (periods, batch, net.n_products, net.n_nodes)) * net.liquidation_on
    kw = [{"liquidate": liq[t]} if net.any_liquidation else {} for t in range(periods)]
    return net, batch, orders, demand, kw


def time_once(net: Network, batch: int, orders: Any, demand: Any, kw: list[dict[str, Any]]) -> float:
    """Milliseconds per step over one episode of ``len(orders)`` periods."""
    state = initial_state(net, batch)
    t0 = time.perf_counter()
    for t in range(len(orders)):
        state, _ = step(net, state, orders[t], demand[:, t], **kw[t])
    return (time.perf_counter() - t0) / len(orders) * 1e3


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer repeats")
    args = p.parse_args()
    repeats, periods = (5, 10) if args.quick else (25, 20)
    kinds = ("off", "cash_scale", "cash_reject", "perishable", "liquidation", "all")
    print(f"{'scenario':12} {'B':>3} " + " ".join(f"{k:>12}" for k in kinds) + "   (ms per sim.step)")
    for name, batch in (("sku200_1w", 1), ("sku200_1w", 16), ("sku2000_3w", 1)):
        base = invmgmt_marl.load_scenario(name).to_dict()
        runs = [prepare(compile_network(validate_scenario(variant(base, k))), batch, periods) for k in kinds]
        best = [np.inf] * len(kinds)
        for _ in range(repeats):  # round robin over the variants, so that load from elsewhere hits all alike
            for k, run in enumerate(runs):
                best[k] = min(best[k], time_once(*run))
        print(f"{name:12} {batch:>3} " + " ".join(f"{x:12.3f}" for x in best))


if __name__ == "__main__":
    main()
