"""Episodes by session id: one env per session, a lock per session, bounded in number and idle time."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from invmgmt_marl.env import InventoryParallelEnv
from invmgmt_marl.tasks import Task, ledger_profit

__all__ = ["Session", "SessionStore", "SessionLimitError", "UnknownSessionError"]


class UnknownSessionError(KeyError):
    """No live session has this id (never created, closed, or expired)."""


class SessionLimitError(RuntimeError):
    """``max_sessions`` live sessions already exist."""


@dataclass
class Session:
    """One episode served over HTTP.

    Attributes:
        id: the session id (also OpenEnv's ``episode_id``).
        env: the episode's env (a batch of one, ``strict=True``: out-of-bounds actions are refused).
        scenario: the scenario name.
        task: the task when the episode was started from one, else None.
        seed: the seed of the last reset (None: fresh entropy).
        profit: the team's profit so far (:func:`~invmgmt_marl.tasks.ledger_profit` summed).
        step_count: periods played since the last reset.
        history: one dict per period played: ``t``, ``profit`` (the period's), ``demand``, ``sold``.
        last_used: the clock's time of the last request.
    """

    id: str
    env: InventoryParallelEnv
    scenario: str
    task: Task | None
    seed: int | None
    last_used: float
    profit: float = 0.0
    step_count: int = 0
    history: list[dict[str, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def done(self) -> bool:
        """Whether the episode has ended (every agent truncated)."""
        return not self.env.agents

    def reset(self, seed: int | None, options: Mapping[str, Any] | None) -> dict[str, Any]:
        """Reset the env (call with ``lock`` held); returns the observations."""
        obs, _ = self.env.reset(seed=seed, options=options)
        self.seed, self.profit, self.step_count, self.history = seed, 0.0, 0, []
        return obs

    def step(self, actions: Mapping[str, Any]) -> tuple[Any, ...]:
        """One period (call with ``lock`` held); books profit and history, returns the env's 5-tuple."""
        out = self.env.step(actions)
        ledger = self.env.last_ledger
        if ledger is not None:
            period = ledger_profit(self.env.net, ledger)
            self.profit += period
            self.step_count += 1
            self.history.append(
                {
                    "t": int(ledger.t),
                    "profit": period,
                    "cumulative_profit": self.profit,
                    "demand": float(np.sum(ledger.demand)),
                    "sold": float(np.sum(ledger.sold)),
                    "lost": float(np.sum(ledger.lost)),
                    "on_hand": float(np.sum(ledger.on_hand)),
                }
            )
        return out


class SessionStore:
    """Live sessions, at most ``max_sessions``, each dropped ``idle_timeout`` seconds after its last use."""

    def __init__(self, max_sessions: int, idle_timeout: float, clock: Callable[[], float]) -> None:
        self.max_sessions = max_sessions
        self.idle_timeout = idle_timeout
        self.clock = clock
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            self._expire()
            return len(self._sessions)

    def _expire(self) -> None:
        now = self.clock()
        for sid in [s.id for s in self._sessions.values() if now - s.last_used > self.idle_timeout]:
            del self._sessions[sid]

    def add(self, env: InventoryParallelEnv, scenario: str, task: Task | None) -> Session:
        """A new session around ``env``; SessionLimitError when ``max_sessions`` are live."""
        with self._lock:
            self._expire()
            if len(self._sessions) >= self.max_sessions:
                raise SessionLimitError(
                    f"session limit reached ({self.max_sessions} live sessions); close one (DELETE /session) "
                    f"or wait {self.idle_timeout:g} s for idle ones to expire"
                )
            sid = secrets.token_urlsafe(16)
            session = Session(sid, env, scenario, task, None, self.clock())
            self._sessions[sid] = session
            return session

    def get(self, sid: Any) -> Session:
        """The live session ``sid`` (its idle clock restarts); UnknownSessionError otherwise."""
        with self._lock:
            self._expire()
            session = self._sessions.get(sid) if isinstance(sid, str) else None
            if session is None:
                raise UnknownSessionError(sid)
            session.last_used = self.clock()
            return session

    def remove(self, sid: Any) -> None:
        """Close the session ``sid``; UnknownSessionError if it is not live."""
        with self._lock:
            self._expire()
            if not isinstance(sid, str) or self._sessions.pop(sid, None) is None:
                raise UnknownSessionError(sid)
