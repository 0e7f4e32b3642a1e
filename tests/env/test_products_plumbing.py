"""Products through the plumbing: replayed demand on reset, learned-policy rollouts in both agent
groupings (the env is the independent path: the same observations and actions must give the same
ledgers), and the diagram, frames and text rendering of product networks."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import invmgmt_marl
from invmgmt_marl.evaluate import evaluate
from invmgmt_marl.policies.agent import ObservationPolicy
from invmgmt_marl.rollout import rollout
from invmgmt_marl.scenario import validate_scenario
from tests.env.test_products_env import SMALL


def small_env(agents: str = "node", **kw: Any) -> Any:
    return invmgmt_marl.parallel_env(validate_scenario(SMALL), agents=agents, **kw)


def demand_path(periods: int = 8, seed: int = 4) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 6, (periods, 2, 1)).astype(float)  # (T, P, S)


def test_reset_replays_a_product_demand_path() -> None:
    env = small_env()
    d = demand_path(10)  # longer than the episode: the first 8 periods are used
    env.reset(seed=0, options={"demand": d})
    np.testing.assert_array_equal(env.demand, d[:8])
    d[0, 0, 0] = 99.0  # the episode never aliases the caller's array
    assert env.demand[0, 0, 0] != 99.0
    for t in range(3):
        env.step({a: np.zeros(env.action_space(a).shape, np.float32) for a in env.agents})
        np.testing.assert_array_equal(env.last_ledger.demand[0], demand_path(10)[t])
    env.reset(options={"demand": demand_path()[:, :, 0]})  # (T, P) for one store
    np.testing.assert_array_equal(env.demand, demand_path())
    with pytest.raises(ValueError, match=r"options\['demand'\]: expected shape \(T, P, S\).*got \(8, 3, 1\)"):
        env.reset(options={"demand": np.zeros((8, 3, 1))})
    with pytest.raises(ValueError, match=r"options\['demand'\].*non-negative"):
        env.reset(options={"demand": -demand_path()})


def _act_on_stock(widths: dict[str, int]) -> Any:
    """``act``: order up to 3 units of scaled stock, the same for each of an agent's entries."""

    def act(gid: str, obs: np.ndarray) -> np.ndarray:
        return np.repeat(np.maximum(0.0, 3.0 - obs[:, :1]), widths[gid], axis=1)

    return act


@pytest.mark.parametrize("agents", ["node", "node_product"])
def test_observation_policy_rolls_out_as_the_env_steps(agents: str) -> None:
    env = small_env(agents)
    widths = {a: int(env.action_space(a).shape[0]) for a in env.possible_agents}
    act = _act_on_stock(widths)
    d = demand_path()
    obs, _ = env.reset(seed=0, options={"demand": d})
    env_nodes = []
    while env.agents:
        actions = {a: act(a, np.asarray(obs[a])[None])[0].astype(np.float32) for a in env.agents}
        obs, *_ = env.step(actions)
        env_nodes.append(env.last_ledger.nodes[0])
    pol = ObservationPolicy(act, agents=agents)
    traj = rollout(env.net, pol, demand=d[None])
    assert traj.product_axis and traj.nodes.shape == (8, 1, len(env_nodes[0]), 2, 2)
    # float32 observations and actions on both paths: equal up to float32 rounding of the actions
    np.testing.assert_allclose(traj.nodes[:, 0], np.stack(env_nodes), rtol=1e-6, atol=1e-5)
    assert traj.node("ordered").sum() > 0


def test_evaluate_a_learned_policy_on_sku_agents() -> None:
    net = invmgmt_marl.parallel_env("sku50_1w", agents="node_product", max_cycles=12).net
    pol = ObservationPolicy(lambda gid, obs: np.full((obs.shape[0], 1), 2.0), agents="node_product")
    ev = evaluate(pol, net, episodes=2, seed=1, bound=False, ladder=False)
    ordered = ev.trajectory.node("ordered")  # (T, B, P, N): 2 units of every product, every period
    want = np.broadcast_to(np.minimum(2.0, net.max_order[:, 0])[:, None], ordered.shape)
    np.testing.assert_allclose(ordered, want)
    assert ev.summary()["products"]["count"] == 50
    with pytest.raises(ValueError, match="groups: unknown agents"):
        ObservationPolicy(lambda g, o: o, groups={"x": ["store_0__nope"]}, agents="node_product").interface(
            net
        )


def test_diagram_names_products_and_capacity() -> None:
    from invmgmt_marl.diagram import describe_network

    pytest.importorskip("matplotlib")
    d = describe_network("sku50_1w")
    store = d.node("store_0")
    net = invmgmt_marl.parallel_env("sku50_1w").net
    assert store.detail.splitlines()[0] == "50 products"
    assert f"space ≤{net.storage_capacity[0]:g}" in store.detail
    lo, hi = net.holding_cost[:, 0].min(), net.holding_cost[:, 0].max()
    assert f"h {lo:g}–{hi:g}" in store.detail
    edge = next(e for e in d.edges if e.edge == 0)
    assert edge.label.startswith(f"L={net.lead_time[:, 0].min()}–{net.lead_time[:, 0].max()}")
    assert d.node("customers:store_0").detail.startswith("50 products")


def test_frames_show_node_totals_and_space_in_use() -> None:
    pytest.importorskip("matplotlib")
    from invmgmt_marl.frames import frame_values, render_frame, trajectory_values

    env = small_env(render_mode="rgb_array")
    env.reset(seed=0, options={"demand": demand_path()})
    first = env.render()
    env.step({a: env.action_space(a).high.astype(np.float32) for a in env.agents})
    env.step({a: env.action_space(a).high.astype(np.float32) for a in env.agents})
    st, led, net = env.sim_state, env.last_ledger, env.net
    v = frame_values(net, st, led)
    np.testing.assert_allclose(v.on_hand, st.on_hand[0].sum(axis=0))
    # store capacity 40 in volume units, volumes 1.5 (a) and 1 (b); the supplier has none
    used = (1.5 * st.on_hand[0, 0, 0] + 1.0 * st.on_hand[0, 1, 0]) / 40.0
    assert v.space is not None and v.space[0] == pytest.approx(used) and np.isnan(v.space[1])
    np.testing.assert_allclose(v.cost, led.total_cost[0].sum(axis=0))
    np.testing.assert_allclose(v.demand, led.demand[0].sum(axis=0))
    frame = render_frame(net, st, led)
    assert frame.shape == first.shape and frame.dtype == np.uint8 and not np.array_equal(frame, first)
    traj = rollout(net, lambda n, s, r: np.broadcast_to(n.max_order, (1, 2, 2)), demand=demand_path()[None])
    tv = trajectory_values(net, traj, 1)
    np.testing.assert_allclose(tv.on_hand, st.on_hand[0].sum(axis=0))
    assert tv.space is not None and tv.space[0] == pytest.approx(used)


def test_ansi_render_of_products() -> None:
    env = small_env(render_mode="ansi")
    env.reset(seed=0, options={"demand": demand_path()})
    assert "(2 products, node totals)" in env.render()
    env.step({a: env.action_space(a).high.astype(np.float32) for a in env.agents})
    text = env.render()
    row = next(line for line in text.splitlines() if line.startswith("store_0"))
    assert float(row.split()[1]) == pytest.approx(env.sim_state.on_hand[0, :, 0].sum())


def test_products_refuse_other_views() -> None:
    """A view the product interface does not build is refused, naming the field (it used to run as
    the local view without a word)."""
    with pytest.raises(
        invmgmt_marl.ScenarioError, match="observation.view: products have the local view only"
    ):
        invmgmt_marl.parallel_env("sku50_1w", view="neighbours")


@pytest.mark.slow
@pytest.mark.parametrize(("agents", "cycles"), [("node", 6), ("node_product", 2)])
def test_largest_product_scenario_api(agents: str, cycles: int) -> None:
    """sku2000_3w stays out of list_scenarios() (UNLISTED_PRODUCT_SCENARIOS: the conformance run would
    take minutes); PettingZoo's API test on it here, in both groupings (6,000 SKU agents: 2 cycles)."""
    import warnings

    from pettingzoo.test import parallel_api_test

    from invmgmt_marl.scenario.loader import UNLISTED_PRODUCT_SCENARIOS

    assert "sku2000_3w" in UNLISTED_PRODUCT_SCENARIOS
    env = invmgmt_marl.parallel_env("sku2000_3w", agents=agents, periods=cycles)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parallel_api_test(env, num_cycles=cycles)
