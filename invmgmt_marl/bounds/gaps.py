"""Gaps of a policy to the ladder of bounds, each against the quantity the bound is valid for.

A bound is only a bound on a definite quantity (:mod:`invmgmt_marl.bounds.ladder`):

* the perfect-information LP bounds every path's cost, for any policy, anticipating or not, so it is
  compared with the **episode mean** (it knows the future, so the gap is large);
* an ``horizon="episode"`` rung (the newsvendor over a whole episode from the initial state) bounds
  the expected episode mean of every non-anticipating policy: compared with the **episode mean**;
* an ``horizon="long_run"`` rung (newsvendor long run, Clark-Scarf) bounds the long-run average cost;
  it is compared only with the **steady-state cost** of a **stationary** policy (one that does not
  look at the period index: mean cost per period after a warm-up), never with the raw episode mean.

Each valid comparison gives a relative gap ``(policy - bound) / bound``, an upper bound on how far the
policy is from the best non-anticipating policy in that quantity (up to sampling error); the "gap to
the best valid bound" is the smallest of them, with the bound and the quantity it was measured on.
The bounds are on **cost**; with ``objective="profit"`` only the perfect-information LP (a bound on
profit) is used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from invmgmt_marl.bounds.ladder import Bound, Skipped

__all__ = [
    "PERFECT_INFORMATION",
    "ValidGap",
    "relative_gap",
    "rung_record",
    "perfect_information_record",
    "best_valid_gap",
]

#: the label of the perfect-information LP in reports
PERFECT_INFORMATION = "perfect-information (knows the future)"
Quantity = Literal["episode mean", "steady-state cost"]


def relative_gap(value: float, bound: float, objective: str = "cost") -> float:
    """``(value - bound) / |bound|`` for cost, ``(bound - value) / |bound|`` for profit; NaN if the
    bound is 0."""
    if bound == 0:
        return float("nan")
    return ((value - bound) if objective == "cost" else (bound - value)) / abs(bound)


@dataclass(frozen=True)
class ValidGap:
    """A policy's gap to one bound, measured on the quantity that bound is valid for.

    Attributes:
        bound: the rung's name (``"newsvendor"``, ``"clark_scarf"``, ``"perfect_information"``).
        kind: the rung's kind (``"lower_bound"``, ``"optimum"``; the LP: ``"perfect_information"``).
        horizon: ``"episode"`` or ``"long_run"``.
        quantity: what of the policy was compared: ``"episode mean"`` or ``"steady-state cost"``.
        bound_value: the bound, per agent-period.
        policy_value: the policy's value of ``quantity``, per agent-period.
        policy_stderr: its standard error over episodes (None if unknown).
        gap: ``(policy_value - bound_value) / bound_value`` (profit: the other way round).
        gap_stderr: ``policy_stderr / |bound_value|`` (the bound is exact or the same paths' LP).
    """

    bound: str
    kind: str
    horizon: str
    quantity: Quantity
    bound_value: float
    policy_value: float
    policy_stderr: float | None
    gap: float
    gap_stderr: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def rung_record(rung: Bound | Skipped) -> dict[str, Any]:
    """A JSON-safe dict of one rung (a :class:`Skipped` one carries ``skipped``: the reason)."""
    if isinstance(rung, Skipped):
        return {"name": rung.name, "skipped": rung.reason}
    return {
        "name": rung.name,
        "kind": rung.kind,
        "horizon": rung.horizon,
        "per_agent_period": rung.value if rung.per == "agent-period" else None,
        "value": rung.value,
        "per": rung.per,
        "valid_for": rung.valid_for,
        "note": rung.note,
    }


def perfect_information_record(per_agent_period: float, objective: str) -> dict[str, Any]:
    """The ladder entry of the perfect-information LP (mean over the evaluated paths)."""
    return {
        "name": "perfect_information",
        "label": PERFECT_INFORMATION,
        "kind": "perfect_information",
        "horizon": "episode",
        "per_agent_period": per_agent_period,
        "value": per_agent_period,
        "per": "agent-period",
        "valid_for": f"every policy's {objective} on the same paths, even one that knows the future",
        "note": "linear program on each evaluated demand path (invmgmt_marl.oracle)",
    }


def best_valid_gap(
    ladder: Sequence[Bound | Skipped],
    episode: tuple[float, float | None],
    steady: tuple[float, float | None] | None = None,
    perfect_information: float | None = None,
    objective: str = "cost",
) -> tuple[ValidGap | None, list[ValidGap]]:
    """Every valid (bound, quantity) comparison and the one with the smallest gap.

    Args:
        ladder: :func:`~invmgmt_marl.bounds.bound_ladder` output (values per agent-period).
        episode: the policy's mean cost (or profit) per agent-period over the evaluated episodes, and
            its standard error.
        steady: the policy's steady-state cost per agent-period and standard error, **only** for a
            stationary policy (None otherwise: long-run rungs are then not compared).
        perfect_information: the LP's mean per agent-period over the same paths (None: not solved).
        objective: ``"cost"`` or ``"profit"`` (profit: only the LP is a bound on it).

    Returns:
        ``(best, all)``: the comparison with the smallest gap (None if there is none) and all of them.
    """
    out: list[ValidGap] = []
    mean, se = episode

    def add(name: str, kind: str, horizon: str, q: Quantity, b: float, v: float, s: float | None) -> None:
        g = relative_gap(v, b, objective)
        if g == g:  # not NaN
            out.append(ValidGap(name, kind, horizon, q, b, v, s, g, None if s is None else s / abs(b)))

    if perfect_information is not None:
        lp = "perfect_information"
        add(lp, lp, "episode", "episode mean", perfect_information, mean, se)
    if objective == "cost":
        for r in ladder:
            if not isinstance(r, Bound) or r.kind == "reference" or r.per != "agent-period":
                continue
            if r.horizon == "episode":
                add(r.name, r.kind, r.horizon, "episode mean", r.value, mean, se)
            elif steady is not None:
                add(r.name, r.kind, r.horizon, "steady-state cost", r.value, steady[0], steady[1])
    best = min(out, key=lambda g: g.gap) if out else None
    return best, out
