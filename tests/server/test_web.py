"""The page at /web in a real headless browser (Debian's chromium + chromedriver, driven by selenium):
load it, play three days with orders typed by hand, and check the numbers it shows against GET /state.

Skipped, with the reason, when selenium, chromium or chromedriver is not installed
(``apt-get install chromium chromium-driver``; ``pip install selenium``).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = next(
    (p for p in ("/usr/bin/chromium", shutil.which("chromium") or "") if p and Path(p).exists()), None
)
DRIVER = next(
    (p for p in ("/usr/bin/chromedriver", shutil.which("chromedriver") or "") if p and Path(p).exists()), None
)

webdriver = pytest.importorskip(
    "selenium.webdriver", reason="the web page test needs selenium (pip install selenium)"
)
pytestmark = [
    pytest.mark.slow,  # about 8 s: starting chromium dominates
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium browser (apt-get install chromium)"),
    pytest.mark.skipif(DRIVER is None, reason="no chromedriver (apt-get install chromium-driver)"),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="invmgmt-chromium-")
    opts = Options()
    opts.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
    ):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(DRIVER)), options=opts)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _wait(driver: Any, condition: Any, timeout: float = 20.0) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


def _text(driver: Any, element_id: str) -> str:
    from selenium.webdriver.common.by import By

    return str(driver.find_element(By.ID, element_id).text)


def test_play_three_days_and_match_state(live_server: str, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get(f"{live_server}/web")
    _wait(browser, lambda d: len(Select(d.find_element(By.ID, "task")).options) > 1)
    Select(browser.find_element(By.ID, "task")).select_by_value("serial")
    seed = browser.find_element(By.ID, "seed")
    seed.clear()
    seed.send_keys("3")
    browser.find_element(By.ID, "reset").click()
    _wait(browser, lambda d: _text(d, "t") == "0" and _text(d, "session") != "-")
    sid = _text(browser, "session")
    orders = {"store_0": "7", "warehouse_0": "9", "supplier_0": "11.5"}
    for day in range(1, 4):
        for agent, q in orders.items():
            box = browser.find_element(By.ID, f"order-{agent}-0")
            box.clear()
            box.send_keys(q)
        browser.find_element(By.ID, "step").click()
        _wait(browser, lambda d, day=day: _text(d, "t") == str(day))
    assert _text(browser, "error") == ""

    state = httpx.get(f"{live_server}/state", params={"session_id": sid}, timeout=30).json()
    assert state["t"] == 3 and state["task"] == "serial" and state["seed"] == 3
    assert [h["t"] for h in state["history"]] == [0, 1, 2]
    assert sorted(state["sim"]["last_orders"]) == [7.0, 9.0, 11.5]  # what was typed reached the simulator
    assert _text(browser, "profit") == f"{state['profit']:.2f}"
    assert _text(browser, "periods") == str(state["periods"])
    for node in state["nodes"]:
        name = node["name"]
        assert _text(browser, f"onhand-{name}") == f"{node['on_hand']:.2f}"
        assert _text(browser, f"transit-{name}") == f"{node['in_transit']:.2f}"
        assert _text(browser, f"backlog-{name}") == f"{node['backlog']:.2f}"
    # the charts drew one point per day played
    lines = browser.find_elements(By.CSS_SELECTOR, "#units polyline")
    assert len(lines) == 2 and len(lines[0].get_attribute("points").split()) == 3
