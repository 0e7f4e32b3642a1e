"""Plots of networks with products: the data of the artists is checked against the KPI arrays (the
histogram's counts against np.histogram, the ECDF and Pareto curves against sorted arrays, the
stock lines against the ledger, the capacity line against volume x stock / capacity)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from invmgmt_marl.evaluate import evaluate
from invmgmt_marl.policies import ConstantPolicy

pytest.importorskip("matplotlib")

from invmgmt_marl.plots import (  # noqa: E402
    capacity_in_use,
    cost_pareto,
    fill_rate_distribution,
    save_plots,
    top_products_stock,
    worst_products,
)


@pytest.fixture(scope="module")
def ev() -> Any:
    return evaluate(
        ConstantPolicy(2.0), "sku50_1w", episodes=2, seed=3, periods=40, bound=False, ladder=False
    )


def test_fill_rate_histogram_and_ecdf(ev: Any) -> None:
    fr = ev.kpis["product_fill_rate"].mean(axis=0)
    fig = fill_rate_distribution(ev, bins=10)
    hist, ecdf = fig.axes
    heights = [p.get_height() for p in hist.patches]
    np.testing.assert_array_equal(heights, np.histogram(fr, bins=10, range=(0, 1))[0])
    assert sum(heights) == 50
    curve = ecdf.lines[0]
    np.testing.assert_allclose(curve.get_xdata(), np.sort(fr))
    np.testing.assert_allclose(curve.get_ydata(), np.arange(1, 51) / 50)
    weighted = ecdf.lines[1].get_xdata()[0]  # the axvline
    assert weighted == pytest.approx(ev.system_fill_rate.mean())
    assert weighted != pytest.approx(fr.mean())  # weighting matters on this population


def test_cost_pareto_curve(ev: Any) -> None:
    cost = ev.kpis["product_cost"].mean(axis=0)
    ax = cost_pareto(ev).axes[0]
    line = ax.lines[0]
    ranked = np.sort(cost)[::-1]
    np.testing.assert_allclose(line.get_ydata(), np.r_[0, np.cumsum(ranked) / cost.sum()])
    np.testing.assert_allclose(line.get_xdata(), np.r_[0, np.arange(1, 51) / 50])
    assert np.all(np.diff(line.get_ydata()) >= 0) and line.get_ydata()[-1] == pytest.approx(1.0)
    # the 20% marker is the summary's top share
    marker = ax.lines[3]
    assert marker.get_ydata()[0] == pytest.approx(ev.summary()["products"]["cost"]["top_share"]["20%"])


def test_top_products_stock_lines_are_the_ledger(ev: Any) -> None:
    picks = worst_products(ev, 4, "fill_rate")
    fr = ev.kpis["product_fill_rate"].mean(axis=0)
    assert all(fr[picks[i]] <= fr[picks[i + 1]] for i in range(3))
    assert [w["product"] for w in ev.summary(top=4)["products"]["worst_fill_rate"]] == [
        ev.products[p] for p in picks
    ]
    fig = top_products_stock(ev, k=4, episode=1)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 4
    on_hand = ev.trajectory.node("on_hand")[:, 1, :, 0]
    demand = ev.trajectory.demand[1, :, :, 0]
    for ax, p in zip(visible, picks, strict=True):
        np.testing.assert_allclose(ax.lines[0].get_ydata(), on_hand[:, p])
        np.testing.assert_allclose(ax.lines[1].get_ydata(), demand[:, p])
        assert ax.get_title().startswith(ev.products[p] + " ")
    assert worst_products(ev, 3, "cost") == list(np.argsort(-ev.kpis["product_cost"].mean(axis=0))[:3])
    with pytest.raises(ValueError, match="by: expected"):
        worst_products(ev, 3, "turns")


def test_capacity_in_use_line(ev: Any) -> None:
    net, traj = ev.network, ev.trajectory
    ax = capacity_in_use(traj, net, episode=0).axes[0]
    used = (net.volume[None, :] * traj.node("on_hand")[:, 0, :, 0]).sum(axis=1) / net.storage_capacity[0]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), used)
    assert ax.lines[0].get_label() == "store_0"
    assert list(ax.lines[1].get_ydata()) == [1.0, 1.0]


def test_save_plots_writes_product_figures(ev: Any, tmp_path: Path) -> None:
    paths = save_plots(ev, tmp_path)
    assert [p.name for p in paths] == [
        "episode.png",
        "bullwhip.png",
        "costs.png",
        "fill_rates.png",
        "cost_pareto.png",
        "top_products.png",
        "capacity.png",
    ]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in paths)
    plain = evaluate("base_stock", "serial", episodes=1, periods=10, bound=False, ladder=False)
    with pytest.raises(ValueError, match="has no products"):
        fill_rate_distribution(plain)
