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

Networks with products (docs/products.md): the KPIs of the axes ``agent``, ``store``, ``level`` and
``episode`` keep their shapes. Linear ones (money, flows, orders, stock) are computed on the node
totals (:meth:`~invmgmt_marl.rollout.Trajectory.totals`); ratios marked ``per_product`` read the
product axis (a fill rate is then demand-weighted over products). The KPIs of the axes ``product``
``(B, P)`` and ``node_product`` ``(B, P, N)`` exist only there; they stay out of the per-episode rows
and the ``{label: value}`` summary (2,000 products would be 2,000 columns): :func:`product_summary`
gives their distribution over products and the worst ``top`` products, :func:`product_rows` one row
per product.
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
    "PRODUCT_AXES",
    "product_summary",
    "product_rows",
]

F64 = NDArray[np.float64]
Axis = Literal["episode", "agent", "store", "level", "product", "node_product"]
#: ``formula(trajectory, network, by) -> (B,)`` or ``(B, X)``, X the axis' length (``by``: echelon grouping)
Formula = Callable[["Trajectory", "Network", str], F64]
#: the order of the axes in the per-episode rows (columns of one axis interleave per label)
AXIS_ORDER: tuple[Axis, ...] = ("agent", "store", "episode", "level")
#: the axes of networks with products: ``product`` ``(B, P)``, ``node_product`` ``(B, P, N)``
PRODUCT_AXES: tuple[Axis, ...] = ("product", "node_product")


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
        per_product: with products, the formula gets the trajectory with its product axis (a ratio
            per product, aggregated); otherwise it gets the node totals. Always so on the product axes.
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
    per_product: bool = False

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
    traj = traj.totals()
    cost = sum(traj.node(f)[w:] for f in COST_FIELDS)  # (T - w, B, N)
    return np.asarray(cost, dtype=np.float64).sum(axis=2).mean(axis=0) / net.n_nodes


def _product_cost(traj: Trajectory) -> F64:
    """``(T, B, P, N)`` the sum of the cost fields per (node, product) and period."""
    return np.add.reduce([traj.node(f) for f in COST_FIELDS])


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
        per_product=True,
    ),
    KPI(
        "system_fill_rate",
        lambda tr, net, by: M.system_fill_rate(tr, net),
        "episode",
        "share",
        ".1%",
        True,
        "fill rate over all stores together (and products: demand-weighted)",
        markdown="fill rate",
        per_product=True,
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
        per_product=True,
    ),
    KPI(
        "cycle_service_level",
        lambda tr, net, by: M.cycle_service_level(tr, net),
        "store",
        "share",
        ".1%",
        True,
        "share of periods without a stockout at each store (with products: of product-periods)",
        markdown="cycle service",
        per_product=True,
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
    # ---- networks with products only: (B, P) and (B, P, N), summarised by product_summary
    KPI(
        "product_demand",
        lambda tr, net, by: tr.demand.sum(axis=(1, 3)),
        "product",
        "units",
        ",.0f",
        None,
        "customer demand of each product over the episode, all stores (the fill rates' weights)",
        label="demand",
        table=False,
    ),
    KPI(
        "product_fill_rate",
        lambda tr, net, by: M.product_fill_rate(tr, net),
        "product",
        "share",
        ".1%",
        True,
        "customer demand of each product shipped in the period it arrived / its demand, all stores",
        label="fill rate",
    ),
    KPI(
        "product_cycle_service_level",
        lambda tr, net, by: M.product_cycle_service_level(tr, net).mean(axis=-1),
        "product",
        "share",
        ".1%",
        True,
        "share of periods without a stockout of each product (mean over stores)",
        label="cycle service",
    ),
    KPI(
        "product_cost",
        lambda tr, net, by: _product_cost(tr).sum(axis=(0, 3)),
        "product",
        "money",
        ",.2f",
        False,
        "episode cost of each product over every node: the sum of its ledger cost fields",
        label="cost",
    ),
    KPI(
        "product_revenue",
        lambda tr, net, by: tr.node("revenue").sum(axis=(0, 3)),
        "product",
        "money",
        ",.2f",
        True,
        "episode revenue of each product over every node (sales and internal transfers)",
        label="revenue",
        table=False,
    ),
    KPI(
        "node_product_cost",
        lambda tr, net, by: _product_cost(tr).sum(axis=0),
        "node_product",
        "money",
        ",.2f",
        False,
        "episode cost of each (node, product)",
        label="cost",
    ),
    KPI(
        "node_product_fill_rate",
        lambda tr, net, by: M.node_product_fill_rate(tr),
        "node_product",
        "share",
        ".1%",
        True,
        "requests for each product at each node shipped in the period they arrived",
        label="fill rate",
    ),
    KPI(
        "node_product_on_hand",
        lambda tr, net, by: tr.node("on_hand").mean(axis=0),
        "node_product",
        "units",
        ",.1f",
        None,
        "mean end-of-period stock of each (node, product)",
        label="mean on hand",
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

    Needs every period's ledger (``rollout(..., keep="all")``). With products, the KPIs of the
    product axes are there too, and the others get the node totals unless marked ``per_product``;
    without products the product-axis KPIs are left out.
    """
    out: dict[str, F64] = {}
    for k in KPIS:
        own = k.axis in PRODUCT_AXES
        if own and not traj.product_axis:
            continue
        tr = traj if own or k.per_product else traj.totals()
        out[k.name] = np.asarray(k.formula(tr, net, by), dtype=np.float64)
    return out


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
        if k.path is None or k.name not in arrays or k.axis in PRODUCT_AXES:
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


# --------------------------------------------------------------------------------------------------
# networks with products: distributions over products instead of one entry per product
#: the quantiles of a per-product KPI in :func:`product_summary`
PRODUCT_QUANTILES: tuple[tuple[str, float], ...] = (("p10", 0.1), ("median", 0.5), ("p90", 0.9))


def _worst(values: F64, k: KPI, top: int, eligible: NDArray[np.bool_] | None = None) -> NDArray[np.intp]:
    """Indices of the ``top`` worst products by ``values`` (lowest when higher is better), stable."""
    idx = np.arange(values.shape[0]) if eligible is None else np.flatnonzero(eligible)
    key = values[idx] if k.higher_is_better is False else -values[idx]
    return idx[np.argsort(-key, kind="stable")[:top]]


def product_summary(
    arrays: Mapping[str, F64], products: Sequence[str], periods: int, top: int = 10
) -> dict[str, Any]:
    """Aggregates over products of the ``product``-axis KPIs (means over episodes first).

    Returns:
        ``count`` (P); ``demand`` (total); ``fill_rate``: ``demand_weighted`` (per episode
        ``sum_p fr_p d_p / sum_p d_p``, then the mean: the system fill rate), ``mean`` (unweighted),
        ``min``, the
        quantiles of :data:`PRODUCT_QUANTILES`; ``cycle_service_level``: the same without the
        weighting; ``cost``: ``total``, ``per_product_period`` (``total / (P T)``), ``max`` and
        quantiles, ``top_share`` (the share of the total cost in the costliest 10% and 20% of
        products: two points of the Pareto curve); ``worst_fill_rate``: the ``top`` products with
        demand and the lowest fill rates; ``costliest``: the ``top`` costliest products with their
        cost share.

    Raises:
        KeyError: the arrays hold no product KPIs (a network without products).
    """
    if "product_fill_rate" not in arrays:
        raise KeyError("product_summary: no product KPIs (a network without products)")
    fr = kpi("product_fill_rate").mean(arrays["product_fill_rate"])  # (P,)
    csl = kpi("product_cycle_service_level").mean(arrays["product_cycle_service_level"])
    demand = arrays["product_demand"].mean(axis=0)
    cost = arrays["product_cost"].mean(axis=0)
    p = len(products)
    if fr.shape != (p,):
        raise ValueError(f"products: {p} names for {fr.shape[0]} products")

    def spread(v: F64) -> dict[str, float]:
        q = {name: float(np.quantile(v, x)) for name, x in PRODUCT_QUANTILES}
        return {"mean": float(v.mean()), "min": float(v.min()), **q, "max": float(v.max())}

    total_d = float(demand.sum())
    d_b = arrays["product_demand"]  # (B, P): the weights of each episode
    on_b = (arrays["product_fill_rate"] * d_b).sum(axis=1)
    weighted = np.where(d_b.sum(axis=1) > 0, on_b / np.maximum(d_b.sum(axis=1), 1e-300), 1.0)
    total_c = float(cost.sum())
    ranked = np.sort(cost)[::-1]

    def top_share(frac: float) -> float:
        n = max(1, math.ceil(frac * p))
        return float(ranked[:n].sum() / total_c) if total_c > 0 else float("nan")

    fk = kpi("product_fill_rate")
    worst = _worst(fr, fk, top, demand > 0)
    costliest = _worst(cost, kpi("product_cost"), top)
    return {
        "count": p,
        "demand": total_d,
        "fill_rate": {
            "demand_weighted": float(weighted.mean()),
            **spread(fr),
        },
        "cycle_service_level": spread(csl),
        "cost": {
            "total": total_c,
            "per_product_period": total_c / (p * periods),
            **spread(cost),
            "top_share": {"10%": top_share(0.1), "20%": top_share(0.2)},
        },
        "worst_fill_rate": [
            {"product": products[i], "fill_rate": float(fr[i]), "demand": float(demand[i])} for i in worst
        ],
        "costliest": [
            {
                "product": products[i],
                "cost": float(cost[i]),
                "share": float(cost[i] / total_c) if total_c > 0 else float("nan"),
            }
            for i in costliest
        ],
    }


def product_rows(
    arrays: Mapping[str, F64], products: Sequence[str], nodes: Sequence[str]
) -> list[dict[str, Any]]:
    """One flat row per product (means over episodes): every ``product``-axis KPI under its label-free
    name (``fill_rate``, ``cost``, ...), then every ``node_product`` KPI per node
    (``cost[store_0]``, ...). The per-product CSV of an evaluation."""
    ks = [k for k in KPIS if k.axis in PRODUCT_AXES and k.name in arrays]
    means = {k.name: k.mean(arrays[k.name]) for k in ks}
    rows = []
    for p, name in enumerate(products):
        r: dict[str, Any] = {"product": name}
        for k in ks:
            stem = k.name.removeprefix("product_") if k.axis == "product" else None
            if stem is not None:
                r[stem] = float(means[k.name][p])
        for k in ks:
            if k.axis == "node_product":
                stem = k.name.removeprefix("node_product_")
                for j, node in enumerate(nodes):
                    r[f"{stem}[{node}]"] = float(means[k.name][p, j])
        rows.append(r)
    return rows
