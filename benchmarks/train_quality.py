"""Quality target for training: shared-policy PPO on `serial` with stationary Poisson(10) demand.

Trains on the 2 CPU cores for at most --minutes (default 30), keeps the policy with the best cost on a
fixed evaluation set (drawn from the scenario, seed + 10000), then scores it deterministically on two
test sets it never saw: the 20 published Liu et al. stationary test files (when ../shared is present)
and 20 fresh paths (seed 2022). The tuned base-stock policies (tuned on 64 paths, seed 123) are scored
on the same sets. Goal: within 10% of the tuned base-stock policy's cost per agent-period.

    python benchmarks/train_quality.py --backend rllib --minutes 30 --out runs/quality_rllib
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("RAY_AUTH_MODE", "disabled")

from invmgmt_marl.demand import sample_network_demand
from invmgmt_marl.env import InventoryParallelEnv  # noqa: E402
from invmgmt_marl.policies import tune  # noqa: E402
from invmgmt_marl.rollout import rollout  # noqa: E402
from invmgmt_marl.train import plot_curve, train  # noqa: E402

DEMAND = {"process": "poisson", "mean": 10}
SHARED = (
    Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "liu2022" / "test_demand_stationary"
)


def published_set(periods: int) -> np.ndarray | None:
    if not SHARED.is_dir():
        return None
    files = sorted(SHARED.glob("*.txt"), key=lambda p: int(p.stem))
    return np.array([[float(x) for x in f.read_text().split()[:periods]] for f in files])[:, :, None]


def score(net, policy, demand: np.ndarray) -> tuple[float, float]:
    per_ep = rollout(net, policy, demand=demand, keep="sum").cost().sum(axis=1) / (net.n_nodes * net.periods)
    return float(per_ep.mean()), float(per_ep.std(ddof=1) / np.sqrt(len(per_ep)))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--backend", default="rllib", choices=["rllib", "sb3"])
    p.add_argument("--minutes", type=float, default=30.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps-per-iteration", type=int, default=4000)
    p.add_argument("--action-type", default="box", choices=["box", "discrete"])
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--out", default="runs/quality")
    args = p.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    env = InventoryParallelEnv("serial", shared_spaces=True, demand=DEMAND, action_type=args.action_type)
    net = env.net
    tests = {"fresh 20 (seed 2022)": sample_network_demand(net, np.random.default_rng(2022), 20, net.periods)}
    pub = published_set(net.periods)
    if pub is not None:
        tests["published Liu stationary 20"] = pub

    t0 = time.perf_counter()
    tuned = {kind: tune(net, kind, episodes=64, seed=123) for kind in ("base_stock", "echelon_base_stock")}
    print(f"tuned baselines in {time.perf_counter() - t0:.0f} s")

    ppo = (
        {}
        if args.lr is None
        else ({"lr": args.lr} if args.backend == "rllib" else {"learning_rate": args.lr})
    )
    t0 = time.perf_counter()
    result = train(
        "serial",
        backend=args.backend,
        policies="shared",
        iterations=100_000,
        seed=args.seed,
        out=out,
        steps_per_iteration=args.steps_per_iteration,
        max_seconds=args.minutes * 60,
        keep_best=True,
        demand=DEMAND,
        action_type=args.action_type,
        ppo=ppo,
        progress=lambda r: print(
            f"it {r['iteration']:4.0f}  {time.perf_counter() - t0:6.0f} s  return "
            f"{r['episode_return_mean']:10.1f}  "
            f"eval cost {r['eval_cost_per_agent_period']:7.2f}",
            flush=True,
        ),
    )
    plot_curve(result, out / "learning_curve.png")
    if args.backend == "rllib":
        from invmgmt_marl.adapters.rllib import load_rllib_policy

        learned = load_rllib_policy(out / "best")
    else:
        from invmgmt_marl.adapters.sb3 import load_sb3_policy

        learned = load_sb3_policy(out / "best" / "sb3_ppo.zip")

    rows = []
    for name, demand in tests.items():
        row = {"test set": name}
        for kind, res in tuned.items():
            row[f"{kind} (tuned)"] = score(net, res.policy(net), demand)
        row[f"PPO {args.backend} shared (best eval)"] = score(net, learned, demand)
        rows.append(row)
    best = min(result.curve, key=lambda r: r["eval_cost_per_agent_period"])
    summary = {
        "backend": args.backend,
        "minutes": args.minutes,
        "seconds": result.seconds,
        "iterations": len(result.curve),
        "env_steps": result.curve[-1].get("env_steps"),
        "best_iteration": best["iteration"],
        "best_eval_cost": best["eval_cost_per_agent_period"],
        "tests": rows,
        "tuned": {k: v.params for k, v in tuned.items()},
    }
    (out / "quality.json").write_text(json.dumps(summary, indent=2))
    print(
        f"\n{args.backend} PPO, {len(result.curve)} iterations in {result.seconds / 60:.1f} min; "
        f"best evaluation cost {best['eval_cost_per_agent_period']:.2f} at iteration {best['iteration']:.0f}"
    )
    print("cost per agent-period (mean ± s.e. over the test episodes):")
    for row in rows:
        ref = row["base_stock (tuned)"][0]
        cells = "  ".join(
            f"{k}: {m:.2f} ± {s:.2f} ({(m / ref - 1) * 100:+.1f}% vs base_stock)"
            for k, (m, s) in ((k, v) for k, v in row.items() if k != "test set")
        )
        print(f"  {row['test set']}: {cells}")


if __name__ == "__main__":
    main()
