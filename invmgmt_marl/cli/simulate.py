"""``invmgmt-marl simulate``: run a scenario end to end with a baseline policy and print what happened.

Per-agent flows, service and costs (:func:`invmgmt_marl.metrics.trajectory_summary`), the system's unit
balance, and the first periods of the trace (tables from :mod:`invmgmt_marl.reporting`).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from rich.console import Console
from rich.markup import escape

from invmgmt_marl import reporting
from invmgmt_marl.cli._common import (
    HelpFormatter,
    build_policy,
    check_levels,
    episodes_parent,
    nonnegative_float,
    nonnegative_int,
    parse_options,
    periods_parent,
    scenario_parent,
    seed_parent,
)
from invmgmt_marl.compile import compile_network
from invmgmt_marl.metrics import trajectory_summary
from invmgmt_marl.registry import POLICIES
from invmgmt_marl.rollout import rollout
from invmgmt_marl.scenario import load_scenario

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    s = sub.add_parser(
        "simulate",
        help="run a scenario end to end with a baseline policy and print what happened",
        description="Run a scenario end to end with a baseline policy and print what happened: per-agent "
        "flows, service and costs, the unit balance, and the first periods of the trace.",
        formatter_class=HelpFormatter,
        parents=[scenario_parent(), episodes_parent(1), periods_parent(), seed_parent()],
    )
    s.add_argument(
        "--policy", default="base_stock", choices=POLICIES.names(), help="baseline policy (untuned)"
    )
    s.add_argument("--levels", help="base-stock levels, one per agent, comma separated (default: heuristic)")
    s.add_argument(
        "--quantity", type=nonnegative_float, default=0.0, help="order quantity of the constant policy"
    )
    s.add_argument(
        "--option",
        action="append",
        metavar="KEY=VALUE",
        help="other policy option (repeatable), values parsed as JSON, e.g. safety=2",
    )
    s.add_argument(
        "--trace", type=nonnegative_int, default=10, help="periods of episode 0 to print (0: none)"
    )
    s.add_argument("--json", help="also write the summary as JSON to this path")
    s.set_defaults(handler=run)


def run(args: argparse.Namespace, console: Console) -> int:
    sc = load_scenario(args.scenario, periods=args.periods)
    net = compile_network(sc)
    kwargs: dict[str, Any] = parse_options(args.option)
    if args.policy == "constant":
        kwargs["quantity"] = args.quantity
    if args.levels and args.policy != "base_stock":
        raise ValueError(f"--levels: only for --policy base_stock, got --policy {args.policy}")
    if args.levels:
        kwargs["levels"] = check_levels(net, args.levels)
    policy = build_policy(args.policy, net, kwargs)
    with console.status(escape(f"simulating {args.episodes} episode(s) of {sc.name}")):
        traj = rollout(net, policy, episodes=args.episodes, seed=args.seed)
    summary = trajectory_summary(net, traj)
    summary["policy"] = repr(policy)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(summary, fh, indent=2)
    reward = f"{sc.reward.scheme} (alpha {sc.reward.alpha})"
    console.print(reporting.simulation_header(summary, sc.description, net.n_edges, args.seed, reward))
    for table in reporting.simulation_tables(summary):
        console.print(table)
    console.print(reporting.simulation_text(summary))
    if args.trace:
        console.print(reporting.trace_table(traj, net, args.trace))
    return 0
