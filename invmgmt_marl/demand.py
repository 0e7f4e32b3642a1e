"""Customer demand processes: a registry of samplers that draw whole demand paths at once.

Demand is exogenous in this model, so a whole episode's path is drawn at ``reset`` as one array of
shape ``(B, T)`` per store and the simulator reads one column per period. That keeps the step
function free of random-number calls, makes fixed test sets trivial (pass the path in), and lets the
perfect-information bound see exactly the path the policy faced.

Each process is a pydantic model of its parameters plus a sampler
``sample(params, rng, batch, periods) -> (batch, periods)`` and, optionally, its inverse CDF
``ppf(params, u) -> demand`` (which correlated sampling through a Gaussian copula needs). Register
new ones with :func:`register_demand_process`; scenario files name them by ``process``.

After the process, a store's demand spec applies its effects, in this order (see ``docs/demand.md``):
multiplier -> trend -> seasonal -> weekly profile -> shocks -> events -> rounding -> clip at 0. All
effects are deterministic factors of the period index ``t``; only the process draws random numbers.
"""

from __future__ import annotations

import csv
import datetime as _dt
import functools
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError
from scipy import special, stats

from invmgmt_marl.demand_vector import MIN_RUN, sample_poisson_run, simple_poisson
from invmgmt_marl.errors import quote
from invmgmt_marl.registry import DEMAND_PROCESSES
from invmgmt_marl.scenario.correlation import correlation_matrix
from invmgmt_marl.scenario.schema import FrozenModel

if TYPE_CHECKING:  # pragma: no cover
    from invmgmt_marl.scenario.schema import DemandSpec
    from invmgmt_marl.sim.network import Network

__all__ = [
    "CORRELATABLE",
    "DEMAND_PROCESSES",
    "DemandParamError",
    "DemandProcess",
    "apply_effects",
    "correlation_matrix",
    "demand_factor",
    "load_csv_series",
    "register_demand_process",
    "sample_store_demand",
    "sample_demand",
    "sample_network_demand",
]

NonNeg = Annotated[float, Field(ge=0)]
#: largest CSV demand file read (the shipped examples are a few kB)
MAX_CSV_BYTES = 64 << 20
#: the longest quotation of a file's header or store list in an error (file content is never echoed
#: beyond this, and single cells beyond ``errors.QUOTE_LIMIT``)
HEADER_QUOTE_LIMIT = 160
Sampler = Callable[[Any, np.random.Generator, int, int], NDArray[np.float64]]
Ppf = Callable[[Any, NDArray[np.float64]], NDArray[np.float64]]
PeriodsCheck = Callable[[Any, int], object]  # raises DemandParamError; the return value is ignored


class DemandParamError(ValueError):
    """A demand parameter is unusable. ``field`` names the parameter (``path``, ``column``, ...);
    ``str(err)`` is ``"<field>: <message>"``."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class _Params(FrozenModel):
    """Base of every demand process's parameter model (no .inf / .nan: FrozenModel refuses them)."""


@dataclass(frozen=True)
class DemandProcess:
    """A named demand process: its parameter model, its batched sampler and optional hooks.

    ``ppf(params, u)`` is the inverse CDF of one period's demand, applied elementwise to ``u`` in
    ``(0, 1)`` (``None``: the process cannot be correlated across stores). ``check_periods(params,
    periods)`` raises :class:`DemandParamError` if the process cannot serve an episode of that length
    (``None``: any length works); scenario validation calls it.
    """

    name: str
    params: type[BaseModel]
    sample: Sampler
    ppf: Ppf | None = None
    check_periods: PeriodsCheck | None = None


def register_demand_process(
    name: str,
    params: type[BaseModel],
    *,
    ppf: Ppf | None = None,
    check_periods: PeriodsCheck | None = None,
    replace: bool = False,
) -> Callable[[Sampler], Sampler]:
    """Decorator registering ``sample(params, rng, batch, periods) -> (batch, periods)`` under ``name``
    in :data:`invmgmt_marl.registry.DEMAND_PROCESSES`, with an optional inverse CDF ``ppf(params, u)``
    and episode-length check (see :class:`DemandProcess`). Names are unique unless ``replace=True``."""

    def deco(fn: Sampler) -> Sampler:
        DEMAND_PROCESSES.register(name, DemandProcess(name, params, fn, ppf, check_periods), replace=replace)
        return fn

    return deco


# --------------------------------------------------------------------------------------------------
class PoissonParams(_Params):
    mean: NonNeg


def _poisson_ppf(p: PoissonParams, u: NDArray[np.float64]) -> NDArray[np.float64]:
    """``scipy.stats.poisson.ppf(u, mean)``: the smallest ``k`` with ``CDF(k) >= u``, by a search in a
    table of ``poisson.cdf`` over the support that ``u`` in ``[tiny, 1 - 2**-53]`` can reach (exact,
    and some 20x faster than calling ``ppf`` on every element)."""
    if p.mean == 0:
        return np.zeros(np.shape(u))
    lo = max(int(stats.poisson.ppf(np.finfo(np.float64).tiny, p.mean)) - 2, 0)
    hi = int(stats.poisson.ppf(1.0 - 2.0**-53, p.mean)) + 2
    k = np.arange(lo, hi + 1)
    cdf = stats.poisson.cdf(k, p.mean)
    idx = np.searchsorted(cdf, u, side="left")
    return (lo + np.minimum(idx, len(k) - 1)).astype(np.float64)


def _poisson(p: PoissonParams, rng: np.random.Generator, batch: int, periods: int) -> NDArray[np.float64]:
    return rng.poisson(p.mean, size=(batch, periods)).astype(np.float64)


class NormalParams(_Params):
    mean: float
    std: NonNeg


def _normal_ppf(p: NormalParams, u: NDArray[np.float64]) -> NDArray[np.float64]:
    """``max(0, norm.ppf(u, mean, std))``: the inverse CDF of the censored normal."""
    return np.maximum(p.mean + p.std * special.ndtri(u), 0.0).astype(np.float64)


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


def _uniform_ppf(p: UniformParams, u: NDArray[np.float64]) -> NDArray[np.float64]:
    """``scipy.stats.randint.ppf(u, low, high + 1)``: the smallest ``k`` with ``(k - low + 1) / n >= u``,
    i.e. ``low + ceil(u * n) - 1`` (at least ``low``), ``n = high - low + 1``."""
    n = p.high - p.low + 1
    return p.low + np.clip(np.ceil(np.asarray(u) * n) - 1.0, 0.0, n - 1.0)


def _uniform(p: UniformParams, rng: np.random.Generator, batch: int, periods: int) -> NDArray[np.float64]:
    """Integer demand uniform on ``low..high`` inclusive."""
    return rng.integers(p.low, p.high + 1, size=(batch, periods)).astype(np.float64)


class ConstantParams(_Params):
    value: NonNeg


def _constant_ppf(p: ConstantParams, u: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.full(np.shape(u), p.value, dtype=np.float64)


def _constant(p: ConstantParams, rng: np.random.Generator, batch: int, periods: int) -> NDArray[np.float64]:
    return np.full((batch, periods), p.value, dtype=np.float64)


class FixedParams(_Params):
    values: Annotated[list[NonNeg], Field(min_length=1)]
    cycle: bool = False


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
# External series from CSV files
class CsvParams(_Params):
    """An external demand series read from a CSV file (see ``docs/demand.md``).

    ``wide``: a header row, then one row per period and one column per store (``column`` names this
    store's). ``long``: one row per (date, store) with columns ``date_column``, ``store_column`` and
    ``value_column``; ``store`` selects this store's rows. Rows are put in date order where there is a
    date column (required in ``long``; used in ``wide`` when present), and dates must not have gaps.
    ``start`` is the first row of the window an episode uses (``"random"``: a uniformly random window
    per episode). Relative paths are resolved against the scenario file's folder when the validation
    context carries ``base_dir``, else against the working directory; the stored path is absolute.
    """

    path: str
    format: Literal["wide", "long"] = "wide"
    column: str | None = None
    store: str | None = None
    date_column: str | None = None  # default "date" (required in long files, optional in wide ones)
    store_column: str = "store"
    value_column: str = "quantity"
    start: int | str = 0

    @field_validator("path")
    @classmethod
    def _resolve(cls, v: str, info: Any) -> str:
        if not v.strip():
            raise ValueError(f"a CSV file path is required, got {quote(v)}")
        path = Path(v).expanduser()
        if not path.is_absolute():
            base = (info.context or {}).get("base_dir")
            path = Path(base if base is not None else os.getcwd()) / path
        path = Path(os.path.normpath(path))
        if not path.is_file():
            what = " (a folder)" if path.is_dir() else " (not a regular file)" if path.exists() else ""
            raise ValueError(f"file not found: {_show(path)}{what}")
        size = path.stat().st_size
        if size > MAX_CSV_BYTES:
            raise ValueError(f"{_show(path)}: {size} bytes, more than the {MAX_CSV_BYTES} allowed")
        return str(path)

    @field_validator("store", mode="before")
    @classmethod
    def _store_as_text(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) and not isinstance(v, bool) else v

    @field_validator("start", mode="before")
    @classmethod
    def _start(cls, v: Any) -> int | str:
        if v == "random" and isinstance(v, str):
            return v
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v != int(v) or v < 0:
            raise ValueError(f"must be an integer >= 0 or 'random', got {v!r}")
        return int(v)

    @model_validator(mode="after")
    def _load(self) -> CsvParams:
        try:
            if self.format == "wide":
                if self.column is None:
                    raise DemandParamError(
                        "column", "format: wide needs the name of this store's column, got None"
                    )
                if self.store is not None:
                    raise DemandParamError(
                        "store",
                        f"only for format: long (a wide file has one column per store: use column), "
                        f"got {self.store!r}",
                    )
            else:
                if self.store is None:
                    raise DemandParamError(
                        "store",
                        "format: long needs the store value that selects this "
                        f"store's rows (in column {self.store_column!r}), got None",
                    )
                if self.column is not None:
                    raise DemandParamError(
                        "column",
                        f"only for format: wide (a long file keeps quantities in value_column "
                        f"{self.value_column!r}), got {self.column!r}",
                    )
            load_csv_series(self)
        except DemandParamError as err:
            detail = InitErrorDetails(
                type=PydanticCustomError("value_error", "{message}", {"message": err.message}),
                loc=(err.field,),
                input=getattr(self, err.field, None),
            )
            raise ValidationError.from_exception_data("CsvParams", [detail]) from None
        return self


def _show(path: Path) -> str:
    """A path for a message: as is, or quoted and cut when it is longer than 200 characters."""
    text = str(path)
    return text if len(text) <= 200 else quote(text, 200)


@dataclass(frozen=True)
class CsvSeries:
    """One store's series from a CSV file: ``values`` in date order (read-only) and the file row of each."""

    values: NDArray[np.float64]
    rows: NDArray[np.int64]
    what: str  # "data.csv, column 'A'" for messages


_Rows = tuple[tuple[int, tuple[str, ...]], ...]  # (file row number, cells)


@functools.lru_cache(maxsize=32)
def _read_csv(path: str, mtime_ns: int, size: int) -> tuple[tuple[str, ...], _Rows]:
    """Header and ``(file row number, cells)`` of every non-blank row; cached by path, mtime and size."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader, None)
            if header is None or not any(c.strip() for c in header):
                raise DemandParamError("path", f"{path} row 1: no header row (the file is empty)")
            header_t = tuple(c.strip() for c in header)
            rows = []
            for rec in reader:
                if not any(c.strip() for c in rec):
                    continue  # blank line
                if len(rec) != len(header_t):
                    raise DemandParamError(
                        "path",
                        f"{path} row {reader.line_num}: {len(rec)} fields, but the header (row 1) "
                        f"has {len(header_t)}: {quote(list(header_t), HEADER_QUOTE_LIMIT)}",
                    )
                rows.append((reader.line_num, tuple(rec)))
        except csv.Error as err:
            where = f"{path} row {reader.line_num}"
            raise DemandParamError("path", f"{where}: not valid CSV: {quote(str(err))}") from None
        except UnicodeDecodeError as err:
            raise DemandParamError("path", f"{path}: not UTF-8 text: {err}") from None
    return header_t, tuple(rows)


def _column(path: str, header: tuple[str, ...], name: str, field: str) -> int:
    if name not in header:
        columns = quote(list(header), HEADER_QUOTE_LIMIT)
        raise DemandParamError(field, f"{path} row 1 (header): no column {quote(name)}; columns: {columns}")
    return header.index(name)


def _date_order(
    path: str, rows: Sequence[tuple[int, tuple[str, ...]]], idx: int, col: str, field: str, whose: str
) -> NDArray[np.int64]:
    """The order that sorts ``rows`` by the date in column ``idx``; raises on bad, duplicate or missing dates.

    Dates are integer periods or ISO dates ``YYYY-MM-DD``; ISO dates that all fall on the same day of
    the month count in months, other ISO dates in days. The step of the series is the smallest
    difference between consecutive dates; any larger difference is a gap.
    """
    cells = [rec[idx].strip() for _, rec in rows]
    keys = np.empty(len(cells), dtype=np.int64)
    as_int = True
    try:
        int(cells[0])
    except ValueError:
        as_int = False
    dates: list[_dt.date] = []
    for k, c in enumerate(cells):
        try:
            if as_int:
                keys[k] = int(c)
            else:
                dates.append(_dt.date.fromisoformat(c))
        except ValueError:
            kind = "an integer period (as in the first data row)" if as_int else "an ISO date YYYY-MM-DD"
            raise DemandParamError(
                field, f"{path} row {rows[k][0]}, column {col!r}: expected {kind}, got {quote(c)}"
            ) from None
    unit = "periods"
    if not as_int:
        monthly = len({d.day for d in dates}) == 1 and len({(d.year, d.month) for d in dates}) > 1
        unit = "months" if monthly else "days"
        keys[:] = [d.year * 12 + d.month - 1 if monthly else d.toordinal() for d in dates]
    order = np.argsort(keys, kind="stable")
    if len(order) < 2:
        return order
    diffs = np.diff(keys[order])
    dup = np.flatnonzero(diffs == 0)
    if len(dup):
        a, b = order[dup[0]], order[dup[0] + 1]
        raise DemandParamError(
            field,
            f"{path} rows {rows[a][0]} and {rows[b][0]}, column {col!r}: duplicate date "
            f"{quote(cells[a])}{whose}",
        )
    step = int(diffs.min())
    gap = np.flatnonzero(diffs != step)
    unit = unit if step != 1 else unit[:-1]
    if len(gap):
        a, b = order[gap[0]], order[gap[0] + 1]
        raise DemandParamError(
            field,
            f"{path} rows {rows[a][0]} and {rows[b][0]}, column {col!r}: missing dates between "
            f"{quote(cells[a])} and {quote(cells[b])}{whose} (the series steps by {step} {unit})",
        )
    return order


@functools.lru_cache(maxsize=64)
def _csv_series(
    path: str,
    mtime_ns: int,
    size: int,
    fmt: str,
    column: str | None,
    store: str | None,
    date_column: str | None,
    store_column: str,
    value_column: str,
) -> CsvSeries:
    header, rows = _read_csv(path, mtime_ns, size)
    if not rows:
        raise DemandParamError("path", f"{path}: no data rows after the header (row 1)")
    if fmt == "wide":
        if column is None:  # the params model requires it for the wide format; guard for direct callers
            raise DemandParamError("column", "the wide format needs the column of this store")
        vidx, vcol, vfield = _column(path, header, column, "column"), column, "column"
        whose = ""
        if date_column is not None:
            didx: int | None = _column(path, header, date_column, "date_column")
        else:
            didx = header.index("date") if "date" in header else None
        sel = list(rows)
        what = f"{path}, column {column!r}"
    else:
        if store is None:
            raise DemandParamError("store", "the long format needs the store to select")
        didx = _column(path, header, date_column or "date", "date_column")
        sidx = _column(path, header, store_column, "store_column")
        vidx, vcol, vfield = _column(path, header, value_column, "value_column"), value_column, "value_column"
        sel = [r for r in rows if r[1][sidx].strip() == store]
        if not sel:
            known = sorted({r[1][sidx].strip() for r in rows})
            raise DemandParamError(
                "store",
                f"{path}, column {store_column!r}: no row (of rows 2-{rows[-1][0]}) has "
                f"store {quote(store)}; stores in the file: {quote(known[:20], HEADER_QUOTE_LIMIT)}"
                f"{' ...' if len(known) > 20 else ''}",
            )
        whose = f" for store {store!r}"
        what = f"{path}, store {store!r} (column {store_column!r})"
    if didx is not None:
        dcol = header[didx]
        sel = [sel[k] for k in _date_order(path, sel, didx, dcol, "date_column", whose)]
    values = np.empty(len(sel), dtype=np.float64)
    for k, (line, rec) in enumerate(sel):
        cell = rec[vidx].strip()
        where = f"{path} row {line}, column {vcol!r}"
        try:
            v = float(cell)
        except ValueError:
            raise DemandParamError(vfield, f"{where}: not a number: {quote(cell)}") from None
        if not np.isfinite(v):
            raise DemandParamError(vfield, f"{where}: not a finite number: {quote(cell)}")
        if v < 0:
            raise DemandParamError(vfield, f"{where}: negative quantity {quote(cell)}")
        values[k] = v
    values.flags.writeable = False
    line_nos = np.array([line for line, _ in sel], dtype=np.int64)
    line_nos.flags.writeable = False
    return CsvSeries(values, line_nos, what)


def load_csv_series(p: CsvParams) -> CsvSeries:
    """The series ``p`` selects, read and checked once per file version (cached by path, mtime and size).

    Raises:
        DemandParamError: naming the parameter, and in the message the file, row and column.
    """
    try:
        st = os.stat(p.path)
    except OSError as err:
        raise DemandParamError("path", f"file not found: {p.path} ({err.strerror})") from None
    if st.st_size > MAX_CSV_BYTES:
        raise DemandParamError("path", f"{p.path}: {st.st_size} bytes, more than the {MAX_CSV_BYTES} allowed")
    return _csv_series(
        p.path,
        st.st_mtime_ns,
        st.st_size,
        p.format,
        p.column,
        p.store,
        p.date_column,
        p.store_column,
        p.value_column,
    )


def _csv_check_periods(p: CsvParams, periods: int) -> CsvSeries:
    s = load_csv_series(p)
    start = 0 if p.start == "random" else int(p.start)
    n = len(s.values)
    if n < start + periods:
        field = "start" if start else "path"
        at = f" from start {start}" if start else ""
        raise DemandParamError(
            field,
            f"{s.what}: {n} rows (rows {s.rows[0]}-{s.rows[-1]}), too few for an episode of {periods} "
            f"periods{at}: it needs {start + periods}",
        )
    return s


def _csv(p: CsvParams, rng: np.random.Generator, batch: int, periods: int) -> NDArray[np.float64]:
    """A window of ``periods`` consecutive values: from row ``start``, or from a uniformly random row
    (one per episode, the window always inside the series) when ``start: random``."""
    v = _csv_check_periods(p, periods).values
    if p.start == "random":
        first = rng.integers(0, len(v) - periods + 1, size=batch)
        return v[first[:, None] + np.arange(periods)]
    start = int(p.start)
    return np.broadcast_to(v[start : start + periods], (batch, periods)).copy()


CORRELATABLE: tuple[str, ...] = ("poisson", "normal", "uniform", "constant")  # shipped processes with a ppf


# --------------------------------------------------------------------------------------------------
# The built-in processes, registered lazily by name in invmgmt_marl.registry.DEMAND_PROCESSES
POISSON = DemandProcess("poisson", PoissonParams, _poisson, ppf=_poisson_ppf)
NORMAL = DemandProcess("normal", NormalParams, _normal, ppf=_normal_ppf)
UNIFORM = DemandProcess("uniform", UniformParams, _uniform, ppf=_uniform_ppf)
CONSTANT = DemandProcess("constant", ConstantParams, _constant, ppf=_constant_ppf)
FIXED = DemandProcess("fixed", FixedParams, _fixed)
MERTON = DemandProcess("merton", MertonParams, _merton)
CSV = DemandProcess("csv", CsvParams, _csv, check_periods=_csv_check_periods)


# --------------------------------------------------------------------------------------------------
# Effects
def demand_factor(spec: DemandSpec, periods: int) -> float | NDArray[np.float64]:
    """The product of a spec's multiplicative effects per period, ``(periods,)`` (or the bare
    ``multiplier`` when no other effect is set), built in the documented order:
    multiplier, trend, seasonal, weekly profile, shocks, events."""
    factor: float | NDArray[np.float64] = spec.multiplier
    t = np.arange(periods, dtype=np.float64)
    if spec.trend is not None:
        tr = spec.trend
        factor = factor * np.maximum(0.0, 1.0 + tr.slope * np.maximum(t - tr.start, 0.0))
    if spec.seasonal is not None:
        s = spec.seasonal
        factor = factor * (1.0 + s.amplitude * np.sin(2.0 * np.pi * (t + s.phase) / s.period))
    if spec.weekly is not None:
        w = spec.weekly
        factor = factor * np.asarray(w.profile, dtype=np.float64)[(np.arange(periods) + w.week_start) % 7]
    if spec.shocks:
        level = np.ones(periods)
        for sh in spec.shocks:
            level[sh.period :] *= sh.factor
        factor = factor * level
    if spec.events:
        cal = np.ones(periods)
        ti = np.arange(periods)
        for ev in spec.events:
            since = ti - ev.period
            on = (since >= 0) & ((since % ev.every if ev.every is not None else since) < ev.duration)
            cal[on] *= ev.factor
        factor = factor * cal
    return factor


def apply_effects(spec: DemandSpec, base: NDArray[np.float64], periods: int) -> NDArray[np.float64]:
    """Effects after the process: the factors of :func:`demand_factor`, then rounding, then ``max(0, .)``."""
    d = base
    factor = demand_factor(spec, periods)
    if not (np.isscalar(factor) and factor == 1.0):
        d = d * factor
    if spec.integer:
        d = np.rint(d)
    return np.maximum(d, 0.0)


def sample_store_demand(
    spec: DemandSpec, rng: np.random.Generator, batch: int, periods: int
) -> NDArray[np.float64]:
    """Draw ``(batch, periods)`` demand for one store: the process, then :func:`apply_effects`."""
    proc = DEMAND_PROCESSES[spec.process]
    return apply_effects(spec, proc.sample(spec.params, rng, batch, periods), periods)


# --------------------------------------------------------------------------------------------------
# Correlation across stores
def _mixing_matrix(c: NDArray[np.float64]) -> NDArray[np.float64]:
    """``A`` with ``A @ A.T == c``: Cholesky, or ``V sqrt(W)`` for a singular positive semi-definite ``c``."""
    try:
        return np.asarray(np.linalg.cholesky(c), dtype=np.float64)
    except np.linalg.LinAlgError:
        w, v = np.linalg.eigh(c)
        return v * np.sqrt(np.clip(w, 0.0, None))


def sample_demand(
    specs: Sequence[DemandSpec],
    rng: np.random.Generator,
    batch: int,
    periods: int,
    correlation: float | Sequence[Sequence[float]] | NDArray[np.float64] | None = None,
) -> NDArray[np.float64]:
    """Draw customer demand for every store: ``(batch, periods, n_stores)``.

    Without ``correlation`` each store's process draws on its own, stores in order from ``rng``. With
    ``correlation`` (a scalar ``rho`` for every pair, or an ``(S, S)`` matrix, checked by
    :func:`correlation_matrix`) the stores are coupled by a Gaussian copula: for each period one normal
    vector ``Z ~ N(0, C)`` per episode, ``U = Phi(Z)``, and each store's base demand is its process's
    inverse CDF at ``U_s`` (so every marginal is unchanged). Every process must then have a ``ppf``.
    The effects (multiplier, trend, ...) apply after the base demand either way.

    Raises:
        ValueError: an invalid ``correlation``, or ``correlation`` with a process without an inverse CDF.
    """
    n = len(specs)
    out = np.empty((batch, periods, n), dtype=np.float64)
    if correlation is None:
        s = 0
        while s < n:  # runs of plain Poisson streams in one draw (demand_vector.py: identical values)
            run = s
            while run < n and simple_poisson(specs[run]):
                run += 1
            if run - s >= MIN_RUN:
                out[:, :, s:run] = sample_poisson_run(specs[s:run], rng, batch, periods)
                s = run
                continue
            out[:, :, s] = sample_store_demand(specs[s], rng, batch, periods)
            s += 1
        return out
    c = correlation_matrix(correlation, n)
    procs = [DEMAND_PROCESSES[spec.process] for spec in specs]
    for s, proc in enumerate(procs):
        if proc.ppf is None:
            have = sorted(k for k, v in DEMAND_PROCESSES.items() if v.ppf is not None)
            raise ValueError(
                f"correlation: demand process {proc.name!r} (store {s}) has no inverse CDF, "
                f"so it cannot be correlated; processes that can: {have}"
            )
    z = rng.standard_normal((batch, periods, n)) @ _mixing_matrix(c).T
    u = np.clip(special.ndtr(z), np.finfo(np.float64).tiny, 1.0 - 2.0**-53)
    for s, (spec, proc) in enumerate(zip(specs, procs, strict=True)):
        base = proc.ppf(spec.params, u[:, :, s])
        out[:, :, s] = apply_effects(spec, base, periods)
    return out


def sample_network_demand(
    net: Network, rng: np.random.Generator, batch: int, periods: int | None = None
) -> NDArray[np.float64]:
    """Draw ``(batch, periods, S)`` demand for a compiled network's stores (``periods`` defaults to the
    network's), correlated by its scenario's ``demand_correlation`` when that is set; ``(batch,
    periods, P, S)`` in a network with products."""
    t = net.periods if periods is None else periods
    d = sample_demand(list(net.demand_specs), rng, batch, t, correlation=net.demand_correlation)
    if getattr(net, "product_axis", False):  # one stream per (product, store), product-major: (B, T, P, S)
        return d.reshape(batch, t, net.n_products, net.n_stores)
    return d
