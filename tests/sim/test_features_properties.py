"""Conservation and bookkeeping of the optional simulator features on random small networks (hypothesis).

Random scenarios: serial chains, trees (supplier -> warehouses -> stores) and an assembly variant (two
suppliers feed a factory with a bill of materials; optionally a second, single-component assembly
node downstream, so assembly nodes of different in-degrees share the padded index arrays). Node order
is shuffled (agent indices, perishable / assembly index lists and the allocation order all move).
Every node and edge draws a random subset of the features: storage capacity (never below the
initial stock, sometimes equal to it), shelf life and waste cost, production capacity, goodwill at
stores, stochastic lead times, unreliable suppliers (including fill 0 and certain disruption),
transit loss, quantity-discount tiers, transit holding cost; plus the base options (capacities,
priorities, proportional allocation, lost sales, fixed costs, initial pipelines and backlogs).
Orders and demand include 0, 1e9 and fractions; supply randomness comes from ``sample_supply`` with
a drawn seed.

Every period is checked against independent re-computations: arrival timing (lead time + drawn extra),
transit loss, the proportional refusal split, assembly (per component edge), the perishable age
buckets (FIFO, re-implemented with a loop), goodwill and realised demand, every cost field, and the
node / edge / system unit identities.

Tolerance: exact where the code path is exact, otherwise 1e-9 x the largest quantity in the period
(a 1e9 order makes that 1), as in test_properties.py.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invmgmt_marl.compile import compile_network
from invmgmt_marl.rollout import units_held
from invmgmt_marl.scenario import validate_scenario
from invmgmt_marl.sim import EDGE_FIELDS, NODE_FIELDS, initial_state, step
from invmgmt_marl.sim.supply import sample_supply
from tests.strategies import COSTS, Skeleton, agent_names, examples, quantities, small_quantities


@st.composite
def feature_scenarios(draw: Any) -> dict[str, Any]:
    """A random valid scenario mapping with a random mix of every optional feature."""
    integer = draw(st.booleans())
    kind = draw(st.sampled_from(["serial", "tree", "assembly"]))
    g = Skeleton()
    roles, links, add = g.roles, g.links, g.add
    bom_of: dict[int, dict[int, float]] = {}  # assembly node -> {component source: qty}
    if kind == "serial":
        g.add_serial(draw)
    elif kind == "tree":
        g.add_tree(draw, max_stores=2)
    else:
        s0, s1 = add("supplier"), add("supplier")
        factory = add("warehouse")
        links += [(s0, factory), (s1, factory)]
        qty = st.sampled_from([0.5, 1.0, 1.5, 2.0, 3.0])
        bom_of[factory] = {s0: draw(qty), s1: draw(qty)}
        top = factory
        if draw(st.booleans()):  # a second assembly node with a single component
            w = add("warehouse")
            links.append((factory, w))
            bom_of[w] = {factory: draw(qty)}
            top = w
        for _ in range(draw(st.integers(1, 2))):
            links.append((top, add("store")))

    order, name = agent_names(draw, roles)
    small = small_quantities(integer)
    nodes = []
    for i in order:
        nd: dict[str, Any] = {
            "role": roles[i],
            "initial_on_hand": draw(small),
            "holding_cost": draw(COSTS),
            "backlog_cost": draw(COSTS),
            "allocation": draw(st.sampled_from(["priority", "proportional"])),
        }
        if draw(st.booleans()):  # never below the initial stock (the schema may reject that); sometimes equal
            cap = draw(st.one_of(st.integers(1, 40).map(float), st.floats(0.5, 40)))
            nd["storage_capacity"] = max(cap, nd["initial_on_hand"])
        if i in bom_of:
            nd["bom"] = {name[k]: q for k, q in bom_of[i].items()}
            if draw(st.booleans()):
                nd["production_capacity"] = draw(st.one_of(st.integers(1, 10).map(float), st.just(2.5)))
        elif draw(st.booleans()):
            nd["shelf_life"] = draw(st.integers(1, 4))
            nd["waste_cost"] = draw(COSTS)
        if roles[i] == "store":
            lost = draw(st.booleans())
            nd.update(
                lost_sales=lost,
                lost_sales_cost=draw(COSTS),
                price=draw(COSTS),
                initial_backlog=0.0 if lost else draw(small),
                demand={"process": "constant", "value": 0, "integer": draw(st.booleans())},
            )
            if lost:
                nd["backlog_cost"] = 0.0
            if draw(st.booleans()):
                floor = draw(st.sampled_from([0.2, 0.5, 1.0]))
                cap = draw(st.sampled_from([1.0, 1.5]))
                nd["goodwill"] = {
                    "decay": draw(st.sampled_from([0.1, 0.5, 1.0])),
                    "recovery": draw(st.sampled_from([0.0, 0.1, 0.5])),
                    "floor": floor,
                    "cap": cap,
                    "initial": draw(st.sampled_from([floor, cap, (floor + cap) / 2])),
                }
        nodes.append(nd)

    def edge(src: str, dst: str) -> dict[str, Any]:
        lead = draw(st.integers(1, 3))
        e: dict[str, Any] = {
            "from": src,
            "to": dst,
            "lead_time": lead,
            "unit_cost": draw(COSTS),
            "fixed_cost": draw(COSTS),
            "priority": draw(st.integers(0, 2)),
            "initial_pipeline": draw(st.lists(small, max_size=lead)),
            "initial_backlog": draw(small),
            "transit_holding_cost": draw(COSTS),
        }
        if draw(st.booleans()):
            e["capacity"] = draw(st.one_of(st.integers(1, 30).map(float), st.floats(0.5, 40)))
        if draw(st.booleans()):
            weights = draw(st.lists(st.integers(0, 3), min_size=1, max_size=4).filter(lambda w: sum(w) > 0))
            e["lead_time_extra"] = [w / sum(weights) for w in weights]
        if draw(st.booleans()):
            lo, hi = sorted(draw(st.lists(st.sampled_from([0.0, 0.25, 0.5, 1.0]), min_size=2, max_size=2)))
            e["reliability"] = {"p_disruption": draw(st.sampled_from([0.0, 0.5, 1.0])), "fill": [lo, hi]}
        if draw(st.booleans()):
            e["transit_loss"] = {"max_fraction": draw(st.sampled_from([0.0, 0.1, 0.5, 0.9]))}
        if draw(st.booleans()):
            qs = sorted(set(draw(st.lists(st.sampled_from([1.0, 5.0, 10.0, 10.5, 20.0]), max_size=3))))
            e["unit_cost_tiers"] = [[0.0, draw(COSTS)]] + [[q, draw(COSTS)] for q in qs]
        return e

    edges = [edge(name[u], name[v]) for u, v in links]
    for i, r in enumerate(roles):
        if r == "supplier":
            edges += [edge("external", name[i]) for _ in range(draw(st.integers(1, 2)))]
    edges = list(draw(st.permutations(edges)))
    return {
        "name": f"features_{kind}",
        "periods": 50,
        "nodes": nodes,
        "edges": edges,
        "actions": {"max_order": 1e10},
    }


@st.composite
def episodes(draw: Any) -> tuple[dict[str, Any], np.ndarray, np.ndarray, int]:
    """(scenario mapping, orders (1, T, E), base demand (1, T, S), supply seed)."""
    d = draw(feature_scenarios())
    n_edges = len(d["edges"])
    stores = [nd for nd in d["nodes"] if nd["role"] == "store"]
    periods = draw(st.integers(1, 8))
    orders = np.array(
        draw(st.lists(quantities(False), min_size=periods * n_edges, max_size=periods * n_edges))
    )
    # integer-demand stores get integer base demand (goodwill then rounds base x goodwill)
    demand = np.array([[draw(quantities(nd["demand"]["integer"])) for nd in stores] for _ in range(periods)])
    return (
        d,
        orders.reshape(1, periods, n_edges),
        demand.reshape(1, periods, len(stores)),
        draw(st.integers(0, 2**31)),
    )


def _tier_unit_cost(edge: Any, qty: float) -> float:
    tiers = edge.unit_cost_tiers or [(0.0, edge.unit_cost)]
    unit = tiers[0][1]
    for q, c in tiers:
        if qty >= q:
            unit = c
    return float(unit)


class Checker:
    """Independent bookkeeping of one episode (batch of one), checked period by period."""

    def __init__(self, net: Any, sc: Any) -> None:
        self.net = net
        self.sc = sc  # the scenario the network was compiled from
        self.due: dict[int, np.ndarray] = {}  # arrival period -> (E,) units due (independent pipeline record)
        for k in range(net.initial_pipeline.shape[1]):
            self.due[k] = net.initial_pipeline[:, k].copy()

    def check(self, s0: Any, s1: Any, led: Any, orders: np.ndarray, base: np.ndarray, shock: Any) -> None:
        net = self.net
        sc = self.sc
        e_cnt, n_cnt = net.n_edges, net.n_nodes
        finite_cap = np.isfinite(net.storage_capacity)
        scale = max(
            1.0,
            float(
                np.max(
                    np.abs(
                        np.concatenate(
                            [
                                s0.on_hand.ravel(),
                                s0.backlog.ravel(),
                                s0.pipeline.ravel(),
                                orders.ravel(),
                                base.ravel(),
                                [0.0] if s0.components is None else s0.components.ravel(),
                            ]
                        )
                    )
                )
            ),
        )
        tol = 1e-9 * scale

        def close(a: Any, b: Any, what: str) -> None:
            np.testing.assert_allclose(a, b, rtol=0, atol=tol, err_msg=what)

        def leq(a: Any, b: Any, what: str) -> None:
            assert np.all(np.asarray(a) <= np.asarray(b) + tol), (what, a, b)

        t = s0.t
        assert s1.t == t + 1 and led.t == t
        # ---- arrivals (lead time + drawn extra) and transit loss
        expected = self.due.pop(t, np.zeros(e_cnt))
        close(led.edge_arrived[0], expected, "arrival timing with lead-time extras")
        loss = np.zeros(e_cnt) if shock is None else shock.loss[0]
        np.testing.assert_array_equal(led.edge_transit_lost[0], led.edge_arrived[0] * loss)
        np.testing.assert_array_equal(led.edge_transit_lost[0][loss == 0], 0.0)
        close(
            led.transit_lost, led.edge_transit_lost @ net.edge_to_dst, "node transit_lost = receiving node's"
        )
        extra = np.zeros(e_cnt, dtype=np.int64) if shock is None else shock.lead_extra[0]
        for j in range(e_cnt):
            arrive = t + int(net.lead_time[j]) + int(extra[j])
            self.due.setdefault(arrive, np.zeros(e_cnt))[j] += led.edge_shipped[0, j]

        # ---- edge identity and storage: arrived = received + refused + transit_lost
        close(
            led.edge_arrived @ net.edge_to_dst, led.received + led.refused + led.transit_lost, "edge identity"
        )
        np.testing.assert_array_equal(
            led.refused[0, ~finite_cap], 0.0
        )  # refused only where a capacity exists
        comp0 = np.zeros((1, n_cnt)) if s0.components is None else s0.components @ net.edge_to_dst
        before = s0.on_hand + comp0
        after_arrivals = before + led.received
        cap = net.storage_capacity
        leq(after_arrivals[0, finite_cap], np.maximum(cap, before[0])[finite_cap], "storage capacity")
        full = led.refused[0] > tol
        close(after_arrivals[0, full], np.maximum(cap, before[0])[full], "refuses only what does not fit")

        # ---- assembly, per component edge (independent of the code's vector form)
        gross = (led.edge_arrived - led.edge_transit_lost) @ net.edge_to_dst  # (1, N) after loss
        accept = np.divide(led.received, gross, out=np.ones_like(gross), where=gross > 0)
        incoming = (led.edge_arrived - led.edge_transit_lost) * (accept @ net.edge_to_dst.T)  # (1, E)
        not_asm = np.setdiff1d(np.arange(n_cnt), net.assembly_nodes)
        for f in ("assembled", "consumed", "components"):
            np.testing.assert_array_equal(getattr(led, f)[0, not_asm], 0.0, err_msg=f"{f} off assembly nodes")
        for m in net.assembly_nodes:
            ins = np.flatnonzero(net.edge_dst == m)
            qty = np.array([sc.nodes[m].bom[sc.edges[j].source] for j in ins])
            mid = s0.components[0, ins] + incoming[0, ins]
            prod_cap = sc.nodes[m].production_capacity or np.inf
            made = min(float(np.min(mid / qty)), prod_cap)
            close(led.assembled[0, m], made, f"assembled at node {m}")
            close(led.consumed[0, m], made * qty.sum(), f"consumed at node {m}")
            close(s1.components[0, ins], mid - made * qty, f"component stock at node {m}")
            leq(led.assembled[0, m], prod_cap, "production capacity")
        if s1.components is not None:
            others = np.flatnonzero(net.component_qty == 0)
            np.testing.assert_array_equal(s1.components[0, others], 0.0)
            close(led.components, s1.components @ net.edge_to_dst, "ledger components")

        # ---- goodwill and realised demand
        g0 = np.ones(net.n_stores) if s0.goodwill is None else s0.goodwill[0]
        want = base[0] * g0
        has_gw = np.array([sc.nodes[i].goodwill is not None for i in net.store_nodes])
        want = np.where(has_gw & net.store_integer, np.rint(want), want)
        np.testing.assert_array_equal(led.demand[0], want)
        if s1.goodwill is not None:
            cust_backlog = s1.backlog[0, e_cnt:]
            short = (led.lost[0, net.store_nodes] + cust_backlog) > 1e-9
            for k, i in enumerate(net.store_nodes):
                gw = sc.nodes[i].goodwill
                if gw is None:
                    assert s1.goodwill[0, k] == 1.0
                    continue
                nxt = max(gw.floor, g0[k] * (1 - gw.decay)) if short[k] else min(gw.cap, g0[k] + gw.recovery)
                assert s1.goodwill[0, k] == nxt, (k, g0[k], short[k], s1.goodwill[0, k])
                assert gw.floor <= s1.goodwill[0, k] <= gw.cap

        # ---- perishables: FIFO age buckets, re-implemented with a loop
        perishable = net.perishable_nodes
        not_per = np.setdiff1d(np.arange(n_cnt), perishable)
        np.testing.assert_array_equal(led.expired[0, not_per], 0.0)  # expired only at perishable nodes
        np.testing.assert_array_equal(led.waste_cost[0, not_per], 0.0)
        for p, i in enumerate(perishable):
            life = int(net.shelf_life[i])
            buckets = list(s0.age[0, p])
            buckets[0] += led.received[0, i]
            to_ship = led.shipped[0, i]
            for a in range(len(buckets) - 1, -1, -1):  # oldest first
                take = min(to_ship, buckets[a])
                buckets[a] -= take
                to_ship -= take
            close(to_ship, 0.0, f"shipped more than the buckets hold at node {i}")
            expired = buckets[life - 1]
            buckets[life - 1] = 0.0
            buckets = [0.0] + buckets[:-1]
            close(led.expired[0, i], expired, f"expired at node {i}")
            close(s1.age[0, p], buckets, f"age buckets at node {i}")
            assert s1.age[0, p, 0] == 0.0 and np.all(s1.age[0, p, life:] == 0.0), s1.age[0, p]
            close(s1.age[0, p].sum(), s1.on_hand[0, i], "buckets sum to on hand")

        # ---- unit identities: node and system
        close(
            led.on_hand + led.components,
            s0.on_hand + comp0 + led.received - led.shipped - led.expired - led.consumed + led.assembled,
            "node identity",
        )
        np.testing.assert_array_equal(s1.on_hand, led.on_hand)
        close(
            units_held(s1) - units_held(s0),
            led.external_in
            + (led.assembled - led.sold - led.transit_lost - led.refused - led.expired - led.consumed).sum(
                axis=1
            ),
            "system identity",
        )
        close(led.external_in, led.edge_shipped[:, net.external_edges].sum(axis=1), "external_in")
        close(
            led.shipped, led.edge_shipped @ net.edge_from_src + led.sold, "node shipped = edges + customers"
        )
        close(s1.backlog[:, :e_cnt], s0.backlog[:, :e_cnt] + orders - led.edge_shipped, "edge backlog")
        stores = net.store_nodes
        close(
            s1.backlog[:, e_cnt:] + led.lost[:, stores],
            s0.backlog[:, e_cnt:] + led.demand - led.sold[:, stores],
            "customer backlog",
        )
        close(led.in_transit, s1.pipeline.sum(axis=2) @ net.edge_to_dst, "in transit")
        np.testing.assert_array_equal(led.edge_in_transit, s1.pipeline.sum(axis=2))

        # ---- shipped <= owed, capacities and reliability
        owed_edges = s0.backlog[0, :e_cnt] + orders[0]
        leq(led.edge_shipped[0], owed_edges, "edge shipped <= owed")
        leq(led.sold[0, stores], s0.backlog[0, e_cnt:] + led.demand[0], "sold <= owed")
        required = np.minimum(owed_edges, net.out_capacity[:e_cnt])
        fill = np.ones(e_cnt) if shock is None else shock.fill[0]
        leq(led.edge_shipped[0], fill * required, "an unreliable supplier ships at most fill x requirement")
        ext = net.external_edges
        close(led.edge_shipped[0, ext], fill[ext] * required[ext], "external ships fill x requirement")

        # ---- non-negativity of every stock, bucket, flow and cost
        for arr, what in [(s1.on_hand, "on_hand"), (s1.backlog, "backlog"), (s1.pipeline, "pipeline")]:
            assert np.all(arr >= -tol), (what, arr)
        if s1.components is not None:
            assert np.all(s1.components >= 0.0)
        if s1.age is not None:
            assert np.all(s1.age >= 0.0)
        for k, f in enumerate(NODE_FIELDS):
            assert np.all(led.nodes[:, k] >= -tol), (f, led.nodes[:, k])
        for k, f in enumerate(EDGE_FIELDS):
            assert np.all(led.edges[:, k] >= -tol), (f, led.edges[:, k])
        assert np.all(led.service_level <= 1 + tol)

        # ---- every cost field = its rate x its quantity
        close(led.holding_cost, net.holding_cost * (led.on_hand + led.components), "holding_cost")
        close(led.backlog_cost, net.backlog_cost * led.backlog, "backlog_cost")
        close(led.lost_sales_cost, net.lost_sales_cost * led.lost, "lost_sales_cost")
        close(led.waste_cost, net.waste_cost * led.expired, "waste_cost")
        th = np.array([e.transit_holding_cost for e in sc.edges])
        close(led.edge_transit_holding_cost[0], th * led.edge_in_transit[0], "edge_transit_holding_cost")
        close(
            led.transit_holding_cost, led.edge_transit_holding_cost @ net.edge_to_dst, "transit_holding_cost"
        )
        unit = np.array([_tier_unit_cost(e, q) for e, q in zip(sc.edges, led.edge_shipped[0], strict=True)])
        close(led.edge_ordering_cost[0], unit * led.edge_shipped[0], "ordering cost by tier")
        close(led.ordering_cost, led.edge_ordering_cost @ net.edge_to_dst, "ordering_cost")
        fixed = np.array([e.fixed_cost for e in sc.edges])
        np.testing.assert_array_equal(led.edge_fixed_cost[0], np.where(orders[0] > 0, fixed, 0.0))
        close(led.fixed_cost, led.edge_fixed_cost @ net.edge_to_dst, "fixed_cost")
        close(led.revenue, net.price * led.sold + led.edge_ordering_cost @ net.edge_from_src, "revenue")
        close(
            led.total_cost,
            sum(
                getattr(led, f)
                for f in (
                    "ordering_cost",
                    "fixed_cost",
                    "transit_holding_cost",
                    "holding_cost",
                    "backlog_cost",
                    "lost_sales_cost",
                    "waste_cost",
                )
            ),
            "total_cost",
        )


@pytest.mark.slow  # 8.6 s (ci profile, 400 examples), 2-3 s under dev
@settings(max_examples=examples(400), deadline=None, report_multiple_bugs=False)
@given(episodes())
def test_feature_conservation(ep: tuple[dict[str, Any], np.ndarray, np.ndarray, int]) -> None:
    d, orders, demand, seed = ep
    sc = validate_scenario(d)
    net = compile_network(sc)
    periods = orders.shape[1]
    supply = sample_supply(net, np.random.default_rng(seed), 1, periods)
    assert (supply is None) == (not net.any_uncertain_supply)
    state = initial_state(net, 1)
    checker = Checker(net, sc)
    for t in range(periods):
        shock = None if supply is None else supply.at(t)
        o, dm = orders[:, t].copy(), demand[:, t].copy()
        new, led = step(net, state, o, dm, shock)
        np.testing.assert_array_equal(o, orders[:, t])  # inputs untouched
        np.testing.assert_array_equal(dm, demand[:, t])
        checker.check(state, new, led, o, dm, shock)
        state = new


@settings(max_examples=examples(60), deadline=None, report_multiple_bugs=False)
@given(episodes(), st.integers(2, 3))
def test_feature_batch_rows_are_independent(
    ep: tuple[dict[str, Any], np.ndarray, np.ndarray, int], b: int
) -> None:
    """A batch of B episodes (different orders, demand and shocks per row) equals B runs of one."""
    d, orders, demand, seed = ep
    sc = validate_scenario(d)
    net = compile_network(sc)
    periods = orders.shape[1]
    rng = np.random.default_rng(seed)
    orders_b = np.concatenate([orders, rng.integers(0, 20, (b - 1, *orders.shape[1:])).astype(float)])
    demand_b = np.concatenate([demand, rng.integers(0, 10, (b - 1, *demand.shape[1:])).astype(float)])
    supply = sample_supply(net, rng, b, periods)
    batch = initial_state(net, b)
    rows = [initial_state(net, 1) for _ in range(b)]
    for t in range(periods):
        batch, led = step(
            net, batch, orders_b[:, t], demand_b[:, t], None if supply is None else supply.at(t)
        )
        for k in range(b):
            sh = None if supply is None else supply.row(k).at(t)
            rows[k], led_k = step(net, rows[k], orders_b[k : k + 1, t], demand_b[k : k + 1, t], sh)
            np.testing.assert_allclose(led.nodes[k : k + 1], led_k.nodes, rtol=1e-12, atol=1e-9)
            np.testing.assert_allclose(led.edges[k : k + 1], led_k.edges, rtol=1e-12, atol=1e-9)
            mine: tuple[Any, ...] = tuple(batch.row(k))
            theirs: tuple[Any, ...] = tuple(rows[k])
            for a, c in zip(mine, theirs, strict=True):
                if isinstance(a, np.ndarray):
                    np.testing.assert_allclose(a, c, rtol=1e-12, atol=1e-9)
