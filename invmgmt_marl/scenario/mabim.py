"""Read and write tasks in the layout of MABIM (Microsoft's ``ReplenishmentEnv``), docs/products.md.

A MABIM task is a YAML config plus CSV files. The facts of the layout used here (from the public
repository github.com/VictorYXL/ReplenishmentEnv, its ``config/*.yml`` and ``data/`` folders):

- ``env.sku_list``: a list of SKU names, or a CSV file with the header ``SKU`` and one name a row
  (lines starting with ``#`` are comments);
- ``env.mode``: a list of ``{name, start_date, end_date}`` (``train``, ``validation``, ``test``);
  dates like ``2021/9/1``;
- ``warehouse`` (older configs: ``facility``): a list of warehouses with ``name``, ``capacity`` (in
  volume units), ``unit_storage_cost`` (per volume unit and day), ``accept_sku`` (``equal_accept``:
  arrivals beyond the free room are accepted in the same ratio for every SKU, the rest is excess),
  ``upstream`` (``super_vendor`` for the first) and ``downstream`` (``consumer`` for the last), and
  ``sku``:

  - ``dynamic_data``: ``[{name, file}]``, each file with columns ``Date,SKU0,SKU1,...`` and one row per
    day (``demand``, ``selling_price``, ``procurement_cost``);
  - ``static_data``: a file with columns ``SKU,<field>,...`` and one row per SKU (``init_stock``,
    ``vlt`` the vendor lead time into this warehouse, any other per-SKU field);
  - ``shared_data`` (older configs: ``order_info``): one value for every SKU (``unit_order_cost``,
    ``volume``, ``basic_holding_cost``, ``backlog_ratio``, ``overflow_cost_ratio``).

A field of a (warehouse, SKU) is looked up in the dynamic data (its mean over the episode window),
then the static data, then the shared data. How it maps to a :class:`Scenario`:

================================  ==============================================================
MABIM                             here
================================  ==============================================================
warehouses in series              nodes in series: the last one a ``store`` (node 0), the first a
                                  ``supplier`` ordering from ``external`` (one warehouse: a store
                                  ordering from ``external``), ``warehouse`` in between; ``label``
                                  keeps the MABIM name
``vlt``                           lead time of the edge into the warehouse, per product
``procurement_cost``              ``unit_cost`` of the edge into the warehouse, per product
``selling_price`` (last)          product ``price``
``init_stock``                    ``initial_on_hand`` per (node, product)
``basic_holding_cost +            ``holding_cost`` per (node, product)
unit_storage_cost x volume``
``unit_order_cost``               edge ``fixed_cost`` (charged per product ordered)
``capacity``, ``equal_accept``    ``storage_capacity``, ``overflow: refuse``
``overflow_cost_ratio``           ``overflow_cost`` = ratio x the node's mean procurement cost
``backlog_ratio``                 lost sales at the store, ``lost_sales_cost`` = ratio x margin
``demand`` over the mode's dates  a ``fixed`` (replayed) demand series per product
================================  ==============================================================

What differs: prices and costs that change by day are averaged over the window; the overflow cost is
one rate per node (MABIM: ratio x each SKU's procurement cost); an episode replays the mode's window
from its start (MABIM's ``random_interception`` draws a window per episode; its ``lookback_len``
warm-up is not replayed); ``initial_balance``, ``integerization_sku`` (flooring accepted units),
action modes and observation settings are not read.

Files are read under limits (:data:`MAX_CSV_BYTES`, :data:`MAX_ROWS`, :data:`MAX_COLUMNS`), only
inside the task folder, and every error names the file, the row and the field.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import logging
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from invmgmt_marl._io import atomic_write_text, load_yaml_file
from invmgmt_marl.errors import ScenarioError, quote
from invmgmt_marl.scenario.schema import Scenario, validate_scenario

__all__ = [
    "MAX_CSV_BYTES",
    "MAX_ROWS",
    "MAX_COLUMNS",
    "is_mabim_task",
    "mabim_task_dict",
    "load_mabim_task",
    "write_mabim_task",
]

logger = logging.getLogger(__name__)

#: largest CSV file read (MABIM's 2,778-SKU daily series over three years are a few tens of MB)
MAX_CSV_BYTES = 256 << 20
#: most data rows of one CSV file (days or SKUs)
MAX_ROWS = 200_000
#: most columns of one CSV file
MAX_COLUMNS = 100_001
#: per-(warehouse, SKU) fields the loader reads, and where a missing one defaults to (None: required)
_FIELDS: dict[str, float | None] = {
    "selling_price": None,
    "procurement_cost": None,
    "init_stock": 0.0,
    "vlt": None,
    "volume": 1.0,
    "basic_holding_cost": 0.0,
    "unit_order_cost": 0.0,
    "backlog_ratio": 0.0,
    "overflow_cost_ratio": 0.0,
}
#: older MABIM key names -> the names above
_ALIASES = {"order_cost": "unit_order_cost", "storage_cost": "basic_holding_cost"}
_VENDOR, _CONSUMER = "super_vendor", "consumer"


# --------------------------------------------------------------------------------------------------
# files
def _find_config(folder: Path) -> Path:
    found = sorted(
        p
        for d in (folder, folder / "config")
        if d.is_dir()
        for p in d.iterdir()
        if p.suffix in (".yml", ".yaml")
    )
    if len(found) != 1:
        raise ScenarioError(
            f"MABIM task {quote(str(folder), 200)}: expected exactly one .yml/.yaml config in the folder or "
            f"its config/ folder, found {len(found)}: {quote([p.name for p in found], 200)} (pass config=)"
        )
    return found[0]


def is_mabim_task(path: str | Path) -> bool:
    """Whether ``path`` is a folder holding one MABIM config (a YAML with ``env`` and ``warehouse``)."""
    p = Path(path)
    if not p.is_dir():
        return False
    try:
        data = load_yaml_file(_find_config(p))
    except (ScenarioError, OSError):
        return False
    return isinstance(data, Mapping) and "env" in data and ("warehouse" in data or "facility" in data)


class _Files:
    """Resolve and read the task's files: only inside ``root``, under the size limits, cached."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._cache: dict[Path, tuple[list[str], list[tuple[int, list[str]]]]] = {}

    def resolve(self, value: Any, field: str) -> Path:
        """A file named in the config. MABIM's paths are relative to its repository root
        (``ReplenishmentEnv/data/...``): tried as given, then with leading folders dropped, under ``root``."""
        if not isinstance(value, str) or not value.strip():
            raise ScenarioError(f"{field}: a CSV file path is required, got {quote(value)}")
        parts = Path(value.strip()).parts
        if Path(value).is_absolute() or ".." in parts:
            raise ScenarioError(
                f"{field}: only paths inside the task folder {quote(str(self.root), 200)} are read, "
                f"got {quote(value, 200)}"
            )
        for k in range(len(parts)):
            cand = Path(os.path.normpath(self.root.joinpath(*parts[k:])))
            if cand.is_file():
                real = cand.resolve()
                if not real.is_relative_to(self.root):
                    raise ScenarioError(
                        f"{field}: {quote(value, 200)} leads outside the task folder "
                        f"(a link to {quote(str(real), 200)})"
                    )
                return real
        raise ScenarioError(
            f"{field}: file not found under {quote(str(self.root), 200)}: {quote(value, 200)}"
        )

    def read(self, path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
        """Header and ``(file row, cells)`` of the non-blank, non-comment rows."""
        if path in self._cache:
            return self._cache[path]
        size = path.stat().st_size
        if size > MAX_CSV_BYTES:
            raise ScenarioError(f"{path}: {size} bytes, more than the {MAX_CSV_BYTES} allowed")
        header: list[str] | None = None
        rows: list[tuple[int, list[str]]] = []
        try:
            with open(path, newline="", encoding="utf-8-sig") as fh:
                reader = csv.reader(fh)
                for rec in reader:
                    if not any(c.strip() for c in rec) or rec[0].lstrip().startswith("#"):
                        continue
                    if header is None:
                        header = [c.strip() for c in rec]
                        if len(header) > MAX_COLUMNS:
                            raise ScenarioError(
                                f"{path} row {reader.line_num}: more than {MAX_COLUMNS} columns"
                            )
                        if len(set(header)) != len(header):
                            dup = sorted({c for c in header if header.count(c) > 1})
                            raise ScenarioError(
                                f"{path} row {reader.line_num} (header): duplicate columns {quote(dup)}"
                            )
                        continue
                    if len(rec) != len(header):
                        raise ScenarioError(
                            f"{path} row {reader.line_num}: {len(rec)} fields, but the header has "
                            f"{len(header)}"
                        )
                    if len(rows) >= MAX_ROWS:
                        raise ScenarioError(f"{path}: more than {MAX_ROWS} data rows")
                    rows.append((reader.line_num, rec))
        except csv.Error as err:
            raise ScenarioError(f"{path}: not valid CSV: {quote(str(err))}") from None
        except UnicodeDecodeError as err:
            raise ScenarioError(f"{path}: not UTF-8 text: {err}") from None
        if header is None:
            raise ScenarioError(f"{path}: no header row (the file is empty)")
        self._cache[path] = (header, rows)
        return header, rows


def _number(text: str, where: str) -> float:
    try:
        x = float(text.strip())
    except ValueError:
        raise ScenarioError(f"{where}: not a number, got {quote(text)}") from None
    if not math.isfinite(x) or x < 0:
        raise ScenarioError(f"{where}: must be a finite number >= 0, got {quote(text)}")
    return x


def _date(value: Any, where: str) -> _dt.date:
    """A MABIM date: ``2021/9/1``, ``2021-09-01`` or a YAML date."""
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    text = str(value).strip().split(" ")[0]
    parts = text.replace("-", "/").split("/")
    try:
        if len(parts) != 3:
            raise ValueError
        return _dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        raise ScenarioError(f"{where}: not a date like 2021/9/1, got {quote(value)}") from None


# --------------------------------------------------------------------------------------------------
# the config
def _sku_list(value: Any, files: _Files) -> list[str]:
    if isinstance(value, list):
        names = [str(v).strip() for v in value]
    else:
        path = files.resolve(value, "env.sku_list")
        header, rows = files.read(path)
        if header[0] != "SKU":
            raise ScenarioError(
                f"{path} row 1 (header): the first column must be 'SKU', got {quote(header[0])}"
            )
        names = [rec[0].strip() for _, rec in rows]
    if not names:
        raise ScenarioError("env.sku_list: no SKU")
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise ScenarioError(f"env.sku_list: duplicate SKU names {quote(dup)}")
    return names


def _chain(whs: list[Mapping[str, Any]], key: str) -> list[int]:
    """Indices of the warehouses from the one buying from ``super_vendor`` down to the one selling."""
    names = [w.get("name") for w in whs]
    for k, n in enumerate(names):
        if not isinstance(n, str) or not n.strip():
            raise ScenarioError(f"{key}[{k}].name: a warehouse name is required, got {quote(n)}")
    if len(set(names)) != len(names):
        raise ScenarioError(f"{key}: duplicate warehouse names {quote(names)}")
    index = {n: k for k, n in enumerate(names)}
    heads = [k for k, w in enumerate(whs) if w.get("upstream") == _VENDOR]
    if len(heads) != 1:
        raise ScenarioError(
            f"{key}: exactly one warehouse must have upstream: {_VENDOR} (warehouses in series), "
            f"got {len(heads)}"
        )
    order = [heads[0]]
    while whs[order[-1]].get("downstream") != _CONSUMER:
        k = order[-1]
        down = whs[k].get("downstream")
        if down not in index:
            raise ScenarioError(
                f"{key}[{k}].downstream: unknown warehouse {quote(down)}; warehouses are {names} "
                f"or {_CONSUMER!r}"
            )
        nxt = index[down]
        if nxt in order:
            raise ScenarioError(f"{key}[{k}].downstream: the warehouses form a cycle at {quote(down)}")
        if whs[nxt].get("upstream") != names[k]:
            raise ScenarioError(
                f"{key}[{nxt}].upstream: {quote(names[k])} lists it downstream, "
                f"got {quote(whs[nxt].get('upstream'))}"
            )
        order.append(nxt)
    if len(order) != len(whs):
        left = [names[k] for k in range(len(whs)) if k not in order]
        raise ScenarioError(
            f"{key}: warehouses not in the chain from {_VENDOR} to {_CONSUMER}: {quote(left)}"
        )
    return order


def _window(env: Mapping[str, Any], mode: str) -> tuple[_dt.date, _dt.date]:
    modes = env.get("mode")
    if not isinstance(modes, list):
        raise ScenarioError(f"env.mode: a list of {{name, start_date, end_date}}, got {quote(modes)}")
    picked = [m for m in modes if isinstance(m, Mapping) and m.get("name") == mode]
    if len(picked) != 1:
        known = [m.get("name") for m in modes if isinstance(m, Mapping)]
        raise ScenarioError(f"env.mode: no single mode named {quote(mode)}; modes are {quote(known)}")
    k = modes.index(picked[0])
    start = _date(picked[0].get("start_date"), f"env.mode[{k}].start_date")
    end = _date(picked[0].get("end_date"), f"env.mode[{k}].end_date")
    if end < start:
        raise ScenarioError(f"env.mode[{k}].end_date: before start_date {start}, got {end}")
    return start, end


class _Warehouse:
    """One warehouse's per-SKU values, ``(P,)`` arrays by field, and its demand ``(P, T)`` if it sells."""

    def __init__(
        self,
        wh: Mapping[str, Any],
        where: str,
        skus: list[str],
        files: _Files,
        window: tuple[_dt.date, _dt.date],
    ) -> None:
        self.name = str(wh["name"])
        sku = wh.get("sku")
        if not isinstance(sku, Mapping):
            raise ScenarioError(
                f"{where}.sku: a mapping with dynamic_data, static_data, shared_data, got {quote(sku)}"
            )
        self.values: dict[str, np.ndarray] = {}
        self.source: dict[str, str] = {}
        self.demand: np.ndarray | None = None
        p_cnt = len(skus)
        shared = sku.get("shared_data", sku.get("order_info", {})) or {}
        if not isinstance(shared, Mapping):
            raise ScenarioError(f"{where}.sku.shared_data: a mapping, got {quote(shared)}")
        for k, v in shared.items():
            f = _ALIASES.get(str(k), str(k))
            if f in _FIELDS:
                self.values[f] = np.full(p_cnt, _number(str(v), f"{where}.sku.shared_data.{k}"))
                self.source[f] = f"{where}.sku.shared_data.{k}"
        static = sku.get("static_data")
        if static is not None:
            path = files.resolve(static, f"{where}.sku.static_data")
            header, rows = files.read(path)
            if "SKU" not in header:
                raise ScenarioError(f"{path} row 1 (header): no column 'SKU'; columns: {quote(header, 160)}")
            by_sku = {rec[header.index("SKU")].strip(): (line, rec) for line, rec in rows}
            missing = [s for s in skus if s not in by_sku]
            if missing:
                raise ScenarioError(f"{path}: no row for SKU {quote(missing[0])} (of the sku_list)")
            for c, col in enumerate(header):
                f = _ALIASES.get(col, col)
                if f not in _FIELDS:
                    continue
                arr = np.empty(p_cnt)
                for p, s in enumerate(skus):
                    line, rec = by_sku[s]
                    arr[p] = _number(rec[c], f"{path} row {line} ({s}), field {col}")
                self.values[f] = arr
                self.source[f] = f"{path}, column {col}"
        dynamic = sku.get("dynamic_data") or []
        if not isinstance(dynamic, list):
            raise ScenarioError(f"{where}.sku.dynamic_data: a list of {{name, file}}, got {quote(dynamic)}")
        for k, item in enumerate(dynamic):
            if not isinstance(item, Mapping) or "name" not in item or "file" not in item:
                raise ScenarioError(
                    f"{where}.sku.dynamic_data[{k}]: a mapping {{name, file}}, got {quote(item)}"
                )
            f = _ALIASES.get(str(item["name"]), str(item["name"]))
            if f != "demand" and f not in _FIELDS:
                continue
            series = _series(
                files, files.resolve(item["file"], f"{where}.sku.dynamic_data[{k}].file"), skus, window, f
            )
            if f == "demand":
                self.demand = series
            else:
                self.values[f] = series.mean(axis=1)
                self.source[f] = f"{item['file']} (mean over the window)"
        for f, default in _FIELDS.items():
            if f not in self.values:
                if default is None:
                    raise ScenarioError(f"{where} ({self.name}): no {f} (in dynamic, static or shared data)")
                self.values[f] = np.full(p_cnt, default)
                self.source[f] = "default"


def _series(
    files: _Files, path: Path, skus: list[str], window: tuple[_dt.date, _dt.date], field: str
) -> np.ndarray:
    """The ``(P, T)`` values of the days ``window[0] .. window[1]`` of a ``Date,SKU0,...`` file."""
    header, rows = files.read(path)
    missing = [s for s in skus if s not in header[1:]]
    if missing:
        raise ScenarioError(f"{path} row 1 (header): no column for SKU {quote(missing[0])} (field {field})")
    start, end = window
    days = (end - start).days + 1
    at: dict[int, tuple[int, list[str]]] = {}
    for line, rec in rows:
        t = (_date(rec[0], f"{path} row {line}, column {header[0]}") - start).days
        if 0 <= t < days:
            if t in at:
                raise ScenarioError(f"{path} row {line}: date {rec[0].strip()} also on row {at[t][0]}")
            at[t] = (line, rec)
    if len(at) < days:
        gap = next(t for t in range(days) if t not in at)
        raise ScenarioError(
            f"{path}: no row for {start + _dt.timedelta(gap)} (field {field}, window {start} .. {end})"
        )
    cols = [header.index(s) for s in skus]
    out = np.empty((len(skus), days))
    for t in range(days):
        line, rec = at[t]
        for p, c in enumerate(cols):
            out[p, t] = _number(rec[c], f"{path} row {line} ({rec[0].strip()}), column {header[c]}")
    return out


def mabim_task_dict(
    path: str | Path,
    *,
    mode: str = "test",
    config: str | Path | None = None,
    periods: int | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    """The scenario mapping of a MABIM task (see the module docstring for the mapping).

    Args:
        path: the task folder (its files are read only inside it); or the config file itself, the
            folder then being the config's.
        mode: the ``env.mode`` entry whose dates make the episode (``train``, ``validation``, ``test``).
        config: the config file, when the folder holds more than one.
        periods: episode length (default: every day of the mode's window).
        name: the scenario name (default: the config's file stem).

    Raises:
        ScenarioError: naming the file, the row and the field.
    """
    src = Path(path)
    if src.is_file():
        root, cfg = src.parent, src
    elif src.is_dir():
        root = src
        cfg = _find_config(src) if config is None else src / config
    else:
        raise ScenarioError(f"MABIM task: no such folder or file {quote(str(src), 200)}")
    files = _Files(root)
    data = load_yaml_file(cfg)
    if not isinstance(data, Mapping):
        raise ScenarioError(
            f"{cfg}: a MABIM config is a mapping with env and warehouse, got {type(data).__name__}"
        )
    env = data.get("env")
    if not isinstance(env, Mapping):
        raise ScenarioError(f"{cfg}: env: a mapping with mode and sku_list, got {quote(env)}")
    key = "warehouse" if "warehouse" in data else "facility"
    whs = data.get(key)
    if not isinstance(whs, list) or not whs or not all(isinstance(w, Mapping) for w in whs):
        raise ScenarioError(f"{cfg}: warehouse: a non-empty list of warehouse mappings, got {quote(whs)}")
    skus = _sku_list(env.get("sku_list"), files)
    window = _window(env, mode)
    days = (window[1] - window[0]).days + 1
    if periods is None:
        periods = days
    elif not isinstance(periods, int) or not 1 <= periods <= days:
        raise ScenarioError(f"periods: 1 .. {days} (the days of mode {mode!r}), got {quote(periods)}")
    order = _chain(list(whs), key)  # upstream first
    w = [_Warehouse(whs[k], f"{key}[{k}]", skus, files, window) for k in order]
    for k in order:
        accept = whs[k].get("accept_sku", "equal_accept")
        if accept != "equal_accept":
            raise ScenarioError(f"{key}[{k}].accept_sku: only equal_accept is known, got {quote(accept)}")
    seller = w[-1]
    if seller.demand is None:
        raise ScenarioError(
            f"{key}[{order[-1]}] ({seller.name}): the warehouse selling to {_CONSUMER} has no demand "
            "in dynamic_data"
        )
    n = len(w)
    roles = ["store"] if n == 1 else ["store", *(["warehouse"] * (n - 2)), "supplier"]
    # node i (store first) is warehouse w[n - 1 - i]; edge j goes into node j
    node_names = [f"{r}_{sum(1 for x in roles[:i] if x == r)}" for i, r in enumerate(roles)]
    wh_of_node = [w[n - 1 - i] for i in range(n)]
    volume = w[0].values["volume"]
    for wh in wh_of_node:
        if not np.array_equal(wh.values["volume"], volume):
            bad = int(np.flatnonzero(wh.values["volume"] != volume)[0])
            raise ScenarioError(
                f"{wh.source['volume']}: SKU {quote(skus[bad])} has volume {wh.values['volume'][bad]:g} "
                f"here and {volume[bad]:g} at {w[0].name}; a product has one volume here"
            )
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    for i, wh in enumerate(wh_of_node):
        k = order[n - 1 - i]
        cfg_w = whs[k]
        node: dict[str, Any] = {"role": roles[i], "label": wh.name}
        cap = cfg_w.get("capacity")
        if cap is not None:
            node["storage_capacity"] = _number(str(cap), f"{key}[{k}].capacity")
            node["overflow"] = "refuse"
            node["overflow_cost"] = float(
                np.mean(wh.values["overflow_cost_ratio"] * wh.values["procurement_cost"])
            )
        if i == 0:
            node["lost_sales"] = True
        nodes.append(node)
        fixed = wh.values["unit_order_cost"]
        if not np.all(fixed == fixed[0]):
            raise ScenarioError(
                f"{wh.source['unit_order_cost']}: unit_order_cost must be the same for every SKU (one "
                f"fixed cost per edge), got {fixed.min():g} .. {fixed.max():g}"
            )
        source = "external" if i == n - 1 else node_names[i + 1]
        edges.append({"from": source, "to": node_names[i], "lead_time": 1, "fixed_cost": float(fixed[0])})
    storage_rate = [
        _number(
            str(whs[order[n - 1 - i]].get("unit_storage_cost", 0.0)),
            f"{key}[{order[n - 1 - i]}].unit_storage_cost",
        )
        for i in range(n)
    ]
    holding = np.stack(
        [wh.values["basic_holding_cost"] + storage_rate[i] * volume for i, wh in enumerate(wh_of_node)],
        axis=1,
    )  # (P, N)
    init = np.stack([wh.values["init_stock"] for wh in wh_of_node], axis=1)  # (P, N)
    # (P, E): edge j goes into node j
    cost = np.stack([wh.values["procurement_cost"] for wh in wh_of_node], axis=1)
    lead = np.stack([wh.values["vlt"] for wh in wh_of_node], axis=1)  # (P, E)
    for i, wh in enumerate(wh_of_node):
        wrong = np.flatnonzero((lead[:, i] != np.round(lead[:, i])) | (lead[:, i] < 1))
        if wrong.size:
            q = int(wrong[0])
            raise ScenarioError(
                f"{wh.source['vlt']}: SKU {quote(skus[q])}: vlt must be an integer >= 1, got {lead[q, i]:g}"
            )
    price = seller.values["selling_price"]
    margin = np.maximum(price - seller.values["procurement_cost"], 0.0)
    lost = seller.values["backlog_ratio"] * margin
    demand = seller.demand[:, :periods]
    integer = bool(np.all(demand == np.round(demand)))
    top = n - 1  # the edge from external
    products: list[dict[str, Any]] = []
    overrides: list[dict[str, Any]] = []
    for p, s in enumerate(skus):
        mean = float(demand[p].mean())
        row: dict[str, Any] = {
            "name": s,
            "volume": float(volume[p]),
            "unit_cost": float(cost[p, top]),
            "price": float(price[p]),
            "holding_cost": float(holding[p, 0]),
            "lost_sales_cost": float(lost[p]),
            "initial_on_hand": float(init[p, 0]),
            "lead_time": int(lead[p, top]),
            "max_order": float(math.ceil(4.0 * max(mean, float(demand[p].max()) / 4.0)) + 1),
            "demand": {"process": "fixed", "values": [float(x) for x in demand[p]], "integer": integer},
        }
        products.append(row)
        for i in range(1, n):
            o: dict[str, Any] = {}
            if holding[p, i] != holding[p, 0]:
                o["holding_cost"] = float(holding[p, i])
            if init[p, i] != init[p, 0]:
                o["initial_on_hand"] = float(init[p, i])
            if o:
                overrides.append({"product": s, "node": node_names[i], **o})
        for j in range(n - 1):  # internal edges: lead time and cost per product
            o = {}
            if cost[p, j] != cost[p, top]:
                o["unit_cost"] = float(cost[p, j])
            o["lead_time"] = int(lead[p, j])
            overrides.append({"product": s, "edge": j, **o})
    label = name if name is not None else cfg.stem
    return {
        "name": "".join(c if c.isalnum() or c in "_-." else "_" for c in label).lstrip(".")[:100] or "mabim",
        "description": (
            f"MABIM task {cfg.name}, mode {mode} ({window[0]} .. {window[1]}), {len(skus)} SKUs, "
            f"{n} warehouse(s)"
        ),
        "periods": periods,
        "nodes": nodes,
        "edges": edges,
        "reward": {"scheme": "profit"},
        "products": products,
        "product_overrides": overrides,
    }


def load_mabim_task(
    path: str | Path,
    *,
    mode: str = "test",
    config: str | Path | None = None,
    periods: int | None = None,
    name: str | None = None,
) -> Scenario:
    """A validated :class:`Scenario` from a MABIM task; arguments as :func:`mabim_task_dict`."""
    data = mabim_task_dict(path, mode=mode, config=config, periods=periods, name=name)
    return validate_scenario(data, source=f"MABIM task {path}")


# --------------------------------------------------------------------------------------------------
# the writer
def _csv(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def write_mabim_task(
    sc: Scenario, folder: str | Path, *, start_date: _dt.date = _dt.date(2020, 1, 1)
) -> Path:
    """Write a product scenario in MABIM's layout (``task.yml`` and CSVs in ``folder``); returns the config.

    The scenario must be what :func:`load_mabim_task` makes: nodes in series (store first, each node one
    inbound edge), ``fixed`` demand per product, one ``fixed_cost`` per edge. Costs go out as constant
    daily series; ``unit_storage_cost`` is 0 (the holding cost is all ``basic_holding_cost``).

    Raises:
        ScenarioError: naming what the layout cannot hold.
    """
    from invmgmt_marl.scenario.products import product_values

    if not sc.has_products:
        raise ScenarioError(f"write_mabim_task: {sc.name} has no products")
    v = product_values(sc)
    names = sc.agents
    n = len(sc.nodes)
    inbound = [[j for j, e in enumerate(sc.edges) if e.target == a] for a in names]
    if any(len(x) != 1 for x in inbound) or len(sc.edges) != n or sc.nodes[0].role != "store":
        raise ScenarioError(
            f"write_mabim_task: {sc.name}: MABIM holds warehouses in series (store first, one inbound "
            "edge each)"
        )
    # upstream-first order of nodes
    chain = [0]
    while sc.edges[inbound[chain[-1]][0]].source != "external":
        chain.append(names.index(sc.edges[inbound[chain[-1]][0]].source))
    if len(chain) != n:
        raise ScenarioError(f"write_mabim_task: {sc.name}: the nodes are not one chain")
    chain.reverse()
    skus = list(v.names)
    for p, d in enumerate(v.demand):
        if d[0] is None or d[0].process != "fixed":
            raise ScenarioError(
                f"write_mabim_task: product {skus[p]}: only fixed (replayed) demand can be written"
            )
    days = sc.periods
    dates = [(start_date + _dt.timedelta(t)).strftime("%Y/%m/%d") for t in range(days)]
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    wnames = [sc.nodes[i].label or names[i] for i in chain]

    def daily(values: np.ndarray) -> str:  # (P,) constant, or (P, T)
        vals = np.broadcast_to(values.reshape(len(skus), -1), (len(skus), days))
        return _csv(["Date", *skus], [[dates[t], *(repr(float(x)) for x in vals[:, t])] for t in range(days)])

    atomic_write_text(folder / "sku_list.csv", _csv(["SKU"], [[s] for s in skus]))
    demand = np.array([d[0].params.values[:days] for d in v.demand], dtype=np.float64)  # type: ignore[union-attr]
    atomic_write_text(folder / "demand.csv", daily(demand))
    warehouses = []
    for k, i in enumerate(chain):
        nd, j = sc.nodes[i], inbound[i][0]
        cost = v.unit_cost[:, j]
        out = [x for x, e in enumerate(sc.edges) if e.source == names[i]]
        sell = v.price[:, 0] if i == 0 else v.unit_cost[:, out[0]]
        margin = np.maximum(v.price[:, 0] - cost, 0.0)
        ratio = np.divide(v.lost_sales_cost[:, 0], margin, out=np.zeros(len(skus)), where=margin > 0)
        slug = f"w{k}"
        atomic_write_text(folder / f"{slug}.procurement_cost.csv", daily(cost))
        atomic_write_text(folder / f"{slug}.selling_price.csv", daily(sell))
        static_rows = [
            [s, repr(float(v.initial_on_hand[p, i])), int(v.lead_time[p, j]), repr(float(v.volume[p])),
             repr(float(v.holding_cost[p, i])), repr(float(ratio[p]))]
            for p, s in enumerate(skus)
        ]  # fmt: skip
        atomic_write_text(
            folder / f"{slug}.info.csv",
            _csv(["SKU", "init_stock", "vlt", "volume", "basic_holding_cost", "backlog_ratio"], static_rows),
        )
        mean_cost = float(cost.mean())
        wh: dict[str, Any] = {
            "name": wnames[k],
            "initial_balance": 0,
            "unit_storage_cost": 0.0,
            "accept_sku": "equal_accept",
            "upstream": _VENDOR if k == 0 else wnames[k - 1],
            "downstream": _CONSUMER if k == n - 1 else wnames[k + 1],
            "sku": {
                "dynamic_data": [
                    {"name": "procurement_cost", "file": f"{slug}.procurement_cost.csv"},
                    {"name": "selling_price", "file": f"{slug}.selling_price.csv"},
                    *([{"name": "demand", "file": "demand.csv"}] if i == 0 else []),
                ],
                "static_data": f"{slug}.info.csv",
                "shared_data": {
                    "unit_order_cost": sc.edges[j].fixed_cost,
                    "overflow_cost_ratio": nd.overflow_cost / mean_cost if mean_cost > 0 else 0.0,
                },
            },
        }
        if nd.storage_capacity is not None:
            wh["capacity"] = nd.storage_capacity
        warehouses.append(wh)
    end = start_date + _dt.timedelta(days - 1)
    config = {
        "env": {
            "mode": [
                {
                    "name": "test",
                    "start_date": start_date.strftime("%Y/%m/%d"),
                    "end_date": end.strftime("%Y/%m/%d"),
                }
            ],
            "horizon": days,
            "lookback_len": 0,
            "sku_list": "sku_list.csv",
        },
        "warehouse": warehouses,
        "profit_function": "reward2",
        "reward_function": "reward2",
        "action": {"mode": "continuous"},
    }
    import yaml

    return atomic_write_text(folder / "task.yml", yaml.safe_dump(config, sort_keys=False))
