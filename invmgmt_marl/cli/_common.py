"""Shared pieces of the command line: the help formatter, parent parsers for repeated flags, option parsing.

A parent parser (``argparse``'s ``parents=[...]``) holds one flag or a few that several subcommands
take; each is built by a small function because the defaults differ between subcommands (one episode
for ``simulate``, twenty for ``evaluate``).
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from invmgmt_marl.errors import quote
from invmgmt_marl.objective import OBJECTIVES

__all__ = [
    "TRUST_NOTE",
    "Handler",
    "HelpFormatter",
    "PLOTS_INSTALL",
    "Parser",
    "build_policy",
    "check_levels",
    "finite_float",
    "has_module",
    "nonnegative_float",
    "nonnegative_int",
    "out_folder",
    "positive_float",
    "positive_int",
    "report_progress",
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
    "stderr_console",
    "tune_policy",
]

#: a subcommand's handler: ``handler(args, console) -> exit code``
Handler = Callable[[argparse.Namespace, Console], int]


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows ``(default: ...)`` after every flag's help, except for defaults that say nothing (None, off)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one line on stderr (exit code 2), like every other
    error of the command line: ``invmgmt-marl evaluate: error: argument --episodes: ... (see --help)``."""

    def error(self, message: str) -> NoReturn:
        line = " ".join(message.split())
        self.exit(2, f"{self.prog}: error: {line} (see '{self.prog} --help')\n")


#: how to install what the pictures need
PLOTS_INSTALL = "pip install 'invmgmt-marl[plots]'"


def has_module(name: str) -> bool:
    """Whether ``name`` can be imported (an optional extra such as matplotlib or torch is installed)."""
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True


def stderr_console() -> Console:
    """A console on stderr, for notes and warnings that must not mix with a table piped from stdout."""
    return Console(stderr=True)


#: said in the help of every option that loads a saved policy
TRUST_NOTE = "load only checkpoints you trust: loading a pickle-based checkpoint can run code"


# --------------------------------------------------------------------------------------------------
# argparse types: the value is checked when the command line is parsed, before any work
def _number_type(kind: type, test: Callable[[float], bool], expected: str) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {quote(text)}") from None
        if not (math.isfinite(value) and test(value)):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {quote(text)}")
        return value

    parse.__name__ = expected  # argparse names the type in some messages
    return parse


#: ``type=`` for counts that must be at least 1 (episodes, iterations, seeds, ...)
positive_int = _number_type(int, lambda v: v >= 1, "a positive integer")
#: ``type=`` for counts and seeds that may be 0
nonnegative_int = _number_type(int, lambda v: v >= 0, "an integer >= 0")
#: ``type=`` for any finite number (no nan, no inf)
finite_float = _number_type(float, lambda v: True, "a finite number")
#: ``type=`` for finite numbers >= 0 (quantities)
nonnegative_float = _number_type(float, lambda v: v >= 0, "a finite number >= 0")
#: ``type=`` for finite numbers > 0 (rates, time budgets)
positive_float = _number_type(float, lambda v: v > 0, "a finite number > 0")


def _parent() -> argparse.ArgumentParser:
    return argparse.ArgumentParser(add_help=False)


def scenario_parent(default: str | None = "serial", help: str | None = None) -> argparse.ArgumentParser:
    p = _parent()
    p.add_argument(
        "--scenario",
        default=default,
        help=help or "shipped scenario name, path to a YAML file or a MABIM task folder",
    )
    return p


def seed_parent(default: int = 0, help: str = "random seed") -> argparse.ArgumentParser:
    p = _parent()
    p.add_argument("--seed", type=nonnegative_int, default=default, help=help)
    return p


def episodes_parent(default: int, help: str = "episodes (demand paths) to run") -> argparse.ArgumentParser:
    p = _parent()
    p.add_argument("--episodes", type=positive_int, default=default, help=help)
    return p


def periods_parent() -> argparse.ArgumentParser:
    p = _parent()
    p.add_argument("--periods", type=positive_int, help="override the scenario's episode length")
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


def out_folder(path: str | Path, flag: str = "--out") -> Path:
    """Create the output folder ``path`` now, before any work, so that a path that is a file or a
    folder that cannot be written fails at once (ValueError / OSError naming the path)."""
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise ValueError(f"{flag}: {quote(str(path))} is a file, expected a folder")
    out.mkdir(parents=True, exist_ok=True)
    return out


def check_levels(net: Any, levels: Any, flag: str = "--levels") -> list[float]:
    """Base-stock ``levels`` (a comma-separated text or a list) as one finite number per agent."""
    items = levels.split(",") if isinstance(levels, str) else levels
    if not isinstance(items, list):
        raise ValueError(f"{flag}: expected one number per agent, got {quote(levels)}")
    try:
        values = [float(x) for x in items]
    except (TypeError, ValueError):
        raise ValueError(f"{flag}: expected numbers, got {quote(levels)}") from None
    if len(values) != net.n_nodes:
        raise ValueError(
            f"{flag}: expected {net.n_nodes} levels, one per agent ({', '.join(net.agents)}), "
            f"got {len(values)}: {quote(levels)}"
        )
    if not all(math.isfinite(v) and v >= 0 for v in values):
        raise ValueError(f"{flag}: expected finite levels >= 0, got {quote(levels)}")
    return values


_UNKNOWN_KEYWORD = re.compile(r"unexpected keyword argument '([^']*)'")


@contextmanager
def _option_errors(policy: str, flag: str) -> Iterator[None]:
    try:
        yield
    except TypeError as err:
        found = _UNKNOWN_KEYWORD.search(str(err))
        if found is None:
            raise
        raise ValueError(f"{flag}: policy {quote(policy)} has no option {quote(found[1])}") from None


def build_policy(name: str, net: Any, options: dict[str, Any], flag: str = "--option") -> Any:
    """``make_policy(name, net, **options)`` with an unknown option or wrong levels reported as a
    ValueError naming the flag (not a TypeError or a broadcasting error from numpy)."""
    from invmgmt_marl.policies import make_policy

    if "levels" in options and name == "base_stock":
        options = {**options, "levels": check_levels(net, options["levels"], f"{flag} levels")}
    with _option_errors(name, flag):
        return make_policy(name, net, **options)


def tune_policy(net: Any, name: str, options: dict[str, Any], flag: str = "--option", **kwargs: Any) -> Any:
    """``tune(net, name, **kwargs, **options)`` with an unknown option reported as a ValueError."""
    from invmgmt_marl.policies import tune

    with _option_errors(name, flag):
        return tune(net, name, **kwargs, **options)


def report_progress(console: Console, total: int, description: str) -> Any:
    """A progress reporter: a live bar on a terminal, else one plain line per step (for logs and pipes).

    Use as a context manager; the value it gives is ``advance(status: str) -> None``.
    """
    if console.is_terminal:
        return _BarReporter(console, total, description)
    return _LineReporter(console, total, description)


class _BarReporter:
    def __init__(self, console: Console, total: int, description: str) -> None:
        self.bar = progress_bar(console)
        self.task = self.bar.add_task(description, total=total, status="")

    def __enter__(self) -> Callable[[str], None]:
        self.bar.__enter__()
        return lambda status: self.bar.update(self.task, advance=1, status=escape(status))

    def __exit__(self, *exc: object) -> None:
        self.bar.__exit__(None, None, None)


class _LineReporter:
    def __init__(self, console: Console, total: int, description: str) -> None:
        self.console, self.total, self.description, self.done = console, total, description, 0

    def __enter__(self) -> Callable[[str], None]:
        return self.advance

    def advance(self, status: str) -> None:
        self.done += 1
        # plain text, flushed at once: a log file or a pipe shows each step as it happens
        print(f"{self.description} {self.done}/{self.total}: {status}", file=self.console.file, flush=True)

    def __exit__(self, *exc: object) -> None:
        return None


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
