"""``invmgmt-marl train`` (PPO with RLlib or Stable-Baselines3: a progress bar, checkpoints, a curve) and
``invmgmt-marl ablate`` (a reward-ablation grid, :mod:`invmgmt_marl.ablation`)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from rich.console import Console

from invmgmt_marl.cli._common import (
    HelpFormatter,
    demand_override,
    demand_process_parent,
    out_parent,
    progress_bar,
    scenario_parent,
    seed_parent,
)
from invmgmt_marl.registry import ACTION_TYPES, REWARD_SCHEMES

__all__ = ["add_ablate_parser", "add_train_parser", "cmd_ablate", "cmd_train"]

#: module layouts of the trained policies (``invmgmt_marl.train.train``'s ``policies``)
POLICY_LAYOUTS = ("shared", "per_role", "per_agent")
BACKENDS = ("rllib", "sb3", "torchrl")


def add_train_parser(sub: Any) -> None:
    t = sub.add_parser(
        "train",
        help="train PPO (RLlib or Stable-Baselines3); writes a checkpoint, results.json and a PNG curve",
        description="Train PPO (RLlib or Stable-Baselines3) on a scenario; writes a checkpoint, "
        "results.json and a PNG learning curve.",
        formatter_class=HelpFormatter,
        parents=[
            scenario_parent(),
            seed_parent(),
            out_parent("runs/train"),
            demand_process_parent(),
        ],
    )
    t.add_argument("--backend", default="rllib", choices=BACKENDS, help="training library")
    t.add_argument(
        "--policies",
        default="shared",
        choices=POLICY_LAYOUTS,
        help="module layout (sb3: shared only)",
    )
    t.add_argument("--iterations", type=int, default=25, help="training iterations")
    t.add_argument(
        "--steps-per-iteration",
        type=int,
        default=4000,
        help="samples per iteration (sb3: agent steps; rllib: its train batch size, in env steps)",
    )
    t.add_argument("--max-seconds", type=float, help="stop after the iteration that crosses this time budget")
    t.add_argument(
        "--keep-best",
        action="store_true",
        help="also save the policy with the best evaluation cost so far under OUT/best",
    )
    t.add_argument("--eval-episodes", type=int, default=10, help="fixed evaluation demand paths")
    t.add_argument("--address", help="Ray cluster address (rllib); default: a local Ray instance")
    t.add_argument("--num-env-runners", type=int, default=0, help="RLlib env runners (Ray actors)")
    t.add_argument(
        "--num-learners", type=int, default=0, help="RLlib learner actors (0: learn in the driver)"
    )
    t.add_argument("--action-type", choices=ACTION_TYPES.names(), help="override the scenario's")
    t.add_argument("--reward", choices=REWARD_SCHEMES.names(), help="override the scenario's")
    t.add_argument("--alpha", type=float, help="own/team reward mix, overrides the scenario's")
    t.add_argument("--lr", type=float, help="PPO learning rate")
    t.add_argument(
        "--algo", default="mappo", choices=("mappo", "ippo"), help="torchrl backend: MAPPO or IPPO"
    )
    t.set_defaults(handler=cmd_train)


def cmd_train(args: argparse.Namespace, console: Console) -> int:
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    from invmgmt_marl.train import plot_curve, train

    env_kwargs: dict[str, Any] = {
        k: v
        for k, v in {"action_type": args.action_type, "reward": args.reward, "alpha": args.alpha}.items()
        if v is not None
    }
    demand = demand_override(args.demand_process)
    if demand is not None:
        env_kwargs["demand"] = demand
    ppo = {"learning_rate" if args.backend == "sb3" else "lr": args.lr} if args.lr else {}
    console.print(
        f"training {args.backend} PPO ({args.policies}) on [bold]{args.scenario}[/bold] for "
        f"{args.iterations} "
        f"iterations of {args.steps_per_iteration} agent steps, seed {args.seed}, output {args.out}"
    )
    with progress_bar(console) as bar:
        task = bar.add_task("training", total=args.iterations, status="")

        def progress(row: dict[str, float]) -> None:
            bar.update(
                task,
                advance=1,
                status=f"return {row['episode_return_mean']:,.0f} | eval cost/agent-period "
                f"{row['eval_cost_per_agent_period']:.2f}",
            )

        result = train(
            args.scenario,
            backend=args.backend,
            policies=args.policies,
            iterations=args.iterations,
            seed=args.seed,
            out=args.out,
            eval_episodes=args.eval_episodes,
            address=args.address,
            num_env_runners=args.num_env_runners,
            num_learners=args.num_learners,
            steps_per_iteration=args.steps_per_iteration,
            max_seconds=args.max_seconds,
            keep_best=args.keep_best,
            algo=args.algo,
            progress=progress,
            ppo=ppo,
            **env_kwargs,
        )
    png = plot_curve(result, os.path.join(args.out, "learning_curve.png"))
    best = min(result.curve, key=lambda r: r["eval_cost_per_agent_period"])
    console.print(
        f"done in {result.seconds:.0f} s: final evaluation cost "
        f"{result.curve[-1]['eval_cost_per_agent_period']:.2f} "
        f"per agent-period (best {best['eval_cost_per_agent_period']:.2f} at iteration "
        f"{best['iteration']:.0f}).\n"
        f"checkpoint {result.checkpoint}\nlearning curve {os.path.join(args.out, 'results.json')} and {png}"
    )
    return 0


def add_ablate_parser(sub: Any) -> None:
    a = sub.add_parser(
        "ablate",
        help="reward ablation: train every reward configuration of a grid with the same budget and seeds, "
        "score all on one test set (resumable)",
        description="Reward ablation: train every reward configuration of a grid with the same budget and "
        "seeds, score all on one test set (resumable).",
        formatter_class=HelpFormatter,
        parents=[
            scenario_parent(None, "scenario name or path (default: the grid's)"),
            out_parent(help="output folder (default runs/ablation_<scenario>)"),
        ],
    )
    a.add_argument("--grid", required=True, help="grid YAML (see ablations/*.yaml)")
    a.add_argument("--seeds", type=int, default=3, help="seeds 0 .. SEEDS-1 per configuration")
    a.add_argument("--parallel", type=int, default=1, help="trials at once, as Ray tasks (one CPU each)")
    a.set_defaults(handler=cmd_ablate)


def cmd_ablate(args: argparse.Namespace, console: Console) -> int:
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    from invmgmt_marl.ablation import load_grid, run_ablation

    grid, scenario = load_grid(args.grid, args.scenario)
    out = args.out or f"runs/ablation_{scenario.name}"
    n = len(grid.configs) * args.seeds
    console.print(
        f"ablation on [bold]{scenario.name}[/bold]: {len(grid.configs)} reward configurations x "
        f"{args.seeds} seeds, "
        f"{grid.budget.backend} PPO ({grid.budget.policies}), {grid.budget.iterations} iterations of "
        f"{grid.budget.steps_per_iteration} samples each; test set {grid.evaluation.episodes} episodes "
        f"(seed {grid.evaluation.seed}); output {out}"
    )
    with progress_bar(console) as bar:
        task = bar.add_task("trials", total=n, status="")
        results = run_ablation(
            grid,
            scenario,
            seeds=args.seeds,
            out=out,
            parallel=args.parallel,
            progress=lambda msg: bar.update(task, advance=1, status=msg),
        )
    console.print((Path(out) / "results.md").read_text())
    console.print(f"tables: {out}/results.md, results.csv, results.json; curves: {out}/learning_curves.png")
    return 0 if results["rows"] else 1
