"""Command line: ``invmgmt-marl {scenarios, simulate, demand generate, evaluate, benchmark, train, ablate}``.

``invmgmt-marl simulate`` runs the default scenario (``serial``) end to end with a base-stock policy
and prints what happened: per-agent flows, service and costs, the system's unit balance, and the
first periods of the trace.

``invmgmt-marl demand generate`` writes a fixed demand test set; ``invmgmt-marl evaluate`` scores a
(tuned) baseline on a test set with every KPI, the perfect-information bound and plots;
``invmgmt-marl benchmark`` evaluates every baseline on every shipped scenario into one markdown table;
``invmgmt-marl train`` trains PPO and ``invmgmt-marl ablate`` runs a reward-ablation grid.

One module per subcommand or group (:mod:`.scenarios`, :mod:`.simulate`, :mod:`.evaluation`,
:mod:`.training`); repeated flags come from the parent parsers of :mod:`._common`; choices are read
from the registries (:mod:`invmgmt_marl.registry`) and the :data:`~invmgmt_marl.objective.Objective`
literal. The commands hold no inventory arithmetic: the numbers come from the package.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from rich.console import Console

from invmgmt_marl import __version__
from invmgmt_marl.cli import evaluation, scenarios, simulate, training
from invmgmt_marl.cli._common import Handler, HelpFormatter
from invmgmt_marl.demandsets import DemandSetError
from invmgmt_marl.errors import ScenarioError
from invmgmt_marl.metrics import trajectory_summary as summarize

__all__ = ["build_parser", "main", "summarize"]


def build_parser() -> argparse.ArgumentParser:
    """The ``invmgmt-marl`` parser; each subcommand sets ``handler(args, console) -> exit code``."""
    p = argparse.ArgumentParser(
        prog="invmgmt-marl",
        description="Multi-echelon inventory management as a multi-agent RL benchmark.",
        epilog="Run 'invmgmt-marl COMMAND --help' for the flags of a command.",
        formatter_class=HelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", required=True, title="commands", metavar="COMMAND")
    scenarios.add_parser(sub)
    simulate.add_parser(sub)
    training.add_train_parser(sub)
    training.add_ablate_parser(sub)
    evaluation.add_parsers(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (2 for invalid input, with the error printed)."""
    args = build_parser().parse_args(argv)
    console = Console()
    handler: Handler = args.handler
    try:
        return handler(args, console)
    except (ScenarioError, DemandSetError, ValueError) as err:
        console.print(f"[red]error:[/red] {err}")
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
