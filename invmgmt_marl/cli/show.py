"""``invmgmt-marl show SCENARIO --out net.png``: draw a scenario's network (PNG or SVG by the suffix).

The drawing is :func:`invmgmt_marl.diagram.save_network`: nodes by echelon, coloured by role, lead
times, costs and capacities on the edges and nodes.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from invmgmt_marl.cli._common import PLOTS_INSTALL, HelpFormatter, has_module, positive_int
from invmgmt_marl.errors import quote

__all__ = ["add_parser", "run"]

FORMATS = (".png", ".svg")


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "show",
        help="draw a scenario's network to a PNG or SVG file",
        description="Draw a scenario's network: nodes by echelon, coloured by role, with lead times, costs "
        "and capacities; PNG or SVG, chosen by the suffix of --out.",
        formatter_class=HelpFormatter,
    )
    p.add_argument("scenario", metavar="SCENARIO", help="shipped scenario name or path to a YAML file")
    p.add_argument("--out", default="network.png", help="file to write: .png or .svg")
    p.add_argument("--dpi", type=positive_int, default=110, help="resolution of a PNG")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, console: Console) -> int:
    if Path(args.out).suffix.lower() not in FORMATS:
        raise ValueError(f"--out: expected a .png or .svg file name, got {quote(args.out)}")
    if not has_module("matplotlib"):
        raise ImportError(f"drawing a network needs matplotlib: {PLOTS_INSTALL}")
    from invmgmt_marl.compile import compile_network
    from invmgmt_marl.diagram import save_network
    from invmgmt_marl.scenario import load_scenario

    sc = load_scenario(args.scenario)
    net = compile_network(sc)
    path = save_network(sc, args.out, dpi=args.dpi)
    console.print(escape(f"wrote {path}: {sc.name}, {net.n_nodes} agents, {net.n_edges} edges"))
    return 0
