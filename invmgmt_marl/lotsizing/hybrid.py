"""RL refined by a heuristic: a PettingZoo ParallelEnv whose actions are residuals on a planner.

Every period the wrapped planner policy (by default the rolling-horizon Wagner-Whitin policy,
:class:`~invmgmt_marl.policies.rolling.RollingHorizonPolicy`) proposes an order on every edge; each
agent's action modifies its own proposal, and the result is what the inner
:class:`~invmgmt_marl.env.InventoryParallelEnv` executes. Any RL library that trains a ParallelEnv
trains this one unchanged.

=============  ====================================  ===========================================
``mode``       action space (per agent)              order on each inbound edge
=============  ====================================  ===========================================
``"scale"``    ``Box(-1, 1, (n_in,))``                ``proposal * (1 + a)``  (0 .. 2x the plan)
``"shift"``    ``Box(-1, 1, (n_in,))``                ``proposal + a * max_order``  (clipped at 0)
``"gate"``     ``Discrete(3)``                        0: the planner's order; 1: order nothing;
                                                      2: order the next planned lot now
=============  ====================================  ===========================================

A zero action (``0`` / zeros) reproduces the planner policy exactly. ``n_in`` is the agent's number
of inbound edges (padded to the largest with ``shared_spaces``). Observations are the inner env's,
followed by the agent's proposals divided by the observation scale (padded to the most inbound edges);
rewards, terminations, truncations and infos are the inner env's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray
from pettingzoo import ParallelEnv

from invmgmt_marl.env import InventoryParallelEnv
from invmgmt_marl.errors import InvalidActionError
from invmgmt_marl.policies.base import Policy, split_over_edges
from invmgmt_marl.sim.state import SimState

__all__ = ["HybridPlannerEnv", "MODES"]

F64 = NDArray[np.float64]
MODES: tuple[str, ...] = ("scale", "shift", "gate")


class HybridPlannerEnv(ParallelEnv):
    """Residual actions on top of a planner policy (see the module docstring).

    Args:
        scenario: scenario for the inner env (ignored when ``env`` is given).
        policy: the planner policy, ``policy(net, state, rng) -> (B, E)`` with an optional
            ``reset(net, batch, rng)``; default: rolling-horizon Wagner-Whitin.
        mode: ``"scale"``, ``"shift"`` or ``"gate"``.
        shared_spaces: identical action and observation spaces for every agent (the inner env's
            role one-hot is included) -- what a shared policy needs.
        env: an inner env to wrap (built with ``action_type="box"`` and ``shared_spaces=False``).
        **env_kwargs: passed to :class:`InventoryParallelEnv` (``periods``, ``reward``, ...).
    """

    metadata = {"name": "supply_chain_hybrid_v0", "render_modes": ["ansi"], "is_parallelizable": True}

    def __init__(
        self,
        scenario: Any = "serial",
        policy: Policy | None = None,
        mode: str = "scale",
        shared_spaces: bool = False,
        env: InventoryParallelEnv | None = None,
        **env_kwargs: Any,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode: expected one of {list(MODES)}, got {mode!r}")
        if env is None:
            env = InventoryParallelEnv(scenario, action_type="box", **env_kwargs)
        if env.scenario.actions.type != "box" or env.shared_spaces:
            raise ValueError(
                "env: the inner env must use action_type='box' and shared_spaces=False, got "
                f"{env.scenario.actions.type!r} / shared_spaces={env.shared_spaces}"
            )
        if policy is None:
            from invmgmt_marl.policies.rolling import RollingHorizonPolicy

            policy = RollingHorizonPolicy()
        self.env, self.policy, self.mode, self.shared_spaces = env, policy, mode, shared_spaces
        self.net = env.net
        self.render_mode = env.render_mode
        self.possible_agents = list(env.possible_agents)
        self.agents: list[str] = []
        self._edges = [np.asarray(e, dtype=np.int64) for e in self.net.agent_edges]
        self._max_in = max(len(e) for e in self._edges)
        self._scale = float(env.interface.scale)
        self._rng = np.random.default_rng()
        self._proposal = np.zeros((1, self.net.n_edges))  # (1, E)
        if shared_spaces:
            self._roles = np.eye(3, dtype=np.float32)[self.net.role_index]
        base_dim = int(env.observation_space(self.possible_agents[0]).shape[0])  # type: ignore[index]
        obs_dim = base_dim + (3 if shared_spaces else 0) + self._max_in
        obs_space = spaces.Box(0.0, np.inf, shape=(obs_dim,), dtype=np.float32)
        self.observation_spaces = {a: obs_space for a in self.possible_agents}
        self.action_spaces: dict[str, spaces.Space[Any]] = {}
        shared_act = self._action_space(self._max_in)
        for a, e in zip(self.possible_agents, self._edges, strict=True):
            self.action_spaces[a] = shared_act if shared_spaces else self._action_space(len(e))

    def _action_space(self, n_in: int) -> spaces.Space[Any]:
        if self.mode == "gate":
            return spaces.Discrete(3)
        return spaces.Box(-1.0, 1.0, shape=(n_in,), dtype=np.float32)

    def observation_space(self, agent: str) -> spaces.Space[Any]:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space[Any]:
        return self.action_spaces[agent]

    # ---------------------------------------------------------------------------------------------
    @property
    def proposal(self) -> F64:
        """``(E,)`` the planner's orders for the coming period."""
        return self._proposal[0].copy()

    def _state(self) -> SimState:
        return self.env.sim_state  # the inner env's simulator state (read only)

    def _plan(self) -> None:
        self._proposal = np.asarray(self.policy(self.net, self._state(), self._rng), dtype=np.float64)

    def _augment(self, obs: Mapping[str, NDArray[np.float32]]) -> dict[str, NDArray[np.float32]]:
        out = {}
        for i, a in enumerate(self.possible_agents):
            prop = np.zeros(self._max_in, dtype=np.float32)
            prop[: len(self._edges[i])] = self._proposal[0, self._edges[i]] / self._scale
            parts = [obs[a], self._roles[i]] if self.shared_spaces else [obs[a]]
            out[a] = np.concatenate([*parts, prop]).astype(np.float32)
        return out

    def reset(
        self, seed: int | None = None, options: Mapping[str, Any] | None = None
    ) -> tuple[dict[str, NDArray[np.float32]], dict[str, dict[str, Any]]]:
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        obs, infos = self.env.reset(seed=seed, options=options)
        reset = getattr(self.policy, "reset", None)
        if callable(reset):
            reset(self.net, 1, self._rng)
        self._plan()
        self.agents = list(self.env.agents)
        return self._augment(obs), infos

    def _next_lot(self, i: int) -> float:
        """The first positive planned lot of node ``i`` (``last_plan`` of a rolling policy), else 0."""
        plan = getattr(self.policy, "last_plan", None)
        if plan is None:
            return 0.0
        row = np.asarray(plan)[0, i]
        pos = row[row > 0]
        return float(pos[0]) if pos.size else 0.0

    def orders_from_actions(self, actions: Mapping[str, Any]) -> F64:
        """``(E,)`` the orders the actions make of the current proposal."""
        prop = self._proposal[0]
        orders = prop.copy()
        for i, a in enumerate(self.possible_agents):
            if a not in actions:
                continue
            e = self._edges[i]
            act = actions[a]
            if self.mode == "gate":
                choice = int(np.asarray(act).reshape(-1)[0])
                if choice not in (0, 1, 2):
                    raise InvalidActionError(f"actions[{a!r}]: expected 0, 1 or 2, got {act!r}")
                if choice == 1:
                    orders[e] = 0.0
                elif choice == 2 and prop[e].sum() <= 0:
                    q = np.zeros((1, self.net.n_nodes))
                    q[0, i] = self._next_lot(i)
                    orders[e] = split_over_edges(self.net, q)[0, e]
                continue
            res = np.clip(np.asarray(act, dtype=np.float64).reshape(-1)[: len(e)], -1.0, 1.0)
            if res.shape != (len(e),) or not np.all(np.isfinite(res)):
                raise InvalidActionError(f"actions[{a!r}]: expected {len(e)} finite values, got {act!r}")
            if self.mode == "scale":
                orders[e] = prop[e] * (1.0 + res)
            else:
                orders[e] = np.maximum(prop[e] + res * self.net.max_order[e], 0.0)
        return np.minimum(orders, self.net.max_order)

    def step(self, actions: Mapping[str, Any]) -> tuple[Any, Any, Any, Any, Any]:
        if not self.agents:
            raise RuntimeError("step() called after the episode ended; call reset() first")
        orders = self.orders_from_actions(actions)
        inner = {a: orders[self._edges[i]].astype(np.float32) for i, a in enumerate(self.possible_agents)}
        obs, rewards, terms, truncs, infos = self.env.step(inner)
        self.agents = list(self.env.agents)
        if self.agents:
            self._plan()
        return self._augment(obs), rewards, terms, truncs, infos

    def state(self) -> NDArray[np.float32]:
        return self.env.state()

    def render(self) -> str | None:
        return self.env.render()

    def close(self) -> None:
        self.env.close()
