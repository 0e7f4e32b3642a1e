"""Command line: ``invmgmt-marl {scenarios, show, simulate, demand, evaluate, benchmark, train, ablate,
serve, grade}``.

``invmgmt-marl simulate`` runs the default scenario (``serial``) end to end with a base-stock policy
and prints what happened: per-agent flows, service and costs, the system's unit balance, and the
first periods of the trace.

``invmgmt-marl demand generate`` writes a fixed demand test set; ``invmgmt-marl evaluate`` scores a
(tuned) baseline on a test set with every KPI, the perfect-information bound and plots;
``invmgmt-marl benchmark`` evaluates every baseline on every shipped scenario into one markdown table;
``invmgmt-marl train`` trains PPO and ``invmgmt-marl ablate`` runs a reward-ablation grid;
``invmgmt-marl show`` draws a scenario's network. Every error is one line on stderr with a non-zero exit
code (:mod:`._errors`); ``invmgmt-marl --debug COMMAND`` shows the traceback instead.

One module per subcommand or group (:mod:`.scenarios`, :mod:`.simulate`, :mod:`.evaluation`,
:mod:`.training`, :mod:`.show`); repeated flags come from the parent parsers of :mod:`._common`; choices
are read from the registries (:mod:`invmgmt_marl.registry`) and the :data:`~invmgmt_marl.objective.Objective`
literal. The commands hold no inventory arithmetic: the numbers come from the package.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from rich.console import Console

from invmgmt_marl import __version__
from invmgmt_marl.cli import evaluation, scenarios, serve, show, simulate, training
from invmgmt_marl.cli._common import Handler, HelpFormatter, Parser
from invmgmt_marl.cli._errors import INTERRUPTED, describe, print_error
from invmgmt_marl.metrics import trajectory_summary as summarize

__all__ = ["build_parser", "main", "summarize"]


def build_parser() -> argparse.ArgumentParser:
    """The ``invmgmt-marl`` parser; each subcommand sets ``handler(args, console) -> exit code``."""
    p = Parser(
        prog="invmgmt-marl",
        description="Multi-echelon inventory management as a multi-agent RL benchmark.",
        epilog="Run 'invmgmt-marl COMMAND --help' for the flags of a command.",
        formatter_class=HelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    p.add_argument(
        "--debug",
        action="store_true",
        help="show the full traceback of an error (by default an error is one line on stderr)",
    )
    sub = p.add_subparsers(dest="command", required=True, title="commands", metavar="COMMAND")
    scenarios.add_parser(sub)
    show.add_parser(sub)
    simulate.add_parser(sub)
    training.add_train_parser(sub)
    training.add_ablate_parser(sub)
    evaluation.add_parsers(sub)
    serve.add_parsers(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code.

    Every failure is one line on stderr (see :mod:`invmgmt_marl.cli._errors`): exit code 2 for invalid
    input, 1 for a failure (file system, missing extra, solver), 130 when interrupted; ``--debug``
    re-raises the exception instead, with its traceback.
    """
    args = build_parser().parse_args(argv)
    console = Console()
    errors = Console(stderr=True)
    handler: Handler = args.handler
    try:
        return handler(args, console)
    except KeyboardInterrupt:
        if args.debug:
            raise
        resumable = getattr(args, "resumable", False)
        print_error(errors, "interrupted; rerun the same command to resume" if resumable else "interrupted")
        return INTERRUPTED
    except Exception as err:
        if args.debug:
            raise
        message, code = describe(err)
        print_error(errors, message)
        return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
