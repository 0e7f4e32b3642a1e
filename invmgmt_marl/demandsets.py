"""Fixed customer-demand test sets on disk: write them, read them back (ours and Liu et al.'s layout).

Two layouts are read by :func:`load_demand_set`:

``DIR/{k}.txt`` (ours, written by :func:`write_demand_set`)
    one file per episode; one line per period. With one store a line holds one number; with ``S``
    stores a line holds ``S`` numbers separated by whitespace, store order = node order. A
    ``DIR/meta.json`` records how the set was made (scenario, seed, episodes, periods, process).

``DIR/0/{n}.txt``, ``DIR/1/{n}.txt``, ... (Liu et al.'s multi-store layout)
    one folder per store (named ``0 .. S-1``), one number per line; episode ``n`` is the files named
    ``{n}.txt`` in every store folder (paired by file name).

With products (a network with a product axis, or ``products=P``; ``meta.json`` records ``products``),
demand is ``(B, T, P, S)``: a line of our layout holds ``P x S`` numbers, product-major (every store's
value of the first product, then of the second, ...: the row-major order of ``(P, S)``), and a line of
Liu's layout holds ``P`` numbers (one per product) for its store.

Files are taken in numeric order of their names (``2.txt`` before ``10.txt``). Each file may hold
more lines than the episode has periods: the first ``periods`` lines are used. Blank lines at the end
of a file are ignored; anything else that is not ``S`` finite non-negative numbers raises
:class:`DemandSetError` naming the file and the line.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from invmgmt_marl.demand import sample_network_demand
from invmgmt_marl.validation import check_demand

if TYPE_CHECKING:  # pragma: no cover
    from invmgmt_marl.scenario.schema import Scenario
    from invmgmt_marl.sim.network import Network

__all__ = ["DemandSetError", "load_demand_set", "write_demand_set", "generate_demand_set", "read_meta"]

logger = logging.getLogger(__name__)
F64 = NDArray[np.float64]
META = "meta.json"


class DemandSetError(ValueError):
    """A demand set on disk is malformed. The message names the file (and line) and the value."""


def _natural_key(path: Path) -> tuple[Any, ...]:
    """Sort key: the name's digit runs compare as numbers (``2.txt`` < ``10.txt``)."""
    parts = re.split(r"(\d+)", path.name)
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts if p != "")


def _episode_files(folder: Path) -> list[Path]:
    files = sorted((p for p in folder.glob("*.txt") if p.is_file()), key=_natural_key)
    if not files:
        raise DemandSetError(f"{folder}: no *.txt demand files")
    return files


def _read_file(path: Path, width: int | None, periods: int | None) -> F64:
    """``(rows, width)`` numbers of one file: the first ``periods`` rows (all rows if ``None``).

    ``width=None`` takes the width of the first row and requires it on every row.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise DemandSetError(f"{path}: cannot read demand file: {err}") from None
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if periods is not None:
        if len(lines) < periods:
            raise DemandSetError(f"{path}: {len(lines)} rows, but the episode has periods={periods}")
        lines = lines[:periods]
    rows: list[list[float]] = []
    for n, line in enumerate(lines, start=1):
        fields = line.split()
        want = width if width is not None else (len(fields) or 1)
        if len(fields) != want:
            raise DemandSetError(
                f"{path}:{n}: expected {want} value(s) (one per store), got {len(fields)}: {line.strip()!r}"
            )
        row = []
        for f in fields:
            try:
                v = float(f)
            except ValueError:
                raise DemandSetError(f"{path}:{n}: not a number: {f!r}") from None
            if not math.isfinite(v) or v < 0:
                raise DemandSetError(f"{path}:{n}: demand must be finite and >= 0, got {f!r}")
            row.append(v)
        rows.append(row)
        width = want
    if not rows:
        raise DemandSetError(f"{path}: empty demand file")
    return np.asarray(rows, dtype=np.float64)


def _store_folders(root: Path) -> list[Path] | None:
    """Liu's layout: numbered sub-folders ``0 .. S-1`` and no ``*.txt`` directly in ``root``."""
    subs = [p for p in root.iterdir() if p.is_dir() and p.name.isdigit()]
    if not subs or any(p.suffix == ".txt" for p in root.iterdir() if p.is_file()):
        return None
    subs.sort(key=lambda p: int(p.name))
    names = [int(p.name) for p in subs]
    if names != list(range(len(subs))):
        raise DemandSetError(
            f"{root}: store folders must be named 0..{len(subs) - 1}, got {[p.name for p in subs]}"
        )
    return subs


def _expected(net: Network | None, stores: int | None, periods: int | None) -> tuple[int | None, int | None]:
    if net is not None:
        return (net.n_stores if stores is None else stores), (net.periods if periods is None else periods)
    return stores, periods


def _products(root: Path, net: Network | None, products: int | None) -> int | None:
    """``P`` of the set: the network's (if it has a product axis), else ``products``, else the
    ``products`` entry of ``meta.json``; ``None`` for a set without a product axis."""
    if net is not None:
        return net.n_products if net.product_axis else None
    if products is not None:
        if isinstance(products, bool) or not isinstance(products, int) or products < 1:
            raise ValueError(f"products: expected an integer >= 1, got {products!r}")
        return products
    meta = read_meta(root) if root.is_dir() else None
    p = meta.get("products") if meta else None
    if p is None:
        return None
    if isinstance(p, bool) or not isinstance(p, int) or p < 1:
        raise DemandSetError(f"{root / META}: 'products' must be an integer >= 1, got {p!r}")
    return p


def load_demand_set(
    path: str | Path,
    net: Network | None = None,
    *,
    periods: int | None = None,
    stores: int | None = None,
    products: int | None = None,
) -> F64:
    """Read a demand set: ``(B, T, S)`` customer demand (``(B, T, P, S)`` with products), episodes in
    numeric file-name order.

    Args:
        path: a folder in either layout (see the module docstring), or a single episode file.
        net: the network the demand is for: fixes ``T = net.periods`` (the first ``T`` rows of each file
            are used) and ``S = net.n_stores``.
        periods: rows to use per file when there is no ``net`` (default: all rows, which must then be
            equally many in every file).
        stores: values per row (ours) or store folders (Liu's) expected when there is no ``net``.
        products: ``P`` when there is no ``net`` (default: ``meta.json``'s ``products``, else no
            product axis). With a ``net`` that has products, ``P = net.n_products``.

    Raises:
        DemandSetError: no files, a malformed row (file and line named), the wrong number of values per
            row or of store folders, too few rows, files of different lengths, or store folders whose
            file names do not pair up.
    """
    root = Path(path)
    want_s, want_t = _expected(net, stores, periods)
    if not root.exists():
        raise DemandSetError(f"{root}: demand set not found")
    n_p = _products(root, net, products)
    demand = _load_layouts(root, 1 if n_p is None else n_p, want_s, want_t)  # (B, T, P, S)
    if n_p is None:  # no product axis: (B, T, S)
        demand = np.ascontiguousarray(demand[:, :, 0, :])
    logger.debug("loaded demand set %s: shape %s", root, demand.shape)
    return demand


def _load_layouts(root: Path, n_p: int, want_s: int | None, want_t: int | None) -> F64:
    """``(B, T, P, S)`` from either layout: ``P x S`` values a line (ours, product-major) or ``P``
    values a line in each store folder (Liu's)."""
    folders = None if root.is_file() else _store_folders(root)
    if folders is None:
        paths = [root] if root.is_file() else _episode_files(root)
        width = None if want_s is None else n_p * want_s
        arrays = [_read_file(p, width, want_t) for p in paths]
        _check_lengths(arrays, paths)
        flat = np.stack(arrays)  # (B, T, P x S)
        if flat.shape[2] % n_p:
            raise DemandSetError(
                f"{paths[0]}: {flat.shape[2]} value(s) a row is not a multiple of products={n_p}"
            )
        return flat.reshape(flat.shape[0], flat.shape[1], n_p, flat.shape[2] // n_p)
    if want_s is not None and len(folders) != want_s:
        raise DemandSetError(f"{root}: {len(folders)} store folder(s), but the network has stores={want_s}")
    per_store = [_episode_files(f) for f in folders]
    names = [p.name for p in per_store[0]]
    for f, fl in zip(folders, per_store, strict=True):
        other = [p.name for p in fl]
        if other != names:
            missing = sorted(set(names) ^ set(other), key=lambda s: _natural_key(Path(s)))
            raise DemandSetError(
                f"{f}: episode files do not pair up with {folders[0]}: {missing[0]!r} is in one folder only"
            )
    columns = []
    for fl in per_store:
        arrays = [_read_file(p, n_p, want_t) for p in fl]
        _check_lengths(arrays, fl)
        columns.append(np.stack(arrays))  # (B, T, P)
    lengths = {c.shape[1] for c in columns}
    if len(lengths) > 1:
        raise DemandSetError(f"{root}: store folders have different numbers of rows: {sorted(lengths)}")
    return np.stack(columns, axis=3)


def _check_lengths(arrays: list[F64], paths: list[Path]) -> None:
    n0 = arrays[0].shape[0]
    for a, p in zip(arrays, paths, strict=True):
        if a.shape[0] != n0:
            raise DemandSetError(
                f"{p}: {a.shape[0]} rows but {paths[0].name} has {n0}; give periods= to use the first rows"
            )


def _format(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def write_demand_set(path: str | Path, demand: Any, meta: Mapping[str, Any] | None = None) -> Path:
    """Write ``demand (B, T, S)`` as ``path/{k}.txt`` (one line per period, one value per store) and
    ``path/meta.json`` (``meta`` plus ``episodes``, ``periods``, ``stores``). Returns the folder.

    ``demand (B, T, P, S)`` (products) writes ``P x S`` values a line, product-major, and
    ``products = P`` in ``meta.json`` (so :func:`load_demand_set` restores the product axis).
    Integral values are written as integers; others in full precision (round trip exact).
    """
    raw = np.asarray(demand)
    n_p = None
    if raw.ndim == 4:
        if 0 in raw.shape:
            raise ValueError(f"demand: expected shape (B, T, P, S) without empty axes, got {raw.shape}")
        n_p, n_s = int(raw.shape[2]), int(raw.shape[3])
        raw = raw.reshape(raw.shape[0], raw.shape[1], n_p * n_s)
    d = check_demand(raw, batched=True)
    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    for k in range(d.shape[0]):
        lines = (" ".join(_format(v) for v in row) for row in d[k])
        (out / f"{k}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    info = dict(meta or {})
    info.update(episodes=int(d.shape[0]), periods=int(d.shape[1]), stores=int(d.shape[2]))
    if n_p is not None:
        info.update(products=n_p, stores=int(d.shape[2]) // n_p)
    (out / META).write_text(json.dumps(info, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return out


def read_meta(path: str | Path) -> dict[str, Any] | None:
    """``path/meta.json`` as a dict, or ``None`` when the set has none (Liu's files)."""
    p = Path(path) / META
    if not p.is_file():
        return None
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise DemandSetError(f"{p}: not valid JSON: {err}") from None
    return data if isinstance(data, dict) else None


def generate_demand_set(
    scenario: str | Path | Scenario,
    episodes: int,
    seed: int,
    out: str | Path | None = None,
    **overrides: Any,
) -> F64:
    """Draw ``episodes`` demand paths of a scenario with ``numpy.random.default_rng(seed)`` (the same
    draw as ``rollout(net, policy, episodes, seed)`` and :func:`invmgmt_marl.evaluate` without a demand
    set) and, if ``out`` is given, write them with :func:`write_demand_set`. Returns ``(B, T, S)``,
    or ``(B, T, P, S)`` for a scenario with products (``meta.json`` then names them).

    ``overrides`` go to :func:`~invmgmt_marl.scenario.load_scenario` (e.g. ``periods``, ``demand``).
    """
    from invmgmt_marl.compile import compile_network
    from invmgmt_marl.scenario import load_scenario

    if episodes < 1:
        raise ValueError(f"episodes: must be >= 1, got {episodes}")
    sc = load_scenario(scenario, **overrides)
    net = compile_network(sc)
    demand = sample_network_demand(net, np.random.default_rng(seed), episodes, net.periods)
    if out is not None:
        specs = [s.to_dict() for s in net.demand_specs]
        procs = sorted({s["process"] for s in specs})
        write_demand_set(
            out,
            demand,
            {
                "scenario": sc.name,
                "seed": seed,
                "process": procs[0] if len(procs) == 1 else procs,
                "demand": specs,
                "store_names": [net.agents[i] for i in net.store_nodes],
                **({"product_names": list(net.products)} if net.product_axis else {}),
            },
        )
    return demand
