"""The retail part of ``GET /state`` and of the ``/web`` page's retail view (docs/retail.md).

For a product network with any retail mechanic (cash, perishable products, liquidation, prices,
events), :func:`retail_view` describes the episode in the store's terms: stock per product and, for
perishable products, per batch age; deliveries in transit per product and shipping mode with the days
until they arrive; the events ahead with their countdowns; cash; the last price multipliers; the last
period per product; and a label and default for every entry of each agent's action, so that a person
(or an LLM) can fill it in: orders per (product, mode), liquidation per product, price per product.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from invmgmt_marl.env import InventoryParallelEnv
from invmgmt_marl.sim.calendar import event_clock

__all__ = ["edge_names", "retail_view"]


def edge_names(env: InventoryParallelEnv) -> list[str]:
    """``(E,)`` a short name per compiled edge: the shipping mode's name, else ``from->to``."""
    names: list[str] = []
    for e in env.scenario.edges:  # modes are expanded into one edge each, with ``mode: <name>``
        mode = getattr(e, "mode", None)
        names.append(str(mode) if mode else f"{e.source}->{e.target}")
    net = env.net
    if len(names) != net.n_edges:  # a layout we do not know: fall back to indices
        names = [f"edge {j}" for j in range(net.n_edges)]
    return names


def _is_retail(env: InventoryParallelEnv) -> bool:
    net = env.net
    return bool(
        net.product_axis
        and (
            net.any_cash
            or net.any_pricing
            or net.any_events
            or net.any_liquidation
            or net.any_perishable_products
        )
    )


def _action_labels(env: InventoryParallelEnv, modes: list[str]) -> dict[str, dict[str, list[Any]]]:
    """Per agent: ``labels`` and ``defaults`` of every action entry (orders 0, liquidation 0, price 1)."""
    net, products = env.net, list(env.net.products)
    dst = np.asarray(net.edge_dst)
    store_of = {int(n): s for s, n in enumerate(np.asarray(net.store_nodes))}
    out: dict[str, dict[str, list[Any]]] = {}
    for agent in env.possible_agents:
        node_name, _, product = agent.partition("__")
        if node_name not in net.agents:
            continue
        i = list(net.agents).index(node_name)
        inbound = [j for j in range(net.n_edges) if dst[j] == i]
        prods = [product] if product else products
        labels: list[str] = [f"order {p} {modes[j]}" for p in prods for j in inbound]
        defaults: list[float] = [0.0] * len(labels)
        if net.any_liquidation and bool(net.liquidation_on[i]):
            labels += [f"liquidate {p}" for p in prods]
            defaults += [0.0] * len(prods)
        s = store_of.get(i)
        if net.any_pricing and s is not None and bool(net.pricing_on[s]):
            labels += [f"price {p} (x list)" for p in prods]
            defaults += [1.0] * len(prods)
        shape = env.action_space(agent).shape
        if shape is not None and len(shape) == 1 and shape[0] == len(labels):
            out[agent] = {"labels": labels, "defaults": defaults}
    return out


def retail_view(env: InventoryParallelEnv) -> dict[str, Any] | None:
    """The retail description of the env's current state (batch of one), or ``None`` for a network
    without products or without any retail mechanic.

    Returns a JSON-ready dict: ``products``, ``modes`` (per compiled edge), ``nodes`` (per node:
    ``stock`` per product, ``batches`` per perishable product (units by age, youngest first; age a
    unit can be sold ``shelf_life - age`` more periods), ``in_transit`` lines ``{product, mode,
    quantity, arrives_in}`` (``arrives_in`` 0: arrives in the next period played), ``cash``),
    ``events`` (``name``, ``starts_in`` (-1: never again), ``days_left``, ``start``, ``duration``),
    ``prices`` (last multiplier per store and product), ``last_period`` per product at each store
    (demand, sold, missed, revenue, expired, liquidated, rejected order lines) and ``actions`` (labels
    and defaults per agent).
    """
    if not _is_retail(env):
        return None
    net, st = env.net, env.sim_state
    t = int(st.t)
    products = list(net.products)
    modes = edge_names(env)
    dst = np.asarray(net.edge_dst)
    on_hand = st.on_hand[0]  # (P, N)
    pipe = st.pipeline[0]  # (P, E, L) ring buffer, slot (t + k) % L arrives in period t + k
    n_l = pipe.shape[-1]
    pairs = np.asarray(net.perish_pairs)
    nodes = []
    for i, name in enumerate(net.agents):
        batches: dict[str, list[float]] = {}
        if st.age is not None and net.any_perishable_products:
            for q, flat in enumerate(pairs.tolist()):
                p, n = divmod(int(flat), net.n_nodes)
                if n == i:
                    life = int(net.pair_shelf_life[q])
                    batches[products[p]] = [float(x) for x in st.age[0, q, :life]]
        transit = []
        for j in np.flatnonzero(dst == i).tolist():
            for p in range(net.n_products):
                for k in range(n_l):
                    qty = float(pipe[p, j, (t + k) % n_l])
                    if qty > 0:
                        line = {"product": products[p], "mode": modes[j], "quantity": qty, "arrives_in": k}
                        transit.append(line)
        node: dict[str, Any] = {
            "name": name,
            "stock": {p: float(on_hand[k, i]) for k, p in enumerate(products)},
            "batches": batches,
            "in_transit": transit,
            "cash": float(st.cash[0, i]) if st.cash is not None and bool(net.cash_on[i]) else None,
        }
        nodes.append(node)
    events = []
    if net.any_events:
        until, left = event_clock(net, t)
        for v, ev in enumerate(net.event_names):
            events.append(
                {
                    "name": ev,
                    "starts_in": int(until[v]),
                    "days_left": int(left[v]),
                    "start": int(net.event_start[v]),
                    "duration": int(net.event_duration[v]),
                }
            )
    prices = None
    if st.price is not None:
        prices = {
            str(net.agents[int(n)]): {p: float(st.price[0, k, s]) for k, p in enumerate(products)}
            for s, n in enumerate(np.asarray(net.store_nodes).tolist())
        }
    last: dict[str, Any] | None = None
    led = env.last_ledger
    if led is not None:
        fields = {
            "demand": None,
            "sold": "sold",
            "missed": "lost",
            "revenue": "revenue",
            "expired": "expired",
            "liquidated": "liquidated",
            "rejected_lines": "rejected_lines",
        }
        last = {}
        for s, n in enumerate(np.asarray(net.store_nodes).tolist()):
            rows: dict[str, dict[str, float]] = {}
            for k, prod in enumerate(products):
                row: dict[str, float] = {}
                for key, f in fields.items():
                    row[key] = float(led.demand[0, k, s]) if f is None else float(getattr(led, f)[0, k, n])
                rows[prod] = row
            last[str(net.agents[int(n)])] = rows
    return {
        "t": t,
        "products": products,
        "modes": modes,
        "nodes": nodes,
        "events": events,
        "prices": prices,
        "last_period": last,
        "actions": _action_labels(env, modes),
    }
