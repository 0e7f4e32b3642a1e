"""GET /state's retail block on a retail task (in-process app): values checked by hand and against the
episode played in-process."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import invmgmt_marl


def _action() -> list[float]:
    a = [0.0] * 25  # orders (5 products x slow, medium, fast), liquidation x 5, price x 5
    a[2] = 2.0  # electronics, fast: arrives the next day
    a[3] = 4.0  # clothing, slow: 3-7 days
    a[20:] = [1.0] * 5
    a[21] = 0.8  # clothing at 0.8 x list
    return a


def test_retail_block_by_hand(client: Any) -> None:
    sid = client.post("/reset", json={"task": "retail_medium", "seed": 0}).json()["session_id"]
    r0 = client.get("/state", params={"session_id": sid}).json()["retail"]
    assert r0["modes"] == ["slow", "medium", "fast"] and r0["last_period"] is None
    # at t = 0 the countdowns are the start days (docs/retail.md: events on days 6, 12, 18, 24, 28)
    assert {e["name"]: e["starts_in"] for e in r0["events"]} == {
        "black_friday": 6,
        "christmas": 12,
        "new_competitor": 18,
        "back_to_school": 24,
        "holiday_feast": 28,
    }
    labels = r0["actions"]["store_0"]["labels"]
    assert labels[:3] == ["order electronics slow", "order electronics medium", "order electronics fast"]
    assert labels[15] == "liquidate electronics" and labels[24] == "price toys (x list)"
    assert r0["actions"]["store_0"]["defaults"] == [0.0] * 20 + [1.0] * 5
    assert r0["nodes"][0]["cash"] == 2000.0 and r0["nodes"][0]["batches"]["groceries"] == [20, 0, 0, 0, 0]
    for _ in range(3):
        assert (
            client.post("/step", json={"session_id": sid, "action": {"store_0": _action()}}).status_code
            == 200
        )
    r = client.get("/state", params={"session_id": sid}).json()["retail"]
    assert r["t"] == 3
    assert {e["name"]: e["starts_in"] for e in r["events"]}["black_friday"] == 3
    assert r["prices"]["store_0"]["clothing"] == pytest.approx(0.8)
    transit = r["nodes"][0]["in_transit"]
    # the fast electronics ordered on day 2 arrive in the next period played; the day-0 and day-1 ones
    # have arrived; three slow clothing lines of 4 (placed on days 0-2) are on their way
    assert [x for x in transit if x["product"] == "electronics"] == [
        {"product": "electronics", "mode": "fast", "quantity": 2.0, "arrives_in": 0}
    ]
    clothing = [x for x in transit if x["product"] == "clothing"]
    assert sum(x["quantity"] for x in clothing) == 12.0 and {x["mode"] for x in clothing} == {"slow"}
    assert all(1 <= x["arrives_in"] <= 6 for x in clothing)
    # cash: 2000 - 3 x (2 x 110 + 4 x 27) + the sales revenue of the three days, as in-process
    env = invmgmt_marl.parallel_env("retail_medium")
    env.reset(seed=0)
    revenue = 0.0
    for _ in range(3):
        env.step({"store_0": np.array(_action(), dtype=np.float32)})
        revenue += float(env.last_ledger.revenue.sum())
    assert r["nodes"][0]["cash"] == pytest.approx(2000 - 3 * (2 * 110 + 4 * 27) + revenue)
    last = r["last_period"]["store_0"]
    assert [last[p]["sold"] for p in r["products"]] == env.last_ledger.sold[0, :, 0].tolist()
    assert last["clothing"]["revenue"] == pytest.approx(last["clothing"]["sold"] * 40 * 0.8)


def test_no_retail_block_for_plain_scenarios(client: Any) -> None:
    sid = client.post("/reset", json={"scenario": "serial", "seed": 0}).json()["session_id"]
    assert client.get("/state", params={"session_id": sid}).json()["retail"] is None
