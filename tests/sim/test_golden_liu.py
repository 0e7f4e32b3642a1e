"""Sim-level replay of the recorded Liu et al. trajectories (../shared/golden/liu, see its README).

Every period of every file is fed to ``sim.step`` with the recorded orders and demand and the
resulting ledger and state are compared with the recording field by field: on-hand, backlog (lost
sales at the net retailers), shipments per node and per downstream link, receipts, what entered each
pipeline, the pipeline contents in arrival order, new orders arriving, and each agent's raw cost.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from invmgmt_marl.compile import compile_network
from invmgmt_marl.scenario import load_scenario
from invmgmt_marl.sim import initial_state, step
from tests.helpers import NET_AGENTS, SERIAL_AGENTS, golden_orders, golden_params, load_golden, node_pipeline


def _net_for(g: dict[str, Any]) -> Any:
    net = compile_network(load_scenario("serial" if g["env"] == "serial" else "net_2x3"))
    assert list(net.agents) == (SERIAL_AGENTS if g["env"] == "serial" else NET_AGENTS)
    return net


def _edge_index(net: Any) -> dict[tuple[str, str], int]:
    names = [*net.agents, "external"]
    return {
        (names[int(s)], names[int(d)]): j
        for j, (s, d) in enumerate(zip(net.edge_src, net.edge_dst, strict=False))
    }


@pytest.mark.parametrize("path", golden_params())
def test_initial_state_matches(path: Any) -> None:
    g = load_golden(path)
    net = _net_for(g)
    st = initial_state(net, 1)
    init = g["initial_state"]
    np.testing.assert_array_equal(st.on_hand[0], init["on_hand"])
    backlog_per_node = np.asarray(init["backlog"]).reshape(len(net.agents), -1).sum(axis=1)
    np.testing.assert_array_equal(st.backlog[0] @ net.out_from_src, backlog_per_node)
    np.testing.assert_array_equal(node_pipeline(net, st)[0], init["pipeline"])


@pytest.mark.parametrize("path", golden_params())
def test_sim_replay_matches_golden(path: Any) -> None:
    g = load_golden(path)
    net = _net_for(g)
    serial = g["env"] == "serial"
    eidx = _edge_index(net)
    names = list(net.agents)
    n = len(names)
    state = initial_state(net, 1)
    total_cost = np.zeros(n)
    total_cost_x10 = np.zeros(n, dtype=np.int64)
    for p in g["periods"]:
        t = p["t"]
        orders = golden_orders(g, p)
        demand = np.array([p["demand"]], dtype=np.float64)
        assert state.t == t
        state, led = step(net, state, orders, demand)
        where = f"{path.name} t={t}"

        np.testing.assert_array_equal(led.on_hand[0], p["on_hand"], err_msg=f"on_hand {where}")
        np.testing.assert_array_equal(led.received[0], p["received"], err_msg=f"received {where}")
        np.testing.assert_array_equal(
            node_pipeline(net, state)[0], p["pipeline"], err_msg=f"pipeline {where}"
        )
        inbound = np.array([led.edge_shipped[0, net.agent_edges[i]] for i in range(n)])
        np.testing.assert_array_equal(
            inbound.reshape(n, -1),
            np.reshape(p["inbound_shipped"], (n, -1)),
            err_msg=f"inbound_shipped {where}",
        )
        cost = led.total_cost[0]
        if serial:
            np.testing.assert_array_equal(led.backlog[0], p["backlog"], err_msg=f"backlog {where}")
            np.testing.assert_array_equal(led.shipped[0], p["shipped"], err_msg=f"shipped {where}")
            np.testing.assert_array_equal(led.requested[0], p["orders_in"], err_msg=f"orders_in {where}")
            np.testing.assert_array_equal(-cost, p["reward"], err_msg=f"reward {where}")
            total_cost += cost
            continue

        # net_2x3: per-link detail. Liu's [to downstream 0, to downstream 1] of a level >= 1 node k are
        # our edges k -> (the two nodes one level down); a retailer's entry for its own stream is
        # the customer.
        shipped = np.zeros((n, 2))
        backlog = np.zeros((n, 2))
        orders_in = np.zeros((n, 2))
        for k in range(n):
            if k < 2:
                s = int(np.flatnonzero(net.store_nodes == k)[0])
                shipped[k, k] = led.sold[0, k]
                backlog[k, k] = led.lost[0, k]  # stores lose sales: Liu's retailer 'backlog' is lost
                orders_in[k, k] = led.demand[0, s]
                assert led.backlog[0, k] == 0  # nothing carried at a lost-sales store
            else:
                for d in range(2):
                    j = eidx[(names[k], names[2 * (k // 2 - 1) + d])]
                    shipped[k, d] = led.edge_shipped[0, j]
                    backlog[k, d] = led.edge_backlog[0, j]
                    orders_in[k, d] = led.edge_ordered[0, j]
        np.testing.assert_array_equal(shipped, p["shipped"], err_msg=f"shipped {where}")
        np.testing.assert_array_equal(backlog, p["backlog"], err_msg=f"backlog {where}")
        np.testing.assert_array_equal(orders_in, p["orders_in"], err_msg=f"orders_in {where}")
        np.testing.assert_array_equal(
            led.shipped[0], np.sum(p["shipped"], axis=1), err_msg=f"node shipped {where}"
        )
        np.testing.assert_array_equal(led.backlog[0] + led.lost[0], np.sum(p["backlog"], axis=1))
        cost_x10 = np.rint(10 * cost).astype(np.int64)
        np.testing.assert_allclose(
            10 * cost, cost_x10, rtol=0, atol=1e-9, err_msg=f"cost not in tenths {where}"
        )
        np.testing.assert_array_equal(cost_x10, p["cost_x10"], err_msg=f"cost_x10 {where}")
        np.testing.assert_allclose(-cost, p["reward"], rtol=0, atol=1e-9, err_msg=f"reward {where}")
        total_cost += cost
        total_cost_x10 += cost_x10

    assert state.t == len(g["periods"]) == 200
    np.testing.assert_allclose(-total_cost, g["totals"]["reward_per_agent"], rtol=0, atol=1e-6)
    if not serial:
        np.testing.assert_array_equal(total_cost_x10, g["totals"]["cost_x10_per_agent"])


@pytest.mark.parametrize("path", golden_params())
def test_batched_replay_of_all_files_at_once(path: Any) -> None:
    """The same file replayed as one row of a batch (other rows: the file shifted) gives the same costs."""
    g = load_golden(path)
    net = _net_for(g)
    periods = g["periods"]
    b = 3
    state = initial_state(net, b)
    for t, p in enumerate(periods):
        rows = [periods[(t + 7 * r) % len(periods)] for r in range(b)]
        orders = np.vstack([golden_orders(g, q) for q in rows])
        demand = np.array([q["demand"] for q in rows], dtype=np.float64)
        state, led = step(net, state, orders, demand)
        np.testing.assert_array_equal(led.on_hand[0], p["on_hand"])
        if g["env"] == "serial":
            np.testing.assert_array_equal(-led.total_cost[0], p["reward"])
        else:
            np.testing.assert_array_equal(np.rint(10 * led.total_cost[0]), p["cost_x10"])
