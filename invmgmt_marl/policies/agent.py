"""Run per-agent (learned) policies on the batched simulator.

:class:`ObservationPolicy` turns any function that maps agents' observations to actions into a
:class:`~invmgmt_marl.policies.base.Policy` over the simulator state: it builds the same
observations the ParallelEnv would give (view, scale, shared spaces with role one-hot), asks the
function for actions per group of agents (one call per policy/module, batched over episodes), and
decodes them into edge orders exactly like the env does. Trained RLlib and Stable-Baselines3
policies plug in here (see :mod:`invmgmt_marl.adapters`), so evaluation scores them on the same
fixed demand sets as the baselines.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from invmgmt_marl.actions import ActionCodec
from invmgmt_marl.observe import default_scale, observe
from invmgmt_marl.scenario import ROLES
from invmgmt_marl.sim.network import Network
from invmgmt_marl.sim.state import SimState

__all__ = ["ObservationPolicy", "ActFn"]

F64 = NDArray[np.float64]
#: ``act(group_id, observations (M, D) float32) -> actions (M, A)`` (or ``(M,)`` for Discrete)
ActFn = Callable[[str, NDArray[np.float32]], NDArray[Any]]


class ObservationPolicy:
    """A policy that acts on the env's observations.

    Args:
        act: ``act(group_id, obs) -> actions`` for the agents of one group, batched.
        groups: ``{group_id: [agent, ...]}``; agents of a group share ``act`` calls. Default: one
            group per agent, named after it.
        action_type: the env's action type (``box``, ``discrete``, ``multidiscrete``).
        view: observation view; default: the scenario's.
        shared_spaces: whether the observations carry the role one-hot and actions are padded
            (as ``parallel_env(shared_spaces=True)``).
        obs_scale: observation scale; default: the scenario's.
        interface: the :func:`~invmgmt_marl.adapters.checkpoint.network_interface` the policy was
            trained for (the checkpoint loaders set it); running on a network with other agents, roles,
            edges or order bounds then raises :class:`~invmgmt_marl.errors.CheckpointError` instead of
            leaving uncovered agents at 0 or at the clip.
    """

    def __init__(
        self,
        act: ActFn,
        groups: Mapping[str, Sequence[str]] | None = None,
        action_type: str | None = None,
        view: str | None = None,
        shared_spaces: bool = False,
        obs_scale: float | None = None,
        interface: Mapping[str, Any] | None = None,
    ) -> None:
        self.act = act
        self.groups = dict(groups) if groups is not None else None
        self.action_type = action_type
        self.view = view
        self.shared_spaces = shared_spaces
        self.obs_scale = obs_scale
        self.interface = dict(interface) if interface is not None else None
        self._codec: ActionCodec | None = None
        self._net: Network | None = None

    def _setup(self, net: Network) -> ActionCodec:
        if self._codec is None or self._net is not net:
            if self.interface is not None:
                from invmgmt_marl.adapters.checkpoint import check_interface

                check_interface(self.interface, net, "ObservationPolicy")
            action_type = self.action_type or net.scenario.actions.type
            self._codec = ActionCodec(net, action_type, shared=self.shared_spaces)
            self._net = net
            if self.groups is None:
                self.groups = {a: [a] for a in net.agents}
            unknown = sorted({a for g in self.groups.values() for a in g} - set(net.agents))
            if unknown:
                raise ValueError(f"groups: unknown agents {unknown}; agents are {list(net.agents)}")
        return self._codec

    def observations(self, net: Network, state: SimState) -> NDArray[np.float32]:
        """``(B, N, D)`` observations exactly as the env builds them."""
        view = self.view or net.scenario.observation.view
        scale = self.obs_scale if self.obs_scale is not None else default_scale(net)
        obs = observe(net, state, view, scale).astype(np.float32)
        if self.shared_spaces:
            roles = np.eye(len(ROLES), dtype=np.float32)[net.role_index]
            obs = np.concatenate([obs, np.broadcast_to(roles, (obs.shape[0], *roles.shape))], axis=2)
        return obs

    def __call__(self, net: Network, state: SimState, rng: np.random.Generator) -> F64:
        codec = self._setup(net)
        obs = self.observations(net, state)
        batch = obs.shape[0]
        index = {a: i for i, a in enumerate(net.agents)}
        if codec.action_type == "discrete":
            actions: NDArray[Any] = np.zeros((batch, net.n_nodes))
        else:
            actions = np.zeros((batch, net.n_nodes, codec.width))
        groups = self.groups if self.groups is not None else {}  # set by _setup
        for gid, agents in groups.items():
            idx = [index[a] for a in agents]
            out = np.asarray(self.act(gid, obs[:, idx].reshape(batch * len(idx), -1)), dtype=np.float64)
            if codec.action_type == "discrete":
                actions[:, idx] = out.reshape(batch, len(idx))
            else:
                width = out.reshape(batch * len(idx), -1).shape[1]
                actions[:, idx, :width] = out.reshape(batch, len(idx), width)
        orders, _ = codec.decode_batch(np.round(actions) if codec.action_type != "box" else actions)
        return orders
