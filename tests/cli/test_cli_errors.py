"""Every CLI error is one line on stderr with a non-zero exit code and no traceback (unless --debug).

Each case here failed before the change (a traceback, a message on stdout, a crash inside the error
handler, or a silently accepted value); the old behaviour is noted next to each case.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from invmgmt_marl.cli import main
from invmgmt_marl.errors import CheckpointError, InvalidActionError, ScenarioError

FAST = ["--periods", "12", "--episodes", "2"]


def _one_error_line(err: str) -> str:
    """The single line on stderr (asserting there is exactly one and no traceback)."""
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


# ---- option errors, refused when the command line is parsed (exit code 2) ------------------------
@pytest.mark.parametrize(
    ("argv", "flag", "was"),
    [
        (["simulate", "--episodes", "0"], "--episodes", "shape error from the rollout"),
        (["evaluate", "--episodes", "0"], "--episodes", "checked after loading the scenario"),
        (["train", "--iterations", "0"], "--iterations", "trained 0 iterations, then min() of []"),
        (["ablate", "--grid", "ablations/serial.yaml", "--seeds", "0"], "--seeds", "accepted"),
        (["simulate", "--policy", "constant", "--quantity", "nan"], "--quantity", "NaN orders"),
        (["simulate", "--quantity", "-1"], "--quantity", "accepted"),
        (["evaluate", "--tune", "--train-episodes", "0"], "--train-episodes", "tuned on 0 paths"),
        (["train", "--lr", "inf"], "--lr", "accepted"),
        (["simulate", "--seed", "-3"], "--seed", "numpy error from default_rng"),
        (["simulate", "--periods", "0"], "--periods", "scenario error"),
        (["ablate", "--grid", "g.yaml", "--iterations", "0"], "--iterations", "no such flag"),
    ],
)
def test_bad_counts_and_numbers_are_refused_by_the_parser(
    argv: list[str], flag: str, was: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    cap = capsys.readouterr()
    line = _one_error_line(cap.err)
    assert f"argument {flag}: expected" in line and "--help" in line, line
    assert cap.out == ""


# ---- errors of the handlers: one line, exit code 2 for bad input ---------------------------------
def test_levels_with_the_wrong_count(capsys: pytest.CaptureFixture[str]) -> None:
    # before: "error: operands could not be broadcast together with shapes (2,) (1,3)" on stdout
    assert main(["simulate", "--levels", "1,2", "--periods", "5"]) == 2
    cap = capsys.readouterr()
    line = _one_error_line(cap.err)
    assert line.startswith("error: --levels: expected 3 levels") and "got 2" in line
    assert cap.out == ""
    assert main(["simulate", "--levels", "1,x,3", "--periods", "5"]) == 2
    assert "--levels: expected numbers" in capsys.readouterr().err
    assert main(["simulate", "--policy", "constant", "--levels", "1,2,3", "--periods", "5"]) == 2
    assert "only for --policy base_stock" in capsys.readouterr().err
    # levels given as a policy option are checked the same way
    assert main(["evaluate", *FAST, "--no-bound", "--option", "levels=[1,2]"]) == 2
    assert "--option levels: expected 3 levels" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["simulate", "evaluate"])
def test_unknown_policy_option(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    # before: a TypeError traceback (BaseStockPolicy.__init__() got an unexpected keyword argument 'foo')
    assert main([command, *FAST, "--option", "foo=1"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert line == "error: --option: policy 'base_stock' has no option 'foo'"


def test_markup_in_user_values_is_shown_not_interpreted(capsys: pytest.CaptureFixture[str]) -> None:
    # before: rich.errors.MarkupError inside the error handler ("closing tag '[/x]' ...")
    assert main(["simulate", "--scenario", "[/x]"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "unknown scenario '[/x]'" in line


def test_out_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # before: FileExistsError traceback after the evaluation had run and printed its table
    f = tmp_path / "taken"
    f.write_text("x")
    assert main(["evaluate", *FAST, "--no-bound", "--out", str(f)]) == 2
    cap = capsys.readouterr()
    assert _one_error_line(cap.err) == f"error: --out: {str(f)!r} is a file, expected a folder"
    assert cap.out == ""  # refused before any work
    # a folder below a file: the OS error, as one line naming the path (exit code 1)
    assert main(["evaluate", *FAST, "--no-bound", "--out", str(f / "sub")]) == 1
    assert _one_error_line(capsys.readouterr().err) == f"error: Not a directory: {str(f / 'sub')!r}"


def test_os_error_while_writing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    # a read-only folder cannot be made here (the tests may run as root): the write raises instead
    import invmgmt_marl.reporting

    target = tmp_path / "out" / "evaluation.json"

    def denied(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied", str(target))

    monkeypatch.setattr(invmgmt_marl.reporting, "write_evaluation", denied)
    assert main(["evaluate", *FAST, "--no-bound", "--out", str(tmp_path / "out")]) == 1
    assert _one_error_line(capsys.readouterr().err) == f"error: Permission denied: {str(target)!r}"


@pytest.mark.parametrize(
    ("error", "code", "expected"),
    [
        (ScenarioError("nodes[0].holding_cost: must be finite, got inf"), 2, "error: nodes[0].holding_cost"),
        (InvalidActionError("orders[0, 0]: must be finite, got nan"), 2, "error: orders[0, 0]: must be"),
        (CheckpointError("checkpoint: trained on 'serial'"), 2, "error: checkpoint: trained"),
        (ValueError("first line\n  second [bold]x[/bold]"), 2, "error: first line second [bold]x[/bold]"),
        (OSError(28, "No space left on device", "/x/y"), 1, "error: No space left on device: '/x/y'"),
        (ImportError("plots need matplotlib: pip install 'invmgmt-marl[plots]'"), 1, "error: plots need"),
        (RuntimeError("solver died"), 1, "error: RuntimeError: solver died (rerun with --debug"),
        (KeyError("oops"), 1, "error: KeyError: 'oops' (rerun with --debug"),
    ],
)
def test_each_error_class_is_one_line(
    error: Exception, code: int, expected: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    import invmgmt_marl.cli.scenarios as scenarios

    def fail(*args: Any) -> Any:
        raise error

    monkeypatch.setattr(scenarios, "list_scenarios", fail)
    assert main(["scenarios"]) == code
    cap = capsys.readouterr()
    assert _one_error_line(cap.err).startswith(expected), cap.err
    assert cap.out == ""
    # --debug: the exception itself, with its traceback
    with pytest.raises(type(error)):
        main(["--debug", "scenarios"])


def test_a_very_long_message_is_cut(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    import invmgmt_marl.cli.scenarios as scenarios

    def fail(*args: Any) -> Any:
        raise ValueError("x" * 100_000)

    monkeypatch.setattr(scenarios, "list_scenarios", fail)
    assert main(["scenarios"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert len(line) <= 1000 + len("error: ") and "chars]" in line


# ---- interrupts ----------------------------------------------------------------------------------
def test_interrupt_exit_code_130(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    import invmgmt_marl.cli.simulate as simulate

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(simulate, "rollout", interrupted)
    assert main(["simulate", "--periods", "5"]) == 130
    assert _one_error_line(capsys.readouterr().err) == "error: interrupted"


def test_interrupted_ablation_says_rerun_to_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    import invmgmt_marl.ablation
    import invmgmt_marl.cli.training as training

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(invmgmt_marl.ablation, "run_ablation", interrupted)
    monkeypatch.setattr(training, "has_module", lambda name: True)  # no torch import needed here
    argv = ["ablate", "--grid", "ablations/serial.yaml", "--quick", "--out", str(tmp_path / "a")]
    assert main(argv) == 130
    line = _one_error_line(capsys.readouterr().err)
    assert line == "error: interrupted; rerun the same command to resume"


# ---- the perfect-information bound where the LP does not apply -----------------------------------
@pytest.mark.parametrize(
    ("scenario", "feature"), [("perishable_grocery", "perishable"), ("assembly", "assembly")]
)
def test_evaluate_skips_an_unsupported_bound(scenario: str, feature: str, capsys: Any) -> None:
    # before: OracleError traceback, nothing printed
    assert main(["evaluate", "--scenario", scenario, *FAST]) == 0
    cap = capsys.readouterr()
    line = _one_error_line(cap.err)
    assert line.startswith("note: no perfect-information bound:") and feature in line
    assert f"{scenario}: BaseStockPolicy" in " ".join(cap.out.split())  # the evaluation is printed
    assert "gap to bound" not in cap.out


# ---- missing extras ------------------------------------------------------------------------------
def test_evaluate_without_matplotlib_writes_the_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    # before: the tables were written, then ImportError traceback from the plots
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    out = tmp_path / "ev"
    assert main(["evaluate", *FAST, "--no-bound", "--out", str(out)]) == 0
    cap = capsys.readouterr()
    line = _one_error_line(cap.err)
    assert line.startswith("warning: no plots written") and "pip install 'invmgmt-marl[plots]'" in line
    assert sorted(p.name for p in out.iterdir()) == ["episodes.csv", "evaluation.json"]


@pytest.mark.parametrize(
    "argv",
    [
        ["show", "serial", "--out", "{tmp}/net.png"],
        ["evaluate", *FAST, "--no-bound", "--animate", "{tmp}/a.gif"],
        ["evaluate", *FAST, "--no-bound", "--report", "{tmp}/r.png"],
    ],
)
def test_pictures_without_matplotlib(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert main([a.replace("{tmp}", str(tmp_path)) for a in argv]) == 1
    cap = capsys.readouterr()
    assert "pip install 'invmgmt-marl[plots]'" in _one_error_line(cap.err)
    assert cap.out == "" and list(tmp_path.iterdir()) == []  # refused before any work


@pytest.mark.parametrize(("backend", "extra"), [("sb3", "sb3"), ("rllib", "rllib")])
def test_train_without_torch(
    backend: str, extra: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)
    out = tmp_path / "run"
    assert main(["train", "--backend", backend, "--iterations", "1", "--out", str(out)]) == 1
    cap = capsys.readouterr()
    line = _one_error_line(cap.err)
    assert f"needs torch: pip install 'invmgmt-marl[{extra}]'" in line
    assert cap.out == "" and not out.exists()  # before any work


def test_animate_mp4_without_ffmpeg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    import invmgmt_marl.cli.evaluation as evaluation

    monkeypatch.setattr(evaluation.shutil, "which", lambda name: None)
    assert main(["evaluate", *FAST, "--no-bound", "--animate", str(tmp_path / "a.mp4")]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "needs ffmpeg on the PATH; write a .gif instead" in line
    assert main(["evaluate", *FAST, "--no-bound", "--animate", str(tmp_path / "a.avi")]) == 2
    assert "--animate: expected a .gif or .mp4" in capsys.readouterr().err
