"""Seeded generator of large layered supply networks (the shipped ``large_network`` scenario).

:func:`generate_network` builds a scenario mapping for a four-layer DAG::

    external -> suppliers -> regional DCs (warehouses, tier 1) -> local warehouses (tier 2) -> stores

Every store, local warehouse and regional DC has a *primary* source in the layer above; a share of them
(``second_source``) also has a *secondary* source (multi-sourcing), listed second, so that it is the
second entry of the node's action. Assignments are balanced: the primary sources go round-robin over a
shuffled order, so every node of a layer serves at least one node below it (when the layer below is at
least as large), and a supplier that is nobody's primary is made someone's secondary source.

Everything random is drawn from one ``numpy.random.default_rng(seed)`` in a fixed order, and every
number is rounded before it is written, so the same arguments give the same mapping and
:func:`network_yaml` the same text, byte for byte, on any platform (the draws are integers,
permutations and uniforms compared with thresholds; derived floats are rounded).
``python scenarios/generate_large.py`` rewrites
``scenarios/large_network.yaml`` with the defaults; the tests check the shipped file is current.

What is drawn (the rest is fixed per layer, see :data:`LAYER_COSTS`):

- store demand: Poisson with an integer mean in ``demand_range`` (default 3 .. 15 a period);
- lost sales or backlog at each store (probability ``lost_sales_share`` of lost sales);
- lead times: store edges 1 .. 3, local <- regional 2 .. 4, regional <- supplier 3 .. 6,
  production (external -> supplier) 1 .. 3 periods;
- which nodes have a second source, and which.

Derived (deterministically): each node's expected throughput along primary edges (the base-stock
baseline fills a node's first listed edge first) and along equal splits over all its sources; supplier
production capacity = ``ceil(1.3 * max(primary, equal-split throughput)) + 5``; initial stock = 3 periods
of throughput on hand (4 at warehouses) plus one period's flow in every slot of each primary pipeline;
edge action bounds = ``max(10, ceil(4 x mean))`` on store edges and 3x the target's throughput (rounded up
to a multiple of 10) elsewhere, so ``discrete`` actions stay integer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["LAYER_COSTS", "generate_network", "network_yaml", "write_network"]

# per layer: holding cost, backlog cost (warehouses/suppliers), unit cost paid on the layer's primary
# inbound edges (secondary sources cost 0.5 more), fixed cost per order on its inbound edges
LAYER_COSTS: dict[str, dict[str, float]] = {
    "store": {"holding_cost": 0.10, "unit_cost": 6.0, "fixed_cost": 0.0},
    "local": {"holding_cost": 0.06, "backlog_cost": 0.5, "unit_cost": 5.0, "fixed_cost": 5.0},
    "regional": {"holding_cost": 0.04, "backlog_cost": 0.5, "unit_cost": 4.0, "fixed_cost": 20.0},
    "supplier": {"holding_cost": 0.02, "backlog_cost": 0.5, "unit_cost": 3.0, "fixed_cost": 0.0},
}
PRICE = 10.0
LOST_SALES_COST = 4.0
STORE_BACKLOG_COST = 1.0
SECONDARY_EXTRA_COST = 0.5


def _assign(
    rng: np.random.Generator, n_children: int, n_parents: int, second_source: float
) -> list[list[int]]:
    """Sources of each child: a balanced primary (round-robin over a shuffled order), then with
    probability ``second_source`` a different secondary. Every parent gets a child when possible."""
    order = rng.permutation(n_parents).tolist()
    primary = [order[k % n_parents] for k in range(n_children)]
    primary = [primary[k] for k in rng.permutation(n_children).tolist()]
    sources = [[p] for p in primary]
    for k in range(n_children):
        if n_parents > 1 and rng.random() < second_source:
            others = [p for p in range(n_parents) if p != primary[k]]
            sources[k].append(others[int(rng.integers(len(others)))])
    if n_children < n_parents:  # parents without a child: make them someone's secondary source
        unused = [p for p in range(n_parents) if not any(p in s for s in sources)]
        for j, p in enumerate(unused):
            child = j % n_children
            if len(sources[child]) == 1:
                sources[child].append(p)
            else:
                sources[child][1] = p
    return sources


def _ceil10(x: float) -> int:
    return int(10 * math.ceil(x / 10.0))


def generate_network(
    seed: int = 0,
    *,
    suppliers: int = 4,
    regional: int = 3,
    local: int = 7,
    stores: int = 40,
    second_source: float = 0.3,
    lost_sales_share: float = 0.5,
    demand_range: tuple[int, int] = (3, 15),
    periods: int = 100,
    name: str = "large_network",
) -> dict[str, Any]:
    """A scenario mapping (validated by ``validate_scenario``) of a layered network.

    Nodes are listed stores, local warehouses, regional DCs, suppliers, so the agents are
    ``store_0 .. store_{stores-1}``, ``warehouse_0 .. warehouse_{local-1}`` (local),
    ``warehouse_{local} .. warehouse_{local+regional-1}`` (regional) and ``supplier_0 ..``.
    """
    if min(suppliers, regional, local, stores) < 1:
        raise ValueError(
            f"every layer needs at least one node, got suppliers={suppliers}, "
            f"regional={regional}, local={local}, stores={stores}"
        )
    if not 0.0 <= second_source <= 1.0 or not 0.0 <= lost_sales_share <= 1.0:
        raise ValueError(
            f"second_source and lost_sales_share must lie in [0, 1], got {second_source}, {lost_sales_share}"
        )
    lo, hi = int(demand_range[0]), int(demand_range[1])
    if not 0 <= lo <= hi:
        raise ValueError(f"demand_range: expected (low, high) with 0 <= low <= high, got {demand_range}")
    rng = np.random.default_rng(seed)

    # --- draws, in a fixed order ------------------------------------------------------------------
    means = [int(x) for x in rng.integers(lo, hi + 1, size=stores)]
    lost = [bool(x) for x in (rng.random(stores) < lost_sales_share)]
    store_src = _assign(rng, stores, local, second_source)
    local_src = _assign(rng, local, regional, second_source)
    regional_src = _assign(rng, regional, suppliers, second_source)
    lead_store = [[int(rng.integers(1, 4)) for _ in s] for s in store_src]
    lead_local = [[int(rng.integers(2, 5)) for _ in s] for s in local_src]
    lead_regional = [[int(rng.integers(3, 7)) for _ in s] for s in regional_src]
    lead_supplier = [int(rng.integers(1, 4)) for _ in range(suppliers)]

    # --- throughput: along primary edges, and split equally over all sources --------------------
    def flows(
        children: Sequence[float], sources: Sequence[Sequence[int]], n: int
    ) -> tuple[list[float], list[float]]:
        """Per parent: the children's flow along primary edges, and split equally over their sources."""
        prim, equal = [0.0] * n, [0.0] * n
        for c, srcs in zip(children, sources, strict=True):
            prim[srcs[0]] += c
            for p in srcs:
                equal[p] += c / len(srcs)
        return prim, equal

    def larger(a: Sequence[float], b: Sequence[float]) -> list[float]:
        return [max(x, y) for x, y in zip(a, b, strict=True)]

    local_p, local_e = flows(means, store_src, local)
    local_t = larger(local_p, local_e)
    regional_p = flows(local_p, local_src, regional)[0]
    regional_t = larger(regional_p, flows(local_t, local_src, regional)[1])
    supplier_p = flows(regional_p, regional_src, suppliers)[0]
    supplier_t = larger(supplier_p, flows(regional_t, regional_src, suppliers)[1])

    agents_local = [f"warehouse_{k}" for k in range(local)]
    agents_regional = [f"warehouse_{local + k}" for k in range(regional)]
    agents_supplier = [f"supplier_{k}" for k in range(suppliers)]
    c = LAYER_COSTS

    nodes: list[dict[str, Any]] = []
    for s in range(stores):
        node: dict[str, Any] = {
            "role": "store",
            "label": f"store {s} (mean {means[s]})",
            "initial_on_hand": 3 * means[s],
            "holding_cost": c["store"]["holding_cost"],
        }
        if lost[s]:
            node.update(lost_sales=True, lost_sales_cost=LOST_SALES_COST)
        else:
            node["backlog_cost"] = STORE_BACKLOG_COST
        node["price"] = PRICE
        node["demand"] = {"process": "poisson", "mean": means[s]}
        nodes.append(node)
    for layer, count, through, allocation in (
        ("local", local, local_t, "priority"),
        ("regional", regional, regional_t, "proportional"),
    ):
        for k in range(count):
            node = {
                "role": "warehouse",
                "label": f"{layer} {k}",
                "initial_on_hand": int(math.ceil(4 * through[k])),
                "holding_cost": c[layer]["holding_cost"],
                "backlog_cost": c[layer]["backlog_cost"],
            }
            if allocation != "priority":
                node["allocation"] = allocation
            nodes.append(node)
    for k in range(suppliers):
        nodes.append(
            {
                "role": "supplier",
                "label": f"supplier {k}",
                "initial_on_hand": int(math.ceil(3 * supplier_t[k])),
                "holding_cost": c["supplier"]["holding_cost"],
                "backlog_cost": c["supplier"]["backlog_cost"],
            }
        )

    edges: list[dict[str, Any]] = []

    def add_edges(
        targets: Sequence[str],
        sources: Sequence[Sequence[int]],
        source_names: Sequence[str],
        leads: Sequence[Sequence[int]],
        flow: Sequence[float],
        bound: Sequence[int],
        layer: str,
    ) -> None:
        for i, tgt in enumerate(targets):
            for j, src in enumerate(sources[i]):
                lt = leads[i][j]
                unit_cost = c[layer]["unit_cost"] + (SECONDARY_EXTRA_COST if j else 0.0)
                edge: dict[str, Any] = {
                    "from": source_names[src],
                    "to": tgt,
                    "lead_time": lt,
                    "unit_cost": unit_cost,
                }
                if c[layer]["fixed_cost"]:
                    edge["fixed_cost"] = c[layer]["fixed_cost"]
                edge["max_order"] = bound[i]
                if j == 0:
                    per = int(round(flow[i]))
                    if per > 0:
                        edge["initial_pipeline"] = [per] * lt
                else:
                    edge["label"] = "secondary"
                edges.append(edge)

    store_names = [f"store_{s}" for s in range(stores)]
    add_edges(
        store_names,
        store_src,
        agents_local,
        lead_store,
        [float(m) for m in means],
        [max(10, 4 * m) for m in means],
        "store",
    )
    add_edges(
        agents_local,
        local_src,
        agents_regional,
        lead_local,
        local_p,
        [_ceil10(3 * t) for t in local_t],
        "local",
    )
    add_edges(
        agents_regional,
        regional_src,
        agents_supplier,
        lead_regional,
        regional_p,
        [_ceil10(3 * t) for t in regional_t],
        "regional",
    )
    for k in range(suppliers):
        cap = int(math.ceil(1.3 * supplier_t[k])) + 5
        edge = {
            "from": "external",
            "to": agents_supplier[k],
            "lead_time": lead_supplier[k],
            "unit_cost": c["supplier"]["unit_cost"],
            "capacity": cap,
            "max_order": cap,
        }
        per = int(round(supplier_p[k]))
        if per > 0:
            edge["initial_pipeline"] = [per] * lead_supplier[k]
        edge["label"] = "production"
        edges.append(edge)

    n_multi = sum(len(s) > 1 for s in (*store_src, *local_src, *regional_src))
    return {
        "name": name,
        "description": (
            f"generated layered network (seed {seed}): {suppliers} suppliers -> {regional} "
            f"regional DCs -> {local} local warehouses -> {stores} stores, "
            f"{n_multi} multi-sourced nodes"
        ),
        "periods": periods,
        "nodes": nodes,
        "edges": edges,
        "actions": {"type": "box", "max_order": 50},
        "observation": {"view": "local"},
        "reward": {"scheme": "profit", "alpha": 1.0},
    }


# --------------------------------------------------------------------------------------------------
def _scalar(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(round(v, 6))
    if isinstance(v, str):
        plain = v and all(ch.isalnum() or ch in "_-." for ch in v) and v not in ("true", "false", "null")
        return v if plain and not v[0].isdigit() else '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, Mapping):
        return "{" + ", ".join(f"{k}: {_scalar(x)}" for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_scalar(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} {v!r}")


def network_yaml(data: Mapping[str, Any], header: str = "") -> str:
    """The mapping as YAML text: top-level keys in order, one node and one edge per line (flow style),
    ``header`` as ``#`` comment lines on top. Deterministic (no dict reordering, fixed float format)."""
    out = [f"# {line}".rstrip() for line in header.splitlines()]
    for key, value in data.items():
        if key in ("nodes", "edges"):
            out.append(f"{key}:")
            out.extend(f"  - {_scalar(item)}" for item in value)
        elif isinstance(value, Mapping):
            out.append(f"{key}:")
            out.extend(f"  {k}: {_scalar(x)}" for k, x in value.items())
        else:
            out.append(f"{key}: {_scalar(value)}")
    return "\n".join(out) + "\n"


def write_network(path: str | Path, seed: int = 0, header: str = "", **kwargs: Any) -> str:
    """Generate (``generate_network(seed, **kwargs)``), write to ``path`` and return the text."""
    text = network_yaml(generate_network(seed, **kwargs), header)
    Path(path).write_text(text, encoding="utf-8")
    return text
