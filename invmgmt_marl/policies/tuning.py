"""Tune baseline policy parameters by simulation on training demand.

Coordinate descent with common random numbers: every candidate setting of one parameter is scored on
the *same* demand paths, and all candidates of a coordinate run as one batched rollout (one row per
candidate and episode). Step sizes start at the mean per-period throughput of the node and halve down
to 1 unit. Seeded, so a tuning run is reproducible; results can be cached on disk as JSON.

On a network with products every parameter is per (product, node) and all products are tuned in one
batched search (:func:`invmgmt_marl.policies.products.tune_products`): the batch axis holds candidates
x training paths, the product axis the SKUs, and the shared constraints act in the simulation.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from invmgmt_marl._io import atomic_write_json, child_path, read_json_or_none
from invmgmt_marl.demand import sample_network_demand
from invmgmt_marl.objective import Objective, check_objective
from invmgmt_marl.policies.base import (
    BaseStockPolicy,
    EchelonBaseStockPolicy,
    ForecastOrderUpToPolicy,
    Policy,
    SSPolicy,
    _echelon_matrix,
    demand_statistics,
    heuristic_base_stock_levels,
    node_throughput,
)
from invmgmt_marl.policies.products import (
    CapacityBaseStockPolicy,
    default_product_episodes,
    newsvendor_levels,
    tune_products,
)
from invmgmt_marl.rollout import rollout
from invmgmt_marl.sim import Network

__all__ = ["TUNABLE", "TuneResult", "tune", "build_tuned", "cache_dir"]

logger = logging.getLogger(__name__)
F64 = NDArray[np.float64]


@dataclass(frozen=True)
class Tunable:
    """How to tune one policy family: initial parameters and a builder from a ``(B, P)`` matrix."""

    names: Callable[[Network], list[str]]
    initial: Callable[[Network, dict[str, Any]], F64]
    build: Callable[[Network, F64, dict[str, Any]], Policy]  # params (B, P) or (P,)
    lower: Callable[[Network], F64]
    step: Callable[[Network, F64], F64]  # initial step sizes from the nodes' mean throughput (N,)


def _node_names(prefix: str) -> Callable[[Network], list[str]]:
    return lambda net: [f"{prefix}[{a}]" for a in net.agents]


def _zeros(net: Network) -> F64:
    return np.zeros(net.n_nodes)


def _ss_build(net: Network, p: F64, kw: dict[str, Any]) -> Policy:
    n = net.n_nodes
    s = p[..., :n]
    return SSPolicy(s, s + p[..., n:], **kw)


def _both(a: F64, b: F64) -> F64:
    """``a`` and ``b`` side by side on the last axis, broadcast to one shape first ((P, N) with products)."""
    a, b = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    return np.concatenate([a, b], axis=-1)


def _units(net: Network, through: F64) -> F64:
    return np.maximum(np.ceil(through), 1.0)


def _forecast_build(net: Network, p: F64, kw: dict[str, Any]) -> Policy:
    n = net.n_nodes
    return ForecastOrderUpToPolicy(cover=p[..., :n], safety=p[..., n:], **kw)


def _forecast_initial(net: Network, kw: dict[str, Any]) -> F64:
    cover = ForecastOrderUpToPolicy(**kw).default_cover(net)
    return _both(cover, np.zeros(net.n_nodes))


TUNABLE: dict[str, Tunable] = {
    "base_stock": Tunable(
        _node_names("S"),
        lambda net, kw: heuristic_base_stock_levels(net),
        lambda net, p, kw: BaseStockPolicy(p, **kw),
        _zeros,
        _units,
    ),
    "echelon_base_stock": Tunable(
        _node_names("S_echelon"),
        lambda net, kw: heuristic_base_stock_levels(net) @ _echelon_matrix(net).T,
        lambda net, p, kw: EchelonBaseStockPolicy(p, **kw),
        _zeros,
        _units,
    ),
    "s_S": Tunable(
        lambda net: [f"s[{a}]" for a in net.agents] + [f"S-s[{a}]" for a in net.agents],
        lambda net, kw: _both(
            heuristic_base_stock_levels(net), np.ceil(node_throughput(net, demand_statistics(net)[0]))
        ),
        _ss_build,
        lambda net: np.zeros(2 * net.n_nodes),
        lambda net, through: _both(_units(net, through), _units(net, through)),
    ),
    "forecast_order_up_to": Tunable(
        lambda net: [f"cover[{a}]" for a in net.agents] + [f"safety[{a}]" for a in net.agents],
        _forecast_initial,
        _forecast_build,
        lambda net: np.concatenate([np.zeros(net.n_nodes), np.full(net.n_nodes, -np.inf)]),
        lambda net, through: _both(np.ones(net.n_nodes), _units(net, through)),
    ),
    # products: base-stock scaled to the shared storage volume and ordering budget (policies.products)
    "base_stock_capacity": Tunable(
        _node_names("S"),
        lambda net, kw: newsvendor_levels(net),
        lambda net, p, kw: CapacityBaseStockPolicy(p, **kw),
        _zeros,
        _units,
    ),
}


@dataclass(frozen=True)
class TuneResult:
    """Outcome of :func:`tune`: the best parameters and their training cost."""

    kind: str
    params: dict[str, float]
    vector: list[float]
    cost_per_agent_period: float
    objective: str
    episodes: int
    seed: int
    evaluations: int
    options: dict[str, Any] = field(default_factory=dict)

    def policy(self, net: Network) -> Policy:
        """The tuned policy for ``net``."""
        vector = np.asarray(self.vector)
        if net.product_axis:  # stored product-major: (P, C)
            vector = vector.reshape(net.n_products, -1)
        return TUNABLE[self.kind].build(net, vector, dict(self.options))


def _score(
    net: Network, kind: str, candidates: F64, demand: F64, seed: int, objective: str, options: dict[str, Any]
) -> F64:
    """Mean cost per agent-period (or minus profit) of each ``(C, P)`` candidate on the same demand."""
    c, episodes = candidates.shape[0], demand.shape[0]
    params = np.repeat(candidates, episodes, axis=0)  # (C * episodes, P)
    policy = TUNABLE[kind].build(net, params, options)
    traj = rollout(net, policy, seed=seed, demand=np.tile(demand, (c, 1, 1)), keep="sum")
    per_row = traj.cost().sum(axis=1)
    if objective == "profit":
        per_row = per_row - traj.node("revenue").sum(axis=(0, 2))
    return per_row.reshape(c, episodes).mean(axis=1) / (net.n_nodes * net.periods)


def cache_dir() -> Path:
    """Where tuned parameters are cached: ``$INVMGMT_MARL_CACHE`` or ``~/.cache/invmgmt-marl``."""
    return Path(os.environ.get("INVMGMT_MARL_CACHE", Path.home() / ".cache" / "invmgmt-marl")) / "tuned"


def _code_fingerprint() -> str:
    """Hash of the code whose behaviour tuned parameters depend on (dynamics, policies, tuning)."""
    here = Path(__file__).resolve().parent.parent
    files = [
        *(here / "sim" / f for f in ("dynamics.py", "network.py", "ledger.py", "supply.py")),
        here / "compile.py",
        here / "demand.py",
        here / "rollout.py",
        here / "policies" / "base.py",
        here / "policies" / "products.py",
        Path(__file__),
    ]
    return hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()[:12]


def _cache_key(
    net: Network, kind: str, episodes: int, seed: int, objective: str, options: dict[str, Any]
) -> str:
    # the scenario's fingerprint covers its mapping and the content of the files it reads (CSV demand)
    blob = json.dumps(
        [net.fingerprint, kind, episodes, seed, objective, options, _code_fingerprint()],
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def tune(
    net: Network,
    kind: str = "base_stock",
    episodes: int = 64,
    seed: int = 0,
    objective: Objective = "cost",
    max_sweeps: int = 8,
    progress: bool = False,
    cache: bool = False,
    **options: Any,
) -> TuneResult:
    """Tune a baseline family on ``episodes`` freshly drawn training demand paths.

    Args:
        net: the compiled network (its demand processes generate the training paths).
        kind: ``base_stock``, ``echelon_base_stock``, ``s_S``, ``forecast_order_up_to`` or
            ``base_stock_capacity``. On a network with products every parameter is per (product,
            node) and all products are tuned at once (at most 2 sweeps per step size; ``episodes``
            capped to bound memory, see :func:`_tune_products`).
        episodes: training paths (common to every candidate).
        seed: seeds the training paths (use a different seed from your test set).
        objective: ``"cost"`` (minimise total cost) or ``"profit"`` (maximise revenue - cost).
        max_sweeps: coordinate-descent sweeps per step size.
        progress: show a progress bar (rich) while tuning.
        cache: reuse / store the result under :func:`cache_dir`.
        **options: passed to the policy (e.g. ``window`` for the forecast policy, ``integer``).
    """
    if kind not in TUNABLE:
        raise ValueError(f"kind: unknown policy family {kind!r}; tunable: {sorted(TUNABLE)}")
    objective = check_objective(objective)
    # the scenario name is a validated slug; child_path refuses anything that would leave the cache folder
    path = child_path(
        cache_dir(), f"{net.name}-{kind}-{_cache_key(net, kind, episodes, seed, objective, options)}.json"
    )
    if cache:
        cached = _read_cached(path)
        if cached is not None:
            logger.info("tuned parameters from cache %s", path)
            return cached
    spec = TUNABLE[kind]
    if net.product_axis:
        result = _tune_products(net, kind, episodes, seed, objective, min(max_sweeps, 2), options)
        if cache:
            atomic_write_json(path, asdict(result))
        return result
    demand = sample_network_demand(net, np.random.default_rng(seed), episodes, net.periods)
    theta = np.asarray(spec.initial(net, options), dtype=np.float64)
    lower = spec.lower(net)
    names = spec.names(net)
    scale = spec.step(net, node_throughput(net, demand.mean(axis=(0, 1))))
    best = float(_score(net, kind, theta[None], demand, seed, objective, options)[0])
    evals = 1
    offsets = np.array([-2.0, -1.0, 1.0, 2.0])
    steps = [scale]
    while steps[-1].max() > 1:
        steps.append(np.maximum(np.floor(steps[-1] / 2), 1.0))
    bar = _progress(progress, len(steps) * max_sweeps * len(theta), f"tuning {kind} on {net.name}")
    for step in steps:
        for _ in range(max_sweeps):
            improved = False
            for p in range(len(theta)):
                cands = np.repeat(theta[None], len(offsets), axis=0)
                cands[:, p] = np.maximum(theta[p] + offsets * step[p], lower[p])
                scores = _score(net, kind, cands, demand, seed, objective, options)
                evals += len(offsets)
                k = int(np.argmin(scores))
                if scores[k] < best - 1e-12:
                    best, theta, improved = float(scores[k]), cands[k], True
                bar(1)
            if not improved:
                break
    bar(None)
    result = TuneResult(
        kind=kind,
        params=dict(zip(names, theta.tolist(), strict=True)),
        vector=theta.tolist(),
        cost_per_agent_period=best,
        objective=objective,
        episodes=episodes,
        seed=seed,
        evaluations=evals,
        options=dict(options),
    )
    if cache:
        atomic_write_json(path, asdict(result))  # a kill mid-write leaves the old entry or none
    return result


def _tune_products(
    net: Network,
    kind: str,
    episodes: int,
    seed: int,
    objective: str,
    max_sweeps: int,
    options: dict[str, Any],
) -> TuneResult:
    """:func:`tune` on a product network: every (product, node) parameter in one batched search.

    ``base_stock`` starts from :func:`~invmgmt_marl.policies.products.newsvendor_levels` (the other
    families from their usual heuristics, per product). ``episodes`` is capped by
    :func:`~invmgmt_marl.policies.products.default_product_episodes` to bound memory.
    """
    spec = TUNABLE[kind]
    k = default_product_episodes(net, episodes)
    demand = sample_network_demand(net, np.random.default_rng(seed), k, net.periods)  # (K, T, P, S)
    theta0 = newsvendor_levels(net, objective) if kind == "base_stock" else spec.initial(net, options)
    theta0 = np.broadcast_to(np.asarray(theta0, dtype=np.float64), (net.n_products, len(spec.names(net))))
    step0 = spec.step(net, node_throughput(net, demand.mean(axis=(0, 1))))
    step0 = np.broadcast_to(step0, theta0.shape)
    search = tune_products(
        net,
        lambda p: spec.build(net, p, options),
        theta0,
        spec.lower(net),
        step0,
        demand,
        seed=seed,
        objective=objective,
        max_sweeps=max_sweeps,
    )
    names = [f"{c}[{p}]" for p in net.products for c in spec.names(net)]
    return TuneResult(
        kind=kind,
        params=dict(zip(names, search.theta.ravel().tolist(), strict=True)),
        vector=search.theta.ravel().tolist(),
        cost_per_agent_period=search.score / (net.n_nodes * net.periods),
        objective=objective,
        episodes=k,
        seed=seed,
        evaluations=search.evaluations,
        options=dict(options),
    )


def _read_cached(path: Path) -> TuneResult | None:
    """A cached result, or ``None`` (with a logged warning) for a missing, corrupt or foreign entry."""
    data = read_json_or_none(path, "tuning cache entry")
    if data is None:
        return None
    try:
        res = TuneResult(**data)  # TypeError for missing or unknown fields
        ok = (
            res.kind in TUNABLE
            and isinstance(res.vector, list)
            and all(isinstance(v, (int, float)) and np.isfinite(v) for v in res.vector)
            and isinstance(res.params, dict)
            and len(res.params) == len(res.vector)
        )
    except TypeError:
        ok = False
    if not ok:
        logger.warning("ignoring corrupt tuning cache entry %s: not a tuning result; tuning again", path)
        return None
    return res


def build_tuned(net: Network, result: TuneResult | dict[str, Any]) -> Policy:
    """A policy from a :class:`TuneResult` (or its JSON dict)."""
    res = result if isinstance(result, TuneResult) else TuneResult(**result)
    return res.policy(net)


def _progress(enabled: bool, total: int, label: str) -> Callable[[int | None], None]:
    """A tiny adapter over rich.progress: ``advance(k)``; ``advance(None)`` closes it."""
    if not enabled:
        return lambda k: None
    from rich.progress import Progress

    prog = Progress(transient=True)
    task = prog.add_task(label, total=total)
    prog.start()

    def advance(k: int | None) -> None:
        if k is None:
            prog.stop()
        else:
            prog.advance(task, k)

    return advance
