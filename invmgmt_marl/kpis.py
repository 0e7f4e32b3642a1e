"""The KPI table: every indicator an evaluation reports, defined once.

Each :class:`KPI` names a per-episode array computed from a trajectory (``formula``, one of the
functions of :mod:`invmgmt_marl.metrics`), the axis its trailing dimension runs over (``agent``,
``store``, echelon ``level``, or none: ``episode``), its unit, its display format and the direction
that is better. :func:`~invmgmt_marl.evaluate.evaluate` computes every entry of :data:`KPIS`;
``Evaluation.summary()``, the per-episode rows (CSV/JSON), the rich summary table and the benchmark
markdown all iterate over it. Adding a KPI is adding one entry here::

    KPI("stockout_periods", lambda tr, net, by: ..., axis="store", unit="periods", fmt=",.1f",
        higher_is_better=False, description="periods with unmet demand", label="stockout periods")

Money (``cost`` and its fields, ``revenue``) is in the table too; the summary reports it in its
``cost`` section (totals, per node, per field) rather than under the KPI's name.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray

from invmgmt_marl import metrics as M
from invmgmt_marl.sim.ledger import COST_FIELDS

if TYPE_CHECKING:  # pragma: no cover
    from invmgmt_marl.rollout import Trajectory
    from invmgmt_marl.sim.network import Network

__all__ = [
    "KPI",
    "KPIS",
    "Axis",
    "kpi",
    "compute_kpis",
    "summarise",
    "episode_columns",
    "format_value",
    "nanmean",
    "steady_state_cost",
    "steady_state_warmup",
]

F64 = NDArray[np.float64]
Axis = Literal["episode", "agent", "store", "level"]
#: ``formula(trajectory, network, by) -> (B,)`` or ``(B, X)``, X the axis' length (``by``: echelon grouping)
Formula = Callable[["Trajectory", "Network", str], F64]
#: the order of the axes in the per-episode rows (columns of one axis interleave per label)
AXIS_ORDER: tuple[Axis, ...] = ("agent", "store", "episode", "level")


@dataclass(frozen=True)
class KPI:
    """One key performance indicator.

    Attributes:
        name: key of the per-episode array (``Evaluation.kpis[name]``, ``Evaluation.<name>``).
        formula: ``formula(traj, net, by)`` -> ``(B,)`` or ``(B, X)`` with ``X`` the axis' labels.
        axis: what the trailing axis runs over: ``episode`` (none), ``agent``, ``store`` or ``level``.
        unit: unit of the value (``"money"``, ``"share"``, ``"ratio"``, ``"turns"``, ...).
        fmt: format spec of one value (``".1%"``, ``",.2f"``).
        higher_is_better: direction of improvement (None: neither, e.g. a variability measure's
            sign depends on the question).
        description: one line, shown in the KPI reference.
        label: row label in tables (default: ``name`` with spaces).
        column: stem of the per-episode column, ``"{column}[{label}]"`` (default ``name``); None leaves
            the KPI out of the per-episode rows.
        summary: where ``summary()`` puts the mean over episodes (a key path; default ``(name,)``);
            None: reported in the cost section.
        reduce: ``"mean"``, or ``"nanmean"`` to skip undefined (NaN) episodes.
        system: name of the ``episode``-axis KPI shown beside this one: in the system column of the
            table, in parentheses in its benchmark cell.
        prefix: text before the system cell (e.g. ``"demand "``).
        group: level-axis KPIs of one group share one table row per level, ``"{group} ({level})"``.
        short: the KPI's name inside a grouped cell (``"CV 0.43, var 1.03x"``); ``suffix`` follows it.
        markdown: column header in the benchmark markdown (None: not there); the cell is the value
            (``episode``), the mean over labels (``agent``, ``store``) or the labels' values joined
            by `` / `` (``level``).
        per_period: the table shows the value divided by the number of periods (its system cell:
            the team's mean per agent-period).
        table: shown in the rich summary table.
        hide_zero: the table leaves the row out when every value is 0 (cost fields a scenario lacks).
    """

    name: str
    formula: Formula
    axis: Axis
    unit: str
    fmt: str
    higher_is_better: bool | None
    description: str
    label: str = ""
    column: str | None = ""
    summary: tuple[str, ...] | None = ()
    reduce: Literal["mean", "nanmean"] = "mean"
    system: str | None = None
    prefix: str = ""
    group: str | None = None
    short: str = ""
    suffix: str = ""
    markdown: str | None = None
    per_period: bool = False
    table: bool = True
    hide_zero: bool = False

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ")

    @property
    def stem(self) -> str | None:
        return None if self.column is None else (self.column or self.name)

    @property
    def path(self) -> tuple[str, ...] | None:
        return None if self.summary is None else (self.summary or (self.name,))

    def mean(self, values: F64) -> F64:
        """Mean over the episode axis (ignoring NaN with ``reduce="nanmean"``)."""
        return nanmean(values) if self.reduce == "nanmean" else values.mean(axis=0)


def nanmean(a: F64) -> F64:
    """Mean over the episode axis ignoring NaN (NaN where a column is all NaN), without warnings."""
    ok = np.isfinite(a)
    n = ok.sum(axis=0)
    total = np.where(ok, a, 0.0).sum(axis=0)
    return np.where(n > 0, total / np.maximum(n, 1), np.nan)


def steady_state_warmup(periods: int) -> int:
    """The warm-up periods left out of :func:`steady_state_cost`: a quarter of the episode."""
    return periods // 4


def steady_state_cost(traj: Trajectory, net: Network, by: str = "role") -> F64:
    """``(B,)`` team cost per agent-period over periods ``warmup .. T-1`` (:func:`steady_state_warmup`):
    each episode's estimate of a stationary policy's long-run cost, what a ``horizon="long_run"``
    bound (:mod:`invmgmt_marl.bounds`) is compared with (as in
    :func:`invmgmt_marl.bounds.steady_state_cost`)."""
    w = steady_state_warmup(net.periods)
    cost = sum(traj.node(f)[w:] for f in COST_FIELDS)  # (T - w, B, N)
    return np.asarray(cost, dtype=np.float64).sum(axis=2).mean(axis=0) / net.n_nodes


def _cost_field(f: str) -> Formula:
    def formula(traj: Trajectory, net: Network, by: str) -> F64:
        return traj.node(f).sum(axis=0)

    formula.__doc__ = f"``(B, N)`` episode total of the ledger's ``{f}``."
    return formula


# --------------------------------------------------------------------------------------------------
KPIS: tuple[KPI, ...] = (
    KPI(
        "cost",
        lambda tr, net, by: M.total_cost(tr),
        "agent",
        "money",
        ",.2f",
        False,
        "episode cost of each node: the sum of the ledger's cost fields",
        label="cost / period",
        summary=None,
        suffix=" /agent",
        per_period=True,
    ),
    *(
        KPI(
            f,
            _cost_field(f),
            "agent",
            "money",
            ",.2f",
            False,
            f"episode total of {f.replace('_', ' ')}",
            label=f"  {f.replace('_', ' ')}",
            summary=None,
            per_period=True,
            hide_zero=True,
        )
        for f in COST_FIELDS
    ),
    KPI(
        "steady_state_cost",
        steady_state_cost,
        "episode",
        "money",
        ",.2f",
        False,
        "team cost per agent-period after a warm-up of a quarter of the episode: a stationary policy's "
        "long-run cost, compared with the long-run bounds",
        label="steady-state cost /agent",
        summary=("steady_state", "cost_per_agent_period"),
        table=False,
    ),
    KPI(
        "revenue",
        lambda tr, net, by: M.revenue(tr),
        "agent",
        "money",
        ",.2f",
        True,
        "episode revenue of each node (sales and internal transfers)",
        column=None,
        summary=None,
        table=False,
    ),
    KPI(
        "fill_rate",
        lambda tr, net, by: M.fill_rate(tr, net),
        "store",
        "share",
        ".1%",
        True,
        "customer demand shipped in the period it arrived / customer demand",
        system="system_fill_rate",
    ),
    KPI(
        "system_fill_rate",
        lambda tr, net, by: M.system_fill_rate(tr, net),
        "episode",
        "share",
        ".1%",
        True,
        "fill rate over all stores together",
        markdown="fill rate",
    ),
    KPI(
        "node_fill_rate",
        lambda tr, net, by: M.node_fill_rate(tr),
        "agent",
        "share",
        ".1%",
        True,
        "requests of every node's downstream nodes and customers shipped in the period they arrived",
        column=None,
        table=False,
    ),
    KPI(
        "cycle_service_level",
        lambda tr, net, by: M.cycle_service_level(tr, net),
        "store",
        "share",
        ".1%",
        True,
        "share of periods without a stockout at each store",
        markdown="cycle service",
    ),
    KPI(
        "bullwhip_cv",
        lambda tr, net, by: M.bullwhip_cv(tr, net, by),
        "level",
        "ratio",
        ".2f",
        False,
        "order CV (std / mean over the first T-1 periods) averaged over each echelon level's nodes",
        summary=("bullwhip", "cv"),
        group="bullwhip",
        short="CV",
        system="demand_cv",
        markdown="bullwhip CV, store → supplier (demand)",
    ),
    KPI(
        "bullwhip_variance_ratio",
        lambda tr, net, by: M.bullwhip_variance_ratio(tr, net, by),
        "level",
        "ratio",
        ".2f",
        False,
        "variance of each level's total orders / variance of customer demand (NaN if demand is flat)",
        summary=("bullwhip", "variance_ratio"),
        reduce="nanmean",
        group="bullwhip",
        short="var",
        suffix="x",
    ),
    KPI(
        "node_order_cv",
        lambda tr, net, by: M.node_order_cv(tr),
        "agent",
        "ratio",
        ".2f",
        False,
        "order CV of each node (total over its inbound edges)",
        label="order CV",
        column="order_cv",
        summary=("bullwhip", "node_cv"),
        system="demand_cv",
        prefix="demand ",
    ),
    KPI(
        "demand_cv",
        lambda tr, net, by: M.demand_cv(tr),
        "episode",
        "ratio",
        ".2f",
        None,
        "CV of total customer demand over the same window: the baseline of the order CVs",
        summary=("bullwhip", "demand_cv"),
    ),
    KPI(
        "turns",
        lambda tr, net, by: M.inventory_turns(tr, net),
        "store",
        "turns",
        ",.2f",
        True,
        "units sold / mean stock on hand at each store",
        label="inventory turns",
        system="system_turns",
    ),
    KPI(
        "system_turns",
        lambda tr, net, by: M.system_turns(tr, net),
        "episode",
        "turns",
        ",.2f",
        True,
        "units sold / mean stock on hand over every node",
        summary=("turns", "system"),
    ),
)

if len({k.name for k in KPIS}) != len(KPIS):  # pragma: no cover - a programming error caught at import
    raise RuntimeError("KPIS: duplicate KPI names")


def kpi(name: str) -> KPI:
    """The :class:`KPI` called ``name`` in :data:`KPIS`; KeyError listing the known names."""
    for k in KPIS:
        if k.name == name:
            return k
    raise KeyError(f"kpi: unknown KPI {name!r}; known: {sorted(k.name for k in KPIS)}")


def compute_kpis(traj: Trajectory, net: Network, by: str = "role") -> dict[str, F64]:
    """Every KPI of :data:`KPIS` for a trajectory: ``{name: (B,) or (B, X)}``.

    Needs every period's ledger (``rollout(..., keep="all")``).
    """
    return {k.name: np.asarray(k.formula(traj, net, by), dtype=np.float64) for k in KPIS}


# --------------------------------------------------------------------------------------------------
def _set(out: dict[str, Any], path: Sequence[str], value: Any) -> None:
    node = out
    for key in path[:-1]:
        node = node.setdefault(key, {})
    if isinstance(value, dict) and isinstance(node.get(path[-1]), dict):
        node[path[-1]].update(value)
    else:
        node[path[-1]] = value


def summarise(arrays: Mapping[str, F64], labels: Mapping[Axis, Sequence[str]]) -> dict[str, Any]:
    """Means over episodes of every KPI with a summary path, nested at that path.

    Args:
        arrays: ``{name: (B,) or (B, X)}`` (:func:`compute_kpis`).
        labels: the labels of each axis (``agent``, ``store``, ``level``).

    Returns:
        ``{key: value or {label: value}}`` in :data:`KPIS` order; an ``episode``-axis KPI is one float,
        the others a mapping label -> float.
    """
    out: dict[str, Any] = {}
    for k in KPIS:
        if k.path is None or k.name not in arrays:
            continue
        m = k.mean(arrays[k.name])
        if k.axis == "episode":
            value: Any = float(m)
        else:
            value = {lab: float(v) for lab, v in zip(labels[k.axis], m, strict=True)}
        _set(out, k.path, value)
    return out


def episode_columns(
    arrays: Mapping[str, F64], labels: Mapping[Axis, Sequence[str]], episode: int
) -> Iterator[tuple[str, float]]:
    """``(column, value)`` of one episode for every KPI with a column: axes in :data:`AXIS_ORDER`,
    and within an axis, label by label, the KPIs in table order (``cost[a]``, ``holding_cost[a]``, ...)."""
    for axis in AXIS_ORDER:
        ks = [k for k in KPIS if k.axis == axis and k.stem is not None and k.name in arrays]
        if axis == "episode":
            for k in ks:
                yield str(k.stem), float(arrays[k.name][episode])
            continue
        for j, lab in enumerate(labels[axis]):
            for k in ks:
                yield f"{k.stem}[{lab}]", float(arrays[k.name][episode, j])


def format_value(v: Any, fmt: str, missing: str = "-") -> str:
    """``v`` with the format spec ``fmt`` (``missing`` for None, NaN and inf); no ``-0.00``."""
    if v is None or (isinstance(v, (float, np.floating)) and not math.isfinite(float(v))):
        return missing
    return format(float(v) + 0.0, fmt)
