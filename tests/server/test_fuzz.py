"""Hostile input never gets a 500: random JSON for actions, reset options and query values (hypothesis)."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from invmgmt_marl.server import Settings, create_app
from tests.strategies import examples

_APP = create_app(Settings(max_sessions=4))
_HTTP = TestClient(_APP, raise_server_exceptions=False)
_SID = _HTTP.post("/reset", json={"scenario": "divergent", "seed": 0}).json()["session_id"]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats()  # NaN and inf too: sent as the (non-standard) tokens Python's json writes
    | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
agents = st.sampled_from(
    ["store_0", "warehouse_0", "warehouse_1", "supplier_0", "supplier_1", "supplier_2", "x"]
)


def _ok(status: int) -> bool:
    return 200 <= status < 500


def _post(path: str, body: Any) -> Any:
    return _HTTP.post(path, content=json.dumps(body).encode(), headers={"content-type": "application/json"})


@given(action=json_values | st.dictionaries(agents, json_values, max_size=7))
@settings(max_examples=examples(25))
def test_random_actions_get_2xx_or_4xx(action: Any) -> None:
    r = _post("/step", {"session_id": _SID, "action": action})
    if r.status_code == 409:  # the episode ended on valid random actions: start it again
        _HTTP.post("/reset", json={"session_id": _SID})
    assert _ok(r.status_code), r.text


@given(
    options=st.dictionaries(
        st.sampled_from(["periods", "view", "reward", "alpha", "demand", "obs_scale", "action_type", "zz"]),
        json_values,
        max_size=3,
    ),
    seed=json_values,
)
@settings(max_examples=examples(40))
def test_random_reset_bodies_get_2xx_or_4xx(options: Any, seed: Any) -> None:
    r = _post("/reset", {"scenario": "serial", "options": options, "seed": seed})
    assert _ok(r.status_code), r.text
    if r.status_code == 200:
        _HTTP.delete("/session", params={"session_id": r.json()["session_id"]})


@given(profit=st.text(max_size=12), seed=st.text(max_size=8), task=st.text(max_size=12))
@settings(max_examples=examples(40))
def test_random_query_values_get_4xx(profit: str, seed: str, task: str) -> None:
    r = _HTTP.post("/grader", params={"task_name": task, "agent_profit": profit, "seed": seed})
    assert 400 <= r.status_code < 500, r.text
