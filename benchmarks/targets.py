"""Issue 12 target 1: shared PPO on `serial`, stationary Poisson(10), scored on Liu et al.'s test files.

The learner (SB3 PPO, one shared policy over the native batched VecEnv, global view, team cost) sets an
**echelon order-up-to target** per node (``order_up_to_echelon``), so a constant output is echelon
base-stock and a state-dependent one can only improve on it. The targets are declared in a narrower
box than the package default (see ``--bound``): the default echelon bounds are 120 / 240 / 360 and the
shared space pads them all to 360, while the tuned levels are 53 / 96 / 137.

Each run trains for at most ``--minutes`` of wall time on one thread, keeps the policy with the best
cost on the training evaluation set (10 paths drawn from the scenario with seed + 10000), then scores
that policy deterministically on the 20 published stationary test files, next to tuned echelon
base-stock (tuned on 64 paths, seed 123) on the same files.

    python benchmarks/targets.py train --seed 0 --minutes 30 --out runs/targets/seed0
    python benchmarks/targets.py summary runs/targets/seed* --png docs/img/targets_serial_poisson.png
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from invmgmt_marl.demandsets import load_demand_set
from invmgmt_marl.env import InventoryParallelEnv
from invmgmt_marl.interface import EchelonOrderUpToCodec
from invmgmt_marl.policies import tune
from invmgmt_marl.registry import ACTION_TYPES
from invmgmt_marl.rollout import rollout

DEMAND = {"process": "poisson", "mean": 10}
LIU = (
    Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "liu2022" / "test_demand_stationary"
)
ACTION = "order_up_to_echelon_narrow"
BOUND = {"value": 200.0}  # set from --bound before any env is built


class NarrowEchelonCodec(EchelonOrderUpToCodec):
    """``order_up_to_echelon`` with one declared bound ``BOUND`` for every edge's target."""

    name = ACTION

    def _edge_bounds(self) -> np.ndarray:
        return np.full(self.net.n_edges, BOUND["value"])


def _register(bound: float) -> None:
    BOUND["value"] = float(bound)
    if ACTION not in ACTION_TYPES:
        ACTION_TYPES.register(ACTION, NarrowEchelonCodec)


def env_kwargs(alpha: float, view: str) -> dict[str, Any]:
    return {"demand": DEMAND, "action_type": ACTION, "view": view, "alpha": alpha}


def score(net: Any, policy: Any, demand: np.ndarray) -> tuple[float, float, list[float]]:
    """Mean and standard error over episodes of the cost per agent-period, and the per-episode costs."""
    per_ep = rollout(net, policy, demand=demand, keep="sum").cost().sum(axis=1) / (net.n_nodes * net.periods)
    return float(per_ep.mean()), float(per_ep.std(ddof=1) / np.sqrt(len(per_ep))), per_ep.tolist()


def cmd_train(args: argparse.Namespace) -> None:
    import torch

    from invmgmt_marl.adapters.sb3 import load_sb3_policy
    from invmgmt_marl.train import train

    torch.set_num_threads(1)
    _register(args.bound)
    kw = env_kwargs(args.alpha, args.view)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    ppo = {
        "num_episodes": args.episodes,
        "learning_rate": args.lr,
        "policy_kwargs": {"log_std_init": args.log_std_init},
    }
    t0, c0 = time.perf_counter(), time.process_time()
    result = train(
        "serial",
        backend="sb3",
        iterations=100_000,
        seed=args.seed,
        out=out,
        steps_per_iteration=args.episodes * 3 * 200,
        max_seconds=args.minutes * 60,
        keep_best=True,
        ppo=ppo,
        progress=lambda r: print(
            f"it {r['iteration']:4.0f} {time.perf_counter() - t0:6.0f} s  "
            f"eval {r['eval_cost_per_agent_period']:7.3f}",
            flush=True,
        ),
        **kw,
    )
    cpu = time.process_time() - c0
    env = InventoryParallelEnv("serial", shared_spaces=True, **kw)
    liu = load_demand_set(LIU, env.net)
    rows = {}
    for name, path in (("best", out / "best" / "sb3_ppo.zip"), ("final", out / "sb3_ppo.zip")):
        m, s, eps = score(env.net, load_sb3_policy(path, normalize_actions=True, **kw), liu)
        rows[name] = {"mean": m, "stderr": s, "episodes": eps}
    summary = {
        "seed": args.seed,
        "wall_seconds": result.seconds,
        "cpu_minutes": cpu / 60,
        "iterations": len(result.curve),
        "env_steps": result.curve[-1]["env_steps"],
        "config": {**vars(args), "env": {k: v for k, v in kw.items()}},
        "liu_stationary": rows,
        "curve": result.curve,
    }
    (out / "targets.json").write_text(json.dumps(summary, indent=2, default=str))
    print(
        f"seed {args.seed}: {len(result.curve)} iterations, {cpu / 60:.1f} CPU-min; Liu stationary: "
        f"best-eval policy {rows['best']['mean']:.3f} +- {rows['best']['stderr']:.3f}, "
        f"final {rows['final']['mean']:.3f} +- {rows['final']['stderr']:.3f}"
    )


def cmd_summary(args: argparse.Namespace) -> None:
    runs = [json.loads((Path(d) / "targets.json").read_text()) for d in args.runs]
    env = InventoryParallelEnv("serial", shared_spaces=True, demand=DEMAND)
    liu = load_demand_set(LIU, env.net)
    tuned = tune(env.net, "echelon_base_stock", episodes=64, seed=123, cache=True)
    ref, ref_se, ref_eps = score(env.net, tuned.policy(env.net), liu)
    print(f"tuned echelon base-stock {tuned.params}: {ref:.3f} +- {ref_se:.3f} (over the 20 files)")
    for key in ("best", "final"):
        vals = np.array([r["liu_stationary"][key]["mean"] for r in runs])
        se = vals.std(ddof=1) / np.sqrt(len(vals)) if len(vals) > 1 else float("nan")
        print(
            f"PPO ({key} policy), {len(vals)} seeds {[r['seed'] for r in runs]}: "
            f"{vals.mean():.3f} +- {se:.3f} over seeds; per seed {np.round(vals, 3).tolist()}; "
            f"vs tuned {(vals.mean() / ref - 1) * 100:+.1f}%"
        )
    for r in runs:
        diff = np.array(r["liu_stationary"]["best"]["episodes"]) - np.array(ref_eps)  # paired per file
        print(
            f"  seed {r['seed']}: best policy - tuned, paired over the 20 files: "
            f"{diff.mean():+.3f} +- {diff.std(ddof=1) / np.sqrt(len(diff)):.3f}; "
            f"{r['iterations']} iterations, {r['env_steps']:.0f} env steps, "
            f"{r['cpu_minutes']:.1f} CPU-min, {r['wall_seconds'] / 60:.1f} wall-min"
        )
    if args.png:
        from invmgmt_marl.plots import new_figure

        fig = new_figure(figsize=(6, 3.4))
        ax = fig.subplots()
        from invmgmt_marl.train import evaluation_demand

        # the curves are on each seed's training evaluation set (10 paths, seed + 10000), not Liu's
        # files: tuned echelon base-stock on those same paths, averaged over the seeds, is the dotted line
        on_eval = [
            score(env.net, tuned.policy(env.net), evaluation_demand(env, 10, r["seed"] + 10_000))[0]
            for r in runs
        ]
        ax.axhline(
            float(np.mean(on_eval)),
            color="grey",
            ls=":",
            lw=1,
            label=f"tuned echelon base-stock on the eval paths ({np.mean(on_eval):.2f})",
        )
        for r in runs:
            steps = [row["env_steps"] / 1e6 for row in r["curve"]]
            ax.plot(
                steps,
                [row["eval_cost_per_agent_period"] for row in r["curve"]],
                lw=1,
                label=f"seed {r['seed']}",
            )
        ax.axhline(
            ref, color="black", ls="--", lw=1, label=f"tuned echelon base-stock on Liu's files ({ref:.2f})"
        )
        ax.set_xlabel("env steps (millions)")
        ax.set_ylabel("eval cost / agent-period")
        ax.set_ylim(5, 12)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        ax.set_title("SB3 PPO, order_up_to_echelon, serial Poisson(10)", fontsize=9)
        fig.tight_layout()
        fig.savefig(args.png, dpi=80)
        print(f"wrote {args.png}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--minutes", type=float, default=30.0, help="wall-clock training budget")
    t.add_argument("--out", default="runs/targets/seed0")
    t.add_argument("--bound", type=float, default=200.0, help="declared bound of every echelon target")
    t.add_argument("--alpha", type=float, default=0.0, help="own/team cost mix of the reward (0: team)")
    t.add_argument("--view", default="global", choices=["global", "neighbours", "local"])
    t.add_argument("--episodes", type=int, default=8, help="parallel episodes per PPO rollout")
    t.add_argument("--lr", type=float, default=3e-4)
    t.add_argument("--log-std-init", type=float, default=-1.0)
    s = sub.add_parser("summary")
    s.add_argument("runs", nargs="+")
    s.add_argument("--png", default=None)
    args = p.parse_args()
    {"train": cmd_train, "summary": cmd_summary}[args.cmd](args)


if __name__ == "__main__":
    main()
