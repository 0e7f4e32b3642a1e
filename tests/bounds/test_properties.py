"""Property: on random small serial chains every lower bound is below simulated long-run costs."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from invmgmt_marl.bounds.bridge import serial_optimum
from invmgmt_marl.bounds.ladder import Bound, bound_ladder
from invmgmt_marl.compile import compile_network
from invmgmt_marl.policies.base import EchelonBaseStockPolicy
from invmgmt_marl.rollout import rollout
from invmgmt_marl.scenario.schema import validate_scenario
from invmgmt_marl.sim.ledger import COST_FIELDS

EPISODES, PERIODS, WARM = 60, 120, 30


@st.composite
def serial_chains(draw: st.DrawFn) -> dict[str, object]:
    """2-3 stages, Poisson demand with mean 2..10, random local holding (in any order: increasing
    upstream is relaxed by the bound), store backlog cost, sometimes internal backlog costs and
    order caps (both relaxed), lead times 1..2 (the schema's minimum lead time is 1)."""
    n = draw(st.integers(2, 3))
    mean = draw(st.floats(2.0, 10.0))
    hold = [draw(st.floats(0.1, 3.0)) for _ in range(n)]
    lead = [draw(st.integers(1, 2)) for _ in range(n)]
    internal = draw(st.booleans())
    cap = draw(st.sampled_from([None, 3.0]))  # x mean: a cap that sometimes binds
    roles = ["store"] + ["warehouse"] * (n - 2) + ["supplier"]
    names = ["store_0"] + [f"warehouse_{k}" for k in range(n - 2)] + ["supplier_0"]
    nodes: list[dict[str, object]] = []
    for j in range(n):
        node: dict[str, object] = {"role": roles[j], "holding_cost": hold[j], "initial_on_hand": mean * 2}
        if j == 0:
            node.update(backlog_cost=draw(st.floats(1.0, 20.0)), demand={"process": "poisson", "mean": mean})
        elif internal:
            node["backlog_cost"] = draw(st.floats(0.0, 2.0))
        nodes.append(node)
    edges = [
        {"from": names[j + 1] if j + 1 < n else "external", "to": names[j], "lead_time": lead[j]}
        for j in range(n)
    ]
    return {
        "name": "prop_serial",
        "periods": PERIODS,
        "nodes": nodes,
        "edges": edges,
        "actions": {"type": "box", "max_order": float(np.ceil(mean * (cap or 20.0)))},
    }


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(serial_chains(), st.integers(0, 2**31 - 1))
def test_lower_bounds_below_simulated_costs(data: dict[str, object], seed: int) -> None:
    net = compile_network(validate_scenario(data))
    bounds = [b for b in bound_ladder(net, step=1.0) if isinstance(b, Bound)]
    assert {b.name for b in bounds} == {"newsvendor", "clark_scarf"}
    opt = serial_optimum(net, step=1.0)
    rng = np.random.default_rng(seed)
    levels = [opt.echelon_levels]
    for _ in range(2):  # random echelon levels around the optimum (non-decreasing upstream)
        levels.append(
            np.maximum.accumulate(np.maximum(opt.echelon_levels + rng.integers(-6, 7, 3)[: net.n_nodes], 0))
        )
    rows = np.repeat(np.array(levels), EPISODES, axis=0)
    tr = rollout(net, EchelonBaseStockPolicy(rows, integer=True), episodes=len(rows), seed=seed)
    cost = sum(tr.node(f) for f in COST_FIELDS).sum(axis=2) / net.n_nodes  # (T, B) per agent-period
    for horizon, window in (("episode", slice(0, PERIODS)), ("long_run", slice(WARM, PERIODS))):
        per_ep = cost[window].mean(axis=0).reshape(len(levels), EPISODES)
        mean = per_ep.mean(axis=1)
        se = per_ep.std(axis=1, ddof=1) / np.sqrt(EPISODES)
        for b in bounds:
            if b.horizon == horizon:
                assert np.all(b.value <= mean + 3 * se), (b.name, horizon, b.value, mean, se)
