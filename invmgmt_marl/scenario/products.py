"""Products (SKUs) in a scenario: the product table reader, the product checks, and the per-product
values every node and edge ends up with (docs/products.md).

Precedence of a per-product value, highest first: a ``product_overrides`` entry for the (node,
product) or (edge, product) pair, the product's own field, the node's or edge's scalar (which thus
broadcasts to every product). ``lead_time`` on a product is its vendor lead time: it applies to the
edges from ``external`` only.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from invmgmt_marl.errors import quote

if TYPE_CHECKING:  # pragma: no cover
    from invmgmt_marl.scenario.schema import DemandSpec, Scenario

__all__ = [
    "MAX_PRODUCTS",
    "MAX_TABLE_BYTES",
    "ProductValues",
    "check_products",
    "product_values",
    "read_product_table",
]

#: largest product table read (2,000 SKUs with a dozen columns take about 150 kB)
MAX_TABLE_BYTES = 16 << 20
#: most products of one scenario
MAX_PRODUCTS = 100_000
_INT_FIELDS = ("lead_time", "shelf_life")
_NODE_OVERRIDES = ("initial_on_hand", "holding_cost", "demand", "shelf_life", "price_elasticity")
_EDGE_OVERRIDES = ("lead_time", "unit_cost", "max_order")
#: features the product axis does not carry yet: (where, field), refused with a message naming them
_NODE_UNSUPPORTED = ("bom", "production_capacity", "goodwill")
_EDGE_UNSUPPORTED = ("reliability", "transit_loss", "unit_cost_tiers")

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


def _cell(text: str, column: str) -> Any:
    """A table cell as int, float or text (the schema validates it); ``None`` when empty."""
    t = text.strip()
    if not t:
        return None
    if column in _INT_FIELDS:
        try:
            return int(t)
        except ValueError:
            pass
    try:
        return float(t)
    except ValueError:
        return t


def read_product_table(path: Any, base_dir: str | None) -> tuple[str, list[dict[str, Any]]]:
    """Read a product table: a header row, then one row per product.

    Columns are :class:`~invmgmt_marl.scenario.schema.ProductSpec` fields (``name`` required);
    ``demand.<key>`` columns build the product's demand mapping (``demand.process``, ``demand.mean``,
    ``demand.seasonal.amplitude``, ...). Empty cells mean "not given". Relative paths resolve
    against ``base_dir`` (the YAML's folder).

    Returns:
        ``(absolute path, rows as mappings)``.

    Raises:
        ValueError: naming the file and the row (the schema turns it into a ScenarioError).
    """
    if not isinstance(path, str) or not path.strip():
        raise ValueError(f"product_table: a CSV file path is required, got {quote(path)}")
    p = Path(path).expanduser()
    if not p.is_absolute():
        p = Path(base_dir if base_dir is not None else os.getcwd()) / p
    p = Path(os.path.normpath(p))
    if not p.is_file():
        raise ValueError(f"product_table: file not found: {quote(str(p), 200)}")
    size = p.stat().st_size
    if size > MAX_TABLE_BYTES:
        raise ValueError(
            f"product_table: {quote(str(p), 200)}: {size} bytes, more than the {MAX_TABLE_BYTES} allowed"
        )
    rows: list[dict[str, Any]] = []
    try:
        with open(p, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None or not any(c.strip() for c in header):
                raise ValueError(f"product_table: {p} row 1: no header row (the file is empty)")
            cols = [c.strip() for c in header]
            if "name" not in cols:
                raise ValueError(
                    f"product_table: {p} row 1 (header): no column 'name'; columns: {quote(cols, 160)}"
                )
            if len(set(cols)) != len(cols):
                raise ValueError(
                    f"product_table: {p} row 1 (header): duplicate column names {quote(cols, 160)}"
                )
            for rec in reader:
                if not any(c.strip() for c in rec):
                    continue
                if len(rec) != len(cols):
                    raise ValueError(
                        f"product_table: {p} row {reader.line_num}: {len(rec)} fields, but the header has "
                        f"{len(cols)}"
                    )
                if len(rows) >= MAX_PRODUCTS:
                    raise ValueError(f"product_table: {p}: more than {MAX_PRODUCTS} products")
                row: dict[str, Any] = {}
                for c, v in zip(cols, rec, strict=True):
                    value = _cell(v, c)
                    if value is None:
                        continue
                    if c.startswith("demand."):  # demand.mean, demand.seasonal.amplitude, ...
                        *parents, leaf = c.split(".")
                        node = row
                        for part in parents:
                            node = node.setdefault(part, {})
                        node[leaf] = value
                    else:
                        row[c] = value if c != "name" else v.strip()
                rows.append(row)
    except csv.Error as err:
        raise ValueError(f"product_table: {p}: not valid CSV: {quote(str(err))}") from None
    except UnicodeDecodeError as err:
        raise ValueError(f"product_table: {p}: not UTF-8 text: {err}") from None
    if not rows:
        raise ValueError(f"product_table: {p}: no product rows")
    return str(p), rows


def check_products(sc: Scenario) -> None:
    """Checks of a scenario with products; raises ``ValueError`` naming the field and the value."""
    products = sc.products or []
    names = sc.agents
    if not products:
        raise ValueError("products: at least one product, got an empty list")
    seen: dict[str, int] = {}
    for k, pr in enumerate(products):
        if pr.name in seen:
            raise ValueError(
                f"products[{k}].name: duplicate product name {quote(pr.name)} "
                f"(also products[{seen[pr.name]}])"
            )
        seen[pr.name] = k
    for i, n in enumerate(sc.nodes):
        for f in _NODE_UNSUPPORTED:
            if getattr(n, f) is not None:
                raise ValueError(
                    f"nodes[{i}] ({names[i]}).{f}: not supported with products yet, "
                    f"got {quote(getattr(n, f))}"
                )
    for j, e in enumerate(sc.edges):
        for f in _EDGE_UNSUPPORTED:
            if getattr(e, f) is not None:
                raise ValueError(
                    f"edges[{j}].{f}: not supported with products yet, got {quote(getattr(e, f))}"
                )
    if sc.demand_correlation is not None:
        raise ValueError(
            f"demand_correlation: not supported with products yet, got {quote(sc.demand_correlation)}"
        )
    if sc.actions.type == "discrete":
        raise ValueError("actions.type: products take box or multidiscrete actions, got 'discrete'")
    if sc.observation.view != "local":  # (the product interface observes the local view only)
        raise ValueError(
            f"observation.view: products have the local view only, got {quote(sc.observation.view)}"
        )
    index = {a: i for i, a in enumerate(names)}
    for k, o in enumerate(sc.product_overrides):
        where = f"product_overrides[{k}]"
        if o.product not in seen:
            raise ValueError(f"{where}.product: unknown product {quote(o.product)}")
        if (o.node is None) == (o.edge is None):
            raise ValueError(
                f"{where}: give exactly one of node or edge, got node={quote(o.node)} edge={o.edge}"
            )
        given = [f for f in (*_NODE_OVERRIDES, *_EDGE_OVERRIDES) if getattr(o, f) is not None]
        if o.node is not None:
            if o.node not in index:
                raise ValueError(f"{where}.node: unknown node {quote(o.node)}; nodes are {names}")
            bad = [f for f in given if f not in _NODE_OVERRIDES]
            if bad:
                raise ValueError(f"{where}.{bad[0]}: an edge value, got it on node {quote(o.node)}")
            if o.demand is not None and sc.nodes[index[o.node]].role != "store":
                raise ValueError(f"{where}.demand: only stores face customers, got node {quote(o.node)}")
        else:
            if o.edge is not None and o.edge >= len(sc.edges):
                raise ValueError(f"{where}.edge: no edge {o.edge}; the scenario has {len(sc.edges)}")
            bad = [f for f in given if f not in _EDGE_OVERRIDES]
            if bad:
                raise ValueError(f"{where}.{bad[0]}: a node value, got it on edge {o.edge}")
        if not given:
            raise ValueError(f"{where}: sets nothing (give one of {[*_NODE_OVERRIDES, *_EDGE_OVERRIDES]})")
    v = product_values(sc)
    for j, e in enumerate(sc.edges):
        short = np.flatnonzero(v.lead_time[:, j] < len(e.initial_pipeline))
        if short.size:
            p = int(short[0])
            raise ValueError(
                f"edges[{j}].initial_pipeline: {len(e.initial_pipeline)} entries, more than product "
                f"{quote(products[p].name)}'s lead time {int(v.lead_time[p, j])} on this edge"
            )
    for s, i in enumerate(v.store_nodes):
        for p in range(len(products)):
            d = v.demand[p][s]
            if d is None:
                raise ValueError(
                    f"nodes[{i}] ({names[i]}).demand: no demand for product {quote(products[p].name)} "
                    "(give the store a demand, the product a demand, or an override)"
                )
    for d in {id(x): x for row in v.demand for x in row if x is not None}.values():
        try:
            d.check_periods(sc.periods)
        except ValueError as err:
            raise ValueError(f"products: demand.{err}") from None
    from invmgmt_marl.scenario.retail import check_retail

    check_retail(sc)
    for i, n in enumerate(sc.nodes):
        if n.storage_capacity is not None and n.overflow == "refuse":
            used = float(v.volume @ v.initial_on_hand[:, i])
            if used > n.storage_capacity:
                raise ValueError(
                    f"nodes[{i}] ({names[i]}).storage_capacity: initial stock takes {used:g} volume units, "
                    f"more than the capacity, got {n.storage_capacity}"
                )


@dataclass(frozen=True)
class ProductValues:
    """Every per-product value, resolved (override > product field > node/edge scalar)."""

    names: tuple[str, ...]  # (P,)
    volume: F64  # (P,)
    holding_cost: F64  # (P, N)
    backlog_cost: F64  # (P, N)
    lost_sales_cost: F64  # (P, N)
    price: F64  # (P, N)
    initial_on_hand: F64  # (P, N)
    unit_cost: F64  # (P, E)
    max_order: F64  # (P, E)
    lead_time: I64  # (P, E)
    store_nodes: tuple[int, ...]  # (S,)
    demand: tuple[tuple[DemandSpec | None, ...], ...]  # (P, S)
    shelf_life: I64  # (P, N) periods a unit may stay in stock, 0 where not perishable
    waste_cost: F64  # (P, N) per expired unit
    salvage: F64  # (P, N) money per liquidated unit (0 at nodes without liquidation)
    liquidation_max: F64  # (P, N) action bound of liquidation (0 at nodes without liquidation)


def product_values(sc: Scenario) -> ProductValues:
    """Resolve every per-product value of a scenario with products."""
    products = sc.products or []
    n_p, nodes, edges = len(products), sc.nodes, sc.edges
    pidx = {pr.name: k for k, pr in enumerate(products)}
    nidx = {a: i for i, a in enumerate(sc.agents)}

    def node_table(field: str) -> F64:
        out = np.array([[getattr(n, field) for n in nodes]] * n_p, dtype=np.float64).reshape(n_p, len(nodes))
        for k, pr in enumerate(products):
            val = getattr(pr, field)
            if val is not None:
                out[k, :] = val
        return out

    def edge_table(field: str, dtype: Any, default: Any = None) -> NDArray[Any]:
        base = [getattr(e, field) if getattr(e, field) is not None else default for e in edges]
        out = np.array([base] * n_p, dtype=dtype).reshape(n_p, len(edges))
        for k, pr in enumerate(products):
            val = getattr(pr, field)
            if val is not None:
                if field == "lead_time":  # the vendor lead time: edges from external only
                    # (the vendor lead time: edges from external only, and not shipping modes, whose
                    # lead time is the mode's)
                    out[k, [j for j, e in enumerate(edges) if e.source == "external" and e.mode is None]] = (
                        val
                    )
                else:
                    out[k, :] = val
        return out

    holding = node_table("holding_cost")
    init = node_table("initial_on_hand")
    shelf = np.array([[n.shelf_life or 0 for n in nodes]] * n_p, dtype=np.int64).reshape(n_p, len(nodes))
    for k, pr in enumerate(products):
        if pr.shelf_life is not None:
            shelf[k, :] = pr.shelf_life
    unit_cost = edge_table("unit_cost", np.float64)
    max_order = edge_table("max_order", np.float64, sc.actions.max_order)
    lead = edge_table("lead_time", np.int64)
    stores = tuple(i for i, n in enumerate(nodes) if n.role == "store")
    spos = {i: s for s, i in enumerate(stores)}
    demand = [[pr.demand if pr.demand is not None else nodes[i].demand for i in stores] for pr in products]
    for o in sc.product_overrides:
        k = pidx[o.product]
        if o.node is not None:
            i = nidx[o.node]
            if o.initial_on_hand is not None:
                init[k, i] = o.initial_on_hand
            if o.holding_cost is not None:
                holding[k, i] = o.holding_cost
            if o.demand is not None:
                demand[k][spos[i]] = o.demand
            if o.shelf_life is not None:
                shelf[k, i] = o.shelf_life
        elif o.edge is not None:
            for f, table in (("lead_time", lead), ("unit_cost", unit_cost), ("max_order", max_order)):
                if getattr(o, f) is not None:
                    table[k, o.edge] = getattr(o, f)
    unit_cost += np.array([e.shipping_cost or 0.0 for e in edges])  # shipping modes' cost per unit
    return ProductValues(
        names=tuple(pr.name for pr in products),
        volume=np.array([pr.volume for pr in products], dtype=np.float64),
        holding_cost=holding,
        backlog_cost=node_table("backlog_cost"),
        lost_sales_cost=node_table("lost_sales_cost"),
        price=node_table("price"),
        initial_on_hand=init,
        unit_cost=unit_cost,
        max_order=max_order,
        lead_time=lead,
        store_nodes=stores,
        demand=tuple(tuple(row) for row in demand),
        shelf_life=shelf,
        waste_cost=node_table("waste_cost"),
        **_liquidation_values(sc, unit_cost, max_order),
    )


def _liquidation_values(sc: Scenario, unit_cost: F64, max_order: F64) -> dict[str, F64]:
    """``salvage`` and ``liquidation_max`` ``(P, N)``: at a node with ``liquidation``, the product's
    ``salvage_value`` or else ``liquidation.salvage`` x the product's unit cost on the node's first
    inbound edge; the bound ``liquidation.max_units`` or else the product's largest ``max_order`` on
    the node's inbound edges. Zero at other nodes."""
    products = sc.products or []
    n_p, n = len(products), len(sc.nodes)
    salvage, bound = np.zeros((n_p, n)), np.zeros((n_p, n))
    for i, (a, nd) in enumerate(zip(sc.agents, sc.nodes, strict=True)):
        liq = nd.liquidation
        if liq is None:
            continue
        inbound = [j for j, e in enumerate(sc.edges) if e.target == a]
        salvage[:, i] = liq.salvage * unit_cost[:, inbound[0]]
        for k, pr in enumerate(products):
            if pr.salvage_value is not None:
                salvage[k, i] = pr.salvage_value
        bound[:, i] = liq.max_units if liq.max_units is not None else max_order[:, inbound].max(axis=1)
    return {"salvage": salvage, "liquidation_max": bound}
