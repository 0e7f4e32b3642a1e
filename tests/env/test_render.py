"""ANSI rendering."""

from __future__ import annotations

import numpy as np
import pytest

import invmgmt_marl
from invmgmt_marl.sim.ledger import node_totals


def _row(text: str, agent: str) -> list[str]:
    (line,) = [ln for ln in text.splitlines() if ln.split() and ln.split()[0] == agent]
    return line.split()[1:]


def test_ansi_render_after_reset_and_steps(scenario_name: str) -> None:
    env = invmgmt_marl.parallel_env(scenario_name, render_mode="ansi", periods=10)
    env.reset(seed=0)
    text = env.render()
    assert isinstance(text, str)
    for i, a in enumerate(env.possible_agents):
        assert a in text
        # (with products the row holds the node total over products)
        assert float(_row(text, a)[0]) == pytest.approx(env.net.initial_on_hand[..., i].sum())
    rng = np.random.default_rng(0)
    for _ in range(3):
        env.step(
            {
                a: (rng.uniform(size=env.action_space(a).shape) * env.action_space(a).high).astype(np.float32)
                for a in env.agents
            }
        )
        text = env.render()
        led = env.last_ledger
        if env.net.product_axis:  # the rows are node totals over products
            led = node_totals(led)
        assert f"period {led.t}" in text
        for d in led.demand[0]:
            assert f"{d:g}" in text.splitlines()[0]
        for i, a in enumerate(env.possible_agents):
            vals = [float(v) for v in _row(text, a)]
            expected = [
                led.on_hand[0, i],
                led.backlog[0, i],
                led.in_transit[0, i],
                led.received[0, i],
                led.ordered[0, i],
                led.shipped[0, i],
                led.lost[0, i],
                led.service_level[0, i],
                led.total_cost[0, i],
            ]
            np.testing.assert_allclose(vals, expected, atol=0.0051)  # printed with 2 decimals


def test_no_render_without_mode() -> None:
    env = invmgmt_marl.parallel_env("serial")
    env.reset(seed=0)
    assert env.render() is None
