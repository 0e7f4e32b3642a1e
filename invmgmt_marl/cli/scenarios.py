"""``invmgmt-marl scenarios``: the shipped scenarios in one table."""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console
from rich.table import Table

from invmgmt_marl.cli._common import HelpFormatter
from invmgmt_marl.scenario import list_scenarios, load_scenario

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "scenarios",
        help="list the shipped scenarios",
        description="List the shipped scenarios.",
        formatter_class=HelpFormatter,
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, console: Console) -> int:
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
