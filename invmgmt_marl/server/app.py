"""The FastAPI app: episodes by session id over any shipped scenario, graded tasks, a web page.

Every endpoint is a plain ``def``: FastAPI runs it in its thread pool, so a long LP or tuning run
(``/grader``, ``/baseline``) never blocks the event loop, and each session's env is used under its
own lock. Errors are 4xx JSON in FastAPI's validation shape, ``{"detail": [{"loc", "msg", "type"}]}``,
naming the field; docs/server.md lists the endpoints and limits.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from importlib import resources
from typing import Any

import numpy as np
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from gymnasium import spaces
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from invmgmt_marl import __version__
from invmgmt_marl.env import InventoryParallelEnv
from invmgmt_marl.errors import InvalidActionError, quote
from invmgmt_marl.retail_view import retail_view
from invmgmt_marl.scenario import list_scenarios
from invmgmt_marl.scenario.loader import list_product_scenarios
from invmgmt_marl.server.models import (
    GradeResponse,
    HealthResponse,
    ResetRequest,
    ResetResponse,
    SpacesResponse,
    StateResponse,
    StepRequest,
    StepResponse,
    TaskInfo,
)
from invmgmt_marl.server.sessions import Session, SessionLimitError, SessionStore, UnknownSessionError
from invmgmt_marl.server.settings import Settings
from invmgmt_marl.sim.ledger import NODE_FIELDS
from invmgmt_marl.tasks import TASKS, Task, baseline_profit, grade

__all__ = ["ApiError", "BodyLimitMiddleware", "create_app", "jsonable"]

logger = logging.getLogger(__name__)

#: scenario overrides a client may send in ``options`` (nothing that names a file: no ``demand`` process)
OVERRIDES = ("periods", "action_type", "view", "reward", "alpha", "obs_scale")
#: reset options passed to ``env.reset(options=...)``
RESET_OPTIONS = ("demand",)


class ApiError(StarletteHTTPException):
    """A 4xx answer naming the field: ``loc`` as in FastAPI's validation errors."""

    def __init__(self, status: int, loc: tuple[Any, ...], msg: str, kind: str = "value_error") -> None:
        super().__init__(status_code=status, detail=msg)
        self.loc, self.msg, self.kind = loc, msg, kind


def _error_body(loc: tuple[Any, ...], msg: str, kind: str) -> dict[str, Any]:
    return {"detail": [{"loc": list(loc), "msg": msg, "type": kind}]}


class BodyLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` with 413, before anything parses them.

    A declared ``Content-Length`` over the limit is refused at once; a body sent without one (chunked)
    is counted as it arrives and refused when it passes the limit.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            text = declared.decode("latin-1").strip()
            if not text.isdigit() or int(text) > self.max_bytes:
                await self._refuse(send, f"{text} bytes" if text.isdigit() else f"invalid length {text!r}")
                return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise ApiError(
                        413, ("body",), self._message(f"more than {self.max_bytes} bytes"), "too_large"
                    )
            return message

        await self.app(scope, limited, send)

    def _message(self, size: str) -> str:
        return f"request body too large: {size}; the limit is {self.max_bytes} bytes"

    async def _refuse(self, send: Send, size: str) -> None:
        response = JSONResponse(_error_body(("body",), self._message(size), "too_large"), status_code=413)
        await response({"type": "http"}, _no_receive, send)


async def _no_receive() -> Message:  # pragma: no cover - a plain JSONResponse never reads the request
    return {"type": "http.disconnect"}


# --------------------------------------------------------------------------------------------------
def jsonable(x: Any) -> Any:
    """Arrays and numpy scalars as JSON values; non-finite floats as ``None`` (JSON has no inf)."""
    kind = type(x)  # exact-type fast paths first: step infos are dicts of plain floats and ints
    if kind is float:
        return x if math.isfinite(x) else None
    if kind is int or kind is str or kind is bool or x is None:
        return x
    if kind is dict:
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, np.ndarray):
        if x.dtype.kind in "fc":
            return [jsonable(v) for v in x.tolist()] if x.ndim else jsonable(float(x))
        return x.tolist()
    if isinstance(x, (float, np.floating)):
        v = float(x)
        return v if np.isfinite(v) else None
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    if isinstance(x, Mapping):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    return x


def _observations(obs: Mapping[str, Any]) -> dict[str, list[float]]:
    return {a: np.asarray(o, dtype=np.float64).reshape(-1).tolist() for a, o in obs.items()}


def describe_space(space: spaces.Space[Any]) -> dict[str, Any]:
    """A gymnasium space as JSON: ``type`` and its shape, bounds or sizes (``None`` for infinite bounds)."""
    if isinstance(space, spaces.Box):
        return {
            "type": "Box",
            "shape": list(space.shape),
            "dtype": str(space.dtype),
            "low": jsonable(space.low),
            "high": jsonable(space.high),
        }
    if isinstance(space, spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, spaces.MultiDiscrete):
        return {"type": "MultiDiscrete", "nvec": space.nvec.tolist()}
    return {"type": type(space).__name__, "repr": repr(space)}


def _scenario_names() -> list[str]:
    return sorted(set(list_scenarios()) | set(list_product_scenarios()))


def _check_scenario(name: Any, loc: tuple[Any, ...]) -> str:
    """Only registered names: a client never names a file."""
    if not isinstance(name, str) or name not in _scenario_names():
        raise ApiError(
            404, loc, f"unknown scenario {quote(name)}; known: {_scenario_names()}", "unknown_scenario"
        )
    return name


def _check_task(name: Any, loc: tuple[Any, ...]) -> Task:
    if not isinstance(name, str) or name not in TASKS:
        raise ApiError(404, loc, f"unknown task {quote(name)}; known: {sorted(TASKS)}", "unknown_task")
    return TASKS[name]


def _split_options(options: Mapping[str, Any], settings: Settings) -> tuple[dict[str, Any], dict[str, Any]]:
    overrides, reset = {}, {}
    for key, value in options.items():
        if key in OVERRIDES:
            overrides[key] = value
        elif key in RESET_OPTIONS:
            reset[key] = value
        else:
            raise ApiError(
                422,
                ("body", "options", key),
                f"unknown option {quote(key)}; allowed: {list(OVERRIDES + RESET_OPTIONS)}",
                "unknown_option",
            )
    periods = overrides.get("periods")
    if periods is not None and (
        isinstance(periods, bool) or not isinstance(periods, int) or not 1 <= periods <= settings.max_periods
    ):
        raise ApiError(
            422,
            ("body", "options", "periods"),
            f"expected an integer in 1..{settings.max_periods}, got {quote(periods)}",
        )
    return overrides, reset


def _build_env(scenario: str, agents: str | None, overrides: Mapping[str, Any]) -> InventoryParallelEnv:
    try:
        return InventoryParallelEnv(scenario, strict=True, agents=agents or "node", **overrides)
    except (ValueError, TypeError) as err:
        loc = ("body", "agents") if "agents" in str(err).split(":")[0] else ("body", "options")
        raise ApiError(422, loc, str(err), "scenario_error") from err


def _session(store: SessionStore, sid: Any, loc: tuple[Any, ...]) -> Session:
    try:
        return store.get(sid)
    except UnknownSessionError:
        raise ApiError(
            404, loc, f"unknown session {quote(sid)} (never created, closed, or expired)", "unknown_session"
        ) from None


def _state(session: Session) -> dict[str, Any]:
    env, net = session.env, session.env.net
    st = env.sim_state
    on_hand = st.on_hand[0]  # (N,) or (P, N)
    transit_e = st.pipeline[0].sum(axis=-1)  # (E,) or (P, E)
    backlog_o = st.backlog[0]  # (O,) or (P, O)
    nodes = []
    for i, name in enumerate(net.agents):
        into = net.edge_dst == i
        owed = net.out_src == i
        nodes.append(
            {
                "name": name,
                "on_hand": jsonable(on_hand[..., i]),
                "in_transit": jsonable(transit_e[..., into].sum(axis=-1)),
                "backlog": jsonable(backlog_o[..., owed].sum(axis=-1)),
            }
        )
    sim = {k: jsonable(v[0]) for k, v in st._asdict().items() if isinstance(v, np.ndarray)}
    ledger = env.last_ledger
    last = None
    if ledger is not None:
        last = {name: jsonable(ledger.nodes[0, k]) for k, name in enumerate(NODE_FIELDS)}
    return {
        "session_id": session.id,
        "episode_id": session.id,
        "step_count": session.step_count,
        "t": int(st.t),
        "periods": int(net.periods),
        "done": session.done,
        "task": session.task.name if session.task else None,
        "scenario": session.scenario,
        "seed": session.seed,
        "agents": list(env.possible_agents),
        "products": list(net.products),
        "profit": session.profit,
        "nodes": nodes,
        "sim": sim,
        "last_period": last,
        "history": list(session.history),
        "retail": retail_view(env),
    }


def _grade_dict(g: Any, complete: bool | None = None) -> dict[str, Any]:
    out = g.to_dict()
    out["session_complete"] = complete
    return out


# --------------------------------------------------------------------------------------------------
def create_app(settings: Settings | None = None) -> FastAPI:
    """The FastAPI app serving episodes of any shipped scenario and the registered tasks.

    Args:
        settings: limits (:class:`~invmgmt_marl.server.settings.Settings`); defaults if None.

    Returns:
        The app; ``app.state.sessions`` is its :class:`~invmgmt_marl.server.sessions.SessionStore`.
    """
    cfg = settings or Settings()
    store = SessionStore(cfg.max_sessions, cfg.idle_timeout, cfg.clock)
    app = FastAPI(
        title="invmgmt-marl",
        version=__version__,
        description="Multi-echelon inventory management episodes over HTTP: any shipped scenario, "
        "many sessions, graded tasks. Errors are 4xx JSON naming the field.",
    )
    app.state.settings, app.state.sessions = cfg, store
    app.add_middleware(BodyLimitMiddleware, max_bytes=cfg.max_body_bytes)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(_error_body(exc.loc, exc.msg, exc.kind), status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own shape, without echoing the input back (it may be large or hostile)
        errors = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
            for e in exc.errors()
        ]
        return JSONResponse({"detail": errors}, status_code=422)

    @app.get("/health", response_model=HealthResponse, tags=["service"])
    def health() -> dict[str, Any]:
        """Liveness, the version and how many sessions are live."""
        return {
            "status": "healthy",
            "version": __version__,
            "sessions": len(store),
            "max_sessions": cfg.max_sessions,
        }

    @app.get("/scenarios", response_model=list[str], tags=["catalogue"])
    def scenarios() -> list[str]:
        """Scenario names a reset may use."""
        return _scenario_names()

    @app.get("/tasks", response_model=list[TaskInfo], tags=["catalogue"])
    def tasks() -> list[dict[str, Any]]:
        """The registered tasks."""
        return [
            {
                "name": t.name,
                "description": t.description,
                "scenario": t.scenario,
                "seed": t.seed,
                "agents": t.agents,
                "options": jsonable(dict(t.options)),
                "baseline_policy": t.baseline_policy,
            }
            for t in TASKS.values()
        ]

    @app.post("/reset", response_model=ResetResponse, tags=["episode"])
    def reset(req: ResetRequest | None = None) -> dict[str, Any]:
        """Start an episode of a task or a scenario (a new session, or ``session_id`` reset in place)."""
        req = req or ResetRequest.model_validate({})
        if req.task is None and req.scenario is None and req.session_id is None and cfg.default_task:
            req = req.model_copy(update={"task": cfg.default_task})
        if req.task is not None and req.scenario is not None:
            raise ApiError(422, ("body", "scenario"), "give a task or a scenario, not both")
        overrides, reset_options = _split_options(req.options, cfg)
        task: Task | None = None
        seed: int | None = req.seed
        scenario: str = ""
        agents: str | None = req.agents
        if req.task is not None:
            task = _check_task(req.task, ("body", "task"))
            if req.options:
                raise ApiError(
                    422,
                    ("body", "options"),
                    f"a task fixes its scenario and demand path (by its seed); options {sorted(req.options)} "
                    "need scenario=... instead",
                )
            scenario, overrides = task.scenario, dict(task.options)
            agents = req.agents or task.agents
            seed = task.seed if req.seed is None else req.seed
        elif req.scenario is not None:
            scenario = _check_scenario(req.scenario, ("body", "scenario"))
            agents, seed = req.agents or "node", req.seed
        elif req.session_id is None:
            raise ApiError(422, ("body", "task"), "give a task (GET /tasks) or a scenario (GET /scenarios)")
        if req.session_id is not None:
            session = _session(store, req.session_id, ("body", "session_id"))
            with session.lock:
                if req.task is not None or req.scenario is not None:
                    session.env = _build_env(scenario, agents, overrides)
                    session.scenario, session.task = scenario, task
                elif overrides:
                    raise ApiError(422, ("body", "options"), "scenario overrides need a scenario=... as well")
                elif session.task is not None and reset_options:
                    raise ApiError(422, ("body", "options"), "a task fixes its demand path: no options")
                elif session.task is not None and req.seed is None:
                    seed = session.task.seed
                else:
                    seed = req.seed
                obs = _reset(session, seed, reset_options)
                return _reset_body(session, obs)
        env = _build_env(scenario, agents, overrides)
        try:
            session = store.add(env, scenario, task)
        except SessionLimitError as err:
            raise ApiError(429, ("body",), str(err), "too_many_sessions") from None
        with session.lock:
            try:
                obs = _reset(session, seed, reset_options)
            except ApiError:
                store.remove(session.id)
                raise
            return _reset_body(session, obs)

    def _reset(session: Session, seed: int | None, options: dict[str, Any]) -> dict[str, Any]:
        try:
            return session.reset(seed, options or None)
        except ValueError as err:
            raise ApiError(422, ("body", "options", "demand"), str(err)) from err

    def _reset_body(session: Session, obs: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "session_id": session.id,
            "episode_id": session.id,
            "task": session.task.name if session.task else None,
            "scenario": session.scenario,
            "seed": session.seed,
            "periods": int(session.env.net.periods),
            "agents": list(session.env.possible_agents),
            "observation": _observations(obs),
            "reward": None,
            "done": False,
            "step_count": 0,
        }

    @app.post("/step", response_model=StepResponse, tags=["episode"])
    def step(req: StepRequest) -> dict[str, Any]:
        """Play one period: ``action`` keyed by agent (a bare action when the scenario has one agent)."""
        session = _session(store, req.session_id, ("body", "session_id"))
        with session.lock:
            env = session.env
            if session.done:
                raise ApiError(
                    409, ("body", "session_id"), "the episode has ended; POST /reset to start another"
                )
            actions = _actions(req.action, list(env.possible_agents))
            try:
                obs, rewards, terms, truncs, infos = session.step(actions)
            except InvalidActionError as err:
                raise ApiError(422, _action_loc(str(err)), str(err), "invalid_action") from err
            return {
                "session_id": session.id,
                "episode_id": session.id,
                "observation": _observations(obs),
                "reward": float(sum(rewards.values())),
                "rewards": {a: float(r) for a, r in rewards.items()},
                "done": session.done,
                "terminations": terms,
                "truncations": truncs,
                "infos": jsonable(infos),
                "step_count": session.step_count,
                "period_profit": session.history[-1]["profit"] if session.history else 0.0,
                "request_id": req.request_id,
                "profit": session.profit,
            }

    @app.get("/state", response_model=StateResponse, tags=["episode"])
    def state(session_id: str = Query(max_length=100)) -> dict[str, Any]:
        """The session's full state: per node stock, in transit and backlog, every simulator field,
        the last period's ledger and the history of the episode so far."""
        session = _session(store, session_id, ("query", "session_id"))
        with session.lock:
            return _state(session)

    @app.delete("/session", tags=["episode"])
    def close(session_id: str = Query(max_length=100)) -> dict[str, Any]:
        """Close a session now (it frees a slot of ``max_sessions``)."""
        try:
            store.remove(session_id)
        except UnknownSessionError:
            raise ApiError(
                404, ("query", "session_id"), f"unknown session {quote(session_id)}", "unknown_session"
            ) from None
        return {"closed": session_id}

    @app.get("/spaces", response_model=SpacesResponse, tags=["multi-agent"])
    def spaces_(
        session_id: str | None = Query(None, max_length=100),
        task: str | None = Query(None, max_length=100),
        scenario: str | None = Query(None, max_length=100),
        agents: str | None = Query(None, pattern="^(node|node_product)$"),
    ) -> dict[str, Any]:
        """Every agent's action and observation space, of a session, a task or a scenario."""
        if session_id is not None:
            env = _session(store, session_id, ("query", "session_id")).env
        elif task is not None:
            t = _check_task(task, ("query", "task"))
            env = _build_env(t.scenario, agents or t.agents, dict(t.options))
        elif scenario is not None:
            env = _build_env(_check_scenario(scenario, ("query", "scenario")), agents, {})
        else:
            raise ApiError(422, ("query", "session_id"), "give a session_id, a task or a scenario")
        return {
            "agents": list(env.possible_agents),
            "action_spaces": {a: describe_space(env.action_space(a)) for a in env.possible_agents},
            "observation_spaces": {a: describe_space(env.observation_space(a)) for a in env.possible_agents},
        }

    @app.get("/agents", response_model=list[str], tags=["multi-agent"])
    def agents_(session_id: str = Query(max_length=100)) -> list[str]:
        """The session's agents still acting (empty once the episode has ended)."""
        return list(_session(store, session_id, ("query", "session_id")).env.agents)

    @app.post("/grader", response_model=GradeResponse, tags=["tasks"])
    def grader(
        task_name: str = Query(max_length=100),
        agent_profit: float | None = Query(None, description="the episode's team profit"),
        seed: int | None = Query(None, ge=0, le=2**63 - 1, description="default: the task's seed"),
        session_id: str | None = Query(None, max_length=100, description="grade this session's profit"),
    ) -> dict[str, Any]:
        """Grade a profit on a task: ``clamp((profit - floor) / (ceiling - floor), 0, 1)``."""
        task = _check_task(task_name, ("query", "task_name"))
        complete = None
        if session_id is not None:
            if agent_profit is not None:
                raise ApiError(422, ("query", "agent_profit"), "give agent_profit or session_id, not both")
            session = _session(store, session_id, ("query", "session_id"))
            with session.lock:
                if session.task is None or session.task.name != task.name:
                    raise ApiError(
                        422, ("query", "session_id"), f"the session does not play task {task.name!r}"
                    )
                agent_profit, complete = session.profit, session.done
                seed = session.seed if seed is None else seed
        if agent_profit is None:
            raise ApiError(422, ("query", "agent_profit"), "give agent_profit (a number) or a session_id")
        try:
            return _grade_dict(grade(task, agent_profit, seed), complete)
        except ValueError as err:
            raise ApiError(422, ("query", "agent_profit"), str(err)) from err

    @app.get("/baseline", tags=["tasks"])
    def baseline(
        task_name: str = Query(max_length=100), seed: int | None = Query(None, ge=0, le=2**63 - 1)
    ) -> dict[str, Any]:
        """Run the task's baseline policy on the seed's demand path: its profit and grade."""
        task = _check_task(task_name, ("query", "task_name"))
        profit = baseline_profit(task, seed)
        g = grade(task, profit, seed)
        return {"policy": task.baseline_policy, **_grade_dict(g)}

    @app.get("/web", response_class=HTMLResponse, tags=["service"])
    def web() -> str:
        """A page to play an episode by hand (plain HTML and a small script; no external resources)."""
        return (
            resources.files("invmgmt_marl.server").joinpath("static/index.html").read_text(encoding="utf-8")
        )

    return app


def _actions(action: Any, agents: list[str]) -> dict[str, Any]:
    """``{agent: action}`` from the request: unknown or missing agents named in a 422."""
    if not isinstance(action, dict):
        if len(agents) == 1:
            return {agents[0]: action}
        raise ApiError(
            422,
            ("body", "action"),
            f"expected an object keyed by agent, one of each of {agents}; got {quote(action)}",
        )
    for key in action:
        if key not in agents:
            raise ApiError(
                422, ("body", "action", key), f"unknown agent {quote(key)}; agents: {agents}", "unknown_agent"
            )
    missing = [a for a in agents if a not in action]
    if missing:
        raise ApiError(422, ("body", "action", missing[0]), f"missing actions for {missing}", "missing_agent")
    return action


def _action_loc(message: str) -> tuple[Any, ...]:
    """``("body", "action", agent)`` from an InvalidActionError message ``actions['agent']: ...``."""
    if message.startswith("actions['"):
        end = message.find("']")
        if end > 0:
            return ("body", "action", message[len("actions['") : end])
    return ("body", "action")
