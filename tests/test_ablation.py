"""Reward ablations: grid validation, a miniature end-to-end run, resuming without redoing trials."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("stable_baselines3", reason="extra 'sb3' not installed")

import invmgmt_marl.ablation as ablation  # noqa: E402
from invmgmt_marl.ablation import AblationError, load_grid, run_ablation  # noqa: E402

TINY = """
env: {periods: 10}
budget: {backend: sb3, iterations: 2, steps_per_iteration: 120, eval_episodes: 2}
evaluation: {episodes: 3, seed: 5, bound: true}
configs:
  own: {reward: {scheme: cost, alpha: 1.0}}
  store_recon: {reward: {scheme: cost, roles: {store: {scheme: reconciliation}}}}
"""


def _grid(tmp_path: Path, text: str = TINY) -> Path:
    p = tmp_path / "grid.yaml"
    p.write_text(text)
    return p


@pytest.mark.parametrize(
    "text,field",
    [
        ("configs: {a: {reward: {scheme: cost}, bogus: 1}}", "configs.a.bogus"),
        ("configs: {}", "configs"),
        ("budget: {iterations: 0}\nconfigs: {a: {reward: {scheme: cost}}}", "budget.iterations"),
        ("budget: {backend: tf}\nconfigs: {a: {reward: {scheme: cost}}}", "budget.backend"),
        ("configs: {a: {reward: {scheme: nope}}}", "configs.a.reward"),
        (
            "configs: {a: {reward: {scheme: cost, roles: {store: {weights: {service_level: 1}}}}}}",
            "configs.a.reward",
        ),
        ("configs: {a: {reward: {scheme: cost, agents: {store_9: {alpha: 0.5}}}}}", "configs.a.reward"),
        ("env: {periodz: 3}\nconfigs: {a: {reward: {scheme: cost}}}", "env"),
        ("surprise: 1\nconfigs: {a: {reward: {scheme: cost}}}", "surprise"),
    ],
)
def test_invalid_grids_name_the_field(tmp_path: Path, text: str, field: str) -> None:
    with pytest.raises(AblationError) as info:
        load_grid(_grid(tmp_path, text), "serial")
    assert field in str(info.value), str(info.value)


def test_scenario_must_be_given(tmp_path: Path) -> None:
    with pytest.raises(AblationError, match="scenario"):
        load_grid(_grid(tmp_path, "configs: {a: {reward: {scheme: cost}}}"))


def test_miniature_grid_runs_end_to_end_and_resumes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    grid, scenario = load_grid(_grid(tmp_path), "serial")
    out = tmp_path / "out"
    results = run_ablation(grid, scenario, seeds=1, out=out)
    rows = {r["config"]: r for r in results["rows"]}
    assert set(rows) == {"own", "store_recon"}
    for r in rows.values():
        cost = r["cost_per_agent_period"]["mean"]
        assert cost > 0 and r["per_seed_cost"] == [cost]
        assert 0 <= r["fill_rate"]["mean"] <= 1
        assert r["gap_to_bound"]["mean"] >= 0  # never below the perfect-information bound
    assert results["baseline"]["cost_per_agent_period"] > 0
    for name in ("results.json", "results.csv", "results.md", "learning_curves.png", "grid.json"):
        assert (out / name).exists(), name
    assert "store_recon" in (out / "results.md").read_text()
    trials = sorted(p.name for p in (out / "trials").glob("*.json"))
    assert trials == ["own__seed0.json", "store_recon__seed0.json"]

    # resume: finished trials with the same settings are reused, not redone
    calls: list[tuple[str, int]] = []
    real = ablation.run_trial

    def counting(grid, scenario, config, seed, out, bound_values=None):  # type: ignore[no-untyped-def]
        calls.append((config, seed))
        return real(grid, scenario, config, seed, out, bound_values)

    monkeypatch.setattr(ablation, "run_trial", counting)
    again = run_ablation(grid, scenario, seeds=1, out=out)
    assert calls == []
    assert again["rows"] == results["rows"]
    # an interrupted run: one trial file missing -> only that trial runs; a second seed -> only new trials
    (out / "trials" / "own__seed0.json").unlink()
    run_ablation(grid, scenario, seeds=2, out=out)
    assert sorted(calls) == [("own", 0), ("own", 1), ("store_recon", 1)]
    # a trial recorded under other settings (e.g. a different budget) is redone, not reused
    rec = json.loads((out / "trials" / "own__seed1.json").read_text())
    rec["key"] = "stale"
    (out / "trials" / "own__seed1.json").write_text(json.dumps(rec))
    calls.clear()
    run_ablation(grid, scenario, seeds=2, out=out)
    assert calls == [("own", 1)]


@pytest.mark.slow  # 7.7 s: starts Ray and trains four SB3 trials
def test_parallel_trials_run_as_ray_tasks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--parallel 2: trials run as Ray tasks and give the same records as running them here."""
    pytest.importorskip("ray", reason="extra 'rllib' (ray) not installed")
    import ray

    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")  # restored after the test
    grid, scenario = load_grid(_grid(tmp_path), "serial")
    started = not ray.is_initialized()
    try:
        par = run_ablation(grid, scenario, seeds=1, out=tmp_path / "par", parallel=2)
    finally:
        if started and ray.is_initialized():
            ray.shutdown()
    seq = run_ablation(grid, scenario, seeds=1, out=tmp_path / "seq", parallel=1)
    # SB3 training is deterministic under a seed: the same trials give the same test costs
    assert [r["per_seed_cost"] for r in par["rows"]] == [r["per_seed_cost"] for r in seq["rows"]]
    assert sorted(p.name for p in (tmp_path / "par" / "trials").glob("*.json")) == [
        "own__seed0.json",
        "store_recon__seed0.json",
    ]
