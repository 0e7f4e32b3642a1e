"""Customer demand processes: a registry of samplers that draw whole demand paths at once.

Demand is exogenous in this model, so a whole episode's path is drawn at ``reset`` as one array of
shape ``(B, T)`` per store and the simulator reads one column per period. That keeps the step
function free of random-number calls, makes fixed test sets trivial (pass the path in), and lets the
perfect-information bound see exactly the path the policy faced.

Each process is a pydantic model of its parameters plus a sampler
``sample(params, rng, batch, periods) -> (batch, periods)``. Register new ones with
:func:`register_demand_process`; scenario files name them by ``process``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, model_validator

if TYPE_CHECKING:  # pragma: no cover
    from invmgmt_marl.scenario.schema import DemandSpec

__all__ = [
    "DEMAND_PROCESSES",
    "DemandProcess",
    "register_demand_process",
    "sample_store_demand",
    "sample_demand",
]

NonNeg = Annotated[float, Field(ge=0)]
Sampler = Callable[[Any, np.random.Generator, int, int], NDArray[np.float64]]


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class DemandProcess:
    """A named demand process: its parameter model and its batched sampler."""

    name: str
    params: type[BaseModel]
    sample: Sampler


DEMAND_PROCESSES: dict[str, DemandProcess] = {}


def register_demand_process(name: str, params: type[BaseModel]) -> Callable[[Sampler], Sampler]:
    """Decorator registering ``sample(params, rng, batch, periods) -> (batch, periods)`` under ``name``."""

    def deco(fn: Sampler) -> Sampler:
        DEMAND_PROCESSES[name] = DemandProcess(name, params, fn)
        return fn

    return deco


# --------------------------------------------------------------------------------------------------
class PoissonParams(_Params):
    mean: NonNeg


@register_demand_process("poisson", PoissonParams)
def _poisson(p: PoissonParams, rng: np.random.Generator, batch: int, periods: int) -> NDArray[np.float64]:
    return rng.poisson(p.mean, size=(batch, periods)).astype(np.float64)


class NormalParams(_Params):
    mean: float
    std: NonNeg


@register_demand_process("normal", NormalParams)
def _normal(p: NormalParams, rng: np.random.Generator, batch: int, periods: int) -> NDArray[np.float64]:
    """Normal demand censored at zero: ``max(0, N(mean, std))``."""
    return np.maximum(rng.normal(p.mean, p.std, size=(batch, periods)), 0.0)


class UniformParams(_Params):
    low: Annotated[int, Field(ge=0)]
    high: Annotated[int, Field(ge=0)]

    @model_validator(mode="after")
    def _order(self) -> UniformParams:
        if self.high < self.low:
            raise ValueError(f"high must be >= low ({self.low}), got {self.high}")
        return self


@register_demand_process("uniform", UniformParams)
def _uniform(p: UniformParams, rng: np.random.Generator, batch: int, periods: int) -> NDArray[np.float64]:
    """Integer demand uniform on ``low..high`` inclusive."""
    return rng.integers(p.low, p.high + 1, size=(batch, periods)).astype(np.float64)


class ConstantParams(_Params):
    value: NonNeg


@register_demand_process("constant", ConstantParams)
def _constant(p: ConstantParams, rng: np.random.Generator, batch: int, periods: int) -> NDArray[np.float64]:
    return np.full((batch, periods), p.value, dtype=np.float64)


class FixedParams(_Params):
    values: Annotated[list[NonNeg], Field(min_length=1)]
    cycle: bool = False


@register_demand_process("fixed", FixedParams)
def _fixed(p: FixedParams, rng: np.random.Generator, batch: int, periods: int) -> NDArray[np.float64]:
    """A given series, the same in every episode; repeated if ``cycle`` is true."""
    v = np.asarray(p.values, dtype=np.float64)
    if len(v) < periods:
        if not p.cycle:
            raise ValueError(
                f"fixed demand has {len(v)} values but the episode has {periods} periods (set cycle: true)"
            )
        v = np.resize(v, periods)
    return np.broadcast_to(v[:periods], (batch, periods)).copy()


class MertonParams(_Params):
    """Merton jump-diffusion demand of Liu et al. (2022).

    Log path ``X_0 = start``, ``X_k = X_{k-1} + sqrt(dt)*delta*Z + jump_scale*sqrt(N)*Z2`` with
    ``Z ~ N(0, 1)``, ``N ~ Poisson(jump_rate)``, ``Z2 ~ N(0, jump_std)`` (``jump_std`` is a standard
    deviation). Demand ``floor(base * exp(X_k))``; a path is redrawn until its mean lies strictly
    inside ``(0, max_demand)``, then capped at ``max_demand``.
    """

    start: float = 0.0
    base: Annotated[float, Field(gt=0)] = 10.0
    max_demand: Annotated[float, Field(gt=0)] = 20.0
    delta: NonNeg = 0.01
    dt: NonNeg = 15.0
    jump_rate: NonNeg = 15.0
    jump_std: NonNeg = 2.0
    jump_scale: NonNeg = 0.01
    max_redraws: Annotated[int, Field(ge=1)] = 10_000


@register_demand_process("merton", MertonParams)
def _merton(p: MertonParams, rng: np.random.Generator, batch: int, periods: int) -> NDArray[np.float64]:
    out = np.empty((batch, periods), dtype=np.float64)
    todo = np.arange(batch)
    for _ in range(p.max_redraws):
        n = len(todo)
        z = rng.normal(0.0, 1.0, size=(n, periods - 1))
        jumps = rng.poisson(p.jump_rate, size=(n, periods - 1))
        z2 = rng.normal(0.0, p.jump_std, size=(n, periods - 1))
        inc = np.sqrt(p.dt) * p.delta * z + p.jump_scale * np.sqrt(jumps) * z2
        x = np.concatenate([np.full((n, 1), p.start), p.start + np.cumsum(inc, axis=1)], axis=1)
        d = np.floor(p.base * np.exp(x))
        m = d.mean(axis=1)
        ok = (m > 0) & (m < p.max_demand)
        out[todo[ok]] = np.minimum(d[ok], p.max_demand)
        todo = todo[~ok]
        if len(todo) == 0:
            return out
    raise RuntimeError(f"merton demand: no path with mean in (0, {p.max_demand}) after {p.max_redraws} draws")


# --------------------------------------------------------------------------------------------------
def sample_store_demand(spec: DemandSpec, rng: np.random.Generator, batch: int, periods: int) -> NDArray[np.float64]:
    """Draw ``(batch, periods)`` demand for one store: process, then multiplier, seasonality, rounding."""
    proc = DEMAND_PROCESSES[spec.process]
    d = proc.sample(spec.params, rng, batch, periods)
    factor = spec.multiplier
    if spec.seasonal is not None:
        s = spec.seasonal
        t = np.arange(periods, dtype=np.float64)
        factor = factor * (1.0 + s.amplitude * np.sin(2.0 * np.pi * (t + s.phase) / s.period))
    if not (np.isscalar(factor) and factor == 1.0):
        d = d * factor
    if spec.integer:
        d = np.rint(d)
    return np.maximum(d, 0.0)


def sample_demand(
    specs: list[DemandSpec], rng: np.random.Generator, batch: int, periods: int
) -> NDArray[np.float64]:
    """Draw customer demand for every store: ``(batch, periods, n_stores)``."""
    out = np.empty((batch, periods, len(specs)), dtype=np.float64)
    for s, spec in enumerate(specs):
        out[:, :, s] = sample_store_demand(spec, rng, batch, periods)
    return out
