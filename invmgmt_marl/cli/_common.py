"""Shared pieces of the command line: the help formatter, parent parsers for repeated flags, option parsing.

A parent parser (``argparse``'s ``parents=[...]``) holds one flag or a few that several subcommands
take; each is built by a small function because the defaults differ between subcommands (one episode
for ``simulate``, twenty for ``evaluate``).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from invmgmt_marl.objective import OBJECTIVES

__all__ = [
    "Handler",
    "HelpFormatter",
    "demand_process_parent",
    "demand_override",
    "episodes_parent",
    "objective_parent",
    "out_parent",
    "parse_options",
    "parse_value",
    "periods_parent",
    "progress_bar",
    "scenario_parent",
    "seed_parent",
]

#: a subcommand's handler: ``handler(args, console) -> exit code``
Handler = Callable[[argparse.Namespace, Console], int]


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows ``(default: ...)`` after every flag's help, except for defaults that say nothing (None, off)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def _parent() -> argparse.ArgumentParser:
    return argparse.ArgumentParser(add_help=False)


def scenario_parent(default: str | None = "serial", help: str | None = None) -> argparse.ArgumentParser:
    p = _parent()
    p.add_argument("--scenario", default=default, help=help or "shipped scenario name or path to a YAML file")
    return p


def seed_parent(default: int = 0, help: str = "random seed") -> argparse.ArgumentParser:
    p = _parent()
    p.add_argument("--seed", type=int, default=default, help=help)
    return p


def episodes_parent(default: int, help: str = "episodes (demand paths) to run") -> argparse.ArgumentParser:
    p = _parent()
    p.add_argument("--episodes", type=int, default=default, help=help)
    return p


def periods_parent() -> argparse.ArgumentParser:
    p = _parent()
    p.add_argument("--periods", type=int, help="override the scenario's episode length")
    return p


def demand_process_parent() -> argparse.ArgumentParser:
    p = _parent()
    p.add_argument(
        "--demand-process",
        help='one demand process for every store, JSON: \'{"process": "poisson", "mean": 10}\'',
    )
    return p


def objective_parent(
    default: str = "cost", extra: Sequence[str] = (), help: str = "what the bound, score and tuning optimise"
) -> argparse.ArgumentParser:
    """``--objective`` with the choices of :data:`invmgmt_marl.objective.OBJECTIVES` (plus ``extra``)."""
    p = _parent()
    p.add_argument("--objective", default=default, choices=[*extra, *OBJECTIVES], help=help)
    return p


def out_parent(
    default: str | None = None, required: bool = False, help: str = "output folder"
) -> argparse.ArgumentParser:
    p = _parent()
    p.add_argument("--out", default=default, required=required, help=help)
    return p


# --------------------------------------------------------------------------------------------------
def parse_value(text: str) -> Any:
    """``text`` parsed as JSON when it is JSON (numbers, lists, true, mappings), else the text itself."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_options(items: Sequence[str] | None, flag: str = "--option") -> dict[str, Any]:
    """``["key=value", ...]`` -> dict, values parsed with :func:`parse_value`."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"{flag}: expected KEY=VALUE, got {item!r}")
        out[key.strip()] = parse_value(value.strip())
    return out


def demand_override(text: str | None, flag: str = "--demand-process") -> dict[str, Any] | None:
    """The ``--demand-process`` JSON mapping, or None when the flag is not given."""
    if text is None:
        return None
    value = parse_value(text)
    if not isinstance(value, dict):
        raise ValueError(
            f'{flag}: expected a JSON mapping like \'{{"process": "poisson", "mean": 10}}\', got {text!r}'
        )
    return value


def progress_bar(console: Console) -> Progress:
    """A progress bar with a status text after it (training iterations, ablation trials)."""
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        TextColumn("{task.fields[status]}"),
        console=console,
    )
