"""The step function's contract: shapes, purity and no aliasing between inputs and outputs."""

from __future__ import annotations

import numpy as np

from invmgmt_marl.compile import compile_network
from invmgmt_marl.scenario import load_scenario
from invmgmt_marl.sim import COST_FIELDS, EDGE_FIELDS, NODE_FIELDS, initial_state, step


def _inputs(b: int = 3) -> tuple:
    net = compile_network(load_scenario("net_2x3"))
    rng = np.random.default_rng(0)
    state = initial_state(net, b)
    for _ in range(5):  # a state with backlogs and a busy pipeline
        state, _ = step(
            net,
            state,
            rng.integers(0, 5, (b, net.n_edges)).astype(float),
            rng.integers(0, 6, (b, net.n_stores)).astype(float),
        )
    orders = rng.integers(0, 5, (b, net.n_edges)).astype(float)
    demand = rng.integers(0, 6, (b, net.n_stores)).astype(float)
    return net, state, orders, demand


def test_ledger_shapes_and_fields() -> None:
    net, state, orders, demand = _inputs()
    new, led = step(net, state, orders, demand)
    assert led.t == state.t == new.t - 1 == 5
    for f in NODE_FIELDS:
        assert getattr(led, f).shape == (3, net.n_nodes), f
    for f in EDGE_FIELDS:
        assert getattr(led, f).shape == (3, net.n_edges), f
    assert led.demand.shape == (3, net.n_stores)
    assert led.external_in.shape == (3,)
    np.testing.assert_allclose(led.total_cost, sum(getattr(led, f) for f in COST_FIELDS), rtol=1e-15)
    assert new.on_hand.shape == (3, net.n_nodes)
    assert new.backlog.shape == (3, net.n_edges + net.n_stores)
    assert new.pipeline.shape == (3, net.n_edges, net.max_lead)
    np.testing.assert_array_equal(new.last_orders, orders)
    np.testing.assert_array_equal(new.last_demand, demand)


def test_step_does_not_modify_its_inputs() -> None:
    net, state, orders, demand = _inputs()
    copies = [a.copy() for a in (state.on_hand, state.backlog, state.pipeline, orders, demand)]
    step(net, state, orders, demand)
    for a, b in zip(copies, (state.on_hand, state.backlog, state.pipeline, orders, demand), strict=False):
        np.testing.assert_array_equal(a, b)


def test_outputs_do_not_alias_inputs() -> None:
    net, state, orders, demand = _inputs()
    new, led = step(net, state, orders, demand)
    snapshot = {f: getattr(led, f).copy() for f in (*NODE_FIELDS, *EDGE_FIELDS, "demand")}
    last = (new.last_orders.copy(), new.last_demand.copy())
    orders[:] = -1.0  # the caller reuses its buffers
    demand[:] = -1.0
    for f, v in snapshot.items():
        np.testing.assert_array_equal(getattr(led, f), v, err_msg=f)
    np.testing.assert_array_equal(new.last_orders, last[0])
    np.testing.assert_array_equal(new.last_demand, last[1])
    # writing into the new state leaves the old one alone
    old = (state.on_hand.copy(), state.backlog.copy(), state.pipeline.copy())
    new.on_hand[:] = 123.0
    new.backlog[:] = 123.0
    new.pipeline[:] = 123.0
    for a, b in zip(old, (state.on_hand, state.backlog, state.pipeline), strict=False):
        np.testing.assert_array_equal(a, b)
