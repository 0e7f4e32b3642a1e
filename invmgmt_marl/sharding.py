"""Shard independent work as Ray tasks: the benchmark over many scenarios, or any ordered map.

Ray is optional (the ``rllib`` extra) and imported only here, when sharding is asked for.

- :func:`shard_map`: ``[fn(x) for x in items]`` with every call a Ray task, results in input order.
- :func:`run_benchmark_sharded`: :func:`invmgmt_marl.evaluate.run_benchmark` with one Ray task per
  scenario. Each scenario's rows depend only on that scenario and the seeds (test and training paths
  are drawn per scenario from ``seed`` and ``train_seed``), so the rows are those of the local run,
  in the same order; only the wall-clock figures (``summary["seconds"]``) differ.
- :func:`tune_sharded`: :func:`invmgmt_marl.policies.tune` of one baseline family on many scenarios,
  one Ray task per scenario. Tuning draws its training paths from its own ``seed``, so every result
  equals the local ``tune`` of that scenario. (Products of one scenario are tuned together, in one
  batched search per coordinate; that search is not split into shards of SKUs: its step sizes and the
  acceptance of a combined move are shared by all products, so shards would not reproduce it.)

Where Ray runs: ``address=None`` starts a local Ray instance (``num_cpus`` CPUs, no dashboard) whose
workers import this same copy of the package (its folder is put on their ``PYTHONPATH``); an address
(``"auto"``, ``"HOST:6379"``, ``"ray://HOST:10001"``) joins a running cluster, whose workers must have
the package installed. A Ray instance already initialised in the process is used as it is.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from invmgmt_marl.adapters import require

__all__ = ["ensure_ray", "shard_map", "run_benchmark_sharded", "tune_sharded"]

logger = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")


def ensure_ray(address: str | None = None, num_cpus: int | None = None) -> Any:
    """The ``ray`` module, initialised: joined to ``address``, or a local instance whose workers import
    this copy of the package; an instance already running in the process is kept as it is."""
    ray = require("ray", "rllib")
    if ray.is_initialized():
        return ray
    if address:
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    else:
        root = str(Path(__file__).resolve().parent.parent)  # the folder holding this package
        path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
        ray.init(
            num_cpus=num_cpus,
            include_dashboard=False,
            log_to_driver=False,
            runtime_env={"env_vars": {"PYTHONPATH": path}},
        )
    return ray


def shard_map(
    fn: Callable[[T], R], items: Iterable[T], *, address: str | None = None, num_cpus: int | None = None
) -> list[R]:
    """``[fn(x) for x in items]``, each call a Ray task (``fn`` and the items must pickle).

    Args:
        fn: a module-level function.
        items: its arguments, one task each.
        address: a Ray cluster address; ``None``: a local Ray instance (unless one is running).
        num_cpus: CPUs of a local instance (``None``: all).

    Returns:
        The results in the order of ``items``.
    """
    ray = ensure_ray(address, num_cpus)
    task = ray.remote(fn)
    refs = [task.remote(x) for x in items]
    logger.info("shard_map: %d Ray tasks of %s", len(refs), getattr(fn, "__name__", fn))
    return list(ray.get(refs))


def _benchmark_one(job: tuple[Any, dict[str, Any]]) -> list[dict[str, Any]]:
    """The benchmark rows of one scenario (runs in a Ray worker)."""
    from invmgmt_marl.evaluate import run_benchmark

    scenario, kwargs = job
    return run_benchmark([scenario], **kwargs)


def run_benchmark_sharded(
    scenarios: Sequence[Any] | None = None,
    *,
    address: str | None = None,
    num_cpus: int | None = None,
    **kwargs: Any,
) -> list[dict[str, Any]]:
    """:func:`~invmgmt_marl.evaluate.run_benchmark` with one Ray task per scenario.

    Args:
        scenarios: scenario names, paths or :class:`~invmgmt_marl.scenario.Scenario` objects (default:
            :func:`~invmgmt_marl.evaluate.default_benchmark_scenarios`).
        address, num_cpus: as :func:`shard_map`.
        **kwargs: :func:`~invmgmt_marl.evaluate.run_benchmark` keywords (``episodes``, ``seed``,
            ``baselines``, ``bound``, ``periods``, ...); ``progress`` is off in the workers.

    Returns:
        The rows of the local run, in its order (scenario by scenario).
    """
    from invmgmt_marl.evaluate import default_benchmark_scenarios

    names = list(scenarios) if scenarios is not None else default_benchmark_scenarios()
    job_kwargs = {**kwargs, "progress": False}
    parts = shard_map(_benchmark_one, [(s, job_kwargs) for s in names], address=address, num_cpus=num_cpus)
    return [row for part in parts for row in part]


def _tune_one(job: tuple[Any, str, dict[str, Any]]) -> Any:
    """The :class:`~invmgmt_marl.policies.TuneResult` of one scenario (runs in a Ray worker)."""
    from invmgmt_marl.compile import compile_network
    from invmgmt_marl.policies import tune
    from invmgmt_marl.scenario import load_scenario
    from invmgmt_marl.sim.network import Network

    scenario, kind, kwargs = job
    net = scenario if isinstance(scenario, Network) else compile_network(load_scenario(scenario))
    return tune(net, kind, **kwargs)


def tune_sharded(
    scenarios: Sequence[Any],
    kind: str = "base_stock",
    *,
    address: str | None = None,
    num_cpus: int | None = None,
    **kwargs: Any,
) -> list[Any]:
    """:func:`~invmgmt_marl.policies.tune` of ``kind`` on every scenario, one Ray task per scenario.

    Args:
        scenarios: scenario names, paths, :class:`~invmgmt_marl.scenario.Scenario` objects or compiled
            :class:`~invmgmt_marl.sim.network.Network` objects.
        kind: the baseline family (``base_stock``, ``s_S``, ``base_stock_capacity``, ...).
        address, num_cpus: as :func:`shard_map`.
        **kwargs: :func:`~invmgmt_marl.policies.tune` keywords (``episodes``, ``seed``, ``objective``,
            ``max_sweeps``, policy options); ``progress`` is off in the workers.

    Returns:
        One :class:`~invmgmt_marl.policies.TuneResult` per scenario, in the order given, each equal to
        the local ``tune(compile_network(load_scenario(s)), kind, **kwargs)``.
    """
    if not scenarios:
        raise ValueError("scenarios: give at least one scenario to tune")
    job_kwargs = {**kwargs, "progress": False}
    jobs = [(s, kind, job_kwargs) for s in scenarios]
    return shard_map(_tune_one, jobs, address=address, num_cpus=num_cpus)
