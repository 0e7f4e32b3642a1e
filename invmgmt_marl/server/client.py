"""A Python client of the HTTP server (httpx): one :class:`Client` per server, many episodes.

    from invmgmt_marl.server.client import Client
    with Client("http://127.0.0.1:8000") as c:
        ep = c.reset(task="serial")
        out = c.step(ep["session_id"], {a: [5.0] for a in ep["agents"]})
        c.grade("serial", session_id=ep["session_id"])

Any 4xx / 5xx answer raises :class:`ServerError` carrying the status and the server's ``detail``
list (each entry names the field: ``loc``). A ``Client`` may wrap an in-process app for tests:
``Client(app=create_app())`` (no network: FastAPI's TestClient).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any

import httpx

__all__ = ["Client", "ServerError"]


class ServerError(RuntimeError):
    """The server answered with an error status.

    Attributes:
        status: the HTTP status code.
        detail: the server's ``detail`` list (``loc``, ``msg``, ``type`` per error), or the raw text.
    """

    def __init__(self, status: int, detail: Any) -> None:
        self.status, self.detail = status, detail
        first = detail[0] if isinstance(detail, list) and detail and isinstance(detail[0], dict) else None
        where = ".".join(str(p) for p in first.get("loc", [])) if first else ""
        msg = first.get("msg", "") if first else str(detail)
        super().__init__(f"HTTP {status}{' at ' + where if where else ''}: {msg}")


class Client:
    """Talk to an ``invmgmt-marl serve`` server.

    Args:
        base_url: the server's address, e.g. ``http://127.0.0.1:8000``.
        timeout: seconds per request (grading may solve an LP: allow a few seconds).
        app: instead of a URL, an ASGI app to call in process (FastAPI's ``TestClient`` is used).
    """

    def __init__(
        self, base_url: str = "http://127.0.0.1:8000", timeout: float = 60.0, app: Any = None
    ) -> None:
        if app is not None:
            from fastapi.testclient import TestClient

            self._http: httpx.Client = TestClient(app)
        else:
            self._http = httpx.Client(base_url=base_url, timeout=timeout)

    # ---- plumbing
    def _call(self, method: str, path: str, **kw: Any) -> Any:
        r = self._http.request(method, path, **kw)
        if r.status_code >= 400:
            try:
                detail = r.json().get("detail", r.text)
            except ValueError:
                detail = r.text
            raise ServerError(r.status_code, detail)
        return r.json() if r.content else None

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ---- endpoints
    def health(self) -> dict[str, Any]:
        """``GET /health``."""
        return dict(self._call("GET", "/health"))

    def scenarios(self) -> list[str]:
        """``GET /scenarios``: names a reset may use."""
        return list(self._call("GET", "/scenarios"))

    def tasks(self) -> list[dict[str, Any]]:
        """``GET /tasks``."""
        return list(self._call("GET", "/tasks"))

    def reset(
        self,
        task: str | None = None,
        scenario: str | None = None,
        seed: int | None = None,
        options: Mapping[str, Any] | None = None,
        agents: str | None = None,
        session_id: str | None = None,
    ) -> dict[str, Any]:
        """``POST /reset``: a new session (or ``session_id`` reset); returns session id and observations."""
        body: dict[str, Any] = {"task": task, "scenario": scenario, "seed": seed, "agents": agents}
        if options:
            body["options"] = dict(options)
        if session_id is not None:
            body["session_id"] = session_id
        return dict(self._call("POST", "/reset", json={k: v for k, v in body.items() if v is not None}))

    def step(self, session_id: str, action: Any) -> dict[str, Any]:
        """``POST /step``: ``action`` keyed by agent (or bare, with one agent)."""
        return dict(self._call("POST", "/step", json={"session_id": session_id, "action": action}))

    def state(self, session_id: str) -> dict[str, Any]:
        """``GET /state``."""
        return dict(self._call("GET", "/state", params={"session_id": session_id}))

    def spaces(
        self, session_id: str | None = None, task: str | None = None, scenario: str | None = None
    ) -> Any:
        """``GET /spaces`` of a session, a task or a scenario."""
        params = {"session_id": session_id, "task": task, "scenario": scenario}
        return self._call("GET", "/spaces", params={k: v for k, v in params.items() if v is not None})

    def agents(self, session_id: str) -> list[str]:
        """``GET /agents``: agents still acting."""
        return list(self._call("GET", "/agents", params={"session_id": session_id}))

    def close_session(self, session_id: str) -> None:
        """``DELETE /session``."""
        self._call("DELETE", "/session", params={"session_id": session_id})

    def grade(
        self,
        task_name: str,
        agent_profit: float | None = None,
        seed: int | None = None,
        session_id: str | None = None,
    ) -> dict[str, Any]:
        """``POST /grader``: grade a profit, or a session's profit so far."""
        params = {
            "task_name": task_name,
            "agent_profit": agent_profit,
            "seed": seed,
            "session_id": session_id,
        }
        return dict(self._call("POST", "/grader", params={k: v for k, v in params.items() if v is not None}))

    def baseline(self, task_name: str, seed: int | None = None) -> dict[str, Any]:
        """``GET /baseline``: the task's baseline policy's profit and grade."""
        params: dict[str, Any] = {"task_name": task_name}
        if seed is not None:
            params["seed"] = seed
        return dict(self._call("GET", "/baseline", params=params))
