"""A non-anticipative lower bound for stores with Merton demand: the conditional newsvendor rung.

The ``newsvendor`` rung of :mod:`~invmgmt_marl.bounds.ladder` needs demand that is independent across
periods. Merton demand (Liu et al., 2022) is a random walk in logs, ``X_k = X_{k-1} + inc_k``, with
``D_k = min(floor(base * exp(X_k)), max_demand)``, and a path is redrawn until its uncapped mean lies in
``(0, max_demand)`` (:class:`~invmgmt_marl.demand.MertonParams`). The same argument still gives a bound
once the window's distribution is taken **conditionally** on what is known when the decision is made.

*Why valid.* Take a store with backorders and window width ``w`` (``L + 1`` periods of demand, or
``L`` when its supplier has customers of its own, as in the ``newsvendor`` rung). Its cost in period
``tau = t + w - 1`` is ``g(Y - W)`` with ``W = D[t .. tau]`` and ``Y`` fixed by the policy before
``D_t`` is drawn, so ``Y`` depends only on the information ``F_t`` of that moment (past demand, the
policy's own randomness). Give the policy more: ``G_t`` = the log path ``X_0 .. X_{t-1}``, and the
fact that the path was accepted. Then ``E g(Y - W) = E E[g(Y - W) | G_t] >= E min_y E[g(y - W) | G_t]``.
The conditional law of ``W`` given ``G_t`` is that of the random walk continued from ``X_{t-1}`` **and
accepted** by the redraw rule (the whole path's mean, past and future, in range); it is sampled here
by continuing the walk ``samples`` times and keeping the accepted continuations. The inner minimum is
taken over the empirical distribution of those samples: ``E[min_y (empirical mean)] <= min_y E[...]``,
so the Monte Carlo estimate is biased **low** (still a valid bound); the outer expectation is a mean
over ``paths`` independent demand paths, reported with its standard error. Lost-sales stores get the
one-period version (``w = 1``, cost ``h (a - D)^+ + c (D - a)^+``), as in the ``newsvendor`` rung.
Periods ``tau < w - 1`` are decided by the initial stock and pipeline: their cost is computed on each
path from its own demand. Other stores and all upstream costs are counted as ``>= 0``.

It is a Monte Carlo bound (a few seconds to a minute), so it is not part of :func:`bound_ladder`:
call :func:`merton_newsvendor_bound` explicitly.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from invmgmt_marl.bounds.demand_dist import NotApplicable, period_factors
from invmgmt_marl.bounds.ladder import Bound, Skipped, _store_skip_reason
from invmgmt_marl.sim.network import Network

__all__ = ["merton_newsvendor_bound", "sample_merton_paths", "conditional_newsvendor"]

F64 = NDArray[np.float64]


def _increments(p: Any, rng: np.random.Generator, shape: tuple[int, ...]) -> F64:
    """Log increments of the Merton walk, drawn exactly as :func:`invmgmt_marl.demand._merton` does."""
    z = rng.normal(0.0, 1.0, size=shape)
    jumps = rng.poisson(p.jump_rate, size=shape)
    z2 = rng.normal(0.0, p.jump_std, size=shape)
    return np.asarray(np.sqrt(p.dt) * p.delta * z + p.jump_scale * np.sqrt(jumps) * z2)


def sample_merton_paths(p: Any, rng: np.random.Generator, paths: int, periods: int) -> tuple[F64, F64]:
    """``(paths, periods)`` accepted log paths ``X`` and their capped demand ``D``, by the redraw rule of
    :class:`~invmgmt_marl.demand.MertonParams` (the same law as the simulator's demand).

    Raises:
        RuntimeError: not enough accepted paths after ``p.max_redraws`` rounds.
    """
    xs: list[F64] = []
    for _ in range(p.max_redraws):
        inc = _increments(p, rng, (paths, periods - 1))
        x = np.concatenate([np.full((paths, 1), p.start), p.start + np.cumsum(inc, axis=1)], axis=1)
        m = np.floor(p.base * np.exp(x)).mean(axis=1)
        xs.extend(x[(m > 0) & (m < p.max_demand)])
        if len(xs) >= paths:
            x = np.array(xs[:paths])
            return x, np.minimum(np.floor(p.base * np.exp(x)), p.max_demand)
    raise RuntimeError(f"merton demand: fewer than {paths} accepted paths after {p.max_redraws} rounds")


def conditional_newsvendor(samples: F64, holding: float, shortage: float) -> float:
    """``min_y mean(h (y - W)^+ + b (W - y)^+)`` over the empirical distribution of ``samples`` ``(K,)``
    (0 when there are no samples: the cost is still ``>= 0``). The minimum is at a sample point."""
    if samples.size == 0:
        return 0.0
    w = np.sort(samples)
    k = len(w)
    # at y = w[j]: h * sum_{i<=j} (w[j] - w[i]) + b * sum_{i>j} (w[i] - w[j]), all j at once
    csum = np.cumsum(w)
    j = np.arange(k)
    over = w * (j + 1) - csum
    under = (csum[-1] - csum) - w * (k - j - 1)
    return float((holding * over + shortage * under).min() / k)


def _store_width(net: Network, s: int) -> tuple[int, bool]:
    i = int(net.store_nodes[s])
    if net.store_lost_sales[s]:
        return 1, True
    inbound = np.flatnonzero(net.edge_dst == i)
    lead = int(net.lead_time[inbound].min())
    stores = set(net.store_nodes.tolist())
    upstream_has_customers = any(int(u) in stores for u in net.edge_src[inbound] if u < net.n_nodes)
    return (lead if upstream_has_customers else lead + 1), False


def _store_path_costs(net: Network, s: int, x: F64, d: F64, samples: int, rng: np.random.Generator) -> F64:
    """``(P, T)`` per-period lower bounds on store ``s``'s cost along each of the ``P`` paths."""
    p: Any = net.demand_specs[s].params
    i = int(net.store_nodes[s])
    width, lost = _store_width(net, s)
    h = float(net.holding_cost[i])
    b = float(net.lost_sales_cost[i] if lost else net.backlog_cost[i])
    n_paths, periods = d.shape
    out = np.zeros((n_paths, periods))
    first = width - 1
    if first > 0:  # the initial stock and pipeline decide: the cost on the path itself
        inbound = np.flatnonzero(net.edge_dst == i)
        y0 = float(net.initial_on_hand[i]) - float(net.initial_backlog[net.n_edges + s])
        if net.any_transit_loss or net.any_reliability:
            raise NotApplicable("transit loss or unreliable supply: the initial arrivals are not known")
        cum = np.cumsum(d[:, :first], axis=1)
        for tau in range(min(first, periods)):
            z = y0 + float(net.initial_pipeline[inbound, : tau + 1].sum()) - cum[:, tau]
            out[:, tau] = h * np.maximum(z, 0.0) + b * np.maximum(-z, 0.0)
    uncapped = np.floor(p.base * np.exp(x))  # (P, T) for the acceptance rule
    for t in range(0, periods - first):
        tau = t + first
        if t == 0:  # X_0 = start is fixed: D_0 is known; continue the walk from X_0 for periods 1..
            prefix_sum = np.zeros(n_paths)
            last = np.full(n_paths, float(p.start))
            horizon = periods
        else:
            prefix_sum = uncapped[:, :t].sum(axis=1)
            last = x[:, t - 1]
            horizon = periods - t
        for k in range(n_paths):
            if t == 0:
                steps = _increments(p, rng, (samples, periods - 1))
                cont = np.concatenate(
                    [np.full((samples, 1), p.start), p.start + np.cumsum(steps, axis=1)], axis=1
                )
            else:
                cont = last[k] + np.cumsum(_increments(p, rng, (samples, horizon)), axis=1)
            dem = np.floor(p.base * np.exp(cont))  # (K, horizon): periods t .. T-1
            mean = (prefix_sum[k] + dem.sum(axis=1)) / periods
            ok = (mean > 0) & (mean < p.max_demand)
            window = np.minimum(dem[ok, :width], p.max_demand).sum(axis=1)
            out[k, tau] = conditional_newsvendor(window, h, b)
    return out


def merton_newsvendor_bound(
    net: Network, paths: int = 20, samples: int = 200, seed: int = 0
) -> Bound | Skipped:
    """The conditional newsvendor rung for stores with Merton demand (module docstring).

    Args:
        net: the compiled network.
        paths: outer demand paths (the expectation over the process; the standard error is over them).
        samples: continuations per path and period (the inner conditional distribution).
        seed: seeds both.

    Returns:
        a :class:`~invmgmt_marl.bounds.ladder.Bound` per agent-period over one episode, with
        ``details["stderr"]`` (over the outer paths) and the per-store values, or :class:`Skipped` when
        no store has plain Merton demand.
    """
    if paths < 2 or samples < 1:
        raise ValueError(f"paths / samples: need paths >= 2 and samples >= 1, got {paths}, {samples}")
    rng = np.random.default_rng(seed)
    total = np.zeros(paths)
    used, skipped, per_store = [], [], {}
    for s in range(net.n_stores):
        name = net.agents[int(net.store_nodes[s])]
        spec = net.demand_specs[s]
        reason = _store_skip_reason(net, s)
        if reason is None and spec.process != "merton":
            reason = f"demand process {spec.process!r} (the newsvendor rung covers independent demand)"
        if reason is None and not np.all(period_factors(spec, net.periods) == 1.0):
            reason = "Merton demand with multipliers or time effects"
        if reason is None:
            x, d = sample_merton_paths(spec.params, rng, paths, net.periods)
            try:
                costs = _store_path_costs(net, s, x, d, samples, rng).sum(axis=1)  # (P,)
            except NotApplicable as err:
                reason = str(err)
        if reason is not None:
            skipped.append(f"{name} ({reason})")
            continue
        total += costs
        used.append(name)
        per_store[name] = float(costs.mean()) / net.periods
    if not used:
        return Skipped("merton_newsvendor", "no store qualifies: " + "; ".join(skipped))
    per_ap = total / (net.n_nodes * net.periods)
    note = (
        "sum over stores " + ", ".join(used) + " of conditional newsvendor costs given the Merton log "
        f"path so far ({paths} paths x {samples} continuations; docs/bounds.md)"
    )
    if skipped:
        note += "; left out (their cost counted as >= 0): " + "; ".join(skipped)
    return Bound(
        "merton_newsvendor",
        float(per_ap.mean()),
        "lower_bound",
        "agent-period",
        "episode",
        "expected cost of any non-anticipating policy, mean over a "
        f"{net.periods}-period episode from the scenario's initial state (Monte Carlo estimate)",
        note,
        {"stderr": float(per_ap.std(ddof=1) / np.sqrt(paths)), "stores_per_period": per_store},
    )
