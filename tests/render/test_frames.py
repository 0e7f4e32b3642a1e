"""Frames, animations and the episode report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import invmgmt_marl
from invmgmt_marl.compile import compile_network
from invmgmt_marl.frames import (
    FrameRenderer,
    episode_report,
    frame_values,
    render_frame,
    save_animation,
    trajectory_values,
)
from invmgmt_marl.policies import make_policy
from invmgmt_marl.rollout import rollout
from invmgmt_marl.sim import COST_FIELDS, initial_state, step

pytest.importorskip("matplotlib")
Image = pytest.importorskip("PIL.Image")


def _net(name: str, periods: int = 6):  # type: ignore[no-untyped-def]
    return compile_network(invmgmt_marl.load_scenario(name, periods=periods))


@pytest.mark.parametrize("name", ["serial", "large_network"])
def test_frame_shape_dtype_and_change(name: str) -> None:
    net = _net(name)
    s0 = initial_state(net)
    f0 = render_frame(net, s0)
    assert f0.dtype == np.uint8 and f0.ndim == 3 and f0.shape[2] == 3
    assert f0.shape == FrameRenderer(net).shape
    # one period later: different state, same size, different pixels
    orders = np.minimum(net.max_order, 5.0)[None, :]
    demand = np.full((1, net.n_stores), 7.0)
    s1, led = step(net, s0, orders, demand)
    f1 = render_frame(net, s1, led)
    assert f1.shape == f0.shape
    assert (f1 != f0).any(axis=2).sum() > 50
    # the same state renders the same frame (the cached background is restored each time)
    assert np.array_equal(render_frame(net, s1, led), f1)
    # only the stock changes -> the picture changes
    s2 = s1._replace(on_hand=s1.on_hand * 0.0)
    assert not np.array_equal(render_frame(net, s2, led), f1)


def test_frame_values_from_state_and_ledger() -> None:
    """serial after reset: 10 on hand everywhere, pipelines [10, 10, 10, 10] (serial.yaml), so 40 in
    transit on each edge; after one step the values are the ledger's and the state's."""
    net = _net("serial")
    s0 = initial_state(net)
    v = frame_values(net, s0)
    assert v.period == -1 and v.demand is None
    np.testing.assert_array_equal(v.on_hand, [10, 10, 10])
    np.testing.assert_array_equal(v.in_transit, [40, 40, 40])
    s1, led = step(net, s0, np.full((1, 3), 10.0), np.array([[13.0]]))
    v1 = frame_values(net, s1, led)
    assert v1.period == 0
    np.testing.assert_array_equal(v1.on_hand, led.on_hand[0])
    np.testing.assert_array_equal(v1.backlog, led.backlog[0])
    np.testing.assert_array_equal(v1.in_transit, led.edge_in_transit[0])
    np.testing.assert_array_equal(v1.demand, [13.0])
    np.testing.assert_allclose(v1.cost, led.total_cost[0])
    with pytest.raises(ValueError, match="row"):
        frame_values(net, s1, led, row=1)


def test_trajectory_values_match_the_ledgers() -> None:
    net = _net("hmarl", periods=5)
    traj = rollout(net, make_policy("base_stock", net), episodes=2, seed=1)
    v = trajectory_values(net, traj, 3, episode=1)
    np.testing.assert_array_equal(v.on_hand, traj.node("on_hand")[3, 1])
    np.testing.assert_array_equal(v.lost, traj.node("lost")[3, 1, net.store_nodes])
    # the period's cost: the seven cost fields of the ledger, summed
    np.testing.assert_allclose(v.cost, sum(traj.node(f)[3, 1] for f in COST_FIELDS))
    with pytest.raises(ValueError, match="t"):
        trajectory_values(net, traj, 5)


def test_gif_has_one_frame_per_period(tmp_path: Path) -> None:
    net = _net("serial", periods=7)
    traj = rollout(net, make_policy("base_stock", net), episodes=1, seed=0)
    out = save_animation((net, traj), tmp_path / "serial.gif")
    with Image.open(out) as im:
        assert im.n_frames == 7
    # frames given directly
    frames = [render_frame(net, initial_state(net), t=k) for k in range(3)]
    with Image.open(save_animation(frames, tmp_path / "three.gif")) as im:
        assert im.n_frames == 3
    with pytest.raises(ValueError, match="path"):
        save_animation(frames, tmp_path / "x.avi")
    with pytest.raises(ValueError, match="frames"):
        save_animation([], tmp_path / "x.gif")


def test_episode_report_png(tmp_path: Path) -> None:
    net = _net("assembly", periods=10)
    traj = rollout(net, make_policy("base_stock", net), episodes=1, seed=0)
    out = episode_report(net, traj, tmp_path / "report.png")
    with Image.open(out) as im:
        w, h = im.size
    assert w > h > 500  # diagram and the four panels side by side
