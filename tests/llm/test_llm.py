"""The LLM agent layer: text rendering, the JSON action format, the chat loop and the HTTP client.

No model is reachable here: the chat functions are scripted, and the HTTP client talks to a local
stand-in for an OpenAI-compatible server (http.server on a free port).
"""

from __future__ import annotations

import json
import runpy
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import invmgmt_marl
from invmgmt_marl.errors import InvalidActionError
from invmgmt_marl.llm import (
    MAX_REPLY_CHARS,
    ChatAgent,
    action_schema,
    action_slots,
    observation_text,
    openai_chat,
    parse_actions,
    play_episode,
)
from invmgmt_marl.sim.ledger import COST_FIELDS

ROOT = Path(__file__).resolve().parents[2]


def _serial(**kw: Any) -> invmgmt_marl.InventoryParallelEnv:
    return invmgmt_marl.parallel_env("serial", periods=6, action_type="box", **kw)


def _constant_reply(env: Any, q: float) -> str:
    return json.dumps({"orders": {a: {s.label: q for s in sl} for a, sl in action_slots(env).items()}})


def test_slots_name_sources_and_bounds() -> None:
    env = _serial()
    slots = action_slots(env)
    assert [(s.label, s.high) for s in slots["store_0"]] == [("warehouse_0", 20.0)]
    assert [s.label for s in slots["supplier_0"]] == ["external"]
    schema = action_schema(env)
    store = schema["properties"]["orders"]["properties"]["store_0"]
    assert store["properties"]["warehouse_0"] == {"type": "number", "minimum": 0, "maximum": 20.0}
    assert store["additionalProperties"] is False


def test_slots_with_products_are_product_major() -> None:
    env = invmgmt_marl.parallel_env("sku50_1w", agents="node")
    labels = [s.label for s in action_slots(env)["store_0"]]
    assert labels[:2] == [f"{env.net.products[0]}/external", f"{env.net.products[1]}/external"]
    assert len(labels) == 50
    sku = invmgmt_marl.parallel_env("sku50_1w", agents="node_product")
    assert [s.label for s in action_slots(sku)[sku.possible_agents[3]]] == ["external"]


def test_order_up_to_envs_are_refused() -> None:
    env = invmgmt_marl.parallel_env("serial", action_type="order_up_to")
    with pytest.raises(ValueError, match="action_type: LLM agents give order quantities"):
        action_slots(env)


def test_parse_accepts_bare_fenced_and_embedded_json() -> None:
    env = _serial()
    env.reset(seed=0)
    for reply in (
        '{"orders": {"store_0": {"warehouse_0": 7.5}}}',
        'Here:\n```json\n{"orders": {"store_0": {"warehouse_0": 7.5}}}\n```\nDone.',
        'I order {"orders": {"store_0": {"warehouse_0": 7.5}}} this time',
    ):
        actions = parse_actions(env, reply)
        assert actions["store_0"].tolist() == [7.5]
        assert actions["warehouse_0"].tolist() == [0.0]  # slots left out order nothing
        assert actions["supplier_0"].dtype == env.action_space("supplier_0").dtype


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ("no json here", "no JSON object"),
        ('{"orders": [1, 2]}', "expected an object"),
        ('{"orders": {"shop": {}}}', "unknown agent 'shop'"),
        ('{"orders": {"store_0": {"factory": 1}}}', r"orders\['store_0'\]\['factory'\]: unknown slot"),
        ('{"orders": {"store_0": {"warehouse_0": -1}}}', r"must be in \[0, 20\], got -1"),
        ('{"orders": {"store_0": {"warehouse_0": 21}}}', r"must be in \[0, 20\], got 21"),
        ('{"orders": {"store_0": {"warehouse_0": "5"}}}', "expected a number, got '5'"),
        ('{"orders": {"store_0": {"warehouse_0": true}}}', "expected a number"),
        ('{"orders": {"store_0": 5}}', r"orders\['store_0'\]: expected an object"),
        # hostile numbers (Python's json reads NaN and Infinity): refused, never passed to the simulator
        ('{"orders": {"store_0": {"warehouse_0": NaN}}}', "expected a number, got nan"),
        ('{"orders": {"store_0": {"warehouse_0": Infinity}}}', "expected a number, got inf"),
        ('{"orders": {"store_0": {"warehouse_0": 1e308}}}', r"must be in \[0, 20\], got 1e\+308"),
        ('{"orders": {"store_0": {"warehouse_0": [5]}}}', r"expected a number, got \[5\]"),
        ('{"orders": {"../../etc": {}}}', "unknown agent '../../etc'"),
    ],
)
def test_parse_errors_name_the_slot(reply: str, message: str) -> None:
    env = _serial()
    env.reset(seed=0)
    with pytest.raises(InvalidActionError, match=message):
        parse_actions(env, reply)


def test_parse_refuses_fractions_for_integer_actions_and_huge_replies() -> None:
    env = invmgmt_marl.parallel_env("serial", periods=3, action_type="multidiscrete")
    env.reset(seed=0)
    with pytest.raises(InvalidActionError, match="whole number"):
        parse_actions(env, '{"orders": {"store_0": {"warehouse_0": 2.5}}}')
    assert parse_actions(env, '{"orders": {"store_0": {"warehouse_0": 3}}}')["store_0"].tolist() == [3]
    with pytest.raises(InvalidActionError, match="more than"):
        parse_actions(env, " " * (MAX_REPLY_CHARS + 1))


def test_observation_text_shows_the_state_and_never_the_future() -> None:
    env = _serial()
    demand = np.array([[3.0], [11.0], [4.0], [9.0], [2.0], [8.0]])
    env.reset(seed=0, options={"demand": demand})
    text = observation_text(env)
    assert text.startswith("Scenario serial: period 1 of 6")
    env.step({a: np.zeros(1, np.float32) for a in env.agents})
    text = observation_text(env)
    st = env.sim_state
    store = env.net.agents.index("store_0")
    # store: initial stock + period-0 arrival - demand 3, each read from the state independently
    assert f"on hand {st.on_hand[0, store]:.4g};" in text
    assert "customer demand last period: 3" in text  # period 0's demand
    assert "11" not in text.split("customer demand last period")[1]  # period 1's demand is unseen
    cost = sum(float(getattr(env.last_ledger, f)[0].sum()) for f in COST_FIELDS)
    assert f"total cost {cost:.4g}" in text


def test_chat_agent_equals_the_same_orders_given_directly() -> None:
    env = _serial()
    agent = ChatAgent(lambda messages: _constant_reply(env, 10))
    result = play_episode(env, agent, seed=3)
    # the same episode with the actions given directly
    direct = _serial()
    direct.reset(seed=3)
    cost = 0.0
    while direct.agents:
        direct.step({a: np.full(1, 10.0, np.float32) for a in direct.agents})
        cost += sum(float(getattr(direct.last_ledger, f)[0].sum()) for f in COST_FIELDS)
    assert result.total_cost == pytest.approx(cost, rel=1e-12)
    assert result.failures == 0 and result.periods == 6


def test_a_refused_reply_is_sent_back_once_then_the_period_orders_nothing() -> None:
    env = _serial()
    seen: list[list[dict[str, str]]] = []
    replies = iter(["garbage", _constant_reply(env, 10)] + ["garbage"] * 100)

    def chat(messages: Any) -> str:
        seen.append([dict(m) for m in messages])
        return next(replies)

    agent = ChatAgent(chat, history=2, retries=1)
    result = play_episode(env, agent, seed=0)
    assert "That answer was refused: reply: no JSON object" in seen[1][-1]["content"]
    assert result.failures == 5  # period 1 recovered on the retry, periods 2-6 never did
    # the rolling window: system + at most 2 earlier turns (2 messages each) + the new state
    assert max(len(m) for m in seen if "refused" not in m[-1]["content"]) == 1 + 2 * 2 + 1
    zero = _serial()
    zero.reset(seed=0)
    zero.step({a: np.full(1, 10.0, np.float32) for a in zero.agents})
    cost = sum(float(getattr(zero.last_ledger, f)[0].sum()) for f in COST_FIELDS)
    while zero.agents:
        zero.step({a: np.zeros(1, np.float32) for a in zero.agents})
        cost += sum(float(getattr(zero.last_ledger, f)[0].sum()) for f in COST_FIELDS)
    assert result.total_cost == pytest.approx(cost, rel=1e-12)


class _FakeOpenAI(BaseHTTPRequestHandler):
    requests: list[dict[str, Any]] = []
    reply = "{}"

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
        out = json.dumps({"choices": [{"message": {"role": "assistant", "content": type(self).reply}}]})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(out.encode())

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def fake_server() -> Any:
    server = HTTPServer(("127.0.0.1", 0), _FakeOpenAI)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _FakeOpenAI.requests = []
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def test_openai_chat_speaks_the_chat_completions_protocol(fake_server: str) -> None:
    _FakeOpenAI.reply = "hello"
    chat = openai_chat(fake_server, "tiny-model", "sk-test")
    assert chat([{"role": "user", "content": "hi"}]) == "hello"
    (req,) = _FakeOpenAI.requests
    assert req["path"] == "/v1/chat/completions" and req["auth"] == "Bearer sk-test"
    assert req["model"] == "tiny-model" and req["messages"] == [{"role": "user", "content": "hi"}]
    with pytest.raises(ValueError, match="base_url"):
        openai_chat("file:///etc/passwd", "m")


def test_example_script_plays_an_episode(fake_server: str, monkeypatch: Any, capsys: Any) -> None:
    env = _serial()
    _FakeOpenAI.reply = _constant_reply(env, 10)
    monkeypatch.setenv("OPENAI_BASE_URL", fake_server)
    monkeypatch.setenv("OPENAI_MODEL", "tiny-model")
    monkeypatch.setattr(sys, "argv", ["llm_agent.py", "--periods", "4", "--seed", "1"])
    with pytest.raises(SystemExit) as done:
        runpy.run_path(str(ROOT / "examples" / "llm_agent.py"), run_name="__main__")
    assert done.value.code == 0
    assert len(_FakeOpenAI.requests) == 4  # one call a period
    out = capsys.readouterr().out
    direct = invmgmt_marl.parallel_env("serial", periods=4, action_type="box")
    direct.reset(seed=1)
    cost = 0.0
    while direct.agents:
        direct.step({a: np.full(1, 10.0, np.float32) for a in direct.agents})
        cost += sum(float(getattr(direct.last_ledger, f)[0].sum()) for f in COST_FIELDS)
    assert f"serial: 4 periods, total cost {cost:.2f}," in out
    assert "periods without a valid answer 0" in out


RETAIL: dict[str, Any] = {
    "name": "retail_mini",
    "periods": 10,
    "nodes": [
        {
            "role": "store",
            "lost_sales": True,
            "initial_on_hand": 30,
            "pricing": {"min": 0.5, "max": 1.5},
            "cash": {"initial": 1000},
            "liquidation": {"salvage": 0},
        }
    ],
    "edges": [
        {
            "from": "external",
            "to": "store_0",
            "modes": [
                {"name": "slow", "unit_cost": 2, "lead_time": [3, 7]},
                {"name": "fast", "unit_cost": 10, "lead_time": 1},
            ],
        }
    ],
    "products": [
        {"name": "electronics", "price": 150, "unit_cost": 100, "price_elasticity": 1.2,
         "demand": {"process": "constant", "value": 10}},
        {"name": "groceries", "price": 10, "unit_cost": 5, "shelf_life": 5, "price_elasticity": 0.4,
         "demand": {"process": "constant", "value": 10}},
    ],
    "events": [{"name": "black_friday", "start": 3, "duration": 2, "factor": {"electronics": 3}}],
}  # fmt: skip


def _retail() -> invmgmt_marl.InventoryParallelEnv:
    from invmgmt_marl.scenario import validate_scenario

    return invmgmt_marl.parallel_env(validate_scenario(RETAIL))


def test_retail_slots_orders_by_mode_then_liquidation_then_prices() -> None:
    env = _retail()
    slots = action_slots(env)["store_0"]
    assert [(s.label, s.index, s.kind) for s in slots] == [
        ("electronics/external:slow", 0, "order"),
        ("electronics/external:fast", 1, "order"),
        ("groceries/external:slow", 2, "order"),
        ("groceries/external:fast", 3, "order"),
        ("liquidate/electronics", 4, "liquidate"),
        ("liquidate/groceries", 5, "liquidate"),
        ("price/electronics", 6, "price"),
        ("price/groceries", 7, "price"),
    ]
    price = action_schema(env)["properties"]["orders"]["properties"]["store_0"]["properties"][
        "price/groceries"
    ]
    assert price == {"type": "number", "minimum": 0.5, "maximum": 1.5}
    env.reset(seed=0)
    # prices left out stay at the list price (multiplier 1), not at 0 (outside the action space)
    assert parse_actions(env, '{"orders": {}}')["store_0"].tolist() == [0, 0, 0, 0, 0, 0, 1, 1]
    with pytest.raises(InvalidActionError, match=r"\['price/groceries'\]: must be in \[0.5, 1.5\], got 2"):
        parse_actions(env, '{"orders": {"store_0": {"price/groceries": 2}}}')


def test_retail_text_shows_cash_prices_ages_and_events() -> None:
    env = _retail()
    env.reset(seed=0)
    reply = {"store_0": {"electronics/external:fast": 5, "price/groceries": 1.3, "liquidate/groceries": 2}}
    env.step(parse_actions(env, json.dumps({"orders": reply})))
    text = observation_text(env)
    # by hand: groceries demand 10 x 1.3^-0.4 = 9.005 -> 9 sold at 13; electronics 10 sold at 150;
    # 5 fast electronics paid 5 x (100 + 10) = 550: cash 1000 - 550 + 1500 + 117 = 2067
    assert "Cash at store_0: 2067" in text
    assert "electronics 1, groceries 1.3" in text
    # 30 groceries - 9 sold - 2 liquidated = 19, one period old after ageing
    assert "groceries at store_0 by age in periods (0 = newest; sellable for 5 periods): [0 19 0 0 0]" in text
    assert "Event black_friday: starts in 2 period(s), lasts 2" in text  # period 1 now; it starts in 3
