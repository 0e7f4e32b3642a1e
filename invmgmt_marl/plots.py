"""PNG plots of an evaluation (matplotlib, imported only when plotting).

Every plot is drawn on its own :class:`matplotlib.figure.Figure` and saved with ``fig.savefig``:
no pyplot state and no backend switch, so plotting from a notebook leaves its backend alone.

from invmgmt_marl.plots import save_plots
paths = save_plots(evaluation, "out/")     # episode.png, bullwhip.png, costs.png
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
    paths.insert(0, plot_episode(traj, net, out / "episode.png", episode))
    paths.insert(1, plot_bullwhip(traj, net, out / "bullwhip.png", episode, evaluation.grouping))
    return paths
