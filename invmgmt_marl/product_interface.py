"""How agents see and act on a network with products; and :func:`make_interface`, which picks the
interface of any network.

Two agent groupings (``agents=``, docs/products.md):

- ``"node"`` (default): one agent per node, as without products. Its action is a quantity for every
  (product, inbound edge), product-major: ``[p0 e0, p0 e1, ..., p1 e0, ...]``; its observation is
  every product's features followed by the node's shared context; its reward is its node total.
- ``"node_product"``: MABIM's SKU agents, one per (node, product), named ``<node>__<product>``
  (``store_0__sku12``: letters, digits, ``_`` and ``-`` only, valid as PettingZoo agent ids, RLlib
  agent and module ids and torch module names), in node-major order. Its action is a quantity for
  each inbound edge of its node, for its product; its observation is its product's features followed
  by the node's shared context; its reward is its product's own ledger row (every cost of the model
  is booked per product: the overflow charge goes to the products whose units overflowed, in
  proportion to them), mixed with the team mean by the scenario's ``alpha``.

Per-product features ``F = 4 + L`` (scaled by the observation scale): on hand, backlog owed, backlog
owed to the node, last period's requests, arrivals in the next ``L`` periods. Node context (3): share
of the storage capacity in use (volume, 0 without a capacity), share of the ordering budget the last
orders used (0 without a budget), progress ``t / periods``; in a network with cash a fourth entry, the
node's cash / ``net.cash_scale``; then two entries per calendar event. Observations are ``Box(0, inf)``.

Action blocks after the orders (docs/products.md), in this order: at a node with ``liquidation`` one
quantity per product the agent acts for (a node agent: every product; an SKU agent: its own), the
units to liquidate, in ``[0, net.liquidation_max]``; at a store with ``pricing`` one price multiplier
per product in ``[min, max]``. :meth:`ProductInterface.decode_controls` turns them into the
``liquidate`` and ``price`` keywords of :func:`~invmgmt_marl.sim.dynamics.step`. With pricing each
product also has a feature (the last multiplier, ``F = 5 + L``); an event calendar adds two context
features per event at the stores it affects (its countdown and periods left, scaled).

Actions are ``box`` (continuous) or ``multidiscrete`` (whole units) quantities in ``[0, max_order]``;
out-of-bounds finite values are clipped and counted (``clipped`` in the infos) or, with ``strict``,
raise :class:`~invmgmt_marl.errors.InvalidActionError`, like :class:`~invmgmt_marl.interface.AgentInterface`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from invmgmt_marl.agent_dicts import stack_actions, stack_flat, stacked
from invmgmt_marl.errors import InvalidActionError, quote
from invmgmt_marl.interface import AgentInterface
from invmgmt_marl.registry import REWARD_SCHEMES
from invmgmt_marl.scenario import ROLES
from invmgmt_marl.sim.calendar import event_features
from invmgmt_marl.sim.ledger import NODE_FIELDS, Ledger, node_totals
from invmgmt_marl.sim.network import Network
from invmgmt_marl.sim.state import SimState

__all__ = ["AGENT_GROUPINGS", "ProductInterface", "make_interface", "sku_agent_name"]

F64 = NDArray[np.float64]
F32 = NDArray[np.float32]
I64 = NDArray[np.int64]
AGENT_GROUPINGS = ("node", "node_product")
N_CONTEXT = 3


def sku_agent_name(node: str, product: str) -> str:
    """The SKU agent of ``product`` at ``node``: ``<node>__<product>``."""
    return f"{node}__{product}"


def make_interface(
    net: Network, *, agents: str = "node", shared_spaces: bool = False, strict: bool = False, **kw: Any
) -> AgentInterface | ProductInterface:
    """The agent interface of a network: :class:`AgentInterface` without products, else
    :class:`ProductInterface` with the ``agents`` grouping (``"node"`` or ``"node_product"``)."""
    if agents not in AGENT_GROUPINGS:
        raise ValueError(f"agents: expected one of {list(AGENT_GROUPINGS)}, got {agents!r}")
    if not net.product_axis:
        if agents != "node":
            raise ValueError(f"agents: {agents!r} needs a scenario with products; {net.name!r} has none")
        return AgentInterface(net, shared_spaces=shared_spaces, strict=strict, **kw)
    if kw.get("view") not in (None, "local"):
        raise ValueError(f"view: networks with products have the local view only, got {kw['view']!r}")
    return ProductInterface(
        net,
        agents=agents,
        shared_spaces=shared_spaces,
        strict=strict,
        action_type=kw.get("action_type"),
        obs_scale=kw.get("obs_scale"),
    )


class ProductInterface:
    """Spaces, observations, action decoding, rewards and infos of a network with products.

    Args:
        net: a compiled network with a product axis.
        agents: ``"node"`` or ``"node_product"`` (module docstring).
        action_type: ``"box"`` or ``"multidiscrete"``; default ``net.action_type``.
        obs_scale: observation scale; default ``net.obs_scale``.
        shared_spaces: identical spaces for every agent (observations followed by a role one-hot,
            actions padded to the longest action with zeros that are ignored).
        strict: raise on out-of-bounds actions instead of clipping them.
    """

    def __init__(
        self,
        net: Network,
        *,
        agents: str = "node_product",
        action_type: str | None = None,
        obs_scale: float | None = None,
        shared_spaces: bool = False,
        strict: bool = False,
    ) -> None:
        if not net.product_axis:
            raise ValueError(f"net: {net.name!r} has no products; use AgentInterface")
        if agents not in AGENT_GROUPINGS:
            raise ValueError(f"agents: expected one of {list(AGENT_GROUPINGS)}, got {agents!r}")
        self.net, self.grouping, self.strict, self.shared_spaces = net, agents, strict, shared_spaces
        self.view = "local"  # (the one view of product networks)
        self.codec = self  # decodes its own actions (batch_shape, as AgentInterface.codec has)
        self.action_type = action_type or net.action_type
        if self.action_type not in ("box", "multidiscrete"):
            raise ValueError(f"action_type: products take box or multidiscrete, got {self.action_type!r}")
        self.integer = self.action_type == "multidiscrete"
        self.scale = float(obs_scale) if obs_scale is not None else net.obs_scale
        if not (np.isfinite(self.scale) and self.scale > 0):
            raise ValueError(f"obs_scale: must be a positive finite number, got {obs_scale!r}")
        n, p = net.n_nodes, net.n_products
        self.sku = agents == "node_product"
        self.agents: tuple[str, ...] = (
            tuple(sku_agent_name(a, q) for a in net.agents for q in net.products) if self.sku else net.agents
        )
        self.n_agents = len(self.agents)
        self._keys = dict.fromkeys(self.agents)  # (dict.fromkeys is fastest from a dict)
        self._node_of = np.repeat(np.arange(n), p) if self.sku else np.arange(n)  # (A,)
        # per-product features: 4 + L, and the last price multiplier with pricing
        self.features = 4 + net.max_lead + (1 if net.any_pricing else 0)
        # node context: 3, and 2 per calendar event (countdown, active periods left)
        self.n_context = N_CONTEXT + int(net.any_cash) + 2 * len(net.event_names)  # (cash, events)
        if net.any_pricing and self.integer:
            raise ValueError(
                "action_type: price actions (a store with pricing) need box actions, got 'multidiscrete'"
            )
        # actions: per agent its (product, inbound edge) pairs, product-major within a node agent, then
        # (with pricing, at stores) a price multiplier per product (docs/products.md, action layout)
        liq_cells, liq_high = _liquidation_block(net, self.sku)  # per agent, after its orders
        highs: list[F64] = []
        lows: list[F64] = []
        pairs: list[list[tuple[int, int]]] = []
        prices: list[list[tuple[int, int]]] = []
        before: list[int] = []
        for i in range(n):
            e_in = net.agent_edges[i]
            groups = [[q] for q in range(p)] if self.sku else [list(range(p))]
            for qs in groups:
                k = len(pairs)
                pairs.append([(q, int(e)) for q in qs for e in e_in])
                order_high = net.max_order[qs][:, e_in].ravel()
                price_slots, price_low, price_high = _price_block(net, i, qs)
                prices.append(price_slots)
                before.append(len(pairs[k]) + len(liq_cells[k]))  # price entries follow liquidation's
                highs.append(np.concatenate([order_high, liq_high[k], price_high]))
                lows.append(np.concatenate([np.zeros(len(order_high) + len(liq_high[k])), price_low]))
        self.width = max(len(h) for h in highs)
        lengths = np.array([self.width if shared_spaces else len(h) for h in highs])
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        self._flat_pos = np.empty((p, net.n_edges), dtype=np.int64)  # flat action slot of (product, edge)
        for k, x in enumerate(pairs):
            for r, (q, e) in enumerate(x):
                self._flat_pos[q, e] = starts[k] + r
        self._high = [h.astype(np.float64) for h in highs]
        self._low = [lo.astype(np.float64) for lo in lows]
        flat_high = np.zeros(int(lengths.sum()))
        flat_low = np.zeros(int(lengths.sum()))
        for k, h in enumerate(self._high):
            flat_high[starts[k] : starts[k] + len(h)] = h
            flat_low[starts[k] : starts[k] + len(h)] = self._low[k]
        self._flat_high, self._flat_low = flat_high, flat_low
        self._lengths = lengths
        self._limit = np.maximum(flat_high, flat_high.astype(np.float32).astype(np.float64))
        self._low_limit = np.minimum(flat_low, flat_low.astype(np.float32).astype(np.float64))
        self._shapes = [(int(x),) for x in lengths]
        own_len = np.array([len(h) for h in highs])  # (decode_batch) each agent's own entries
        self._own_mask = np.arange(self.width)[None, :] < own_len[:, None]  # (A, width)
        self._own_starts = np.concatenate([[0], np.cumsum(own_len)[:-1]]).astype(np.int64)
        self._own_high = np.concatenate(self._high)
        self._own_low = np.concatenate(self._low)
        self._own_limit = np.maximum(self._own_high, self._own_high.astype(np.float32).astype(np.float64))
        self._own_low_limit = np.minimum(self._own_low, self._own_low.astype(np.float32).astype(np.float64))
        own_of = np.repeat(np.arange(len(pairs)), lengths)[self._flat_pos]  # (P, E) agent of each pair
        self._own_pos = self._own_starts[own_of] + (self._flat_pos - starts[own_of])
        self._price = _price_positions(before, prices, starts, self._own_starts)
        top = float(max(h.max() for h in self._high))
        # strict with shared spaces refuses only what lies outside the shared space (as AgentInterface)
        self._top_limit = max(top, float(np.float32(top)))
        self.action_spaces: dict[str, spaces.Space[Any]] = {}
        shared_act = self._space(np.zeros(self.width), np.full(self.width, top)) if shared_spaces else None
        for a, lo, h in zip(self.agents, self._low, self._high, strict=True):
            self.action_spaces[a] = shared_act if shared_act is not None else self._space(lo, h)
        self._groups = [np.flatnonzero(self._node_of == i) for i in range(n)]  # agents of each node
        self._group_slices = [
            slice(int(g[0]), int(g[-1]) + 1) if g.size else slice(0, 0) for g in self._groups
        ]
        self._liq = _liquidation_slots(self.agents, pairs, liq_cells, liq_high, self._own_starts, n)
        dim = (self.features if self.sku else p * self.features) + self.n_context
        self._roles: F32 | None = None
        if shared_spaces:
            self._roles = np.eye(len(ROLES), dtype=np.float32)[net.role_index[self._node_of]]
            dim += len(ROLES)
        shared_obs = spaces.Box(0.0, np.inf, shape=(dim,), dtype=np.float32)
        self.observation_spaces: dict[str, spaces.Space[Any]] = {
            a: shared_obs if shared_spaces else spaces.Box(0.0, np.inf, shape=(dim,), dtype=np.float32)
            for a in self.agents
        }
        state_dim = p * n * self.features + (N_CONTEXT - 1 + int(net.any_cash)) * n + 1
        state_dim += len(net.perish_pairs) * net.age_buckets if net.any_perishable_products else 0
        state_dim += 2 * len(net.event_names)
        self.state_space = spaces.Box(0.0, np.inf, shape=(state_dim,), dtype=np.float32)
        cap = net.storage_capacity
        self._inv_cap = np.where(np.isfinite(cap), 1.0 / cap, 0.0)  # (N,)
        bud = net.order_budget
        self._inv_budget = np.where(np.isfinite(bud) & (bud > 0), 1.0 / np.where(bud > 0, bud, 1.0), 0.0)
        # observe(): each node's inbound edge (-1: none) when every node has at most one and the
        # incidence is 0/1, so arrivals are a copy of the pipeline row; else None (matmul as
        # product_features does)
        inc = net.edge_to_dst  # (E, N)
        one_in = bool(np.isin(inc, (0.0, 1.0)).all() and (inc.sum(axis=0) <= 1).all())
        self._in_edge: tuple[int, ...] | None = (
            tuple(int(np.flatnonzero(inc[:, j])[0]) if inc[:, j].any() else -1 for j in range(n))
            if one_in
            else None
        )
        self._in_edge_take: I64 | None = None  # (N,) edge read by each node, None: edge j is node j's
        self._no_in_edge = np.zeros(0, dtype=np.int64)  # nodes without an inbound edge
        if self._in_edge is not None:
            take = np.array([max(e, 0) for e in self._in_edge], dtype=np.int64)
            if net.n_edges != n or not np.array_equal(take, np.arange(n)):
                self._in_edge_take = take
            self._no_in_edge = np.array([j for j, e in enumerate(self._in_edge) if e < 0], dtype=np.int64)
        self._agent_list = list(self.agents)  # decode: the order actions are read in
        self._sizes = [int(x) for x in lengths]  # decode: entries of each agent's action
        self._starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)  # (A,) first entry
        self._empty_action = bool((lengths == 0).any())

    def _space(self, low: F64, high: F64) -> spaces.Space[Any]:
        if self.integer:
            return spaces.MultiDiscrete(high.astype(np.int64) + 1)
        return spaces.Box(low.astype(np.float32), high.astype(np.float32), dtype=np.float32)

    # ---- observations ------------------------------------------------------------------------
    def product_features(self, state: SimState) -> F64:
        """``(B, P, N, F)`` per-product features, scaled (module docstring)."""
        net = self.net
        e_cnt, lmax = net.n_edges, net.max_lead
        batch = state.on_hand.shape[0]
        out = np.empty((batch, net.n_products, net.n_nodes, self.features))
        out[..., 0] = state.on_hand
        out[..., 1] = state.backlog @ net.out_from_src
        out[..., 2] = state.backlog[..., :e_cnt] @ net.edge_to_dst
        requests = np.concatenate([state.last_orders, state.last_demand], axis=-1)
        out[..., 3] = requests @ net.out_from_src
        pipe = (
            state.pipeline.take(net.pipe_order[state.t % lmax], axis=-1) if state.t % lmax else state.pipeline
        )
        out[..., 4 : 4 + lmax] = (pipe.swapaxes(-1, -2) @ net.edge_to_dst).swapaxes(-1, -2)
        if self.scale != 1.0:
            out *= 1.0 / self.scale
        if net.any_pricing:  # the last price multiplier at stores with pricing (unscaled), else 0
            out[..., -1] = (state.price * net.pricing_on) @ net.customer_of_store  # type: ignore[operator]
        return out

    def context(self, state: SimState) -> F64:
        """``(B, N, C)`` node context: storage share in use, budget share used, progress; with cash
        then the cash balance / ``net.cash_scale`` (the node's initial cash, at least 1); then per
        calendar event its scaled countdown and active periods left (at the stores it affects, else 0;
        :func:`~invmgmt_marl.sim.calendar.event_features`)."""
        net = self.net
        ctx = np.empty((state.on_hand.shape[0], net.n_nodes, self.n_context))
        ctx[..., 0] = (net.volume @ state.on_hand) * self._inv_cap
        ctx[..., 1] = ((state.last_orders * net.unit_cost) @ net.edge_to_dst).sum(axis=1) * self._inv_budget
        ctx[..., 2] = state.t / net.periods
        if net.any_cash:
            ctx[..., N_CONTEXT] = state.cash / net.cash_scale  # type: ignore[operator]
        if net.any_events:
            ctx[..., N_CONTEXT + int(net.any_cash) :] = _event_context(net, state.t)
        return ctx

    def observe(self, state: SimState) -> F32:
        """``(B, A, D)`` float32 observations of every agent (a fresh array on every call).

        Writes every feature once, straight into the float32 result in agent order (no float64
        ``(B, P, N, F)`` intermediate, no transposed copy): the values are those of
        :meth:`product_features` and :meth:`context` cast to float32, bit for bit (the same float64
        operations; ``tests/env/test_env_fast_paths.py`` checks it against :meth:`observe_reference`).
        """
        net = self.net
        batch = state.on_hand.shape[0]
        p, n, f, c = net.n_products, net.n_nodes, self.features, self.n_context
        r = 0 if self._roles is None else self._roles.shape[1]
        if self.sku:
            o = np.empty((batch, n, p, f + c + r), dtype=np.float32)
            feats = o[..., :f]  # (B, N, P, F)
            o[..., f : f + c] = self.context(state)[:, :, None, :]
            if r:
                o[..., f + c :] = self._roles.reshape(n, p, r)  # type: ignore[union-attr]
        else:
            o = np.empty((batch, n, p * f + c + r), dtype=np.float32)
            feats = o[..., : p * f].reshape(batch, n, p, f, copy=False)  # (B, N, P, F) view
            o[..., p * f : p * f + c] = self.context(state)
            if r:
                o[..., p * f + c :] = self._roles
        self._write_features(state, feats)
        return o.reshape(batch, n * p, -1) if self.sku else o

    def _write_features(self, state: SimState, dst: F32) -> None:
        """Write :meth:`product_features` (transposed to ``(B, N, P, F)``) into ``dst``."""
        net = self.net
        e_cnt, lmax = net.n_edges, net.max_lead
        inv = 1.0 / self.scale
        scaled = self.scale != 1.0

        def put(k: int | slice, x: F64) -> None:  # x (B, P, N[, ...]) float64 -> dst[..., k]
            x = x.swapaxes(1, 2)
            if scaled:
                np.multiply(x, inv, out=dst[..., k])
            else:
                dst[..., k] = x

        put(0, state.on_hand)
        put(1, state.backlog @ net.out_from_src)
        put(2, state.backlog[..., :e_cnt] @ net.edge_to_dst)
        put(3, np.concatenate([state.last_orders, state.last_demand], axis=-1) @ net.out_from_src)
        k = state.t % lmax  # the ring slot arriving next: arrival order is slots k, k+1, ..., k-1
        if self._in_edge is None:  # the matmul of product_features, on the ring as stored
            arr = (state.pipeline.swapaxes(-1, -2) @ net.edge_to_dst).swapaxes(-1, -2)  # (B, P, N, L)
        elif self._in_edge_take is None:  # edge j is node j's inbound edge
            arr = state.pipeline
        else:  # node j reads the row of its inbound edge (nodes without one: zeroed below)
            arr = state.pipeline.take(self._in_edge_take, axis=2)
        if scaled:
            arr = arr * inv
        arr = arr.swapaxes(1, 2)  # (B, N, P, L)
        dst[..., 4 : 4 + lmax - k] = arr[..., k:]
        if k:
            dst[..., 4 + lmax - k : 4 + lmax] = arr[..., :k]
        if self._no_in_edge.size:
            dst[:, self._no_in_edge, :, 4 : 4 + lmax] = 0.0
        if net.any_pricing:  # the last price multiplier at stores with pricing (unscaled), else 0
            dst[..., -1] = ((state.price * net.pricing_on) @ net.customer_of_store).swapaxes(1, 2)  # type: ignore[operator]

    def observe_reference(self, state: SimState) -> F32:
        """:meth:`observe` the straightforward way: :meth:`product_features` and :meth:`context` in
        float64, then laid out and cast (the reference of the fast path's tests)."""
        feats, ctx = self.product_features(state), self.context(state)
        batch, p, n, f = feats.shape
        if self.sku:
            o = np.empty((batch, n, p, f + self.n_context), dtype=np.float32)
            o[..., :f] = feats.swapaxes(1, 2)
            o[..., f:] = ctx[:, :, None, :]
            o = o.reshape(batch, n * p, f + self.n_context)
        else:
            o = np.empty((batch, n, p * f + self.n_context), dtype=np.float32)
            o[..., : p * f] = feats.swapaxes(1, 2).reshape(batch, n, p * f)
            o[..., p * f :] = ctx
        if self._roles is not None:
            o = np.concatenate([o, np.broadcast_to(self._roles, (batch, *self._roles.shape))], axis=2)
        return o

    def state(self, state: SimState) -> F32:
        """``(B, S)`` float32 centralised state: every product feature ``(P * N * F)``, then the storage
        and budget shares of every node ``(2 N)``, then progress ``(1)``; with cash then every node's
        cash / ``net.cash_scale`` (``N``); with perishable products then the stock of every perishable
        (product, node) pair by age bucket, youngest first, scaled (``Q * A``, pairs in
        ``net.perish_pairs`` order); with an event calendar each event's countdown and periods left
        (``2 V``, scaled)."""
        feats, ctx = self.product_features(state), self.context(state)
        batch = feats.shape[0]
        parts = [feats.reshape(batch, -1), ctx[..., :2].reshape(batch, -1), ctx[:, :1, 2]]
        if self.net.any_cash:
            parts.append(ctx[..., N_CONTEXT])
        if self.net.any_perishable_products:
            parts.append(state.age.reshape(batch, -1) / self.scale)  # type: ignore[union-attr]
        if self.net.any_events:
            parts.append(
                np.broadcast_to(event_features(self.net, state.t).ravel(), (batch, 2 * self.n_events))
            )
        return np.concatenate(parts, axis=1).astype(np.float32)

    @property
    def n_events(self) -> int:
        return len(self.net.event_names)

    # ---- actions -----------------------------------------------------------------------------
    def decode(
        self, actions: Mapping[str, Any], agents: list[str], state: SimState | None = None
    ) -> tuple[F64, dict[str, int]]:
        """``{agent: action}`` -> ``(1, P, E)`` orders and ``{agent: entries clipped}`` (agents that
        clipped nothing may be left out)."""
        if len(actions) != len(agents) or len(agents) != self.n_agents:
            return self._decode_checked(actions, agents)
        try:
            if agents == self._agent_list and list(actions) == self._agent_list:  # the usual dict
                vals = list(actions.values())
                stacked_flat = stack_flat(vals, self._sizes)
                flat = stacked(vals, self._groups) if stacked_flat is None else stacked_flat
            else:
                flat = stacked(stack_actions(actions, self._agent_list), self._groups)
        except (KeyError, TypeError, ValueError):
            return self._decode_checked(actions, agents)
        if flat.shape != self._flat_high.shape or flat.dtype.kind not in "biuf":
            return self._decode_checked(actions, agents)
        flat = flat.astype(np.float64)
        if not np.isfinite(flat).all() or (self.integer and (flat != np.round(flat)).any()):
            return self._decode_checked(actions, agents)
        out = (flat < self._low_limit) | (flat > self._limit)
        if out.any():
            if self.strict or self.shared_spaces or self._empty_action:  # the error names the first
                return self._decode_checked(actions, agents)  # entry; padding; reduceat needs no empty run
            # clipped in one pass (a policy's Gaussian actions often leave the box: no per-agent loop)
            counts = np.add.reduceat(out, self._starts)
            hit = np.flatnonzero(counts)  # only the agents that clipped something get an entry
            names = self._agent_list
            clipped = {names[k]: c for k, c in zip(hit.tolist(), counts[hit].tolist(), strict=True)}
            q = np.clip(flat, self._flat_low, self._flat_high)
            return q.take(self._flat_pos)[None], clipped
        q = np.minimum(flat, self._flat_high)
        return q.take(self._flat_pos)[None], {}  # nothing clipped (infos read a missing agent as 0)

    def _decode_checked(self, actions: Mapping[str, Any], agents: list[str]) -> tuple[F64, dict[str, int]]:
        if len(actions) != len(agents) or any(a not in actions for a in agents):
            unknown = sorted(map(repr, set(actions) - set(agents)))[:5]
            missing = sorted(set(agents) - set(actions))[:5]
            raise InvalidActionError(
                f"actions: expected one action for each of the {len(agents)} live agents; unknown "
                f"{unknown}, missing {missing} (first 5 shown)"
            )
        flat = np.zeros_like(self._flat_high)
        starts = np.concatenate([[0], np.cumsum(self._lengths)[:-1]])
        index = {a: k for k, a in enumerate(self.agents)}
        clipped: dict[str, int] = {}
        for agent in agents:
            k = index[agent]
            action = actions[agent]
            try:
                raw = np.asarray(action) if not isinstance(action, (str, bytes)) else None
            except (TypeError, ValueError):
                raw = None
            if raw is None or raw.dtype.kind not in "biuf":
                raise InvalidActionError(f"actions[{agent!r}]: not numeric, got {quote(action)}")
            a = raw.astype(np.float64)
            if a.shape != self._shapes[k]:
                raise InvalidActionError(
                    f"actions[{agent!r}]: expected shape {self._shapes[k]}, got {a.shape} ({quote(action)})"
                )
            if not np.isfinite(a).all():
                raise InvalidActionError(f"actions[{agent!r}]: must be finite, got {quote(action)}")
            if self.integer and not np.all(a == np.round(a)):
                raise InvalidActionError(f"actions[{agent!r}]: {self.action_type} actions must be integers")
            sl = slice(starts[k], starts[k] + len(a))
            hi, lim = self._flat_high[sl], self._limit[sl]
            lo = self._flat_low[sl]
            bad = (a < self._low_limit[sl]) | (a > lim)
            if self.shared_spaces:  # padding beyond the agent's own entries is ignored
                bad &= np.arange(len(a)) < len(self._high[k])
            c = int(np.count_nonzero(bad))
            outside = bool(c) and (not self.shared_spaces or bool(np.any((a < 0) | (a > self._top_limit))))
            if outside and self.strict:  # name the first entry out of bounds (not 6,000 bounds)
                j = (
                    int(np.flatnonzero(bad)[0])
                    if c
                    else int(np.flatnonzero((a < 0) | (a > self._top_limit))[0])
                )
                raise InvalidActionError(
                    f"actions[{agent!r}][{j}]: entries must lie in [{lo[j]:g}, {hi[j]:g}], "
                    f"got {float(a[j])!r} ({c} of {len(hi)} entries out of bounds)"
                )
            flat[sl] = np.clip(a, lo, hi)
            clipped[agent] = c
        return flat.take(self._flat_pos)[None], clipped

    def _decode_liquidation(self, actions: Mapping[str, Any] | NDArray[Any]) -> dict[str, F64]:
        """The controls besides orders in ``actions`` (already checked by :meth:`decode` or
        :meth:`decode_batch`), as keywords of :func:`~invmgmt_marl.sim.dynamics.step`:
        ``{"liquidate": (B, P, N)}`` when some node declares ``liquidation`` (values clipped to
        ``[0, bound]``), else ``{}``. ``actions``: ``{agent: action}`` or a ``(B, A, width)`` array."""
        liq = self._liq
        if liq is None:
            return {}
        net = self.net
        if isinstance(actions, np.ndarray):
            own = np.asarray(actions, dtype=np.float64)[:, self._own_mask]
            out = np.zeros((own.shape[0], net.n_products * net.n_nodes))
            out[:, liq.cell] = np.clip(own[:, liq.own], 0.0, liq.high)
        else:
            out = np.zeros((1, net.n_products * net.n_nodes))
            for agent, local, cell, high in liq.per_agent:
                if agent in actions:
                    out[0, cell] = np.clip(np.asarray(actions[agent], dtype=np.float64)[local], 0.0, high)
        return {"liquidate": out.reshape(-1, net.n_products, net.n_nodes)}

    @property
    def liquidation_positions(self) -> _LiquidationSlots | None:
        """Where the liquidation entries sit in the agents' actions (``None`` without liquidation)."""
        return self._liq

    @property
    def price_positions(self) -> _PricePositions:
        """Where the price entries sit in the agents' actions (empty without pricing)."""
        return self._price

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Shape of one episode's actions in :meth:`decode_batch`: ``(A, width)``."""
        return (self.n_agents, self.width)

    def decode_batch(
        self, actions: NDArray[Any], state: SimState | None = None
    ) -> tuple[F64, NDArray[np.int64]]:
        """``(B, A, width)`` actions (each agent's own entries first, the rest ignored) -> ``(B, P, E)``
        orders and ``(B, A)`` clipped counts."""
        a = np.asarray(actions, dtype=np.float64)
        if a.ndim != 3 or a.shape[1:] != self.batch_shape:
            raise InvalidActionError(f"actions: expected shape (B, *{self.batch_shape}), got {a.shape}")
        if not np.isfinite(a).all():
            raise InvalidActionError("actions: must be finite, got NaN or inf")
        if self.integer and not np.all(a == np.round(a)):
            raise InvalidActionError(f"actions: {self.action_type} actions must be integers")
        own = a[:, self._own_mask]  # (B, entries) in agent order
        bad = ((own < self._own_low_limit) | (own > self._own_limit)).astype(np.int64)
        clipped = np.add.reduceat(bad, self._own_starts, axis=1)
        outside = clipped.any() and (not self.shared_spaces or bool(((a < 0) | (a > self._top_limit)).any()))
        if self.strict and outside:
            raise InvalidActionError(f"actions: {int(clipped.sum())} entries out of bounds with strict=True")
        return np.clip(own, self._own_low, self._own_high)[:, self._own_pos], clipped

    def decode_controls(self, actions: Mapping[str, Any] | NDArray[Any]) -> dict[str, F64]:
        """The controls besides orders in ``actions``, as keywords of :func:`~invmgmt_marl.sim.dynamics.step`:
        ``{"liquidate": (B, P, N)}`` when some node declares ``liquidation`` (values clipped to
        ``[0, bound]``) and ``{"price": (B, P, S)}`` with pricing (multipliers clipped to each store's
        bounds, 1 at stores without pricing); ``{}`` without either. ``actions`` is an
        ``{agent: action}`` mapping (``B = 1``, as :meth:`decode` takes it; call :meth:`decode` first,
        which checks it) or a ``(B, A, width)`` array (as :meth:`decode_batch` takes it)."""
        out = self._decode_liquidation(actions)
        if self.net.any_pricing:
            out["price"] = _decode_price(self, actions)
        return out

    # ---- rewards and infos -------------------------------------------------------------------
    def rewards(self, ledger: Ledger) -> F64:
        """``(B, A)`` rewards under the scenario's reward plan (scheme and alpha per node)."""
        net = self.net
        batch = ledger.nodes.shape[0]
        led = ledger if self.sku else node_totals(ledger)
        out = np.empty((batch, self.n_agents))
        for g in net.reward_plan:
            scheme = REWARD_SCHEMES.get(g.scheme)
            if not self.sku and getattr(scheme, "per_product", False):  # per product row, then summed
                own = scheme(net, ledger, dict(g.weights)).sum(axis=1)  # (B, N)
            else:
                own = scheme(net, led, dict(g.weights))  # (B, P, N) or (B, N)
            if self.sku:
                own = own.swapaxes(1, 2).reshape(batch, -1)  # (B, A) node-major
                team = own.mean(axis=1, keepdims=True)
                for i, alpha in zip(g.agents.tolist(), g.alphas.tolist(), strict=True):
                    cols = self._group_slices[i]  # the node's agents: a run (node-major order)
                    out[:, cols] = alpha * own[:, cols] + (1.0 - alpha) * team
            else:
                team = own.mean(axis=1, keepdims=True)
                out[:, g.agents] = g.alphas * own[:, g.agents] + (1.0 - g.alphas) * team
        return out

    def infos(self, ledger: Ledger | None, clipped: Mapping[str, int]) -> dict[str, dict[str, Any]]:
        """Per-agent infos. Node agents: their node's ledger totals (every node field), ``clipped``
        and ``t``. SKU agents: ``clipped`` and ``t`` only (6,000 agents x 28 fields would cost more
        than the step), and the agents that clipped nothing share one dict object (treat infos as
        read-only); their ledger rows are in ``env.last_ledger`` (``(B, K, P, N)``)."""
        t = -1 if ledger is None else ledger.t
        if self.sku:  # one shared (read-only) dict for every agent that clipped nothing: 6,000 agents
            infos = dict.fromkeys(self._keys, {"clipped": 0, "t": t})  # cost one dict, not 6,000
            for a, c in clipped.items():
                if c:
                    infos[a] = {"clipped": c, "t": t}
            return infos
        if ledger is None:
            zeros = dict.fromkeys(NODE_FIELDS, 0.0)
            return {a: {**zeros, "clipped": 0, "t": -1} for a in self.agents}
        rows = node_totals(ledger).nodes[0].T.tolist()
        return {
            a: {**dict(zip(NODE_FIELDS, row, strict=True)), "clipped": clipped.get(a, 0), "t": t}
            for a, row in zip(self.agents, rows, strict=True)
        }


# ---- liquidation block of the action (docs/products.md, "Liquidation") --------------------------
class _LiquidationSlots(NamedTuple):
    """Where liquidation quantities sit in the agents' actions."""

    cell: I64  # (X,) flat p * N + i cell of every liquidation entry
    own: I64  # (X,) its position among the agents' own entries (decode_batch layout)
    high: F64  # (X,) its bound
    per_agent: list[tuple[str, I64, I64, F64]]  # (agent, positions in its action, cells, bounds)


def _liquidation_block(net: Network, sku: bool) -> tuple[list[list[tuple[int, int]]], list[F64]]:
    """Per agent (in agent order), its liquidation entries ``(product, node)`` and their bounds
    (``net.liquidation_max``): a node agent with ``liquidation`` has one per product after its
    orders, an SKU agent one for its product; other agents none."""
    cells: list[list[tuple[int, int]]] = []
    highs: list[F64] = []
    for i in range(net.n_nodes):
        on = net.any_liquidation and bool(net.liquidation_on[i])
        groups = [[q] for q in range(net.n_products)] if sku else [list(range(net.n_products))]
        for qs in groups:
            cells.append([(q, i) for q in qs] if on else [])
            highs.append(np.array([net.liquidation_max[q, i] for q in qs]) if on else np.zeros(0))
    return cells, highs


def _liquidation_slots(
    agents: tuple[str, ...],
    pairs: list[list[tuple[int, int]]],
    cells: list[list[tuple[int, int]]],
    highs: list[F64],
    own_starts: NDArray[np.int64],
    n_nodes: int,
) -> _LiquidationSlots | None:
    """The positions of the liquidation entries (``None`` without liquidation)."""
    if not any(cells):
        return None
    cell: list[int] = []
    own: list[int] = []
    per_agent: list[tuple[str, I64, I64, F64]] = []
    for k, (agent, orders, mine) in enumerate(zip(agents, pairs, cells, strict=True)):
        if not mine:
            continue
        local = np.arange(len(orders), len(orders) + len(mine))
        flat = np.array([q * n_nodes + i for q, i in mine], dtype=np.int64)
        per_agent.append((agent, local, flat, highs[k]))
        cell.extend(flat.tolist())
        own.extend((own_starts[k] + local).tolist())
    high = np.concatenate([h for h in highs if h.size])
    return _LiquidationSlots(np.array(cell, dtype=np.int64), np.array(own, dtype=np.int64), high, per_agent)


# ---- the price block of the action layout (docs/products.md) ------------------------------------
def _price_block(net: Network, node: int, products: list[int]) -> tuple[list[tuple[int, int]], F64, F64]:
    """The price entries of an agent at ``node`` acting for ``products``: ``(product, store)`` slots and
    their bounds; none unless the node is a store with pricing."""
    stores = np.flatnonzero(net.store_nodes == node)
    if not net.any_pricing or not stores.size or not net.pricing_on[stores[0]]:
        return [], np.zeros(0), np.zeros(0)
    s = int(stores[0])
    lo, hi = net.price_bounds[:, s]
    return [(q, s) for q in products], np.full(len(products), lo), np.full(len(products), hi)


class _PricePositions(NamedTuple):
    flat: NDArray[np.int64]  # (K,) slot in the flat (padded) action vector
    own: NDArray[np.int64]  # (K,) slot among the agents' own entries (decode_batch)
    agent: NDArray[np.int64]  # (K,) the agent
    offset: NDArray[np.int64]  # (K,) index within the agent's action
    product: NDArray[np.int64]  # (K,)
    store: NDArray[np.int64]  # (K,)


def _price_positions(
    before: list[int], prices: list[list[tuple[int, int]]], starts: Any, own_starts: Any
) -> _PricePositions:
    """Positions of the price entries; ``before[k]``: agent ``k``'s entries before its prices (orders,
    then liquidation)."""
    rows = [
        (
            int(starts[k]) + before[k] + r,
            int(own_starts[k]) + before[k] + r,
            k,
            before[k] + r,
            q,
            s,
        )
        for k, slots in enumerate(prices)
        for r, (q, s) in enumerate(slots)
    ]
    cols = np.array(rows, dtype=np.int64).reshape(len(rows), 6).T
    return _PricePositions(*cols)


def _event_context(net: Network, t: int) -> F64:
    """``(N, 2 V)`` event countdowns at every node: the stores an event affects see it, others 0."""
    out = np.zeros((net.n_nodes, 2 * len(net.event_names)))
    feats = event_features(net, t)  # (V, 2)
    out[net.store_nodes] = (net.event_stores.T[:, :, None] * feats[None]).reshape(net.n_stores, -1)
    return out


def _decode_price(iface: ProductInterface, actions: Mapping[str, Any] | NDArray[Any]) -> F64:
    """``(B, P, S)`` price multipliers from agent actions (1 where no agent sets them)."""
    net, pos = iface.net, iface._price
    lo, hi = net.price_bounds[0, pos.store], net.price_bounds[1, pos.store]
    if isinstance(actions, Mapping):
        names = iface.agents
        vals = np.array(
            [
                np.asarray(actions[names[k]], dtype=np.float64).reshape(-1)[r]
                for k, r in zip(pos.agent, pos.offset, strict=True)
            ]
        ).reshape(1, -1)
    else:
        a = np.asarray(actions, dtype=np.float64)
        vals = a[:, pos.agent, pos.offset]
    price = np.ones((vals.shape[0], net.n_products, net.n_stores))
    price[:, pos.product, pos.store] = np.clip(vals, lo, hi)
    return price
