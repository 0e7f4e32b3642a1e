"""Observation columns of the optional features: makeable units (assembly), units about to expire."""

from __future__ import annotations

import numpy as np

import invmgmt_marl
from invmgmt_marl.compile import compile_network
from invmgmt_marl.observe import local_features, n_features
from invmgmt_marl.sim import initial_state, step


def test_feature_columns_only_where_used() -> None:
    plain = compile_network(invmgmt_marl.load_scenario("serial"))
    assert n_features(plain) == 4 + plain.max_lead + 1
    asm = compile_network(invmgmt_marl.load_scenario("assembly"))
    per = compile_network(invmgmt_marl.load_scenario("perishable_grocery"))
    assert n_features(asm) == 4 + asm.max_lead + 2 and n_features(per) == 4 + per.max_lead + 2


def test_makeable_units_follow_the_scarcest_component() -> None:
    net = compile_network(invmgmt_marl.load_scenario("assembly"))
    factory = int(net.assembly_nodes[0])
    st = initial_state(net, 1)
    comp = np.zeros((1, net.n_edges))
    edges = net.agent_edges[factory]
    qty = net.component_qty[edges]
    comp[0, edges] = qty * np.array([7, 3])[: len(edges)]  # enough of the first for 7 units, the second for 3
    st = st._replace(components=comp)
    feats = local_features(net, st, 1.0)
    col = 4 + net.max_lead
    assert feats[0, factory, col] == 3.0
    assert np.all(np.delete(feats[0, :, col], factory) == 0.0)


def test_expiring_units_are_the_oldest_sellable_bucket() -> None:
    net = compile_network(invmgmt_marl.load_scenario("perishable_grocery"))
    st = initial_state(net, 1)
    col = 4 + net.max_lead  # no assembly in this scenario: the perishable column comes first
    zero_orders = np.zeros((1, net.n_edges))
    demand = np.zeros((1, net.n_stores))
    store = int(net.store_nodes[0])
    k = int(np.flatnonzero(net.perishable_nodes == store)[0])
    shelf = int(net.shelf_life[store])
    # initial stock and what arrives in period 0 (the initial pipeline) are both fresh in period 0 and
    # expire at the end of period shelf - 1: they are flagged as "expiring after the next period"
    # exactly in the observation taken before that period (no demand, no orders: nothing leaves)
    first_batch = float(net.initial_on_hand[store] + net.initial_pipeline[net.agent_edges[store], 0].sum())
    for t in range(shelf):
        feats = local_features(net, st, 1.0)
        expected = first_batch if t == shelf - 1 else 0.0
        assert feats[0, store, col] == expected, (t, feats[0, store, col])
        assert st.age[0, k].sum() == st.on_hand[0, store]
        st, _ = step(net, st, zero_orders, demand)
    # after period shelf - 1 the first batch is gone; only later arrivals of the initial pipeline remain
    later = float(net.initial_pipeline[net.agent_edges[store], 1:shelf].sum())
    assert st.on_hand[0, store] == later
