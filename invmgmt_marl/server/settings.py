"""The server's limits, in one frozen dataclass."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Settings"]


@dataclass(frozen=True)
class Settings:
    """Limits and knobs of :func:`~invmgmt_marl.server.create_app`.

    Attributes:
        max_sessions: live episodes at once; a reset beyond it (after expired ones are dropped) gets 429.
        idle_timeout: seconds after its last request when a session is dropped.
        max_body_bytes: request bodies larger than this get 413 before any parsing.
        max_periods: the longest episode a client may ask for with ``options.periods``.
        default_task: the task a reset with neither ``task`` nor ``scenario`` plays (None: such a reset
            is refused with 422).
        clock: the time source for idle expiry (tests inject a fake one).
    """

    max_sessions: int = 64
    idle_timeout: float = 600.0
    max_body_bytes: int = 1_000_000
    max_periods: int = 10_000
    default_task: str | None = "serial"
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("max_sessions", "max_body_bytes", "max_periods"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name}: expected an integer >= 1, got {v!r}")
        if not (isinstance(self.idle_timeout, (int, float)) and self.idle_timeout > 0):
            raise ValueError(
                f"idle_timeout: expected a positive number of seconds, got {self.idle_timeout!r}"
            )
