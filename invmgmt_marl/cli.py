"""Command line: ``invmgmt-marl {scenarios, simulate}``.

``invmgmt-marl simulate`` runs the default scenario (``serial``) end to end with a base-stock policy
and prints what happened: per-agent flows, service and costs, the system's unit balance, and the
first periods of the trace.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from invmgmt_marl.errors import ScenarioError
from invmgmt_marl.policies import make_policy
from invmgmt_marl.rollout import Trajectory, rollout
from invmgmt_marl.scenario import list_scenarios, load_scenario
from invmgmt_marl.sim import compile_network
from invmgmt_marl.sim.network import Network

__all__ = ["main", "summarize"]


def _cmd_scenarios(args: argparse.Namespace, console: Console) -> int:
    table = Table(title="Shipped scenarios")
    for col in ("name", "agents", "edges", "periods", "reward", "description"):
        table.add_column(col)
    for name in list_scenarios():
        sc = load_scenario(name)
        table.add_row(name, str(len(sc.nodes)), str(len(sc.edges)), str(sc.periods), sc.reward.scheme, sc.description)
    console.print(table)
    return 0


def summarize(net: Network, traj: Trajectory) -> dict[str, Any]:
    """Per-agent and system totals of a trajectory, averaged over the episodes of the batch."""

    def total(name: str) -> Any:
        return traj.node(name).sum(axis=0).mean(axis=0)  # (N,) sum over periods, mean over episodes

    # fill rate: share of new requests shipped in the period they arrived (backlog is served first)
    req, owed, shipped = traj.node("requested"), traj.node("owed"), traj.node("shipped")
    on_time = np.clip(shipped - (owed - req), 0.0, req).sum(axis=0)
    total_req = req.sum(axis=0)
    fill = np.where(total_req > 0, on_time / np.maximum(total_req, 1e-300), 1.0).mean(axis=0)
    cost = sum(total(c) for c in ("holding_cost", "backlog_cost", "lost_sales_cost", "ordering_cost", "fixed_cost"))
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
            "revenue": float(total("revenue")[i]),
            "total_cost": float(cost[i]),
            "reward": float(traj.rewards[:, :, i].sum(axis=0).mean()),
        }
    sold = traj.node("sold").sum(axis=(0, 2))
    ext = traj.external_in.sum(axis=0)
    balance = traj.start_units + ext - sold - traj.end_units
    return {
        "scenario": net.scenario.name,
        "episodes": int(traj.demand.shape[0]),
        "periods": net.periods,
        "agents": agents,
        "system": {
            "total_cost": float(cost.sum()),
            "cost_per_agent_period": float(cost.sum() / (net.n_nodes * net.periods)),
            "demand": float(traj.demand.sum(axis=(1, 2)).mean()),
            "sold": float(sold.mean()),
            "lost": float(total("lost").sum()),
            "customer_backlog_end": float(
                (traj.node("backlog")[-1][:, net.store_nodes]).sum(axis=1).mean()
            ),
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
    cols = ("ordered", "received", "shipped", "fill_rate", "mean_on_hand", "mean_backlog", "lost",
            "holding_cost", "backlog_cost", "lost_sales_cost", "ordering_cost", "fixed_cost", "revenue",
            "total_cost", "reward")
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
        f"- {s['sold']:,.0f} sold = {s['units_end']:,.0f} at the end (on hand + in transit); "
        f"largest imbalance over episodes {s['unit_balance_error']:.2g}."
    )
    if args.trace:
        trace = Table(title=f"First {args.trace} periods of episode 0: demand, then on hand / order per agent")
        trace.add_column("t", justify="right")
        trace.add_column("demand", justify="right")
        for a in net.agents:
            trace.add_column(a, justify="right")
        oh, od = traj.node("on_hand"), traj.node("ordered")
        bl = traj.node("backlog")
        for t in range(min(args.trace, net.periods)):
            cells = [
                f"{oh[t, 0, i]:.0f}" + (f" (-{bl[t, 0, i]:.0f})" if bl[t, 0, i] else "") + f" / {od[t, 0, i]:.0f}"
                for i in range(net.n_nodes)
            ]
            trace.add_row(str(t), " ".join(f"{d:g}" for d in traj.demand[0, t]), *cells)
        console.print(trace)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="invmgmt-marl", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("scenarios", help="list the shipped scenarios")
    s = sub.add_parser("simulate", help="run a scenario end to end with a baseline policy and print what happened")
    s.add_argument("--scenario", default="serial", help="shipped scenario name or path to a YAML file")
    s.add_argument("--policy", default="base_stock", choices=["base_stock", "constant", "random"])
    s.add_argument("--levels", help="base-stock levels, one per agent, comma separated (default: heuristic)")
    s.add_argument("--quantity", type=float, default=0.0, help="order quantity of the constant policy")
    s.add_argument("--episodes", type=int, default=1)
    s.add_argument("--periods", type=int, help="override the episode length")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--trace", type=int, default=10, help="periods of episode 0 to print (0: none)")
    s.add_argument("--json", help="also write the summary as JSON to this path")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = Console()
    try:
        if args.command == "scenarios":
            return _cmd_scenarios(args, console)
        return _cmd_simulate(args, console)
    except (ScenarioError, ValueError) as err:
        console.print(f"[red]error:[/red] {err}")
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
