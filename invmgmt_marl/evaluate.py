"""Evaluate a policy on a set of demand paths: KPIs per episode and over the set, in one batched rollout.

    from invmgmt_marl import evaluate
    res = evaluate("base_stock", "serial", episodes=20, seed=0)       # or demand="path/to/set"
    res.summary()["cost"]["per_agent_period"], res.summary()["bound"]["gap"]
    res.to_csv("out/episodes.csv"); res.to_json("out/evaluation.json"); console.print(res.summary_table())

The KPIs are the entries of the KPI table (:data:`invmgmt_marl.kpis.KPIS`, formulas in
:mod:`invmgmt_marl.metrics`); tables, CSV / JSON writers and the benchmark markdown are in
:mod:`invmgmt_marl.reporting` (``to_csv``, ``to_json``, ``summary_table`` stay methods here).
Besides the policy itself, an evaluation rolls out the do-nothing floor (``ConstantPolicy(0)``) on
the same demand and solves the perfect-information linear program of every path
(:func:`invmgmt_marl.oracle.bound_many`), which give the gap to the bound and the normalised score
``(policy - floor) / (bound - floor)``.

:func:`run_benchmark` and :func:`~invmgmt_marl.reporting.benchmark_markdown` evaluate every baseline
on every shipped scenario (the ``invmgmt-marl benchmark`` command).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray

from invmgmt_marl import metrics as M
from invmgmt_marl import reporting
from invmgmt_marl.compile import compile_network
from invmgmt_marl.demand import sample_network_demand
from invmgmt_marl.kpis import Axis, compute_kpis, episode_columns, product_rows, product_summary, summarise
from invmgmt_marl.objective import Objective, check_objective
from invmgmt_marl.policies import ConstantPolicy, TuneResult, make_policy
from invmgmt_marl.policies.tuning import TUNABLE, tune
from invmgmt_marl.reporting import benchmark_markdown
from invmgmt_marl.rollout import Trajectory, check_product_demand, rollout
from invmgmt_marl.scenario import list_scenarios, load_scenario
from invmgmt_marl.sim import COST_FIELDS, Network
from invmgmt_marl.validation import check_demand

if TYPE_CHECKING:  # pragma: no cover
    from rich.table import Table

    from invmgmt_marl.bounds import Bound, Skipped
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
    "select_baselines",
]

logger = logging.getLogger(__name__)
F64 = NDArray[np.float64]


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
    if net.product_axis and not isinstance(demand, (str, Path)):  # (B, T, P, S) or (T, P, S)
        d = np.asarray(demand)
        return check_product_demand(net, d[None] if d.ndim == 3 else d), "array"
    if isinstance(demand, (str, Path)):  # with products: (B, T, P, S) from P x S values a line
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


# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Evaluation:
    """Per-episode KPIs of one policy on ``B`` demand paths (arrays have the episode axis first).

    ``kpis`` holds one array per entry of the KPI table (:data:`invmgmt_marl.kpis.KPIS`), ``(B,)`` or
    ``(B, X)`` with ``X`` the entry's axis (agents, stores or echelon levels); the historical names are
    properties over it (``cost (B, N)``, ``breakdown {field: (B, N)}``, ``revenue (B, N)``,
    ``fill_rate (B, S)``, ``system_fill_rate (B,)``, ``node_fill_rate (B, N)``,
    ``cycle_service_level (B, S)``, ``bullwhip_cv (B, L)``, ``bullwhip_variance_ratio (B, L)``,
    ``node_order_cv (B, N)``, ``demand_cv (B,)``, ``turns (B, S)``, ``system_turns (B,)``).
    ``value`` is the episode's team cost (``objective="cost"``) or profit (``"profit"``); ``bound`` the
    perfect-information optimum of the same objective and ``floor`` the do-nothing policy's value,
    both per episode (``None`` when not computed). ``ladder`` holds the rungs of
    :func:`invmgmt_marl.bounds.bound_ladder` (None: not computed) and ``stationary`` whether the policy
    ignores the period index (then its steady-state cost is compared with the long-run rungs).
    """

    scenario: str
    policy: str
    objective: Objective
    seed: int | None
    demand_source: str
    agents: tuple[str, ...]
    stores: tuple[str, ...]
    levels: tuple[str, ...]
    grouping: str
    periods: int
    kpis: dict[str, F64]  # KPI name -> (B,) or (B, X)
    bound: F64 | None = None  # (B,)
    # how the bound was solved: "relaxed" (LP) or "binary" (MILP with set-ups), and the largest
    # relative MIP gap over the episodes (0 for the LP); None when the bound was given or skipped
    bound_setups: str | None = None
    bound_mip_gap: float | None = None
    floor: F64 | None = None  # (B,)
    ladder: tuple[Bound | Skipped, ...] | None = None
    stationary: bool = False
    seconds: dict[str, float] = field(default_factory=dict)
    trajectory: Trajectory | None = field(default=None, repr=False)
    network: Network | None = field(default=None, repr=False)
    products: tuple[str, ...] = ()  # (P,) product names; () without products

    # ---------------------------------------------------------------------------------------------
    # the KPI arrays under their historical names
    @property
    def cost(self) -> F64:
        """``(B, N)`` episode cost of each node (the sum of the ledger's cost fields)."""
        return self.kpis["cost"]

    @property
    def breakdown(self) -> dict[str, F64]:
        """``{field: (B, N)}`` episode total of each cost field, in ``COST_FIELDS`` order."""
        return {f: self.kpis[f] for f in COST_FIELDS}

    @property
    def revenue(self) -> F64:
        """``(B, N)`` episode revenue of each node."""
        return self.kpis["revenue"]

    @property
    def fill_rate(self) -> F64:
        """``(B, S)`` fill rate of each store."""
        return self.kpis["fill_rate"]

    @property
    def system_fill_rate(self) -> F64:
        """``(B,)`` fill rate over all stores."""
        return self.kpis["system_fill_rate"]

    @property
    def node_fill_rate(self) -> F64:
        """``(B, N)`` fill rate of every node towards its requesters."""
        return self.kpis["node_fill_rate"]

    @property
    def cycle_service_level(self) -> F64:
        """``(B, S)`` share of periods without a stockout at each store."""
        return self.kpis["cycle_service_level"]

    @property
    def bullwhip_cv(self) -> F64:
        """``(B, L)`` order CV per echelon level."""
        return self.kpis["bullwhip_cv"]

    @property
    def bullwhip_variance_ratio(self) -> F64:
        """``(B, L)`` order variance / demand variance per echelon level."""
        return self.kpis["bullwhip_variance_ratio"]

    @property
    def node_order_cv(self) -> F64:
        """``(B, N)`` order CV of each node."""
        return self.kpis["node_order_cv"]

    @property
    def demand_cv(self) -> F64:
        """``(B,)`` CV of total customer demand."""
        return self.kpis["demand_cv"]

    @property
    def turns(self) -> F64:
        """``(B, S)`` inventory turns of each store."""
        return self.kpis["turns"]

    @property
    def system_turns(self) -> F64:
        """``(B,)`` system inventory turns."""
        return self.kpis["system_turns"]

    # ---------------------------------------------------------------------------------------------
    @property
    def episodes(self) -> int:
        return int(self.cost.shape[0])

    @property
    def labels(self) -> dict[Axis, tuple[str, ...]]:
        """The labels of each KPI axis: agents, stores, echelon levels (and products)."""
        return {"agent": self.agents, "store": self.stores, "level": self.levels, "product": self.products}

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
    def summary(self, top: int = 10) -> dict[str, Any]:
        """Aggregate KPIs: means over episodes; gap and score are ratios of the mean values
        (``(mean value - mean bound) / mean bound``), so small-bound episodes do not dominate.

        The cost section (total, per agent-period and its standard error, per node and per cost field),
        revenue and profit, then every KPI of the table at its summary path
        (:func:`invmgmt_marl.kpis.summarise`), then the bound, floor and score. With products, a
        ``products`` section (:func:`invmgmt_marl.kpis.product_summary`: distributions over products,
        the ``top`` worst by fill rate and the ``top`` costliest); never one entry per product.
        """
        b = self.episodes
        per_ap = self.cost_per_agent_period
        n_ap = len(self.agents) * self.periods
        node_cost = self.cost.mean(axis=0)
        node_fields = {f: v.mean(axis=0) for f, v in self.breakdown.items()}
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
                    a: {"total": float(node_cost[i]), **{f: float(m[i]) for f, m in node_fields.items()}}
                    for i, a in enumerate(self.agents)
                },
                "by_field": {f: float(v.sum(axis=1).mean()) for f, v in self.breakdown.items()},
            },
            "revenue": float(self.revenue.sum(axis=1).mean()),
            "profit": float((self.revenue - self.cost).sum(axis=1).mean()),
            **summarise(self.kpis, self.labels),
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
            if self.bound_setups is not None:
                out["bound"]["setups"] = self.bound_setups
                out["bound"]["mip_gap"] = self.bound_mip_gap
        if self.floor is not None:
            fl = float(self.floor.mean())
            out["floor"] = {"policy": "ConstantPolicy(0)", "value": fl, "per_agent_period": fl / n_ap}
            if self.bound is not None:
                out["score"] = float(M.normalised_score(value, fl, float(self.bound.mean())))
        out.update(self._ladder_summary(value / n_ap, out))
        if self.products:
            out["products"] = product_summary(self.kpis, self.products, self.periods, top=top)
        return out

    def product_rows(self) -> list[dict[str, Any]]:
        """One flat dict per product (means over episodes; :func:`invmgmt_marl.kpis.product_rows`);
        ``[]`` without products."""
        return product_rows(self.kpis, self.products, self.agents) if self.products else []

    def _ladder_summary(self, value_per_ap: float, s: dict[str, Any]) -> dict[str, Any]:
        """``ladder`` (the LP and every rung), ``valid_gaps`` (every valid comparison) and
        ``best_valid_bound`` (the smallest gap) of :mod:`invmgmt_marl.bounds.gaps`."""
        from invmgmt_marl.bounds.gaps import best_valid_gap, perfect_information_record, rung_record

        lp = None if s["bound"] is None else float(s["bound"]["per_agent_period"])
        rungs = [] if lp is None else [perfect_information_record(lp, self.objective)]
        rungs += [rung_record(r) for r in self.ladder or ()]
        b = self.episodes
        vpe = self.value / (len(self.agents) * self.periods)
        se = float(vpe.std(ddof=1) / math.sqrt(b)) if b > 1 else None
        steady: tuple[float, float | None] | None = None
        if self.stationary:
            ss = self.kpis["steady_state_cost"]
            steady = (float(ss.mean()), float(ss.std(ddof=1) / math.sqrt(b)) if b > 1 else None)
        best, gaps = best_valid_gap(self.ladder or (), (value_per_ap, se), steady, lp, self.objective)
        return {
            "ladder": rungs,
            "stationary": self.stationary,
            "valid_gaps": [g.to_dict() for g in gaps],
            "best_valid_bound": None if best is None else best.to_dict(),
        }

    def episode_rows(self) -> list[dict[str, Any]]:
        """One flat dict per episode (the CSV rows): value, team cost and revenue, every KPI column
        (:func:`invmgmt_marl.kpis.episode_columns`), then bound, gap, floor and score."""
        rows = []
        gap, score = self.gap, self.score
        n_ap = len(self.agents) * self.periods
        labels = self.labels
        for k in range(self.episodes):
            r: dict[str, Any] = {
                "episode": k,
                "value": float(self.value[k]),
                "cost": float(self.cost[k].sum()),
                "cost_per_agent_period": float(self.cost[k].sum() / n_ap),
                "revenue": float(self.revenue[k].sum()),
            }
            r.update(episode_columns(self.kpis, labels, k))
            r["bound"] = None if self.bound is None else float(self.bound[k])
            r["gap"] = None if gap is None else float(gap[k])
            r["floor"] = None if self.floor is None else float(self.floor[k])
            r["score"] = None if score is None else float(score[k])
            rows.append(r)
        return rows

    # presentation: kept as methods for convenience, implemented in invmgmt_marl.reporting
    def to_dict(self, products: bool = False) -> dict[str, Any]:
        """``{"summary": summary(), "episodes": episode_rows()}``, JSON-safe (NaN and inf as None);
        ``products=True`` adds ``"products": product_rows()``."""
        return reporting.to_dict(self, products)

    def to_json(self, path: str | Path | None = None, products: bool = False) -> str:
        """The :meth:`to_dict` as JSON text; also written to ``path`` if given."""
        return reporting.to_json(self, path, products)

    def to_csv(self, path: str | Path | None = None) -> str:
        """The per-episode table as CSV text (empty cells for missing values); also written to ``path``."""
        return reporting.to_csv(self, path)

    def summary_table(self) -> Table:
        """A ``rich`` table (:func:`invmgmt_marl.reporting.summary_table`)."""
        return reporting.summary_table(self)


# --------------------------------------------------------------------------------------------------
def evaluate(
    policy: Any,
    scenario: str | Path | Scenario | Network = "serial",
    demand: Any = None,
    episodes: int = 20,
    seed: int | None = 0,
    bound: bool | Sequence[float] | F64 = True,
    floor: bool | Sequence[float] | F64 = True,
    objective: Objective = "cost",
    by: str = "role",
    progress: bool = False,
    keep_trajectory: bool = True,
    ladder: bool | Sequence[Bound | Skipped] = True,
    stationary: bool | None = None,
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
        ladder: compute the bound ladder (:func:`invmgmt_marl.bounds.bound_ladder`), reported with the
            gap to the best valid bound (:mod:`invmgmt_marl.bounds.gaps`). Its rungs are expectations
            under the scenario's demand process: meaningful when the paths are drawn from it. A
            sequence of rungs is used as given (computed once for many evaluations).
        stationary: whether the policy ignores the period index, so that its steady-state cost may be
            compared with the long-run rungs; default: the policy's ``stationary`` attribute (the
            baselines set it), else False.
        **overrides: scenario overrides (``periods``, ``demand`` process mapping, ...).

    Returns:
        An :class:`Evaluation`.
    """
    objective = check_objective(objective)
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
    bound_setups: str | None = None
    bound_mip_gap: float | None = None
    if bound is True:
        t0 = time.perf_counter()
        results = _product_bound(net, traj.demand, objective, progress)
        if results is not None:
            bound_v = np.array([r.objective for r in results], dtype=np.float64)
            setups = [getattr(r, "setups", "relaxed") for r in results]  # (product bounds: relaxed)
            bound_setups = "binary" if "binary" in setups else "relaxed"
            bound_mip_gap = max((float(getattr(r, "mip_gap", 0.0)) for r in results), default=0.0)
        seconds["bound"] = time.perf_counter() - t0
    elif bound is not False and bound is not None:
        bound_v = _per_episode(bound, batch, "bound")

    rungs = None
    if ladder is True:
        from invmgmt_marl.bounds import bound_ladder

        t0 = time.perf_counter()
        rungs = tuple(bound_ladder(net))
        seconds["ladder"] = time.perf_counter() - t0
    elif ladder is not False:
        rungs = tuple(ladder)
    if stationary is None:
        stationary = bool(getattr(pol, "stationary", False))

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
        kpis=compute_kpis(traj, net, by),
        bound=bound_v,
        bound_setups=bound_setups,
        bound_mip_gap=bound_mip_gap,
        floor=floor_v,
        ladder=rungs,
        stationary=stationary,
        seconds=seconds,
        trajectory=traj if keep_trajectory else None,
        network=net,
        products=tuple(net.products) if net.product_axis else (),
    )


def _product_bound(net: Network, demand: F64, objective: Objective, progress: bool) -> list[Any] | None:
    """The perfect-information bound of every path: :func:`~invmgmt_marl.oracle.bound_many`, or on a
    product network :func:`~invmgmt_marl.oracle.product_bound_many` (with the shared constraints; when
    the joint LP is too large, without them: still a valid bound, weaker); None (and a warning) when
    the LP cannot bound the network."""
    from invmgmt_marl.oracle import OracleError, bound_many, product_bound_many

    if not net.product_axis:
        return list(bound_many(net, demand, objective=objective, progress=progress))
    try:
        try:
            return list(product_bound_many(net, demand, objective=objective))
        except OracleError as err:
            logger.warning("evaluate: %s; bounding %r without the shared constraints", err, net.name)
            return list(product_bound_many(net, demand, objective=objective, coupling="drop"))
    except (OracleError, ValueError, NotImplementedError) as err:
        logger.warning("evaluate: no perfect-information bound on %r (products): %s", net.name, err)
        return None


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


def select_baselines(kinds: Sequence[str] | None, flag: str = "policies") -> tuple[Baseline, ...]:
    """The :data:`BASELINES` whose ``kind`` is in ``kinds`` (all when None); ValueError on an unknown kind."""
    if kinds is None:
        return BASELINES
    known = [b.kind for b in BASELINES]
    unknown = sorted(set(kinds) - set(known))
    if unknown:
        raise ValueError(f"{flag}: unknown baseline {unknown[0]!r}; known: {known}")
    return tuple(b for b in BASELINES if b.kind in kinds)


def _tuned_or_default(
    net: Network,
    b: Baseline,
    train_episodes: int,
    train_seed: int,
    progress: bool,
    cache: bool,
    objective: Objective = "cost",
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
    coordinate takes long: benchmark it explicitly with ``--scenarios large_network``), without the
    scenarios with products (benchmark them with ``--scenarios sku50_1w``: their tables differ)."""
    from invmgmt_marl.scenario import list_product_scenarios

    products = set(list_product_scenarios())
    return [n for n in list_scenarios() if n not in products and len(load_scenario(n).nodes) <= max_agents]


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
    objective: Objective | Literal["auto"] = "auto",
    **overrides: Any,
) -> list[dict[str, Any]]:
    """Evaluate every baseline on every scenario (default: all shipped) on the same ``episodes`` test
    paths per scenario (drawn with ``seed``); tuned baselines are tuned first on ``train_episodes``
    fresh paths drawn with ``train_seed`` (which must differ from ``seed``).

    ``objective``: ``"cost"``, ``"profit"``, or ``"auto"``: profit where the stores sell at a price
    (minimising cost alone there can mean selling nothing), cost elsewhere. Tuning, the bound, the
    floor and the score all use the scenario's objective.

    Returns one dict per (scenario, baseline): ``scenario``, ``label``, ``tuned``, ``params``,
    ``summary`` (:meth:`Evaluation.summary`, with ``best_policy``: the best baseline on the scenario's
    test set and this row's gap to it), then one ``kind="oracle"`` row (``label`` the
    :data:`~invmgmt_marl.bounds.gaps.PERFECT_INFORMATION` LP) when ``bound``, then one
    ``kind="ladder"`` row per rung of :func:`~invmgmt_marl.bounds.bound_ladder` that applies.
    """
    from invmgmt_marl.bounds import Bound, bound_ladder
    from invmgmt_marl.bounds.gaps import PERFECT_INFORMATION

    if objective != "auto":
        check_objective(objective)
    if train_seed == seed:
        raise ValueError(f"train_seed: must differ from the test seed ({seed}), got {train_seed}")
    rows: list[dict[str, Any]] = []
    for name in scenarios if scenarios is not None else default_benchmark_scenarios():
        net = resolve_network(name, **overrides)
        obj: Objective = objective if objective != "auto" else ("profit" if (net.price > 0).any() else "cost")
        demand = sample_network_demand(net, np.random.default_rng(seed), episodes, net.periods)
        bound_v: F64 | None = None
        if bound:
            from invmgmt_marl.oracle import OracleError

            try:
                results = _product_bound(net, demand, obj, progress)
                bound_v = None if results is None else np.array([r.objective for r in results])
            except OracleError as err:  # features the LP cannot bound: the table shows no bound
                logger.warning("benchmark: %s", err)
        rungs = bound_ladder(net)
        first = len(rows)
        floor_traj = rollout(net, ConstantPolicy(0.0), seed=seed, demand=demand, keep="sum")
        floor_v = M.total_cost(floor_traj).sum(axis=1)
        if obj == "profit":
            floor_v = M.revenue(floor_traj.totals()).sum(axis=1) - floor_v
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
                ladder=rungs,
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
        _best_policy(rows[first:], obj)
        if bound_v is not None:
            rows.append(
                {
                    "scenario": net.name,
                    "label": PERFECT_INFORMATION,
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
        rows += [_ladder_row(net.name, r, obj) for r in rungs if isinstance(r, Bound)]
    return rows


def _value_per_agent_period(s: dict[str, Any]) -> float:
    n_ap = len(s["agents"]) * s["periods"]
    return float(s["cost"]["per_agent_period"] if s["objective"] == "cost" else s["profit"] / n_ap)


def _best_policy(rows: list[dict[str, Any]], objective: Objective) -> None:
    """Put ``best_policy`` (the best row's label and value per agent-period, this row's gap to it)
    into each row's summary: the best known policy on this scenario's test set."""
    from invmgmt_marl.bounds.gaps import relative_gap

    if not rows:
        return
    vals = [_value_per_agent_period(r["summary"]) for r in rows]
    k = int(np.argmin(vals) if objective == "cost" else np.argmax(vals))
    label = rows[k]["label"] + (" (tuned)" if rows[k]["tuned"] else "")
    for r, v in zip(rows, vals, strict=True):
        r["summary"]["best_policy"] = {
            "label": label,
            "value_per_agent_period": vals[k],
            "gap": relative_gap(v, vals[k], objective),
        }


def _ladder_row(scenario: str, rung: Bound, objective: Objective) -> dict[str, Any]:
    """A benchmark row for one rung of the bound ladder (a cost bound, per agent-period)."""
    from invmgmt_marl.bounds.gaps import rung_record

    return {
        "scenario": scenario,
        "label": rung.name,
        "kind": "ladder",
        "tuned": False,
        "params": None,
        "train_cost_per_agent_period": None,
        "summary": {
            "objective": objective,
            "rung": rung_record(rung),
            "cost": {"per_agent_period": rung.value, "stderr_per_agent_period": None},
            "levels": [],
        },
    }
