"""``invmgmt-marl train`` (PPO with RLlib or Stable-Baselines3: a progress bar, checkpoints, a curve) and
``invmgmt-marl ablate`` (a reward-ablation grid, :mod:`invmgmt_marl.ablation`)."""

from __future__ import annotations

import argparse
import os
from typing import Any

from rich.console import Console
from rich.markup import escape

from invmgmt_marl.cli._common import (
    PLOTS_INSTALL,
    HelpFormatter,
    demand_override,
    demand_process_parent,
    finite_float,
    has_module,
    nonnegative_int,
    out_folder,
    out_parent,
    positive_float,
    positive_int,
    report_progress,
    scenario_parent,
    seed_parent,
    stderr_console,
)
from invmgmt_marl.cli._errors import print_note
from invmgmt_marl.registry import ACTION_TYPES, REWARD_SCHEMES

__all__ = ["add_ablate_parser", "add_train_parser", "cmd_ablate", "cmd_train"]

#: module layouts of the trained policies (``invmgmt_marl.train.train``'s ``policies``)
POLICY_LAYOUTS = ("shared", "per_role", "per_agent")
BACKENDS = ("rllib", "sb3", "torchrl")
#: the library each backend trains with, besides torch: (module, extra)
BACKEND_MODULES = {
    "rllib": ("ray.rllib", "rllib"),
    "sb3": ("stable_baselines3", "sb3"),
    "torchrl": ("torchrl", "torchrl"),
}
#: ``ablate --quick``: a smoke run of the whole pipeline in about a minute (not a result to report)
QUICK = {"seeds": 1, "iterations": 4, "steps_per_iteration": 1024, "eval_episodes": 4, "test_episodes": 10}


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
    t.add_argument("--iterations", type=positive_int, default=25, help="training iterations")
    t.add_argument(
        "--steps-per-iteration",
        type=positive_int,
        default=4000,
        help="samples per iteration (sb3: agent steps; rllib: its train batch size, in env steps)",
    )
    t.add_argument(
        "--max-seconds", type=positive_float, help="stop after the iteration that crosses this time budget"
    )
    t.add_argument(
        "--keep-best",
        action="store_true",
        help="also save the policy with the best evaluation cost so far under OUT/best",
    )
    t.add_argument("--eval-episodes", type=positive_int, default=10, help="fixed evaluation demand paths")
    t.add_argument("--address", help="Ray cluster address (rllib); default: a local Ray instance")
    t.add_argument(
        "--num-env-runners", type=nonnegative_int, default=0, help="RLlib env runners (Ray actors)"
    )
    t.add_argument(
        "--num-learners",
        type=nonnegative_int,
        default=0,
        help="RLlib learner actors (0: learn in the driver)",
    )
    t.add_argument("--action-type", choices=ACTION_TYPES.names(), help="override the scenario's")
    t.add_argument("--reward", choices=REWARD_SCHEMES.names(), help="override the scenario's")
    t.add_argument("--alpha", type=finite_float, help="own/team reward mix, overrides the scenario's")
    t.add_argument("--lr", type=positive_float, help="PPO learning rate")
    t.add_argument(
        "--algo",
        default="mappo",
        choices=("mappo", "ippo", "happo"),
        help="torchrl backend: MAPPO, IPPO or HAPPO",
    )
    t.add_argument(
        "--no-reference",
        action="store_true",
        help="draw no tuned base-stock line on the learning curve (it tunes base-stock levels, cached)",
    )
    t.set_defaults(handler=cmd_train)


def check_training_extras(backend: str) -> bool:
    """Fail before any work when torch or the backend's library is missing (ImportError naming the
    extra); returns whether matplotlib is there for the learning-curve PNG."""
    module, extra = BACKEND_MODULES[backend]
    for name in ("torch", module):
        if not has_module(name):
            raise ImportError(
                f"training with --backend {backend} needs {name.split('.')[0]}: "
                f"pip install 'invmgmt-marl[{extra}]' (install torch==2.13.0 first on CPU-only machines)"
            )
    if has_module("matplotlib"):
        return True
    print_note(stderr_console(), f"no learning-curve PNG will be drawn: {PLOTS_INSTALL}", "warning")
    return False


def cmd_train(args: argparse.Namespace, console: Console) -> int:
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    plots = check_training_extras(args.backend)
    out_folder(args.out)
    from invmgmt_marl.train import base_stock_reference, plot_curve, train

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
        f"training {args.backend} PPO ({args.policies}) on [bold]{escape(args.scenario)}[/bold] for "
        f"{args.iterations} "
        f"iterations of {args.steps_per_iteration} agent steps, seed {args.seed}, "
        f"output {escape(args.out)}"
    )
    with report_progress(console, args.iterations, "training") as advance:

        def progress(row: dict[str, float]) -> None:
            advance(
                f"return {row['episode_return_mean']:,.0f} | eval cost/agent-period "
                f"{row['eval_cost_per_agent_period']:.2f}"
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
    best = min(result.curve, key=lambda r: r["eval_cost_per_agent_period"])
    lines = [
        f"done in {result.seconds:.0f} s: final evaluation cost "
        f"{result.curve[-1]['eval_cost_per_agent_period']:.2f} per agent-period (best "
        f"{best['eval_cost_per_agent_period']:.2f} at iteration {best['iteration']:.0f}).",
        f"checkpoint {result.checkpoint}",
        f"learning curve {os.path.join(args.out, 'results.json')}",
    ]
    if plots:
        reference = None
        if not args.no_reference:
            with console.status("tuning base-stock levels for the reference line"):
                reference = base_stock_reference(args.scenario, args.eval_episodes, args.seed, **env_kwargs)
            lines.insert(1, f"tuned base-stock on the same evaluation paths: {reference:.2f}")
        png = plot_curve(result, os.path.join(args.out, "learning_curve.png"), reference=reference)
        lines[-1] += f" and {png}"
    console.print(escape("\n".join(lines)), soft_wrap=True)
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
    a.add_argument(
        "--seeds", type=positive_int, help="seeds 0 .. SEEDS-1 per configuration (default: 3; 1 with --quick)"
    )
    a.add_argument(
        "--parallel", type=positive_int, default=1, help="trials at once, as Ray tasks (one CPU each)"
    )
    budget = a.add_argument_group("budget (default: the grid's; trials with another budget are not reused)")
    budget.add_argument("--iterations", type=positive_int, help="training iterations per trial")
    budget.add_argument(
        "--steps-per-iteration", type=positive_int, help="samples per training iteration (at least 64)"
    )
    budget.add_argument(
        "--test-episodes", type=positive_int, help="test demand paths every trial is scored on"
    )
    budget.add_argument(
        "--configs", type=positive_int, help="run only the grid's first CONFIGS reward configurations"
    )
    budget.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run in about a minute, to check the set-up (not a result): "
        f"{QUICK['seeds']} seed, {QUICK['iterations']} iterations of {QUICK['steps_per_iteration']} samples, "
        f"{QUICK['eval_episodes']} evaluation and {QUICK['test_episodes']} test paths, no bound; "
        "output OUT or runs/ablation_<scenario>_quick; the flags above still win",
    )
    a.set_defaults(handler=cmd_ablate, resumable=True)


def _ablation_budget(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any], int]:
    """The grid changes the budget flags ask for: (budget fields, evaluation fields, seeds)."""
    quick = QUICK if args.quick else {}
    budget: dict[str, Any] = {}
    evaluation: dict[str, Any] = {}
    if quick:
        budget["eval_episodes"] = quick["eval_episodes"]
        evaluation["bound"] = False
    for flag, key in (("iterations", "iterations"), ("steps_per_iteration", "steps_per_iteration")):
        value = getattr(args, flag) if getattr(args, flag) is not None else quick.get(flag)
        if value is not None:
            budget[key] = value
    test = args.test_episodes if args.test_episodes is not None else quick.get("test_episodes")
    if test is not None:
        evaluation["episodes"] = test
    seeds = args.seeds if args.seeds is not None else quick.get("seeds", 3)
    return budget, evaluation, seeds


def cmd_ablate(args: argparse.Namespace, console: Console) -> int:
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    from invmgmt_marl.ablation import load_grid, run_ablation, with_budget

    grid, scenario = load_grid(args.grid, args.scenario)
    budget, evaluation, seeds = _ablation_budget(args)
    grid = with_budget(grid, budget, evaluation, args.configs)
    check_training_extras(grid.budget.backend)
    out = out_folder(args.out or f"runs/ablation_{scenario.name}{'_quick' if args.quick else ''}")
    n = len(grid.configs) * seeds
    console.print(
        escape(
            f"ablation on {scenario.name}: {len(grid.configs)} reward configurations x {seeds} seed(s), "
            f"{grid.budget.backend} PPO ({grid.budget.policies}), {grid.budget.iterations} iterations of "
            f"{grid.budget.steps_per_iteration} samples each; test set {grid.evaluation.episodes} episodes "
            f"(seed {grid.evaluation.seed}{'' if grid.evaluation.bound else ', no bound'}); output {out}"
        )
    )
    with report_progress(console, n, "trial") as advance:
        results = run_ablation(grid, scenario, seeds=seeds, out=out, parallel=args.parallel, progress=advance)
    console.out((out / "results.md").read_text(encoding="utf-8"), highlight=False)
    console.print(
        escape(f"tables: {out}/results.md, results.csv, results.json; curves: {out}/learning_curves.png"),
        soft_wrap=True,
    )
    return 0 if results["rows"] else 1
