"""Batch independence: row b of a batched run equals an unbatched run of row b's inputs, exactly."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from invmgmt_marl.compile import compile_network
from invmgmt_marl.demand import sample_demand
from invmgmt_marl.scenario import load_scenario, validate_scenario
from invmgmt_marl.sim import EDGE_FIELDS, NODE_FIELDS, initial_state
from tests.helpers import one_warehouse_two_stores, run_sim

B = 8
T = 30


def _mixed_scenario() -> Any:
    """Proportional warehouse, capacities, lost sales and fixed costs: every code path of step."""
    d = one_warehouse_two_stores(
        allocation="proportional", wh_stock=7.5, lost_sales=True, store_stock=2, capacity=(3.5, None)
    )
    d["edges"][2]["capacity"] = 9
    d["edges"][2]["fixed_cost"] = 2
    d["edges"][0]["lead_time"] = 3
    d["edges"][0]["initial_pipeline"] = [1, 0.5, 2]
    d["periods"] = T
    return validate_scenario(d)


SCENARIOS = {
    "serial": lambda: load_scenario("serial"),
    "net_2x3": lambda: load_scenario("net_2x3"),
    "hmarl": lambda: load_scenario("hmarl"),
    "mixed": _mixed_scenario,
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_batch_rows_equal_unbatched_runs(name: str) -> None:
    net = compile_network(SCENARIOS[name]())
    rng = np.random.default_rng(7)
    # the scenario's own process plus noise, so that every row's path differs
    demand = sample_demand(list(net.demand_specs), rng, B, T) + rng.poisson(2.0, size=(B, T, net.n_stores))
    # rows differ: different demand paths, order scales and some fractional and zero orders
    scale = net.max_order[None, None, :] * rng.uniform(0.1, 1.0, size=(B, 1, 1))
    orders = np.floor(rng.uniform(0, 1, size=(B, T, net.n_edges)) * scale)
    orders[1] += 0.25
    orders[2, ::3] = 0.0
    assert len({orders[b].tobytes() for b in range(B)}) == B
    assert len({demand[b].tobytes() for b in range(B)}) == B

    states, ledgers = run_sim(net, orders, demand)
    for b in range(B):
        s1, l1 = run_sim(net, orders[b : b + 1], demand[b : b + 1])
        for t in range(T):
            for f in (*NODE_FIELDS, *EDGE_FIELDS, "demand"):
                np.testing.assert_array_equal(
                    getattr(ledgers[t], f)[b], getattr(l1[t], f)[0], err_msg=f"{name} row {b} period {t} {f}"
                )
            np.testing.assert_array_equal(ledgers[t].external_in[b], l1[t].external_in[0])
            for f in ("on_hand", "backlog", "pipeline"):
                np.testing.assert_array_equal(getattr(states[t + 1], f)[b], getattr(s1[t + 1], f)[0])
    # the rows really did evolve differently
    assert len({states[-1].on_hand[b].tobytes() for b in range(B)}) > 1


def test_initial_state_is_tiled_and_independent() -> None:
    net = compile_network(load_scenario("net_2x3"))
    st = initial_state(net, 4)
    assert st.on_hand.shape == (4, 6)
    assert st.backlog.shape == (4, net.n_edges + net.n_stores)
    assert st.pipeline.shape == (4, net.n_edges, net.max_lead)
    assert st.t == 0
    for b in range(1, 4):
        np.testing.assert_array_equal(st.pipeline[b], st.pipeline[0])
    st.on_hand[0, 0] = 99.0  # rows are separate memory
    assert st.on_hand[1, 0] == 2.0
