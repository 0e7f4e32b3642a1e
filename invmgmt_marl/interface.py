"""How agents see and act: one :class:`AgentInterface` per env, built from small action codecs.

The ParallelEnv, the native SB3 VecEnv and :class:`~invmgmt_marl.policies.agent.ObservationPolicy`
all go through an :class:`AgentInterface`, so observations (view, scale, shared-space role one-hot)
and action decoding exist once.

Each agent orders on its inbound edges (scenario order). Action types (the registry
:data:`invmgmt_marl.registry.ACTION_TYPES`, one :class:`ActionCodec` subclass each):

- ``box``: ``Box(0, max_order, shape=(k,))``, continuous quantities, one per inbound edge.
- ``discrete``: ``Discrete(prod(max_order + 1))``; index ``a`` decodes in mixed radix with the first
  edge most significant (two edges with 0..4 each: ``a = 5 * q0 + q1``, as in Liu et al.).
- ``multidiscrete``: ``MultiDiscrete(max_order + 1)``, one integer quantity per edge.
- ``order_up_to``: ``Box(0, target_max, shape=(k,))``, a target inventory position per inbound edge;
  the order on each edge closes the gap between the target and the node's installation inventory
  position (on hand + in transit to it + owed to it - owed by it), at least 0 and at most the edge's
  ``max_order``. Edges are filled in scenario order and each order counts towards the position the
  next edge sees, so equal targets on every edge are base-stock with the first source preferred
  (``BaseStockPolicy``), and a higher target on a later edge is a dual-index rule. ``target_max``
  defaults to ``max_order * (lead_time + 2)`` per edge (:func:`target_max`). Decoding needs the
  simulator state (``decode(actions, agents, state)``).
- ``order_up_to_echelon``: the same with the echelon inventory position (stock at and downstream of
  the node, minus customer backlog downstream, plus what its suppliers owe it), as
  ``EchelonBaseStockPolicy``; ``target_max`` is summed over the node's echelon.

With ``shared=True`` every agent gets the same space, padded to the largest one; the padding entries
are ignored and indices beyond an agent's own range are clipped (and counted).

Finite out-of-bounds values are clipped to the agent's bounds and counted (``clipped`` in the
info), or raise with ``strict=True``. NaN, inf, non-integers for integer spaces, wrong shapes and
unknown or missing agents raise :class:`~invmgmt_marl.errors.InvalidActionError`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from invmgmt_marl.errors import CheckpointError, InvalidActionError, quote
from invmgmt_marl.observe import global_state, n_features, observe, view_dim
from invmgmt_marl.positions import echelon_inventory_position, echelon_matrix, inventory_position
from invmgmt_marl.registry import ACTION_TYPES, VIEWS
from invmgmt_marl.rewards import compute_rewards, mix, uniform_reward
from invmgmt_marl.scenario import ROLES
from invmgmt_marl.sim.ledger import NODE_FIELDS, Ledger
from invmgmt_marl.sim.network import Network
from invmgmt_marl.sim.state import SimState

__all__ = [
    "ActionCodec",
    "AgentInterface",
    "BoxCodec",
    "DiscreteCodec",
    "MultiDiscreteCodec",
    "OrderUpToCodec",
    "EchelonOrderUpToCodec",
    "target_max",
    "check_interface",
    "make_codec",
    "network_interface",
]

F64 = NDArray[np.float64]
F32 = NDArray[np.float32]


class ActionCodec:
    """One action type: builds each agent's action space once and decodes actions into orders.

    Subclasses set ``integer`` (actions must be whole numbers) and implement :meth:`_space`,
    :meth:`_shared_space`, :meth:`_fast`, :meth:`_decode_one` and :meth:`_decode_rows`.
    """

    name: ClassVar[str]
    integer: ClassVar[bool]
    #: decoding needs the simulator state (``decode(actions, agents, state)``)
    needs_state: ClassVar[bool] = False

    def __init__(self, net: Network, shared: bool = False, strict: bool = False):
        self.net = net
        self.action_type = self.name
        self.shared = shared
        self.strict = strict
        self.edges = net.agent_edges  # per agent: inbound edge indices
        self.width = max(len(e) for e in self.edges)  # padded action length (box / multidiscrete)
        self._edge_high = self._edge_bounds()  # (E,) the largest action entry of each edge
        self.high = [self._edge_high[e] for e in self.edges]  # per agent (k,)
        # bounds as the float32 Box stores them: its own high (e.g. float32(0.1) > 0.1) is in bounds
        self._limit = [np.maximum(h, h.astype(np.float32).astype(np.float64)) for h in self.high]
        self._edge_limit = np.maximum(self._edge_high, self._edge_high.astype(np.float32).astype(np.float64))
        self._prepare()
        self.spaces = {
            a: (self._shared_space() if shared else self._space(i)) for i, a in enumerate(net.agents)
        }
        self._shapes = [self.spaces[a].shape for a in net.agents]
        # with shared spaces, strict mode rejects only what lies outside the (padded) shared space;
        # entries beyond an agent's own bounds are legal samples of that space: clipped and counted
        self._shared_top = max(int(self._space_top(i)) for i in range(net.n_nodes)) if shared else None

    def _space_top(self, i: int) -> float:
        """The largest value agent ``i``'s own space admits in any entry."""
        return float(self._limit[i].max())

    def _outside_shared(self, a: F64) -> bool:
        """Whether any entry of ``a`` lies outside the shared space ``[0, top]``."""
        top = self._shared_top if self._shared_top is not None else 0.0
        return bool(((a < 0) | (a > top)).any())

    def _prepare(self) -> None:
        """Tables a subclass needs before spaces are built."""

    def _edge_bounds(self) -> F64:
        """``(E,)`` the largest value of each edge's action entry: ``max_order`` for quantities."""
        return np.asarray(self.net.max_order, dtype=np.float64)

    def _finish(self, values: F64, state: SimState | None) -> F64:
        """Decoded per-edge values ``(B, E)`` -> orders ``(B, E)``: the identity for quantities."""
        return values

    def _space(self, i: int) -> spaces.Space[Any]:
        raise NotImplementedError

    def _shared_space(self) -> spaces.Space[Any]:
        raise NotImplementedError

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Shape of one episode's actions in :meth:`decode_batch`: ``(N, width)`` or ``(N,)``."""
        return (self.net.n_nodes, self.width)

    # ---------------------------------------------------------------------------------------------
    def decode(
        self, actions: Mapping[str, Any], agents: list[str], state: SimState | None = None
    ) -> tuple[F64, dict[str, int]]:
        """Turn ``{agent: action}`` into ``(1, E)`` orders and ``{agent: entries clipped}``.
        ``state`` (batch 1) is needed by codecs with ``needs_state`` (order-up-to targets)."""
        if len(agents) == self.net.n_nodes and len(actions) == len(agents):
            try:
                vals = [actions[a] for a in agents]
            except KeyError:
                vals = None
            if vals is not None:
                q = self._fast(vals)
                if q is not None:
                    return self._finish(q, state), dict.fromkeys(agents, 0)
        q, clipped = self._decode_checked(actions, agents)
        return self._finish(q, state), clipped

    def _fast(self, vals: list[Any]) -> F64 | None:
        """The common case in a few array operations; ``None`` sends anything unusual to the checked path."""
        raise NotImplementedError

    def _decode_checked(self, actions: Mapping[str, Any], agents: list[str]) -> tuple[F64, dict[str, int]]:
        if len(actions) != len(agents) or any(a not in actions for a in agents):
            unknown = sorted(map(repr, set(actions) - set(agents)))
            missing = sorted(set(agents) - set(actions))
            raise InvalidActionError(
                f"actions: expected one action for each live agent {agents}; unknown {unknown}, "
                f"missing {missing}"
            )
        orders = np.zeros((1, self.net.n_edges))
        clipped: dict[str, int] = {}
        index = {a: i for i, a in enumerate(self.net.agents)}
        for agent in agents:
            i = index[agent]
            a = self._checked_array(agent, actions[agent])
            q, c = self._decode_one(agent, i, a)
            orders[0, self.edges[i]] = q
            clipped[agent] = c
        return orders, clipped

    def _checked_array(self, agent: str, action: Any) -> F64:
        try:
            raw = np.asarray(action) if not isinstance(action, (str, bytes)) else None
        except (TypeError, ValueError):  # ragged nested sequences
            raw = None
        if raw is None or raw.dtype.kind not in "biuf":
            raise InvalidActionError(f"actions[{agent!r}]: not numeric, got {quote(action)}")
        a = raw.astype(np.float64)
        shape = self.spaces[agent].shape
        if a.shape != shape:
            raise InvalidActionError(
                f"actions[{agent!r}]: expected shape {shape}, got {a.shape} ({quote(action)})"
            )
        if not np.all(np.isfinite(a)):
            raise InvalidActionError(f"actions[{agent!r}]: must be finite, got {quote(action)}")
        if self.integer and not np.all(a == np.round(a)):
            raise InvalidActionError(
                f"actions[{agent!r}]: {self.name} actions must be integers, got {quote(action)}"
            )
        return a

    def _decode_one(self, agent: str, i: int, a: F64) -> tuple[F64, int]:
        """One agent's checked action array -> ``(k,)`` quantities and the number of entries clipped."""
        raise NotImplementedError

    def decode_batch(
        self, actions: NDArray[Any], state: SimState | None = None
    ) -> tuple[F64, NDArray[np.int64]]:
        """Batched decode without per-agent validation messages: ``(B, *batch_shape)`` ->
        ``((B, E)`` orders, ``(B, N)`` clipped counts). Non-finite values raise. ``state`` (batch
        ``B``) is needed by codecs with ``needs_state``."""
        a = np.asarray(actions, dtype=np.float64)
        expected = self.batch_shape
        if a.ndim != len(expected) + 1 or a.shape[1:] != expected:
            raise InvalidActionError(f"actions: expected shape (B, *{expected}), got {a.shape}")
        if not np.all(np.isfinite(a)):
            raise InvalidActionError("actions: must be finite, got NaN or inf")
        if self.integer and not np.all(a == np.round(a)):
            raise InvalidActionError(f"actions: {self.name} actions must be integers")
        orders = np.zeros((a.shape[0], self.net.n_edges))
        clipped = np.zeros((a.shape[0], self.net.n_nodes), dtype=np.int64)
        for i, e in enumerate(self.edges):
            orders[:, e], clipped[:, i] = self._decode_rows(i, a[:, i])
        if self.strict and (self._outside_shared(a) if self.shared else clipped.any()):
            raise InvalidActionError(f"actions: {int(clipped.sum())} entries out of bounds with strict=True")
        return self._finish(orders, state), clipped

    def _decode_rows(self, i: int, a: F64) -> tuple[F64, NDArray[np.int64]]:
        """Agent ``i``'s actions over the batch -> ``(B, k)`` quantities, ``(B,)`` clipped counts."""
        raise NotImplementedError


class _QuantityCodec(ActionCodec):
    """One quantity per inbound edge (box and multidiscrete)."""

    def _prepare(self) -> None:
        lengths = [len(e) for e in self.edges] if not self.shared else [self.width] * len(self.edges)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        self._flat_pos = np.empty(self.net.n_edges, dtype=np.int64)  # flat action position of each edge
        for i, e in enumerate(self.edges):
            self._flat_pos[e] = starts[i] + np.arange(len(e))

    def _fast(self, vals: list[Any]) -> F64 | None:
        for v, shape in zip(vals, self._shapes, strict=True):
            if getattr(v, "shape", None) != shape or v.dtype.kind not in "biuf":
                return None
        try:
            flat = np.concatenate(vals, dtype=np.float64)
        except (TypeError, ValueError):
            return None
        q = flat.take(self._flat_pos)
        if not np.isfinite(flat).all() or ((q < 0) | (q > self._edge_limit)).any():
            return None
        q = np.minimum(q, self._edge_high)
        if self.integer and (q != np.round(q)).any():
            return None
        return q[None]

    def _decode_one(self, agent: str, i: int, a: F64) -> tuple[F64, int]:
        q = a[: len(self.edges[i])]
        hi = self.high[i]
        c = int(np.count_nonzero((q < 0) | (q > self._limit[i])))
        if c and self.strict and (not self.shared or self._outside_shared(a)):
            raise InvalidActionError(
                f"actions[{agent!r}]: order quantities must be in [0, {hi.tolist()}], got {q.tolist()}"
            )
        return np.clip(q, 0.0, hi), c

    def _decode_rows(self, i: int, a: F64) -> tuple[F64, NDArray[np.int64]]:
        q = a[:, : len(self.edges[i])]
        clipped = np.count_nonzero((q < 0) | (q > self._limit[i]), axis=1)
        return np.clip(q, 0.0, self.high[i]), clipped


class BoxCodec(_QuantityCodec):
    """``Box(0, max_order, shape=(k,))``: continuous quantities, one per inbound edge."""

    name = "box"
    integer = False

    def _space(self, i: int) -> spaces.Space[Any]:
        return spaces.Box(0.0, self.high[i].astype(np.float32), dtype=np.float32)

    def _shared_space(self) -> spaces.Space[Any]:
        hi = np.full(self.width, max(float(h.max()) for h in self.high), dtype=np.float32)
        return spaces.Box(0.0, hi, dtype=np.float32)


class MultiDiscreteCodec(_QuantityCodec):
    """``MultiDiscrete(max_order + 1)``: one integer quantity per inbound edge."""

    name = "multidiscrete"
    integer = True

    def _space(self, i: int) -> spaces.Space[Any]:
        return spaces.MultiDiscrete(self.high[i].astype(np.int64) + 1)

    def _shared_space(self) -> spaces.Space[Any]:
        top = max(int(h.max()) for h in self.high)
        return spaces.MultiDiscrete(np.full(self.width, top + 1, dtype=np.int64))


def target_max(net: Network, echelon: bool = False) -> F64:
    """``(E,)`` default upper bound of an order-up-to target per edge: ``max_order * (lead_time + 2)``
    (what an order cap lets a node have on order and on hand over its lead time, plus a period of
    slack); with ``echelon``, summed over the edges into the node's echelon (itself and downstream)."""
    own = np.asarray(net.max_order * (net.lead_time + 2), dtype=np.float64)
    if not echelon:
        return own
    per_node = np.zeros(net.n_nodes)
    np.maximum.at(per_node, net.edge_dst, own)  # the node's largest inbound target bound
    total = echelon_matrix(net) @ per_node  # (N,) summed over the echelon
    return np.maximum(own, total[net.edge_dst])


class OrderUpToCodec(BoxCodec):
    """``Box(0, target_max, shape=(k,))``: a target inventory position per inbound edge; the order is
    the gap to it, in ``[0, max_order]`` (module docstring). Targets outside the box are clipped and
    counted like quantities."""

    name = "order_up_to"
    integer = False
    needs_state = True
    echelon: ClassVar[bool] = False

    def _edge_bounds(self) -> F64:
        return target_max(self.net, self.echelon)

    def _prepare(self) -> None:
        super()._prepare()
        net = self.net
        # the k-th inbound edge of every node that has one, for k = 0 .. width-1
        self._rank_nodes = [
            np.array([i for i, e in enumerate(self.edges) if len(e) > k], dtype=np.int64)
            for k in range(self.width)
        ]
        self._rank_edges = [
            np.array([self.edges[i][k] for i in nodes], dtype=np.int64)
            for k, nodes in enumerate(self._rank_nodes)
        ]
        self._echelon = echelon_matrix(net) if self.echelon else None

    def position(self, state: SimState) -> F64:
        """``(B, N)`` the inventory position the targets are compared with."""
        if self._echelon is not None:
            return echelon_inventory_position(self.net, state, self._echelon)
        return inventory_position(self.net, state)

    def _finish(self, values: F64, state: SimState | None) -> F64:
        if state is None:
            raise InvalidActionError(
                f"actions: {self.name} targets need the simulator state to decode: "
                "decode(actions, agents, state) / decode_batch(actions, state)"
            )
        pos = self.position(state).copy()
        if pos.shape[0] != values.shape[0]:
            raise InvalidActionError(
                f"actions: {values.shape[0]} rows of targets for a state of batch {pos.shape[0]}"
            )
        orders = np.zeros_like(values)
        for nodes, edges in zip(self._rank_nodes, self._rank_edges, strict=True):
            q = np.clip(values[:, edges] - pos[:, nodes], 0.0, self.net.max_order[edges])
            orders[:, edges] = q
            pos[:, nodes] += q  # the next edge of the node sees this order in its position
        return orders


class EchelonOrderUpToCodec(OrderUpToCodec):
    """:class:`OrderUpToCodec` on the echelon inventory position (``EchelonBaseStockPolicy``'s)."""

    name = "order_up_to_echelon"
    echelon = True


class DiscreteCodec(ActionCodec):
    """``Discrete(prod(max_order + 1))``: one index, mixed radix over edges, first most significant."""

    name = "discrete"
    integer = True

    def _prepare(self) -> None:
        self.sizes = [int(np.prod(h.astype(np.int64) + 1)) for h in self.high]
        self.tables = [self._radix_table(h.astype(np.int64)) for h in self.high]
        offsets = np.concatenate([[0], np.cumsum(self.sizes)[:-1]]).astype(np.int64)
        big = np.zeros((int(sum(self.sizes)), self.net.n_edges))
        for i, e in enumerate(self.edges):
            big[offsets[i] : offsets[i] + self.sizes[i], e] = self.tables[i]
        self._offsets, self._big_table = offsets, big
        self._sizes_arr = np.asarray(self.sizes, dtype=np.int64)

    @staticmethod
    def _radix_table(high: NDArray[np.int64]) -> F64:
        """``(prod(high+1), k)`` quantities of every discrete index, first edge most significant."""
        grids = np.meshgrid(*[np.arange(h + 1) for h in high], indexing="ij")
        return np.stack([g.ravel() for g in grids], axis=1).astype(np.float64)

    def _space(self, i: int) -> spaces.Space[Any]:
        return spaces.Discrete(self.sizes[i])

    def _space_top(self, i: int) -> float:
        return float(self.sizes[i] - 1)

    def _shared_space(self) -> spaces.Space[Any]:
        return spaces.Discrete(max(self.sizes))

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return (self.net.n_nodes,)

    def _fast(self, vals: list[Any]) -> F64 | None:
        try:
            raw = np.array(vals)
        except (TypeError, ValueError):
            return None
        if raw.dtype.kind not in "biuf":
            return None
        idx = raw.astype(np.float64)
        if idx.shape != (len(vals),) or not np.isfinite(idx).all() or (idx != np.round(idx)).any():
            return None
        k = idx.astype(np.int64)
        if ((k < 0) | (k >= self._sizes_arr)).any():
            return None
        return self._big_table.take(self._offsets + k, axis=0).sum(axis=0, keepdims=True)

    def _decode_one(self, agent: str, i: int, a: F64) -> tuple[F64, int]:
        n = self.sizes[i]
        idx = int(a)
        c = int(idx < 0 or idx >= n)
        if c and self.strict and (not self.shared or self._outside_shared(a)):
            raise InvalidActionError(f"actions[{agent!r}]: index must be in 0..{n - 1}, got {idx}")
        return self.tables[i][min(max(idx, 0), n - 1)], c

    def _decode_rows(self, i: int, a: F64) -> tuple[F64, NDArray[np.int64]]:
        idx = a.astype(np.int64)
        n = self.sizes[i]
        clipped = ((idx < 0) | (idx >= n)).astype(np.int64)
        return self.tables[i][np.clip(idx, 0, n - 1)], clipped


def make_codec(net: Network, action_type: str, shared: bool = False, strict: bool = False) -> ActionCodec:
    """The codec registered as ``action_type`` in :data:`invmgmt_marl.registry.ACTION_TYPES`."""
    cls: type[ActionCodec] = ACTION_TYPES.get(action_type)
    return cls(net, shared=shared, strict=strict)


class AgentInterface:
    """Everything about how agents see and act on one network, built once.

    Args:
        net: the compiled network.
        action_type: a name in :data:`~invmgmt_marl.registry.ACTION_TYPES`; default ``net.action_type``.
        view: a name in :data:`~invmgmt_marl.registry.VIEWS`; default ``net.view``.
        obs_scale: observation scale; default ``net.obs_scale``.
        shared_spaces: identical spaces for every agent (observations followed by a role one-hot,
            actions padded to the most inbound edges), what a shared policy needs.
        strict: raise on out-of-bounds actions instead of clipping them.

    Attributes:
        observation_spaces, action_spaces: ``{agent: space}``, the same objects on every call.
        state_space: the centralised state's space, ``Box(0, inf, (N * F,))``.
        codec: the :class:`ActionCodec` of the action type.
    """

    def __init__(
        self,
        net: Network,
        *,
        action_type: str | None = None,
        view: str | None = None,
        obs_scale: float | None = None,
        shared_spaces: bool = False,
        strict: bool = False,
    ) -> None:
        self.net = net
        self.view = view if view is not None else net.view
        if self.view not in VIEWS:
            raise ValueError(f"view: unknown observation view {self.view!r}; known: {list(VIEWS)}")
        self.scale = float(obs_scale) if obs_scale is not None else net.obs_scale
        if not (np.isfinite(self.scale) and self.scale > 0):
            raise ValueError(f"obs_scale: must be a positive finite number, got {obs_scale!r}")
        self.shared_spaces = shared_spaces
        self.codec = make_codec(net, action_type or net.action_type, shared=shared_spaces, strict=strict)
        self.action_type = self.codec.name
        self.action_spaces = self.codec.spaces
        dim = view_dim(net, self.view)
        self._roles: F32 | None = None
        if shared_spaces:
            self._roles = np.eye(len(ROLES), dtype=np.float32)[net.role_index]  # (N, n_roles)
            dim += len(ROLES)
        shared_obs = spaces.Box(0.0, np.inf, shape=(dim,), dtype=np.float32)
        self.observation_spaces = {
            a: shared_obs if shared_spaces else spaces.Box(0.0, np.inf, shape=(dim,), dtype=np.float32)
            for a in net.agents
        }
        self.state_space = spaces.Box(0.0, np.inf, shape=(net.n_nodes * n_features(net),), dtype=np.float32)

    def observe(self, state: SimState) -> F32:
        """``(B, N, D)`` float32 observations of every agent (with the role one-hot when shared)."""
        o = observe(self.net, state, self.view, self.scale).astype(np.float32)
        if self._roles is not None:
            o = np.concatenate([o, np.broadcast_to(self._roles, (o.shape[0], *self._roles.shape))], axis=2)
        return o

    @property
    def agents(self) -> tuple[str, ...]:
        """Agent names: the order of every per-agent axis (one agent per node)."""
        return self.net.agents

    def rewards(self, ledger: Ledger) -> F64:
        """``(B, N)`` rewards under the network's reward plan (``rewards.compute_rewards``)."""
        fast = self._uniform_reward
        if fast is not None:  # one scheme and one own/team mix for everyone: resolved once
            scheme, weights, alpha = fast
            return mix(scheme(self.net, ledger, weights), alpha)
        return compute_rewards(self.net, ledger)

    @functools.cached_property
    def _uniform_reward(self) -> tuple[Any, dict[str, float], float] | None:
        return uniform_reward(self.net)

    def infos(self, ledger: Ledger | None, clipped: Mapping[str, int]) -> dict[str, dict[str, Any]]:
        """Per-agent infos: every node field of the ledger (zeros before the first step, ``ledger``
        ``None``), the entries clipped and the period ``t`` (-1 at reset)."""
        if ledger is None:
            zeros = dict.fromkeys(NODE_FIELDS, 0.0)
            return {a: {**zeros, "clipped": 0, "t": -1} for a in self.net.agents}
        rows = ledger.nodes[0].T.tolist()  # (N, K)
        infos = {}
        for agent, row in zip(self.net.agents, rows, strict=True):
            info = dict(zip(NODE_FIELDS, row, strict=True))
            info["clipped"] = clipped[agent]
            info["t"] = ledger.t
            infos[agent] = info
        return infos

    def state(self, state: SimState) -> F32:
        """``(B, N * F)`` float32 centralised state."""
        return global_state(self.net, state, self.scale).astype(np.float32)

    def decode(
        self, actions: Mapping[str, Any], agents: list[str], state: SimState | None = None
    ) -> tuple[F64, dict[str, int]]:
        """``{agent: action}`` -> ``(1, E)`` orders and ``{agent: entries clipped}`` (``state``: the
        current simulator state, needed by order-up-to actions)."""
        return self.codec.decode(actions, agents, state)

    def decode_batch(
        self, actions: NDArray[Any], state: SimState | None = None
    ) -> tuple[F64, NDArray[np.int64]]:
        """``(B, *codec.batch_shape)`` actions -> ``(B, E)`` orders and ``(B, N)`` clipped counts."""
        return self.codec.decode_batch(actions, state)


# ---- the network a trained policy expects (checkpoint signatures) -----------------------------
def network_interface(net: Any) -> dict[str, Any]:
    """Agents, roles, supply edges (``[source, target]`` names) and per-edge order bounds of a network:
    what fixes the meaning of every action and observation slot."""
    names = [*net.agents, "external"]
    return {
        "agents": list(net.agents),
        "roles": list(net.roles),
        "edges": [[names[int(s)], names[int(d)]] for s, d in zip(net.edge_src, net.edge_dst, strict=True)],
        "max_order": [float(x) for x in net.max_order],
    }


def _mismatch(key: str, saved: Any, actual: Any) -> str:
    if isinstance(saved, Mapping) and isinstance(actual, Mapping):
        for k in sorted(set(saved) | set(actual)):
            if saved.get(k) != actual.get(k):
                return f"{key}[{k}]: trained with {quote(saved.get(k))}, here {quote(actual.get(k))}"
    if isinstance(saved, list) and isinstance(actual, list):
        if len(saved) != len(actual):
            return f"{key}: trained with {len(saved)} ({quote(saved)}), here {len(actual)} ({quote(actual)})"
        for k, (a, b) in enumerate(zip(saved, actual, strict=True)):
            if a != b:
                return f"{key}[{k}]: trained with {quote(a)}, here {quote(b)}"
    return f"{key}: trained with {quote(saved)}, here {quote(actual)}"


def check_interface(expected: Mapping[str, Any], net: Any, what: str = "policy") -> None:
    """Refuse to run a policy built for ``expected`` (a :func:`network_interface`) on another network.

    Raises:
        CheckpointError: naming the first differing field (agents, roles, edges, max_order).
    """
    actual = network_interface(net)
    for key in ("agents", "roles", "edges", "max_order"):
        if key in expected and list(expected[key]) != actual[key]:
            raise CheckpointError(
                f"{what}: built for another network (scenario {quote(net.name)} here): "
                f"{_mismatch(key, list(expected[key]), actual[key])}"
            )


# --------------------------------------------------------------------------------------------------
# Stable-Baselines3: load a PPO zip without unpickling anything
_SB3_MAX_DATA = 16 << 20  # the zip's "data" JSON entry
