"""Tuning per-product base-stock levels on the SKU scenarios: wall time and the tuned result against
the untuned newsvendor levels, on test paths the tuning never saw.

    PYTHONPATH=. python benchmarks/tune_products.py [--scenarios sku200_1w sku2000_3w] [--episodes 16]
        [--objective profit] [--kinds base_stock base_stock_capacity]

Prints one line per (scenario, policy family): tuning wall and CPU seconds (the CPU time is the
figure to compare on a shared machine), evaluations, training paths used, and the
mean test objective per episode (cost, or minus profit) of the newsvendor levels and of the tuned ones.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import invmgmt_marl
from invmgmt_marl.compile import compile_network
from invmgmt_marl.demand import sample_network_demand
from invmgmt_marl.policies import (
    BaseStockPolicy,
    CapacityBaseStockPolicy,
    newsvendor_levels,
    simulate_products,
    tune,
)
from invmgmt_marl.policies.base import Policy
from invmgmt_marl.sim import Network


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scenarios", nargs="+", default=["sku200_1w", "sku2000_3w"])
    ap.add_argument("--kinds", nargs="+", default=["base_stock", "base_stock_capacity"])
    ap.add_argument("--episodes", type=int, default=16, help="training paths")
    ap.add_argument("--test", type=int, default=16, help="test paths")
    ap.add_argument("--objective", default="profit", choices=["cost", "profit"])
    args = ap.parse_args()
    for name in args.scenarios:
        net = compile_network(invmgmt_marl.load_scenario(name))
        test = sample_network_demand(net, np.random.default_rng(10_001), args.test, net.periods)

        def value(policy: Policy, net: Network = net, test: np.ndarray = test) -> float:
            run = simulate_products(net, policy, test)
            per = run.cost - run.revenue if args.objective == "profit" else run.cost
            return float(per.sum(axis=1).mean())

        levels = newsvendor_levels(net, args.objective)
        for kind in args.kinds:
            untuned = (BaseStockPolicy if kind == "base_stock" else CapacityBaseStockPolicy)(levels)
            t0, c0 = time.perf_counter(), time.process_time()
            res = tune(net, kind, episodes=args.episodes, seed=7, objective=args.objective)
            secs, cpu = time.perf_counter() - t0, time.process_time() - c0
            v0, v1 = value(untuned), value(res.policy(net))
            print(
                f"{name:11s} {kind:20s} P={net.n_products:5d} N={net.n_nodes} tune {secs:7.1f} s "
                f"(CPU {cpu:7.1f} s) "
                f"evals {res.evaluations:4d} paths {res.episodes:3d} | test {args.objective} per episode: "
                f"newsvendor {v0:14,.1f} tuned {v1:14,.1f} ({(v1 - v0) / abs(v0):+.1%})"
            )


if __name__ == "__main__":
    main()
