"""The /web page's retail view in a real headless browser: play three days of a retail task with
orders, a liquidation and a price typed by hand, and check the numbers shown against GET /state
(and the state against the same episode played in-process). Skipped like tests/server/test_web.py
when chromium, chromedriver or selenium is missing."""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np
import pytest

import invmgmt_marl
from tests.server.test_web import CHROMIUM, DRIVER, _text, _wait, browser  # noqa: F401 (the fixture)

pytestmark = [
    pytest.mark.slow,  # starting chromium dominates
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium browser (apt-get install chromium)"),
    pytest.mark.skipif(DRIVER is None, reason="no chromedriver (apt-get install chromium-driver)"),
]

# the node agent's 25 entries: orders (5 products x slow, medium, fast), liquidation x 5, price x 5
TYPED = {
    2: "2",
    6: "10",
    16: "1",
    24: "1.2",
}  # electronics fast 2, groceries slow 10, liquidate 1 clothing, toys at 1.2x


def _fmt(x: float) -> str:
    return f"{x:.2f}"


def test_retail_view_three_days(live_server: str, browser: Any) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get(f"{live_server}/web")
    _wait(
        browser,
        lambda d: (
            "retail_easy" in [o.get_attribute("value") for o in Select(d.find_element(By.ID, "task")).options]
        ),
    )
    Select(browser.find_element(By.ID, "task")).select_by_value("retail_easy")
    seed = browser.find_element(By.ID, "seed")
    seed.clear()
    seed.send_keys("2")
    browser.find_element(By.ID, "reset").click()
    _wait(browser, lambda d: _text(d, "t") == "0" and _text(d, "session") != "-")
    _wait(
        browser, lambda d: d.find_element(By.ID, "order-store_0-24").get_attribute("data-label") is not None
    )
    # the entries are labelled, prices default to 1 (not the lower bound)
    price_box = browser.find_element(By.ID, "order-store_0-24")
    assert price_box.get_attribute("data-label") == "price toys (x list)"
    assert price_box.get_attribute("value") == "1"
    assert (
        browser.find_element(By.ID, "order-store_0-2").get_attribute("data-label") == "order electronics fast"
    )
    assert browser.find_element(By.ID, "order-store_0-16").get_attribute("data-label") == "liquidate clothing"
    sid = _text(browser, "session")
    for day in range(1, 4):
        for k, q in TYPED.items():
            box = browser.find_element(By.ID, f"order-store_0-{k}")
            box.clear()
            box.send_keys(q)
        browser.find_element(By.ID, "step").click()
        _wait(browser, lambda d, day=day: _text(d, "t") == str(day))
    assert _text(browser, "error") == ""

    state = httpx.get(f"{live_server}/state", params={"session_id": sid}, timeout=30).json()
    r = state["retail"]
    assert state["t"] == 3 and r["t"] == 3 and state["task"] == "retail_easy"
    node = r["nodes"][0]
    assert _text(browser, "retail-cash") == _fmt(node["cash"])
    for p in r["products"]:
        assert _text(browser, f"stock-{p}") == _fmt(node["stock"][p])
        assert _text(browser, f"price-{p}") == _fmt(r["prices"]["store_0"][p])
        last = r["last_period"]["store_0"][p]
        for key in ("demand", "sold", "missed", "revenue", "expired"):
            assert _text(browser, f"{key}-{p}") == _fmt(last[key])
    assert _text(browser, "batches-groceries") == " / ".join(_fmt(x) for x in node["batches"]["groceries"])
    lines = browser.find_element(By.ID, "retail-transit").get_attribute("data-lines")
    assert int(lines) == len(node["in_transit"])
    assert r["prices"]["store_0"]["toys"] == pytest.approx(1.2)

    # the same three days in-process: the state the page showed is the episode's
    env = invmgmt_marl.parallel_env("retail_easy")
    env.reset(seed=2)
    action = np.zeros(25, dtype=np.float32)
    action[20:] = 1.0
    for k, q in TYPED.items():
        action[k] = float(q)
    for _ in range(3):
        env.step({"store_0": action})
    assert node["cash"] == pytest.approx(float(env.sim_state.cash[0, 0]))
    assert [node["stock"][p] for p in r["products"]] == env.sim_state.on_hand[0, :, 0].tolist()
    assert state["profit"] == pytest.approx(float(sum(h["profit"] for h in state["history"])))
