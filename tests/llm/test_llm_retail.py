"""LLM agents on a retail scenario: mode-named order slots, liquidation and price slots (prices default
to the list price), and the episode's revenue at the chosen prices."""

from __future__ import annotations

import json

import numpy as np
import pytest

import invmgmt_marl
from invmgmt_marl.errors import InvalidActionError
from invmgmt_marl.llm import (
    ChatAgent,
    action_schema,
    action_slots,
    observation_text,
    parse_actions,
    play_episode,
)


def test_slots_and_defaults() -> None:
    env = invmgmt_marl.parallel_env("retail_medium")
    env.reset(seed=0)
    slots = action_slots(env)["store_0"]
    assert [s.label for s in slots[:3]] == [
        "electronics/external:slow",
        "electronics/external:medium",
        "electronics/external:fast",
    ]
    assert [s.label for s in slots[15:]] == [f"liquidate/{p}" for p in env.net.products] + [
        f"price/{p}" for p in env.net.products
    ]
    assert [s.index for s in slots] == list(range(25))
    prop = action_schema(env)["properties"]["orders"]["properties"]["store_0"]["properties"]
    assert (prop["price/toys"]["minimum"], prop["price/toys"]["maximum"]) == (0.5, 1.5)
    reply = json.dumps(
        {"orders": {"store_0": {"electronics/external:fast": 2, "price/toys": 1.2, "liquidate/clothing": 1}}}
    )
    vec = parse_actions(env, reply)["store_0"]
    expected = np.zeros(25, dtype=np.float32)
    expected[2], expected[16] = 2, 1
    expected[20:] = 1.0  # prices left out: the list price, not the lower bound
    expected[24] = np.float32(1.2)
    assert vec.tolist() == expected.tolist()
    with pytest.raises(InvalidActionError, match=r"price/toys.*\[0.5, 1.5\]"):
        parse_actions(env, json.dumps({"orders": {"store_0": {"price/toys": 0.2}}}))


def test_scripted_episode_equals_direct_actions() -> None:
    reply = json.dumps({"orders": {"store_0": {"toys/external:slow": 5, "price/clothing": 0.9}}})
    env = invmgmt_marl.parallel_env("retail_easy")
    res = play_episode(env, ChatAgent(lambda messages: reply), seed=4)
    assert res.failures == 0
    direct = invmgmt_marl.parallel_env("retail_easy")
    direct.reset(seed=4)
    action = np.zeros(25, dtype=np.float32)
    action[12], action[20:] = 5, 1.0
    action[21] = np.float32(0.9)
    revenue = 0.0
    for _ in range(30):
        direct.step({"store_0": action})
        revenue += float(direct.last_ledger.revenue.sum())
    assert res.revenue == pytest.approx(revenue)


def test_text_shows_each_modes_unit_cost_and_lead_time() -> None:
    # issue 14's facts: product cost (electronics 100, groceries 5) + shipping slow 2 / medium 5 /
    # fast 10 per unit; lead times slow 3-7, medium 2-4, fast next day (1)
    env = invmgmt_marl.parallel_env("retail_medium")
    env.reset(seed=0)
    lines = observation_text(env).splitlines()

    def line(src: str, product: str) -> str:
        (hit,) = [x for x in lines if x.startswith(f"  from {src}, {product}:")]
        return hit

    for product, cost in (("electronics", 100), ("groceries", 5)):
        for mode, ship, lead in (("slow", 2, "3-7"), ("medium", 5, "2-4"), ("fast", 10, "1")):
            assert f": unit cost {cost + ship}, lead time {lead} period(s)," in line(
                f"external:{mode}", product
            )
    # the system prompt tells the model where to read them
    assert "unit cost of ordering there" in ChatAgent(lambda m: "{}").system_prompt(env)


def test_text_shows_unit_and_fixed_costs_without_products() -> None:
    # net_2x3.yaml: store_0 buys from warehouse_0 (lead 4, 0.1 a unit) and warehouse_1 (lead 2, 0.2)
    env = invmgmt_marl.parallel_env("net_2x3")
    env.reset(seed=0)
    text = observation_text(env)
    assert "  from warehouse_0: unit cost 0.1, lead time 4 period(s), last order" in text
    assert "  from warehouse_1: unit cost 0.2, lead time 2 period(s), last order" in text
    assert "fixed cost" not in text
    # a fixed cost per order is named when the edge has one (distribution_tree.yaml: 10 per order)
    tree = invmgmt_marl.parallel_env("distribution_tree")
    tree.reset(seed=0)
    assert "unit cost 6, fixed cost 10 per order, lead time 2 period(s)" in observation_text(tree)
