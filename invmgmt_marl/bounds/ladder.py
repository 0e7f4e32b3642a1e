"""The bound ladder: every valid lower bound (and exact optimum) that applies to a compiled network.

Each rung is a :class:`Bound` that says what it bounds (``horizon``: one whole episode from the
scenario's initial state, or the long-run average) and why it is valid. Costs are the simulator's
(``invmgmt_marl.sim.ledger.COST_FIELDS`` summed over agents); ``per`` says whether ``value`` is per
period or per agent-period (``/ n_nodes``), the unit :class:`invmgmt_marl.evaluate.Evaluation` reports.

Rungs:

``newsvendor`` (any network; ``horizon="episode"``): a sum over stores of single-store newsvendor
    costs, period by period. *Why valid.* Take a store with inbound lead times ``>= L`` (deterministic
    part) and no outbound edges. Every unit that can reach it by the end of period ``tau`` was shipped
    to it by period ``t = tau - L``, so its net stock (on hand - customer backlog) at the end of
    ``tau`` is ``Y - D[t .. tau]`` for a quantity ``Y`` fixed before ``D_t`` is drawn (what is on hand,
    in transit and shipped to it in ``t``, less transit loss), when its suppliers have no customers of
    their own (else the window starts at ``t + 1``). With backorders the store's holding + backlog cost
    in ``tau`` is exactly ``g(Y - W)``, ``g(z) = h z^+ + b z^-``, ``W`` the window's demand,
    independent of ``Y`` because demand is independent across periods; so its expectation is at least
    ``min_y E g(y - W)``. For ``tau < L`` no decision matters yet and the bound is
    ``E g(Y0(tau) - D[0..tau])`` with ``Y0`` the known initial stock and pipeline. With lost sales only
    the one-period argument is claimed: the stock ``a`` on hand after the arrivals of ``tau`` is fixed
    before ``D_tau``, and the cost is ``h (a - D)^+ + c (D - a)^+ >= min_a E[...]`` (the usual lead-time
    window is *not* valid, since lost sales censor demand). All other costs are ``>= 0``. Stores with
    goodwill, perishable stock, storage caps, assembly or outbound edges, and demand processes that
    are not independent across periods (``merton``, ``csv``, ``fixed``) are skipped; the bound is then
    only over the other stores, and is skipped entirely if none remains.

``clark_scarf`` (serial chains with backorders and i.i.d. stationary demand; ``horizon="long_run"``):
    the optimal long-run average cost of the chain with internal backlog costs, ordering and fixed
    costs, order caps and shipping capacities dropped and upstream-increasing holding costs lowered
    (:mod:`~invmgmt_marl.bounds.bridge`); each relaxation only enlarges the policy set or lowers cost.
    ``kind="optimum"`` when nothing was relaxed (echelon base-stock at the returned levels attains it),
    else ``"lower_bound"``. *Finite horizon.* It bounds ``liminf (1/T) E[sum of costs]`` over an
    infinite horizon, not the mean of a finite episode: a policy may do better over periods
    ``0..T-1`` by starting from a favourable initial state or by stopping orders near the end (the
    simulator has no terminal cost). Compare it with a *stationary* policy's steady-state cost
    (:func:`steady_state_cost`: per-period cost after a warm-up, over many episodes, with its standard
    error), never with a raw episode mean of a policy that may look at the period index.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from invmgmt_marl.bounds.bridge import serial_optimum
from invmgmt_marl.bounds.clark_scarf import GridDist
from invmgmt_marl.bounds.demand_dist import NotApplicable, period_factors, store_period_dist
from invmgmt_marl.sim.network import Network

__all__ = [
    "Bound",
    "Skipped",
    "bound_ladder",
    "newsvendor_bound",
    "clark_scarf_bound",
    "steady_state_cost",
    "newsvendor_cost",
]

F64 = NDArray[np.float64]
Kind = Literal["lower_bound", "optimum", "reference"]


@dataclass(frozen=True)
class Bound:
    """One rung of the ladder.

    Attributes:
        name: ``"newsvendor"``, ``"clark_scarf"``, ``"mdp"``, ...
        value: the bound on expected cost (simulator accounting, all agents summed), in ``per`` units.
        kind: ``"lower_bound"`` (no non-anticipating policy does better in expectation), ``"optimum"``
            (a lower bound that a known policy attains) or ``"reference"`` (neither).
        per: ``"agent-period"`` (divided by agents x periods) or ``"period"``.
        horizon: ``"episode"``: the mean over one episode of the scenario's length from its initial
            state; ``"long_run"``: the long-run average (compare with :func:`steady_state_cost`).
        valid_for: the policies and cost it bounds, in words.
        note: why it is valid and what was relaxed or skipped.
        details: extra numbers (per-store values, optimal levels, ...).
    """

    name: str
    value: float
    kind: Kind
    per: Literal["agent-period", "period"]
    horizon: Literal["episode", "long_run"]
    valid_for: str
    note: str = ""
    details: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Skipped:
    """A rung that does not apply, and why."""

    name: str
    reason: str


# --------------------------------------------------------------------------------------------------
def newsvendor_cost(dist: GridDist, holding: float, shortage: float) -> tuple[float, float]:
    """``min_y E[h (y - W)^+ + b (W - y)^+]`` over ``y`` and the minimiser, for ``W ~ dist``.

    The cost is convex and piecewise linear in ``y`` with kinks at the support points, so the minimum
    is at one of them (the critical-fractile quantile). Returns ``(cost, y*)``.
    """
    w = dist.values
    p = dist.pmf
    over = w * np.cumsum(p) - np.cumsum(w * p)  # E(y - W)^+ at y = each support point
    cost = (holding + shortage) * over - shortage * (w - dist.mean)
    k = int(np.argmin(cost))
    return float(cost[k]), float(w[k])


def _expected_g(y0: float, dist: GridDist, holding: float, shortage: float) -> float:
    z = y0 - dist.values
    return float((holding * np.maximum(z, 0.0) + shortage * np.maximum(-z, 0.0)) @ dist.pmf)


def _store_skip_reason(net: Network, s: int) -> str | None:
    i = int(net.store_nodes[s])
    if np.any(net.edge_src == i):
        return "it ships to other nodes"
    if net.goodwill_on[s]:
        return "its demand reacts to service (goodwill)"
    if net.shelf_life[i] > 0:
        return "its stock is perishable"
    if np.isfinite(net.storage_capacity[i]):
        return "it has a storage capacity"
    if net.component_qty[net.edge_dst == i].any():
        return "it assembles from components"
    return None


def _window_dists(per_period: list[GridDist], width: int, start: int) -> list[GridDist]:
    """The distribution of ``D[tau - width + 1 .. tau]`` for every ``tau >= start``."""
    out = []
    for tau in range(start, len(per_period)):
        d = per_period[tau - width + 1]
        for k in range(tau - width + 2, tau + 1):
            d = d.convolve(per_period[k])
        out.append(d)
    return out


def _store_bound(net: Network, s: int, step: float) -> tuple[F64, float, str]:
    """``(T,)`` per-period lower bounds on store ``s``'s holding + shortage cost, the long-run
    stationary value (nan if demand is not stationary) and a description of the window used."""
    i = int(net.store_nodes[s])
    spec = net.demand_specs[s]
    periods = net.periods
    factors = period_factors(spec, periods)
    stationary = bool(np.all(factors == factors[0]))
    if stationary:
        one = store_period_dist(spec, float(factors[0]), step)
        per_period = [one] * periods
    else:
        cache: dict[float, GridDist] = {}
        per_period = [cache.setdefault(float(f), store_period_dist(spec, float(f), step)) for f in factors]
        if len({d.step for d in per_period}) > 1:
            raise NotApplicable("non-integer demand with time-varying effects (no common grid)")
    h = float(net.holding_cost[i])
    inbound = np.flatnonzero(net.edge_dst == i)
    lead = int(net.lead_time[inbound].min())
    if net.store_lost_sales[s]:
        c = float(net.lost_sales_cost[i])
        vals = np.array([newsvendor_cost(d, h, c)[0] for d in per_period])
        lr = newsvendor_cost(per_period[0], h, c)[0] if stationary else float("nan")
        return vals, lr, "lost sales: one period of demand"
    b = float(net.backlog_cost[i])
    suppliers = net.edge_src[inbound]
    upstream_has_customers = any(
        int(u) in set(net.store_nodes.tolist()) for u in suppliers if u < net.n_nodes
    )
    width = lead if upstream_has_customers else lead + 1  # periods of demand in the window
    first = width - 1  # the first period a decision can influence (tau = t + width - 1, t >= 0)
    vals = np.zeros(periods)
    if first > 0:  # periods before any order can arrive: the initial stock and pipeline decide
        y0 = float(net.initial_on_hand[i]) - float(net.initial_backlog[net.n_edges + s])
        cum = per_period[0]
        for tau in range(min(first, periods)):
            if tau > 0:
                cum = cum.convolve(per_period[tau])
            arrivals = float(net.initial_pipeline[inbound, : tau + 1].sum())
            if net.any_transit_loss or net.any_reliability:  # arrivals may fall short: take the minimum
                vals[tau] = newsvendor_cost(cum, h, b)[0]
            else:
                vals[tau] = _expected_g(y0 + arrivals, cum, h, b)
    for tau, d in enumerate(_window_dists(per_period, width, first), start=first):
        vals[tau] = newsvendor_cost(d, h, b)[0]
    lr = newsvendor_cost(per_period[0].power(width), h, b)[0] if stationary else float("nan")
    return (
        vals,
        lr,
        f"backorders: {width} periods of demand (lead time {lead}{'' if width == lead else ' + 1'})",
    )


def newsvendor_bound(net: Network, step: float = 0.01) -> list[Bound | Skipped]:
    """The per-store newsvendor rung (module docstring): an ``"episode"`` bound and, when every
    included store's demand is stationary, a ``"long_run"`` one. Stores that do not qualify are
    left out (named in the note); if none qualifies a :class:`Skipped` is returned."""
    per_period = np.zeros(net.periods)
    long_run = 0.0
    used, skipped, windows = [], [], {}
    for s in range(net.n_stores):
        name = net.agents[int(net.store_nodes[s])]
        reason = _store_skip_reason(net, s)
        if reason is None:
            try:
                vals, lr, window = _store_bound(net, s, step)
            except NotApplicable as err:
                reason = str(err)
        if reason is not None:
            skipped.append(f"{name} ({reason})")
            continue
        per_period += vals
        long_run += lr
        used.append(name)
        windows[name] = {"window": window, "episode_per_period": float(vals.mean()), "long_run": lr}
    if not used:
        return [Skipped("newsvendor", "no store qualifies: " + "; ".join(skipped))]
    n = net.n_nodes
    note = "sum over stores " + ", ".join(used) + " of single-store newsvendor costs (docs/bounds.md)"
    if skipped:
        note += "; left out (their cost counted as >= 0): " + "; ".join(skipped)
    valid = "expected cost of any non-anticipating policy"
    out: list[Bound | Skipped] = [
        Bound(
            "newsvendor",
            float(per_period.mean()) / n,
            "lower_bound",
            "agent-period",
            "episode",
            valid + f", mean over a {net.periods}-period episode from the scenario's initial state",
            note,
            {"stores": windows, "per_period": per_period},
        )
    ]
    if np.isfinite(long_run):
        out.append(
            Bound(
                "newsvendor",
                long_run / n,
                "lower_bound",
                "agent-period",
                "long_run",
                valid + ", long-run average per period",
                note,
                {"stores": windows},
            )
        )
    return out


def clark_scarf_bound(net: Network, step: float = 0.01) -> Bound | Skipped:
    """The Clark-Scarf rung (module docstring) for serial chains, per agent-period, long run."""
    try:
        opt = serial_optimum(net, step)
    except NotApplicable as err:
        return Skipped("clark_scarf", str(err))
    m = opt.mapping
    exact = m.exact
    note = (
        "Clark-Scarf recursion with lead times lam = "
        + "/".join(map(str, m.lead_times))
        + " (store L + 1, then L: orders precede demand) and pipeline offset "
        + f"{m.offset:.4g} per period (docs/bounds.md)"
    )
    note += (
        "; exact: echelon base-stock at the levels attains it"
        if exact
        else "; relaxed: " + "; ".join(m.relaxations)
    )
    return Bound(
        "clark_scarf",
        opt.cost / net.n_nodes,
        "optimum" if exact else "lower_bound",
        "agent-period",
        "long_run",
        "long-run average expected cost per period of any non-anticipating policy (not a finite episode's "
        "mean: compare with steady_state_cost of a stationary policy)",
        note,
        {"echelon_levels": opt.echelon_levels.tolist(), "cost_per_period": opt.cost},
    )


def bound_ladder(net: Network, step: float = 0.01) -> list[Bound | Skipped]:
    """Every rung of the ladder for ``net``: :class:`Bound` entries, and :class:`Skipped` entries that
    say why a rung does not apply. Values are per agent-period (module docstring for each rung)."""
    out: list[Bound | Skipped] = list(newsvendor_bound(net, step))
    out.append(clark_scarf_bound(net, step))
    return out


# --------------------------------------------------------------------------------------------------
def steady_state_cost(
    net: Network,
    policy: Callable[..., F64],
    episodes: int = 200,
    warmup: int = 50,
    seed: int = 0,
    per: Literal["agent-period", "period"] = "agent-period",
) -> tuple[float, float]:
    """Estimate a stationary policy's long-run expected cost: the mean cost per period over periods
    ``warmup .. T-1`` of ``episodes`` independent episodes, and its standard error (episodes are the
    independent replicates). This is what a ``horizon="long_run"`` bound is compared with.

    Returns:
        ``(mean, standard error)`` per agent-period (or per period).
    """
    from invmgmt_marl.rollout import rollout
    from invmgmt_marl.sim.ledger import COST_FIELDS

    if not 0 <= warmup < net.periods:
        raise ValueError(f"warmup: must be in [0, {net.periods}), got {warmup}")
    if episodes < 2:
        raise ValueError(f"episodes: need at least 2 for a standard error, got {episodes}")
    tr = rollout(net, policy, episodes=episodes, seed=seed)
    cost = sum(tr.node(f)[warmup:] for f in COST_FIELDS)  # (T - w, B, N)
    per_ep = cost.sum(axis=2).mean(axis=0)  # type: ignore[union-attr]
    if per == "agent-period":
        per_ep = per_ep / net.n_nodes
    return float(per_ep.mean()), float(per_ep.std(ddof=1) / np.sqrt(len(per_ep)))
