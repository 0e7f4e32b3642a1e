"""Lot-sizing planners as ordering policies: plan over a rolling horizon, order the first period.

Every period, for every node ``i`` separately (installation planning; ``L`` = lead time of the node's
first inbound edge, ``K`` = that edge's fixed cost, ``h`` = the node's holding cost):

1. **Forecast** the node's demand signal for periods ``t .. t+L+H-1``: a moving average or simple
   exponential smoothing of what the node was asked for (``signal="requests"``: orders from its
   customers downstream; stores: customer demand) or of customer demand passed up the network
   (``signal="demand"``), both flat over the horizon; or (``forecast="oracle"``) the true future
   customer demand path, passed up the network.
2. **Project** the stock available when an order placed now arrives: ``ip - forecast[t .. t+L-1] -
   safety`` (``ip`` = installation inventory position: on hand + in transit + owed to the node - owed
   by it). A negative projection is a shortfall added to the first planned period.
3. **Net** the forecast of periods ``t+L .. t+L+H-1`` against that stock, **plan** lots on the net
   requirements with the planner (Wagner-Whitin, Silver-Meal, ...), and **order** the first planned
   lot (zero when the plan has no set-up in period ``t+L``).

Batching: Wagner-Whitin plans all ``B`` rows of a node at once (:func:`wagner_whitin_batch`); other
planners run in a Python loop over ``B`` (fine for evaluation batches of a few hundred episodes and
horizons of a few dozen periods; the GA is the slow one).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from invmgmt_marl.lotsizing import LotSizingPlan, get_planner, wagner_whitin_batch
from invmgmt_marl.policies.base import (
    demand_statistics,
    inventory_position,
    node_throughput,
    split_over_edges,
    throughput_matrix,
)
from invmgmt_marl.sim.network import Network
from invmgmt_marl.sim.state import SimState

__all__ = ["RollingHorizonPolicy", "FORECASTS", "net_requirements"]

F64 = NDArray[np.float64]
FORECASTS: tuple[str, ...] = ("moving_average", "exp_smoothing", "oracle")


def net_requirements(gross: F64, available: F64) -> F64:
    """``(B, H)`` requirements left after ``available (B,)`` stock is used, period by period; a
    negative ``available`` (a shortfall) is added to the first period."""
    g = gross.copy()
    g[:, 0] += np.maximum(-available, 0.0)
    covered = np.minimum(np.cumsum(g, axis=1), np.maximum(available, 0.0)[:, None])
    net = g - np.diff(np.concatenate([np.zeros((g.shape[0], 1)), covered], axis=1), axis=1)
    return np.maximum(net, 0.0)  # rounding in the differences may leave -1e-15


def _refuse_products(net: Network) -> None:
    if net.product_axis:
        raise ValueError(
            f"net: the rolling-horizon policies plan one product per node; {net.name!r} has "
            f"{net.n_products} products (use base_stock, s_S, forecast_order_up_to or base_stock_capacity)"
        )


class RollingHorizonPolicy:
    """Rolling-horizon lot sizing with any planner of :data:`invmgmt_marl.lotsizing.PLANNERS`.

    Args:
        planner: a planner name (``"wagner_whitin"``, ``"silver_meal"``, ``"least_unit_cost"``,
            ``"part_period_balancing"``, ``"genetic_algorithm"``, ``"capacitated_milp"``).
        horizon: ``H``, periods planned after the lead time.
        forecast: ``"moving_average"``, ``"exp_smoothing"`` or ``"oracle"``.
        window: periods in the moving average.
        alpha: smoothing constant of exponential smoothing, in ``(0, 1]``.
        signal: ``"requests"`` or ``"demand"`` (see the module docstring).
        safety: safety stock per node, scalar, ``(N,)`` or ``(B, N)``.
        demand: the true customer demand ``(B, T, S)`` (or ``(T, S)``), required by the oracle.
        integer: round orders up to whole units.
        planner_kwargs: bound to the planner (e.g. the GA's ``population``, ``generations``).
    """

    def __init__(
        self,
        planner: str = "wagner_whitin",
        horizon: int = 12,
        forecast: str = "moving_average",
        window: int = 4,
        alpha: float = 0.3,
        signal: str = "requests",
        safety: Any = 0.0,
        demand: Any = None,
        integer: bool = False,
        planner_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        if horizon < 1:
            raise ValueError(f"horizon: must be >= 1, got {horizon}")
        if forecast not in FORECASTS:
            raise ValueError(f"forecast: expected one of {list(FORECASTS)}, got {forecast!r}")
        if window < 1:
            raise ValueError(f"window: must be >= 1, got {window}")
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f"alpha: must be in (0, 1], got {alpha}")
        if signal not in ("requests", "demand"):
            raise ValueError(f"signal: expected 'requests' or 'demand', got {signal!r}")
        if forecast == "oracle" and demand is None:
            raise ValueError("demand: the oracle forecast needs the true demand path (B, T, S)")
        self.planner_name = planner
        self.plan_one: Callable[..., LotSizingPlan] = get_planner(planner, **dict(planner_kwargs or {}))
        self.horizon, self.forecast, self.window, self.alpha = horizon, forecast, window, alpha
        self.signal, self.integer = signal, integer
        self.safety = np.asarray(safety, dtype=np.float64)
        self.demand = None if demand is None else np.asarray(demand, dtype=np.float64)
        self._history: F64 | None = None  # (B, window, N) moving average; (B, 1, N) smoothing level
        self.last_plan: F64 | None = None  # (B, N, H) the lots planned in the last call, by period

    # ---------------------------------------------------------------------------------------------
    def reset(self, net: Network, batch: int, rng: np.random.Generator) -> None:
        """Start every episode's forecast at the expected throughput of each node."""
        _refuse_products(net)
        mean, _ = demand_statistics(net)
        depth = self.window if self.forecast == "moving_average" else 1
        self._history = np.broadcast_to(node_throughput(net, mean), (batch, depth, net.n_nodes)).copy()

    def _observe(self, net: Network, state: SimState) -> None:
        if self.signal == "demand":
            sig = state.last_demand @ throughput_matrix(net)
        else:
            sig = np.concatenate([state.last_orders, state.last_demand], axis=1) @ net.out_from_src
        hist = self._history
        if hist is None:
            raise RuntimeError("RollingHorizonPolicy: call reset() first")
        if self.forecast == "moving_average":
            self._history = np.concatenate([hist[:, 1:], sig[:, None]], axis=1)
        else:
            self._history = self.alpha * sig[:, None] + (1 - self.alpha) * hist

    def _future(self, net: Network, t: int, batch: int, length: int) -> F64:
        """``(B, N, length)`` forecast of each node's signal for periods ``t .. t+length-1``."""
        if self.forecast == "oracle":
            d = self.demand
            if d is None:
                raise ValueError("demand: the oracle forecast needs the true demand path")
            d = d[None] if d.ndim == 2 else d
            if d.shape[0] not in (1, batch) or d.shape[2] != net.n_stores:
                raise ValueError(f"demand: expected shape (B={batch}, T, S={net.n_stores}), got {d.shape}")
            window = np.zeros((d.shape[0], length, net.n_stores))
            stop = min(t + length, d.shape[1])
            if stop > t:
                window[:, : stop - t] = d[:, t:stop]
            nodes = window @ throughput_matrix(net)  # (B, length, N)
            return np.broadcast_to(nodes.transpose(0, 2, 1), (batch, net.n_nodes, length))
        hist = self._history
        if hist is None:
            raise RuntimeError("RollingHorizonPolicy: call reset() first")
        level = hist.mean(axis=1)  # (B, N)
        return np.broadcast_to(level[:, :, None], (batch, net.n_nodes, length))

    def __call__(self, net: Network, state: SimState, rng: np.random.Generator) -> F64:
        _refuse_products(net)
        batch = state.on_hand.shape[0]
        if self._history is None or self._history.shape[0] != batch or state.t == 0:
            self.reset(net, batch, rng)
        else:
            self._observe(net, state)
        lead = np.array([net.lead_time[e[0]] for e in net.agent_edges], dtype=np.int64)  # (N,)
        setup = np.array([net.fixed_cost[e[0]] for e in net.agent_edges])  # (N,)
        h_len = self.horizon
        future = self._future(net, state.t, batch, int(lead.max()) + h_len)  # (B, N, Lmax + H)
        ip = inventory_position(net, state)  # (B, N)
        safety = np.broadcast_to(self.safety, (batch, net.n_nodes))
        qty = np.zeros((batch, net.n_nodes))
        plans = np.zeros((batch, net.n_nodes, h_len))
        for i in range(net.n_nodes):
            li = int(lead[i])
            avail = ip[:, i] - future[:, i, :li].sum(axis=1) - safety[:, i]
            req = net_requirements(np.ascontiguousarray(future[:, i, li : li + h_len]), avail)
            hold = float(net.holding_cost[i])
            if self.planner_name == "wagner_whitin":
                plans[:, i], _ = wagner_whitin_batch(req, float(setup[i]), hold)
            else:
                for b in range(batch):
                    if req[b].sum() > 0:
                        plans[b, i] = self.plan_one(req[b], float(setup[i]), hold).quantities
            qty[:, i] = plans[:, i, 0]
        self.last_plan = plans
        return split_over_edges(net, np.ceil(qty - 1e-9) if self.integer else qty)

    def __repr__(self) -> str:
        return (
            f"RollingHorizonPolicy(planner={self.planner_name!r}, horizon={self.horizon}, "
            f"forecast={self.forecast!r}, safety={np.round(self.safety, 2).tolist()})"
        )


# factories registered in invmgmt_marl.registry.POLICIES (``make_policy("rolling_ww", net)`` ...)
def _factory(planner: str) -> Callable[..., RollingHorizonPolicy]:
    def build(net: Network, **kw: Any) -> RollingHorizonPolicy:
        return RollingHorizonPolicy(**{"planner": planner, **kw})

    build.__doc__ = (
        f"A :class:`RollingHorizonPolicy` planning with ``{planner}`` (override with ``planner=``)."
    )
    return build


make_rolling = _factory("wagner_whitin")
make_rolling_ww = _factory("wagner_whitin")
make_rolling_silver_meal = _factory("silver_meal")
make_rolling_luc = _factory("least_unit_cost")
make_rolling_ppb = _factory("part_period_balancing")
make_rolling_ga = _factory("genetic_algorithm")
