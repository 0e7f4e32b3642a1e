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
