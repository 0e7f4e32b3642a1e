"""PNG plots of an evaluation (matplotlib, imported only when plotting).

Every plot is drawn on its own :class:`matplotlib.figure.Figure` and saved with ``fig.savefig``:
no pyplot state and no backend switch, so plotting from a notebook leaves its backend alone.

from invmgmt_marl.plots import save_plots
paths = save_plots(evaluation, "out/")     # episode.png, bullwhip.png, costs.png
"""

from __future__ import annotations

import logging
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


def plot_cost_breakdown(evaluation: Evaluation, path: str | Path) -> Path:
    """Stacked bars per node: mean episode cost by ledger cost field (``COST_FIELDS``; fields that are 0
    everywhere are left out)."""
    agents = list(evaluation.agents)
    x = np.arange(len(agents))
    fig = new_figure(figsize=(max(6, 1.3 * len(agents) + 2), 4.5))
    ax = fig.subplots()
    bottom = np.zeros(len(agents))
    for f, v in evaluation.breakdown.items():
        m = v.mean(axis=0)
        if not np.any(m):
            continue
        ax.bar(x, m, bottom=bottom, label=f.replace("_", " "))
        bottom += m
    ax.set_xticks(x, agents, rotation=20)
    ax.set_ylabel(f"cost per episode (mean of {evaluation.episodes})")
    ax.set_title(f"{evaluation.scenario}: cost breakdown, {evaluation.policy}"[:110])
    ax.legend(fontsize="small")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
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
