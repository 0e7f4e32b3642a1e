"""Command line: ``invmgmt-marl {scenarios, simulate, demand generate, evaluate, benchmark}``.

``invmgmt-marl simulate`` runs the default scenario (``serial``) end to end with a base-stock policy
and prints what happened: per-agent flows, service and costs, the system's unit balance, and the
first periods of the trace.

``invmgmt-marl demand generate`` writes a fixed demand test set; ``invmgmt-marl evaluate`` scores a
(tuned) baseline on a test set with every KPI, the perfect-information bound and plots;
``invmgmt-marl benchmark`` evaluates every baseline on every shipped scenario into one markdown table.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from invmgmt_marl import metrics
from invmgmt_marl.cli_train import add_ablate_parser, add_train_parser, cmd_ablate, cmd_train
from invmgmt_marl.compile import compile_network
from invmgmt_marl.demandsets import DemandSetError
from invmgmt_marl.errors import ScenarioError
from invmgmt_marl.policies import make_policy
from invmgmt_marl.rollout import Trajectory, rollout
from invmgmt_marl.scenario import list_scenarios, load_scenario
from invmgmt_marl.sim.ledger import COST_FIELDS
from invmgmt_marl.sim.network import Network

__all__ = ["main", "summarize"]


def _cmd_scenarios(args: argparse.Namespace, console: Console) -> int:
    table = Table(title="Shipped scenarios")
    for col in ("name", "agents", "edges", "periods", "reward", "description"):
        table.add_column(col)
    for name in list_scenarios():
        sc = load_scenario(name)
        table.add_row(
            name, str(len(sc.nodes)), str(len(sc.edges)), str(sc.periods), sc.reward.scheme, sc.description
        )
    console.print(table)
    return 0


def summarize(net: Network, traj: Trajectory) -> dict[str, Any]:
    """Per-agent and system totals of a trajectory, averaged over the episodes of the batch."""

    def total(name: str) -> Any:
        return traj.node(name).sum(axis=0).mean(axis=0)  # (N,) sum over periods, mean over episodes

    # fill rate: share of new requests shipped in the period they arrived (backlog is served first)
    fill = metrics.node_fill_rate(traj).mean(axis=0)
    cost = sum(total(c) for c in COST_FIELDS)
    agents = {}
    for i, a in enumerate(net.agents):
        agents[a] = {
            "ordered": float(total("ordered")[i]),
            "received": float(total("received")[i]),
            "shipped": float(total("shipped")[i]),
            "fill_rate": float(fill[i]),
            "mean_on_hand": float(traj.node("on_hand")[:, :, i].mean()),
            "mean_backlog": float(traj.node("backlog")[:, :, i].mean()),
            "lost": float(total("lost")[i]),
            "holding_cost": float(total("holding_cost")[i]),
            "backlog_cost": float(total("backlog_cost")[i]),
            "lost_sales_cost": float(total("lost_sales_cost")[i]),
            "ordering_cost": float(total("ordering_cost")[i]),
            "fixed_cost": float(total("fixed_cost")[i]),
            "transit_holding_cost": float(total("transit_holding_cost")[i]),
            "waste_cost": float(total("waste_cost")[i]),
            "revenue": float(total("revenue")[i]),
            "total_cost": float(cost[i]),
            "reward": float(traj.rewards[:, :, i].sum(axis=0).mean()),
        }
    sold = traj.node("sold").sum(axis=(0, 2))
    ext = traj.external_in.sum(axis=0)
    gone = sum(traj.node(f).sum(axis=(0, 2)) for f in ("transit_lost", "refused", "expired", "consumed"))
    balance = traj.start_units + ext + traj.node("assembled").sum(axis=(0, 2)) - sold - gone - traj.end_units
    return {
        "scenario": net.name,
        "episodes": int(traj.demand.shape[0]),
        "periods": net.periods,
        "agents": agents,
        "system": {
            "total_cost": float(cost.sum()),
            "cost_per_agent_period": float(cost.sum() / (net.n_nodes * net.periods)),
            "demand": float(traj.demand.sum(axis=(1, 2)).mean()),
            "sold": float(sold.mean()),
            "lost": float(total("lost").sum()),
            "customer_backlog_end": float((traj.node("backlog")[-1][:, net.store_nodes]).sum(axis=1).mean()),
            "units_other": float(gone.mean() - traj.node("assembled").sum(axis=(0, 2)).mean()),
            "units_start": float(traj.start_units.mean()),
            "units_in": float(ext.mean()),
            "units_end": float(traj.end_units.mean()),
            "unit_balance_error": float(np.abs(balance).max()),
        },
    }


def _cmd_simulate(args: argparse.Namespace, console: Console) -> int:
    overrides = {"periods": args.periods}
    sc = load_scenario(args.scenario, **overrides)
    net = compile_network(sc)
    kwargs: dict[str, Any] = {}
    if args.policy == "constant":
        kwargs["quantity"] = args.quantity
    if args.policy == "base_stock" and args.levels:
        kwargs["levels"] = [float(x) for x in args.levels.split(",")]
    policy = make_policy(args.policy, net, **kwargs)
    with console.status(f"simulating {args.episodes} episode(s) of {sc.name}"):
        traj = rollout(net, policy, episodes=args.episodes, seed=args.seed)
    summary = summarize(net, traj)
    summary["policy"] = repr(policy)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(summary, fh, indent=2)
    console.print(
        f"[bold]{sc.name}[/bold]: {sc.description}\n"
        f"{len(net.agents)} agents, {net.n_edges} edges, {net.periods} periods, {args.episodes} episode(s), "
        f"seed {args.seed}, policy {policy!r}, reward scheme {sc.reward.scheme} (alpha {sc.reward.alpha})"
    )
    table = Table(title="Per agent: totals over an episode (mean over episodes)")
    cols = (
        "ordered",
        "received",
        "shipped",
        "fill_rate",
        "mean_on_hand",
        "mean_backlog",
        "lost",
        "holding_cost",
        "backlog_cost",
        "lost_sales_cost",
        "ordering_cost",
        "fixed_cost",
        "transit_holding_cost",
        "waste_cost",
        "revenue",
        "total_cost",
        "reward",
    )
    table.add_column("")
    for a in summary["agents"]:
        table.add_column(a, justify="right")
    for c in cols:
        cells = [summary["agents"][a][c] for a in summary["agents"]]
        table.add_row(c.replace("_", " "), *(f"{v:.3f}" if c == "fill_rate" else f"{v:,.1f}" for v in cells))
    console.print(table)
    s = summary["system"]
    console.print(
        f"System: total cost {s['total_cost']:,.1f} = {s['cost_per_agent_period']:.2f} per agent-period; "
        f"customer demand {s['demand']:,.0f}, sold {s['sold']:,.0f}, lost {s['lost']:,.0f}, "
        f"customer backlog at the end {s['customer_backlog_end']:,.0f}.\n"
        f"Units: {s['units_start']:,.0f} at the start + {s['units_in']:,.0f} from the external source "
        f"- {s['sold']:,.0f} sold"
        + (
            f" - {s['units_other']:,.0f} expired, refused, lost in transit or used in assembly (net)"
            if abs(s["units_other"]) > 1e-9
            else ""
        )
        + f" = {s['units_end']:,.0f} at the end (on hand, components, in transit); "
        f"largest imbalance over episodes {s['unit_balance_error']:.2g}."
    )
    if args.trace:
        trace = Table(
            title=f"First {args.trace} periods of episode 0: demand, then on hand / order per agent"
        )
        trace.add_column("t", justify="right")
        trace.add_column("demand", justify="right")
        for a in net.agents:
            trace.add_column(a, justify="right")
        oh, od = traj.node("on_hand"), traj.node("ordered")
        bl = traj.node("backlog")
        for t in range(min(args.trace, net.periods)):
            cells = [
                f"{oh[t, 0, i]:.0f}"
                + (f" (-{bl[t, 0, i]:.0f})" if bl[t, 0, i] else "")
                + f" / {od[t, 0, i]:.0f}"
                for i in range(net.n_nodes)
            ]
            trace.add_row(str(t), " ".join(f"{d:g}" for d in traj.demand[0, t]), *cells)
        console.print(trace)
    return 0


# --------------------------------------------------------------------------------------------------
# demand sets, evaluation, benchmark
def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _parse_options(items: Sequence[str] | None) -> dict[str, Any]:
    """``["key=value", ...]`` -> dict, values parsed as JSON when they are JSON (numbers, lists, true)."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--option: expected KEY=VALUE, got {item!r}")
        out[key.strip()] = _parse_value(value.strip())
    return out


def _demand_override(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    value = _parse_value(text)
    if not isinstance(value, dict):
        raise ValueError(
            "--demand-process: expected a JSON mapping like "
            f'\'{{"process": "poisson", "mean": 10}}\', got {text!r}'
        )
    return value


def _cmd_demand(args: argparse.Namespace, console: Console) -> int:
    from invmgmt_marl.demandsets import generate_demand_set

    d = generate_demand_set(
        args.scenario,
        args.episodes,
        args.seed,
        args.out,
        periods=args.periods,
        demand=_demand_override(args.demand_process),
    )
    console.print(
        f"wrote {d.shape[0]} episode(s) x {d.shape[1]} periods x {d.shape[2]} store(s) of "
        f"{args.scenario} demand "
        f"(seed {args.seed}, mean {d.mean():.2f} per store-period) to {args.out}/{{0..{d.shape[0] - 1}}}.txt "
        f"and {args.out}/meta.json"
    )
    return 0


def _cmd_evaluate(args: argparse.Namespace, console: Console) -> int:
    from pathlib import Path

    from invmgmt_marl.evaluate import evaluate, resolve_network
    from invmgmt_marl.policies import TUNABLE, tune

    net = resolve_network(args.scenario, periods=args.periods, demand=_demand_override(args.demand_process))
    options = _parse_options(args.option)
    tuning = None
    if args.tune:
        if args.policy not in TUNABLE:
            raise ValueError(f"--policy: {args.policy!r} cannot be tuned; tunable: {sorted(TUNABLE)}")
        if args.demand is None and args.train_seed == args.seed:
            raise ValueError(
                f"--train-seed: must differ from the test --seed ({args.seed}), got {args.train_seed}"
            )
        tuning = tune(
            net,
            args.policy,
            episodes=args.train_episodes,
            seed=args.train_seed,
            objective=args.objective,
            progress=console.is_terminal,
            cache=True,
            **options,
        )
        policy = tuning.policy(net)
        console.print(
            escape(
                f"tuned {args.policy} on {args.train_episodes} training paths (seed {args.train_seed}): "
                f"{tuning.cost_per_agent_period:.3f} per agent-period in training; "
                + ", ".join(f"{k} {v:g}" for k, v in tuning.params.items())
            )
        )
    else:
        policy = make_policy(args.policy, net, **options)
    with console.status(escape(f"evaluating {policy!r} on {net.name}")):
        ev = evaluate(
            policy,
            net,
            demand=args.demand,
            episodes=args.episodes,
            seed=args.seed,
            bound=not args.no_bound,
            objective=args.objective,
            by=args.by,
            progress=False,
        )
    console.print(ev.summary_table())
    if args.out:
        from invmgmt_marl.plots import save_plots

        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        data = ev.to_dict()
        if tuning is not None:
            from dataclasses import asdict

            data["tuning"] = asdict(tuning)
        (out / "evaluation.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        ev.to_csv(out / "episodes.csv")
        written = [out / "evaluation.json", out / "episodes.csv"]
        if not args.no_plots:
            written += save_plots(ev, out, episode=args.plot_episode)
        console.print("wrote " + ", ".join(str(p) for p in written))
    return 0


LIU_START, LIU_END = "<!-- liu-reference:start -->", "<!-- liu-reference:end -->"


def _cmd_benchmark(args: argparse.Namespace, console: Console) -> int:
    from pathlib import Path

    from invmgmt_marl.evaluate import BASELINES, benchmark_markdown, run_benchmark

    scenarios = args.scenarios.split(",") if args.scenarios else None
    baselines = BASELINES
    if args.policies:
        wanted = args.policies.split(",")
        unknown = sorted(set(wanted) - {b.kind for b in BASELINES})
        if unknown:
            known = [b.kind for b in BASELINES]
            raise ValueError(f"--policies: unknown baseline {unknown[0]!r}; known: {known}")
        baselines = tuple(b for b in BASELINES if b.kind in wanted)
    rows = run_benchmark(
        scenarios,
        episodes=args.episodes,
        seed=args.seed,
        train_episodes=args.train_episodes,
        train_seed=args.train_seed,
        baselines=baselines,
        bound=not args.no_bound,
        progress=console.is_terminal,
        periods=args.periods,
        objective=args.objective,
    )
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
    if args.objective != "auto":
        cmd.append(f"--objective {args.objective}")
    if args.no_bound:
        cmd.append("--no-bound")
    cmd.append(f"--out {args.out}")
    table = benchmark_markdown(rows, " ".join(cmd))
    text = (
        _BENCHMARK_HEAD.format(
            episodes=args.episodes,
            seed=args.seed,
            train_episodes=args.train_episodes,
            train_seed=args.train_seed,
        )
        + table
    )
    out = Path(args.out)
    if out.exists():  # keep the Liu et al. reference section written by benchmarks/liu_reference.py
        old = out.read_text(encoding="utf-8")
        if LIU_START in old and LIU_END in old:
            text += "\n" + old[old.index(LIU_START) : old.index(LIU_END) + len(LIU_END)] + "\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2, default=float) + "\n", encoding="utf-8")
    console.out(table, highlight=False)
    console.print(f"wrote {out}")
    return 0


_BENCHMARK_HEAD = """# Baseline benchmark

Every baseline on every shipped scenario of up to 12 agents (the 54-agent `large_network` on request:
`--scenarios large_network`), each evaluated on the same {episodes} test demand paths per scenario
(drawn from the scenario's own demand process with seed {seed}). Tuned policies are tuned first by
coordinate descent on {train_episodes} fresh training paths drawn with seed {train_seed}
(`invmgmt_marl.policies.tune`, cached); the floor and random policies are not tuned.

- **scored on**: what tuning, the bound and the score optimise: `profit` (revenue - cost) where the
  stores sell at a price (minimising cost alone there can mean selling nothing), `cost` elsewhere.
- **cost / agent-period**: team cost (the seven ledger cost fields) / (agents x periods), mean over
  the test episodes ± its standard error; **profit / agent-period**: team revenue - cost, likewise.
- **fill rate**: share of customer demand shipped in the period it arrived (all stores together).
- **cycle service**: share of periods without a stockout at a store (mean over stores).
- **bullwhip CV**: coefficient of variation (std / mean) of each node's orders over the first T-1
  periods, averaged over the nodes of each level, from the stores up; in parentheses the CV of
  customer demand. A level whose nodes seldom order (the urgent-side nodes of `net_2x3`) shows a
  large CV from a tiny mean.
- **gap to bound**: the gap between the policy's and the bound's mean objective, the bound being the
  perfect-information linear program (`invmgmt_marl.oracle`) on each test path: the best any policy
  could reach knowing the whole demand path in advance. It is far from what a non-anticipating
  policy can reach, so gaps are large. Scenarios with perishable stock or assembly have no bound
  (the LP does not model them).
- **score**: `(value - floor) / (bound - floor)` with floor = ordering nothing (0 = the floor,
  1 = the bound).

"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="invmgmt-marl", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("scenarios", help="list the shipped scenarios")
    s = sub.add_parser(
        "simulate", help="run a scenario end to end with a baseline policy and print what happened"
    )
    s.add_argument("--scenario", default="serial", help="shipped scenario name or path to a YAML file")
    s.add_argument("--policy", default="base_stock", choices=["base_stock", "constant", "random"])
    s.add_argument("--levels", help="base-stock levels, one per agent, comma separated (default: heuristic)")
    s.add_argument("--quantity", type=float, default=0.0, help="order quantity of the constant policy")
    s.add_argument("--episodes", type=int, default=1)
    s.add_argument("--periods", type=int, help="override the episode length")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--trace", type=int, default=10, help="periods of episode 0 to print (0: none)")
    s.add_argument("--json", help="also write the summary as JSON to this path")

    add_train_parser(sub)
    add_ablate_parser(sub)

    d = sub.add_parser("demand", help="fixed demand test sets")
    dsub = d.add_subparsers(dest="demand_command", required=True)
    g = dsub.add_parser("generate", help="write DIR/{k}.txt (one line per period) and DIR/meta.json")
    g.add_argument("--scenario", default="serial", help="shipped scenario name or path to a YAML file")
    g.add_argument("--episodes", type=int, default=20)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--out", required=True, help="folder to write")
    g.add_argument("--periods", type=int, help="override the episode length")
    g.add_argument(
        "--demand-process",
        help='one demand process for every store, JSON: \'{"process": "poisson", "mean": 10}\'',
    )

    e = sub.add_parser("evaluate", help="evaluate a (tuned) baseline: KPIs, bound, CSV/JSON and plots")
    e.add_argument("--scenario", default="serial", help="shipped scenario name or path to a YAML file")
    e.add_argument(
        "--policy",
        default="base_stock",
        choices=["base_stock", "echelon_base_stock", "s_S", "forecast_order_up_to", "constant", "random"],
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
    e.add_argument("--train-episodes", type=int, default=64, help="training paths for --tune")
    e.add_argument(
        "--train-seed", type=int, default=123, help="seed of the training paths (not the test seed)"
    )
    src = e.add_mutually_exclusive_group()
    src.add_argument("--demand", help="demand-set folder (ours or Liu et al.'s layout)")
    src.add_argument("--episodes", type=int, default=20, help="test paths to draw when no --demand is given")
    e.add_argument("--seed", type=int, default=0, help="seeds the test paths and the policy's generator")
    e.add_argument("--periods", type=int, help="override the episode length")
    e.add_argument(
        "--demand-process",
        help='one demand process for every store, JSON: \'{"process": "poisson", "mean": 10}\'',
    )
    e.add_argument("--objective", default="cost", choices=["cost", "profit"])
    e.add_argument("--by", default="role", choices=["role", "distance"], help="echelon grouping for bullwhip")
    e.add_argument("--out", help="folder for evaluation.json, episodes.csv and the PNG plots")
    e.add_argument("--no-bound", action="store_true", help="skip the perfect-information bound")
    e.add_argument("--no-plots", action="store_true", help="with --out: write no PNG plots")
    e.add_argument("--plot-episode", type=int, default=0, help="episode shown in the time-series plots")

    b = sub.add_parser("benchmark", help="every baseline on every shipped scenario -> one markdown table")
    b.add_argument("--episodes", type=int, default=20)
    b.add_argument("--seed", type=int, default=0, help="test-set seed")
    b.add_argument("--train-episodes", type=int, default=64)
    b.add_argument("--train-seed", type=int, default=123)
    b.add_argument("--scenarios", help="comma-separated scenario names (default: shipped, up to 12 agents)")
    b.add_argument(
        "--objective",
        default="auto",
        choices=["auto", "cost", "profit"],
        help="auto: profit where stores sell at a price, cost elsewhere",
    )
    b.add_argument("--policies", help="comma-separated baselines (default: all)")
    b.add_argument("--periods", type=int, help="override the episode length (quick runs)")
    b.add_argument("--no-bound", action="store_true")
    b.add_argument("--out", default="docs/benchmark.md")
    b.add_argument("--json", help="also write every row as JSON")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = Console()
    try:
        handlers = {
            "scenarios": _cmd_scenarios,
            "simulate": _cmd_simulate,
            "demand": _cmd_demand,
            "evaluate": _cmd_evaluate,
            "benchmark": _cmd_benchmark,
            "train": cmd_train,
            "ablate": cmd_ablate,
        }
        return handlers[args.command](args, console)
    except (ScenarioError, DemandSetError, ValueError) as err:
        console.print(f"[red]error:[/red] {err}")
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
