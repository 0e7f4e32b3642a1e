"""``ablate`` budget flags and ``--quick``, plain progress lines off a terminal (training itself is
replaced by a stand-in: the real grid runs in ``tests/test_ablation.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import invmgmt_marl.ablation
from invmgmt_marl.ablation import AblationError, load_grid, with_budget
from invmgmt_marl.cli import main
from invmgmt_marl.cli.training import QUICK

GRID = "ablations/serial.yaml"  # budget: 40 iterations of 6000 steps; 20 test paths; 7 configurations


@pytest.fixture
def fake_run(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Replace run_ablation: record what it was given, report each trial, write the table it reads."""
    import invmgmt_marl.cli.training as training

    seen: dict[str, Any] = {}

    def run(grid: Any, scenario: Any, seeds: int, out: Path, parallel: int, progress: Any) -> dict[str, Any]:
        seen.update(grid=grid, seeds=seeds, out=Path(out), parallel=parallel)
        for k, config in enumerate(grid.configs):
            for seed in range(seeds):
                progress(f"{config} seed {seed}: {k + 0.25:.2f} per agent-period")
        (Path(out) / "results.md").write_text("| configuration |\n", encoding="utf-8")
        return {"rows": [{}]}

    monkeypatch.setattr(invmgmt_marl.ablation, "run_ablation", run)
    monkeypatch.setattr(training, "has_module", lambda name: True)
    return seen


def test_quick_preset(fake_run: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ablate", "--grid", GRID, "--quick", "--out", str(tmp_path / "q")]) == 0
    grid = fake_run["grid"]
    assert (grid.budget.iterations, grid.budget.steps_per_iteration) == (
        QUICK["iterations"],
        QUICK["steps_per_iteration"],
    )
    assert grid.budget.eval_episodes == QUICK["eval_episodes"]
    assert grid.evaluation.episodes == QUICK["test_episodes"] and grid.evaluation.bound is False
    assert grid.evaluation.seed == 2022 and grid.budget.backend == "sb3"  # the rest is the grid's
    assert fake_run["seeds"] == QUICK["seeds"]
    out = capsys.readouterr().out
    # not a terminal: one plain line per trial, no live bar (no carriage returns, no escape codes)
    trial_lines = [ln for ln in out.splitlines() if ln.startswith("trial ")]
    assert trial_lines[0] == "trial 1/7: own_cost seed 0: 0.25 per agent-period"
    assert len(trial_lines) == 7 and "\r" not in out and "\x1b[" not in out


def test_budget_flags_win_over_grid_and_quick(fake_run: dict[str, Any], tmp_path: Path) -> None:
    argv = ["ablate", "--grid", GRID, "--out", str(tmp_path / "a"), "--iterations", "3"]
    assert main([*argv, "--steps-per-iteration", "128", "--test-episodes", "4", "--seeds", "2"]) == 0
    grid = fake_run["grid"]
    assert (grid.budget.iterations, grid.budget.steps_per_iteration, grid.evaluation.episodes) == (3, 128, 4)
    assert grid.evaluation.bound is True and grid.budget.eval_episodes == 10 and fake_run["seeds"] == 2
    assert main([*argv, "--quick", "--seeds", "2", "--configs", "2"]) == 0
    grid = fake_run["grid"]
    assert grid.budget.iterations == 3 and grid.evaluation.episodes == QUICK["test_episodes"]
    assert fake_run["seeds"] == 2 and list(grid.configs) == ["own_cost", "mix_0.75"]


def test_no_flags_keep_the_grid(fake_run: dict[str, Any], tmp_path: Path) -> None:
    grid, _ = load_grid(GRID)
    assert main(["ablate", "--grid", GRID, "--out", str(tmp_path / "a")]) == 0
    assert fake_run["grid"] == grid and fake_run["seeds"] == 3


def test_budget_out_of_range_names_the_field(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    grid, _ = load_grid(GRID)
    with pytest.raises(AblationError, match="steps_per_iteration"):
        with_budget(grid, {"steps_per_iteration": 10})
    assert main(["ablate", "--grid", GRID, "--steps-per-iteration", "10", "--out", str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: budget: ") and "steps_per_iteration" in err and err.count("\n") == 1


def test_ablate_help_shows_the_budget_flags(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["ablate", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    for flag in ("--iterations", "--steps-per-iteration", "--test-episodes", "--quick", "--configs"):
        assert flag in out
    assert "(default: 1)" in out  # --parallel
