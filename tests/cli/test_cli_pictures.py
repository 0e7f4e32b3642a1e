"""``show``, ``evaluate --animate / --report`` and the plots the CLI writes (no clipped bars or titles,
reference lines on learning curves)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from invmgmt_marl.cli import main

pytest.importorskip("matplotlib")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_show_writes_png_and_svg(suffix: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / f"net{suffix}"
    assert main(["show", "serial", "--out", str(out)]) == 0
    head = out.read_bytes()[:400]
    if suffix == ".png":
        assert head.startswith(PNG_MAGIC)
    else:
        assert head.lstrip().startswith(b"<?xml") and b"<svg" in head
    assert f"wrote {out}: serial, 3 agents" in " ".join(capsys.readouterr().out.split())


def test_show_refuses_other_suffixes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "serial", "--out", str(tmp_path / "net.jpg")]) == 2
    assert "expected a .png or .svg file name" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_evaluate_animate_and_report(tmp_path: Path) -> None:
    from PIL import Image

    gif, report = tmp_path / "episode.gif", tmp_path / "report.png"
    argv = ["evaluate", "--periods", "9", "--episodes", "3", "--no-bound", "--plot-episode", "1"]
    assert main([*argv, "--animate", str(gif), "--report", str(report)]) == 0
    with Image.open(gif) as im:
        assert im.n_frames == 9  # one frame per period of the episode
        frames = []
        for k in (0, 8):
            im.seek(k)
            frames.append(np.asarray(im.convert("RGB")))
    assert not np.array_equal(frames[0], frames[1])  # the state drawn changes over the episode
    assert report.read_bytes().startswith(PNG_MAGIC)
    assert main([*argv, "--plot-episode", "3"]) == 2  # there are episodes 0..2 only


def _capture_figures(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Keep every figure that plots.new_figure makes (the plot functions only return paths)."""
    import invmgmt_marl.plots as plots

    made: list[Any] = []
    real = plots.new_figure

    def keep(**kwargs: Any) -> Any:
        fig = real(**kwargs)
        made.append(fig)
        return fig

    monkeypatch.setattr(plots, "new_figure", keep)
    return made


def _inside(fig: Any, artist: Any) -> bool:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()  # lays the figure out as savefig did
    renderer = canvas.get_renderer()
    box, page = artist.get_window_extent(renderer), fig.bbox
    return box.x0 >= page.x0 - 1 and box.x1 <= page.x1 + 1 and box.y0 >= page.y0 - 1 and box.y1 <= page.y1 + 1


@pytest.mark.parametrize(("scenario", "rows"), [("hmarl", False), ("large_network", True)])
def test_cost_breakdown_nothing_clipped(
    scenario: str, rows: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from invmgmt_marl.evaluate import evaluate
    from invmgmt_marl.plots import plot_cost_breakdown

    figs = _capture_figures(monkeypatch)
    ev = evaluate("base_stock", scenario, episodes=2, bound=False, periods=12)
    plot_cost_breakdown(ev, tmp_path / "costs.png")
    ax = figs[-1].axes[0]
    tallest = sum(v.mean(axis=0) for v in ev.breakdown.values()).max()
    # before: on hmarl the supplier's stack (30,000) reached the top of the axis exactly: the zero-height
    # segments stacked on it pinned the autoscale margin, so the bar looked cut off
    limit = ax.get_xlim()[1] if rows else ax.get_ylim()[1]
    assert limit >= 1.05 * tallest
    labels = [t.get_text() for t in (ax.get_yticklabels() if rows else ax.get_xticklabels())]
    assert labels == list(ev.agents)  # large_network: 54 agents on rows, one label each
    assert _inside(figs[-1], ax.title) and scenario in ax.title.get_text()
    assert _inside(figs[-1], ax.get_legend())


def test_learning_curve_reference_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from invmgmt_marl.train import TrainResult, plot_curve

    figs = _capture_figures(monkeypatch)
    curve = [{"iteration": i, "eval_cost_per_agent_period": c} for i, c in [(1, 40.0), (2, 30.0), (3, 35.0)]]
    result = TrainResult("sb3", "serial", "shared", 0, curve=curve)
    plot_curve(result, tmp_path / "curve.png", reference=12.5)
    lines = {ln.get_label(): ln for ln in figs[-1].axes[0].get_lines()}
    ref = lines["tuned base-stock (12.50)"]
    assert np.allclose(ref.get_ydata(), 12.5)
    plot_curve(result, tmp_path / "curve.png")
    assert [ln.get_label() for ln in figs[-1].axes[0].get_lines()] == ["evaluation cost"]


def test_base_stock_reference_is_the_tuned_policy_on_the_training_evaluation_paths() -> None:
    from invmgmt_marl.evaluate import evaluate
    from invmgmt_marl.policies import tune
    from invmgmt_marl.scenario import load_scenario
    from invmgmt_marl.train import base_stock_reference

    # independent path: tune on the same 64 paths, then score with evaluate() on the paths train() draws
    # for its curve (seed + 10_000, here seed 4 -> 10_004), read as cost per agent-period
    sc = load_scenario("serial", periods=20)
    ref = base_stock_reference(sc, eval_episodes=3, seed=4, train_episodes=8)
    from invmgmt_marl.compile import compile_network

    net = compile_network(sc)
    tuned = tune(net, "base_stock", episodes=8, seed=123)
    from invmgmt_marl.demand import sample_network_demand

    paths = sample_network_demand(net, np.random.default_rng(10_004), 3, net.periods)
    ev = evaluate(tuned, net, demand=paths, bound=False, floor=False)
    assert ref == pytest.approx(float(ev.cost_per_agent_period.mean()), rel=1e-12)


def test_ablation_curves_title_linear_axis_reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from invmgmt_marl.ablation import _plot_curves

    figs = _capture_figures(monkeypatch)
    records = {
        (c, s): {"curve": [{"eval_cost_per_agent_period": v + s} for v in (9.0, 7.0, 5.0)]}
        for c in ("team", "own")
        for s in (0, 1)
    }
    _plot_curves(
        records, tmp_path / "c.png", title="serial: reward ablation", reference=4.0, order=["own", "team"]
    )
    ax = figs[-1].axes[0]
    assert ax.get_title() == "serial: reward ablation" and ax.get_yscale() == "linear"
    labels = [ln.get_label() for ln in ax.get_lines()]
    assert labels[:2] == ["own", "team"]  # the grid's order, not alphabetical
    assert np.allclose(ax.get_lines()[0].get_ydata(), [9.5, 7.5, 5.5])  # mean over seeds 0 and 1
    assert any(lb.startswith("tuned base-stock (4.00") for lb in labels)
