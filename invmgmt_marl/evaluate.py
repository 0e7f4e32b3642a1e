"""Evaluate a policy on a set of demand paths: KPIs per episode and over the set, in one batched rollout.

    from invmgmt_marl import evaluate
    res = evaluate("base_stock", "serial", episodes=20, seed=0)       # or demand="path/to/set"
    res.summary()["cost"]["per_agent_period"], res.summary()["bound"]["gap"]
    res.to_csv("out/episodes.csv"); res.to_json("out/evaluation.json"); console.print(res.summary_table())

The KPI formulas are in :mod:`invmgmt_marl.metrics`. Besides the policy itself, an evaluation rolls out
the do-nothing floor (``ConstantPolicy(0)``) on the same demand and solves the perfect-information
linear program of every path (:func:`invmgmt_marl.oracle.bound_many`), which give the gap to the
bound and the normalised score ``(policy - floor) / (bound - floor)``.

:func:`run_benchmark` and :func:`benchmark_markdown` evaluate every baseline on every shipped scenario
(the ``invmgmt-marl benchmark`` command).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from invmgmt_marl import metrics as M
from invmgmt_marl.compile import compile_network
from invmgmt_marl.demand import sample_network_demand
from invmgmt_marl.policies import ConstantPolicy, TuneResult, make_policy
from invmgmt_marl.policies.tuning import TUNABLE, tune
from invmgmt_marl.rollout import Trajectory, rollout
from invmgmt_marl.scenario import list_scenarios, load_scenario
from invmgmt_marl.sim import COST_FIELDS, Network
from invmgmt_marl.validation import check_demand

if TYPE_CHECKING:  # pragma: no cover
    from rich.table import Table

    from invmgmt_marl.policies import Policy
    from invmgmt_marl.scenario.schema import Scenario

__all__ = [
    "Evaluation",
    "evaluate",
    "resolve_network",
    "BASELINES",
    "Baseline",
    "run_benchmark",
    "benchmark_markdown",
]

logger = logging.getLogger(__name__)
F64 = NDArray[np.float64]
OBJECTIVES = ("cost", "profit")


# --------------------------------------------------------------------------------------------------
def resolve_network(scenario: str | Path | Scenario | Network, **overrides: Any) -> Network:
    """A compiled network from a shipped scenario name, a YAML path, a Scenario or a Network."""
    if isinstance(scenario, Network):
        if any(v is not None for v in overrides.values()):
            raise ValueError(f"overrides: cannot apply {sorted(overrides)} to an already compiled Network")
        return scenario
    return compile_network(load_scenario(scenario, **overrides))


def _resolve_policy(policy: Any, net: Network) -> Policy:
    if isinstance(policy, str):
        return make_policy(policy, net)
    if isinstance(policy, TuneResult):
        return policy.policy(net)
    if not callable(policy):
        raise TypeError(f"policy: expected a policy callable, a policy name or a TuneResult, got {policy!r}")
    return policy


def _resolve_demand(demand: Any, net: Network) -> tuple[F64, str]:
    if isinstance(demand, (str, Path)):
        from invmgmt_marl.demandsets import load_demand_set, read_meta

        meta = read_meta(demand) if Path(demand).is_dir() else None
        if meta and meta.get("scenario") not in (None, net.name):
            logger.warning(
                "demand set %s was generated for scenario %r, evaluating on %r",
                demand,
                meta.get("scenario"),
                net.name,
            )
        return load_demand_set(demand, net), str(demand)
    d = np.asarray(demand)
    if d.ndim == 2:
        d = d[None]
    return check_demand(d, periods=net.periods, n_stores=net.n_stores, batched=True), "array"


def _per_episode(values: Any, batch: int, name: str) -> F64:
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    if v.shape != (batch,):
        raise ValueError(f"{name}: expected one value per episode ({batch}), got shape {np.shape(values)}")
    return v


def _clean(x: Any) -> Any:
    """JSON-safe: numpy to Python, NaN / inf to None."""
    if isinstance(x, Mapping):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, np.ndarray):
        return _clean(x.tolist())
    if isinstance(x, (np.floating, float)):
        f = float(x)
        return f if math.isfinite(f) else None
    if isinstance(x, np.integer):
        return int(x)
    return x


def _nanmean(a: F64) -> F64:
    """Mean over the episode axis ignoring NaN (NaN where a column is all NaN), without warnings."""
    ok = np.isfinite(a)
    n = ok.sum(axis=0)
    total = np.where(ok, a, 0.0).sum(axis=0)
    return np.where(n > 0, total / np.maximum(n, 1), np.nan)


# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Evaluation:
    """Per-episode KPIs of one policy on ``B`` demand paths (arrays have the episode axis first).

    ``value`` is the episode's team cost (``objective="cost"``) or profit (``"profit"``); ``bound`` the
    perfect-information optimum of the same objective and ``floor`` the do-nothing policy's value,
    both per episode (``None`` when not computed).
    """

    scenario: str
    policy: str
    objective: str
    seed: int | None
    demand_source: str
    agents: tuple[str, ...]
    stores: tuple[str, ...]
    levels: tuple[str, ...]
    grouping: str
    periods: int
    cost: F64  # (B, N)
    breakdown: dict[str, F64]  # field -> (B, N)
    revenue: F64  # (B, N)
    fill_rate: F64  # (B, S)
    system_fill_rate: F64  # (B,)
    node_fill_rate: F64  # (B, N)
    cycle_service_level: F64  # (B, S)
    bullwhip_cv: F64  # (B, L)
    bullwhip_variance_ratio: F64  # (B, L)
    node_order_cv: F64  # (B, N)
    demand_cv: F64  # (B,)
    turns: F64  # (B, S)
    system_turns: F64  # (B,)
    bound: F64 | None = None  # (B,)
    floor: F64 | None = None  # (B,)
    seconds: dict[str, float] = field(default_factory=dict)
    trajectory: Trajectory | None = field(default=None, repr=False)
    network: Network | None = field(default=None, repr=False)

    # ---------------------------------------------------------------------------------------------
    @property
    def episodes(self) -> int:
        return int(self.cost.shape[0])

    @property
    def value(self) -> F64:
        """``(B,)`` team cost, or team profit (revenue - cost) with ``objective="profit"``."""
        cost = self.cost.sum(axis=1)
        return cost if self.objective == "cost" else self.revenue.sum(axis=1) - cost

    @property
    def cost_per_agent_period(self) -> F64:
        """``(B,)`` team cost / (agents x periods)."""
        return self.cost.sum(axis=1) / (len(self.agents) * self.periods)

    @property
    def gap(self) -> F64 | None:
        """``(B,)`` relative gap to the bound (:func:`~invmgmt_marl.metrics.gap_to_bound`)."""
        return None if self.bound is None else M.gap_to_bound(self.value, self.bound, self.objective)

    @property
    def score(self) -> F64 | None:
        """``(B,)`` ``(value - floor) / (bound - floor)``: 0 = do nothing, 1 = the bound."""
        if self.bound is None or self.floor is None:
            return None
        return M.normalised_score(self.value, self.floor, self.bound)

    # ---------------------------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """Aggregate KPIs: means over episodes; gap and score are ratios of the mean values
        (``(mean value - mean bound) / mean bound``), so small-bound episodes do not dominate."""
        b = self.episodes
        per_ap = self.cost_per_agent_period
        n_ap = len(self.agents) * self.periods
        mean = lambda a: a.mean(axis=0)  # noqa: E731
        out: dict[str, Any] = {
            "scenario": self.scenario,
            "policy": self.policy,
            "objective": self.objective,
            "episodes": b,
            "periods": self.periods,
            "seed": self.seed,
            "demand_source": self.demand_source,
            "agents": list(self.agents),
            "stores": list(self.stores),
            "levels": list(self.levels),
            "level_grouping": self.grouping,
            "cost": {
                "total": float(self.cost.sum(axis=1).mean()),
                "per_agent_period": float(per_ap.mean()),
                "stderr_per_agent_period": float(per_ap.std(ddof=1) / math.sqrt(b)) if b > 1 else None,
                "per_node": {
                    a: {
                        "total": float(mean(self.cost)[i]),
                        **{f: float(mean(v)[i]) for f, v in self.breakdown.items()},
                    }
                    for i, a in enumerate(self.agents)
                },
                "by_field": {f: float(v.sum(axis=1).mean()) for f, v in self.breakdown.items()},
            },
            "revenue": float(self.revenue.sum(axis=1).mean()),
            "profit": float((self.revenue - self.cost).sum(axis=1).mean()),
            "fill_rate": {s: float(v) for s, v in zip(self.stores, mean(self.fill_rate), strict=True)},
            "system_fill_rate": float(self.system_fill_rate.mean()),
            "node_fill_rate": {
                a: float(v) for a, v in zip(self.agents, mean(self.node_fill_rate), strict=True)
            },
            "cycle_service_level": {
                s: float(v) for s, v in zip(self.stores, mean(self.cycle_service_level), strict=True)
            },
            "bullwhip": {
                "cv": {lv: float(v) for lv, v in zip(self.levels, mean(self.bullwhip_cv), strict=True)},
                "variance_ratio": {
                    lv: float(v)
                    for lv, v in zip(self.levels, _nanmean(self.bullwhip_variance_ratio), strict=True)
                },
                "node_cv": {a: float(v) for a, v in zip(self.agents, mean(self.node_order_cv), strict=True)},
                "demand_cv": float(self.demand_cv.mean()),
            },
            "turns": {
                **{s: float(v) for s, v in zip(self.stores, mean(self.turns), strict=True)},
                "system": float(self.system_turns.mean()),
            },
            "bound": None,
            "floor": None,
            "score": None,
            "seconds": dict(self.seconds),
        }
        value = float(self.value.mean())
        if self.bound is not None:
            bnd = float(self.bound.mean())
            out["bound"] = {
                "objective": self.objective,
                "value": bnd,
                "per_agent_period": bnd / n_ap,
                "gap": float(M.gap_to_bound(value, bnd, self.objective)),
                "gap_per_episode_mean": float(np.nanmean(self.gap)) if self.gap is not None else None,
            }
        if self.floor is not None:
            fl = float(self.floor.mean())
            out["floor"] = {"policy": "ConstantPolicy(0)", "value": fl, "per_agent_period": fl / n_ap}
            if self.bound is not None:
                out["score"] = float(M.normalised_score(value, fl, float(self.bound.mean())))
        return out

    def episode_rows(self) -> list[dict[str, Any]]:
        """One flat dict per episode (the CSV rows)."""
        rows = []
        gap, score = self.gap, self.score
        n_ap = len(self.agents) * self.periods
        for k in range(self.episodes):
            r: dict[str, Any] = {
                "episode": k,
                "value": float(self.value[k]),
                "cost": float(self.cost[k].sum()),
                "cost_per_agent_period": float(self.cost[k].sum() / n_ap),
                "revenue": float(self.revenue[k].sum()),
            }
            for i, a in enumerate(self.agents):
                r[f"cost[{a}]"] = float(self.cost[k, i])
                for f in COST_FIELDS:
                    r[f"{f}[{a}]"] = float(self.breakdown[f][k, i])
            for j, s in enumerate(self.stores):
                r[f"fill_rate[{s}]"] = float(self.fill_rate[k, j])
                r[f"cycle_service_level[{s}]"] = float(self.cycle_service_level[k, j])
                r[f"turns[{s}]"] = float(self.turns[k, j])
            r["system_fill_rate"] = float(self.system_fill_rate[k])
            r["system_turns"] = float(self.system_turns[k])
            for i, a in enumerate(self.agents):
                r[f"order_cv[{a}]"] = float(self.node_order_cv[k, i])
            for j, lv in enumerate(self.levels):
                r[f"bullwhip_cv[{lv}]"] = float(self.bullwhip_cv[k, j])
                r[f"bullwhip_variance_ratio[{lv}]"] = float(self.bullwhip_variance_ratio[k, j])
            r["demand_cv"] = float(self.demand_cv[k])
            r["bound"] = None if self.bound is None else float(self.bound[k])
            r["gap"] = None if gap is None else float(gap[k])
            r["floor"] = None if self.floor is None else float(self.floor[k])
            r["score"] = None if score is None else float(score[k])
            rows.append(r)
        return rows

    def to_dict(self) -> dict[str, Any]:
        """``{"summary": summary(), "episodes": episode_rows()}``, JSON-safe (NaN and inf as None)."""
        return _clean({"summary": self.summary(), "episodes": self.episode_rows()})

    def to_json(self, path: str | Path | None = None) -> str:
        """The :meth:`to_dict` as JSON text; also written to ``path`` if given."""
        text = json.dumps(self.to_dict(), indent=2)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    def to_csv(self, path: str | Path | None = None) -> str:
        """The per-episode table as CSV text (empty cells for missing values); also written to ``path``."""
        rows = self.episode_rows()
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        for r in rows:
            writer.writerow({k: ("" if v is None else v) for k, v in r.items()})
        text = buf.getvalue()
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def summary_table(self) -> Table:
        """A ``rich`` table: per-node means per period, KPIs, and the system column."""
        from rich.markup import escape
        from rich.table import Table

        s = self.summary()
        t = self.periods
        table = Table(
            title=escape(
                f"{self.scenario}: {self.policy} over {self.episodes} episode(s) of {t} periods "
                f"(demand: {self.demand_source})"
            ),
        )
        table.add_column("")
        for a in self.agents:
            table.add_column(a, justify="right")
        table.add_column("system", justify="right", style="bold")
        blank = [""] * len(self.agents)

        def fmt(v: Any, pct: bool = False) -> str:
            if v is None or (isinstance(v, float) and not math.isfinite(v)):
                return "-"
            return f"{100 * v:.1f}%" if pct else f"{v:,.2f}"

        mean_cost = self.cost.mean(axis=0) / t
        table.add_row(
            "cost / period", *(fmt(v) for v in mean_cost), fmt(s["cost"]["per_agent_period"]) + " /agent"
        )
        for f, v in self.breakdown.items():
            if np.any(v):
                table.add_row(
                    f"  {f.replace('_', ' ')}",
                    *(fmt(x) for x in v.mean(axis=0) / t),
                    fmt(float(v.sum(axis=1).mean()) / (t * len(self.agents))),
                )
        store_idx = {self.agents.index(name): j for j, name in enumerate(self.stores)}

        def per_store(arr: F64, pct: bool) -> list[str]:
            m = arr.mean(axis=0)
            return [
                fmt(float(m[store_idx[i]]), pct) if i in store_idx else "" for i in range(len(self.agents))
            ]

        table.add_row("fill rate", *per_store(self.fill_rate, True), fmt(s["system_fill_rate"], True))
        table.add_row("cycle service level", *per_store(self.cycle_service_level, True), "")
        table.add_row("inventory turns", *per_store(self.turns, False), fmt(s["turns"]["system"]))
        table.add_row(
            "order CV",
            *(fmt(v) for v in self.node_order_cv.mean(axis=0)),
            f"demand {fmt(s['bullwhip']['demand_cv'])}",
        )
        for lv in self.levels:
            cv, vr = s["bullwhip"]["cv"][lv], s["bullwhip"]["variance_ratio"][lv]
            table.add_row(escape(f"bullwhip ({lv})"), *blank, f"CV {fmt(cv)}, var {fmt(vr)}x")
        if s["bound"] is not None:
            table.add_row(
                "perfect-information bound", *blank, fmt(s["bound"]["per_agent_period"]) + " /agent"
            )
            table.add_row("gap to bound", *blank, fmt(s["bound"]["gap"], True))
        if s["floor"] is not None:
            table.add_row("do-nothing floor", *blank, fmt(s["floor"]["per_agent_period"]) + " /agent")
        if s["score"] is not None:
            table.add_row("normalised score", *blank, fmt(s["score"]))
        return table


# --------------------------------------------------------------------------------------------------
def evaluate(
    policy: Any,
    scenario: str | Path | Scenario | Network = "serial",
    demand: Any = None,
    episodes: int = 20,
    seed: int | None = 0,
    bound: bool | Sequence[float] | F64 = True,
    floor: bool | Sequence[float] | F64 = True,
    objective: str = "cost",
    by: str = "role",
    progress: bool = False,
    keep_trajectory: bool = True,
    **overrides: Any,
) -> Evaluation:
    """Evaluate ``policy`` on a scenario in one batched rollout over all episodes.

    Args:
        policy: a policy callable ``policy(net, state, rng) -> (B, E)``, a registered policy name
            (untuned defaults, :func:`~invmgmt_marl.policies.make_policy`) or a
            :class:`~invmgmt_marl.policies.TuneResult`.
        scenario: shipped scenario name, YAML path, Scenario or compiled Network.
        demand: ``(B, T, S)`` (or ``(T, S)``) demand paths, or a demand-set folder
            (:func:`~invmgmt_marl.demandsets.load_demand_set`). ``None`` draws ``episodes`` paths with
            ``default_rng(seed)``, exactly as ``rollout(net, policy, episodes, seed)`` and
            ``invmgmt-marl demand generate --seed`` do.
        episodes: number of paths to draw when ``demand`` is None.
        seed: seeds the demand draw (when drawn) and the policy's generator.
        bound: compute the perfect-information bound per episode (``True``), skip it (``False``), or
            give precomputed per-episode values ``(B,)`` of the same objective.
        floor: roll out the do-nothing policy on the same demand (``True``), skip, or give ``(B,)``.
        objective: ``"cost"`` (team cost) or ``"profit"`` (team revenue - cost).
        by: echelon grouping for bullwhip, ``"role"`` or ``"distance"``
            (:func:`~invmgmt_marl.metrics.echelon_levels`).
        progress: show a transient progress bar while the bounds are solved.
        keep_trajectory: keep the policy's trajectory on the result (for plots).
        **overrides: scenario overrides (``periods``, ``demand`` process mapping, ...).

    Returns:
        An :class:`Evaluation`.
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"objective: expected one of {list(OBJECTIVES)}, got {objective!r}")
    if by not in M.ECHELON_GROUPINGS:
        raise ValueError(f"by: expected one of {list(M.ECHELON_GROUPINGS)}, got {by!r}")
    net = resolve_network(scenario, **overrides)
    pol = _resolve_policy(policy, net)
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    if demand is None:
        if episodes < 1:
            raise ValueError(f"episodes: must be >= 1, got {episodes}")
        traj = rollout(net, pol, episodes=episodes, seed=seed)
        source = f"sampled, seed {seed}"
    else:
        d, source = _resolve_demand(demand, net)
        traj = rollout(net, pol, seed=seed, demand=d)
    seconds["rollout"] = time.perf_counter() - t0
    batch = traj.demand.shape[0]
    levels = M.echelon_levels(net, by)

    def team_value(tr: Trajectory) -> F64:
        c = M.total_cost(tr).sum(axis=1)
        return c if objective == "cost" else M.revenue(tr).sum(axis=1) - c

    floor_v: F64 | None = None
    if floor is True:
        t0 = time.perf_counter()
        floor_v = team_value(rollout(net, ConstantPolicy(0.0), seed=seed, demand=traj.demand, keep="sum"))
        seconds["floor"] = time.perf_counter() - t0
    elif floor is not False and floor is not None:
        floor_v = _per_episode(floor, batch, "floor")
    bound_v: F64 | None = None
    if bound is True:
        from invmgmt_marl.oracle import bound_many

        t0 = time.perf_counter()
        results = bound_many(net, traj.demand, objective=objective, progress=progress)  # type: ignore[arg-type]
        bound_v = np.array([r.objective for r in results], dtype=np.float64)
        seconds["bound"] = time.perf_counter() - t0
    elif bound is not False and bound is not None:
        bound_v = _per_episode(bound, batch, "bound")

    return Evaluation(
        scenario=net.name,
        policy=repr(pol),
        objective=objective,
        seed=seed,
        demand_source=source,
        agents=tuple(net.agents),
        stores=tuple(net.agents[i] for i in net.store_nodes),
        levels=tuple(M.level_labels(levels)),
        grouping=by,
        periods=net.periods,
        cost=M.total_cost(traj),
        breakdown=M.cost_breakdown(traj),
        revenue=M.revenue(traj),
        fill_rate=M.fill_rate(traj, net),
        system_fill_rate=M.system_fill_rate(traj, net),
        node_fill_rate=M.node_fill_rate(traj),
        cycle_service_level=M.cycle_service_level(traj, net),
        bullwhip_cv=M.bullwhip_cv(traj, net, by),
        bullwhip_variance_ratio=M.bullwhip_variance_ratio(traj, net, by),
        node_order_cv=M.node_order_cv(traj),
        demand_cv=M.demand_cv(traj),
        turns=M.inventory_turns(traj, net),
        system_turns=M.system_turns(traj, net),
        bound=bound_v,
        floor=floor_v,
        seconds=seconds,
        trajectory=traj if keep_trajectory else None,
        network=net,
    )


# --------------------------------------------------------------------------------------------------
# benchmark: every baseline on every shipped scenario
@dataclass(frozen=True)
class Baseline:
    """One benchmark row's policy: a registered name, tuned or not, with options."""

    label: str
    kind: str
    tuned: bool
    options: dict[str, Any] = field(default_factory=dict)


BASELINES: tuple[Baseline, ...] = (
    Baseline("floor: order nothing", "constant", False, {"quantity": 0.0}),
    Baseline("random", "random", False),
    Baseline("base_stock", "base_stock", True),
    Baseline("echelon_base_stock", "echelon_base_stock", True),
    Baseline("s_S", "s_S", True),
    Baseline("forecast_order_up_to", "forecast_order_up_to", True),
)


def _tuned_or_default(
    net: Network,
    b: Baseline,
    train_episodes: int,
    train_seed: int,
    progress: bool,
    cache: bool,
    objective: str = "cost",
) -> tuple[Policy, TuneResult | None]:
    if b.tuned:
        if b.kind not in TUNABLE:
            raise ValueError(f"{b.label}: policy {b.kind!r} is not tunable; tunable: {sorted(TUNABLE)}")
        res = tune(
            net,
            b.kind,
            episodes=train_episodes,
            seed=train_seed,
            objective=objective,
            progress=progress,
            cache=cache,
            **b.options,
        )
        return res.policy(net), res
    return make_policy(b.kind, net, **b.options), None


def default_benchmark_scenarios(max_agents: int = 12) -> list[str]:
    """Shipped scenarios with at most ``max_agents`` agents (tuning a 54-agent network coordinate by
    coordinate takes long: benchmark it explicitly with ``--scenarios large_network``)."""
    return [n for n in list_scenarios() if len(load_scenario(n).nodes) <= max_agents]


def run_benchmark(
    scenarios: Sequence[str] | None = None,
    episodes: int = 20,
    seed: int = 0,
    train_episodes: int = 64,
    train_seed: int = 123,
    baselines: Sequence[Baseline] = BASELINES,
    bound: bool = True,
    progress: bool = False,
    cache: bool = True,
    objective: str = "auto",
    **overrides: Any,
) -> list[dict[str, Any]]:
    """Evaluate every baseline on every scenario (default: all shipped) on the same ``episodes`` test
    paths per scenario (drawn with ``seed``); tuned baselines are tuned first on ``train_episodes``
    fresh paths drawn with ``train_seed`` (which must differ from ``seed``).

    ``objective``: ``"cost"``, ``"profit"``, or ``"auto"``: profit where the stores sell at a price
    (minimising cost alone there can mean selling nothing), cost elsewhere. Tuning, the bound, the
    floor and the score all use the scenario's objective.

    Returns one dict per (scenario, baseline): ``scenario``, ``label``, ``tuned``, ``params``,
    ``summary`` (:meth:`Evaluation.summary`), plus one ``label="perfect-information bound"`` row per
    scenario when ``bound``.
    """
    if train_seed == seed:
        raise ValueError(f"train_seed: must differ from the test seed ({seed}), got {train_seed}")
    rows: list[dict[str, Any]] = []
    for name in scenarios if scenarios is not None else default_benchmark_scenarios():
        net = resolve_network(name, **overrides)
        obj = objective if objective != "auto" else ("profit" if (net.price > 0).any() else "cost")
        demand = sample_network_demand(net, np.random.default_rng(seed), episodes, net.periods)
        bound_v: F64 | None = None
        if bound:
            from invmgmt_marl.oracle import OracleError, bound_many

            try:
                bound_v = np.array(
                    [r.objective for r in bound_many(net, demand, objective=obj, progress=progress)]
                )
            except OracleError as err:  # features the LP cannot bound: the table shows no bound
                logger.warning("benchmark: %s", err)
        floor_traj = rollout(net, ConstantPolicy(0.0), seed=seed, demand=demand, keep="sum")
        floor_v = M.total_cost(floor_traj).sum(axis=1)
        if obj == "profit":
            floor_v = floor_traj.node("revenue").sum(axis=(0, 2)) - floor_v
        for b in baselines:
            t0 = time.perf_counter()
            pol, res = _tuned_or_default(net, b, train_episodes, train_seed, progress, cache, obj)
            tune_s = time.perf_counter() - t0
            ev = evaluate(
                pol,
                net,
                demand=demand,
                seed=seed,
                bound=bound_v if bound_v is not None else False,
                floor=floor_v,
                objective=obj,
                keep_trajectory=False,
            )
            summ = ev.summary()
            summ["demand_source"] = f"sampled, seed {seed}"
            summ["seconds"]["tune"] = tune_s
            rows.append(
                {
                    "scenario": net.name,
                    "label": b.label,
                    "kind": b.kind,
                    "tuned": b.tuned,
                    "params": None if res is None else res.params,
                    "train_cost_per_agent_period": None if res is None else res.cost_per_agent_period,
                    "summary": summ,
                }
            )
            logger.info(
                "benchmark %s %s: %.3f per agent-period", name, b.label, summ["cost"]["per_agent_period"]
            )
        if bound_v is not None:
            rows.append(
                {
                    "scenario": net.name,
                    "label": "perfect-information bound",
                    "kind": "oracle",
                    "tuned": False,
                    "params": None,
                    "train_cost_per_agent_period": None,
                    "summary": {
                        "objective": obj,
                        "value_per_agent_period": float(bound_v.mean()) / (net.n_nodes * net.periods),
                        "cost": {
                            "per_agent_period": float(bound_v.mean()) / (net.n_nodes * net.periods),
                            "stderr_per_agent_period": float(
                                bound_v.std(ddof=1) / math.sqrt(len(bound_v)) / (net.n_nodes * net.periods)
                            )
                            if len(bound_v) > 1
                            else None,
                        },
                        "episodes": len(bound_v),
                        "periods": net.periods,
                        "levels": [],
                    },
                }
            )
    return rows


def _f(v: Any, fmt: str = "{:.2f}") -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    return fmt.format(float(v) + 0.0)  # + 0.0: no "-0.000"


def benchmark_markdown(rows: Sequence[Mapping[str, Any]], command: str, note: str = "") -> str:
    """ONE markdown table of :func:`run_benchmark` rows, headed by the command that regenerates it."""
    lines = [
        "| scenario | scored on | policy | cost / agent-period (± s.e.) | profit / agent-period | "
        "fill rate | "
        "cycle service | bullwhip CV, store → supplier (demand) | gap to bound | score |",
        "|---|---|---|---:|---:|---:|---:|---|---:|---:|",
    ]
    for r in rows:
        s = r["summary"]
        cost = s["cost"]
        cost_txt = _f(cost["per_agent_period"]) + (
            f" ± {cost['stderr_per_agent_period']:.2f}"
            if cost.get("stderr_per_agent_period") is not None
            else ""
        )
        policy = r["label"] + (" (tuned)" if r["tuned"] else "")
        obj = s.get("objective", "cost")
        if r["kind"] == "oracle":
            cost_cell, profit_cell = (cost_txt, "–") if obj == "cost" else ("–", cost_txt)
            lines.append(
                f"| {r['scenario']} | {obj} | **{policy}** | {cost_cell} | {profit_cell} | – | – | "
                "– | 0 | 1 |"
            )
            continue
        n_ap = len(s["agents"]) * s["periods"]
        profit_txt = _f(s["profit"] / n_ap) if obj == "profit" else "–"
        fill = _f(s["system_fill_rate"], "{:.1%}")
        csl_vals = list(s["cycle_service_level"].values())
        csl = _f(float(np.mean(csl_vals)) if csl_vals else None, "{:.1%}")
        bw = " / ".join(_f(v) for v in s["bullwhip"]["cv"].values()) + f" ({_f(s['bullwhip']['demand_cv'])})"
        gap = _f(s["bound"]["gap"], "{:.0%}") if s.get("bound") else "–"
        score = _f(s.get("score"), "{:.3f}")
        lines.append(
            f"| {s['scenario']} | {obj} | {policy} | {cost_txt} | {profit_txt} | {fill} | {csl} | "
            f"{bw} | {gap} | {score} |"
        )
    head = [f"Regenerate with: `{command}`", ""]
    if note:
        head += [note, ""]
    return "\n".join(head + lines) + "\n"
