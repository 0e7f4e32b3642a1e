"""``invmgmt-marl demand generate | evaluate | benchmark``: demand test sets, scoring a baseline, the table.

``demand generate`` writes a fixed demand test set; ``evaluate`` scores a (tuned) baseline on a test set
with every KPI, the perfect-information bound and plots; ``benchmark`` evaluates every baseline on every
shipped scenario into one markdown table. The work is done by :mod:`invmgmt_marl.demandsets`,
:mod:`invmgmt_marl.evaluate` and :mod:`invmgmt_marl.reporting`.
"""

from __future__ import annotations

import argparse
import functools
import json
import shutil
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from invmgmt_marl.cli._common import (
    PLOTS_INSTALL,
    TRUST_NOTE,
    HelpFormatter,
    build_policy,
    demand_override,
    demand_process_parent,
    episodes_parent,
    has_module,
    nonnegative_int,
    objective_parent,
    out_folder,
    out_parent,
    parse_options,
    periods_parent,
    positive_int,
    scenario_parent,
    seed_parent,
    stderr_console,
    tune_policy,
)
from invmgmt_marl.cli._errors import print_note
from invmgmt_marl.errors import quote
from invmgmt_marl.metrics import ECHELON_GROUPINGS
from invmgmt_marl.registry import POLICIES

__all__ = ["add_parsers", "run_demand", "run_evaluate", "run_benchmark"]


def add_parsers(sub: Any) -> None:
    """Register ``demand`` (with ``generate``), ``evaluate`` and ``benchmark``."""
    scenario_overrides = [periods_parent(), demand_process_parent()]

    d = sub.add_parser("demand", help="fixed demand test sets", formatter_class=HelpFormatter)
    dsub = d.add_subparsers(dest="demand_command", required=True, metavar="{generate}")
    g = dsub.add_parser(
        "generate",
        help="write DIR/{k}.txt (one line per period) and DIR/meta.json",
        description="Write a fixed demand test set: DIR/{k}.txt (one line per period) and DIR/meta.json.",
        formatter_class=HelpFormatter,
        parents=[
            scenario_parent(),
            episodes_parent(20, "demand paths to draw"),
            seed_parent(0, "seeds the demand draw"),
            out_parent(required=True, help="folder to write"),
            *scenario_overrides,
        ],
    )
    g.set_defaults(handler=run_demand)

    train_help = "training paths for --tune"
    e = sub.add_parser(
        "evaluate",
        help="evaluate a (tuned) baseline: KPIs, bound, CSV/JSON and plots",
        description="Evaluate a (tuned) baseline on a demand test set: every KPI, the perfect-information "
        "bound, CSV/JSON and plots.",
        formatter_class=HelpFormatter,
        parents=[
            scenario_parent(),
            seed_parent(0, "seeds the test paths and the policy's generator"),
            *scenario_overrides,
            objective_parent("cost"),
            out_parent(help="folder for evaluation.json, episodes.csv and the PNG plots"),
        ],
    )
    e.add_argument(
        "--policy",
        default="base_stock",
        choices=POLICIES.names(),
        metavar="NAME",
        help="baseline policy: " + ", ".join(POLICIES.names()),
    )
    e.add_argument(
        "--option",
        action="append",
        metavar="KEY=VALUE",
        help="policy option (repeatable), e.g. signal=requests, echelon=true, levels=[50,50,50]",
    )
    e.add_argument(
        "--tune", action="store_true", help="tune the policy family first on fresh training demand"
    )
    e.add_argument(
        "--checkpoint",
        metavar="BACKEND:PATH",
        help="evaluate a policy saved by 'invmgmt-marl train' instead of a baseline: sb3:PATH (the .zip) or "
        "rllib:PATH (the checkpoint folder); it must have been trained on this scenario's agents and "
        f"spaces; {TRUST_NOTE}",
    )
    e.add_argument("--train-episodes", type=positive_int, default=64, help=train_help)
    e.add_argument(
        "--train-seed",
        type=nonnegative_int,
        default=123,
        help="seed of the training paths (not the test seed)",
    )
    src = e.add_mutually_exclusive_group()
    src.add_argument("--demand", help="demand-set folder (ours or Liu et al.'s layout)")
    src.add_argument(
        "--episodes", type=positive_int, default=20, help="test paths to draw when no --demand is given"
    )
    e.add_argument("--by", default="role", choices=ECHELON_GROUPINGS, help="echelon grouping for bullwhip")
    e.add_argument("--no-bound", action="store_true", help="skip the perfect-information bound")
    e.add_argument("--no-plots", action="store_true", help="with --out: write no PNG plots")
    e.add_argument(
        "--plot-episode",
        type=nonnegative_int,
        default=0,
        help="episode shown in the time-series plots, the animation and the report",
    )
    e.add_argument(
        "--animate",
        metavar="PATH",
        help="also write an animation of that episode, one frame per period: .gif, or .mp4 (needs ffmpeg)",
    )
    e.add_argument(
        "--report", metavar="PATH", help="also write a one-page episode report PNG (diagram and time series)"
    )
    e.set_defaults(handler=run_evaluate)

    b = sub.add_parser(
        "benchmark",
        help="every baseline on every shipped scenario -> one markdown table",
        description="Evaluate every baseline on every shipped scenario (up to 12 agents by default) on the "
        "same test paths and write one markdown table.",
        formatter_class=HelpFormatter,
        parents=[
            episodes_parent(20, "test paths per scenario"),
            seed_parent(0, "test-set seed"),
            periods_parent(),
            objective_parent("auto", ("auto",), "auto: profit where stores sell at a price, cost elsewhere"),
            out_parent("docs/benchmark.md", help="markdown file to write"),
        ],
    )
    b.add_argument(
        "--train-episodes", type=positive_int, default=64, help="training paths of the tuned baselines"
    )
    b.add_argument("--train-seed", type=nonnegative_int, default=123, help="seed of the training paths")
    b.add_argument("--scenarios", help="comma-separated scenario names (default: shipped, up to 12 agents)")
    b.add_argument("--policies", help="comma-separated baselines (default: all)")
    b.add_argument(
        "--policy",
        action="append",
        metavar="NAME[:KEY=VALUE,...]",
        help="also benchmark this registered policy, untuned, with these options (repeatable), e.g. "
        "rolling_ww:horizon=8,window=6 or rolling_silver_meal",
    )
    b.add_argument("--no-bound", action="store_true", help="skip the perfect-information bound")
    b.add_argument("--json", help="also write every row as JSON")
    b.add_argument(
        "--ray", action="store_true", help="one Ray task per scenario on a local Ray instance (extra 'rllib')"
    )
    b.add_argument("--address", help="Ray cluster address: shard the scenarios there (implies --ray)")
    b.add_argument("--num-cpus", type=positive_int, help="CPUs of the local Ray instance (default: all)")
    b.set_defaults(handler=run_benchmark)


def run_demand(args: argparse.Namespace, console: Console) -> int:
    from invmgmt_marl.demandsets import generate_demand_set

    d = generate_demand_set(
        args.scenario,
        args.episodes,
        args.seed,
        args.out,
        periods=args.periods,
        demand=demand_override(args.demand_process),
    )
    console.print(
        f"wrote {d.shape[0]} episode(s) x {d.shape[1]} periods x "
        f"{f'{d.shape[2]} product(s) x ' if d.ndim == 4 else ''}{d.shape[-1]} store(s) of "
        f"{args.scenario} demand "
        f"(seed {args.seed}, mean {d.mean():.2f} per store-period) to {args.out}/{{0..{d.shape[0] - 1}}}.txt "
        f"and {args.out}/meta.json"
    )
    return 0


def _check_picture_flags(args: argparse.Namespace) -> None:
    """Fail before any work when ``--animate`` / ``--report`` cannot be written (matplotlib, ffmpeg,
    file suffix)."""
    if args.animate is None and args.report is None:
        return
    if args.animate is not None:
        suffix = Path(args.animate).suffix.lower()
        if suffix not in (".gif", ".mp4"):
            raise ValueError(f"--animate: expected a .gif or .mp4 file name, got {quote(args.animate)}")
        if suffix == ".mp4" and shutil.which("ffmpeg") is None:
            raise ValueError(
                f"--animate: writing {quote(args.animate)} needs ffmpeg on the PATH; write a .gif instead"
            )
    if args.report is not None and Path(args.report).suffix.lower() != ".png":
        raise ValueError(f"--report: expected a .png file name, got {quote(args.report)}")
    if not has_module("matplotlib"):
        flag = "--animate" if args.animate is not None else "--report"
        raise ImportError(f"{flag} needs matplotlib: {PLOTS_INSTALL}")


CHECKPOINT_BACKENDS = ("sb3", "rllib")


def load_checkpoint(spec: str, scenario: str) -> Any:
    """The policy saved at ``BACKEND:PATH``, checked against ``scenario`` before anything is unpickled
    (:class:`~invmgmt_marl.errors.CheckpointError` on a mismatch). Load only checkpoints you trust."""
    backend, sep, path = spec.partition(":")
    if not sep or backend not in CHECKPOINT_BACKENDS or not path:
        raise ValueError(f"--checkpoint: expected sb3:PATH or rllib:PATH, got {quote(spec)}")
    if not Path(path).exists():
        raise ValueError(f"--checkpoint: no such file or folder {quote(path)}")
    if backend == "sb3":
        from invmgmt_marl.adapters.sb3 import load_sb3_policy

        return load_sb3_policy(path, scenario=scenario)
    from invmgmt_marl.adapters.rllib import load_rllib_policy

    return load_rllib_policy(path, scenario=scenario)


def run_evaluate(args: argparse.Namespace, console: Console) -> int:
    from invmgmt_marl.evaluate import evaluate, resolve_network
    from invmgmt_marl.oracle import OracleError
    from invmgmt_marl.policies import TUNABLE
    from invmgmt_marl.reporting import summary_table, write_evaluation

    _check_picture_flags(args)
    if args.out is not None:
        out_folder(args.out)  # a file or an unwritable folder fails now, not after the evaluation
    net = resolve_network(args.scenario, periods=args.periods, demand=demand_override(args.demand_process))
    options = parse_options(args.option)
    if args.checkpoint is not None and (args.tune or options):
        raise ValueError("--checkpoint: evaluates a trained policy; --tune and --option are for baselines")
    tuning = None
    if args.tune:
        if args.policy not in TUNABLE:
            raise ValueError(f"--policy: {args.policy!r} cannot be tuned; tunable: {sorted(TUNABLE)}")
        if args.demand is None and args.train_seed == args.seed:
            raise ValueError(
                f"--train-seed: must differ from the test --seed ({args.seed}), got {args.train_seed}"
            )
        tuning = tune_policy(
            net,
            args.policy,
            options,
            episodes=args.train_episodes,
            seed=args.train_seed,
            objective=args.objective,
            progress=console.is_terminal,
            cache=True,
        )
        policy = tuning.policy(net)
        console.print(
            escape(
                f"tuned {args.policy} on {args.train_episodes} training paths (seed {args.train_seed}): "
                f"{tuning.cost_per_agent_period:.3f} per agent-period in training; "
                + ", ".join(f"{k} {v:g}" for k, v in tuning.params.items())
            )
        )
    elif args.checkpoint is not None:
        policy = load_checkpoint(args.checkpoint, args.scenario)
    else:
        policy = build_policy(args.policy, net, options)

    def run(bound: bool) -> Any:
        return evaluate(
            policy,
            net,
            demand=args.demand,
            episodes=args.episodes,
            seed=args.seed,
            bound=bound,
            objective=args.objective,
            by=args.by,
            progress=False,
        )

    with console.status(escape(f"evaluating {policy!r} on {net.name}")):
        try:
            ev = run(not args.no_bound)
        except OracleError as err:  # features the LP does not model: evaluate without the bound
            print_note(stderr_console(), f"no perfect-information bound: {err}")
            ev = run(False)
    if not 0 <= args.plot_episode < ev.episodes:
        raise ValueError(f"--plot-episode: expected 0..{ev.episodes - 1}, got {args.plot_episode}")
    console.print(summary_table(ev))
    written: list[Path] = []
    if args.out:
        written += write_evaluation(ev, args.out, None if tuning is None else {"tuning": asdict(tuning)})
        if not args.no_plots:
            if has_module("matplotlib"):
                from invmgmt_marl.plots import save_plots

                written += save_plots(ev, args.out, episode=args.plot_episode)
            else:
                note = f"no plots written (the tables are): plots need matplotlib: {PLOTS_INSTALL}"
                print_note(stderr_console(), note, "warning")
    if args.animate is not None or args.report is not None:
        from invmgmt_marl.frames import episode_report, save_animation

        traj = ev.trajectory
        if args.animate is not None:
            with console.status(escape(f"drawing {ev.periods} frames of episode {args.plot_episode}")):
                written.append(save_animation((net, traj), args.animate, episode=args.plot_episode))
        if args.report is not None:
            written.append(episode_report(net, traj, args.report, episode=args.plot_episode))
    if written:
        console.print(escape("wrote " + ", ".join(str(p) for p in written)), soft_wrap=True)
    return 0


def _benchmark_command(args: argparse.Namespace) -> str:
    """The command line that regenerates the table (written above it)."""
    cmd = [
        "invmgmt-marl benchmark",
        f"--episodes {args.episodes}",
        f"--seed {args.seed}",
        f"--train-episodes {args.train_episodes}",
        f"--train-seed {args.train_seed}",
    ]
    for flag, v in (
        ("--scenarios", args.scenarios),
        ("--policies", args.policies),
        ("--periods", args.periods),
    ):
        if v is not None:
            cmd.append(f"{flag} {v}")
    for spec in args.policy or []:
        cmd.append(f"--policy {spec}")
    if args.objective != "auto":
        cmd.append(f"--objective {args.objective}")
    if args.no_bound:
        cmd.append("--no-bound")
    cmd.append(f"--out {args.out}")
    return " ".join(cmd)


def _split_top_level(text: str) -> list[str]:
    """``text`` split at the commas outside brackets and braces (``a=1,levels=[1,2]`` -> 2 items)."""
    items, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch in "[{"
        depth -= ch in "]}"
        if ch == "," and depth == 0:
            items.append(text[start:i])
            start = i + 1
    items.append(text[start:])
    return [s for s in items if s.strip()]


def extra_baselines(
    specs: Sequence[str] | None, scenario: str = "serial", flag: str = "--policy"
) -> list[Any]:
    """``["NAME[:KEY=VALUE,...]", ...]`` -> untuned :class:`~invmgmt_marl.evaluate.Baseline` rows.

    Each spec's policy is built once on ``scenario`` first, so an unknown name or option fails before
    any work (ValueError naming the flag). The row's label is the spec itself.
    """
    from invmgmt_marl.compile import compile_network
    from invmgmt_marl.evaluate import Baseline
    from invmgmt_marl.scenario import load_scenario

    out: list[Any] = []
    net = None
    for spec in specs or []:
        name, _, rest = spec.partition(":")
        name = name.strip()
        if name not in POLICIES.names():
            raise ValueError(f"{flag}: unknown policy {quote(name)}; known: {', '.join(POLICIES.names())}")
        options = parse_options(_split_top_level(rest), flag)
        if net is None:
            net = compile_network(load_scenario(scenario))
        build_policy(name, net, options, flag)
        out.append(Baseline(spec.strip(), name, False, options))
    return out


def run_benchmark(args: argparse.Namespace, console: Console) -> int:
    from invmgmt_marl.evaluate import run_benchmark as benchmark
    from invmgmt_marl.evaluate import select_baselines
    from invmgmt_marl.reporting import benchmark_document, benchmark_markdown

    run: Any = benchmark
    if args.ray or args.address:  # one Ray task per scenario
        from invmgmt_marl.sharding import run_benchmark_sharded

        run = functools.partial(run_benchmark_sharded, address=args.address, num_cpus=args.num_cpus)
    rows = run(
        args.scenarios.split(",") if args.scenarios else None,
        episodes=args.episodes,
        seed=args.seed,
        train_episodes=args.train_episodes,
        train_seed=args.train_seed,
        baselines=(
            *select_baselines(args.policies.split(",") if args.policies else None, "--policies"),
            *extra_baselines(args.policy, args.scenarios.split(",")[0] if args.scenarios else "serial"),
        ),
        bound=not args.no_bound,
        progress=console.is_terminal,
        periods=args.periods,
        objective=args.objective,
    )
    command = _benchmark_command(args)
    out = Path(args.out)
    text = benchmark_document(
        rows,
        command,
        episodes=args.episodes,
        seed=args.seed,
        train_episodes=args.train_episodes,
        train_seed=args.train_seed,
        previous=out.read_text(encoding="utf-8") if out.exists() else None,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2, default=float) + "\n", encoding="utf-8")
    console.out(benchmark_markdown(rows, command), highlight=False)
    console.print(f"wrote {out}")
    return 0
