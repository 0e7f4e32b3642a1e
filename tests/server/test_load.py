"""A bounded load test on localhost: a real uvicorn server, 20 concurrent sessions x 30 steps, each with its
own seed and actions; every session's trajectory must equal the same episode run in process (nothing
lost, nothing mixed between sessions). Throughput figures: benchmarks/server_load.py."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import numpy as np
import pytest

import invmgmt_marl
from invmgmt_marl.server.client import Client, ServerError

SESSIONS, STEPS, SCENARIO = 20, 30, "divergent"


def _actions(env: Any, rng: np.random.Generator) -> dict[str, list[float]]:
    """Random in-bounds orders, rounded so JSON carries them exactly."""
    return {a: rng.uniform(0.0, env.action_space(a).high).round(2).tolist() for a in env.possible_agents}


def _play(base_url: str, seed: int) -> list[dict[str, Any]]:
    env = invmgmt_marl.parallel_env(SCENARIO)  # only for the spaces
    rng = np.random.default_rng(1000 + seed)
    out = []
    with Client(base_url, timeout=60.0) as c:
        ep = c.reset(scenario=SCENARIO, seed=seed)
        out.append({"obs": ep["observation"]})
        for _ in range(STEPS):
            act = _actions(env, rng)
            r = c.step(ep["session_id"], act)
            out.append({"act": act, "obs": r["observation"], "rewards": r["rewards"], "profit": r["profit"]})
        st = c.state(ep["session_id"])
        out.append({"t": st["t"], "on_hand": [n["on_hand"] for n in st["nodes"]], "seed": st["seed"]})
        c.close_session(ep["session_id"])
    return out


def _reference(seed: int, trace: list[dict[str, Any]]) -> None:
    env = invmgmt_marl.parallel_env(SCENARIO, strict=True)
    obs, _ = env.reset(seed=seed)
    as_lists = lambda o: {a: np.asarray(v, dtype=np.float64).tolist() for a, v in o.items()}  # noqa: E731
    assert trace[0]["obs"] == as_lists(obs)
    for k in range(1, STEPS + 1):
        obs, rew, *_ = env.step(trace[k]["act"])
        assert trace[k]["obs"] == as_lists(obs), (seed, k)
        assert trace[k]["rewards"] == {a: float(r) for a, r in rew.items()}, (seed, k)
    last = trace[-1]
    assert last["t"] == STEPS and last["seed"] == seed
    assert last["on_hand"] == env.sim_state.on_hand[0].tolist()


@pytest.mark.slow  # about 7 s on 2 shared cores: 620 HTTP requests and 20 replays
def test_concurrent_sessions_match_in_process_episodes(live_server: str) -> None:
    with ThreadPoolExecutor(max_workers=SESSIONS) as pool:
        traces = list(pool.map(lambda s: _play(live_server, s), range(SESSIONS)))
    assert len(traces) == SESSIONS
    for seed, trace in enumerate(traces):
        assert len(trace) == STEPS + 2
        _reference(seed, trace)
    # different seeds, different episodes: the sessions did not share one stream
    assert len({str(t[1]["obs"]) for t in traces}) == SESSIONS
    assert Client(live_server).health()["sessions"] == 0  # every session was closed


def test_live_server_errors_over_the_wire(live_server: str) -> None:
    """The same 4xx over a real socket: malformed JSON, unknown session, oversized body (Content-Length)."""
    with httpx.Client(base_url=live_server, timeout=30.0) as h:
        r = h.post("/step", content=b"{not json", headers={"content-type": "application/json"})
        assert r.status_code == 422
        r = h.post(
            "/reset", content=b"[" + b"1," * 700_000 + b"1]", headers={"content-type": "application/json"}
        )
        assert r.status_code == 413
    with Client(live_server) as c:
        try:
            c.state("no-such-session")
        except ServerError as err:
            assert err.status == 404 and err.detail[0]["loc"] == ["query", "session_id"]
            assert "session_id" in str(err)
        else:  # pragma: no cover
            raise AssertionError("an unknown session must be refused")
