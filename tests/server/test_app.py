"""Every endpoint of the HTTP server, checked against the same episode run in process, and its 4xx answers.

The in-process reference is ``InventoryParallelEnv`` itself (the env the server wraps), so each check
compares two paths to the same numbers: what the server sends over JSON and what the env returns.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

import invmgmt_marl
from invmgmt_marl import tasks as T
from invmgmt_marl.server import Settings, create_app
from invmgmt_marl.tasks import Reference, Task, register_task
from tests.server.conftest import FakeClock, zeros_for


def _listed(obs: dict[str, Any]) -> dict[str, list[float]]:
    return {a: np.asarray(o, dtype=np.float64).tolist() for a, o in obs.items()}


def _loc(r: Any) -> list[Any]:
    return r.json()["detail"][0]["loc"]


# ---- service and catalogue ------------------------------------------------------------------------
def test_health_scenarios_tasks_docs(client: TestClient) -> None:
    h = client.get("/health").json()
    assert h["status"] == "healthy" and h["sessions"] == 0 and h["max_sessions"] == 8
    names = client.get("/scenarios").json()
    assert set(invmgmt_marl.list_scenarios()) <= set(names) and "sku50_1w" in names
    tasks = {t["name"]: t for t in client.get("/tasks").json()}
    assert set(tasks) == set(T.TASKS)
    assert tasks["serial"]["scenario"] == "serial" and tasks["serial"]["seed"] == 0
    assert client.get("/openapi.json").json()["paths"].keys() >= {"/reset", "/step", "/state", "/grader"}
    assert client.get("/docs").status_code == 200
    page = client.get("/web")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")


# ---- an episode ------------------------------------------------------------------------------------
def test_reset_step_state_match_the_env_in_process(client: TestClient) -> None:
    r = client.post("/reset", json={"task": "serial"})
    assert r.status_code == 200, r.text
    ep = r.json()
    sid = ep["session_id"]
    assert ep["episode_id"] == sid and ep["seed"] == 0 and ep["task"] == "serial" and ep["periods"] == 200
    env = invmgmt_marl.parallel_env("serial", strict=True)
    obs, _ = env.reset(seed=0)
    assert ep["agents"] == env.possible_agents and ep["observation"] == _listed(obs)
    assert ep["reward"] is None and ep["done"] is False

    rng = np.random.default_rng(5)
    profit = 0.0
    for k in range(4):
        action = {a: rng.uniform(0, 20, size=1).round(3).tolist() for a in env.possible_agents}
        out = client.post("/step", json={"session_id": sid, "action": action}).json()
        obs, rew, _, trunc, infos = env.step(action)
        profit += -float(env.last_ledger.total_cost.sum())  # serial sells at no price: profit = -cost
        assert out["observation"] == _listed(obs)
        assert out["rewards"] == pytest.approx(rew, rel=0, abs=0)
        assert out["reward"] == pytest.approx(sum(rew.values()), rel=1e-12)
        assert out["truncations"] == trunc and out["step_count"] == k + 1
        assert out["infos"]["store_0"]["holding_cost"] == infos["store_0"]["holding_cost"]
        assert out["profit"] == pytest.approx(profit, rel=1e-12)

    st = client.get("/state", params={"session_id": sid}).json()
    assert st["t"] == 4 and st["step_count"] == 4 and not st["done"]
    assert [n["on_hand"] for n in st["nodes"]] == env.sim_state.on_hand[0].tolist()
    assert st["sim"]["pipeline"] == env.sim_state.pipeline[0].tolist()
    # in transit to a node = its inbound pipelines' contents (one inbound edge per node in serial)
    dst = env.net.edge_dst
    for i, node in enumerate(st["nodes"]):
        assert node["in_transit"] == pytest.approx(float(env.sim_state.pipeline[0][dst == i].sum()))
    assert st["last_period"]["holding_cost"] == env.last_ledger.holding_cost[0].tolist()
    assert [h["t"] for h in st["history"]] == [0, 1, 2, 3]
    assert st["profit"] == pytest.approx(profit, rel=1e-12)


def test_passive_episode_over_http_scores_exactly_the_floor(client: TestClient) -> None:
    """A whole lot_sizing episode of zero orders over HTTP: its profit is the task's floor (computed by
    ``rollout`` of ConstantPolicy(0), another code path), so its grade is 0."""
    ep = client.post("/reset", json={"task": "lot_sizing"}).json()
    sid = ep["session_id"]
    zeros = {a: [0.0] for a in ep["agents"]}
    for _ in range(ep["periods"]):
        out = client.post("/step", json={"session_id": sid, "action": zeros}).json()
    assert out["done"] is True and client.get("/agents", params={"session_id": sid}).json() == []
    g = client.post("/grader", params={"task_name": "lot_sizing", "session_id": sid}).json()
    assert g["session_complete"] is True
    assert g["profit"] == pytest.approx(T.floor(T.get_task("lot_sizing")), rel=1e-12)
    assert g["grade"] == 0.0
    r = client.post("/step", json={"session_id": sid, "action": zeros})
    assert r.status_code == 409 and _loc(r) == ["body", "session_id"]
    # reset in place: the same session, the task's seed again, the first observation again
    again = client.post("/reset", json={"session_id": sid}).json()
    assert again["session_id"] == sid and again["observation"] == ep["observation"]


def test_bare_action_with_one_agent_and_products_in_state(client: TestClient) -> None:
    ep = client.post("/reset", json={"scenario": "sku50_1w", "seed": 3}).json()
    assert ep["agents"] == ["store_0"] and ep["seed"] == 3
    out = client.post("/step", json={"session_id": ep["session_id"], "action": [1.0] * 50})
    assert out.status_code == 200, out.text
    env = invmgmt_marl.parallel_env("sku50_1w", strict=True)
    env.reset(seed=3)
    obs, *_ = env.step({"store_0": [1.0] * 50})
    assert out.json()["observation"] == _listed(obs)
    st = client.get("/state", params={"session_id": ep["session_id"]}).json()
    assert len(st["products"]) == 50 and len(st["nodes"][0]["on_hand"]) == 50
    assert st["nodes"][0]["on_hand"] == env.sim_state.on_hand[0][:, 0].tolist()


def test_scenario_overrides_and_seeded_scenarios(client: TestClient) -> None:
    a = client.post("/reset", json={"scenario": "serial", "seed": 7, "options": {"periods": 5}}).json()
    assert a["periods"] == 5 and a["task"] is None
    zeros = {x: [0.0] for x in a["agents"]}
    for _ in range(5):
        out = client.post("/step", json={"session_id": a["session_id"], "actions": zeros}).json()
    assert out["done"] is True
    # a demand path given in the reset options is replayed (two stores-free checks: the ledger demand)
    d = client.post(
        "/reset", json={"scenario": "serial", "options": {"periods": 3, "demand": [4.0, 5.0, 6.0]}}
    ).json()
    for _ in range(3):
        client.post("/step", json={"session_id": d["session_id"], "action": zeros})
    hist = client.get("/state", params={"session_id": d["session_id"]}).json()["history"]
    assert [h["demand"] for h in hist] == [4.0, 5.0, 6.0]


def test_spaces_agents_and_close(client: TestClient) -> None:
    sp = client.get("/spaces", params={"scenario": "divergent"}).json()
    env = invmgmt_marl.parallel_env("divergent")
    assert sp["agents"] == env.possible_agents
    for a in env.possible_agents:
        box = env.action_space(a)
        assert sp["action_spaces"][a]["shape"] == list(box.shape)
        assert sp["action_spaces"][a]["high"] == box.high.astype(float).tolist()
        assert sp["observation_spaces"][a]["high"][0] is None  # inf is not JSON: sent as null
    assert client.get("/spaces", params={"task": "serial"}).json()["agents"] == [
        "store_0",
        "warehouse_0",
        "supplier_0",
    ]
    ep = client.post("/reset", json={"scenario": "divergent", "seed": 1}).json()
    by_session = client.get("/spaces", params={"session_id": ep["session_id"]}).json()
    assert by_session == sp
    assert client.get("/agents", params={"session_id": ep["session_id"]}).json() == env.possible_agents
    out = client.post("/step", json={"session_id": ep["session_id"], "action": zeros_for(sp)})
    assert out.status_code == 200
    assert client.get("/health").json()["sessions"] == 1
    assert client.delete("/session", params={"session_id": ep["session_id"]}).json() == {
        "closed": ep["session_id"]
    }
    assert client.get("/health").json()["sessions"] == 0
    assert client.get("/state", params={"session_id": ep["session_id"]}).status_code == 404


# ---- grading --------------------------------------------------------------------------------------
def test_grader_and_baseline(client: TestClient) -> None:
    g = client.post("/grader", params={"task_name": "serial", "agent_profit": -5000.0}).json()
    ref = T.grade("serial", -5000.0)
    assert g["grade"] == pytest.approx(ref.grade) and g["floor"] == ref.floor and g["ceiling"] == ref.top
    assert g["top_kind"] == "ceiling" and g["reference"] is None
    # the same formula by hand from the returned floor and ceiling
    assert g["grade"] == pytest.approx((-5000.0 - g["floor"]) / (g["ceiling"] - g["floor"]))
    b = client.get("/baseline", params={"task_name": "lot_sizing"}).json()
    assert b["policy"] == "base_stock" and b["profit"] == pytest.approx(
        T.baseline_profit(T.get_task("lot_sizing"))
    )
    assert 0.0 < b["grade"] <= 1.0 and b["profit"] <= b["ceiling"]


def test_grader_uses_a_registered_task_hook(client: TestClient) -> None:
    """A task family plugs in its own floor and ceiling: floor 100, ceiling 300 (hand values), so a
    profit of 250 grades (250 - 100) / (300 - 100) = 0.75, 50 grades 0 and 400 grades 1."""
    task = Task(
        "hook_test",
        "constant scale",
        scenario="serial",
        floor=lambda t, s: 100.0,
        ceiling=lambda t, s: Reference(300.0, "reference", "a constant"),
        baseline=lambda t, s: 200.0,
    )
    register_task(task, replace=True)
    try:
        names = [t["name"] for t in client.get("/tasks").json()]
        assert "hook_test" in names
        grades = [
            client.post("/grader", params={"task_name": "hook_test", "agent_profit": p}).json()
            for p in (250.0, 50.0, 400.0)
        ]
        assert [g["grade"] for g in grades] == [0.75, 0.0, 1.0]
        assert grades[0]["reference"] == 300.0 and grades[0]["ceiling"] is None
        assert grades[0]["top_kind"] == "reference"
        b = client.get("/baseline", params={"task_name": "hook_test"}).json()
        assert b["profit"] == 200.0 and b["grade"] == 0.5
    finally:
        T.TASKS.pop("hook_test", None)


# ---- errors: 4xx JSON naming the field -------------------------------------------------------------
def test_malformed_json_and_wrong_fields(client: TestClient) -> None:
    r = client.post(
        "/step", content=b'{"session_id": "x", "action": ', headers={"content-type": "application/json"}
    )
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "json_invalid"
    r = client.post("/step", json={"action": {}})
    assert r.status_code == 422 and _loc(r) == ["body", "session_id"]
    r = client.post("/reset", json={"task": "serial", "sede": 1})
    assert r.status_code == 422 and _loc(r) == ["body", "sede"]
    r = client.post("/reset", json={"task": "serial", "seed": -1})
    assert r.status_code == 422 and _loc(r) == ["body", "seed"]
    with TestClient(create_app(Settings(default_task=None))) as strict:
        r = strict.post("/reset", json={})
        assert r.status_code == 422 and _loc(r) == ["body", "task"]
    r = client.post("/grader", params={"task_name": "serial", "agent_profit": "lots"})
    assert r.status_code == 422 and _loc(r) == ["query", "agent_profit"]
    r = client.post("/grader", params={"task_name": "serial", "agent_profit": "nan"})
    assert r.status_code == 422 and _loc(r) == ["query", "agent_profit"]
    r = client.post("/grader", params={"task_name": "serial"})
    assert r.status_code == 422 and _loc(r) == ["query", "agent_profit"]


def test_unknown_names_and_sessions(client: TestClient) -> None:
    for body, field in (
        ({"scenario": "../../etc/passwd"}, "scenario"),
        ({"scenario": "/work/main/scenarios/serial.yaml"}, "scenario"),
        ({"task": "no_such_task"}, "task"),
    ):
        r = client.post("/reset", json=body)
        assert r.status_code == 404 and _loc(r) == ["body", field], r.text
    r = client.post("/reset", json={"scenario": "serial", "options": {"demand_process": {"kind": "csv"}}})
    assert r.status_code == 422 and _loc(r) == ["body", "options", "demand_process"]
    r = client.post("/reset", json={"task": "serial", "options": {"demand": [1.0] * 200}})
    assert r.status_code == 422 and _loc(r) == ["body", "options"]  # a task's demand path is its seed's
    r = client.post("/reset", json={"scenario": "serial", "options": {"periods": 10**9}})
    assert r.status_code == 422 and _loc(r) == ["body", "options", "periods"]
    r = client.post("/reset", json={"scenario": "serial", "options": {"view": "telepathy"}})
    assert r.status_code == 422 and _loc(r) == ["body", "options"]
    r = client.post("/reset", json={"scenario": "serial", "agents": "node_product"})
    assert r.status_code == 422 and _loc(r) == ["body", "agents"]
    for method, path, kw, loc in (
        ("POST", "/step", {"json": {"session_id": "nope", "action": {}}}, ["body", "session_id"]),
        ("GET", "/state", {"params": {"session_id": "nope"}}, ["query", "session_id"]),
        ("DELETE", "/session", {"params": {"session_id": "nope"}}, ["query", "session_id"]),
        ("GET", "/agents", {"params": {"session_id": "nope"}}, ["query", "session_id"]),
        ("POST", "/reset", {"json": {"session_id": "nope"}}, ["body", "session_id"]),
    ):
        r = client.request(method, path, **kw)
        assert r.status_code == 404 and _loc(r) == loc, (path, r.text)
    r = client.post("/grader", params={"task_name": "nope", "agent_profit": 1.0})
    assert r.status_code == 404 and _loc(r) == ["query", "task_name"]


def test_bad_actions(client: TestClient) -> None:
    ep = client.post("/reset", json={"task": "serial"}).json()
    sid = ep["session_id"]
    ok = {"store_0": [1.0], "warehouse_0": [1.0], "supplier_0": [1.0]}
    cases = [
        ({**ok, "store_0": [50.0]}, ["body", "action", "store_0"]),  # above max_order 20
        ({**ok, "store_0": [-1.0]}, ["body", "action", "store_0"]),
        ({**ok, "warehouse_0": [1.0, 2.0]}, ["body", "action", "warehouse_0"]),  # wrong shape
        ({**ok, "supplier_0": "ten"}, ["body", "action", "supplier_0"]),
        ({**ok, "supplier_0": None}, ["body", "action", "supplier_0"]),
        ({**ok, "ghost": [1.0]}, ["body", "action", "ghost"]),  # unknown agent
        ({"store_0": [1.0], "warehouse_0": [1.0]}, ["body", "action", "supplier_0"]),  # missing agent
        ([1.0], ["body", "action"]),  # a bare action with three agents
    ]
    for action, loc in cases:
        r = client.post("/step", json={"session_id": sid, "action": action})
        assert r.status_code == 422 and _loc(r) == loc, (action, r.text)
    # NaN is not JSON, but Python's parser accepts the token: still refused, naming the agent
    body = (
        b'{"session_id": "%s", "action": {"store_0": [NaN], "warehouse_0": [1], "supplier_0": [1]}}'
        % sid.encode()
    )
    r = client.post("/step", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422 and _loc(r) == ["body", "action", "store_0"]
    # nothing was played by the refused requests
    assert client.get("/state", params={"session_id": sid}).json()["t"] == 0
    assert client.post("/step", json={"session_id": sid, "action": ok}).status_code == 200


def test_oversized_bodies_get_413_before_parsing(client: TestClient) -> None:
    big = b'{"task": "serial", "options": {"demand": [' + b"1," * 600_000 + b"1]}}"
    r = client.post("/reset", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and _loc(r) == ["body"] and "limit" in r.json()["detail"][0]["msg"]

    def chunks() -> Any:  # no Content-Length: the middleware counts the bytes as they arrive
        for _ in range(30):
            yield b" " * 50_000

    r = client.post("/reset", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert client.get("/health").json()["sessions"] == 0


# ---- limits ---------------------------------------------------------------------------------------
def test_max_sessions_and_idle_expiry(client: TestClient, clock: FakeClock) -> None:
    sids = [
        client.post("/reset", json={"scenario": "serial", "seed": k}).json()["session_id"] for k in range(8)
    ]
    r = client.post("/reset", json={"scenario": "serial"})
    assert r.status_code == 429 and r.json()["detail"][0]["type"] == "too_many_sessions"
    clock.now += 59.0
    assert (
        client.get("/state", params={"session_id": sids[0]}).status_code == 200
    )  # touched: idle clock restarts
    clock.now += 2.0  # the other seven are idle for 61 s > 60 s
    assert client.get("/health").json()["sessions"] == 1
    assert client.get("/state", params={"session_id": sids[1]}).status_code == 404
    assert client.post("/reset", json={"scenario": "serial"}).status_code == 200
    clock.now += 61.0
    assert client.get("/state", params={"session_id": sids[0]}).status_code == 404


def test_openenv_shaped_requests(client: TestClient) -> None:
    """OpenEnv's HTTP shapes: reset with only ``seed`` (the default task), ``episode_id`` in place of
    ``session_id``, ``timeout_s`` / ``request_id`` on a step, ``observation`` / ``reward`` / ``done``
    in the answers, ``episode_id`` / ``step_count`` in the state."""
    ep = client.post("/reset", json={"seed": 42}).json()
    assert ep["task"] == "serial" and ep["seed"] == 42 and ep["reward"] is None and ep["done"] is False
    env = invmgmt_marl.parallel_env("serial")
    obs, _ = env.reset(seed=42)
    assert ep["observation"] == _listed(obs)
    body = {
        "episode_id": ep["episode_id"],
        "action": {a: [3.0] for a in ep["agents"]},
        "timeout_s": 5.0,
        "request_id": "req-1",
    }
    out = client.post("/step", json=body).json()
    assert out["request_id"] == "req-1" and isinstance(out["reward"], float) and out["done"] is False
    st = client.get("/state", params={"session_id": ep["episode_id"]}).json()
    assert st["episode_id"] == ep["episode_id"] and st["step_count"] == 1
    again = client.post("/reset", json={"episode_id": ep["episode_id"], "seed": 42}).json()
    assert again["session_id"] == ep["session_id"] and again["observation"] == ep["observation"]


def test_jsonable_sends_no_inf_or_nan() -> None:
    from invmgmt_marl.server.app import jsonable

    value = {
        "a": float("inf"),
        "b": np.float32(1.5),
        "c": np.array([1.0, np.nan]),
        "d": [np.int64(2), True, None],
    }
    assert jsonable(value) == {"a": None, "b": 1.5, "c": [1.0, None], "d": [2, True, None]}
