"""Action spaces and the translation from agents' actions to edge order quantities.

Each agent orders on its inbound edges (scenario order). Action types:

- ``box``: ``Box(0, max_order, shape=(k,))``, continuous quantities, one per inbound edge.
- ``discrete``: ``Discrete(prod(max_order + 1))``; index ``a`` decodes in mixed radix with the first
  edge most significant (two edges with 0..4 each: ``a = 5 * q0 + q1``, as in Liu et al.).
- ``multidiscrete``: ``MultiDiscrete(max_order + 1)``, one integer quantity per edge.

With ``shared=True`` every agent gets the same space, padded to the largest one; the padding entries
are ignored and indices beyond an agent's own range are clipped (and counted).

Finite out-of-bounds values are clipped to the agent's bounds and counted (``clipped`` in the
info), or raise with ``strict=True``. NaN, inf, non-integers for integer spaces, wrong shapes and
unknown or missing agents raise :class:`~invmgmt_marl.errors.InvalidActionError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from invmgmt_marl.errors import InvalidActionError
from invmgmt_marl.sim.network import Network

__all__ = ["ActionCodec"]

F64 = NDArray[np.float64]


class ActionCodec:
    """Builds each agent's action space once and decodes actions into ``(B, E)`` orders."""

    def __init__(self, net: Network, action_type: str = "box", shared: bool = False, strict: bool = False):
        self.net = net
        self.action_type = action_type
        self.shared = shared
        self.strict = strict
        self.edges = net.agent_edges  # per agent: inbound edge indices
        self.width = max(len(e) for e in self.edges)  # padded action length (box / multidiscrete)
        self.high = [net.max_order[e] for e in self.edges]  # per agent (k,)
        # bounds as the float32 Box stores them: its own high (e.g. float32(0.1) > 0.1) is in bounds
        self._limit = [np.maximum(h, h.astype(np.float32).astype(np.float64)) for h in self.high]
        self._edge_limit = np.maximum(net.max_order, net.max_order.astype(np.float32).astype(np.float64))
        if action_type == "discrete":
            sizes = [int(np.prod(h.astype(np.int64) + 1)) for h in self.high]
            self.tables = [self._radix_table(h.astype(np.int64)) for h in self.high]
            self.sizes = sizes
        self.spaces = {a: self._space(i) for i, a in enumerate(net.agents)}
        self._shapes = [self.spaces[a].shape for a in net.agents]
        # fast path: concatenated per-agent actions -> edge orders
        lengths = [int(np.prod(s)) if s else 1 for s in self._shapes]
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        self._flat_pos = np.empty(net.n_edges, dtype=np.int64)  # flat action position of each edge
        for i, e in enumerate(self.edges):
            self._flat_pos[e] = starts[i] + np.arange(len(e))
        self._edge_agent = net.edge_dst  # agent owning each edge's order
        if action_type == "discrete":
            offsets = np.concatenate([[0], np.cumsum(self.sizes)[:-1]]).astype(np.int64)
            big = np.zeros((int(sum(self.sizes)), net.n_edges))
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
        t = self.action_type
        if self.shared:
            if t == "box":
                hi = np.full(self.width, max(float(h.max()) for h in self.high), dtype=np.float32)
                return spaces.Box(0.0, hi, dtype=np.float32)
            if t == "discrete":
                return spaces.Discrete(max(self.sizes))
            top = max(int(h.max()) for h in self.high)
            return spaces.MultiDiscrete(np.full(self.width, top + 1, dtype=np.int64))
        h = self.high[i]
        if t == "box":
            return spaces.Box(0.0, h.astype(np.float32), dtype=np.float32)
        if t == "discrete":
            return spaces.Discrete(self.sizes[i])
        return spaces.MultiDiscrete(h.astype(np.int64) + 1)

    # ---------------------------------------------------------------------------------------------
    def decode(self, actions: Mapping[str, Any], agents: list[str]) -> tuple[F64, dict[str, int]]:
        """Turn ``{agent: action}`` into ``(1, E)`` orders and ``{agent: entries clipped}``."""
        fast = self._decode_fast(actions, agents)
        if fast is not None:
            return fast
        return self._decode_checked(actions, agents)

    def _decode_fast(
        self, actions: Mapping[str, Any], agents: list[str]
    ) -> tuple[F64, dict[str, int]] | None:
        """The common case in a few array operations; ``None`` sends anything unusual to the checked path."""
        if len(agents) != self.net.n_nodes or len(actions) != len(agents):
            return None
        try:
            vals = [actions[a] for a in agents]
        except KeyError:
            return None
        if self.action_type == "discrete":
            try:
                idx = np.array(vals, dtype=np.float64)
            except (TypeError, ValueError):
                return None
            if idx.shape != (len(agents),) or not np.isfinite(idx).all() or (idx != np.round(idx)).any():
                return None
            k = idx.astype(np.int64)
            if ((k < 0) | (k >= self._sizes_arr)).any():
                return None
            return self._big_table.take(self._offsets + k, axis=0).sum(axis=0, keepdims=True), dict.fromkeys(
                agents, 0
            )
        for v, shape in zip(vals, self._shapes, strict=True):
            if getattr(v, "shape", None) != shape:
                return None
        flat = np.concatenate(vals, dtype=np.float64)
        q = flat.take(self._flat_pos)
        if not np.isfinite(flat).all() or ((q < 0) | (q > self._edge_limit)).any():
            return None
        q = np.minimum(q, self.net.max_order)
        if self.action_type != "box" and (q != np.round(q)).any():
            return None
        return q[None], dict.fromkeys(agents, 0)

    def _decode_checked(self, actions: Mapping[str, Any], agents: list[str]) -> tuple[F64, dict[str, int]]:
        if len(actions) != len(agents) or any(a not in actions for a in agents):
            unknown = sorted(set(actions) - set(agents))
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
            q, c = self._decode_one(agent, i, actions[agent])
            orders[0, self.edges[i]] = q
            clipped[agent] = c
        return orders, clipped

    def _decode_one(self, agent: str, i: int, action: Any) -> tuple[F64, int]:
        try:
            a = np.asarray(action, dtype=np.float64)
        except (TypeError, ValueError):
            raise InvalidActionError(f"actions[{agent!r}]: not numeric, got {action!r}") from None
        shape = self.spaces[agent].shape
        if a.shape != shape:
            raise InvalidActionError(
                f"actions[{agent!r}]: expected shape {shape}, got {a.shape} ({action!r})"
            )
        if not np.all(np.isfinite(a)):
            raise InvalidActionError(f"actions[{agent!r}]: must be finite, got {action!r}")
        k = len(self.edges[i])
        t = self.action_type
        if t != "box" and not np.all(a == np.round(a)):
            raise InvalidActionError(f"actions[{agent!r}]: {t} actions must be integers, got {action!r}")
        if t == "discrete":
            n = self.sizes[i]
            idx = int(a)
            c = int(idx < 0 or idx >= n)
            if c and self.strict:
                raise InvalidActionError(f"actions[{agent!r}]: index must be in 0..{n - 1}, got {idx}")
            return self.tables[i][min(max(idx, 0), n - 1)], c
        q = a[:k]
        hi = self.high[i]
        c = int(np.count_nonzero((q < 0) | (q > self._limit[i])))
        if c and self.strict:
            raise InvalidActionError(
                f"actions[{agent!r}]: order quantities must be in [0, {hi.tolist()}], got {q.tolist()}"
            )
        return np.clip(q, 0.0, hi), c

    def decode_batch(self, actions: NDArray[Any]) -> tuple[F64, NDArray[np.int64]]:
        """Batched decode without per-agent validation messages: ``(B, N, A)`` (box/multidiscrete) or
        ``(B, N)`` (discrete) -> ``((B, E)`` orders, ``(B, N)`` clipped counts). Non-finite values raise."""
        a = np.asarray(actions, dtype=np.float64)
        n = self.net.n_nodes
        expected = (n,) if self.action_type == "discrete" else (n, self.width)
        if a.ndim != len(expected) + 1 or a.shape[1:] != expected:
            raise InvalidActionError(f"actions: expected shape (B, *{expected}), got {a.shape}")
        if not np.all(np.isfinite(a)):
            raise InvalidActionError("actions: must be finite, got NaN or inf")
        if self.action_type != "box" and not np.all(a == np.round(a)):
            raise InvalidActionError(f"actions: {self.action_type} actions must be integers")
        batch = a.shape[0]
        orders = np.zeros((batch, self.net.n_edges))
        clipped = np.zeros((batch, self.net.n_nodes), dtype=np.int64)
        for i, e in enumerate(self.edges):
            if self.action_type == "discrete":
                idx = a[:, i].astype(np.int64)
                n = self.sizes[i]
                clipped[:, i] = (idx < 0) | (idx >= n)
                orders[:, e] = self.tables[i][np.clip(idx, 0, n - 1)]
            else:
                q = a[:, i, : len(e)]
                clipped[:, i] = np.count_nonzero((q < 0) | (q > self._limit[i]), axis=1)
                orders[:, e] = np.clip(q, 0.0, self.high[i])
        if self.strict and clipped.any():
            raise InvalidActionError(f"actions: {int(clipped.sum())} entries out of bounds with strict=True")
        return orders, clipped
