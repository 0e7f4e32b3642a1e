"""The retail profit ceiling (invmgmt_marl.bounds.retail): hand-checked instances, the envelope's
domination, "no simulated policy beats the ceiling" on random instances with every retail feature,
and agreement with the perfect-information LP of invmgmt_marl.oracle where both apply."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from invmgmt_marl.bounds.retail import retail_ceiling, retail_path, retail_profit_bound, revenue_envelope
from invmgmt_marl.compile import compile_network
from invmgmt_marl.oracle import perfect_information_bound
from invmgmt_marl.scenario import validate_scenario
from invmgmt_marl.sim import Network, SimState, initial_state, step
from invmgmt_marl.tasks import ledger_profit, passive_profit

Policy = Callable[[Network, SimState, int], tuple[Any, Any, Any]]


def _net(scenario: dict[str, Any]) -> Network:
    return compile_network(validate_scenario(scenario))


def _one_product(cash: float | None, periods: int = 3) -> Network:
    store: dict[str, Any] = {"role": "store", "lost_sales": True, "initial_on_hand": 6}
    if cash is not None:
        store["cash"] = {"initial": cash}
    return _net(
        {
            "periods": periods,
            "nodes": [store],
            "edges": [{"from": "external", "to": "store_0", "lead_time": 1}],
            "products": [
                {
                    "name": "a",
                    "price": 10,
                    "unit_cost": 4,
                    "holding_cost": 1,
                    "max_order": 100,
                    "demand": {"process": "constant", "value": 4},
                },
            ],
        }
    )


def _simulate(net: Network, demand: Any, supply: Any, policy: Policy) -> float:
    """The task profit (tasks.ledger_profit summed) of one episode driven through sim.step."""
    state = initial_state(net, 1)
    total = 0.0
    for t in range(net.periods):
        orders, liquidate, price = policy(net, state, t)
        shock = None if supply is None else supply.at(t)
        state, led = step(net, state, orders, demand[None, t], shock, liquidate=liquidate, price=price)
        total += ledger_profit(net, led)
    return total


def _fixed_orders(orders: np.ndarray) -> Policy:
    def policy(net: Network, state: SimState, t: int) -> tuple[Any, Any, Any]:
        return orders[t][None], None, None

    return policy


# ---- hand-checked


@pytest.mark.parametrize(
    ("cash", "expected", "plan"),
    [
        # demand 5, 3, 4; 6 in stock; lead time 1, so orders of periods 0 and 1 serve periods 1 and 2.
        # Unlimited cash: order 2 then 4, sell all 12: 120 - 4 x 6 - holding 1 (1 unit left after
        # period 0) = 95.
        (1000.0, 95.0, [2.0, 4.0, 0.0]),
        # Cash 5: period 0 can pay 5 / 4 = 1.25 units; period 1 has 5 - 5 + 50 = 50 and pays 4 x 4.
        # Sales 5 + 2.25 + 4 = 11.25 -> 112.5 - (5 + 16) - 1 = 90.5.
        (5.0, 90.5, [1.25, 4.0, 0.0]),
    ],
)
def test_hand_checked_one_product_three_periods(cash: float, expected: float, plan: list[float]) -> None:
    net = _one_product(cash)
    demand = np.array([5.0, 3.0, 4.0]).reshape(3, 1, 1)
    res = retail_profit_bound(net, demand)
    assert res.value == pytest.approx(expected, abs=1e-6)
    # the bound is attained: the hand plan, simulated, makes exactly that profit
    orders = np.array(plan).reshape(3, 1, 1)
    assert _simulate(net, demand, None, _fixed_orders(orders)) == pytest.approx(expected, abs=1e-9)
    # and the LP's own plan orders what the hand plan orders in periods 0 and 1
    np.testing.assert_allclose(res.orders[:2, 0, 0], plan[:2], atol=1e-6)


def test_hand_checked_price_envelope_one_period() -> None:
    """One period, 20 in stock, base demand 10, elasticity 1, multipliers 0.5..1.5, list price 10.

    Demand at m is rint(10 / m). To sell k units (k an integer) m may be at most 10 / (k - 0.5) (and
    1.5), so revenue is at most 10 k min(1.5, 10 / (k - 0.5)): k = 7: 105, k = 8: 106.67, k = 9:
    105.88, k = 10: 105.26, falling after. The ceiling is the top of their concave hull, 800 / 7.5 =
    106.67, and a real price reaches it: m = 10 / 7.5 gives rint(7.5) = 8 units (halves to even) at
    10 x 1.3333 each.
    """
    store = {"role": "store", "lost_sales": True, "initial_on_hand": 20, "pricing": {"min": 0.5, "max": 1.5}}
    net = _net(
        {
            "periods": 1,
            "nodes": [store],
            "edges": [{"from": "external", "to": "store_0", "lead_time": 1}],
            "products": [
                {
                    "name": "a",
                    "price": 10,
                    "unit_cost": 4,
                    "price_elasticity": 1.0,
                    "demand": {"process": "constant", "value": 10},
                }
            ],
        }
    )
    demand = np.full((1, 1, 1), 10.0)
    ceiling = retail_ceiling(net, demand)
    assert ceiling == pytest.approx(800 / 7.5, rel=1e-6)
    best = 0.0
    for m in np.linspace(0.5, 1.5, 2001):
        price = np.full((1, 1, 1), m)
        best = max(
            best, _simulate(net, demand, None, lambda n, s, t, p=price: (np.zeros((1, 1, 1)), None, p))
        )
    assert ceiling - 0.05 <= best <= ceiling


def test_envelope_dominates_every_price() -> None:
    """For every multiplier m on a fine grid and every q <= d(m), p m q <= envelope(q)."""
    rng = np.random.default_rng(3)
    for _ in range(60):
        base = float(rng.integers(0, 40)) if rng.random() < 0.8 else float(rng.uniform(0, 40))
        e = float(rng.choice([0.0, 0.4, 0.8, 1.0, 1.3, 2.5]))
        lo, hi = float(rng.uniform(0.3, 1.0)), float(rng.uniform(1.0, 2.0))
        integer = bool(rng.random() < 0.7)
        price = float(rng.uniform(1, 200))
        qmax, facets = revenue_envelope(base, price, lo, hi, e, integer, segments=16)
        for m in np.linspace(lo, hi, 301):
            x = base * m**-e
            dm = float(np.rint(x)) if integer else x
            assert dm <= qmax + 1e-9
            q = np.linspace(0.0, dm, 25)
            env = (facets[:, :1] * q[None] + facets[:, 1:]).min(axis=0)
            assert np.all(price * m * q <= env + 1e-7 * (1 + env))


# ---- random instances with every retail feature: no simulated policy beats the ceiling


def _random_scenario(rng: np.random.Generator) -> dict[str, Any]:
    periods = int(rng.integers(6, 11))
    store: dict[str, Any] = {
        "role": "store",
        "lost_sales": True,
        "holding_cost": float(rng.uniform(0, 0.5)),
        "lost_sales_cost": float(rng.uniform(0, 2)),
        "storage_capacity": float(rng.integers(40, 120)),
        "overflow": str(rng.choice(["refuse", "refuse", "keep"])),
        "overflow_cost": float(rng.uniform(0, 1)),
        "cash": {"initial": float(rng.integers(50, 600)), "rule": str(rng.choice(["reject", "scale"]))},
        "liquidation": {"salvage": float(rng.uniform(0, 0.6))},
        "pricing": {"min": 0.5, "max": 1.5},
    }
    if rng.random() < 0.5:
        store["order_budget"] = float(rng.integers(40, 200))
    products = []
    for k in range(int(rng.integers(2, 4))):
        cost = float(rng.integers(3, 40))
        prod: dict[str, Any] = {
            "name": f"p{k}",
            "unit_cost": cost,
            "price": round(cost * float(rng.uniform(1.3, 2.2)), 2),
            "price_elasticity": float(rng.choice([0.4, 0.8, 1.2, 1.5])),
            "volume": float(rng.choice([1, 2])),
            "initial_on_hand": float(rng.integers(0, 15)),
            "demand": {
                "process": "uniform",
                "low": 1,
                "high": int(rng.integers(3, 12)),
                "weekly": [1, 1, 1, 1, 1, 1.2, 1.2],
                "integer": bool(rng.random() < 0.75),
            },
        }
        if k == 0:
            prod["shelf_life"] = int(rng.integers(1, 5))
            prod["waste_cost"] = float(rng.uniform(0, 1))
        products.append(prod)
    return {
        "periods": periods,
        "nodes": [store],
        "edges": [
            {
                "from": "external",
                "to": "store_0",
                "max_order": 20,
                "modes": [
                    {"name": "slow", "unit_cost": 1, "lead_time": [2, 4]},
                    {"name": "fast", "unit_cost": 4, "lead_time": 1, "fixed_cost": float(rng.uniform(0, 5))},
                ],
                "transit_holding_cost": float(rng.uniform(0, 0.2)),
            }
        ],
        "products": products,
        "events": [{"name": "rush", "start": 2, "duration": 2, "factor": {"p1": 2.5}}],
    }


def _random_policy(rng: np.random.Generator, density: float) -> Policy:
    def policy(net: Network, state: SimState, t: int) -> tuple[Any, Any, Any]:
        shape = (1, net.n_products, net.n_edges)
        orders = rng.uniform(0, 1, shape) * net.max_order * (rng.random(shape) < density)
        liquidate = rng.uniform(0, 3, (1, net.n_products, 1)) * (rng.random((1, net.n_products, 1)) < 0.2)
        price = rng.uniform(0.5, 1.5, (1, net.n_products, 1))
        return orders, liquidate, price

    return policy


def _base_stock(level: float, price: float) -> Policy:
    """Order up to ``level`` x mean base demand on the fast mode (the last edge) at one multiplier."""

    def policy(net: Network, state: SimState, t: int) -> tuple[Any, Any, Any]:
        position = state.on_hand[0, :, 0] + state.pipeline[0].sum(axis=(1, 2))
        target = level * np.array([spec.params.high / 2 + 1 for spec in net.demand_specs])
        orders = np.zeros((1, net.n_products, net.n_edges))
        orders[0, :, -1] = np.clip(target - position, 0, net.max_order[:, -1])
        return orders, None, np.full((1, net.n_products, 1), price)

    return policy


def _lp_plan(net: Network, demand: Any, plan: Any) -> Policy:
    """Replay an LP plan: its orders, and at each (period, product) the highest multiplier at which
    the (rounded) demand still covers the units the plan sells."""
    lo, hi = net.price_bounds[:, 0]
    e = np.maximum(net.price_elasticity[:, 0], 1e-9)

    def policy(n: Network, state: SimState, t: int) -> tuple[Any, Any, Any]:
        if not n.any_pricing:
            return plan.orders[t][None], None, None
        q, base = plan.sold[t], demand[t, :, 0]
        k = np.ceil(q - 1e-6)
        # integer demand: rint(D m^-e) >= k needs D m^-e >= k - 0.5; otherwise D m^-e >= q
        need = np.where(n.demand_integer[:, 0], k - 0.5, q)
        with np.errstate(divide="ignore", over="ignore"):
            m = np.where(need > 1e-9, (base / np.maximum(need, 1e-9)) ** (1 / e) * (1 - 1e-9), hi)
        return plan.orders[t][None], None, np.clip(m, lo, hi).reshape(1, -1, 1)

    return policy


@pytest.mark.parametrize("case", range(8))
def test_no_simulated_policy_beats_the_ceiling(case: int) -> None:
    rng = np.random.default_rng(100 + case)
    net = _net(_random_scenario(rng))
    assert net.any_cash and net.any_pricing and net.any_liquidation and net.any_perishable_products
    assert net.any_lead_jitter and net.any_shared_storage and net.any_events
    seed = int(rng.integers(0, 1000))
    demand, supply = retail_path(net, seed)
    plan = retail_profit_bound(net, demand, supply)
    ceiling = plan.value
    profits = {
        "passive": _simulate(
            net, demand, supply, lambda n, s, t: (np.zeros((1, n.n_products, n.n_edges)), None, None)
        )
    }
    assert profits["passive"] == pytest.approx(passive_profit(net, seed))  # the same path as the tasks' floor
    for level in (1.0, 2.0, 3.0):
        for m in (0.7, 1.0, 1.3):
            profits[f"base_stock {level} {m}"] = _simulate(net, demand, supply, _base_stock(level, m))
    for k in range(40):
        profits[f"random {k}"] = _simulate(net, demand, supply, _random_policy(rng, density=0.1 + 0.02 * k))
    profits["LP plan"] = _simulate(net, demand, supply, _lp_plan(net, demand, plan))
    best = max(profits.values())
    assert best <= ceiling + 1e-6, (best, ceiling)
    assert best > profits["passive"]  # the policies are not all trivial
    # the ceiling is nearly attained: the LP's own plan, simulated, makes 92-100% of it here
    assert profits["LP plan"] >= ceiling - 0.1 * abs(ceiling)


# ---- agreement with the perfect-information LP of invmgmt_marl.oracle


#: the fields that carry a leading product axis in a product network (docs/products.md)
_PER_PRODUCT = (
    "holding_cost",
    "backlog_cost",
    "lost_sales_cost",
    "price",
    "initial_on_hand",
    "unit_cost",
    "max_order",
    "lead_time",
    "initial_orders",
    "initial_pipeline",
    "initial_backlog",
    "initial_demand",
)


def _product_net(periods: int, lead: int, seed: int) -> Network:
    """A single store buying one product from the external source (no pricing, no cash)."""
    rng = np.random.default_rng(seed)
    return _net(
        {
            "periods": periods,
            "nodes": [
                {
                    "role": "store",
                    "lost_sales": True,
                    "initial_on_hand": 5,
                    "holding_cost": float(rng.uniform(0, 1)),
                    "lost_sales_cost": float(rng.uniform(0, 3)),
                }
            ],
            "edges": [
                {
                    "from": "external",
                    "to": "store_0",
                    "lead_time": lead,
                    "max_order": 15,
                    "fixed_cost": float(rng.choice([0.0, 6.0])),
                }
            ],
            "products": [
                {
                    "name": "a",
                    "price": 12,
                    "unit_cost": float(rng.integers(3, 9)),
                    "demand": {"process": "uniform", "low": 2, "high": 9},
                }
            ],
        }
    )


def _squeezed(net: Network) -> Network:
    """The same network without its (length-1) product axis, as the oracle reads networks.

    A plain scenario cannot express a store buying from the external source (only product scenarios
    can), so the network is squeezed instead; the test checks that the simulator agrees on both.
    """
    changes: dict[str, Any] = {name: np.asarray(getattr(net, name))[0] for name in _PER_PRODUCT}
    return dataclasses.replace(net, product_axis=False, n_products=1, products=(), **changes)


@pytest.mark.parametrize(("periods", "lead", "seed"), [(8, 1, 0), (12, 2, 1), (15, 3, 2)])
def test_equals_the_oracle_without_pricing_and_cash(periods: int, lead: int, seed: int) -> None:
    prod = _product_net(periods, lead, seed)
    plain = _squeezed(prod)
    rng = np.random.default_rng(seed)
    d = rng.integers(0, 12, size=periods).astype(np.float64)
    # the simulator agrees on both forms (the same orders give the same profit)
    orders = rng.uniform(0, 15, size=periods)
    state_p, state_q, profit_p, profit_q = initial_state(prod, 1), initial_state(plain, 1), 0.0, 0.0
    for t in range(periods):
        state_p, led_p = step(prod, state_p, orders[t].reshape(1, 1, 1), d[t].reshape(1, 1, 1))
        state_q, led_q = step(plain, state_q, orders[t].reshape(1, 1), d[t].reshape(1, 1))
        profit_p += ledger_profit(prod, led_p)
        profit_q += ledger_profit(plain, led_q)
    assert profit_p == pytest.approx(profit_q, abs=1e-9)
    # the two LPs, written independently, agree (fixed costs: both relax y to [0, 1])
    ours = retail_profit_bound(prod, d.reshape(periods, 1, 1)).value
    theirs = perfect_information_bound(plain, d.reshape(periods, 1), objective="profit", setups="relaxed")
    assert ours == pytest.approx(theirs.objective, rel=1e-9, abs=1e-6)
    assert ours >= profit_p - 1e-9


def test_refuses_what_it_does_not_model() -> None:
    prod = _product_net(5, 1, 0)
    plain = _squeezed(prod)
    with pytest.raises(ValueError, match="products"):
        retail_profit_bound(plain, np.zeros((5, 1, 1)))
    with pytest.raises(ValueError, match="demand"):
        retail_profit_bound(prod, np.zeros((4, 1, 1)))
    with pytest.raises(ValueError, match="segments"):
        retail_profit_bound(prod, np.zeros((5, 1, 1)), segments=0)


def test_product_task_without_hooks_gets_the_proven_ceiling() -> None:
    """sku50_1w (one store, 50 products, shared storage, 100 periods): tasks.ceiling is this LP, and
    no policy simulated on the task's path beats it (passive = the floor, order-up-to levels, the LP's
    own plan)."""
    from invmgmt_marl.tasks import Task, ceiling, floor, task_network

    task = Task("sku50_ceiling_test", "x", scenario="sku50_1w")
    net = task_network(task)
    top = ceiling(task, 3)
    assert top.kind == "ceiling"
    demand, supply = retail_path(net, 3)
    plan = retail_profit_bound(net, demand, supply)
    assert plan.value == top.value
    mean = demand[:, :, 0].mean(axis=0)

    def up_to(level: float) -> Policy:
        def policy(n: Network, state: SimState, t: int) -> tuple[Any, Any, Any]:
            position = state.on_hand[0, :, 0] + state.pipeline[0].sum(axis=(1, 2))
            orders = np.clip(level * mean - position, 0, n.max_order[:, 0])
            return orders.reshape(1, -1, 1), None, None

        return policy

    profits = [floor(task, 3), _simulate(net, demand, supply, _lp_plan(net, demand, plan))]
    profits += [_simulate(net, demand, supply, up_to(level)) for level in (2.0, 4.0, 8.0)]
    assert max(profits) <= top.value + 1e-6
    # without prices the ceiling is exact here: the LP's plan, simulated, attains it
    assert profits[1] == pytest.approx(top.value, rel=1e-6)
