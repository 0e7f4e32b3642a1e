"""The command line as a package: every subcommand listed, defaults in every --help, --version, choices
read from the registries and the Objective literal."""

from __future__ import annotations

import argparse

import pytest

import invmgmt_marl
from invmgmt_marl.cli import build_parser, main
from invmgmt_marl.registry import POLICIES

COMMANDS = (
    "scenarios",
    "show",
    "simulate",
    "train",
    "ablate",
    "demand",
    "evaluate",
    "benchmark",
    "serve",
    "grade",
)


def _subparsers(p: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_top_level_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert all(f"    {c} " in out or f"    {c}\n" in out for c in COMMANDS), out
    assert set(_subparsers(build_parser())) == set(COMMANDS)
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.strip() == f"invmgmt-marl {invmgmt_marl.__version__}"


@pytest.mark.parametrize("command", [c for c in COMMANDS if c != "scenarios"] + ["demand generate"])
def test_every_subcommand_help_shows_defaults(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([*command.split(), "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    if command != "demand":
        assert "(default: " in out


def test_choices_come_from_the_registries_and_the_objective(capsys: pytest.CaptureFixture[str]) -> None:
    POLICIES.register("test_cli_policy", lambda net, **kw: None)
    try:
        args = build_parser().parse_args(["simulate", "--policy", "test_cli_policy"])
        assert args.policy == "test_cli_policy"
        args = build_parser().parse_args(["evaluate", "--policy", "test_cli_policy"])
        assert args.policy == "test_cli_policy"
    finally:
        POLICIES.unregister("test_cli_policy")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["simulate", "--policy", "test_cli_policy"])
    with pytest.raises(SystemExit):
        build_parser().parse_args(["evaluate", "--objective", "margin"])
    assert "invalid choice: 'margin'" in capsys.readouterr().err
    args = build_parser().parse_args(["benchmark", "--objective", "profit"])
    assert args.objective == "profit"
    args = build_parser().parse_args(["train", "--reward", "reconciliation", "--action-type", "discrete"])
    assert (args.reward, args.action_type) == ("reconciliation", "discrete")


def test_simulate_writes_the_summary(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    path = tmp_path / "s.json"
    assert main(["simulate", "--periods", "12", "--episodes", "2", "--trace", "3", "--json", str(path)]) == 0
    data = json.loads(path.read_text())
    assert data["episodes"] == 2 and data["periods"] == 12 and data["policy"].startswith("BaseStockPolicy")
    out = capsys.readouterr().out
    assert "First 3 periods of episode 0" in out and f"{data['system']['total_cost']:,.1f}" in out
    # invalid input: a clear message and exit code 2
    assert main(["simulate", "--scenario", "no_such_scenario"]) == 2
