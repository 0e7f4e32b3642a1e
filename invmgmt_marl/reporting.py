"""Presentation of results: rich tables, CSV / JSON writers and the benchmark markdown.

Nothing here computes an inventory, cost or KPI number: the numbers come from
:class:`~invmgmt_marl.evaluate.Evaluation` (its arrays and :meth:`~invmgmt_marl.evaluate.Evaluation.summary`),
from :func:`~invmgmt_marl.metrics.trajectory_summary` and from
:func:`~invmgmt_marl.evaluate.run_benchmark`; the rows and columns follow the KPI table
(:data:`invmgmt_marl.kpis.KPIS`).

Tables stay readable at 80 columns: with more than :data:`WIDE_MAX_AGENTS` agents the agents are rows
instead of columns.

    from rich.console import Console
    from invmgmt_marl import evaluate
    from invmgmt_marl.reporting import summary_table, to_csv

    ev = evaluate("base_stock", "serial", episodes=2, periods=20, bound=False)
    Console().print(summary_table(ev))
    text = to_csv(ev)
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from invmgmt_marl import kpis as K
from invmgmt_marl.bounds.gaps import PERFECT_INFORMATION
from invmgmt_marl.kpis import format_value
from invmgmt_marl.sim.ledger import COST_FIELDS

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import RenderableType
    from rich.table import Table

    from invmgmt_marl.evaluate import Evaluation
    from invmgmt_marl.rollout import Trajectory
    from invmgmt_marl.sim.network import Network

__all__ = [
    "WIDE_MAX_AGENTS",
    "json_safe",
    "to_dict",
    "to_json",
    "to_csv",
    "products_csv",
    "rows_to_csv",
    "write_evaluation",
    "summary_table",
    "benchmark_markdown",
    "benchmark_document",
    "ladder_markdown",
    "products_markdown",
    "rung_title",
    "gap_text",
    "BENCHMARK_HEAD",
    "LIU_START",
    "LIU_END",
    "simulation_header",
    "simulation_tables",
    "simulation_text",
    "trace_table",
]

F64 = NDArray[np.float64]
#: up to this many agents, tables have one column per agent; beyond, one row per agent
WIDE_MAX_AGENTS = 4
#: with one row per agent, at most this many KPI columns per table (so that it fits 80 columns)
TALL_MAX_COLUMNS = 6


# --------------------------------------------------------------------------------------------------
# JSON and CSV
def json_safe(x: Any) -> Any:
    """JSON-safe copy: numpy to Python, NaN / inf to None, mapping keys to str."""
    if isinstance(x, Mapping):
        return {str(k): json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [json_safe(v) for v in x]
    if isinstance(x, np.ndarray):
        return json_safe(x.tolist())
    if isinstance(x, (np.floating, float)):
        f = float(x)
        return f if math.isfinite(f) else None
    if isinstance(x, np.integer):
        return int(x)
    return x


def to_dict(ev: Evaluation, products: bool = False) -> dict[str, Any]:
    """``{"summary": ev.summary(), "episodes": ev.episode_rows()}``, JSON-safe (NaN and inf as None).

    With products the summary has its ``products`` section (distributions and the worst products);
    ``products=True`` adds ``"products": ev.product_rows()``, one row per product."""
    data: dict[str, Any] = {"summary": ev.summary(), "episodes": ev.episode_rows()}
    if products and ev.products:
        data["products"] = ev.product_rows()
    out: dict[str, Any] = json_safe(data)
    return out


def to_json(ev: Evaluation, path: str | Path | None = None, products: bool = False) -> str:
    """:func:`to_dict` as JSON text; also written to ``path`` if given."""
    text = json.dumps(to_dict(ev, products), indent=2)
    if path is not None:
        Path(path).write_text(text + "\n", encoding="utf-8")
    return text


def rows_to_csv(rows: Sequence[Mapping[str, Any]], path: str | Path | None = None) -> str:
    """Flat dicts (same keys) as CSV text, empty cells for None; also written to ``path`` if given."""
    if not rows:
        raise ValueError("rows: nothing to write")
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in r.items()})
    text = buf.getvalue()
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text


def to_csv(ev: Evaluation, path: str | Path | None = None) -> str:
    """The per-episode rows (``ev.episode_rows()``) as CSV text; also written to ``path`` if given."""
    return rows_to_csv(ev.episode_rows(), path)


def products_csv(ev: Evaluation, path: str | Path | None = None) -> str:
    """The per-product rows (``ev.product_rows()``) as CSV text; also written to ``path`` if given.
    ValueError without products."""
    if not ev.products:
        raise ValueError(f"products_csv: {ev.scenario!r} has no products")
    return rows_to_csv(ev.product_rows(), path)


def write_evaluation(
    ev: Evaluation, out_dir: str | Path, extra: Mapping[str, Any] | None = None
) -> list[Path]:
    """Write ``evaluation.json`` (:func:`to_dict` plus ``extra``, e.g. the tuning result) and
    ``episodes.csv`` into ``out_dir`` (created), and ``products.csv`` (one row per product) with
    products; returns the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = to_dict(ev)
    if extra:
        data.update(json_safe(dict(extra)))
    (out / "evaluation.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    to_csv(ev, out / "episodes.csv")
    paths = [out / "evaluation.json", out / "episodes.csv"]
    if ev.products:
        products_csv(ev, out / "products.csv")
        paths.append(out / "products.csv")
    return paths


# --------------------------------------------------------------------------------------------------
# the evaluation's rich table
@dataclass(frozen=True)
class _Row:
    label: str
    cells: list[str] | None  # one per agent; None: a system-only row
    system: str
    money: bool = False


def _table_rows(ev: Evaluation) -> list[_Row]:
    """The summary table's rows, from the KPI table, then the bound, gap, floor and score."""
    s = ev.summary()
    t, n = ev.periods, len(ev.agents)
    store_col = {ev.agents.index(name): j for j, name in enumerate(ev.stores)}
    shown_as_system = {k.system for k in K.KPIS if k.system}
    rows: list[_Row] = []
    groups: dict[str, list[Any]] = {}
    # money first, then the stores' service, the nodes' KPIs, the echelon levels (stable within each)
    rank = {"store": 0, "agent": 1, "level": 2, "episode": 3}
    for k in sorted(K.KPIS, key=lambda k: (not k.per_period, rank.get(k.axis, 4))):
        if not k.table or k.axis in K.PRODUCT_AXES or k.name not in ev.kpis:
            continue
        a = ev.kpis[k.name]
        if k.hide_zero and not np.any(a):
            continue
        system = ""
        if k.system:
            sk = K.kpi(k.system)
            system = k.prefix + format_value(float(sk.mean(ev.kpis[sk.name])), sk.fmt)
        if k.axis == "agent":
            m = k.mean(a) / (t if k.per_period else 1)
            if k.per_period:
                system = format_value(float(a.sum(axis=1).mean()) / (t * n), k.fmt) + k.suffix
            rows.append(_Row(k.title, [format_value(v, k.fmt) for v in m], system, k.per_period))
        elif k.axis == "store":
            m = k.mean(a)
            cells = [format_value(m[store_col[i]], k.fmt) if i in store_col else "" for i in range(n)]
            rows.append(_Row(k.title, cells, system))
        elif k.axis == "level" and k.group:
            groups.setdefault(k.group, []).append(k)
        elif k.axis == "level":
            for lv, v in zip(ev.levels, k.mean(a), strict=True):
                rows.append(_Row(f"{k.title} ({lv})", None, format_value(v, k.fmt) + k.suffix))
        elif k.name not in shown_as_system:
            rows.append(_Row(k.title, None, format_value(float(k.mean(a)), k.fmt) + k.suffix))
    for group, ks in groups.items():
        for j, lv in enumerate(ev.levels):
            cell = ", ".join(
                f"{k.short or k.title} {format_value(k.mean(ev.kpis[k.name])[j], k.fmt)}{k.suffix}"
                for k in ks
            )
            rows.append(_Row(f"{group} ({lv})", None, cell))
    rows += _product_table_rows(s.get("products"))
    if s["bound"] is not None:
        rows.append(
            _Row(
                PERFECT_INFORMATION,
                None,
                format_value(s["bound"]["per_agent_period"], ",.2f") + " /agent",
            )
        )
        rows.append(_Row("gap to perfect information", None, format_value(s["bound"]["gap"], ".1%")))
    rows += _ladder_rows(s)
    if s["floor"] is not None:
        rows.append(
            _Row("do-nothing floor", None, format_value(s["floor"]["per_agent_period"], ",.2f") + " /agent")
        )
    if s["score"] is not None:
        rows.append(_Row("normalised score", None, format_value(s["score"], ",.2f")))
    return rows


#: the worst products named in the summary table (the summary itself keeps ``top`` of them)
TABLE_TOP_PRODUCTS = 3


def _product_table_rows(p: Mapping[str, Any] | None) -> list[_Row]:
    """System rows of a network with products: distributions over products and the worst few
    (never one row per product)."""
    if not p:
        return []
    fr, cost = p["fill_rate"], p["cost"]
    pct = ".1%"
    worst = ", ".join(
        f"{w['product']} {format_value(w['fill_rate'], pct)}"
        for w in p["worst_fill_rate"][:TABLE_TOP_PRODUCTS]
    )
    costly = ", ".join(
        f"{w['product']} {format_value(w['share'], pct)}" for w in p["costliest"][:TABLE_TOP_PRODUCTS]
    )
    return [
        _Row("products", None, str(p["count"])),
        _Row(
            "product fill rate: weighted / p10 / median",
            None,
            " / ".join(format_value(fr[x], pct) for x in ("demand_weighted", "p10", "median")),
        ),
        _Row("cost / product-period", None, format_value(cost["per_product_period"], ",.2f")),
        _Row(
            "cost share, costliest 10% / 20%",
            None,
            " / ".join(format_value(cost["top_share"][x], pct) for x in ("10%", "20%")),
        ),
        _Row("lowest fill rates", None, worst or "–"),
        _Row("costliest products (cost share)", None, costly or "–"),
    ]


def rung_title(rung: Mapping[str, Any]) -> str:
    """``"newsvendor lower bound (episode)"``, ``"clark_scarf optimum (long run)"``: a ladder entry's
    name, kind and horizon (:func:`invmgmt_marl.bounds.gaps.rung_record`)."""
    if rung.get("label"):
        return str(rung["label"])
    kind = str(rung["kind"]).replace("_", " ")
    return f"{rung['name']} {kind} ({str(rung['horizon']).replace('_', ' ')})"


def gap_text(g: Mapping[str, Any] | None, fmt: str = ".1%") -> str:
    """A valid gap (:class:`invmgmt_marl.bounds.gaps.ValidGap` as a dict) with its bound and the
    quantity it was measured on: ``"12.3% ± 0.4% (newsvendor, episode mean)"``."""
    if g is None:
        return "–"
    se = g.get("gap_stderr")
    err = f" ± {format_value(se, fmt)}" if se is not None and math.isfinite(se) else ""
    return f"{format_value(g['gap'], fmt)}{err} ({g['bound']}, {g['quantity']})"


def _ladder_rows(s: Mapping[str, Any]) -> list[_Row]:
    """The bound ladder's rungs (the LP has its own row), the steady-state cost when it was compared,
    and the gaps to the best valid bound and the best known policy."""
    rows = []
    for r in s.get("ladder") or ():
        if r["name"] == "perfect_information":
            continue
        if "skipped" in r:
            rows.append(_Row(f"{r['name']} (not applicable)", None, "–"))
            continue
        rows.append(_Row(rung_title(r), None, format_value(r["per_agent_period"], ",.2f") + " /agent"))
    if any(g["quantity"] == "steady-state cost" for g in s.get("valid_gaps") or ()):
        ss = s["steady_state"]["cost_per_agent_period"]
        rows.append(_Row("steady-state cost", None, format_value(ss, ",.2f") + " /agent"))
    if s.get("best_valid_bound") is not None:
        rows.append(_Row("gap to best valid bound", None, gap_text(s["best_valid_bound"])))
    best = s.get("best_policy")
    if best is not None:
        rows.append(
            _Row("gap to best known policy", None, f"{format_value(best['gap'], '.1%')} ({best['label']})")
        )
    return rows


def summary_table(ev: Evaluation) -> Table:
    """A ``rich`` table of the evaluation: per-node means (per period for money), KPIs, system values.

    Up to :data:`WIDE_MAX_AGENTS` agents: one column per agent and a system column. More agents: a
    grid of two tables, one row per agent (and a system row) for the per-node KPIs, then the
    system-level ones.
    """
    from rich.markup import escape
    from rich.table import Table

    from invmgmt_marl.plots import short_policy  # the full policy is in evaluation.json

    title = escape(
        f"{ev.scenario}: {short_policy(ev.policy, 160)} over {ev.episodes} episode(s) of {ev.periods} "
        "periods "
        f"(demand: {ev.demand_source})"
    )
    rows = _table_rows(ev)
    if len(ev.agents) <= WIDE_MAX_AGENTS:
        table = Table(title=title)
        table.add_column("")
        for a in ev.agents:
            table.add_column(a, justify="right")
        table.add_column("system", justify="right", style="bold")
        blank = [""] * len(ev.agents)
        for r in rows:
            table.add_row(escape(r.label), *(r.cells if r.cells is not None else blank), r.system)
        return table

    from rich import box

    per_node = [r for r in rows if r.cells is not None]
    grid = Table.grid()
    grid.title = title
    grid.add_column()
    for part, chunk in _chunks(per_node):
        nodes = Table(title=f"per node, {part} (mean over episodes)", box=box.SIMPLE_HEAD, pad_edge=False)
        nodes.add_column("agent", no_wrap=True)
        for r in chunk:
            nodes.add_column(escape(r.label.strip()), justify="right")
        for i, a in enumerate(ev.agents):
            nodes.add_row(a, *(r.cells[i] if r.cells is not None else "" for r in chunk))
        nodes.add_section()
        nodes.add_row("system", *(r.system for r in chunk), style="bold")
        grid.add_row(nodes)
    system = Table(title="system", box=box.SIMPLE_HEAD, pad_edge=False)
    system.add_column("")
    system.add_column("value", justify="right")
    for r in rows:
        if r.cells is None:
            system.add_row(escape(r.label), r.system)
    grid.add_row(system)
    return grid


def _chunks(rows: list[_Row]) -> list[tuple[str, list[_Row]]]:
    """The per-node rows in tables of at most :data:`TALL_MAX_COLUMNS` columns, money apart from service."""
    out: list[tuple[str, list[_Row]]] = []
    for part, keep in (("cost per period", True), ("service and orders", False)):
        out += [(part, chunk) for chunk in _balanced([r for r in rows if r.money == keep], TALL_MAX_COLUMNS)]
    return out


def _balanced(items: list[Any], most: int) -> list[list[Any]]:
    """``items`` cut into the fewest pieces of at most ``most``, of (nearly) equal lengths."""
    n = -(-len(items) // most)
    return [items[j * len(items) // n : (j + 1) * len(items) // n] for j in range(n)]


# --------------------------------------------------------------------------------------------------
# benchmark markdown
LIU_START, LIU_END = "<!-- liu-reference:start -->", "<!-- liu-reference:end -->"

BENCHMARK_HEAD = """# Baseline benchmark

Every baseline on every shipped scenario of up to 12 agents (the 54-agent `large_network` on request:
`--scenarios large_network`), each evaluated on the same {episodes} test demand paths per scenario
(drawn from the scenario's own demand process with seed {seed}). Tuned policies are tuned first by
coordinate descent on {train_episodes} fresh training paths drawn with seed {train_seed}
(`invmgmt_marl.policies.tune`, cached); the floor and random policies are not tuned.

- **scored on**: what tuning, the bound and the score optimise: `profit` (revenue - cost) where the
  stores sell at a price (minimising cost alone there can mean selling nothing), `cost` elsewhere.
- **cost / agent-period**: team cost (the {n_cost} ledger cost fields) / (agents x periods), mean over
  the test episodes ± its standard error; **profit / agent-period**: team revenue - cost, likewise.
- **fill rate**: share of customer demand shipped in the period it arrived (all stores together).
- **cycle service**: share of periods without a stockout at a store (mean over stores).
- **bullwhip CV**: coefficient of variation (std / mean) of each node's orders over the first T-1
  periods, averaged over the nodes of each level, from the stores up; in parentheses the CV of
  customer demand. A level whose nodes seldom order (the urgent-side nodes of `net_2x3`) shows a
  large CV from a tiny mean.
- **gap to perfect information**: the gap between the policy's and the bound's mean objective, the
  bound being the perfect-information linear program (`invmgmt_marl.oracle`) on each test path: the
  best any policy could reach knowing the whole demand path in advance. It is far from what a
  non-anticipating policy can reach, so these gaps are large. Scenarios with perishable stock or
  assembly have no such bound (the LP does not model them).
- **gap to best valid bound**: the smallest gap to a rung of the bound ladder (`invmgmt_marl.bounds`,
  [bounds.md](bounds.md)), each measured on the quantity it bounds: whole-episode rungs (and the LP)
  against the episode mean; long-run rungs (newsvendor long run, Clark-Scarf) only against a
  stationary policy's steady-state cost (mean cost per agent-period after a warm-up of a quarter of
  the episode), never against the raw episode mean. In parentheses: the rung and the quantity. It is
  an upper bound on the policy's distance from the best non-anticipating policy (up to sampling
  error; ± the standard error of the policy's mean over the test episodes, relative to the bound).
  The rungs bound cost: on profit-scored scenarios only the LP applies.
- **gap to best policy**: the gap to the best policy in this table on the same test paths.
- **score**: `(value - floor) / (bound - floor)` with floor = ordering nothing (0 = the floor,
  1 = the perfect-information bound).
- Bold rows are bounds: the LP (mean over the test paths) and every rung of the ladder that applies,
  with its kind (`lower_bound`, or `optimum`: attained by a known policy) and horizon. The table
  [Bound ladder per scenario](#bound-ladder-per-scenario) below sums them up.

"""

_NUMBER_WORDS = {5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine"}


def _md(v: Any, fmt: str = ".2f") -> str:
    return format_value(v, fmt, missing="–")


def _summary_value(s: Mapping[str, Any], path: Sequence[str]) -> Any:
    node: Any = s
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node


def _markdown_cell(s: Mapping[str, Any], name: str) -> str:
    k = K.kpi(name)
    v = _summary_value(s, k.path or (k.name,))
    if k.axis == "level":
        text = " / ".join(_md(x, k.fmt) for x in (v or {}).values())
    elif k.axis == "episode":
        text = _md(v, k.fmt)
    else:
        vals = list((v or {}).values())
        text = _md(float(np.mean(vals)) if vals else None, k.fmt)
    if k.system:
        sk = K.kpi(k.system)
        text += f" ({_md(_summary_value(s, sk.path or (sk.name,)), sk.fmt)})"
    return text


def benchmark_markdown(rows: Sequence[Mapping[str, Any]], command: str, note: str = "") -> str:
    """ONE markdown table of :func:`~invmgmt_marl.evaluate.run_benchmark` rows, headed by the command
    that regenerates it. The KPI columns are the KPIs with a ``markdown`` header."""
    cols = [k for k in K.KPIS if k.markdown]
    lines = [
        "| scenario | scored on | policy | cost / agent-period (± s.e.) | profit / agent-period | "
        + "".join(f"{k.markdown} | " for k in cols)
        + "gap to perfect information | gap to best valid bound | gap to best policy | score |",
        "|---|---|---|---:|---:|"
        + "".join("---|" if k.axis == "level" else "---:|" for k in cols)
        + "---:|---:|---:|---:|",
    ]
    for r in rows:
        s = r["summary"]
        cost = s["cost"]
        cost_txt = _md(cost["per_agent_period"]) + (
            f" ± {cost['stderr_per_agent_period']:.2f}"
            if cost.get("stderr_per_agent_period") is not None
            else ""
        )
        policy = r["label"] + (" (tuned)" if r["tuned"] else "")
        obj = s.get("objective", "cost")
        if r["kind"] == "oracle":
            cost_cell, profit_cell = (cost_txt, "–") if obj == "cost" else ("–", cost_txt)
            lines.append(
                f"| {r['scenario']} | {obj} | **{policy}** | {cost_cell} | {profit_cell} | "
                + "– | " * len(cols)
                + "0 | – | – | 1 |"
            )
            continue
        if r["kind"] == "ladder":
            lines.append(
                f"| {r['scenario']} | cost | **{rung_title(s['rung'])}** | {cost_txt} | – | "
                + "– | " * len(cols)
                + "– | – | – | – |"
            )
            continue
        n_ap = len(s["agents"]) * s["periods"]
        profit_txt = _md(s["profit"] / n_ap) if obj == "profit" else "–"
        gap = _md(s["bound"]["gap"], ".0%") if s.get("bound") else "–"
        valid = s.get("best_valid_bound")
        valid_txt = "–" if valid is None else _gap_cell(valid)
        best = s.get("best_policy")
        best_txt = "–" if best is None else _md(best["gap"], ".1%")
        score = _md(s.get("score"), ".3f")
        lines.append(
            f"| {s['scenario']} | {obj} | {policy} | {cost_txt} | {profit_txt} | "
            + "".join(f"{_markdown_cell(s, k.name)} | " for k in cols)
            + f"{gap} | {valid_txt} | {best_txt} | {score} |"
        )
    head = [f"Regenerate with: `{command}`", ""]
    if note:
        head += [note, ""]
    return "\n".join(head + lines) + "\n"


def _gap_cell(g: Mapping[str, Any]) -> str:
    """``"-1% ± 2% (clark_scarf, steady state)"``: a valid gap, its standard error, bound and quantity."""
    se = g.get("gap_stderr")
    err = f" ± {_md(se, '.0%')}" if se is not None and math.isfinite(se) and se > 0 else ""
    return f"{_md(g['gap'], '.0%')}{err} ({_short_gap(g)})"


def _short_gap(g: Mapping[str, Any]) -> str:
    name = "perfect information" if g["bound"] == "perfect_information" else str(g["bound"])
    return f"{name}, {'steady state' if g['quantity'] == 'steady-state cost' else 'episode'}"


def products_markdown(rows: Sequence[Mapping[str, Any]], top: int = 3) -> str:
    """One markdown row per (scenario, policy) with products: the product count, the fill rate over
    products (demand-weighted, p10, median), the cost per product-period, the cost share of the
    costliest 20% of products and the ``top`` lowest fill rates (the summary's ``products`` section;
    never one row per product). Rows without products are left out."""
    lines = [
        "| scenario | policy | products | fill rate: weighted / p10 / median | cost / product-period | "
        "cost share of the costliest 20% | lowest fill rates |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        p = (r.get("summary") or {}).get("products")
        if not p:
            continue
        fr = p["fill_rate"]
        worst = ", ".join(f"{w['product']} {_md(w['fill_rate'], '.0%')}" for w in p["worst_fill_rate"][:top])
        policy = r["label"] + (" (tuned)" if r.get("tuned") else "")
        lines.append(
            f"| {r['scenario']} | {policy} | {p['count']:,} | "
            + " / ".join(_md(fr[x], ".1%") for x in ("demand_weighted", "p10", "median"))
            + f" | {_md(p['cost']['per_product_period'])} | {_md(p['cost']['top_share']['20%'], '.1%')} | "
            f"{worst or '–'} |"
        )
    return "\n".join(lines) + "\n"


def ladder_markdown(rows: Sequence[Mapping[str, Any]]) -> str:
    """The bound ladder per scenario from :func:`~invmgmt_marl.evaluate.run_benchmark` rows: the LP,
    every rung that applies (per agent-period), the best policy and its gap to the best valid bound."""
    order: list[str] = []
    by: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        if r["scenario"] not in by:
            order.append(r["scenario"])
        by.setdefault(r["scenario"], []).append(r)
    lines = [
        "| scenario | scored on | perfect information | newsvendor (episode) | newsvendor (long run) "
        "| Clark-Scarf (long run) | best policy | its gap to the best valid bound |",
        "|---|---|---:|---:|---:|---:|---|---:|",
    ]
    for name in order:
        rs = by[name]
        cells = {"oracle": "–", ("newsvendor", "episode"): "–", ("newsvendor", "long_run"): "–"}
        cells[("clark_scarf", "long_run")] = "–"
        obj, best, best_gap = "cost", "–", "–"
        for r in rs:
            s = r["summary"]
            if r["kind"] == "oracle":
                cells["oracle"] = _md(s["cost"]["per_agent_period"])
            elif r["kind"] == "ladder":
                rung = s["rung"]
                key = (rung["name"], rung["horizon"])
                tag = " (optimum)" if rung["kind"] == "optimum" else ""
                cells[key] = _md(rung["per_agent_period"], ".3f") + tag
            else:
                obj = s.get("objective", "cost")
                bp = s.get("best_policy")
                if bp is not None and (r["label"] + (" (tuned)" if r["tuned"] else "")) == bp["label"]:
                    best = f"{bp['label']}: {_md(bp['value_per_agent_period'])}"
                    g = s.get("best_valid_bound")
                    best_gap = "–" if g is None else _gap_cell(g)
        lines.append(
            f"| {name} | {obj} | {cells['oracle']} | {cells[('newsvendor', 'episode')]} | "
            f"{cells[('newsvendor', 'long_run')]} | {cells[('clark_scarf', 'long_run')]} | {best} | "
            f"{best_gap} |"
        )
    return "\n".join(lines) + "\n"


def benchmark_document(
    rows: Sequence[Mapping[str, Any]],
    command: str,
    episodes: int,
    seed: int,
    train_episodes: int,
    train_seed: int,
    previous: str | None = None,
) -> str:
    """The benchmark page: :data:`BENCHMARK_HEAD`, the :func:`benchmark_markdown` table, and the Liu et
    al. reference section of ``previous`` (the page's old text, between :data:`LIU_START` and
    :data:`LIU_END`, written by ``benchmarks/liu_reference.py``) when it has one."""
    n_cost = len(COST_FIELDS)
    text = BENCHMARK_HEAD.format(
        episodes=episodes,
        seed=seed,
        train_episodes=train_episodes,
        train_seed=train_seed,
        n_cost=_NUMBER_WORDS.get(n_cost, str(n_cost)),
    ) + benchmark_markdown(rows, command)
    text += (
        "\n## Bound ladder per scenario\n\n"
        "Per agent-period. Perfect information: mean of the LP over the test paths (profit on "
        "profit-scored scenarios); the other rungs bound expected cost ([bounds.md](bounds.md)); "
        "`–`: the rung does not apply (the reasons are in `bound_ladder`'s `Skipped` entries).\n\n"
        + ladder_markdown(rows)
    )
    if any((r.get("summary") or {}).get("products") for r in rows):
        text += (
            "\n## Products\n\n"
            "Scenarios with products: the distribution over products (means over the test paths) and "
            "the worst three by fill rate.\n\n" + products_markdown(rows)
        )
    if previous is not None and LIU_START in previous and LIU_END in previous:
        text += "\n" + previous[previous.index(LIU_START) : previous.index(LIU_END) + len(LIU_END)] + "\n"
    return text


# --------------------------------------------------------------------------------------------------
# invmgmt-marl simulate
_FLOWS = ("ordered", "received", "shipped", "fill_rate", "mean_on_hand", "mean_backlog", "lost")
_MONEY = (*COST_FIELDS, "revenue", "total_cost", "reward")


def _simulation_cell(column: str, v: float) -> str:
    return f"{v:.3f}" if column == "fill_rate" else f"{v:,.1f}"


def simulation_header(
    summary: Mapping[str, Any], description: str, edges: int, seed: int | None, reward: str
) -> str:
    """The first lines of ``invmgmt-marl simulate``: scenario, sizes, seed, policy, reward (rich markup)."""
    from rich.markup import escape

    return f"[bold]{escape(summary['scenario'])}[/bold]: {escape(description)}\n" + escape(
        f"{len(summary['agents'])} agents, {edges} edges, {summary['periods']} periods, "
        f"{summary['episodes']} episode(s), seed {seed}, policy {summary.get('policy', '?')}, "
        f"reward scheme {reward}"
    )


def simulation_tables(summary: Mapping[str, Any]) -> list[Table]:
    """Per-agent totals of :func:`~invmgmt_marl.metrics.trajectory_summary`.

    Up to :data:`WIDE_MAX_AGENTS` agents: one table, a column per agent. More: two tables (flows, money)
    with a row per agent; money columns that are 0 for every agent are left out.
    """
    from rich.table import Table

    agents: Mapping[str, Mapping[str, float]] = summary["agents"]
    title = "Per agent: totals over an episode (mean over episodes)"
    if len(agents) <= WIDE_MAX_AGENTS:
        table = Table(title=title)
        table.add_column("")
        for a in agents:
            table.add_column(a, justify="right")
        for c in (*_FLOWS, *_MONEY):
            table.add_row(c.replace("_", " "), *(_simulation_cell(c, agents[a][c]) for a in agents))
        return [table]
    from rich import box

    out = []
    for part, cols in (("flows", _FLOWS), ("money", _MONEY)):
        keep = [c for c in cols if part == "flows" or c == "total_cost" or any(agents[a][c] for a in agents)]
        for chunk in _balanced(keep, TALL_MAX_COLUMNS - 1):
            table = Table(title=f"{title}: {part}", box=box.SIMPLE_HEAD, pad_edge=False)
            table.add_column("agent", no_wrap=True)
            for c in chunk:
                table.add_column(c.replace("_", " "), justify="right")
            for a in agents:
                table.add_row(a, *(_simulation_cell(c, agents[a][c]) for c in chunk))
            out.append(table)
    return out


def simulation_text(summary: Mapping[str, Any]) -> str:
    """The system lines of ``invmgmt-marl simulate``: total cost, demand and sales, the unit balance."""
    s = summary["system"]
    return (
        f"System: total cost {s['total_cost']:,.1f} = {s['cost_per_agent_period']:.2f} per agent-period; "
        f"customer demand {s['demand']:,.0f}, sold {s['sold']:,.0f}, lost {s['lost']:,.0f}, "
        f"customer backlog at the end {s['customer_backlog_end']:,.0f}.\n"
        f"Units: {s['units_start']:,.0f} at the start + {s['units_in']:,.0f} from the external source "
        f"- {s['sold']:,.0f} sold"
        + (
            f" - {s['units_other']:,.0f} expired, refused, lost in transit or used in assembly (net)"
            if abs(s["units_other"]) > 1e-9
            else ""
        )
        + f" = {s['units_end']:,.0f} at the end (on hand, components, in transit); "
        f"largest imbalance over episodes {s['unit_balance_error']:.2g}."
    )


def trace_table(traj: Trajectory, net: Network, periods: int, episode: int = 0) -> RenderableType:
    """The first ``periods`` periods of one episode: demand, then ``on hand (-backlog) / order`` per agent
    (node totals over products in a network with products).

    More than :data:`WIDE_MAX_AGENTS` agents: one row per (period, agent) pair instead of a column
    per agent.
    """
    from rich import box
    from rich.table import Table

    traj = traj.totals()  # node totals with products
    oh, od, bl = traj.node("on_hand"), traj.node("ordered"), traj.node("backlog")
    title = f"First {periods} periods of episode {episode}: demand, then on hand / order per agent"
    if net.product_axis:
        title += f" (totals over {net.n_products} products)"

    def cell(t: int, i: int) -> str:
        back = f" (-{bl[t, episode, i]:.0f})" if bl[t, episode, i] else ""
        return f"{oh[t, episode, i]:.0f}{back} / {od[t, episode, i]:.0f}"

    span = range(min(periods, net.periods))
    if net.n_nodes <= WIDE_MAX_AGENTS:
        trace = Table(title=title)
        trace.add_column("t", justify="right")
        trace.add_column("demand", justify="right")
        for a in net.agents:
            trace.add_column(a, justify="right")
        for t in span:
            trace.add_row(
                str(t),
                " ".join(f"{d:g}" for d in traj.demand[episode, t]),
                *(cell(t, i) for i in range(net.n_nodes)),
            )
        return trace
    store_col = {int(n): j for j, n in enumerate(net.store_nodes)}
    trace = Table(
        title=title.replace("demand, then", "each store's demand,"), box=box.SIMPLE_HEAD, pad_edge=False
    )
    trace.add_column("t", justify="right")
    trace.add_column("agent", no_wrap=True)
    trace.add_column("demand", justify="right")
    trace.add_column("on hand (-backlog) / order", justify="right")
    for t in span:
        for i, a in enumerate(net.agents):
            d = f"{traj.demand[episode, t, store_col[i]]:g}" if i in store_col else ""
            trace.add_row(str(t) if i == 0 else "", a, d, cell(t, i), end_section=i == net.n_nodes - 1)
    return trace
