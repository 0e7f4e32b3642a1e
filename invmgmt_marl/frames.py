"""Frames of an episode on the network diagram, animations and a one-page episode report.

```python
import invmgmt_marl
from invmgmt_marl.frames import render_frame, save_animation
from invmgmt_marl.policies import make_policy
from invmgmt_marl.rollout import rollout
from invmgmt_marl.sim import initial_state
from invmgmt_marl.compile import compile_network

net = compile_network(invmgmt_marl.load_scenario("serial", periods=12))
frame = render_frame(net, initial_state(net))                 # (H, W, 3) uint8, the state after reset
traj = rollout(net, make_policy("base_stock", net), episodes=1, keep="all")
save_animation((net, traj), "/tmp/serial.gif")                # one frame per period
```

A frame is the network diagram (:mod:`invmgmt_marl.diagram`) with the period's state on top:

* every node box has a *gauge*: on hand as a bar from the left in the node's role colour, units owed
  downstream (backlog) as a red bar from the right, both against the node's scale (see
  :class:`FrameRenderer`); in full-size diagrams the numbers too: ``OH`` on hand, ``BO`` backorders
  owed, ``$`` the node's cost of the period (all seven ledger cost fields);
* every edge label carries the units in transit (and, when positive, what the supplier still owes on
  the edge); compact diagrams (many agents) draw a bead on each edge instead, its area growing with the
  units in transit;
* each customers box shows the period's demand (and lost sales) as a gauge and, in full size, numbers;
* the title gives the period, total demand and total cost of the period.

The static diagram is drawn once per network and kept (a :class:`FrameRenderer` in a weak cache keyed
by the network); a frame restores that background and draws only the few changing artists on it, so a
frame costs a few milliseconds (``benchmarks/render.py`` measures it for every shipped scenario).
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from invmgmt_marl.diagram import (
    DARK,
    LABEL_BOX,
    NetworkDiagram,
    describe_network,
    draw_legend,
    draw_static,
    geometry,
    network_name,
    new_figure,
    require_matplotlib,
)
from invmgmt_marl.sim.ledger import Ledger
from invmgmt_marl.sim.network import Network
from invmgmt_marl.sim.state import SimState

if TYPE_CHECKING:  # pragma: no cover
    from invmgmt_marl.rollout import Trajectory
    from invmgmt_marl.scenario.schema import Scenario

__all__ = [
    "FrameRenderer",
    "FrameValues",
    "episode_report",
    "frame_values",
    "render_frame",
    "save_animation",
    "trajectory_values",
]

logger = logging.getLogger(__name__)

F64 = NDArray[np.float64]
U8 = NDArray[np.uint8]

BACKLOG_COLOUR = "#d64541"
GAUGE_KEY = "OH on hand · BO owed downstream · $ cost of the period · ▸ units in transit"


@dataclass(frozen=True)
class FrameValues:
    """What one frame shows: end-of-period stocks and the period's flows (one episode)."""

    period: int  # the period just simulated (ledger.t); -1 for the state after reset
    on_hand: F64  # (N,) units on hand
    backlog: F64  # (N,) units each node owes downstream (edges and customers)
    in_transit: F64  # (E,) units in transit on each edge
    edge_backlog: F64  # (E,) units owed on each edge by its supplier
    demand: F64 | None  # (S,) customer demand of the period (None after reset)
    lost: F64 | None  # (S,) customer demand lost in the period
    cost: F64 | None  # (N,) each node's cost of the period (sum of the ledger's cost fields)
    # with products every value above is a node total; space: (N,) share of each node's storage
    # capacity in use (volume in stock / capacity), NaN where a node has none; None without products
    space: F64 | None = None


def frame_values(net: Network, state: SimState, ledger: Ledger | None = None, row: int = 0) -> FrameValues:
    """The values of batch row ``row`` of a simulator state and the ledger of the period that led to it.

    Args:
        net: the compiled network.
        state: the state after the period (``(B, ...)`` arrays).
        ledger: that period's ledger; ``None`` right after reset.
        row: the batch row to show.
    """
    if not 0 <= row < state.batch_size:
        raise ValueError(f"row: expected 0..{state.batch_size - 1}, got {row}")
    if net.product_axis:
        return _product_values(net, state, ledger, row)
    backlog = state.backlog[row] @ net.out_from_src  # (O,) @ (O, N) -> (N,)
    if ledger is None:
        return FrameValues(
            -1,
            state.on_hand[row].copy(),
            backlog,
            state.pipeline[row].sum(axis=1),
            state.backlog[row, : net.n_edges].copy(),
            None,
            None,
            None,
        )
    stores = net.store_nodes
    return FrameValues(
        int(ledger.t),
        state.on_hand[row].copy(),
        backlog,
        state.pipeline[row].sum(axis=1),
        state.backlog[row, : net.n_edges].copy(),
        ledger.demand[row].copy(),
        ledger.field("lost")[row, stores].copy(),
        ledger.total_cost[row].copy(),
    )


def space_in_use(net: Network, on_hand: F64) -> F64:
    """``(..., N)`` share of each node's storage capacity in use, ``volume @ on_hand / capacity``, from
    stock ``(..., P, N)`` of a network with products; NaN where a node has no capacity."""
    used = np.einsum("p,...pn->...n", net.volume, on_hand)
    cap = net.storage_capacity
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.isfinite(cap), used / np.where(np.isfinite(cap) & (cap > 0), cap, 1.0), np.nan)


def _product_values(net: Network, state: SimState, ledger: Ledger | None, row: int) -> FrameValues:
    """:func:`frame_values` of a network with products: node totals, and the storage share in use."""
    from invmgmt_marl.sim.ledger import node_totals

    on_hand = state.on_hand[row]  # (P, N)
    backlog = (state.backlog[row] @ net.out_from_src).sum(axis=0)  # (P, O) @ (O, N) -> (N,)
    in_transit = state.pipeline[row].sum(axis=(0, 2))  # (P, E, L) -> (E,)
    edge_backlog = state.backlog[row, :, : net.n_edges].sum(axis=0)
    space = space_in_use(net, on_hand)
    if ledger is None:
        return FrameValues(
            -1, on_hand.sum(axis=0), backlog, in_transit, edge_backlog, None, None, None, space
        )
    tot = node_totals(ledger)
    return FrameValues(
        int(ledger.t),
        on_hand.sum(axis=0),
        backlog,
        in_transit,
        edge_backlog,
        tot.demand[row].copy(),
        tot.field("lost")[row, net.store_nodes].copy(),
        tot.total_cost[row].copy(),
        space,
    )


def trajectory_values(net: Network, traj: Trajectory, t: int, episode: int = 0) -> FrameValues:
    """The values of period ``t`` of one episode of a trajectory (which keeps ledgers, not states);
    node totals with products, and the storage share in use."""
    from invmgmt_marl.sim.ledger import COST_FIELDS, EDGE_FIELDS, NODE_FIELDS

    space = None
    if traj.product_axis:
        if 0 <= t < traj.nodes.shape[0] and 0 <= episode < traj.nodes.shape[1]:
            space = space_in_use(net, traj.node("on_hand")[t, episode])
        traj = traj.totals()

    periods, batch = traj.nodes.shape[:2]
    if periods != traj.demand.shape[1]:
        raise ValueError("trajectory: frames need every period's ledger (rollout keep='all')")
    if not 0 <= episode < batch:
        raise ValueError(f"episode: expected 0..{batch - 1}, got {episode}")
    if not 0 <= t < periods:
        raise ValueError(f"t: expected 0..{periods - 1}, got {t}")
    nodes = traj.nodes[t, episode]  # (K, N)
    edges = traj.edges[t, episode]  # (9, E)

    def nf(name: str) -> F64:
        return nodes[NODE_FIELDS.index(name)]

    return FrameValues(
        t,
        nf("on_hand").copy(),
        nf("backlog").copy(),
        edges[EDGE_FIELDS.index("edge_in_transit")].copy(),
        edges[EDGE_FIELDS.index("edge_backlog")].copy(),
        traj.demand[episode, t].copy(),
        nf("lost")[net.store_nodes].copy(),
        sum(nf(f) for f in COST_FIELDS),  # type: ignore[arg-type]
        space,
    )


def _demand_means(net: Network) -> F64:
    """(S,) a typical demand per store: the process mean (or base) x multiplier, else the initial demand."""
    out = np.zeros(len(net.demand_specs))  # (S,), or (P * S,) product-major with products
    initial = net.initial_demand.reshape(-1)
    for k, spec in enumerate(net.demand_specs):
        params = getattr(spec, "params", None)
        mean = getattr(params, "mean", None)
        if mean is None:
            mean = getattr(params, "base", None)
        mean = float(mean) * float(spec.multiplier) if isinstance(mean, int | float) else 0.0
        out[k] = max(mean, float(initial[k]), 0.0 if net.product_axis else 1.0)
    if net.product_axis:  # a store's total over its products
        out = np.maximum(out.reshape(net.n_products, net.n_stores).sum(axis=0), 1.0)
    return out


def default_scales(net: Network) -> tuple[F64, F64, F64]:
    """Gauge scales from the network alone: ``(N,)`` stock, ``(E,)`` in transit, ``(S,)`` demand.

    A node's stock scale is the largest of its initial stock and what it may order in one period
    (capped by its storage capacity); an edge's is half of what could be in transit at the most
    (``max_order * lead_time / 2``); a store's demand scale is twice its mean demand.
    """
    inbound = np.array([net.max_order[..., e].sum() for e in net.agent_edges])
    initial = net.initial_on_hand.sum(axis=0) if net.product_axis else net.initial_on_hand
    node = np.maximum(np.maximum(initial, inbound), 1.0)
    if not net.product_axis:  # (with products the capacity is in volume units, not units)
        node = np.where(np.isfinite(net.storage_capacity), np.minimum(node, net.storage_capacity), node)
    edge = net.max_order * net.lead_time / 2.0
    edge = np.maximum(edge.sum(axis=0) if net.product_axis else edge, 1.0)
    return node, edge, 2.0 * _demand_means(net)


def _fmt(x: float) -> str:
    return f"{x:.0f}" if abs(x) >= 9.95 or x == round(x) else f"{x:.1f}"


class _Glyphs:
    """Text stamped from cached glyph bitmaps: about a hundred times cheaper than drawing a matplotlib
    Text per frame (which rasterises every glyph again). No kerning; fine for short labels and numbers."""

    def __init__(self, pt: float, dpi: float) -> None:
        from matplotlib import ft2font
        from matplotlib.font_manager import FontProperties, findfont

        self._flags = ft2font.LoadFlags.FORCE_AUTOHINT
        self.font = ft2font.FT2Font(findfont(FontProperties(family="DejaVu Sans")))
        self.font.set_size(pt, dpi)
        self.cap = 0.73 * pt * dpi / 72  # height of digits and capitals, pixels
        self._cache: dict[str, tuple[NDArray[np.float32], int, int, float]] = {}

    def glyph(self, ch: str) -> tuple[NDArray[np.float32], int, int, float]:
        """(alpha (h, w), top relative to the baseline, left bearing, advance) of one character."""
        g = self._cache.get(ch)
        if g is None:
            f = self.font
            f.set_text(ch, 0.0, flags=self._flags)
            f.draw_glyphs_to_bitmap(antialiased=True)
            img = np.asarray(f.get_image(), dtype=np.float32) / 255.0
            m = f.load_char(ord(ch), flags=self._flags)
            top, left = -round(m.horiBearingY / 64), round(m.horiBearingX / 64)
            adv = m.linearHoriAdvance / 65536
            g = self._cache[ch] = (img, top, left, adv)
        return g

    def width(self, text: str) -> float:
        return sum(self.glyph(c)[3] for c in text)

    def stamp(self, buf: U8, text: str, x: float, y: float, ha: str, colour: tuple[int, int, int]) -> None:
        """Write ``text`` into ``buf`` ``(H, W, 3)``: ``x`` left/centre (``ha``), ``y`` the middle of
        the capitals, in pixels from the top-left corner."""
        pen = x - (self.width(text) / 2 if ha == "center" else 0.0)
        base = round(y + self.cap / 2)
        col = np.asarray(colour, dtype=np.float32)
        hh, ww = buf.shape[:2]
        for ch in text:
            img, top, left, adv = self.glyph(ch)
            r0, c0 = base + top, round(pen) + left
            h, w = img.shape
            if w and h and r0 >= 0 and c0 >= 0 and r0 + h <= hh and c0 + w <= ww:
                region = buf[r0 : r0 + h, c0 : c0 + w].astype(np.float32)
                a = img[:, :, None]
                buf[r0 : r0 + h, c0 : c0 + w] = (region * (1 - a) + col * a + 0.5).astype(np.uint8)
            pen += adv


_INK = (34, 34, 34)


class FrameRenderer:
    """Draws frames of one network: the static diagram once, then only the changing parts.

    Args:
        net: the compiled network.
        scenario: its scenario, for node labels (optional, as in
            :func:`~invmgmt_marl.diagram.describe_network`).
        dpi: pixels per inch of the frames (the size in inches follows the diagram).
        scales: ``(stock (N,), in transit (E,), demand (S,))`` gauge scales; default
            :func:`default_scales`. A value beyond its scale fills the gauge.
    """

    def __init__(
        self,
        net: Network,
        scenario: Scenario | None = None,
        dpi: float = 90,
        scales: tuple[F64, F64, F64] | None = None,
    ) -> None:
        require_matplotlib()
        from matplotlib.collections import PolyCollection
        from matplotlib.patches import Rectangle

        self.net = net
        self.diagram: NetworkDiagram = describe_network(net, scenario=scenario, frame=True)
        diagram = self.diagram
        self.geo = geo = geometry(diagram.compact, frame=True)
        self.scales = default_scales(net) if scales is None else scales
        self.name = network_name(net, scenario)
        fig, ax = new_figure(diagram, geo, dpi=dpi)
        self.fig, self.ax = fig, ax
        drawn = draw_static(ax, diagram, geo)
        draw_legend(fig, geo, GAUGE_KEY)
        n, s_cnt = net.n_nodes, net.n_stores
        ids = [nd.id for nd in diagram.nodes]
        self._node_gauge = np.array([drawn.gauges[ids[i]] for i in range(n)])  # (N, 4) x0, y0, w, h
        self._cust_gauge = np.array([drawn.gauges[ids[n + 1 + k]] for k in range(s_cnt)]).reshape(-1, 4)
        for x0, y0, w, gh in np.concatenate([self._node_gauge, self._cust_gauge]):
            ax.add_patch(Rectangle((x0, y0), w, gh, facecolor="white", edgecolor="#999999", lw=0.4, zorder=5))
        self._full = not diagram.compact
        role_dark = [DARK[r] for r in net.roles]
        self._stock = PolyCollection([], facecolors=role_dark, alpha=0.55, zorder=6, animated=True)
        self._owed = PolyCollection([], facecolors=BACKLOG_COLOUR, alpha=0.7, zorder=6, animated=True)
        self._demand = PolyCollection([], facecolors=DARK["customers"], alpha=0.5, zorder=6, animated=True)
        self._lost = PolyCollection([], facecolors=BACKLOG_COLOUR, alpha=0.7, zorder=6, animated=True)
        self._dynamic: list[Any] = [self._stock, self._owed, self._demand, self._lost]
        for coll in self._dynamic:
            ax.add_collection(coll)
        edge_texts = []
        if self._full:  # edge labels with a blank last line for the units in transit
            for e in diagram.edges:
                if e.edge >= 0:
                    lx, ly = drawn.labels[e.edge]
                    edge_texts.append(
                        ax.text(
                            lx,
                            ly,
                            e.label + "\n" + "\u2007" * 8,
                            ha="center",
                            va="center",
                            fontsize=geo.text_pt,
                            color="#222222",
                            zorder=8,
                            linespacing=1.0,
                            bbox=LABEL_BOX,
                        )
                    )
        else:
            xy = np.array([drawn.beads[j] for j in range(net.n_edges)])
            self._beads = ax.scatter(
                xy[:, 0],
                xy[:, 1],
                s=np.zeros(net.n_edges),
                c="#333333",
                alpha=0.7,
                zorder=6,
                linewidths=0,
                animated=True,
            )
            self._dynamic.append(self._beads)
        canvas = fig.canvas
        canvas.draw()
        self._background = canvas.copy_from_bbox(fig.bbox)  # type: ignore[attr-defined]
        width, height = canvas.get_width_height()
        self._height = height

        def to_px(xy: F64) -> F64:
            d = ax.transData.transform(xy)
            return np.stack([d[:, 0], height - d[:, 1]], axis=1)

        gauges = np.concatenate([self._node_gauge, self._cust_gauge])
        self._gauge_px = to_px(gauges[:, :2] + gauges[:, 2:] / 2)  # (N + S, 2) centres
        renderer = canvas.get_renderer()  # type: ignore[attr-defined]
        self._edge_px = np.zeros((len(edge_texts), 2))
        for j, txt in enumerate(edge_texts):
            bb = txt.get_window_extent(renderer)
            lines = txt.get_text().count("\n") + 1
            pitch = bb.height / lines
            self._edge_px[j] = ((bb.x0 + bb.x1) / 2, height - (bb.y0 + pitch / 2))
        self._small = _Glyphs(geo.text_pt - 0.5, dpi)
        self._edge_font = _Glyphs(geo.text_pt, dpi)
        self._title_font = _Glyphs(10, dpi)
        self._title_px = (0.01 * width, 0.06 * dpi + self._title_font.cap / 2 + 2)

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(H, W, 3)`` of every frame."""
        w, h = self.fig.canvas.get_width_height()
        return h, w, 3

    def render(self, state: SimState, ledger: Ledger | None = None, t: int | None = None, row: int = 0) -> U8:
        """The frame of a state (and the ledger of the period that led to it): ``(H, W, 3)`` uint8."""
        values = frame_values(self.net, state, ledger, row)
        if t is not None:
            values = FrameValues(t, *[getattr(values, f) for f in list(FrameValues.__dataclass_fields__)[1:]])
        return self.draw(values)

    def draw(self, v: FrameValues) -> U8:
        """The frame of some :class:`FrameValues`: ``(H, W, 3)`` uint8."""
        net = self.net
        stock_scale, edge_scale, demand_scale = self.scales
        lost = v.lost if v.lost is not None else np.zeros(net.n_stores)
        g = self._node_gauge
        self._stock.set_verts(_bars(g, np.clip(v.on_hand / stock_scale, 0, 1), from_right=False))
        self._owed.set_verts(_bars(g, np.clip(v.backlog / stock_scale, 0, 1), from_right=True))
        if v.demand is not None:
            self._demand.set_verts(_bars(self._cust_gauge, np.clip(v.demand / demand_scale, 0, 1), False))
            self._lost.set_verts(_bars(self._cust_gauge, np.clip(lost / demand_scale, 0, 1), True))
        else:
            self._demand.set_verts([])
            self._lost.set_verts([])
        if not self._full:
            self._beads.set_sizes(70.0 * np.clip(v.in_transit / edge_scale, 0, 1))
        canvas = self.fig.canvas
        canvas.restore_region(self._background)  # type: ignore[attr-defined]
        for a in self._dynamic:
            self.ax.draw_artist(a)
        buf = np.asarray(canvas.buffer_rgba())[:, :, :3].copy()  # type: ignore[attr-defined]
        if self._full:
            for i in range(net.n_nodes):
                parts = [f"OH {_fmt(v.on_hand[i])}"]
                if v.backlog[i] > 0:
                    parts.append(f"BO {_fmt(v.backlog[i])}")
                if v.cost is not None:
                    parts.append(f"${_fmt(v.cost[i])}")
                if v.space is not None and np.isfinite(v.space[i]):
                    parts.append(f"space {100 * v.space[i]:.0f}%")
                x, y = self._gauge_px[i]
                self._small.stamp(buf, " · ".join(parts), x, y, "center", _INK)
            if v.demand is not None:
                for k in range(net.n_stores):
                    extra = f" · lost {_fmt(lost[k])}" if lost[k] > 0 else ""
                    x, y = self._gauge_px[net.n_nodes + k]
                    self._small.stamp(buf, f"d {_fmt(v.demand[k])}{extra}", x, y, "center", _INK)
            for j in range(net.n_edges):
                line = f"▸ {_fmt(v.in_transit[j])}"
                if v.edge_backlog[j] > 0:
                    line += f" · owed {_fmt(v.edge_backlog[j])}"
                x, y = self._edge_px[j]
                self._edge_font.stamp(buf, line, x, y, "center", _INK)
        if v.period < 0:
            head = f"{self.name}: t = 0 of {net.periods}, after reset"
        else:
            head = f"{self.name}: period {v.period} of {net.periods}"
            if v.demand is not None:
                head += f" · demand {_fmt(float(v.demand.sum()))}"
            if v.cost is not None:
                head += f" · cost {float(v.cost.sum()):.1f}"
        self._title_font.stamp(buf, head, *self._title_px, "left", (0, 0, 0))
        return buf


def _bars(gauges: F64, frac: F64, from_right: bool) -> Any:
    """``(M, 4, 2)`` rectangles filling ``frac`` of each gauge ``(x0, y0, w, h)``, from the left or right."""
    x0, y0, w, h = gauges.T
    width = w * frac
    left = x0 + w - width if from_right else x0
    xs = np.stack([left, left + width, left + width, left], axis=1)
    ys = np.stack([y0, y0, y0 + h, y0 + h], axis=1)
    return np.stack([xs, ys], axis=2)


_CACHE: weakref.WeakKeyDictionary[Network, FrameRenderer] = weakref.WeakKeyDictionary()


def renderer_for(net: Network) -> FrameRenderer:
    """The cached :class:`FrameRenderer` of a network (drawn on first use, dropped with the network)."""
    r = _CACHE.get(net)
    if r is None:
        r = _CACHE[net] = FrameRenderer(net)
    return r


def render_frame(
    net: Network, state: SimState, ledger: Ledger | None = None, t: int | None = None, row: int = 0
) -> U8:
    """One frame (``render_mode="rgb_array"``): the diagram with the state of batch row ``row``.

    Args:
        net: the compiled network (its static diagram is cached).
        state: the state after the period.
        ledger: the ledger of the period that led to ``state``; ``None`` right after reset.
        t: the period to print in the title (default: ``ledger.t``).
        row: the batch row to show.

    Returns:
        ``(H, W, 3)`` uint8 RGB; the same size for every frame of a network.
    """
    return renderer_for(net).render(state, ledger, t, row)


def _trajectory_scales(net: Network, traj: Trajectory, episode: int) -> tuple[F64, F64, F64]:
    from invmgmt_marl.sim.ledger import EDGE_FIELDS, NODE_FIELDS

    traj = traj.totals()  # node totals with products
    nodes = traj.nodes[:, episode]
    stock = np.maximum(nodes[:, NODE_FIELDS.index("on_hand")], nodes[:, NODE_FIELDS.index("backlog")]).max(
        axis=0
    )
    edge = traj.edges[:, episode, EDGE_FIELDS.index("edge_in_transit")].max(axis=0)
    demand = traj.demand[episode].max(axis=0)
    return np.maximum(stock, 1.0), np.maximum(edge, 1.0), np.maximum(demand, 1.0)


def trajectory_frames(net: Network, traj: Trajectory, episode: int = 0, dpi: float = 80) -> list[U8]:
    """One frame per period of an episode of a trajectory, gauges scaled to the episode's maxima."""
    renderer = FrameRenderer(net, dpi=dpi, scales=_trajectory_scales(net, traj, episode))
    return [renderer.draw(trajectory_values(net, traj, t, episode)) for t in range(traj.demand.shape[1])]


def save_animation(
    frames: Iterable[U8] | tuple[Network, Trajectory],
    path: str | Path,
    fps: float = 4.0,
    episode: int = 0,
) -> Path:
    """Write an animation, one frame per period: GIF (Pillow), or MP4 where ffmpeg is installed.

    Args:
        frames: ``(H, W, 3)`` uint8 frames (e.g. from :func:`render_frame`), or ``(net, trajectory)``
            to draw one frame per period of ``episode`` (the trajectory must keep every period).
        path: ``.gif`` or ``.mp4``.
        fps: frames per second.
        episode: the trajectory's episode to animate.
    """
    out = Path(path)
    fmt = out.suffix.lower()
    if fmt not in (".gif", ".mp4"):
        raise ValueError(f"path: expected a .gif or .mp4 file name, got {str(path)!r}")
    if fps <= 0:
        raise ValueError(f"fps: expected a positive number, got {fps}")
    if isinstance(frames, tuple) and len(frames) == 2 and isinstance(frames[0], Network):
        net, traj = frames
        images = trajectory_frames(net, traj, episode)
    else:
        images = [np.asarray(f) for f in frames]
    if not images:
        raise ValueError("frames: expected at least one frame, got none")
    shape = images[0].shape
    for k, im in enumerate(images):
        if im.dtype != np.uint8 or im.ndim != 3 or im.shape[2] != 3 or im.shape != shape:
            raise ValueError(f"frames[{k}]: expected a {shape} uint8 array, got {im.shape} {im.dtype}")
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == ".gif":
        _write_gif(images, out, fps)
    else:
        _write_mp4(images, out, fps)
    return out


def _write_gif(images: list[U8], out: Path, fps: float) -> None:
    require_matplotlib()  # pillow comes with matplotlib
    from PIL import Image

    pics = [Image.fromarray(im) for im in images]
    pics[0].save(
        out, save_all=True, append_images=pics[1:], duration=round(1000 / fps), loop=0, optimize=False
    )


def _write_mp4(images: list[U8], out: Path, fps: float) -> None:
    mpl = require_matplotlib()
    from matplotlib.animation import FFMpegWriter
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if not mpl.animation.writers.is_available("ffmpeg"):
        raise RuntimeError(f"path: writing {out.name} needs ffmpeg on the PATH; write a .gif instead")
    h, w = images[0].shape[:2]
    ph, pw = h + h % 2, w + w % 2  # H.264 wants even sizes
    dpi = 100
    fig = Figure(figsize=(pw / dpi, ph / dpi), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    pad = np.full((ph, pw, 3), 255, dtype=np.uint8)
    pad[:h, :w] = images[0]
    art = ax.imshow(pad, interpolation="nearest")
    writer = FFMpegWriter(fps=max(1, round(fps)))
    with writer.saving(fig, str(out), dpi):
        for im in images:
            pad[:h, :w] = im
            art.set_data(pad)
            writer.grab_frame()


def episode_report(
    net: Network, traj: Trajectory, path: str | Path, episode: int = 0, dpi: int = 100
) -> Path:
    """A one-page PNG: the network diagram beside the episode's time series.

    The series are on hand, backlog owed, units ordered and cost per period, per node (per role, summed,
    beyond eight nodes), with total customer demand on the orders panel
    (:func:`invmgmt_marl.plots.draw_episode_panels`).
    """
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from invmgmt_marl.diagram import _title, figure_size
    from invmgmt_marl.plots import _check_episode, draw_episode_panels

    _check_episode(traj, episode)
    diagram = describe_network(net)
    geo = geometry(diagram.compact)
    dw, dh = figure_size(diagram, geo)
    series_w = 7.0
    height = max(dh, 8.0)
    fig = Figure(figsize=(dw + series_w, height), dpi=dpi)
    FigureCanvasAgg(fig)
    total_w = dw + series_w
    ax_d = fig.add_axes((0.0, (height - dh) / 2 / height, dw / total_w, dh / height))
    draw_static(ax_d, diagram, geo)
    ax_d.set_title(_title(diagram), fontsize=10, loc="left")
    gs = fig.add_gridspec(4, 1, left=(dw + 0.7) / total_w, right=0.98, top=0.95, bottom=0.06, hspace=0.15)
    axes = [fig.add_subplot(gs[k, 0]) for k in range(4)]
    for a in axes[1:]:
        a.sharex(axes[0])
    draw_episode_panels(
        axes, traj, net, episode, ("on_hand", "backlog", "ordered", "cost"), group=net.n_nodes > 8
    )
    fig.suptitle(f"{network_name(net)}: episode {episode}", x=(dw + 0.7) / total_w, ha="left", fontsize=11)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi, metadata={"Software": None})
    return out
