"""Lot-sizing study (docs/lot_sizing.md): rolling-horizon planners vs tuned (s, S) and base-stock vs
the perfect-information MILP bound, on the same test demand paths.

    python benchmarks/lot_sizing.py                      # all three scenarios, 8 test paths each
    python benchmarks/lot_sizing.py --episodes 16 --scenarios lot_sizing
    python benchmarks/lot_sizing.py --hybrid             # adds the hybrid RL row (SB3 PPO)
    python benchmarks/lot_sizing.py --hybrid-only        # only the bound, rolling WW and the hybrid row

Protocol per scenario: training paths (seed 0) tune the baselines (coordinate descent,
``invmgmt_marl.policies.tune``) and pick each rolling policy's safety stock from a small grid
(multiples of the per-period demand std of each node's throughput); test paths (seed 1000) are then
simulated by every policy and bounded by the MILP (``invmgmt_marl.oracle.bound_many``, binary set-ups
because fixed costs are present; its time limit per path is ``--time-limit``). Costs are per agent and
period; the gap is ``(cost - bound) / bound``. Prints a Markdown table.

The hybrid row (``--hybrid``): a shared PPO residual policy (``mode="scale"``: each order is the
planner's times ``1 + a``, ``a`` in [-1, 1]) on top of the rolling Wagner-Whitin policy with the safety
stock chosen above, trained with ``invmgmt_marl.lotsizing.hybrid_train.train_hybrid`` (seed 0, a fixed
number of iterations: the budget; the parameters with the lowest cost on 8 validation paths of seed
10 000 are kept) and scored on the same test paths through the batched simulator.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from invmgmt_marl.compile import compile_network
from invmgmt_marl.demand import sample_network_demand
from invmgmt_marl.oracle import bound_many
from invmgmt_marl.policies import demand_statistics, make_policy, node_throughput, tune
from invmgmt_marl.rollout import rollout
from invmgmt_marl.scenario import load_scenario
from invmgmt_marl.sim import Network

ROLLING = {
    "rolling WW": ("rolling_ww", {}),
    "rolling Silver-Meal": ("rolling_silver_meal", {}),
    "rolling LUC": ("rolling_luc", {}),
    "rolling PPB": ("rolling_ppb", {}),
    "rolling GA": ("rolling_ga", {"planner_kwargs": {"population": 12, "generations": 10, "rng": 0}}),
}
SAFETY_GRID = (0.0, 0.5, 1.0, 2.0)


def per_agent_period(net: Network, cost: np.ndarray) -> np.ndarray:
    return cost / (net.n_nodes * net.periods)


def evaluate(net: Network, policy: Any, demand: np.ndarray) -> np.ndarray:
    """``(B,)`` total cost of each path."""
    return rollout(net, policy, demand=demand, seed=0).cost().sum(axis=1)


def rolling_policy(net: Network, name: str, kw: dict[str, Any], safety: np.ndarray, horizon: int) -> Any:
    return make_policy(name, net, horizon=horizon, forecast="moving_average", window=6, safety=safety, **kw)


def hybrid_row(
    scenario: str, planner: Any, test: np.ndarray, iterations: int, steps: int
) -> tuple[str, np.ndarray]:
    """Train the hybrid residual policy on ``planner`` and return its label and ``(B,)`` test costs."""
    from invmgmt_marl.lotsizing.hybrid_train import train_hybrid

    res = train_hybrid(scenario, planner=planner, iterations=iterations, steps_per_iteration=steps, seed=0)
    policy = res.policy
    cost = evaluate(res.env.net, policy, test)
    agent_steps = int(res.curve[-1]["agent_steps"])
    label = (
        f"hybrid PPO on rolling WW (scale; {iterations} it., {agent_steps // 1000}k agent steps, "
        f"{res.cpu_seconds / 60:.1f} CPU-min, seed 0, best it. {res.best_iteration})"
    )
    return label, cost


def study(
    scenario: str,
    episodes: int,
    train: int,
    horizon: int,
    time_limit: float,
    hybrid: bool = False,
    hybrid_only: bool = False,
    hybrid_iterations: int = 60,
    hybrid_steps: int = 2496,
) -> list[tuple[str, float, float]]:
    net = compile_network(load_scenario(scenario))
    test = sample_network_demand(net, np.random.default_rng(1000), episodes, net.periods)
    train_d = sample_network_demand(net, np.random.default_rng(0), train, net.periods)
    _, std = demand_statistics(net)
    node_std = node_throughput(net, std)  # (N,) demand std passed up the chain
    rows: list[tuple[str, np.ndarray, float]] = []
    t0 = time.perf_counter()
    results = bound_many(net, test, time_limit=time_limit)
    bounds = np.array([r.objective for r in results])
    mip_gap = np.mean([r.mip_gap for r in results])
    kinds = sorted({r.setups for r in results})
    label = f"perfect-information bound ({'/'.join(kinds)}; mean MIP gap {100 * mip_gap:.2f}%)"
    rows.append((label, bounds, time.perf_counter() - t0))
    for kind, label in (("s_S", "tuned (s, S)"), ("base_stock", "tuned base-stock")):
        if hybrid_only:
            break
        t0 = time.perf_counter()
        res = tune(net, kind, episodes=train, seed=0)
        rows.append((label, evaluate(net, res.policy(net), test), time.perf_counter() - t0))
    ww_safety = 0.0
    for label, (name, kw) in ROLLING.items():
        if hybrid_only and name != "rolling_ww":
            continue
        t0 = time.perf_counter()
        scores = [
            evaluate(net, rolling_policy(net, name, kw, k * node_std, horizon), train_d).mean()
            for k in SAFETY_GRID
        ]
        k = SAFETY_GRID[int(np.argmin(scores))]
        if name == "rolling_ww":
            ww_safety = k
        cost = evaluate(net, rolling_policy(net, name, kw, k * node_std, horizon), test)
        rows.append((f"{label} (safety {k:g} std)", cost, time.perf_counter() - t0))
    if hybrid or hybrid_only:
        t0 = time.perf_counter()
        planner = rolling_policy(net, "rolling_ww", {}, ww_safety * node_std, horizon)
        label, cost = hybrid_row(scenario, planner, test, hybrid_iterations, hybrid_steps)
        rows.append((label, cost, time.perf_counter() - t0))
    out = []
    for label, cost, seconds in rows:
        c = float(per_agent_period(net, cost).mean())
        gap = float(np.mean((cost - bounds) / bounds))
        out.append((label, c, gap))
        print(f"| {scenario} | {label} | {c:.3f} | {100 * gap:.1f}% | {seconds:.1f} |", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenarios", nargs="+", default=["lot_sizing", "lot_sizing_merton", "hmarl"])
    ap.add_argument("--episodes", type=int, default=8, help="test paths per scenario")
    ap.add_argument("--train", type=int, default=16, help="training paths (tuning)")
    ap.add_argument("--horizon", type=int, default=8, help="rolling planning horizon")
    ap.add_argument("--time-limit", type=float, default=10.0, help="MILP seconds per path")
    ap.add_argument("--hybrid", action="store_true", help="add the hybrid RL row (trains SB3 PPO)")
    ap.add_argument("--hybrid-only", action="store_true", help="only the bound, rolling WW and hybrid rows")
    ap.add_argument("--hybrid-iterations", type=int, default=60, help="PPO iterations (the budget)")
    ap.add_argument("--hybrid-steps", type=int, default=2496, help="agent steps per PPO iteration")
    args = ap.parse_args()
    print("| scenario | policy | cost / agent-period | gap to bound | seconds |")
    print("|---|---|---|---|---|")
    for sc in args.scenarios:
        study(
            sc,
            args.episodes,
            args.train,
            args.horizon,
            args.time_limit,
            args.hybrid,
            args.hybrid_only,
            args.hybrid_iterations,
            args.hybrid_steps,
        )


if __name__ == "__main__":
    main()
