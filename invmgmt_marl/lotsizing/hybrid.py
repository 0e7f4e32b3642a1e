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

:class:`HybridPolicy` runs a trained residual policy on the batched simulator (``rollout``,
``evaluate``), building the same observations and orders as the env through the same two functions,
:func:`hybrid_observations` and :func:`apply_residuals`; :meth:`HybridPlannerEnv.batch_policy` makes one
with the env's settings. Training: :func:`invmgmt_marl.lotsizing.hybrid_train.train_hybrid`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray
from pettingzoo import ParallelEnv

from invmgmt_marl.env import InventoryParallelEnv
from invmgmt_marl.errors import InvalidActionError
from invmgmt_marl.interface import AgentInterface
from invmgmt_marl.policies.base import Policy, split_over_edges
from invmgmt_marl.sim.network import Network
from invmgmt_marl.sim.state import SimState

__all__ = ["HybridPlannerEnv", "HybridPolicy", "MODES", "apply_residuals", "hybrid_observations"]

F64 = NDArray[np.float64]
F32 = NDArray[np.float32]
MODES: tuple[str, ...] = ("scale", "shift", "gate")
#: ``act(observations (M, D) float32) -> actions (M, A)`` (``(M,)`` for ``"gate"``)
HybridActFn = Callable[[F32], NDArray[Any]]


def _next_lots(plan: F64) -> F64:
    """``(B,)`` the first positive lot of each row of ``plan`` ``(B, H)``, else 0."""
    pos = plan > 0
    first = pos.argmax(axis=1)
    return np.where(pos.any(axis=1), plan[np.arange(plan.shape[0]), first], 0.0)


def apply_residuals(
    net: Network,
    mode: str,
    proposal: F64,
    actions: NDArray[Any],
    last_plan: F64 | None = None,
) -> F64:
    """``(B, E)`` the orders that the agents' actions make of the planner's proposal.

    Args:
        net: the network.
        mode: ``"scale"``, ``"shift"`` or ``"gate"`` (see the module docstring).
        proposal: ``(B, E)`` the planner's orders.
        actions: ``(B, N, A)`` residuals in [-1, 1] (clipped; agent ``i`` uses its first ``n_in``
            entries) for ``"scale"`` / ``"shift"``; ``(B, N)`` choices 0 / 1 / 2 for ``"gate"``.
        last_plan: ``(B, N, H)`` the planner's lots by period (``RollingHorizonPolicy.last_plan``);
            the next positive one is what gate choice 2 orders. ``None``: choice 2 orders nothing extra.
    """
    if mode not in MODES:
        raise ValueError(f"mode: expected one of {list(MODES)}, got {mode!r}")
    prop = np.asarray(proposal, dtype=np.float64)
    act = np.asarray(actions)
    orders = prop.copy()
    batch = prop.shape[0]
    for i, e in enumerate(net.agent_edges):
        e = np.asarray(e, dtype=np.int64)
        if mode == "gate":
            choice = act[:, i].astype(np.int64)  # (B,)
            orders[np.ix_(choice == 1, e)] = 0.0
            now = (choice == 2) & (prop[:, e].sum(axis=1) <= 0)
            if now.any() and last_plan is not None:
                q = np.zeros((batch, net.n_nodes))
                q[:, i] = _next_lots(np.asarray(last_plan)[:, i])
                orders[np.ix_(now, e)] = split_over_edges(net, q)[np.ix_(now, e)]
            continue
        res = np.clip(act[:, i, : len(e)].astype(np.float64), -1.0, 1.0)  # (B, n_in)
        if mode == "scale":
            orders[:, e] = prop[:, e] * (1.0 + res)
        else:
            orders[:, e] = np.maximum(prop[:, e] + res * net.max_order[e], 0.0)
    return np.minimum(orders, net.max_order)


def hybrid_observations(net: Network, inner: F32, proposal: F64, scale: float, shared_spaces: bool) -> F32:
    """``(B, N, D')`` the hybrid observations: the inner env's ``inner`` ``(B, N, D)``, the role one-hot
    (with ``shared_spaces``), then each agent's proposals ``(B, E)`` divided by ``scale`` and padded
    to the largest number of inbound edges."""
    batch = inner.shape[0]
    max_in = max(len(e) for e in net.agent_edges)
    props = np.zeros((batch, net.n_nodes, max_in), dtype=np.float32)
    for i, e in enumerate(net.agent_edges):
        props[:, i, : len(e)] = np.asarray(proposal)[:, list(e)] / scale
    parts = [np.asarray(inner, dtype=np.float32)]
    if shared_spaces:
        roles = np.eye(3, dtype=np.float32)[net.role_index]  # (N, 3)
        parts.append(np.broadcast_to(roles, (batch, *roles.shape)))
    return np.concatenate([*parts, props], axis=2).astype(np.float32)


class HybridPolicy:
    """A trained residual policy on top of a planner, as a batched simulator policy.

    ``policy(net, state, rng) -> (B, E)``: the planner proposes, ``act`` sees the hybrid
    observations of every agent (``(B * N, D')``, agents of an episode consecutive) and its actions
    modify the proposal exactly as :class:`HybridPlannerEnv` does.

    Args:
        act: ``act(obs (B * N, D')) -> actions (B * N, A)`` (``(B * N,)`` for ``"gate"``).
        planner: the planner policy (its own instance: it keeps forecasting state).
        mode: ``"scale"``, ``"shift"`` or ``"gate"``.
        shared_spaces: whether the observations carry the role one-hot.
        view: observation view of the inner env; default: the scenario's.
        obs_scale: observation scale of the inner env; default: the scenario's.
    """

    def __init__(
        self,
        act: HybridActFn,
        planner: Policy,
        mode: str = "scale",
        shared_spaces: bool = True,
        view: str | None = None,
        obs_scale: float | None = None,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode: expected one of {list(MODES)}, got {mode!r}")
        self.act, self.planner, self.mode, self.shared_spaces = act, planner, mode, shared_spaces
        self.view, self.obs_scale = view, obs_scale
        self._interface: AgentInterface | None = None

    def _iface(self, net: Network) -> AgentInterface:
        if self._interface is None or self._interface.net is not net:
            self._interface = AgentInterface(
                net, action_type="box", view=self.view, obs_scale=self.obs_scale, shared_spaces=False
            )
        return self._interface

    def reset(self, net: Network, batch: int, rng: np.random.Generator) -> None:
        reset = getattr(self.planner, "reset", None)
        if callable(reset):
            reset(net, batch, rng)

    def __call__(self, net: Network, state: SimState, rng: np.random.Generator) -> F64:
        iface = self._iface(net)
        proposal = np.asarray(self.planner(net, state, rng), dtype=np.float64)  # (B, E)
        obs = hybrid_observations(net, iface.observe(state), proposal, iface.scale, self.shared_spaces)
        batch, n = obs.shape[:2]
        out = np.asarray(self.act(obs.reshape(batch * n, -1)))
        actions = out.reshape(batch, n) if self.mode == "gate" else out.reshape(batch, n, -1)
        return apply_residuals(net, self.mode, proposal, actions, getattr(self.planner, "last_plan", None))


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
        inner = np.stack([obs[a] for a in self.possible_agents])[None]  # (1, N, D)
        out = hybrid_observations(self.net, inner, self._proposal, self._scale, self.shared_spaces)[0]
        return dict(zip(self.possible_agents, out, strict=True))

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

    def orders_from_actions(self, actions: Mapping[str, Any]) -> F64:
        """``(E,)`` the orders the actions make of the current proposal (a missing agent follows the plan)."""
        n = self.net.n_nodes
        acts: NDArray[Any] = np.zeros((1, n)) if self.mode == "gate" else np.zeros((1, n, self._max_in))
        for i, a in enumerate(self.possible_agents):
            if a not in actions:
                continue
            e = self._edges[i]
            act = actions[a]
            if self.mode == "gate":
                choice = int(np.asarray(act).reshape(-1)[0])
                if choice not in (0, 1, 2):
                    raise InvalidActionError(f"actions[{a!r}]: expected 0, 1 or 2, got {act!r}")
                acts[0, i] = choice
                continue
            res = np.asarray(act, dtype=np.float64).reshape(-1)[: len(e)]
            if res.shape != (len(e),) or not np.all(np.isfinite(res)):
                raise InvalidActionError(f"actions[{a!r}]: expected {len(e)} finite values, got {act!r}")
            acts[0, i, : len(e)] = res
        plan = getattr(self.policy, "last_plan", None)
        return apply_residuals(self.net, self.mode, self._proposal, acts, plan)[0]

    def batch_policy(self, act: HybridActFn) -> HybridPolicy:
        """A :class:`HybridPolicy` with this env's mode, spaces, view and scale, on a copy of its planner."""
        return HybridPolicy(
            act,
            copy.deepcopy(self.policy),
            self.mode,
            self.shared_spaces,
            view=self.env.interface.view,
            obs_scale=self._scale,
        )

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
