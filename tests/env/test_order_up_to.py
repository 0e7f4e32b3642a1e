"""``action_type="order_up_to"`` (and ``order_up_to_echelon``): targets held constant are base-stock."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium import spaces

import invmgmt_marl
from invmgmt_marl import InvalidActionError
from invmgmt_marl.compile import compile_network
from invmgmt_marl.interface import AgentInterface, target_max
from invmgmt_marl.policies.base import (
    BaseStockPolicy,
    EchelonBaseStockPolicy,
    echelon_inventory_position,
    heuristic_base_stock_levels,
    inventory_position,
)
from invmgmt_marl.rollout import rollout
from invmgmt_marl.sim import NODE_FIELDS, Network


@pytest.mark.parametrize("scenario", ["serial", "net_2x3"])
@pytest.mark.parametrize("echelon", [False, True], ids=["installation", "echelon"])
def test_constant_targets_equal_the_base_stock_policy(scenario: str, echelon: bool) -> None:
    """The env driven by constant targets S (the same on every inbound edge of a node) reproduces
    the base-stock policy with levels S on the same demand, every ledger field of every agent, every
    period (the policy spreads its order over the edges in scenario order, so does the codec)."""
    env = invmgmt_marl.parallel_env(
        scenario, action_type="order_up_to_echelon" if echelon else "order_up_to", periods=40
    )
    net = env.net
    levels = heuristic_base_stock_levels(net)
    if echelon:
        levels = levels @ _echelon(net).T  # echelon levels: sum over the node and its downstream
        policy: BaseStockPolicy | EchelonBaseStockPolicy = EchelonBaseStockPolicy(levels)
    else:
        policy = BaseStockPolicy(levels)
    edges_of = {a: net.agent_edges[i] for i, a in enumerate(net.agents)}
    assert all(levels[i] <= target_max(net, echelon)[e].min() for i, e in enumerate(net.agent_edges))
    obs, _ = env.reset(seed=11)
    traj = rollout(net, policy, demand=env._demand.copy(), seed=0)
    actions = {a: np.full(len(edges_of[a]), levels[i], np.float32) for i, a in enumerate(net.agents)}
    t = 0
    some_orders = 0.0
    while env.agents:
        _, _, _, _, infos = env.step(actions)
        for i, a in enumerate(net.agents):
            for f in NODE_FIELDS:
                assert infos[a][f] == pytest.approx(traj.node(f)[t, 0, i], abs=1e-4), (t, a, f)
            some_orders += infos[a]["ordered"]
        t += 1
    assert t == 40 and some_orders > 0


def _echelon(net: Network) -> np.ndarray:
    from invmgmt_marl.positions import echelon_matrix as _echelon_matrix

    return _echelon_matrix(net)


def test_gap_closing_by_hand_on_two_inbound_edges() -> None:
    """net_2x3: a node with two inbound edges. Targets (S1, S2): the first edge orders
    clip(S1 - IP, 0, m1), the second clip(S2 - (IP + q1), 0, m2) (hand computation below)."""
    net = compile_network(invmgmt_marl.load_scenario("net_2x3"))
    env = invmgmt_marl.parallel_env("net_2x3", action_type="order_up_to")
    env.reset(seed=2)
    state = env._sim_state
    iface = env.interface
    i = next(i for i, e in enumerate(net.agent_edges) if len(e) == 2)
    agent = net.agents[i]
    e1, e2 = net.agent_edges[i]
    ip = float(inventory_position(net, state)[0, i])
    m1, m2 = float(net.max_order[e1]), float(net.max_order[e2])
    for s1, s2 in [
        (ip + 1.5, ip + 3.0),
        (ip + 100.0, ip + 100.0),  # capped at target_max below; both orders hit max_order
        (ip - 5.0, ip + 2.0),
        (ip + 2.0, ip + 1.0),
    ]:
        hi = iface.codec.high[i]
        s1, s2 = float(np.clip(s1, 0.0, hi[0])), float(np.clip(s2, 0.0, hi[1]))
        actions = {a: np.zeros(len(net.agent_edges[j]), np.float32) for j, a in enumerate(net.agents)}
        actions[agent] = np.array([s1, s2], np.float32)
        orders, clipped = iface.decode(actions, list(net.agents), state)
        q1 = min(max(np.float32(s1) - ip, 0.0), m1)
        q2 = min(max(np.float32(s2) - ip - q1, 0.0), m2)
        assert orders[0, e1] == pytest.approx(q1, abs=1e-5) and orders[0, e2] == pytest.approx(q2, abs=1e-5)
        assert clipped[agent] == 0
        # the batched path gives the same orders
        batch = np.zeros((1, *iface.codec.batch_shape))
        for j, a in enumerate(net.agents):
            batch[0, j, : len(actions[a])] = actions[a]
        ob, _ = iface.decode_batch(batch, state)
        np.testing.assert_allclose(ob, orders, atol=1e-6)


def test_echelon_position_and_spaces() -> None:
    net = compile_network(invmgmt_marl.load_scenario("serial"))
    inst = AgentInterface(net, action_type="order_up_to")
    ech = AgentInterface(net, action_type="order_up_to_echelon")
    env = invmgmt_marl.parallel_env("serial", periods=10)
    env.reset(seed=0)
    for _ in range(4):
        env.step({a: env.action_space(a).sample() for a in env.agents})
    st = env._sim_state
    np.testing.assert_allclose(inst.codec.position(st), inventory_position(net, st))  # type: ignore[attr-defined]
    np.testing.assert_allclose(ech.codec.position(st), echelon_inventory_position(net, st))  # type: ignore[attr-defined]
    # the declared default bound: max_order * (lead_time + 2) per edge
    hi = net.max_order * (net.lead_time + 2)
    store_edge = net.agent_edges[0]
    assert inst.action_spaces["store_0"] == spaces.Box(
        0.0, hi[store_edge].astype(np.float32), dtype=np.float32
    )
    # echelon bounds sum over the echelon: the supplier's covers the whole chain
    sup = net.agents.index("supplier_0")
    assert ech.codec.high[sup][0] == pytest.approx(sum(hi[e[0]] for e in net.agent_edges))


def test_needs_the_state_and_clips_targets() -> None:
    net = compile_network(invmgmt_marl.load_scenario("serial"))
    iface = AgentInterface(net, action_type="order_up_to")
    acts = {a: np.array([10.0], np.float32) for a in net.agents}
    with pytest.raises(InvalidActionError, match="need the simulator state"):
        iface.decode(acts, list(net.agents))
    with pytest.raises(InvalidActionError, match="need the simulator state"):
        iface.decode_batch(np.zeros((1, net.n_nodes, 1)))
    env = invmgmt_marl.parallel_env("serial", action_type="order_up_to", periods=5)
    env.reset(seed=0)
    big = float(iface.codec.high[0][0]) + 50.0
    _, _, _, _, infos = env.step({**acts, "store_0": np.array([big], np.float32)})
    assert infos["store_0"]["clipped"] == 1 and infos["warehouse_0"]["clipped"] == 0
    strict = invmgmt_marl.parallel_env("serial", action_type="order_up_to", periods=5, strict=True)
    strict.reset(seed=0)
    with pytest.raises(InvalidActionError):
        strict.step({**acts, "store_0": np.array([big], np.float32)})
