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
orders used (0 without a budget), progress ``t / periods``. Observations are ``Box(0, inf)``.

Actions are ``box`` (continuous) or ``multidiscrete`` (whole units) quantities in ``[0, max_order]``;
out-of-bounds finite values are clipped and counted (``clipped`` in the infos) or, with ``strict``,
raise :class:`~invmgmt_marl.errors.InvalidActionError`, like :class:`~invmgmt_marl.interface.AgentInterface`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from invmgmt_marl.agent_dicts import stack_actions, stacked
from invmgmt_marl.errors import InvalidActionError, quote
from invmgmt_marl.interface import AgentInterface
from invmgmt_marl.registry import REWARD_SCHEMES
from invmgmt_marl.scenario import ROLES
from invmgmt_marl.sim.ledger import NODE_FIELDS, Ledger, node_totals
from invmgmt_marl.sim.network import Network
from invmgmt_marl.sim.state import SimState

__all__ = ["AGENT_GROUPINGS", "ProductInterface", "make_interface", "sku_agent_name"]

F64 = NDArray[np.float64]
F32 = NDArray[np.float32]
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
        self.features = 4 + net.max_lead
        # actions: per agent its (product, inbound edge) pairs, product-major within a node agent
        highs, pairs = [], []
        for i in range(n):
            e_in = net.agent_edges[i]
            if self.sku:
                for q in range(p):
                    pairs.append([(q, int(e)) for e in e_in])
                    highs.append(net.max_order[q, e_in])
            else:
                pairs.append([(q, int(e)) for q in range(p) for e in e_in])
                highs.append(net.max_order[:, e_in].ravel())
        self.width = max(len(x) for x in pairs)
        lengths = np.array([self.width if shared_spaces else len(x) for x in pairs])
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        self._flat_pos = np.empty((p, net.n_edges), dtype=np.int64)  # flat action slot of (product, edge)
        for k, x in enumerate(pairs):
            for r, (q, e) in enumerate(x):
                self._flat_pos[q, e] = starts[k] + r
        self._high = [h.astype(np.float64) for h in highs]
        flat_high = np.zeros(int(lengths.sum()))
        for k, h in enumerate(self._high):
            flat_high[starts[k] : starts[k] + len(h)] = h
        self._flat_high = flat_high
        self._lengths = lengths
        self._limit = np.maximum(flat_high, flat_high.astype(np.float32).astype(np.float64))
        self._shapes = [(int(x),) for x in lengths]
        own_len = np.array([len(x) for x in pairs])  # (decode_batch) each agent's own entries
        self._own_mask = np.arange(self.width)[None, :] < own_len[:, None]  # (A, width)
        self._own_starts = np.concatenate([[0], np.cumsum(own_len)[:-1]]).astype(np.int64)
        self._own_high = np.concatenate(self._high)
        self._own_limit = np.maximum(self._own_high, self._own_high.astype(np.float32).astype(np.float64))
        own_of = np.repeat(np.arange(len(pairs)), lengths)[self._flat_pos]  # (P, E) agent of each pair
        self._own_pos = self._own_starts[own_of] + (self._flat_pos - starts[own_of])
        top = float(max(h.max() for h in self._high))
        self.action_spaces: dict[str, spaces.Space[Any]] = {}
        shared_act = self._space(np.full(self.width, top)) if shared_spaces else None
        for a, h in zip(self.agents, self._high, strict=True):
            self.action_spaces[a] = shared_act if shared_act is not None else self._space(h)
        self._groups = [np.flatnonzero(self._node_of == i) for i in range(n)]  # agents of each node
        dim = (self.features if self.sku else p * self.features) + N_CONTEXT
        self._roles: F32 | None = None
        if shared_spaces:
            self._roles = np.eye(len(ROLES), dtype=np.float32)[net.role_index[self._node_of]]
            dim += len(ROLES)
        shared_obs = spaces.Box(0.0, np.inf, shape=(dim,), dtype=np.float32)
        self.observation_spaces: dict[str, spaces.Space[Any]] = {
            a: shared_obs if shared_spaces else spaces.Box(0.0, np.inf, shape=(dim,), dtype=np.float32)
            for a in self.agents
        }
        state_dim = p * n * self.features + 2 * n + 1
        self.state_space = spaces.Box(0.0, np.inf, shape=(state_dim,), dtype=np.float32)
        cap = net.storage_capacity
        self._inv_cap = np.where(np.isfinite(cap), 1.0 / cap, 0.0)  # (N,)
        bud = net.order_budget
        self._inv_budget = np.where(np.isfinite(bud) & (bud > 0), 1.0 / np.where(bud > 0, bud, 1.0), 0.0)

    def _space(self, high: F64) -> spaces.Space[Any]:
        if self.integer:
            return spaces.MultiDiscrete(high.astype(np.int64) + 1)
        return spaces.Box(0.0, high.astype(np.float32), dtype=np.float32)

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
        out[..., 4:] = (pipe.swapaxes(-1, -2) @ net.edge_to_dst).swapaxes(-1, -2)
        if self.scale != 1.0:
            out *= 1.0 / self.scale
        return out

    def context(self, state: SimState) -> F64:
        """``(B, N, 3)`` node context: storage share in use, budget share used, progress."""
        net = self.net
        ctx = np.empty((state.on_hand.shape[0], net.n_nodes, N_CONTEXT))
        ctx[..., 0] = (net.volume @ state.on_hand) * self._inv_cap
        ctx[..., 1] = ((state.last_orders * net.unit_cost) @ net.edge_to_dst).sum(axis=1) * self._inv_budget
        ctx[..., 2] = state.t / net.periods
        return ctx

    def observe(self, state: SimState) -> F32:
        """``(B, A, D)`` float32 observations of every agent."""
        feats, ctx = self.product_features(state), self.context(state)
        batch, p, n, f = feats.shape
        if self.sku:
            o = np.empty((batch, n, p, f + N_CONTEXT), dtype=np.float32)
            o[..., :f] = feats.swapaxes(1, 2)
            o[..., f:] = ctx[:, :, None, :]
            o = o.reshape(batch, n * p, f + N_CONTEXT)
        else:
            o = np.empty((batch, n, p * f + N_CONTEXT), dtype=np.float32)
            o[..., : p * f] = feats.swapaxes(1, 2).reshape(batch, n, p * f)
            o[..., p * f :] = ctx
        if self._roles is not None:
            o = np.concatenate([o, np.broadcast_to(self._roles, (batch, *self._roles.shape))], axis=2)
        return o

    def state(self, state: SimState) -> F32:
        """``(B, P * N * F + 2 N + 1)`` float32 centralised state: every product feature, then the
        storage and budget shares of every node, then progress."""
        feats, ctx = self.product_features(state), self.context(state)
        batch = feats.shape[0]
        return np.concatenate(
            [feats.reshape(batch, -1), ctx[..., :2].reshape(batch, -1), ctx[:, :1, 2]], axis=1
        ).astype(np.float32)

    # ---- actions -----------------------------------------------------------------------------
    def decode(
        self, actions: Mapping[str, Any], agents: list[str], state: SimState | None = None
    ) -> tuple[F64, dict[str, int]]:
        """``{agent: action}`` -> ``(1, P, E)`` orders and ``{agent: entries clipped}`` (agents that
        clipped nothing may be left out)."""
        if len(actions) != len(agents) or len(agents) != self.n_agents:
            return self._decode_checked(actions, agents)
        try:
            vals = stack_actions(actions, agents)
            flat = stacked(vals, self._groups)
        except (KeyError, TypeError, ValueError):
            return self._decode_checked(actions, agents)
        if flat.shape != self._flat_high.shape or flat.dtype.kind not in "biuf":
            return self._decode_checked(actions, agents)
        flat = flat.astype(np.float64)
        if not np.isfinite(flat).all() or (self.integer and (flat != np.round(flat)).any()):
            return self._decode_checked(actions, agents)
        out = (flat < 0) | (flat > self._limit)
        if out.any():
            return self._decode_checked(actions, agents)
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
            bad = (a < 0) | (a > lim)
            if self.shared_spaces:  # padding beyond the agent's own entries is ignored
                bad &= np.arange(len(a)) < len(self._high[k])
            c = int(np.count_nonzero(bad))
            if c and self.strict:
                raise InvalidActionError(
                    f"actions[{agent!r}]: order quantities must be in [0, {hi.tolist()}], got {a.tolist()}"
                )
            flat[sl] = np.clip(a, 0.0, hi)
            clipped[agent] = c
        return flat.take(self._flat_pos)[None], clipped

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
        bad = ((own < 0) | (own > self._own_limit)).astype(np.int64)
        clipped = np.add.reduceat(bad, self._own_starts, axis=1)
        if self.strict and clipped.any():
            raise InvalidActionError(f"actions: {int(clipped.sum())} entries out of bounds with strict=True")
        return np.clip(own, 0.0, self._own_high)[:, self._own_pos], clipped

    # ---- rewards and infos -------------------------------------------------------------------
    def rewards(self, ledger: Ledger) -> F64:
        """``(B, A)`` rewards under the scenario's reward plan (scheme and alpha per node)."""
        net = self.net
        batch = ledger.nodes.shape[0]
        led = ledger if self.sku else node_totals(ledger)
        out = np.empty((batch, self.n_agents))
        for g in net.reward_plan:
            own = REWARD_SCHEMES.get(g.scheme)(net, led, dict(g.weights))  # (B, P, N) or (B, N)
            if self.sku:
                own = own.swapaxes(1, 2).reshape(batch, -1)  # (B, A) node-major
                team = own.mean(axis=1, keepdims=True)
                for i, alpha in zip(g.agents, g.alphas, strict=True):
                    cols = self._groups[int(i)]
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
