"""The shipped retail scenarios: the source's facts (issue 14's table), events on the task's days,
PettingZoo conformance."""

from __future__ import annotations

import numpy as np
import pytest

import invmgmt_marl
from invmgmt_marl.compile import compile_network
from invmgmt_marl.scenario import list_product_scenarios, list_scenarios, load_scenario
from invmgmt_marl.scenario.loader import UNLISTED_PRODUCT_SCENARIOS
from invmgmt_marl.sim.calendar import event_clock

NAMES = ["retail_easy", "retail_medium", "retail_hard"]
# issue 14's table: sell price, cost, shelf life (0: none), price elasticity
TABLE = {
    "electronics": (150, 100, 0, 1.2),
    "clothing": (40, 25, 0, 1.5),
    "groceries": (10, 5, 5, 0.4),
    "furniture": (200, 130, 0, 0.8),
    "toys": (25, 12, 0, 1.3),
}


def test_listed_as_product_scenarios() -> None:
    names = {*NAMES, "retail_chain"}
    assert names <= set(list_product_scenarios())
    # listed, so the whole conformance suite (tests/env, rendering, pictures, ...) runs over them
    assert names <= set(list_scenarios())
    assert not names & set(UNLISTED_PRODUCT_SCENARIOS)


@pytest.mark.parametrize("name", NAMES)
def test_source_facts(name: str) -> None:
    sc = load_scenario(name)
    assert sc.periods == 30
    assert [p.name for p in sc.products] == list(TABLE)
    for p in sc.products:
        price, cost, shelf, e = TABLE[p.name]
        assert (p.price, p.unit_cost, p.shelf_life or 0, p.price_elasticity) == (price, cost, shelf, e)
        assert p.demand is not None and p.demand.weekly is not None
        assert list(p.demand.weekly.profile) == [1, 1, 1, 1, 1, 1.2, 1.2]  # days 5 and 6 of each week
    net = compile_network(sc)
    # three modes compiled into parallel edges: shipping 2 / 5 / 10 per unit on top of the cost,
    # lead times 3-7, 2-4 and 1 (lead_time + lead_extra_max)
    assert net.unit_cost[0].tolist() == [102, 105, 110]
    assert net.lead_time[0].tolist() == [3, 2, 1]
    assert (net.lead_time[0] + net.lead_extra_max).tolist() == [7, 4, 1]
    assert net.any_cash and net.any_liquidation and net.any_pricing
    store = sc.nodes[0]
    assert store.lost_sales and store.pricing is not None
    assert (store.pricing.min, store.pricing.max) == (0.5, 1.5)
    assert store.liquidation is not None and store.liquidation.salvage == 0.0


def test_task_parameters() -> None:
    easy, medium, hard = (load_scenario(n) for n in NAMES)
    assert easy.nodes[0].cash.initial == 1000 and hard.nodes[0].cash.initial == 500
    assert not easy.events
    assert hard.nodes[0].storage_capacity < easy.nodes[0].storage_capacity
    for p_easy, p_hard in zip(easy.products, hard.products, strict=True):  # higher demand in the hard task
        assert p_hard.demand.params.high > p_easy.demand.params.high
    for sc, days in ((medium, [6, 12, 18, 24, 28]), (hard, [4, 8, 12, 16, 20])):
        assert sorted(e.start for e in sc.events) == days
        assert all(e.duration == 2 for e in sc.events)
        assert {e.name for e in sc.events} >= {"black_friday", "christmas", "new_competitor"}
        net = compile_network(sc)
        until, left = event_clock(net, 0)
        assert sorted(np.asarray(until).ravel().tolist()) == days  # countdowns at t = 0


def test_black_friday_triples_electronics() -> None:
    # same draws with and without the calendar: medium electronics demand on days 6, 7 is 3x (rounded)
    from invmgmt_marl.demand import sample_network_demand

    with_events = compile_network(load_scenario("retail_medium"))
    plain = compile_network(load_scenario("retail_medium").model_copy(update={"events": []}))
    a = sample_network_demand(with_events, np.random.default_rng(3), 1)[0, :, 0, 0]
    b = sample_network_demand(plain, np.random.default_rng(3), 1)[0, :, 0, 0]
    assert a[6:8].tolist() == np.rint(3 * b[6:8]).tolist()
    assert a[:6].tolist() == b[:6].tolist()


def test_retail_chain() -> None:
    # a warehouse buying by the three modes with the cash, three stores with prices and liquidation
    net = compile_network(load_scenario("retail_chain"))
    assert net.agents == ("store_0", "store_1", "store_2", "supplier_0")
    assert net.cash_on.tolist() == [False, False, False, True]
    assert net.pricing_on.tolist() == [True, True, True]
    assert net.liquidation_on.tolist() == [True, True, True, False]
    assert net.unit_cost[0].tolist() == [100, 100, 100, 102, 105, 110]  # transfers at cost, then modes
    env = invmgmt_marl.parallel_env("retail_chain")
    # stores: 5 orders + 5 liquidations + 5 prices; the warehouse: 5 products x 3 modes
    assert {a: env.action_space(a).shape for a in env.possible_agents} == dict.fromkeys(
        env.possible_agents, (15,)
    )
    # (the PettingZoo API tests of every listed scenario, tests/env/test_api.py, cover the four)
