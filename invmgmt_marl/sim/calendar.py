"""Countdowns of a network's event calendar (docs/products.md, "Events").

The calendar's demand factors are compiled into the stores' demand specs; this module only tells
agents where they stand: per event, the periods until its next start and the periods it has left.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from invmgmt_marl.sim.network import Network

__all__ = ["event_clock", "event_features"]

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]


def event_clock(net: Network, t: int) -> tuple[I64, I64]:
    """Where each event stands in period ``t`` (the period about to be simulated).

    An event with ``start``, ``duration`` and ``every`` (0: once) is active in the periods
    ``[start + k every, start + k every + duration)``, ``k = 0, 1, ...`` (``k = 0`` only when once).

    Returns:
        ``(until, left)``, ``(V,)`` each: ``until`` the periods until the event's next start at or
        after ``t`` (0 when it starts in ``t``; -1 when it never starts again), ``left`` the periods it
        stays active counting ``t`` (0 when inactive; ``duration`` in its first period).
    """
    start, dur, every = net.event_start, net.event_duration, net.event_every
    since = t - start  # (V,)
    repeats = every > 0
    phase = np.where(repeats & (since >= 0), since % np.maximum(every, 1), since)
    active = (since >= 0) & (phase < dur)
    left = np.where(active, dur - phase, 0)
    until = np.where(
        since <= 0,
        -since,  # not started yet (or starts now)
        np.where(repeats, np.where(phase == 0, 0, every - phase), -1),  # the next occurrence, or never
    )
    return until.astype(np.int64), left.astype(np.int64)


def event_features(net: Network, t: int) -> F64:
    """``(V, 2)`` scaled countdowns for observations: ``until / periods`` (1 when the event never
    starts again, capped at 1) and ``left / duration`` (0 when inactive, 1 in its first period)."""
    until, left = event_clock(net, t)
    out = np.empty((len(until), 2))
    out[:, 0] = np.where(until < 0, 1.0, np.minimum(until / net.periods, 1.0))
    out[:, 1] = left / net.event_duration
    return out
