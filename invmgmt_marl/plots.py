"""PNG plots of an evaluation (matplotlib, imported only when plotting).

Every plot is drawn on its own :class:`matplotlib.figure.Figure` and saved with ``fig.savefig``:
no pyplot state and no backend switch, so plotting from a notebook leaves its backend alone.

from invmgmt_marl.plots import save_plots
paths = save_plots(evaluation, "out/")     # episode.png, bullwhip.png, costs.png

Networks with products get plots that stay readable with thousands of products: distributions over
products (:func:`fill_rate_distribution`, :func:`cost_pareto`), the stock of the ``k`` worst products
(:func:`top_products_stock`) and the storage capacity in use per node (:func:`capacity_in_use`); these
return the :class:`~matplotlib.figure.Figure` (save it with ``fig.savefig``), and :func:`save_plots`
writes them too. The episode and bullwhip plots show node totals there.
"""

from __future__ import annotations

import logging
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from invmgmt_marl import metrics as M
from invmgmt_marl.sim.ledger import COST_FIELDS

if TYPE_CHECKING:  # pragma: no cover
    from invmgmt_marl.evaluate import Evaluation
    from invmgmt_marl.rollout import Trajectory
    from invmgmt_marl.sim.network import Network

__all__ = [
    "draw_episode_panels",
    "new_figure",
    "plot_episode",
    "plot_bullwhip",
    "plot_cost_breakdown",
    "save_plots",
    "short_policy",
    "fill_rate_distribution",
    "cost_pareto",
    "top_products_stock",
    "capacity_in_use",
    "worst_products",
]

logger = logging.getLogger(__name__)


def new_figure(**kwargs: Any) -> Any:
    """A :class:`matplotlib.figure.Figure` (not registered with pyplot); ImportError naming the extra."""
    try:
        from matplotlib.figure import Figure
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("plots need matplotlib: pip install 'invmgmt-marl[plots]'") from err
    return Figure(**kwargs)


def _check_episode(traj: Trajectory, episode: int) -> None:
    b = traj.demand.shape[0]
    if not 0 <= episode < b:
        raise ValueError(f"episode: expected 0..{b - 1}, got {episode}")
    if traj.nodes.shape[0] != traj.demand.shape[1]:
        raise ValueError("trajectory: plots need every period's ledger (rollout keep='all')")


_PANEL_TITLES = {
    "on_hand": "on hand (end of period)",
    "backlog": "backlog owed (end of period)",
    "ordered": "units ordered",
    "cost": "cost of the period",
}


def draw_episode_panels(
    axes: Any,
    traj: Trajectory,
    net: Network,
    episode: int = 0,
    fields: tuple[str, ...] = ("on_hand", "backlog", "ordered"),
    group: bool = False,
) -> None:
    """One panel per field on the given axes: a line per node over one episode.

    Fields are ledger node fields, or ``"cost"`` (the sum of every cost field). With ``group`` the
    lines are the sums over each role (:func:`~invmgmt_marl.metrics.echelon_levels`). The ``ordered``
    panel also shows total customer demand.
    """
    _check_episode(traj, episode)
    t = np.arange(traj.demand.shape[1])
    if group:
        series = [(f"{lab}s ({len(idx)})", idx) for lab, idx in M.echelon_levels(net, "role")]
    else:
        series = [(a, np.array([i])) for i, a in enumerate(net.agents)]
    for ax, fld in zip(axes, fields, strict=True):
        if fld == "cost":
            x = sum(traj.node(f) for f in COST_FIELDS)[:, episode]  # type: ignore[index]
        else:
            x = traj.node(fld)[:, episode]
        for label, idx in series:
            ax.plot(t, x[:, idx].sum(axis=1), label=label, lw=1.1)
        ax.set_ylabel(_PANEL_TITLES.get(fld, fld))
        ax.grid(alpha=0.3)
        if fld == "ordered":
            ax.plot(
                t, traj.demand[episode].sum(axis=1), color="black", lw=0.8, ls="--", label="customer demand"
            )
            ax.legend(loc="upper right", fontsize="small", ncol=min(4, len(series) + 1))
    if fields[0] != "ordered":
        axes[0].legend(loc="upper right", fontsize="small", ncol=min(4, len(series)))
    axes[-1].set_xlabel("period")


def plot_episode(traj: Trajectory, net: Network, path: str | Path, episode: int = 0) -> Path:
    """Inventory on hand, backlog and orders of every node over one episode (three stacked panels)."""
    _check_episode(traj, episode)
    fig = new_figure(figsize=(10, 8))
    axes = fig.subplots(3, 1, sharex=True)
    draw_episode_panels(axes, traj, net, episode, ("on_hand", "backlog", "ordered"))
    fig.suptitle(f"{net.name}: episode {episode}")
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=110)
    return out


def plot_bullwhip(
    traj: Trajectory, net: Network, path: str | Path, episode: int = 0, by: str = "role"
) -> Path:
    """Total orders of each echelon level against total customer demand over one episode, one panel
    per level, titled with the level's order CV (:func:`~invmgmt_marl.metrics.bullwhip_cv`)."""
    _check_episode(traj, episode)
    levels = M.echelon_levels(net, by)
    cv = M.bullwhip_cv(traj, net, by)[episode]
    dcv = M.demand_cv(traj)[episode]
    t = np.arange(traj.demand.shape[1])
    demand = traj.demand[episode].sum(axis=1)
    orders = traj.node("ordered")[:, episode]
    fig = new_figure(figsize=(10, 2.4 * len(levels) + 0.6))
    axes = fig.subplots(len(levels), 1, sharex=True, squeeze=False)
    for k, (label, idx) in enumerate(levels):
        ax = axes[k, 0]
        ax.plot(t, demand, color="black", lw=0.9, label=f"customer demand (CV {dcv:.2f})")
        ax.plot(t, orders[:, idx].sum(axis=1), lw=1.1, label=f"{label} orders (CV {cv[k]:.2f})")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper right", fontsize="small")
    axes[-1, 0].set_xlabel("period")
    fig.suptitle(f"{net.name}: orders per echelon against demand, episode {episode}")
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=110)
    return out


#: beyond this many agents the cost breakdown puts agents on rows (horizontal bars)
ROWS_FROM = 12


def short_policy(text: str, limit: int = 60) -> str:
    """A policy's ``repr`` for a title: as it is when short, else its name with ``(...)``."""
    if len(text) <= limit:
        return text
    name = text.split("(", 1)[0]
    return f"{name[:limit]}(...)"


def plot_cost_breakdown(evaluation: Evaluation, path: str | Path) -> Path:
    """Stacked bars per node: mean episode cost by ledger cost field (``COST_FIELDS``; fields that are 0
    everywhere are left out).

    Up to :data:`ROWS_FROM` agents the bars stand side by side; beyond, each agent is a row (horizontal
    bars, the figure grows with the agents) so that 54 agents stay readable. The value axis is set from
    the tallest stack (stacked bars pin the default margins at their tops, which clipped the tallest
    bar), the legend sits outside the bars and the title is wrapped, never cut by the figure's edge.
    """
    agents = list(evaluation.agents)
    n = len(agents)
    x = np.arange(n)
    rows = n > ROWS_FROM
    if rows:
        fig = new_figure(figsize=(9.5, 0.24 * n + 1.6), layout="constrained")
    else:
        fig = new_figure(figsize=(max(6.5, 1.1 * n + 3.5), 4.8), layout="constrained")
    ax = fig.subplots()
    total = np.zeros(n)
    for f, v in evaluation.breakdown.items():
        m = v.mean(axis=0)
        if not np.any(m):
            continue
        label = f.replace("_", " ")
        if rows:
            ax.barh(x, m, left=total, label=label, height=0.75)
        else:
            ax.bar(x, m, bottom=total, label=label)
        total += m
    top = float(total.max()) * 1.06 if np.any(total > 0) else 1.0
    value_label = f"cost per episode (mean of {evaluation.episodes})"
    if rows:
        ax.set_yticks(x, agents, fontsize="small")
        ax.set_ylim(n - 0.5, -0.5)  # the first agent on top
        ax.set_xlim(0, top)
        ax.set_xlabel(value_label)
        ax.grid(axis="x", alpha=0.3)
    else:
        ax.set_xticks(x, agents, rotation=20 if n > 4 else 0, ha="right" if n > 4 else "center")
        ax.set_ylim(0, top)
        ax.set_ylabel(value_label)
        ax.grid(axis="y", alpha=0.3)
    title = f"{evaluation.scenario}: cost breakdown, {short_policy(evaluation.policy)}"
    ax.set_title("\n".join(textwrap.wrap(title, 70)), fontsize=11)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    out = Path(path)
    fig.savefig(out, dpi=110)
    return out


def save_plots(evaluation: Evaluation, out_dir: str | Path, episode: int = 0) -> list[Path]:
    """Write ``episode.png``, ``bullwhip.png`` and ``costs.png`` into ``out_dir``; returns the paths.

    The first two need the evaluation's trajectory (``evaluate(..., keep_trajectory=True)``).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [plot_cost_breakdown(evaluation, out / "costs.png")]
    traj, net = evaluation.trajectory, evaluation.network
    if traj is None or net is None:
        logger.warning("save_plots: the evaluation kept no trajectory; only costs.png written")
        return paths
    totals = traj.totals()  # node totals with products (the same trajectory without)
    paths.insert(0, plot_episode(totals, net, out / "episode.png", episode))
    paths.insert(1, plot_bullwhip(totals, net, out / "bullwhip.png", episode, evaluation.grouping))
    if evaluation.products:
        figures = {
            "fill_rates.png": fill_rate_distribution(evaluation),
            "cost_pareto.png": cost_pareto(evaluation),
            "top_products.png": top_products_stock(evaluation, episode=episode),
            "capacity.png": capacity_in_use(traj, net, episode),
        }
        for name, fig in figures.items():
            fig.savefig(out / name, dpi=110)
            paths.append(out / name)
    return paths


# --------------------------------------------------------------------------------------------------
# networks with products: distributions and top-k, never one line per product
def _product_kpis(evaluation: Evaluation) -> None:
    if not evaluation.products:
        raise ValueError(f"evaluation: {evaluation.scenario!r} has no products")


def worst_products(evaluation: Evaluation, k: int = 6, by: str = "fill_rate") -> list[int]:
    """Indices of the ``k`` worst products: the lowest fill rates among products with demand
    (``by="fill_rate"``) or the highest costs (``by="cost"``); means over episodes, ties by index."""
    _product_kpis(evaluation)
    if by == "fill_rate":
        fr = evaluation.kpis["product_fill_rate"].mean(axis=0)
        idx = np.flatnonzero(evaluation.kpis["product_demand"].mean(axis=0) > 0)
        return [int(i) for i in idx[np.argsort(fr[idx], kind="stable")][:k]]
    if by == "cost":
        cost = evaluation.kpis["product_cost"].mean(axis=0)
        return [int(i) for i in np.argsort(-cost, kind="stable")[:k]]
    raise ValueError(f"by: expected 'fill_rate' or 'cost', got {by!r}")


def fill_rate_distribution(evaluation: Evaluation, bins: int = 20) -> Any:
    """A :class:`~matplotlib.figure.Figure`: the histogram of the products' fill rates (means over
    episodes; ``bins`` equal bins on [0, 1]) and their empirical CDF, with the demand-weighted fill
    rate as a vertical line on both."""
    _product_kpis(evaluation)
    fr = evaluation.kpis["product_fill_rate"].mean(axis=0)  # (P,)
    weighted = float(evaluation.system_fill_rate.mean())
    fig = new_figure(figsize=(10, 4), layout="constrained")
    hist, ecdf = fig.subplots(1, 2)
    hist.hist(fr, bins=bins, range=(0.0, 1.0), color="tab:blue", edgecolor="white")
    hist.set_xlabel("fill rate of a product")
    hist.set_ylabel(f"products (of {len(fr)})")
    x = np.sort(fr)
    ecdf.step(x, np.arange(1, len(x) + 1) / len(x), where="post", color="tab:blue", label="products")
    ecdf.set_xlabel("fill rate")
    ecdf.set_ylabel("share of products with a fill rate <= x")
    ecdf.set_ylim(0.0, 1.02)
    for ax in (hist, ecdf):
        ax.axvline(weighted, color="black", ls="--", lw=1.0, label=f"demand-weighted {weighted:.1%}")
        ax.set_xlim(0.0, 1.0)
        ax.grid(alpha=0.3)
    ecdf.legend(loc="upper left", fontsize="small")
    title = f"{evaluation.scenario}: fill rate over {len(fr)} products, {short_policy(evaluation.policy)}"
    fig.suptitle("\n".join(textwrap.wrap(title, 90)), fontsize=11)
    return fig


def cost_pareto(evaluation: Evaluation) -> Any:
    """A :class:`~matplotlib.figure.Figure`: the cost Pareto curve, the share of the total cost (means
    over episodes) held by the costliest ``x`` share of products, products ranked by cost; the points
    at 10% and 20% of the products are marked."""
    _product_kpis(evaluation)
    cost = np.sort(evaluation.kpis["product_cost"].mean(axis=0))[::-1]
    p = len(cost)
    total = float(cost.sum())
    share = np.cumsum(cost) / total if total > 0 else np.zeros(p)
    x = np.arange(1, p + 1) / p
    fig = new_figure(figsize=(6.5, 4.5), layout="constrained")
    ax = fig.subplots()
    ax.plot(np.r_[0.0, x], np.r_[0.0, share], color="tab:red", lw=1.4, label="costliest products first")
    ax.plot([0, 1], [0, 1], color="grey", ls=":", lw=0.8, label="equal cost per product")
    for frac in (0.1, 0.2):
        n = max(1, int(np.ceil(frac * p)))
        ax.plot([n / p], [share[n - 1]], "o", color="black", ms=4)
        ax.annotate(
            f"{n / p:.0%} of products: {share[n - 1]:.0%} of cost",
            (n / p, share[n - 1]),
            textcoords="offset points",
            xytext=(8, -12),
            fontsize="small",
        )
    ax.set_xlabel(f"share of products (of {p}), costliest first")
    ax.set_ylabel("share of the total cost")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    ax.set_title("\n".join(textwrap.wrap(f"{evaluation.scenario}: cost Pareto curve", 70)), fontsize=11)
    return fig


def top_products_stock(
    evaluation: Evaluation, k: int = 6, by: str = "fill_rate", node: int | None = None, episode: int = 0
) -> Any:
    """A :class:`~matplotlib.figure.Figure` with one small panel per product for the ``k`` worst
    products (:func:`worst_products`): stock on hand at ``node`` (default: the first store) over one
    episode, and the product's customer demand there (dashed; summed over stores)."""
    _product_kpis(evaluation)
    traj, net = evaluation.trajectory, evaluation.network
    if traj is None or net is None:
        raise ValueError("evaluation: keeps no trajectory (evaluate(..., keep_trajectory=True))")
    _check_episode(traj, episode)
    j = int(net.store_nodes[0]) if node is None else node
    if not 0 <= j < net.n_nodes:
        raise ValueError(f"node: expected 0..{net.n_nodes - 1}, got {node}")
    picks = worst_products(evaluation, k, by)
    cols = min(3, max(1, len(picks)))
    rows = -(-len(picks) // cols) or 1
    fig = new_figure(figsize=(3.6 * cols, 2.5 * rows + 0.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, sharex=True, squeeze=False)).reshape(-1)
    t = np.arange(traj.demand.shape[1])
    on_hand = traj.node("on_hand")[:, episode, :, j]  # (T, P)
    demand = traj.demand[episode].sum(axis=-1)  # (T, P)
    fr = evaluation.kpis["product_fill_rate"].mean(axis=0)
    for ax, p in zip(axes, picks, strict=False):
        ax.plot(t, on_hand[:, p], color="tab:blue", lw=1.1, label="on hand")
        ax.plot(t, demand[:, p], color="black", lw=0.8, ls="--", label="demand")
        ax.set_title(f"{evaluation.products[p]} (fill rate {fr[p]:.0%})", fontsize="small")
        ax.grid(alpha=0.3)
    for ax in axes[len(picks) :]:
        ax.set_visible(False)
    for ax in axes[max(0, len(picks) - cols) : len(picks)]:  # the bottom panel of each column
        ax.set_xlabel("period")
    axes[0].legend(loc="upper right", fontsize="x-small")
    what = "lowest fill rates" if by == "fill_rate" else "highest costs"
    fig.suptitle(
        f"{evaluation.scenario}: stock at {net.agents[j]} of the {len(picks)} products with the {what}",
        fontsize=11,
    )
    return fig


def capacity_in_use(traj: Trajectory, net: Network, episode: int = 0) -> Any:
    """A :class:`~matplotlib.figure.Figure`: one line per node with a storage capacity, the share of
    it in use at the end of each period (``sum_p volume_p on_hand_p / capacity``; a share above 1 is
    stock kept beyond the capacity), and a line at 1. Without any capacity: the volume in stock of
    every node."""
    if not traj.product_axis:
        raise ValueError(f"trajectory: {net.name!r} has no products")
    _check_episode(traj, episode)
    t = np.arange(traj.demand.shape[1])
    volume = np.einsum("p,tpn->tn", net.volume, traj.node("on_hand")[:, episode])  # (T, N)
    capped = np.flatnonzero(np.isfinite(net.storage_capacity))
    fig = new_figure(figsize=(9, 4), layout="constrained")
    ax = fig.subplots()
    if len(capped):
        for j in capped:
            ax.plot(t, volume[:, j] / net.storage_capacity[j], lw=1.2, label=net.agents[j])
        ax.axhline(1.0, color="black", ls="--", lw=0.9, label="capacity")
        ax.set_ylabel("share of the storage capacity in use")
        ax.set_ylim(bottom=0.0)
    else:
        for i in range(net.n_nodes):
            ax.plot(t, volume[:, i], lw=1.2, label=net.agents[i])
        ax.set_ylabel("volume in stock (no capacity)")
    ax.set_xlabel("period")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", fontsize="small")
    ax.set_title(f"{net.name}: storage in use, episode {episode}", fontsize=11)
    return fig
