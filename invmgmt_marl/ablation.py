"""Per-agent reward ablations: train one PPO per (reward configuration, seed), score all on one test set.

A grid file (YAML) names reward configurations; every configuration is trained with the same PPO
budget and the same seeds, and every trained policy is scored on the same fixed test demand set with
the same system-level measure (the scenario's team cost from the ledger, whatever reward the agents
were trained on), next to the tuned base-stock policy on that set.

    scenario: serial                      # optional; the CLI's --scenario wins
    env: {demand: {process: poisson, mean: 10}}   # parallel_env keywords common to every trial
    budget: {backend: sb3, iterations: 30, steps_per_iteration: 4000, policies: shared}
    evaluation: {episodes: 20, seed: 2022, bound: true}
    configs:
      own_cost:  {reward: {scheme: cost, alpha: 1.0}}
      team_cost: {reward: {scheme: cost, alpha: 0.0}}
      stores_reconciliation:
        reward: {scheme: cost, roles: {store: {scheme: reconciliation}}}

Results go to ``out/``: one JSON per finished trial under ``trials/`` (a run that is interrupted
resumes where it stopped: finished trials with the same settings are not redone), then
``results.json``, ``results.csv``, ``results.md`` and ``learning_curves.png``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, ValidationError, field_validator

from invmgmt_marl._io import atomic_write_json, check_name, child_path, load_yaml_file, read_json_or_none
from invmgmt_marl.errors import ScenarioError
from invmgmt_marl.objective import Objective
from invmgmt_marl.scenario import Scenario, apply_overrides, load_scenario
from invmgmt_marl.scenario.schema import FrozenModel, _format_error

__all__ = [
    "AblationError",
    "AblationGrid",
    "EvaluationSettings",
    "SCORED_ON",
    "load_grid",
    "run_ablation",
    "trial_key",
    "with_budget",
]

logger = logging.getLogger(__name__)
#: what every trial, the baseline and the bound are scored on (whatever reward the agents trained on)
SCORED_ON: Objective = "cost"


class AblationError(ValueError):
    """A grid file is invalid; the message names the field and the value."""


_Model = FrozenModel  # grid files: immutable, unknown keys rejected, no .inf / .nan


class Budget(_Model):
    backend: Literal["sb3", "rllib"] = "sb3"
    policies: Literal["shared", "per_role", "per_agent"] = "shared"
    iterations: int = Field(default=20, ge=1)
    steps_per_iteration: int = Field(default=4000, ge=64)
    eval_episodes: int = Field(default=10, ge=1)  # the training curve's evaluation set (not the test set)


class EvaluationSettings(_Model):
    """The grid's ``evaluation`` block: the fixed test set every trained policy is scored on."""

    episodes: int = Field(default=20, ge=1)
    seed: int = 2022
    bound: bool = True


class Config(_Model):
    reward: dict[str, Any]
    description: str = ""


class AblationGrid(_Model):
    scenario: str | None = None
    env: dict[str, Any] = Field(default_factory=dict)
    budget: Budget = Budget()
    evaluation: EvaluationSettings = EvaluationSettings()
    configs: dict[str, Config] = Field(min_length=1)

    @field_validator("configs")
    @classmethod
    def _safe_names(cls, configs: dict[str, Config]) -> dict[str, Config]:
        # configuration names become folder and file names of trials: safe slugs only
        for name in configs:
            check_name(name, "configuration name")
        return configs


def load_grid(
    path: str | Path, scenario: str | Path | Scenario | None = None
) -> tuple[AblationGrid, Scenario]:
    """Read and validate a grid file; every configuration's reward is checked against the scenario.

    Raises:
        AblationError: naming the invalid field and value (also for invalid reward settings).
    """
    p = Path(path)
    data = load_yaml_file(p, error=AblationError)
    if not isinstance(data, Mapping):
        raise AblationError(f"{p}: a grid must be a mapping, got {type(data).__name__}")
    try:
        grid = AblationGrid.model_validate(dict(data))
    except ValidationError as err:
        raise AblationError(f"{p}: {_format_error(err)}") from None
    name = scenario if scenario is not None else grid.scenario
    if name is None:
        raise AblationError(f"{p}: scenario: give it in the grid or on the command line")
    try:
        base = load_scenario(name, **grid.env)
    except ScenarioError as err:
        raise AblationError(f"{p}: env: {err}") from None
    for cname, cfg in grid.configs.items():
        try:
            apply_overrides(base, reward_spec=cfg.reward)
        except ScenarioError as err:
            raise AblationError(f"{p}: configs.{cname}.reward: {err}") from None
    return grid, base


def with_budget(
    grid: AblationGrid,
    budget: Mapping[str, Any] | None = None,
    evaluation: Mapping[str, Any] | None = None,
    configs: int | None = None,
) -> AblationGrid:
    """The grid with some budget or test-set settings replaced (the command line's budget flags).

    Args:
        grid: from :func:`load_grid`.
        budget: fields of the grid's ``budget`` to replace (``iterations``, ``steps_per_iteration``, ...).
        evaluation: fields of the grid's ``evaluation`` to replace (``episodes``, ``bound``, ...).
        configs: keep only the first ``configs`` reward configurations (all when None).

    Raises:
        AblationError: a replaced value is out of range (naming the field and the value).

    Trials of the changed grid have other keys (:func:`trial_key`), so a resumed run never mixes
    results trained with different budgets.
    """
    data = grid.model_dump()
    data["budget"] = {**data["budget"], **(budget or {})}
    data["evaluation"] = {**data["evaluation"], **(evaluation or {})}
    if configs is not None:
        data["configs"] = dict(list(data["configs"].items())[:configs])
    try:
        return AblationGrid.model_validate(data)
    except ValidationError as err:
        raise AblationError(f"budget: {_format_error(err)}") from None


def trial_key(grid: AblationGrid, scenario: Scenario, config: str, seed: int) -> str:
    """Hash of everything that determines a trial's result (a finished trial with the same key is reused)."""
    blob = json.dumps(
        [
            scenario.to_dict(),
            grid.env,
            grid.budget.model_dump(),
            grid.evaluation.model_dump(),
            grid.configs[config].model_dump(),
            seed,
            1,
        ],
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _atomic_json(path: Path, data: Any) -> None:
    atomic_write_json(path, data, default=str)


def _test_demand(scenario: Scenario, ev: EvaluationSettings) -> np.ndarray:
    from invmgmt_marl.compile import compile_network
    from invmgmt_marl.demand import sample_network_demand

    net = compile_network(scenario)
    return sample_network_demand(net, np.random.default_rng(ev.seed), ev.episodes, net.periods)


def _kpis(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The system-level measures reported per trial."""
    bound = summary.get("bound") or {}
    return {
        "cost_per_agent_period": summary["cost"]["per_agent_period"],
        "fill_rate": summary["system_fill_rate"],
        "bullwhip_cv": summary["bullwhip"]["cv"],
        "gap_to_bound": bound.get("gap"),
        "score": summary.get("score"),
    }


def run_trial(
    grid: AblationGrid,
    scenario: Scenario,
    config: str,
    seed: int,
    out: str | Path,
    bound_values: list[float] | None = None,
) -> dict[str, Any]:
    """Train one configuration with one seed and score it on the test set; returns the trial record."""
    from invmgmt_marl.evaluate import evaluate
    from invmgmt_marl.train import train

    out = Path(out)
    trial_dir = child_path(out, "runs", f"{config}__seed{int(seed)}")
    b = grid.budget
    env_kwargs = {**grid.env, "reward_spec": grid.configs[config].reward}
    result = train(
        scenario,
        backend=b.backend,
        policies=b.policies,
        iterations=b.iterations,
        seed=seed,
        out=trial_dir,
        eval_episodes=b.eval_episodes,
        steps_per_iteration=b.steps_per_iteration,
        keep_best=True,
        **env_kwargs,
    )
    if b.backend == "rllib":
        from invmgmt_marl.adapters.rllib import load_rllib_policy

        policy = load_rllib_policy(trial_dir / "best")
    else:
        from invmgmt_marl.adapters.sb3 import load_sb3_policy

        policy = load_sb3_policy(trial_dir / "best" / "sb3_ppo.zip", scenario=scenario, **env_kwargs)
    test = _test_demand(scenario, grid.evaluation)
    bound: Any = np.asarray(bound_values) if bound_values is not None else grid.evaluation.bound
    summary = evaluate(
        policy, scenario, demand=test, bound=bound, objective=SCORED_ON, keep_trajectory=False
    ).summary()
    return {
        "config": config,
        "seed": seed,
        "key": trial_key(grid, scenario, config, seed),
        "kpis": _kpis(summary),
        "curve": result.curve,
        "train_seconds": result.seconds,
        "summary": summary,
    }


def run_ablation(
    grid: AblationGrid,
    scenario: Scenario,
    seeds: int = 3,
    out: str | Path = "runs/ablation",
    parallel: int = 1,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run (or resume) every trial of the grid and write the tables; returns the results mapping.

    Args:
        grid, scenario: from :func:`load_grid`.
        seeds: seeds ``0 .. seeds - 1`` per configuration.
        out: output folder.
        parallel: trials run at once as Ray tasks (one CPU each); 1 runs them here, one after another.
        progress: called with a short message after each finished (or reused) trial.
    """
    from invmgmt_marl.evaluate import evaluate
    from invmgmt_marl.policies import tune

    out = Path(out)
    (out / "trials").mkdir(parents=True, exist_ok=True)
    _atomic_json(out / "grid.json", {"scenario": scenario.name, **grid.model_dump()})
    test = _test_demand(scenario, grid.evaluation)
    bound_values: list[float] | None = None
    if grid.evaluation.bound:
        from invmgmt_marl.compile import compile_network
        from invmgmt_marl.oracle import OracleError, bound_many

        try:
            bounds = bound_many(compile_network(scenario), test, objective=SCORED_ON)
            bound_values = [r.objective for r in bounds]
        except OracleError as err:
            logger.warning("no perfect-information bound: %s", err)
    # the reference row: base-stock tuned on fresh training demand (seed 123), scored on the test set
    from invmgmt_marl.compile import compile_network

    tuned = tune(
        compile_network(scenario), "base_stock", episodes=64, seed=123, objective=SCORED_ON, cache=True
    )
    baseline = _kpis(
        evaluate(
            tuned,
            scenario,
            demand=test,
            bound=np.asarray(bound_values) if bound_values else False,
            objective=SCORED_ON,
            keep_trajectory=False,
        ).summary()
    )

    todo: list[tuple[str, int]] = []
    records: dict[tuple[str, int], dict[str, Any]] = {}
    for config in grid.configs:
        for seed in range(seeds):
            path = child_path(out, "trials", f"{config}__seed{seed}.json")
            rec = read_json_or_none(path, "trial record")  # a corrupt record is redone, not fatal
            if isinstance(rec, dict) and rec.get("key") == trial_key(grid, scenario, config, seed):
                records[(config, seed)] = rec
                if progress:
                    progress(f"{config} seed {seed}: reused")
                continue
            todo.append((config, seed))

    def done(rec: dict[str, Any]) -> None:
        _atomic_json(child_path(out, "trials", f"{rec['config']}__seed{int(rec['seed'])}.json"), rec)
        records[(rec["config"], rec["seed"])] = rec
        if progress:
            progress(
                f"{rec['config']} seed {rec['seed']}: {rec['kpis']['cost_per_agent_period']:.2f} "
                "per agent-period"
            )

    if parallel > 1 and len(todo) > 1:
        from invmgmt_marl.adapters import require

        ray = require("ray", "rllib")
        if not ray.is_initialized():
            ray.init(num_cpus=parallel, include_dashboard=False, log_to_driver=False)
        remote = ray.remote(num_cpus=1)(run_trial)
        pending = {remote.remote(grid, scenario, c, s, str(out), bound_values): (c, s) for c, s in todo}
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            pending.pop(ready[0])
            done(ray.get(ready[0]))
    else:
        for config, seed in todo:
            done(run_trial(grid, scenario, config, seed, out, bound_values))

    results = _aggregate(grid, scenario, seeds, records, baseline)
    _atomic_json(out / "results.json", results)
    _write_tables(results, out)
    _plot_curves(
        records,
        out / "learning_curves.png",
        title=f"{scenario.name}: reward ablation, {grid.budget.backend} PPO ({grid.budget.policies}), "
        f"{seeds} seed(s)",
        reference=baseline.get("cost_per_agent_period"),
        order=list(grid.configs),
    )
    return results


def _aggregate(
    grid: AblationGrid,
    scenario: Scenario,
    seeds: int,
    records: Mapping[tuple[str, int], Any],
    baseline: Mapping[str, Any],
) -> dict[str, Any]:
    rows = []
    for config in grid.configs:
        recs = [records[(config, s)] for s in range(seeds)]

        def stat(get: Callable[[Mapping[str, Any]], Any], recs: list[Any] = recs) -> dict[str, float | None]:
            vals = np.array([np.nan if get(r["kpis"]) is None else get(r["kpis"]) for r in recs], dtype=float)
            if np.all(np.isnan(vals)):
                return {"mean": None, "std": None}
            return {
                "mean": float(np.nanmean(vals)),
                "std": float(np.nanstd(vals, ddof=1)) if len(vals) > 1 else 0.0,
            }

        levels = list(recs[0]["kpis"]["bullwhip_cv"])
        rows.append(
            {
                "config": config,
                "reward": grid.configs[config].reward,
                "seeds": seeds,
                "cost_per_agent_period": stat(lambda k: k["cost_per_agent_period"]),
                "fill_rate": stat(lambda k: k["fill_rate"]),
                "bullwhip_cv": {lv: stat(_bullwhip_of(lv)) for lv in levels},
                "gap_to_bound": stat(lambda k: k["gap_to_bound"]),
                "per_seed_cost": [r["kpis"]["cost_per_agent_period"] for r in recs],
            }
        )
    return {
        "scenario": scenario.name,
        "budget": grid.budget.model_dump(),
        "evaluation": grid.evaluation.model_dump(),
        "env": grid.env,
        "baseline": {"policy": "base_stock (tuned, 64 paths, seed 123)", **baseline},
        "rows": rows,
    }


def _bullwhip_of(level: str) -> Callable[[Mapping[str, Any]], Any]:
    """A trial's bullwhip CV at ``level`` (for :func:`_aggregate`'s statistics)."""
    return lambda kpis: kpis["bullwhip_cv"][level]


def _fmt(s: Mapping[str, Any] | None, pct: bool = False) -> str:
    if not s or s.get("mean") is None:
        return "-"
    m, d = s["mean"], s.get("std") or 0.0
    return f"{100 * m:.1f}% ± {100 * d:.1f}" if pct else f"{m:.2f} ± {d:.2f}"


def _write_tables(results: Mapping[str, Any], out: Path) -> None:
    rows = results["rows"]
    levels = list(rows[0]["bullwhip_cv"]) if rows else []
    base = results["baseline"]
    with (out / "results.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "config",
                "cost_mean",
                "cost_std",
                "fill_mean",
                "fill_std",
                "gap_mean",
                *[f"bullwhip_cv[{lv}]" for lv in levels],
                "per_seed_cost",
            ]
        )
        for r in rows:
            w.writerow(
                [
                    r["config"],
                    r["cost_per_agent_period"]["mean"],
                    r["cost_per_agent_period"]["std"],
                    r["fill_rate"]["mean"],
                    r["fill_rate"]["std"],
                    r["gap_to_bound"]["mean"],
                    *[r["bullwhip_cv"][lv]["mean"] for lv in levels],
                    json.dumps(r["per_seed_cost"]),
                ]
            )
        w.writerow(
            [
                base["policy"],
                base["cost_per_agent_period"],
                0,
                base["fill_rate"],
                0,
                base["gap_to_bound"],
                *[base["bullwhip_cv"].get(lv) for lv in levels],
                "[]",
            ]
        )
    head = (
        "| configuration | cost / agent-period | fill rate | bullwhip CV "
        + " / ".join(levels)
        + " | gap to bound |\n|---|---:|---:|---|---:|\n"
    )
    lines = []
    for r in rows:
        bw = " / ".join(_fmt(r["bullwhip_cv"][lv]) for lv in levels)
        lines.append(
            f"| {r['config']} | {_fmt(r['cost_per_agent_period'])} | {_fmt(r['fill_rate'], True)} | {bw} "
            f"| {_fmt(r['gap_to_bound'], True)} |"
        )
    bw = " / ".join(f"{base['bullwhip_cv'].get(lv, float('nan')):.2f}" for lv in levels)
    gap = "-" if base["gap_to_bound"] is None else f"{100 * base['gap_to_bound']:.1f}%"
    lines.append(
        f"| **{base['policy']}** | {base['cost_per_agent_period']:.2f} | {100 * base['fill_rate']:.1f}% "
        f"| {bw} | {gap} |"
    )
    (out / "results.md").write_text(head + "\n".join(lines) + "\n", encoding="utf-8")


def _plot_curves(
    records: Mapping[tuple[str, int], Any],
    path: Path,
    title: str = "",
    reference: float | None = None,
    order: list[str] | None = None,
) -> None:
    """Mean evaluation cost per configuration over iterations (band: min..max over seeds), on a linear
    axis, with the tuned base-stock policy's test-set cost as a dashed reference line when given;
    configurations in ``order`` (the grid's), the legend beside the axes."""
    from matplotlib.ticker import MaxNLocator

    from invmgmt_marl.plots import new_figure

    fig = new_figure(figsize=(10, 4.8), layout="constrained")
    ax = fig.subplots()
    by_config: dict[str, list[list[float]]] = {c: [] for c in order or []}
    for (config, _), rec in sorted(records.items()):
        by_config.setdefault(config, []).append([r["eval_cost_per_agent_period"] for r in rec["curve"]])
    by_config = {c: curves for c, curves in by_config.items() if curves}
    for config, curves in by_config.items():
        n = min(len(c) for c in curves)
        arr = np.array([c[:n] for c in curves])
        it = np.arange(1, n + 1)
        ax.plot(it, arr.mean(axis=0), label=config)
        if len(curves) > 1:
            ax.fill_between(it, arr.min(axis=0), arr.max(axis=0), alpha=0.15)
    if reference is not None and np.isfinite(reference):
        label = f"tuned base-stock ({reference:.2f}, on the test set)"
        ax.axhline(reference, color="black", ls="--", lw=1.0, label=label)
    ax.set_xlabel("iteration")
    ax.set_ylabel("evaluation cost per agent-period")
    if title:
        ax.set_title(title, fontsize=10)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    fig.savefig(path, dpi=110)
