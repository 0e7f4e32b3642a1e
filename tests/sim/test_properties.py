"""Property tests of the simulator on random small networks (hypothesis).

Random scenarios: serial chains, trees, two-level bipartite networks and layered DAGs with skip
edges; random node order (which permutes agent indices and the allocation order), lead times
1..5, capacities or none, lost-sales or backlogging stores, priority or proportional allocation,
random priorities, initial stock, pipelines and backlogs. Random orders and demand include 0,
huge values (1e9) and fractions. Every period is checked for conservation, non-negativity,
capacity, the allocation rules and the pipeline timing against an independent record of shipments.

Tolerances: exact for all-integer inputs when every node allocates by priority; otherwise 1e-9 of
the largest quantity in the period (a 1e9 order makes that 1). Node-local precision of the
allocation, which such a tolerance cannot see, is pinned separately in test_allocation_numerics.py.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from invmgmt_marl.compile import compile_network
from invmgmt_marl.scenario import validate_scenario
from invmgmt_marl.sim import initial_state, step
from tests.strategies import COSTS, Skeleton, agent_names, examples, quantities, small_quantities


@st.composite
def scenario_dicts(draw: Any) -> tuple[dict[str, Any], bool]:
    """A random valid scenario mapping, and whether all its quantities are integers."""
    integer = draw(st.booleans())
    kind = draw(st.sampled_from(["serial", "tree", "two_level", "dag"]))
    # abstract nodes: (role, tier); tier 0 = suppliers; edges between abstract ids
    g = Skeleton()
    roles, links, add = g.roles, g.links, g.add
    if kind == "serial":
        g.add_serial(draw)
    elif kind == "tree":
        g.add_tree(draw, max_stores=3)
    else:
        tiers = [[add("supplier") for _ in range(draw(st.integers(1, 2)))]]
        if kind == "dag":
            tiers.append([add("warehouse") for _ in range(draw(st.integers(1, 2)))])
        tiers.append([add("store") for _ in range(draw(st.integers(1, 3)))])
        for k in range(1, len(tiers)):
            for node in tiers[k]:
                ups = draw(
                    st.lists(
                        st.sampled_from(tiers[k - 1]), min_size=1, max_size=len(tiers[k - 1]), unique=True
                    )
                )
                links += [(u, node) for u in ups]
                if k >= 2 and draw(st.booleans()):  # a skip edge straight from a supplier
                    links.append((draw(st.sampled_from(tiers[0])), node))
    # shuffle the node order: agent names count roles in list order
    order, name = agent_names(draw, roles)
    small = small_quantities(integer)
    cost = COSTS
    nodes = []
    for i in order:
        nd: dict[str, Any] = {
            "role": roles[i],
            "initial_on_hand": draw(small),
            "holding_cost": draw(cost),
            "backlog_cost": draw(cost),
            "allocation": draw(st.sampled_from(["priority", "proportional"])),
        }
        if roles[i] == "store":
            lost = draw(st.booleans())
            nd.update(
                lost_sales=lost,
                lost_sales_cost=draw(cost),
                price=draw(cost),
                initial_backlog=0.0 if lost else draw(small),
                demand={"process": "constant", "value": 0},
            )
            if lost:
                nd["backlog_cost"] = 0.0  # a lost-sales store carries no backlog (the schema rejects both)
        nodes.append(nd)

    def edge(src: str, dst: str) -> dict[str, Any]:
        lead = draw(st.integers(1, 5))
        e: dict[str, Any] = {
            "from": src,
            "to": dst,
            "lead_time": lead,
            "unit_cost": draw(cost),
            "fixed_cost": draw(cost),
            "priority": draw(st.integers(0, 2)),
            "initial_pipeline": draw(st.lists(small, max_size=lead)),
            "initial_backlog": draw(small),
        }
        if draw(st.booleans()):
            e["capacity"] = (
                float(draw(st.integers(1, 30)))
                if integer
                else draw(st.one_of(st.integers(1, 30).map(float), st.floats(0.5, 40)))
            )
        return e

    edges = [edge(name[u], name[v]) for u, v in links]
    for i, r in enumerate(roles):
        if r == "supplier":
            edges += [edge("external", name[i]) for _ in range(draw(st.integers(1, 2)))]
    edges = draw(st.permutations(edges))
    d = {
        "name": f"random_{kind}",
        "periods": 50,
        "nodes": nodes,
        "edges": list(edges),
        "actions": {"max_order": 1e10},
    }
    return d, integer


@st.composite
def episodes(draw: Any) -> tuple[dict[str, Any], np.ndarray, np.ndarray, bool]:
    """(scenario mapping, orders (1, T, E), demand (1, T, S), all-integer inputs)."""
    d, integer = draw(scenario_dicts())
    n_edges = len(d["edges"])
    n_stores = sum(nd["role"] == "store" for nd in d["nodes"])
    periods = draw(st.integers(1, 8))
    q = quantities(integer)
    orders = np.array(draw(st.lists(q, min_size=periods * n_edges, max_size=periods * n_edges)))
    demand = np.array(draw(st.lists(q, min_size=periods * n_stores, max_size=periods * n_stores)))
    return d, orders.reshape(1, periods, n_edges), demand.reshape(1, periods, n_stores), integer


def _check_period(
    net: Any,
    sc: Any,
    s0: Any,
    s1: Any,
    led: Any,
    orders: np.ndarray,
    demand: np.ndarray,
    history: dict[int, np.ndarray],
    exact: bool,
) -> None:
    e_cnt, n_cnt = net.n_edges, net.n_nodes
    scale = max(
        1.0,
        float(
            np.max(
                np.abs(
                    [
                        s0.on_hand.max(),
                        s0.backlog.max(),
                        s0.pipeline.max(),
                        orders.max(initial=0),
                        demand.max(initial=0),
                    ]
                )
            )
        ),
    )
    tol = 0.0 if exact else 1e-9 * scale

    def close(a: Any, b: Any, what: str) -> None:
        if exact:
            np.testing.assert_array_equal(a, b, err_msg=what)
        else:
            np.testing.assert_allclose(a, b, rtol=0, atol=tol, err_msg=what)

    def geq(a: Any, b: Any, what: str) -> None:
        assert np.all(np.asarray(a) >= np.asarray(b) - tol), (what, a, b)

    t = s0.t
    assert s1.t == t + 1 and led.t == t
    # arrivals: what was shipped on edge e in period t - L_e, or the initial pipeline entry
    expected_arrival = np.array(
        [
            history[t - net.lead_time[j]][j]
            if t - net.lead_time[j] >= 0
            else net.initial_pipeline[j, t]
            if t < net.initial_pipeline.shape[1]
            else 0.0
            for j in range(e_cnt)
        ]
    )
    np.testing.assert_array_equal(led.edge_arrived[0], expected_arrival, err_msg="arrival timing")
    np.testing.assert_array_equal(led.received[0], expected_arrival @ net.edge_to_dst)
    history[t] = led.edge_shipped[0].copy()

    # per node: on_hand' = on_hand + received - shipped
    close(led.on_hand, s0.on_hand + led.received - led.shipped, "node stock balance")
    np.testing.assert_array_equal(s1.on_hand, led.on_hand)
    # node shipped = sum of its edge shipments + its customer sales
    close(led.shipped, led.edge_shipped @ net.edge_from_src + led.sold, "node shipped = edges + customers")
    # per outflow: backlog' + lost = backlog + requested - shipped
    close(s1.backlog[:, :e_cnt], s0.backlog[:, :e_cnt] + orders - led.edge_shipped, "edge backlog balance")
    np.testing.assert_array_equal(led.edge_backlog, s1.backlog[:, :e_cnt])
    stores = net.store_nodes
    close(
        s1.backlog[:, e_cnt:] + led.lost[:, stores],
        s0.backlog[:, e_cnt:] + demand - led.sold[:, stores],
        "customer backlog balance",
    )
    # lost-sales stores carry nothing; backlogging stores lose nothing; only stores sell or lose
    assert np.all(s1.backlog[0, e_cnt:][net.store_lost_sales] == 0)
    assert np.all(led.lost[0, stores][~net.store_lost_sales] == 0)
    others = np.setdiff1d(np.arange(n_cnt), stores)
    assert np.all(led.sold[0, others] == 0) and np.all(led.lost[0, others] == 0)
    # node aggregates of the outflows
    close(led.backlog, s1.backlog @ net.out_from_src, "node backlog")
    close(led.owed, s0.backlog @ net.out_from_src + led.requested, "owed = carried + requested")
    close(led.requested, np.concatenate([orders, demand], axis=1) @ net.out_from_src, "requested")
    close(led.ordered, orders @ net.edge_to_dst, "ordered")
    # system: sum(on_hand) + sum(pipeline) changes by external_in - sold
    before = s0.on_hand.sum() + s0.pipeline.sum()
    after = s1.on_hand.sum() + s1.pipeline.sum()
    close(after - before, led.external_in[0] - led.sold.sum(), "system units")
    close(led.external_in, led.edge_shipped[:, net.external_edges].sum(axis=1), "external_in")
    close(s1.pipeline.sum(), s0.pipeline.sum() - led.edge_arrived.sum() + led.edge_shipped.sum(), "pipeline")
    close(led.in_transit, s1.pipeline.sum(axis=2) @ net.edge_to_dst, "in transit")
    # shipped <= owed, per outflow and within capacity; never negative
    owed_edges = s0.backlog[:, :e_cnt] + orders
    geq(owed_edges, led.edge_shipped, "edge shipped <= owed")
    geq(s0.backlog[:, e_cnt:] + demand, led.sold[:, stores], "sold <= owed")
    cap = net.out_capacity[:e_cnt]
    geq(np.where(np.isfinite(cap), cap, np.inf), led.edge_shipped, "capacity")
    # the external source ships everything owed, up to capacity
    ext = net.external_edges
    close(led.edge_shipped[:, ext], np.minimum(owed_edges[:, ext], cap[ext]), "external ships in full")
    # non-negativity of stocks, backlogs, flows and money
    for arr, what in [
        (s1.on_hand, "on_hand"),
        (s1.backlog, "backlog"),
        (s1.pipeline, "pipeline"),
        (led.edge_shipped, "edge_shipped"),
        (led.sold, "sold"),
        (led.lost, "lost"),
    ]:
        geq(arr, 0.0, what)
    for f in ("holding_cost", "backlog_cost", "lost_sales_cost", "ordering_cost", "fixed_cost", "revenue"):
        geq(getattr(led, f), 0.0, f)
    assert np.all((led.service_level >= -tol) & (led.service_level <= 1 + tol))

    # allocation rules, per shipping node (edges then customers as outflows)
    shipped_out = np.concatenate([led.edge_shipped[0], led.sold[0, stores]])
    owed_out = np.concatenate([owed_edges[0], s0.backlog[0, e_cnt:] + demand[0]])
    required = np.minimum(owed_out, net.out_capacity)
    for node in range(n_cnt):
        outs = np.flatnonzero(net.out_src == node)
        if len(outs) == 0:
            continue
        short = required[outs] - shipped_out[outs]
        if led.on_hand[0, node] > tol:  # no idle stock while something shippable is owed
            np.testing.assert_allclose(short, 0, atol=tol, err_msg=f"node {node} holds stock while owing")
        if sc.nodes[node].allocation == "priority":
            # in (priority, scenario order, customers last) order: after a short outflow, nothing more ships
            prio = np.array([sc.edges[o].priority if o < e_cnt else 0 for o in outs])
            ranked = outs[np.lexsort((outs, prio))]
            first_short = next((k for k, o in enumerate(ranked) if required[o] - shipped_out[o] > tol), None)
            if first_short is not None:
                later = shipped_out[ranked[first_short + 1 :]]
                np.testing.assert_allclose(later, 0, atol=tol, err_msg=f"priority order at node {node}")
        else:
            pos = outs[required[outs] > 0]
            if len(pos):
                frac = shipped_out[pos] / required[pos]
                np.testing.assert_allclose(
                    frac, frac[0], rtol=1e-9, atol=1e-9, err_msg=f"proportional fractions at node {node}"
                )


@settings(max_examples=examples(250), deadline=None, report_multiple_bugs=False)
@given(episodes())
def test_conservation_and_nonnegativity(ep: tuple[dict[str, Any], np.ndarray, np.ndarray, bool]) -> None:
    d, orders, demand, integer = ep
    sc = validate_scenario(d)
    net = compile_network(sc)
    exact = integer and not any(nd.allocation == "proportional" for nd in sc.nodes)
    state = initial_state(net, 1)
    history: dict[int, np.ndarray] = {}
    for t in range(orders.shape[1]):
        o = orders[:, t].copy()
        d = demand[:, t].copy()
        before = (state.on_hand.copy(), state.backlog.copy(), state.pipeline.copy())
        new, led = step(net, state, o, d)
        # pure: inputs untouched
        np.testing.assert_array_equal(o, orders[:, t])
        np.testing.assert_array_equal(d, demand[:, t])
        for a, b in zip(before, (state.on_hand, state.backlog, state.pipeline), strict=False):
            np.testing.assert_array_equal(a, b)
        _check_period(net, sc, state, new, led, o, d, history, exact)
        state = new


@settings(max_examples=examples(60), deadline=None, report_multiple_bugs=False)
@given(episodes())
def test_step_is_deterministic_and_repeatable(
    ep: tuple[dict[str, Any], np.ndarray, np.ndarray, bool],
) -> None:
    """Stepping twice from the same state with the same inputs gives bit-identical results."""
    d, orders, demand, _ = ep
    net = compile_network(validate_scenario(d))
    state = initial_state(net, 1)
    for t in range(orders.shape[1]):
        a_state, a_led = step(net, state, orders[:, t], demand[:, t])
        b_state, b_led = step(net, state, orders[:, t], demand[:, t])
        for f in ("on_hand", "backlog", "pipeline"):
            np.testing.assert_array_equal(getattr(a_state, f), getattr(b_state, f))
        np.testing.assert_array_equal(a_led.total_cost, b_led.total_cost)
        state = a_state
