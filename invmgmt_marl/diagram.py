"""Network diagrams: any scenario drawn as a layered graph, sources on the left, customers on the right.

```python
from invmgmt_marl.diagram import describe_network, save_network

diagram = describe_network("assembly")        # nodes, edges, labels, colours, positions (no matplotlib)
print([n.id for n in diagram.nodes])
save_network("assembly", "assembly.png")       # or .svg (needs the ``plots`` extra: matplotlib)
```

The picture has one column per echelon: the external source at the far left, then every node at its
longest-path depth from the source (stores all in the last node column), then one small *customers*
node per store. Rows within a column are ordered by a few barycentre sweeps (fewer crossings) and
placed at the mean height of their downstream neighbours. Nodes are coloured by role (:data:`COLOURS`).

Labels:
    edges   ``L`` lead time (``+0..k`` with stochastic extra periods), ``c`` unit cost, ``cap`` capacity
            per period, ``K`` fixed cost per order, ``unreliable`` / ``loss`` for uncertain supply;
    nodes   ``h`` holding cost, ``b`` backlog cost (per unit and period), ``lost`` lost-sales penalty
            (stores that lose unmet demand), ``price``, ``make ≤`` production capacity, ``BOM``,
            ``space ≤`` storage capacity, ``shelf`` shelf life;
    customers  the demand process and whether unmet demand is backlogged or lost.

Beyond about 20 agents (or 12 rows in a column) the diagram is *compact*: nodes show only their names,
and each column gets one summary header (counts and cost ranges) in place of per-node and per-edge
labels, which would overlap. :func:`describe_network` needs only numpy and networkx; drawing needs
matplotlib (``pip install invmgmt-marl[plots]``), used through an explicit
:class:`~matplotlib.figure.Figure`, never through pyplot, so a notebook's backend is left alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np

from invmgmt_marl.compile import compile_network
from invmgmt_marl.sim.network import Network

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from invmgmt_marl.scenario.schema import Scenario

__all__ = [
    "COLOURS",
    "DiagramEdge",
    "DiagramNode",
    "NetworkDiagram",
    "describe_network",
    "draw_network",
    "save_network",
]

#: fill colour of each kind of node (Okabe-Ito-like hues, light enough for black text)
COLOURS: dict[str, str] = {
    "store": "#8ec9f0",
    "warehouse": "#f5c26b",
    "supplier": "#94d3a2",
    "external": "#c8c8c8",
    "customers": "#d4b3e3",
}
#: darker shade of each kind (outlines, frame gauges)
DARK: dict[str, str] = {
    "store": "#1f6fb2",
    "warehouse": "#b87800",
    "supplier": "#2e8b47",
    "external": "#6d6d6d",
    "customers": "#7d4a97",
}
EDGE_COLOUR = "#555555"
KINDS: tuple[str, ...] = ("external", "supplier", "warehouse", "store", "customers")

#: a network with more agents than this (or a column with more rows) is drawn compact
COMPACT_AGENTS = 20
COMPACT_ROWS = 12

EXTERNAL_ID = "external"
_PLOTS_HINT = "matplotlib is needed for drawing: pip install invmgmt-marl[plots]"


@dataclass(frozen=True)
class DiagramNode:
    """One drawn node. ``x`` is the column, ``y`` the row (0 at the top, decreasing downwards)."""

    id: str  # agent name, "external", or "customers:<store agent>"
    kind: str  # store / warehouse / supplier / external / customers
    label: str  # text in the box (name, and the scenario's label on a second line)
    detail: str  # annotation under the box ("" in compact diagrams)
    colour: str
    x: float
    y: float
    node: int  # agent index (N for the external source, N + 1 + s for store s's customers)


@dataclass(frozen=True)
class DiagramEdge:
    """One drawn edge: a supply edge of the network, or a store's link to its customers."""

    src: str
    dst: str
    edge: int  # network edge index; -1 for a store -> customers link
    label: str  # "" in compact diagrams and on customer links
    rad: float  # curvature (parallel edges between the same pair bend apart)
    label_at: float  # where the label sits along the edge, 0 = source, 1 = target


@dataclass(frozen=True)
class NetworkDiagram:
    """What :func:`draw_network` draws, as data (tests and doc sidecars compare this, not pixels)."""

    name: str
    compact: bool
    nodes: tuple[DiagramNode, ...]
    edges: tuple[DiagramEdge, ...]
    headers: tuple[tuple[float, str], ...]  # (x, text) column summaries (compact diagrams)
    columns: int

    def node(self, node_id: str) -> DiagramNode:
        """The node with the given id (KeyError if absent)."""
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description (positions rounded to 3 decimals)."""

        def rnd(d: dict[str, Any]) -> dict[str, Any]:
            return {k: round(v, 3) if isinstance(v, float) else v for k, v in d.items()}

        return {
            "name": self.name,
            "compact": self.compact,
            "columns": self.columns,
            "nodes": [rnd(asdict(n)) for n in self.nodes],
            "edges": [rnd(asdict(e)) for e in self.edges],
            "headers": [[round(x, 3), t] for x, t in self.headers],
        }

    def graph(self) -> nx.MultiDiGraph:
        """The drawn graph: node and edge attributes are the dataclass fields."""
        g = nx.MultiDiGraph(name=self.name)
        for n in self.nodes:
            g.add_node(n.id, **asdict(n))
        for e in self.edges:
            g.add_edge(e.src, e.dst, **asdict(e))
        return g


# --------------------------------------------------------------------------------------------------
# inputs
def _resolve(obj: Network | Scenario | str | Path) -> tuple[Network, Scenario | None]:
    """A compiled network and, when known, the scenario it came from (for names and labels)."""
    from invmgmt_marl.scenario.schema import Scenario

    if isinstance(obj, Network):
        return obj, None
    if isinstance(obj, Scenario):
        return compile_network(obj), obj
    if isinstance(obj, str | Path):
        from invmgmt_marl.scenario import load_scenario

        sc = load_scenario(str(obj))
        return compile_network(sc), sc
    raise TypeError(f"net: expected a Network, Scenario, scenario name or path, got {type(obj).__name__}")


def network_name(net: Network, scenario: Scenario | None = None) -> str:
    """The network's name (``net.name`` when present, else its scenario's name)."""
    return net.name


def _labels(net: Network, scenario: Scenario | None) -> list[str | None]:
    if scenario is not None:
        return [nd.label for nd in scenario.nodes]
    return [None] * net.n_nodes


def _num(x: float) -> str:
    return f"{x:g}"


def _range(values: Sequence[float] | np.ndarray) -> str:
    v = np.asarray(values, dtype=np.float64)
    lo, hi = float(v.min()), float(v.max())
    return _num(lo) if lo == hi else f"{_num(lo)}–{_num(hi)}"


def demand_text(spec: Any) -> str:
    """A short description of a store's demand process, e.g. ``poisson 20`` or ``normal 50±15``."""
    params = getattr(spec, "params", None)
    mean = getattr(params, "mean", None)
    if mean is None:
        mean = getattr(params, "base", None)
    text = str(getattr(spec, "process", "demand"))
    if isinstance(mean, int | float):
        text += f" {_num(float(mean))}"
        std = getattr(params, "std", None)
        if isinstance(std, int | float):
            text += f"±{_num(float(std))}"
    mult = float(getattr(spec, "multiplier", 1.0))
    if mult != 1.0:
        text += f" ×{_num(mult)}"
    extras = [k for k in ("trend", "seasonal", "weekly") if getattr(spec, k, None) is not None]
    if getattr(spec, "events", ()) or getattr(spec, "shocks", ()):
        extras.append("events")
    if extras:
        text += " +" + "/".join(extras)
    return text


def _edge_label(net: Network, j: int) -> str:
    if net.product_axis:  # per-product lead times and unit costs: their ranges over products
        parts = [f"L={_range(net.lead_time[:, j])}"]
        if np.any(net.unit_cost[:, j] > 0):
            parts.append(f"c={_range(net.unit_cost[:, j])}")
        return " ".join(parts)
    parts = [f"L={int(net.lead_time[j])}"]
    if net.lead_extra_max[j] > 0:
        parts[0] += f"+0..{int(net.lead_extra_max[j])}"
    if net.any_tiers and np.isfinite(net.tier_qty[j]).sum() > 1:
        parts.append(f"c={_range(net.tier_cost[j][np.isfinite(net.tier_qty[j])])}")
    elif net.unit_cost[j] > 0:
        parts.append(f"c={_num(net.unit_cost[j])}")
    second = []
    cap = net.out_capacity[j]
    if np.isfinite(cap):
        second.append(f"cap {_num(cap)}")
    if net.fixed_cost[j] > 0:
        second.append(f"K={_num(net.fixed_cost[j])}")
    if net.any_reliability and net.reliability[0, j] > 0:
        second.append("unreliable")
    if net.any_transit_loss and net.transit_loss[j] > 0:
        second.append("loss")
    text = " ".join(parts)
    return text + ("\n" + " ".join(second) if second else "")


def _node_detail(net: Network, i: int) -> str:
    """Costs (ranges over products with products), capacities and features of node ``i``; with
    products, a first line with the product count."""
    role = net.roles[i]
    costs = [f"h {_range(net.holding_cost[..., i])}"]
    store = np.flatnonzero(net.store_nodes == i)
    lost = bool(len(store)) and bool(net.store_lost_sales[store[0]])
    if lost:
        costs.append(f"lost {_range(net.lost_sales_cost[..., i])}")
    elif np.any(net.backlog_cost[..., i] > 0):
        costs.append(f"b {_range(net.backlog_cost[..., i])}")
    if role == "store" and np.any(net.price[..., i] > 0):
        costs.append(f"price {_range(net.price[..., i])}")
    lines = [f"{net.n_products} products"] if net.product_axis else []
    lines.append(" · ".join(costs))
    feats = []
    if np.isfinite(net.production_capacity[i]):
        feats.append(f"make ≤{_num(net.production_capacity[i])}")
    if np.isfinite(net.storage_capacity[i]):
        feats.append(f"space ≤{_num(net.storage_capacity[i])}")
    if net.shelf_life[i] > 0:
        feats.append(f"shelf {int(net.shelf_life[i])}")
    if feats:
        lines.append(" · ".join(feats))
    inbound = net.agent_edges[i]
    if net.any_assembly and i in set(net.assembly_nodes.tolist()):
        bom = [
            f"{_num(net.component_qty[j])}×{net.agents[net.edge_src[j]]}"
            for j in inbound
            if net.component_qty[j] > 0
        ]
        lines.append("BOM " + " + ".join(bom))
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
# layout
def _columns(net: Network) -> list[int]:
    """Column of every diagram node: agents by longest path from the source, stores aligned."""
    n = net.n_nodes
    g = nx.DiGraph()
    g.add_nodes_from(range(n + 1))
    g.add_edges_from(zip(net.edge_src.tolist(), net.edge_dst.tolist(), strict=True))
    depth = dict.fromkeys(range(n + 1), 0)
    for v in nx.topological_sort(g):
        for u in g.predecessors(v):
            depth[v] = max(depth[v], depth[u] + 1)
    stores = net.store_nodes.tolist()
    if stores:
        last = max(depth[s] for s in stores)
        for s in stores:
            if g.out_degree(s) == 0:
                depth[s] = last
    cust = max(depth[i] for i in range(n)) + 1
    return [depth[i] for i in range(n + 1)] + [cust] * net.n_stores


def _layout(net: Network, links: list[tuple[int, int]], cols: list[int]) -> np.ndarray:
    """``(N + 1 + S,)`` row coordinates: barycentre ordering, then mean-of-children placement."""
    m = len(cols)
    succ: list[list[int]] = [[] for _ in range(m)]
    pred: list[list[int]] = [[] for _ in range(m)]
    for a, b in links:
        succ[a].append(b)
        pred[b].append(a)
    n_cols = max(cols) + 1
    column = [[v for v in range(m) if cols[v] == c] for c in range(n_cols)]
    pos = np.zeros(m)

    def renumber() -> None:
        for members in column:
            for k, v in enumerate(members):
                pos[v] = (k + 0.5) / len(members)

    renumber()
    for _ in range(4):  # barycentre sweeps, right to left then left to right
        for c in range(n_cols - 2, -1, -1):
            column[c].sort(key=lambda v: float(np.mean(pos[succ[v]])) if succ[v] else pos[v])
            renumber()
        for c in range(1, n_cols):
            column[c].sort(key=lambda v: float(np.mean(pos[pred[v]])) if pred[v] else pos[v])
            renumber()
    y = np.zeros(m)
    for k, v in enumerate(column[-1]):
        y[v] = -float(k)
    for c in range(n_cols - 2, -1, -1):
        members = column[c]
        placed = [v for v in range(m) if cols[v] > c]
        fallback = float(np.mean(y[placed])) if placed else 0.0
        want = np.array([float(np.mean(y[succ[v]])) if succ[v] else fallback for v in members])
        order = np.lexsort((np.arange(len(members)), -want))  # top (largest y) first, ties keep sweep order
        got = np.empty(len(members))
        for r, k in enumerate(order):
            got[r] = want[k] if r == 0 else min(want[k], got[r - 1] - 1.0)
        got += float(np.mean(want[order] - got))
        for r, k in enumerate(order):
            y[members[k]] = got[r]
    return y - float(y.max())


def describe_network(
    net: Network | Scenario | str | Path,
    compact: bool | None = None,
    scenario: Scenario | None = None,
    frame: bool = False,
) -> NetworkDiagram:
    """The diagram of a network as data: every node and edge with its label, colour and position.

    Args:
        net: a compiled :class:`Network`, a :class:`Scenario`, or a shipped scenario name / YAML path.
        compact: force the compact style (names only, column summaries); default: beyond
            :data:`COMPACT_AGENTS` agents or :data:`COMPACT_ROWS` rows in a column.
        scenario: the scenario ``net`` was compiled from, for its name and node labels (optional).
        frame: place edge labels for frames (taller boxes and labels; see :mod:`invmgmt_marl.frames`).

    Returns:
        A :class:`NetworkDiagram` with ``N + 1 + S`` nodes (agents, the external source, one customers
        node per store) and ``E + S`` edges (supply edges, then store -> customers links).
    """
    net, sc = _resolve(net)
    sc = scenario if scenario is not None else sc
    n, s_cnt = net.n_nodes, net.n_stores
    agents = list(net.agents)
    ids = [*agents, EXTERNAL_ID, *(f"customers:{agents[i]}" for i in net.store_nodes)]
    kinds = [*net.roles, "external", *(["customers"] * s_cnt)]
    links = [(int(a), int(b)) for a, b in zip(net.edge_src, net.edge_dst, strict=True)]
    links += [(int(i), n + 1 + k) for k, i in enumerate(net.store_nodes)]
    cols = _columns(net)
    y = _layout(net, links, cols)
    rows_per_col = np.bincount(np.asarray(cols))
    if compact is None:
        compact = n > COMPACT_AGENTS or int(rows_per_col.max()) > COMPACT_ROWS
    labels = _labels(net, sc)

    nodes = []
    for v in range(n + 1 + s_cnt):
        kind = kinds[v]
        if v < n:
            text = agents[v]
            if not compact and labels[v] and labels[v] != agents[v]:
                text += "\n" + _short(str(labels[v]), 24)
            detail = "" if compact else _node_detail(net, v)
        elif v == n:
            text, detail = "external\nsource", ""
        else:
            k = v - n - 1
            how = "lost sales" if net.store_lost_sales[k] else "backlogged"
            # with products, one demand stream per (product, store): name the count
            dem = f"{net.n_products} products" if net.product_axis else demand_text(net.demand_specs[k])
            text = "customers"
            detail = f"{dem}\n{how}"
            if compact:
                text, detail = f"{dem} · {'lost' if net.store_lost_sales[k] else 'backlog'}", ""
        nodes.append(DiagramNode(ids[v], kind, text, detail, COLOURS[kind], float(cols[v]), float(y[v]), v))

    # parallel edges between the same pair bend apart
    pair_count: dict[tuple[int, int], int] = {}
    for a, b in links:
        pair_count[a, b] = pair_count.get((a, b), 0) + 1
    seen: dict[tuple[int, int], int] = {}
    raw = []
    for j, (a, b) in enumerate(links):
        k = seen.get((a, b), 0)
        seen[a, b] = k + 1
        rad = 0.0 if pair_count[a, b] == 1 else 0.5 * (k - (pair_count[a, b] - 1) / 2)
        label = _edge_label(net, j) if (j < net.n_edges and not compact) else ""
        raw.append((j, a, b, rad, label))
    spots = _label_spots(nodes, raw, geometry(compact, frame))
    edges = tuple(
        DiagramEdge(ids[a], ids[b], j if j < net.n_edges else -1, label, rad, spots[j])
        for j, a, b, rad, label in raw
    )
    headers = _headers(net, cols, kinds) if compact else ()
    return NetworkDiagram(network_name(net, sc), compact, tuple(nodes), edges, headers, int(max(cols)) + 1)


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def bezier_point(
    p0: tuple[float, float], p1: tuple[float, float], rad: float, t: float
) -> tuple[float, float]:
    """Point at ``t`` on matplotlib's ``arc3,rad=rad`` curve from ``p0`` to ``p1``.

    Matplotlib bends the curve in display space, so give the points in inches (or pixels)."""
    (x0, y0), (x1, y1) = p0, p1
    cx = (x0 + x1) / 2 + rad * (y1 - y0)
    cy = (y0 + y1) / 2 - rad * (x1 - x0)
    u = 1.0 - t
    return u * u * x0 + 2 * u * t * cx + t * t * x1, u * u * y0 + 2 * u * t * cy + t * t * y1


def ports(a: DiagramNode, b: DiagramNode, geo: Geometry) -> tuple[tuple[float, float], tuple[float, float]]:
    """Where an edge from ``a`` to ``b`` leaves and enters, in inches: the boxes' right and left sides."""
    wa, wb = geo.box(a.kind)[0], geo.box(b.kind)[0]
    sx, sy = geo.col_in, geo.row_in
    return ((a.x + wa / 2) * sx, a.y * sy), ((b.x - wb / 2) * sx, b.y * sy)


def _text_size(text: str, pt: float) -> tuple[float, float]:
    """Approximate (width, height) in inches of a text in DejaVu Sans at ``pt`` points, line spacing 1."""
    lines = text.split("\n")
    return (max(len(x) for x in lines) * 0.62 * pt + 4) / 72, (len(lines) * 1.02 * pt + 4) / 72


def _label_spots(
    nodes: list[DiagramNode], raw: list[tuple[int, int, int, float, str]], geo: Geometry
) -> dict[int, float]:
    """Greedy label placement along each edge: the first spot whose label box (in inches) overlaps
    neither a node box, a node's annotation, nor a label already placed; else the least overlap."""
    sx, sy = geo.col_in, geo.row_in
    rects: list[tuple[float, float, float, float]] = []  # x0, y0, x1, y1 in inches
    for nd in nodes:
        w, h = geo.box(nd.kind)
        rects.append(((nd.x - w / 2) * sx, (nd.y - h / 2) * sy, (nd.x + w / 2) * sx, (nd.y + h / 2) * sy))
        if nd.detail:
            dw, dh = _text_size(nd.detail, geo.text_pt)
            top = (nd.y - h / 2) * sy
            rects.append((nd.x * sx - dw / 2, top - dh - 0.03, nd.x * sx + dw / 2, top))
    out: dict[int, float] = {}
    for j, a, b, rad, label in raw:
        p0, p1 = ports(nodes[a], nodes[b], geo)
        if not label:
            out[j] = 0.5
            continue
        lw, lh = _text_size(label + ("\n0" if geo.gauge else ""), geo.text_pt)
        best, best_cost, best_rect = 0.5, math.inf, (0.0, 0.0, 0.0, 0.0)
        for t in (0.5, 0.3, 0.7, 0.4, 0.6, 0.22, 0.78):
            x, y = bezier_point(p0, p1, rad, t)
            r = (x - lw / 2, y - lh / 2, x + lw / 2, y + lh / 2)
            cost = sum(_overlap(r, q) for q in rects)
            if cost < best_cost - 1e-9:
                best, best_cost, best_rect = t, cost, r
            if cost == 0.0:
                break
        out[j] = best
        rects.append(best_rect)
    return out


def _overlap(r: tuple[float, float, float, float], q: tuple[float, float, float, float]) -> float:
    w = min(r[2], q[2]) - max(r[0], q[0])
    h = min(r[3], q[3]) - max(r[1], q[1])
    return w * h if w > 0 and h > 0 else 0.0


def _headers(net: Network, cols: list[int], kinds: list[str]) -> tuple[tuple[float, str], ...]:
    """Column summaries for compact diagrams: counts and cost ranges per node column."""
    n = net.n_nodes
    out = []
    for c in sorted(set(cols[:n])):
        members = [i for i in range(n) if cols[i] == c]
        roles = sorted({kinds[i] for i in members}, key=KINDS.index)
        head = " + ".join(f"{sum(kinds[i] == r for i in members)} {r}s" for r in roles)
        lines = [head, f"h {_range(net.holding_cost[..., members])}"]
        st = [k for k, i in enumerate(net.store_nodes) if cols[i] == c]
        lost = [k for k in st if net.store_lost_sales[k]]
        if lost:
            lines.append(f"lost {_range(net.lost_sales_cost[..., net.store_nodes[lost]])} ({len(lost)})")
        back = [
            i
            for i in members
            if i not in set(net.store_nodes[lost].tolist()) and np.any(net.backlog_cost[..., i] > 0)
        ]
        if back:
            lines.append(f"b {_range(net.backlog_cost[..., back])} ({len(back)})")
        inbound = [j for j in range(net.n_edges) if cols[int(net.edge_dst[j])] == c]
        if inbound:
            e_line = f"in: {len(inbound)} edges, L {_range(net.lead_time[..., inbound])}"
            if np.any(net.unit_cost[..., inbound] > 0):
                e_line += f", c {_range(net.unit_cost[..., inbound])}"
            lines.append(e_line)
            cap = net.out_capacity[inbound]
            if np.isfinite(cap).any():
                lines.append(f"cap {_range(cap[np.isfinite(cap)])} ({int(np.isfinite(cap).sum())})")
            if np.any(net.fixed_cost[inbound] > 0):
                lines.append(f"K {_range(net.fixed_cost[inbound])}")
        out.append((float(c), "\n".join(lines)))
    return tuple(out)


# --------------------------------------------------------------------------------------------------
# drawing
def require_matplotlib() -> Any:
    """Import matplotlib, or raise ImportError naming the extra to install."""
    try:
        import matplotlib
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(_PLOTS_HINT) from exc
    return matplotlib


@dataclass(frozen=True)
class Geometry:
    """Sizes of a drawn diagram: inches per column and row; box sizes in data units (columns, rows)."""

    col_in: float
    row_in: float
    box_w: float
    box_h: float
    small_w: float  # external and customers boxes
    name_pt: float
    text_pt: float
    header_rows: float  # space above the top row for column headers (data units)
    legend_in: float
    gauge: bool  # frames: room for a state gauge in each box

    def box(self, kind: str) -> tuple[float, float]:
        return (self.small_w if kind in ("external", "customers") else self.box_w), self.box_h


def geometry(compact: bool, frame: bool = False) -> Geometry:
    """Drawing sizes of a full or compact diagram (``frame=True`` leaves room for state gauges)."""
    if compact:
        return Geometry(2.1, 0.27, 0.72, 0.74, 0.8, 6.0, 5.5, 3.4, 0.5, frame)
    if frame:
        return Geometry(2.5, 1.2, 0.5, 0.56, 0.44, 8.0, 6.5, 0.0, 0.5, frame)
    return Geometry(2.2, 1.0, 0.56, 0.42, 0.5, 8.0, 6.5, 0.0, 0.5, frame)


def _limits(diagram: NetworkDiagram, geo: Geometry) -> tuple[float, float, float, float]:
    """Axes limits (data units): every box, annotation and header inside."""
    ys = [n.y for n in diagram.nodes]
    below = 0.75 if not diagram.compact else 0.7
    above = 0.45 if not diagram.compact else 0.6
    return -0.5, diagram.columns - 0.5, min(ys) - below, max(ys) + above + geo.header_rows


def figure_size(diagram: NetworkDiagram, geo: Geometry) -> tuple[float, float]:
    """Figure size in inches of a diagram drawn at its natural scale (title and legend bands included)."""
    x0, x1, y0, y1 = _limits(diagram, geo)
    return (x1 - x0) * geo.col_in, (y1 - y0) * geo.row_in + geo.legend_in + 0.3


def new_figure(diagram: NetworkDiagram, geo: Geometry, dpi: float = 100) -> tuple[Figure, Axes]:
    """A pyplot-free figure of the diagram's natural size and the axes the diagram fills."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    w, h = figure_size(diagram, geo)
    fig = Figure(figsize=(w, h), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.0, geo.legend_in / h, 1.0, 1.0 - (geo.legend_in + 0.3) / h))
    return fig, ax


@dataclass
class Drawn:
    """Where a diagram's parts landed (data units), for frames drawn on top of it."""

    gauges: dict[str, tuple[float, float, float, float]]  # node id -> x0, y0, width, height
    labels: dict[int, tuple[float, float]]  # edge index -> label position
    beads: dict[int, tuple[float, float]]  # edge index -> in-transit marker position


def _pts(geo: Geometry, pt: float) -> float:
    """``pt`` points in row units."""
    return pt / 72 / geo.row_in


def draw_static(ax: Axes, diagram: NetworkDiagram, geo: Geometry) -> Drawn:
    """Draw boxes, edges, labels and headers of a diagram on ``ax``.

    With ``geo.gauge`` (frames) the boxes keep an empty gauge strip and edge labels are left to the
    frame, which draws them with the units in transit.
    """
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    x0, x1, y0, y1 = _limits(diagram, geo)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_axis_off()
    compact = diagram.compact
    gauges: dict[str, tuple[float, float, float, float]] = {}
    for nd in diagram.nodes:
        w, h = geo.box(nd.kind)
        ax.add_patch(
            FancyBboxPatch(
                (nd.x - w / 2, nd.y - h / 2),
                w,
                h,
                boxstyle="round,pad=0.0,rounding_size=0.05",
                mutation_aspect=geo.col_in / geo.row_in,
                facecolor=nd.colour,
                edgecolor=DARK[nd.kind],
                linewidth=0.8,
                zorder=3,
            )
        )
        name, _, rest = nd.label.partition("\n")
        agent = nd.kind in ("store", "warehouse", "supplier")
        weight = "bold" if agent and not compact else "normal"
        size = geo.name_pt if not (compact and nd.kind == "customers") else geo.text_pt
        gauge = geo.gauge and nd.kind != "external"
        if compact:
            # one line: the name (left half when a gauge takes the right half)
            if gauge:
                ax.text(nd.x - w / 2 + 0.03, nd.y, nd.label, ha="left", va="center", fontsize=size, zorder=4)
                gauges[nd.id] = (
                    nd.x + (0.16 if nd.kind == "customers" else 0.0),
                    nd.y - h * 0.3,
                    w / 2 - 0.04 - (0.16 if nd.kind == "customers" else 0.0),
                    h * 0.6,
                )
            else:
                ax.text(
                    nd.x, nd.y, nd.label, ha="center", va="center", fontsize=size, zorder=4, linespacing=1.0
                )
        else:
            lines = [(name, size, weight, "normal")]
            if rest:
                lines.append((rest, geo.text_pt, "normal", "italic"))
            heights = [_pts(geo, p * 1.15) for _, p, _, _ in lines]
            if gauge:
                top = nd.y + h / 2 - _pts(geo, 2.5)
                gh = _pts(geo, 11.0)
                gauges[nd.id] = (nd.x - w / 2 + 0.025, nd.y - h / 2 + _pts(geo, 3.0), w - 0.05, gh)
            else:
                top = nd.y + sum(heights) / 2
            for (text, pt, wt, style), hh in zip(lines, heights, strict=True):
                ax.text(
                    nd.x,
                    top - hh / 2,
                    text,
                    ha="center",
                    va="center",
                    fontsize=pt,
                    fontweight=wt,
                    style=style,
                    zorder=4,
                )
                top -= hh
        if nd.detail:
            ax.text(
                nd.x,
                nd.y - h / 2 - _pts(geo, 2.0),
                nd.detail,
                ha="center",
                va="top",
                fontsize=geo.text_pt,
                color="#333333",
                zorder=4,
                linespacing=1.05,
            )
    by_id = {nd.id: nd for nd in diagram.nodes}
    sx, sy = geo.col_in, geo.row_in
    labels: dict[int, tuple[float, float]] = {}
    beads: dict[int, tuple[float, float]] = {}
    for e in diagram.edges:
        customer = e.edge < 0
        p0, p1 = ports(by_id[e.src], by_id[e.dst], geo)
        ax.add_patch(
            FancyArrowPatch(
                (p0[0] / sx, p0[1] / sy),
                (p1[0] / sx, p1[1] / sy),
                connectionstyle=f"arc3,rad={e.rad}",
                arrowstyle="-|>",
                mutation_scale=7 if compact else 9,
                color=DARK["customers"] if customer else EDGE_COLOUR,
                linewidth=0.5 if compact else 0.9,
                linestyle=":" if customer else "-",
                alpha=0.6 if compact else 0.9,
                zorder=2,
                shrinkA=0,
                shrinkB=0.5,
            )
        )
        if customer:
            continue
        lx, ly = bezier_point(p0, p1, e.rad, e.label_at)
        labels[e.edge] = (lx / sx, ly / sy)
        bx, by = bezier_point(p0, p1, e.rad, 0.5 if compact else e.label_at)
        beads[e.edge] = (bx / sx, by / sy)
        if e.label and not geo.gauge:
            ax.text(
                lx / sx,
                ly / sy,
                e.label,
                ha="center",
                va="center",
                fontsize=geo.text_pt,
                color="#222222",
                zorder=5,
                linespacing=1.0,
                bbox=LABEL_BOX,
            )
    for hx, text in diagram.headers:
        ax.text(
            hx,
            y1 - 0.1,
            text,
            ha="center",
            va="top",
            fontsize=geo.text_pt,
            color="#222222",
            linespacing=1.1,
            zorder=5,
        )
    return Drawn(gauges, labels, beads)


LABEL_BOX: dict[str, Any] = {
    "boxstyle": "round,pad=0.15",
    "facecolor": "white",
    "edgecolor": "#bbbbbb",
    "linewidth": 0.4,
    "alpha": 0.92,
}
KEY_TEXT = (
    "L lead time · c unit cost · cap per period · K fixed cost per order · "
    "h holding · b backlog · lost lost-sale penalty"
)


def draw_legend(fig: Figure, geo: Geometry, extra: str = "") -> None:
    """Role colours and the label key in the legend band at the bottom of ``fig``."""
    from matplotlib.patches import Patch

    handles = [Patch(facecolor=COLOURS[k], edgecolor=DARK[k], label=k) for k in KINDS]
    h = fig.get_size_inches()[1]
    fig.legend(
        handles=handles,
        ncol=5,
        fontsize=6.5,
        frameon=False,
        loc="lower left",
        bbox_to_anchor=(0.005, 0.2 / h),
        borderaxespad=0.0,
        handlelength=1.2,
        columnspacing=1.0,
    )
    text = KEY_TEXT + (" · " + extra if extra else "")
    fig.text(0.007, 0.05 / h, text, ha="left", va="bottom", fontsize=6.5, color="#333333")


def _title(diagram: NetworkDiagram) -> str:
    n_agents = sum(n.kind in ("store", "warehouse", "supplier") for n in diagram.nodes)
    n_edges = sum(e.edge >= 0 for e in diagram.edges)
    return f"{diagram.name}: {n_agents} agents, {n_edges} supply edges"


def draw_network(
    net: Network | Scenario | str | Path,
    ax: Axes | None = None,
    diagram: NetworkDiagram | None = None,
    title: str | None = None,
) -> Figure:
    """Draw the network diagram and return its figure.

    Args:
        net: a compiled :class:`Network`, a :class:`Scenario`, or a scenario name / YAML path.
        ax: axes to draw into (its figure is returned; no legend band is added); default: a new
            :class:`~matplotlib.figure.Figure` of the diagram's natural size, in which every label fits.
        diagram: a precomputed :func:`describe_network` result for ``net``.
        title: the title (default: the network's name and size).
    """
    require_matplotlib()
    if diagram is None:
        diagram = describe_network(net)
    geo = geometry(diagram.compact)
    own = ax is None
    if ax is None:
        fig, ax = new_figure(diagram, geo)
    else:
        fig = ax.get_figure()  # type: ignore[assignment]
    draw_static(ax, diagram, geo)
    text = _title(diagram) if title is None else title
    if own:
        h = fig.get_size_inches()[1]
        fig.text(0.01, 1.0 - 0.06 / h, text, ha="left", va="top", fontsize=10)
        draw_legend(fig, geo)
    else:
        ax.set_title(text, fontsize=10, loc="left")
    return fig


def save_network(
    net: Network | Scenario | str | Path,
    path: str | Path,
    dpi: int = 110,
    diagram: NetworkDiagram | None = None,
) -> Path:
    """Draw the network to ``path``: PNG or SVG, chosen by the suffix (``.png``, ``.svg``)."""
    out = Path(path)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("png", "svg"):
        raise ValueError(f"path: expected a .png or .svg file name, got {str(path)!r}")
    fig = draw_network(net, diagram=diagram)
    out.parent.mkdir(parents=True, exist_ok=True)
    meta: dict[str, Any] = {"Software": None} if fmt == "png" else {"Date": None}
    fig.savefig(out, format=fmt, dpi=dpi, metadata=meta)
    return out
