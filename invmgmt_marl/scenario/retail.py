"""Retail mechanics of scenarios with products: price actions with a demand response, shipping modes
on an edge, an event calendar (docs/products.md, "Prices and demand response", "Shipping modes",
"Events").

- :func:`expand_modes` turns an edge's ``modes:`` list into parallel edges, one per mode, before the
  scenario is validated (so everything downstream sees ordinary edges);
- :func:`check_retail` checks pricing, elasticities and events of a scenario with products;
- :func:`refuse_retail_without_products` refuses them in a scenario without products;
- :func:`price_elasticity` resolves the ``(P, S)`` elasticities.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from invmgmt_marl.errors import quote

if TYPE_CHECKING:  # pragma: no cover
    from invmgmt_marl.scenario.schema import Scenario

__all__ = [
    "MODE_KEYS",
    "check_retail",
    "expand_modes",
    "price_elasticity",
    "refuse_retail_without_products",
]

F64 = NDArray[np.float64]

#: keys of one shipping mode: its name, and edge fields that differ by mode (the rest is the edge's)
MODE_KEYS = (
    "name",
    "unit_cost",
    "lead_time",
    "lead_time_extra",
    "fixed_cost",
    "capacity",
    "max_order",
    "initial_pipeline",
    "initial_backlog",
    "initial_order",
    "transit_holding_cost",
)
_MAX_MODES = 16


def _mode_lead(where: str, lead: Any) -> dict[str, Any]:
    """``lead_time: [lo, hi]`` -> ``lead_time: lo`` and a uniform ``lead_time_extra`` over ``0..hi-lo``."""
    if not isinstance(lead, (list, tuple)):
        return {"lead_time": lead}
    if (
        len(lead) != 2
        or not all(isinstance(x, int) and not isinstance(x, bool) for x in lead)
        or not 1 <= lead[0] <= lead[1]
    ):
        raise ValueError(
            f"{where}.lead_time: an integer or a range [min, max] of integers with 1 <= min <= max, "
            f"got {quote(lead)}"
        )
    lo, hi = lead
    if hi == lo:
        return {"lead_time": lo}
    k = hi - lo + 1
    return {"lead_time": lo, "lead_time_extra": [1.0 / k] * k}


def expand_modes(data: Mapping[str, Any]) -> dict[str, Any]:
    """Expand every edge with ``modes:`` into one parallel edge per mode.

    Each mode is a mapping with ``name`` and any of :data:`MODE_KEYS`, which replace the edge's value
    for that mode, except ``unit_cost``: a mode's ``unit_cost`` is its shipping cost per unit, written
    as the edge's ``shipping_cost`` and added to the purchase cost (the edge's or the product's
    ``unit_cost``); ``lead_time`` may be a range ``[min, max]``, meaning uniform over the integers
    ``min..max`` (``lead_time: min`` plus ``lead_time_extra`` of ``max - min + 1`` equal
    probabilities). The parallel edges keep the edge's position in ``edges`` (in mode order), carry
    ``mode: <name>`` and the label ``<label or from->to>:<name>``. ``product_overrides`` entries
    with ``edge: j`` are remapped to the new indices (an override of an edge with modes applies to
    each of its modes).

    Raises:
        ValueError: naming ``edges[j].modes[k].<key>`` and the value.
    """
    out: list[Any] = []
    new_index: list[list[int]] = []
    for j, e in enumerate(data["edges"]):
        if not isinstance(e, Mapping) or "modes" not in e:
            new_index.append([len(out)])
            out.append(e)
            continue
        where = f"edges[{j}].modes"
        modes = e["modes"]
        if not isinstance(modes, list) or not modes or len(modes) > _MAX_MODES:
            raise ValueError(f"{where}: a list of 1 to {_MAX_MODES} modes, got {quote(modes)}")
        if "mode" in e:
            raise ValueError(f"edges[{j}].mode: set by modes:, got {quote(e['mode'])}")
        base = {k: v for k, v in e.items() if k != "modes"}
        label = e.get("label") or f"{e.get('from', e.get('source'))}->{e.get('to', e.get('target'))}"
        names: set[Any] = set()
        idx: list[int] = []
        for k, m in enumerate(modes):
            w = f"{where}[{k}]"
            if not isinstance(m, Mapping) or "name" not in m:
                raise ValueError(f"{w}: a mapping with a name, got {quote(m)}")
            bad = sorted(str(x) for x in m if x not in MODE_KEYS)
            if bad:
                raise ValueError(f"{w}.{bad[0]}: not a mode field; modes set {list(MODE_KEYS)}")
            if m["name"] in names:
                raise ValueError(f"{w}.name: duplicate mode name {quote(m['name'])}")
            names.add(m["name"])
            edge = {**base, **{x: v for x, v in m.items() if x not in ("name", "lead_time", "unit_cost")}}
            if "unit_cost" in m:  # the mode's cost per unit is a shipping cost, added to the purchase cost
                edge["shipping_cost"] = m["unit_cost"]
            if "lead_time" in m:
                if "lead_time_extra" in m and isinstance(m["lead_time"], (list, tuple)):
                    raise ValueError(
                        f"{w}.lead_time_extra: give a lead_time range or lead_time_extra, not both"
                    )
                edge.update(_mode_lead(w, m["lead_time"]))
            edge["mode"] = m["name"]
            edge["label"] = f"{label}:{m['name']}"
            idx.append(len(out))
            out.append(edge)
        new_index.append(idx)
    result = {**data, "edges": out}
    overrides = data.get("product_overrides")
    if isinstance(overrides, list):
        remapped: list[Any] = []
        for o in overrides:
            oj = o.get("edge") if isinstance(o, Mapping) else None
            if isinstance(oj, int) and not isinstance(oj, bool) and 0 <= oj < len(new_index):
                remapped.extend({**o, "edge": jj} for jj in new_index[oj])
            else:
                remapped.append(o)
        result["product_overrides"] = remapped
    return result


def refuse_retail_without_products(sc: Scenario) -> None:
    """Pricing, shipping modes and events need a product scenario: raise ``ValueError`` naming the field."""
    need = "requires products: declare at least one product"
    for i, n in enumerate(sc.nodes):
        if n.pricing is not None:
            raise ValueError(
                f"nodes[{i}] ({sc.agents[i]}).pricing: {need}, got {quote(n.pricing.model_dump())}"
            )
    for j, e in enumerate(sc.edges):
        if e.mode is not None:
            raise ValueError(f"edges[{j}].mode: shipping modes {need}, got {quote(e.mode)}")
    if sc.events:
        raise ValueError(f"events: an event calendar {need}, got {len(sc.events)} event(s)")


def check_retail(sc: Scenario) -> None:
    """Checks of pricing, price elasticities and events in a scenario with products."""
    names = sc.agents
    products = [p.name for p in sc.products or []]
    stores = [a for a, n in zip(names, sc.nodes, strict=True) if n.role == "store"]
    for i, n in enumerate(sc.nodes):
        if n.pricing is not None and n.role != "store":
            raise ValueError(f"nodes[{i}] ({names[i]}).pricing: only stores set prices, got a {n.role}")
    index = {a: i for i, a in enumerate(names)}
    for k, o in enumerate(sc.product_overrides):
        if o.price_elasticity is not None and (o.node is None or sc.nodes[index[o.node]].role != "store"):
            raise ValueError(
                f"product_overrides[{k}].price_elasticity: a (store, product) value; give node: <a store>, "
                f"got node={quote(o.node)} edge={o.edge}"
            )
    seen: set[str] = set()
    for k, ev in enumerate(sc.events):
        where = f"events[{k}]"
        if ev.name in seen:
            raise ValueError(f"{where}.name: duplicate event name {quote(ev.name)}")
        seen.add(ev.name)
        if isinstance(ev.factor, dict):
            unknown = [p for p in ev.factor if p not in products]
            if unknown:
                raise ValueError(
                    f"{where}.factor: unknown product {quote(unknown[0])}; products are {products[:8]}"
                )
        for s in ev.stores or ():
            if s not in stores:
                raise ValueError(f"{where}.stores: unknown store {quote(s)}; stores are {stores}")
        if ev.stores is not None and not ev.stores:
            raise ValueError(f"{where}.stores: at least one store (or leave it out for every store), got []")


def price_elasticity(sc: Scenario) -> F64:
    """``(P, S)`` price elasticities: a (store, product) override > the product's > 0."""
    products = sc.products or []
    stores = [a for a, n in zip(sc.agents, sc.nodes, strict=True) if n.role == "store"]
    el = np.array([[p.price_elasticity or 0.0 for _ in stores] for p in products], dtype=np.float64).reshape(
        len(products), len(stores)
    )
    pidx = {p.name: k for k, p in enumerate(products)}
    for o in sc.product_overrides:
        if o.price_elasticity is not None and o.node in stores:
            el[pidx[o.product], stores.index(o.node)] = o.price_elasticity
    return el
