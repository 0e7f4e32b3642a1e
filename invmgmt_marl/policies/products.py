"""Policies and tuning on networks with products (docs/products.md, "Policies and tuning").

The registered baselines of :mod:`.base` work per (node, product) on a product network (levels
``(P, N)``, orders ``(B, P, E)``). This module adds what only products need:

- :func:`newsvendor_levels`: untuned per-(product, node) base-stock levels at each product's
  critical ratio (the reference the tuned levels are compared with);
- :class:`CapacityBaseStockPolicy` (registered as ``base_stock_capacity``): base-stock orders, scaled
  per node so that they fit the shared storage volume and the ordering budget;
- :func:`simulate_products`: a lean batched episode loop that keeps only per-product totals;
- :func:`tune_products`: coordinate search over per-(product, node) parameters, every candidate of
  every product in one batched simulation (the batch axis holds candidates x episodes, the product
  axis holds the SKUs), with the shared constraints active in the simulation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from invmgmt_marl.objective import check_objective
from invmgmt_marl.policies.base import (
    BaseStockPolicy,
    Policy,
    demand_statistics,
    first_lead_time,
    node_throughput,
)
from invmgmt_marl.sim.dynamics import step
from invmgmt_marl.sim.network import Network
from invmgmt_marl.sim.state import SimState, initial_state

__all__ = [
    "CAPACITY_RULES",
    "CapacityBaseStockPolicy",
    "ProductRun",
    "newsvendor_levels",
    "simulate_products",
    "tune_products",
]

F64 = NDArray[np.float64]

#: how :class:`CapacityBaseStockPolicy` counts the room left for new orders
CAPACITY_RULES: tuple[str, ...] = ("safe", "expected")

#: scaled orders are shrunk by this relative margin so that rounding never tips them over a limit
_MARGIN = 1e-9


def _volume(net: Network, x: F64) -> F64:
    """``(B, N)`` volume of per-(product, node) quantities ``(B, P, N)`` (units without products)."""
    return net.volume @ x if net.product_axis else x


def _normal_ppf(p: F64) -> F64:
    """Standard normal quantile (scipy's ``ndtri``)."""
    from scipy.special import ndtri

    return np.asarray(ndtri(p), dtype=np.float64)


def newsvendor_levels(net: Network, objective: str = "cost", seed: int = 0) -> F64:
    """Untuned base-stock levels at each (product, node)'s critical ratio.

    ``S = (L + 1) * mean + z * sqrt(L + 1) * std`` of the node's per-period throughput, ``L`` the lead
    time of its first inbound edge, ``z`` the standard normal quantile of the critical ratio
    ``cu / (cu + co)`` with ``co`` = holding cost per unit-period and ``cu`` = the stores' shortage
    cost per unit (lost-sales cost at lost-sales stores, else backlog cost), plus the margin
    ``price - unit cost`` under ``objective="profit"`` at lost-sales stores. Nodes that are not stores
    use the mean shortage cost over all stores. The ratio is clipped to ``[0.05, 0.995]``.

    Returns:
        ``(P, N)`` levels with products, ``(N,)`` without.
    """
    objective = check_objective(objective)
    mean, std = demand_statistics(net, seed)
    m, s = node_throughput(net, mean), node_throughput(net, std)
    lead = first_lead_time(net)
    st = net.store_nodes
    lost = net.store_lost_sales  # (S,)
    short = np.where(lost, net.lost_sales_cost[..., st], net.backlog_cost[..., st])  # (..., S)
    if objective == "profit":
        unit = net.unit_cost[..., [e[0] for e in (net.agent_edges[i] for i in st)]]
        short = short + np.where(lost, np.maximum(net.price[..., st] - unit, 0.0), 0.0)
    cu = np.broadcast_to(np.mean(short, axis=-1, keepdims=True), m.shape).copy()
    cu[..., st] = short
    co = np.maximum(net.holding_cost, 1e-12)
    ratio = np.clip(cu / (cu + co), 0.05, 0.995)
    z = _normal_ppf(ratio)
    return np.maximum(np.ceil((lead + 1) * m + z * np.sqrt(lead + 1) * s), 0.0)


class CapacityBaseStockPolicy:
    """Base-stock per (node, product), with each node's orders scaled to its shared constraints.

    Every product first orders up to its level as :class:`~.base.BaseStockPolicy` does. Then, at
    each node, all of that node's orders are multiplied by one factor ``f = min(1, f_room, f_budget)``
    (the proportional rule of the simulator, applied before the fact instead of after it):

    - ``f_room = room / volume of the new orders``, with ``room = capacity - volume(on hand + in
      transit to the node + owed to it by its suppliers)`` (``rule="safe"``). Since that total can
      only fall until the new orders arrive, arrivals then always fit: this rule never causes
      overflow (unless the initial stock and pipelines already exceed the capacity). ``rule=
      "expected"`` also credits the expected sales until the orders arrive (mean throughput x lead
      time), which uses the space better but can overflow when demand falls short.
    - ``f_budget = order_budget / cost of the new orders`` (``unit_cost x quantity``), so the budget
      never rejects anything.

    Works on product networks (volume-weighted shared capacity, ordering budget) and on networks
    without products (unit storage capacity, no budget).

    Args:
        levels: ``(P, N)``, ``(N,)`` or ``(B, P, N)`` (``(N,)`` / ``(B, N)`` without products).
        rule: ``"safe"`` or ``"expected"`` (see above).
        integer: round orders down to whole units after scaling (up before it, as the plain policy).
        allowance: ``(P, N)`` expected sales until arrival, required for ``rule="expected"``
            (:func:`_make_base_stock_capacity` computes it from sampled demand).
    """

    #: does not look at the period index: long-run bounds apply to its steady-state cost
    stationary = True

    def __init__(
        self, levels: Any, rule: str = "safe", integer: bool = False, allowance: F64 | None = None
    ) -> None:
        if rule not in CAPACITY_RULES:
            raise ValueError(f"rule: expected one of {list(CAPACITY_RULES)}, got {rule!r}")
        if rule == "expected" and allowance is None:
            raise ValueError("allowance: rule='expected' needs the expected sales until arrival, got None")
        self.base = BaseStockPolicy(levels, integer=integer)
        self.rule, self.integer = rule, integer
        self.allowance = None if allowance is None else np.asarray(allowance, dtype=np.float64)

    @property
    def levels(self) -> F64:
        return self.base.levels

    def __call__(self, net: Network, state: SimState, rng: np.random.Generator) -> F64:
        orders = np.clip(self.base(net, state, rng), 0.0, net.max_order)  # (B, [P,] E)
        scale = np.ones((orders.shape[0], net.n_nodes))  # (B, N)
        limited = net.any_shared_storage or net.any_storage
        if limited:
            held = state.on_hand + state.pipeline.sum(axis=-1) @ net.edge_to_dst
            held = held + state.backlog[..., : net.n_edges] @ net.edge_to_dst  # (B, [P,] N)
            if self.rule == "expected" and self.allowance is not None:
                held = np.maximum(held - self.allowance, 0.0)
            room = np.maximum(net.storage_capacity - _volume(net, held), 0.0)  # (B, N)
            incoming = _volume(net, orders @ net.edge_to_dst)
            np.minimum(scale, room / np.maximum(incoming, 1e-300), out=scale, where=incoming > room)
        if net.any_budget:
            cost = (orders * net.unit_cost) @ net.edge_to_dst  # (B, P, N)
            cost = cost.sum(axis=-2)
            over = cost > net.order_budget
            np.minimum(scale, net.order_budget / np.maximum(cost, 1e-300), out=scale, where=over)
        if np.all(scale >= 1.0):
            return orders
        scale = np.where(scale < 1.0, scale * (1.0 - _MARGIN), 1.0)
        per_edge = scale @ net.edge_to_dst.T  # (B, E)
        orders = orders * (per_edge[:, None, :] if net.product_axis else per_edge)
        return np.floor(orders) if self.integer else orders

    def __repr__(self) -> str:
        lv = self.levels
        shown = np.round(lv, 2).tolist() if lv.size <= 12 else f"<levels {lv.shape}>"
        return f"CapacityBaseStockPolicy({shown}, rule={self.rule!r})"


def _make_base_stock_capacity(
    net: Network, levels: Any = None, rule: str = "safe", integer: bool = False
) -> Policy:
    """Registered factory: newsvendor levels (cost objective) when ``levels`` is omitted."""
    lv = newsvendor_levels(net) if levels is None else np.asarray(levels, dtype=np.float64)
    allowance = None
    if rule == "expected":
        mean, _ = demand_statistics(net)
        allowance = node_throughput(net, mean) * first_lead_time(net)
    return CapacityBaseStockPolicy(lv, rule=rule, integer=integer, allowance=allowance)


@dataclass(frozen=True, eq=False)
class ProductRun:
    """Per-episode, per-product totals of :func:`simulate_products` (summed over nodes and periods)."""

    cost: F64  # (B, P) every cost field of the ledger
    revenue: F64  # (B, P) sales and transfer revenue
    overflow: F64  # (B, P) units beyond the shared storage capacity
    rejected: F64  # (B, P) units cut by the ordering budget


def simulate_products(net: Network, policy: Policy, demand: F64, seed: int | None = 0) -> ProductRun:
    """Run ``policy`` on the batched simulator over whole episodes of a product network.

    Args:
        net: a compiled network with products (``net.product_axis``).
        policy: ``policy(net, state, rng) -> (B, P, E)``; orders are clipped to ``[0, max_order]``.
        demand: ``(B, T, P, S)`` customer demand paths (``T >= net.periods``).
        seed: seeds the policy's generator.

    Raises:
        ValueError: not a product network, a wrong demand shape, or a policy returning NaN.
    """
    if not net.product_axis:
        raise ValueError(f"net: simulate_products needs a network with products, got {net.name!r}")
    d = np.asarray(demand, dtype=np.float64)
    want = (net.n_products, net.n_stores)
    if d.ndim != 4 or d.shape[2:] != want or d.shape[1] < net.periods:
        raise ValueError(
            f"demand: expected shape (B, T>={net.periods}, P, S) = (B, T, *{want}), got {d.shape}"
        )
    rng = np.random.default_rng(seed)
    batch = d.shape[0]
    state = initial_state(net, batch)
    reset = getattr(policy, "reset", None)
    if callable(reset):
        reset(net, batch, rng)
    totals = np.zeros((4, batch, net.n_products))
    for t in range(net.periods):
        raw = np.asarray(policy(net, state, rng), dtype=np.float64)
        if raw.shape != (batch, net.n_products, net.n_edges):
            raise ValueError(
                f"policy {policy!r}: expected orders of shape (B, P, E) = "
                f"{(batch, net.n_products, net.n_edges)}, got {raw.shape}"
            )
        orders = np.clip(raw, 0.0, net.max_order)
        if not np.all(np.isfinite(orders)):
            raise ValueError(f"policy {policy!r}: returned non-finite orders in period {t}")
        state, led = step(net, state, orders, d[:, t])
        totals[0] += led.total_cost.sum(axis=-1)
        totals[1] += led.revenue.sum(axis=-1)
        totals[2] += led.overflow.sum(axis=-1)
        totals[3] += led.rejected.sum(axis=-1)
    return ProductRun(*totals)


@dataclass(frozen=True)
class ProductSearch:
    """Outcome of :func:`tune_products`."""

    theta: F64  # (P, C) parameters of every product (C coordinates, e.g. one level per node)
    score: float  # mean total cost (or minus profit) per episode, all products
    evaluations: int  # candidate settings simulated (each on every training path)
    accepted: int  # coordinate moves kept
    refused: int  # per-product moves that the coupled simulation refused together


def tune_products(
    net: Network,
    build: Callable[[F64], Policy],
    theta0: F64,
    lower: F64,
    step0: F64,
    demand: F64,
    seed: int = 0,
    objective: str = "cost",
    max_sweeps: int = 2,
) -> ProductSearch:
    """Coordinate search over per-product parameters, all products at once.

    For one coordinate ``j`` (e.g. the level at one node) five candidates are built, ``theta[:, j] +
    k * step[:, j]`` for ``k = 0, -2, -1, 1, 2``, *for every product at once*: candidate ``k`` moves
    every product by ``k`` of its own steps. They run as one batched simulation (batch rows =
    candidates x training paths, the product axis = SKUs), and each product takes the candidate with
    its own least cost (products are scored on their own ledger rows). Products only interact through
    the node's shared constraints (storage volume, budget), which are active in the simulation; since
    the per-product choices mix candidates that were simulated in different rows, the combined move
    is simulated once more and kept only if the total improves (else the coordinate is left as it is,
    counted in ``refused``, and the next step size tries again). Step sizes shrink fourfold down to
    one unit (offsets of up to two steps leave no gap wider than the next step).

    Args:
        net: a product network.
        build: ``build(params (B, P, C)) -> policy``.
        theta0: ``(P, C)`` initial parameters.
        lower: ``(C,)`` or ``(P, C)`` lower bounds.
        step0: ``(P, C)`` initial step sizes (>= 1).
        demand: ``(K, T, P, S)`` training paths, common to every candidate.
        seed: the policies' generator seed.
        objective: ``"cost"`` or ``"profit"`` (minimises cost - revenue).
        max_sweeps: sweeps over the coordinates per step size.
    """
    episodes = demand.shape[0]
    offsets = np.array([0.0, -2.0, -1.0, 1.0, 2.0])
    lower_b = np.broadcast_to(np.asarray(lower, dtype=np.float64), theta0.shape)

    def score(cands: F64) -> F64:  # (M, P, C) -> (M, P) mean per-product cost over the paths
        m = cands.shape[0]
        params = np.repeat(cands, episodes, axis=0)  # (M * K, P, C)
        run = simulate_products(net, build(params), np.tile(demand, (m, 1, 1, 1)), seed)
        per = run.cost - run.revenue if objective == "profit" else run.cost
        return per.reshape(m, episodes, -1).mean(axis=1)

    theta = np.maximum(np.asarray(theta0, dtype=np.float64), lower_b)
    per_product = score(theta[None])[0]
    evals, accepted, refused = 1, 0, 0
    steps = [np.maximum(np.asarray(step0, dtype=np.float64), 1.0)]
    while steps[-1].max() > 1:  # offsets +-1, +-2 of step s, then of s / 4, leave no gap wider than s / 4
        steps.append(np.maximum(np.floor(steps[-1] / 4), 1.0))
    for stp in steps:
        for _ in range(max_sweeps):
            improved = False
            for j in range(theta.shape[1]):
                cands = np.repeat(theta[None], len(offsets), axis=0)  # (5, P, C)
                cands[:, :, j] = np.maximum(
                    theta[None, :, j] + offsets[:, None] * stp[None, :, j], lower_b[:, j]
                )
                scores = score(cands)  # (5, P); row 0 is the current setting
                evals += len(offsets)
                pick = np.argmin(scores, axis=0)
                pick = np.where(scores[pick, np.arange(scores.shape[1])] < scores[0] - 1e-9, pick, 0)
                if not np.any(pick):
                    continue
                trial = cands[pick, np.arange(theta.shape[0])]  # (P, C)
                trial_pp = score(trial[None])[0]
                evals += 1
                if trial_pp.sum() < per_product.sum() - 1e-9:
                    theta, per_product, improved = trial, trial_pp, True
                    accepted += 1
                else:
                    refused += 1
            if not improved:
                break
    return ProductSearch(theta, float(per_product.sum()), evals, accepted, refused)


def default_product_episodes(net: Network, episodes: int) -> int:
    """Training paths for product tuning: ``episodes``, capped so that one batched candidate
    simulation holds at most ~2 M (row x product x node) cells (5 candidates per coordinate)."""
    cells = 5 * net.n_products * net.n_nodes
    return max(1, min(episodes, math.ceil(2_000_000 / cells)))
