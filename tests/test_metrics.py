"""KPI functions against hand-computed values, and base-stock against the newsvendor formula."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from scipy.stats import norm

from invmgmt_marl import metrics as M
from invmgmt_marl.compile import compile_network
from invmgmt_marl.policies import BaseStockPolicy, ConstantPolicy
from invmgmt_marl.rollout import Trajectory, rollout
from invmgmt_marl.scenario import load_scenario, validate_scenario
from invmgmt_marl.sim import EDGE_FIELDS, NODE_FIELDS


def one_store(
    *,
    demand: dict[str, Any],
    periods: int,
    lead: int = 1,
    lost_sales: bool = False,
    store_stock: float = 0.0,
    h: float = 1.0,
    b: float = 1.0,
    max_order: float = 20.0,
) -> dict[str, Any]:
    """external -> supplier_0 -> store_0. The supplier starts with a huge stock and costs nothing, so
    it ships every order of the store at once: the store faces a plain lead time ``lead``."""
    store: dict[str, Any] = {
        "role": "store",
        "initial_on_hand": store_stock,
        "holding_cost": h,
        "demand": demand,
    }
    if lost_sales:
        store.update(lost_sales=True, lost_sales_cost=b)
    else:
        store["backlog_cost"] = b
    return {
        "name": "one_store",
        "periods": periods,
        "nodes": [store, {"role": "supplier", "initial_on_hand": 1e9}],
        "edges": [
            {"from": "supplier_0", "to": "store_0", "lead_time": lead},
            {"from": "external", "to": "supplier_0", "lead_time": 1},
        ],
        "actions": {"type": "box", "max_order": max_order},
    }


def hand_trajectory() -> tuple[Any, Trajectory]:
    """One episode of 4 periods at store_0 (backlogging) written by hand, supplier idle with 10 on hand.

    t   demand  owed (= old backlog + demand)  sold  backlog  on_time = clip(sold - old backlog, 0, d)
    0     5        0 + 5 = 5                     3      2      clip(3 - 0, 0, 5) = 3   stockout
    1     3        2 + 3 = 5                     4      1      clip(4 - 2, 0, 3) = 2   stockout
    2     0        1 + 0 = 1                     0      1      clip(0 - 1, 0, 0) = 0   no demand: no stockout
    3     4        1 + 4 = 5                     5      0      clip(5 - 1, 0, 4) = 4   all on time
    fill rate = (3 + 2 + 0 + 4) / (5 + 3 + 0 + 4) = 9/12 = 0.75; cycle service level = 2/4 = 0.5.
    store orders q = [4, 6, 2, 4]; first T-1 = [4, 6, 2]: mean 4, population var 8/3 -> CV sqrt(8/3)/4.
    demand, first T-1 = [5, 3, 0]: mean 8/3, var ((7/3)^2 + (1/3)^2 + (8/3)^2) / 3 = 114/27.
    variance ratio at the store level = (8/3) / (114/27) = 72/114; supplier orders nothing: CV 0, ratio 0.
    store on hand = [0, 0, 2, 1]: mean 0.75, sold 12 -> turns 16.
    system on hand = store + supplier 10 = [10, 10, 12, 11]: mean 10.75 -> turns 12 / 10.75.
    holding (h = 1) = sum on hand = 3; backlog cost (b = 2) = 2 * (2 + 1 + 1 + 0) = 8.
    """
    net = compile_network(validate_scenario(one_store(demand={"process": "constant", "value": 0}, periods=4)))
    t_, b_, n_ = 4, 1, 2
    nodes = np.zeros((t_, b_, len(NODE_FIELDS), n_))
    edges = np.zeros((t_, b_, len(EDGE_FIELDS), net.n_edges))

    def put(field: str, node: int, values: list[float]) -> None:
        nodes[:, 0, NODE_FIELDS.index(field), node] = values

    demand = [5.0, 3.0, 0.0, 4.0]
    put("requested", 0, demand)
    put("owed", 0, [5, 5, 1, 5])
    put("shipped", 0, [3, 4, 0, 5])
    put("sold", 0, [3, 4, 0, 5])
    put("backlog", 0, [2, 1, 1, 0])
    put("ordered", 0, [4, 6, 2, 4])
    put("on_hand", 0, [0, 0, 2, 1])
    put("holding_cost", 0, [0, 0, 2, 1])
    put("backlog_cost", 0, [4, 2, 2, 0])
    put("on_hand", 1, [10, 10, 10, 10])
    traj = Trajectory(
        nodes=nodes,
        edges=edges,
        demand=np.array(demand).reshape(1, 4, 1),
        rewards=np.zeros((t_, b_, n_)),
        start_units=np.zeros(1),
        end_units=np.zeros(1),
        external_in=np.zeros((t_, b_)),
    )
    return net, traj


def test_hand_made_trajectory() -> None:
    net, traj = hand_trajectory()
    np.testing.assert_allclose(M.on_time(traj, net)[:, 0, 0], [3, 2, 0, 4])
    np.testing.assert_allclose(M.fill_rate(traj, net), [[0.75]])
    np.testing.assert_allclose(M.system_fill_rate(traj, net), [0.75])
    np.testing.assert_allclose(M.node_fill_rate(traj)[0, 0], 0.75)
    np.testing.assert_allclose(M.node_fill_rate(traj)[0, 1], 1.0)  # nothing requested of the supplier
    np.testing.assert_allclose(M.cycle_service_level(traj, net), [[0.5]])
    np.testing.assert_allclose(M.node_order_cv(traj), [[math.sqrt(8 / 3) / 4, 0.0]])
    np.testing.assert_allclose(M.bullwhip_cv(traj, net), [[math.sqrt(8 / 3) / 4, 0.0]])
    np.testing.assert_allclose(M.bullwhip_variance_ratio(traj, net), [[72 / 114, 0.0]])
    np.testing.assert_allclose(M.demand_cv(traj), [math.sqrt(114 / 27) / (8 / 3)])
    np.testing.assert_allclose(M.inventory_turns(traj, net), [[16.0]])
    np.testing.assert_allclose(M.system_turns(traj, net), [12 / 10.75])
    br = M.cost_breakdown(traj)
    assert br["holding_cost"][0, 0] == 3 and br["backlog_cost"][0, 0] == 8
    np.testing.assert_allclose(M.total_cost(traj), [[11.0, 0.0]])


def test_lost_sales_rollout_by_hand() -> None:
    """A lost-sales store with 5 on hand receives 3 a period from t = 1 (lead time 1; it orders 3 every
    period, the supplier nothing). Demand [4, 4, 1, 6]:

    t  stock before demand  demand  sold  lost  on hand
    0   5                     4       4     0     1
    1   1 + 3 = 4             4       4     0     0
    2   0 + 3 = 3             1       1     0     2
    3   2 + 3 = 5             6       5     1     0
    fill rate 14/15; cycle service 3/4; turns 14 / mean(1, 0, 2, 0) = 14 / 0.75.
    """
    sc = one_store(
        demand={"process": "fixed", "values": [4, 4, 1, 6]}, periods=4, lost_sales=True, store_stock=5
    )
    net = compile_network(validate_scenario(sc))
    traj = rollout(net, ConstantPolicy(np.array([3.0, 0.0])), episodes=1, seed=0)
    np.testing.assert_allclose(traj.node("sold")[:, 0, 0], [4, 4, 1, 5])
    np.testing.assert_allclose(traj.node("on_hand")[:, 0, 0], [1, 0, 2, 0])
    np.testing.assert_allclose(M.fill_rate(traj, net), [[14 / 15]])
    np.testing.assert_allclose(M.cycle_service_level(traj, net), [[0.75]])
    np.testing.assert_allclose(M.inventory_turns(traj, net), [[14 / 0.75]])
    np.testing.assert_allclose(M.customer_backlog(traj, net), 0.0)
    # constant orders: no variability at either level; the supplier never orders (CV 0 by convention)
    np.testing.assert_allclose(M.bullwhip_cv(traj, net), [[0.0, 0.0]])
    assert M.total_cost(traj)[0, 0] == pytest.approx(1 + 0 + 2 + 0 + 1)  # holding 3 + lost sales 1


def test_echelon_levels_and_errors() -> None:
    net = compile_network(load_scenario("net_2x3"))
    by_role = M.echelon_levels(net, "role")
    by_dist = M.echelon_levels(net, "distance")
    assert [lab for lab, _ in by_role] == ["store", "warehouse", "supplier"]
    assert [lab for lab, _ in by_dist] == ["d0", "d1", "d2"]
    for (_, a), (_, b) in zip(by_role, by_dist, strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="by: expected one of"):
        M.echelon_levels(net, "height")
    summed = rollout(net, ConstantPolicy(1.0), episodes=1, seed=0, keep="sum")
    with pytest.raises(ValueError, match="keep='all'"):
        M.fill_rate(summed, net)
    assert M.total_cost(summed).shape == (1, 6)  # costs work on summed trajectories


def test_gap_and_score() -> None:
    np.testing.assert_allclose(M.gap_to_bound([150.0, 100.0], [100.0, 100.0]), [0.5, 0.0])
    np.testing.assert_allclose(M.gap_to_bound(80.0, 100.0, objective="profit"), 0.2)
    np.testing.assert_allclose(M.normalised_score([300.0, 100.0, 200.0], 300.0, 100.0), [0.0, 1.0, 0.5])
    assert np.isnan(M.normalised_score(5.0, 5.0, 5.0))


# --------------------------------------------------------------------------------------------------
def newsvendor_cost(level: float, mean: float, std: float, h: float, b: float) -> float:
    """``G(S) = h E[(S - X)^+] + b E[(X - S)^+]`` for ``X ~ N(mean, std^2)``:
    ``E[(X - S)^+] = std (phi(z) - z (1 - Phi(z)))`` with ``z = (S - mean) / std``, and
    ``E[(S - X)^+] = (S - mean) + E[(X - S)^+]``."""
    z = (level - mean) / std
    over = std * (norm.pdf(z) - z * norm.sf(z))
    return h * ((level - mean) + over) + b * over


def test_base_stock_reproduces_newsvendor_cost() -> None:
    """Installation base-stock S at a backlogging store with lead time L, i.i.d. N(mu, sigma^2) demand.

    Derivation. Timing in a period t (the simulator's order): the policy sees the state at the start
    of t and orders; the supplier (huge stock) ships the order at once; a shipment sent in period t
    arrives at the start of period t + L (a lead time of L periods) and can serve that period's demand;
    then demand D_t is served (old backlog first); end-of-period stock is charged h per unit on hand
    and b per unit backlogged.

    The inventory position IP = on hand + in transit - backlog is raised to S by every order
    (demand >= 0 keeps IP <= S before ordering, so the order S - IP is never negative). Everything
    ordered up to period t has arrived by period t + L, and nothing ordered later has, so the net
    stock at the end of period t + L is

        NI_{t+L} = S - (D_t + D_{t+1} + ... + D_{t+L}) = S - D_{L+1},   D_{L+1} ~ N((L+1) mu, (L+1) sigma^2).

    The store's cost in period t + L is h NI^+ + b NI^-, so its expected per-period cost is the
    newsvendor G(S) = h E[(S - D_{L+1})^+] + b E[(D_{L+1} - S)^+], minimised at the critical
    fractile S* = (L+1) mu + sigma sqrt(L+1) z*, Phi(z*) = b / (b + h). It holds from period L on:
    the first order (S, placed at t = 0 from IP = 0) arrives at t = L, and the periods 0..L-1 only
    pile up backlog, so they are dropped. Only the store's cost counts: the supplier has zero holding
    and backlog cost and never orders (its base-stock level 0 is far below its stock).

    The simulated mean over periods L..T-1 of B independent episodes is compared with G(S) within
    4 standard errors, the standard error taken from the B per-episode means (periods within an
    episode are correlated over L+1 periods; episodes are independent). Three levels (S* and S* +- 8)
    run in one batch, one level per episode row.
    """
    mu, sigma, lead, h, b = 20.0, 5.0, 2, 1.0, 9.0
    periods, per_level = 400, 64
    sc = one_store(
        demand={"process": "normal", "mean": mu, "std": sigma, "integer": False},
        periods=periods,
        lead=lead,
        h=h,
        b=b,
        max_order=1e6,
    )
    net = compile_network(validate_scenario(sc))
    m, s = (lead + 1) * mu, sigma * math.sqrt(lead + 1)
    s_star = m + s * norm.ppf(b / (b + h))
    levels = np.array([s_star - 8, s_star, s_star + 8])
    per_row = np.zeros((len(levels) * per_level, 2))  # (B, N): store level per row, supplier 0
    per_row[:, 0] = np.repeat(levels, per_level)
    traj = rollout(net, BaseStockPolicy(per_row), episodes=per_row.shape[0], seed=2024)
    cost = (traj.node("holding_cost") + traj.node("backlog_cost"))[lead:, :, 0]  # (T - L, B) store only
    assert np.all(traj.cost()[:, 1] == 0)  # the supplier costs nothing
    episode_means = cost.mean(axis=0).reshape(len(levels), per_level)
    sim = episode_means.mean(axis=1)
    se = episode_means.std(axis=1, ddof=1) / math.sqrt(per_level)
    expected = np.array([newsvendor_cost(lv, m, s, h, b) for lv in levels])
    # at the optimum G(S*) = (h + b) * s * phi(z*): about 15.2 here
    assert expected[1] == pytest.approx((h + b) * s * norm.pdf(norm.ppf(b / (b + h))))
    np.testing.assert_array_less(np.abs(sim - expected), 4 * se)
    assert se.max() < 0.03 * expected[1]  # the check is sharp: within a few percent
    assert sim[1] < sim[0] and sim[1] < sim[2]  # the fractile level is the best of the three
