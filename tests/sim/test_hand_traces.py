"""Small cases computed by hand: a 3-period chain (every ledger number, observation and reward
scheme), priority and proportional allocation under short stock, capacities, and lost sales."""

from __future__ import annotations

import numpy as np
import pytest

import invmgmt_marl
from invmgmt_marl.sim import NODE_FIELDS, initial_state, step
from tests.helpers import build, chain_dict, one_warehouse_two_stores, run_sim

# -------------------------------------------------------------------------------------------------
# The chain  external -(L=1, unit 1)-> supplier_0 -(L=2, unit 2, fixed 5)-> store_0 -> customers
#   store_0:    on hand 4, holding 1, backlog 3, price 10; pipeline from supplier_0 [0, 3]
#               (0 arrives in period 0, 3 in period 1)
#   supplier_0: on hand 6, holding 0.5, backlog 2; pipeline from external [2] (arrives in period 0)
#   demand [5, 7, 2]; store orders [10, 0, 4]; supplier orders [3, 10, 0]
#
# period 0
#   arrivals: store 0, supplier 2          -> available: store 4, supplier 8
#   owed: supplier->store 0+10 = 10, external->supplier 3, customers 0+5 = 5
#   supplier ships min(10, 8) = 8 -> on hand 0, backlog 2     (8 lands at the store in period 0+2 = 2)
#   store ships min(5, 4) = 4 (sold 4) -> on hand 0, backlog 1
#   external ships 3 (lands in period 1)   external_in = 3
#   store:    holding 0, backlog 3*1 = 3, ordering 2*8 = 16 (on units shipped, not ordered), fixed 5
#             -> cost 24; revenue 10*4 = 40; service 4/5 = 0.8; in transit 3 (t=1) + 8 (t=2) = 11;
#             owed to it (inbound backlog) 2
#   supplier: holding 0, backlog 2*2 = 4, ordering 1*3 = 3, fixed 0 -> cost 7; revenue 2*8 = 16
#             (transfer); service 8/10 = 0.8; in transit 3
# period 1
#   arrivals: store 3, supplier 3          -> available: store 3, supplier 3
#   owed: supplier->store 2+0 = 2, external->supplier 10, customers 1+7 = 8
#   supplier ships 2 -> on hand 1, backlog 0 (lands in period 3); store ships 3 -> on hand 0, backlog 5
#   external ships 10 (lands in period 2)  external_in = 10
#   store:    holding 0, backlog 3*5 = 15, ordering 2*2 = 4, fixed 0 (ordered 0) -> 19; revenue 30;
#             service 3/8 = 0.375; in transit 8 (t=2) + 2 (t=3) = 10
#   supplier: holding 0.5*1 = 0.5, backlog 0, ordering 1*10 = 10 -> 10.5; revenue 2*2 = 4; service 1
# period 2
#   arrivals: store 8, supplier 10         -> available: store 8, supplier 11
#   owed: supplier->store 4, external 0, customers 5+2 = 7
#   supplier ships 4 -> on hand 7 (lands in period 4); store ships 7 -> on hand 1, backlog 0
#   store:    holding 1, backlog 0, ordering 2*4 = 8, fixed 5 -> 14; revenue 70; service 1;
#             in transit 2 (t=3) + 4 (t=4) = 6
#   supplier: holding 3.5 -> 3.5; revenue 8; service 1; in transit 0
# -------------------------------------------------------------------------------------------------
ORDERS = np.array(
    [[[10, 3], [0, 10], [4, 0]]], dtype=float
)  # (B=1, T=3, E=2): [supplier->store, ext->supplier]
DEMAND = np.array([[[5], [7], [2]]], dtype=float)

EXPECTED = {  # field: per period [store_0, supplier_0]
    "received": [[0, 2], [3, 3], [8, 10]],
    "requested": [[5, 10], [7, 0], [2, 4]],
    "owed": [[5, 10], [8, 2], [7, 4]],
    "shipped": [[4, 8], [3, 2], [7, 4]],
    "sold": [[4, 0], [3, 0], [7, 0]],
    "on_hand": [[0, 0], [0, 1], [1, 7]],
    "backlog": [[1, 2], [5, 0], [0, 0]],
    "lost": [[0, 0], [0, 0], [0, 0]],
    "ordered": [[10, 3], [0, 10], [4, 0]],
    "inbound_backlog": [[2, 0], [0, 0], [0, 0]],
    "in_transit": [[11, 3], [10, 10], [6, 0]],
    "holding_cost": [[0, 0], [0, 0.5], [1, 3.5]],
    "backlog_cost": [[3, 4], [15, 0], [0, 0]],
    "lost_sales_cost": [[0, 0], [0, 0], [0, 0]],
    "ordering_cost": [[16, 3], [4, 10], [8, 0]],
    "fixed_cost": [[5, 0], [0, 0], [5, 0]],
    "revenue": [[40, 16], [30, 4], [70, 8]],
    "service_level": [[0.8, 0.8], [0.375, 1.0], [1.0, 1.0]],
}
EXPECTED_COST = [[24, 7], [19, 10.5], [14, 3.5]]
EXPECTED_EDGES = {  # per period [supplier->store, external->supplier]
    "edge_ordered": [[10, 3], [0, 10], [4, 0]],
    "edge_shipped": [[8, 3], [2, 10], [4, 0]],
    "edge_arrived": [[0, 2], [3, 3], [8, 10]],
    "edge_backlog": [[2, 0], [0, 0], [0, 0]],
}
EXTERNAL_IN = [3, 10, 0]
# local features after each period, obs_scale 1:
# [on_hand, backlog, owed to it, incoming, arrivals t+1, t+2, t/3]
EXPECTED_OBS = [
    {"store_0": [4, 0, 0, 0, 0, 3, 0], "supplier_0": [6, 0, 0, 0, 2, 0, 0]},  # after reset (arrivals t=0, 1)
    {"store_0": [0, 1, 2, 5, 3, 8, 1 / 3], "supplier_0": [0, 2, 0, 10, 3, 0, 1 / 3]},
    {"store_0": [0, 5, 0, 7, 8, 2, 2 / 3], "supplier_0": [1, 0, 0, 0, 10, 0, 2 / 3]},
    {"store_0": [1, 0, 0, 2, 2, 4, 1.0], "supplier_0": [7, 0, 0, 4, 0, 0, 1.0]},
]
# rewards, per period [store_0, supplier_0]
REWARDS = {
    # cost: -(holding + backlog + lost + ordering + fixed)
    ("cost", 1.0, None): [[-24, -7], [-19, -10.5], [-14, -3.5]],
    # profit: revenue - cost: 40-24, 16-7 | 30-19, 4-10.5 | 70-14, 8-3.5
    ("profit", 1.0, None): [[16, 9], [11, -6.5], [56, 4.5]],
    # alpha mixing: 0.5*own + 0.5*mean.  p0 mean -15.5: -12-7.75, -3.5-7.75 | p1 mean -14.75: -9.5-7.375,
    # -5.25-7.375 | p2 mean -8.75: -7-4.375, -1.75-4.375
    ("cost", 0.5, None): [[-19.75, -11.25], [-16.875, -12.625], [-11.375, -6.125]],
    # 0.25*own + 0.75*mean. p0 mean 12.5: 4+9.375, 2.25+9.375 | p1 mean 2.25: 2.75+1.6875, -1.625+1.6875 |
    # p2 mean 30.25: 14+22.6875, 1.125+22.6875
    ("profit", 0.25, None): [[13.375, 11.625], [4.4375, 0.0625], [36.6875, 23.8125]],
    # reconciliation, weights sl 10, holding 0.5, stockout 2, ordering 0.1, revenue 0.01:
    #   10*sl - 0.5*holding - 2*(backlog+lost cost) - 0.1*(ordering+fixed) + 0.01*revenue
    # p0 store 8 - 0 - 6 - 2.1 + 0.4 = 0.3        supplier 8 - 0 - 8 - 0.3 + 0.16 = -0.14
    # p1 store 3.75 - 0 - 30 - 0.4 + 0.3 = -26.35 supplier 10 - 0.25 - 0 - 1.0 + 0.04 = 8.79
    # p2 store 10 - 0.5 - 0 - 1.3 + 0.7 = 8.9     supplier 10 - 1.75 - 0 - 0 + 0.08 = 8.33
    ("reconciliation", 1.0, "w"): [[0.3, -0.14], [-26.35, 8.79], [8.9, 8.33]],
    # defaults sl 10, holding 0.01, stockout 0.1, ordering 0, revenue 0:
    # p0 store 8 - 0 - 0.3 = 7.7  supplier 8 - 0 - 0.4 = 7.6 | p1 store 3.75 - 1.5 = 2.25,
    # supplier 10 - 0.005 = 9.995 | p2 store 10 - 0.01 = 9.99, supplier 10 - 0.035 = 9.965
    ("reconciliation", 1.0, None): [[7.7, 7.6], [2.25, 9.995], [9.99, 9.965]],
}
WEIGHTS = {
    "service_level": 10,
    "holding_cost": 0.5,
    "stockout_cost": 2,
    "ordering_cost": 0.1,
    "revenue": 0.01,
}


def test_chain_ledger_by_hand() -> None:
    net = build(chain_dict())
    assert list(net.agents) == ["store_0", "supplier_0"]
    states, ledgers = run_sim(net, ORDERS, DEMAND)
    for t, led in enumerate(ledgers):
        assert led.t == t
        for field, per_period in EXPECTED.items():
            np.testing.assert_allclose(
                getattr(led, field)[0], per_period[t], rtol=1e-15, atol=0, err_msg=f"{field} period {t}"
            )
        for field, per_period in EXPECTED_EDGES.items():
            np.testing.assert_array_equal(
                getattr(led, field)[0], per_period[t], err_msg=f"{field} period {t}"
            )
        np.testing.assert_array_equal(led.total_cost[0], EXPECTED_COST[t])
        np.testing.assert_array_equal(led.external_in, [EXTERNAL_IN[t]])
        np.testing.assert_array_equal(led.demand[0], DEMAND[0, t])
    # end state: store owes customers nothing, the supplier nothing; 2 + 4 units still travel to the store
    end = states[-1]
    assert end.t == 3
    np.testing.assert_array_equal(end.on_hand[0], [1, 7])
    np.testing.assert_array_equal(end.backlog[0], [0, 0, 0])  # outflows: 2 edges + 1 customer stream
    np.testing.assert_array_equal(end.pipeline[0].sum(axis=1), [6, 0])


@pytest.mark.parametrize(("scheme", "alpha", "weights"), list(REWARDS), ids=lambda v: str(v))
def test_chain_rewards_by_hand(make_env, scheme, alpha, weights) -> None:
    kw = {"reward": scheme, "alpha": alpha}
    if weights:
        kw["reward_weights"] = WEIGHTS
    env = make_env(chain_dict(), **kw)
    env.reset(seed=0, options={"demand": DEMAND[0]})
    for t in range(3):
        _, rew, *_ = env.step({"store_0": ORDERS[0, t, :1], "supplier_0": ORDERS[0, t, 1:]})
        np.testing.assert_allclose(
            [rew["store_0"], rew["supplier_0"]],
            REWARDS[(scheme, alpha, weights)][t],
            rtol=1e-12,
            atol=1e-12,
            err_msg=f"{scheme} alpha={alpha} period {t}",
        )


def test_chain_observations_infos_and_state_by_hand(make_env) -> None:
    env = make_env(chain_dict())
    obs, infos = env.reset(seed=0)  # the scenario's fixed demand [5, 7, 2]
    np.testing.assert_array_equal(env.demand, DEMAND[0])
    # reset infos carry every ledger key, zeros, and t = -1 (no period recorded yet)
    for a in ("store_0", "supplier_0"):
        assert infos[a] == {**dict.fromkeys(NODE_FIELDS, 0.0), "clipped": 0, "t": -1}
    for a in env.agents:
        np.testing.assert_allclose(obs[a], EXPECTED_OBS[0][a], rtol=1e-6)
    np.testing.assert_allclose(
        env.state(), EXPECTED_OBS[0]["store_0"] + EXPECTED_OBS[0]["supplier_0"], rtol=1e-6
    )
    for t in range(3):
        obs, rew, term, trunc, infos = env.step({"store_0": ORDERS[0, t, :1], "supplier_0": ORDERS[0, t, 1:]})
        for i, a in enumerate(["store_0", "supplier_0"]):
            np.testing.assert_allclose(obs[a], EXPECTED_OBS[t + 1][a], rtol=1e-6, err_msg=f"{a} after {t}")
            for field, per_period in EXPECTED.items():
                assert infos[a][field] == pytest.approx(per_period[t][i], rel=1e-15, abs=0), (a, field, t)
            assert infos[a]["t"] == t
            assert infos[a]["clipped"] == 0
        np.testing.assert_allclose(
            env.state(), EXPECTED_OBS[t + 1]["store_0"] + EXPECTED_OBS[t + 1]["supplier_0"], rtol=1e-6
        )
        assert all(trunc.values()) == (t == 2)
        assert not any(term.values())
    assert env.agents == []
    with pytest.raises(RuntimeError, match=r"after the episode ended; call reset\(\)"):
        env.step({"store_0": np.zeros(1, np.float32), "supplier_0": np.zeros(1, np.float32)})


def test_system_units_conserved_in_chain() -> None:
    # start: on hand 4 + 6, pipelines 0 + 3 + 2 = 15 units; each period changes by external_in - sold
    net = build(chain_dict())
    states, ledgers = run_sim(net, ORDERS, DEMAND)
    units = [s.on_hand.sum() + s.pipeline.sum() for s in states]
    assert units == [15, 14, 21, 14]  # 15 + 3 - 4, 14 + 10 - 3, 21 + 0 - 7
    for k, led in enumerate(ledgers):
        assert units[k + 1] - units[k] == led.external_in[0] - led.sold[0].sum()


# -------------------------------------------------------------------------------------------------
# allocation by hand: warehouse_0 serves store_0 (edge 0) and store_1 (edge 1); edges 2, 3 are
# supplier->warehouse and external->supplier. Orders in period 0 only.
def _one_period(d, orders, demand=(0, 0)):
    net = build(d)
    st, led = step(net, initial_state(net, 1), np.array([orders], float), np.array([demand], float))
    return net, st, led


@pytest.mark.parametrize(
    ("priorities", "shipped", "backlog"),
    [
        # stock 5, store_0 orders 4, store_1 orders 3
        (
            (1, 0),
            [2, 3],
            [2, 0],
        ),  # store_1's edge has the smaller priority: 3 to store_1, the 2 left to store_0
        ((0, 1), [4, 1], [0, 2]),  # store_0 first: 4, then 1 of 3 to store_1
        ((0, 0), [4, 1], [0, 2]),  # a tie: scenario order, store_0's edge first
        ((5, 5), [4, 1], [0, 2]),
    ],
)
def test_priority_allocation_by_hand(priorities, shipped, backlog) -> None:
    net, st, led = _one_period(one_warehouse_two_stores(wh_stock=5, priorities=priorities), [4, 3, 0, 0])
    np.testing.assert_array_equal(led.edge_shipped[0, :2], shipped)
    np.testing.assert_array_equal(led.edge_backlog[0, :2], backlog)
    np.testing.assert_array_equal(st.backlog[0, :2], backlog)
    assert led.on_hand[0, 2] == 0
    assert led.backlog[0, 2] == 2  # the warehouse owes 2 in total
    assert led.owed[0, 2] == 7
    assert led.service_level[0, 2] == pytest.approx(5 / 7, rel=1e-15)
    np.testing.assert_array_equal(led.inbound_backlog[0, :2], backlog)
    # what was shipped arrives one period later (lead time 1)
    st2, led2 = step(net, st, np.zeros((1, 4)), np.zeros((1, 2)))
    np.testing.assert_array_equal(led2.received[0, :2], shipped)


def test_priority_with_carried_backlog_by_hand() -> None:
    # store_1's edge already owes 2; stock 5; orders 4 and 3 -> owed 4 and 5, tie -> store_0 first: 4, 1
    d = one_warehouse_two_stores(wh_stock=5)
    d["edges"][1]["initial_backlog"] = 2
    _, st, led = _one_period(d, [4, 3, 0, 0])
    np.testing.assert_array_equal(led.edge_shipped[0, :2], [4, 1])
    np.testing.assert_array_equal(led.edge_backlog[0, :2], [0, 4])
    assert led.owed[0, 2] == 9 and led.requested[0, 2] == 7


@pytest.mark.parametrize(("edge_priority", "edge_ship", "sold"), [(0, 3, 2), (1, 1, 4)])
def test_customers_last_among_equal_priorities(edge_priority, edge_ship, sold) -> None:
    # store_0 (5 on hand, demand 4) also supplies store_1 (which orders 3). At equal priority 0 the edge
    # is served before store_0's own customers; with edge priority 1 the customers (priority 0) go first.
    d = {
        "periods": 2,
        "nodes": [
            {"role": "store", "initial_on_hand": 5, "demand": {"process": "constant", "value": 4}},
            {"role": "store", "demand": {"process": "constant", "value": 0}},
            {"role": "supplier"},
        ],
        "edges": [
            {"from": "supplier_0", "to": "store_0", "lead_time": 1},
            {"from": "store_0", "to": "store_1", "lead_time": 1, "priority": edge_priority},
            {"from": "external", "to": "supplier_0", "lead_time": 1},
        ],
    }
    _, st, led = _one_period(d, [0, 3, 0], demand=(4, 0))
    assert led.edge_shipped[0, 1] == edge_ship
    assert led.sold[0, 0] == sold
    assert led.shipped[0, 0] == 5 and led.on_hand[0, 0] == 0
    assert led.backlog[0, 0] == 2  # 7 owed, 5 shipped


@pytest.mark.parametrize(
    ("stock", "orders", "shipped", "on_hand"),
    [
        (6, [4, 8], [2, 4], 0),  # 6 of 12 required: everyone gets 1/2
        (9, [4, 8], [3, 6], 0),  # 9/12 = 3/4
        (20, [4, 8], [4, 8], 8),  # enough stock: in full
        (0, [4, 8], [0, 0], 0),
    ],
)
def test_proportional_allocation_by_hand(stock, orders, shipped, on_hand) -> None:
    d = one_warehouse_two_stores(allocation="proportional", wh_stock=stock, priorities=(0, 1))
    _, _, led = _one_period(d, [*orders, 0, 0])
    np.testing.assert_array_equal(led.edge_shipped[0, :2], shipped)
    np.testing.assert_array_equal(led.edge_backlog[0, :2], np.subtract(orders, shipped))
    assert led.on_hand[0, 2] == on_hand


def test_proportional_with_capacity_by_hand() -> None:
    # store_1's edge carries at most 2 a period: requirements [4, min(8, 2) = 2], stock 5 -> frac 5/6:
    # ship 10/3 and 5/3; what is not shipped stays owed: 4 - 10/3 = 2/3 and 8 - 5/3 = 19/3
    d = one_warehouse_two_stores(allocation="proportional", wh_stock=5, capacity=(None, 2))
    _, _, led = _one_period(d, [4, 8, 0, 0])
    np.testing.assert_allclose(led.edge_shipped[0, :2], [10 / 3, 5 / 3], rtol=1e-12)
    np.testing.assert_allclose(led.edge_backlog[0, :2], [2 / 3, 19 / 3], rtol=1e-12)
    assert abs(led.on_hand[0, 2]) < 1e-12


def test_capacity_limits_shipments_even_with_stock() -> None:
    # stock 20, orders 4 and 8, store_1's edge capacity 5: ship 4 and 5, 3 stays owed, 11 left on hand;
    # next period the 3 owed plus a new order of 1 = 4 <= 5 ship in full
    net, st, led = _one_period(one_warehouse_two_stores(wh_stock=20, capacity=(None, 5)), [4, 8, 0, 0])
    np.testing.assert_array_equal(led.edge_shipped[0, :2], [4, 5])
    np.testing.assert_array_equal(led.edge_backlog[0, :2], [0, 3])
    assert led.on_hand[0, 2] == 11
    _, led2 = step(net, st, np.array([[0, 1, 0, 0]], float), np.zeros((1, 2)))
    np.testing.assert_array_equal(led2.edge_shipped[0, :2], [0, 4])
    assert led2.on_hand[0, 2] == 7


def test_external_source_ships_in_full_up_to_capacity() -> None:
    d = one_warehouse_two_stores()
    d["edges"][3]["capacity"] = 7
    _, st, led = _one_period(d, [0, 0, 0, 1e9])
    assert led.edge_shipped[0, 3] == 7
    assert led.edge_backlog[0, 3] == 1e9 - 7
    assert led.external_in[0] == 7
    assert led.inbound_backlog[0, 3] == 1e9 - 7  # the supplier is owed the rest


def test_lost_sales_by_hand() -> None:
    # stores lose unmet demand (cost 2 per unit). store_0 has 3 on hand and faces demand 5: sells 3,
    # loses 2 (cost 4), owes nothing. Next period demand 1 with nothing on hand: owed 1 (the 2 lost
    # units are not carried), loses 1 (cost 2). store_1 (3 on hand, demand 1 then 2) never runs out.
    net = build(one_warehouse_two_stores(lost_sales=True, store_stock=3, wh_stock=0))
    st = initial_state(net, 1)
    st, led = step(net, st, np.zeros((1, 4)), np.array([[5.0, 1.0]]))
    np.testing.assert_array_equal(led.sold[0, :2], [3, 1])
    np.testing.assert_array_equal(led.lost[0, :2], [2, 0])
    np.testing.assert_array_equal(led.lost_sales_cost[0, :2], [4, 0])
    np.testing.assert_array_equal(led.backlog[0, :2], [0, 0])
    np.testing.assert_array_equal(led.backlog_cost[0, :2], [0, 0])
    np.testing.assert_array_equal(led.on_hand[0, :2], [0, 2])
    np.testing.assert_array_equal(led.holding_cost[0, :2], [0, 2])
    np.testing.assert_array_equal(led.service_level[0, :2], [3 / 5, 1])
    np.testing.assert_array_equal(st.backlog[0, 4:], [0, 0])  # nothing carried on the customer streams
    st, led = step(net, st, np.zeros((1, 4)), np.array([[1.0, 2.0]]))
    np.testing.assert_array_equal(led.owed[0, :2], [1, 2])
    np.testing.assert_array_equal(led.lost[0, :2], [1, 0])
    np.testing.assert_array_equal(led.sold[0, :2], [0, 2])
    np.testing.assert_array_equal(led.on_hand[0, :2], [0, 0])


def test_backlogging_store_carries_unmet_demand() -> None:
    # the same with backlogging stores: 2 unmet units are owed next period (owed 3) and cost 1 each period
    net = build(one_warehouse_two_stores(lost_sales=False, store_stock=3, wh_stock=0))
    st, led = step(net, initial_state(net, 1), np.zeros((1, 4)), np.array([[5.0, 1.0]]))
    np.testing.assert_array_equal(led.backlog[0, :2], [2, 0])
    np.testing.assert_array_equal(led.lost[0, :2], [0, 0])
    np.testing.assert_array_equal(led.backlog_cost[0, :2], [2, 0])
    st, led = step(net, st, np.zeros((1, 4)), np.array([[1.0, 2.0]]))
    np.testing.assert_array_equal(led.owed[0, :2], [3, 2])
    np.testing.assert_array_equal(led.backlog[0, :2], [3, 0])


def test_chain_env_matches_sim(make_env) -> None:
    """The env is a thin shell: its infos equal the simulator's ledger for the same inputs."""
    env = make_env(chain_dict())
    env.reset(seed=1)
    _, ledgers = run_sim(build(chain_dict()), ORDERS, DEMAND)
    for t in range(3):
        _, _, _, _, infos = env.step({"store_0": ORDERS[0, t, :1], "supplier_0": ORDERS[0, t, 1:]})
        for f in invmgmt_marl.sim.NODE_FIELDS:
            assert [infos[a][f] for a in env.possible_agents] == getattr(ledgers[t], f)[0].tolist()
