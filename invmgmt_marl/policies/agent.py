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

from invmgmt_marl.interface import AgentInterface, check_interface
from invmgmt_marl.product_interface import ProductInterface, make_interface
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
        network: the :func:`~invmgmt_marl.interface.network_interface` the policy was trained for
            (the checkpoint loaders set it); running on a network with other agents, roles, edges or
            order bounds then raises :class:`~invmgmt_marl.errors.CheckpointError` instead of leaving
            uncovered agents at 0 or at the clip.
        agents: the agent grouping of a network with products, ``"node"`` or ``"node_product"`` (SKU
            agents, ``store_0__sku12``), as ``parallel_env(agents=...)``; ignored without products.
    """

    def __init__(
        self,
        act: ActFn,
        groups: Mapping[str, Sequence[str]] | None = None,
        action_type: str | None = None,
        view: str | None = None,
        shared_spaces: bool = False,
        obs_scale: float | None = None,
        network: Mapping[str, Any] | None = None,
        agents: str = "node",
    ) -> None:
        self.act = act
        self.groups = dict(groups) if groups is not None else None
        self.action_type = action_type
        self.view = view
        self.shared_spaces = shared_spaces
        self.obs_scale = obs_scale
        self.network = dict(network) if network is not None else None
        self.agents = agents
        self._interface: AgentInterface | ProductInterface | None = None

    def interface(self, net: Network) -> AgentInterface | ProductInterface:
        """The :class:`~invmgmt_marl.interface.AgentInterface` this policy sees ``net`` through."""
        if self._interface is None or self._interface.net is not net:
            if self.network is not None:
                check_interface(self.network, net, "ObservationPolicy")
            self._interface = make_interface(
                net,
                agents=self.agents if net.product_axis else "node",
                action_type=self.action_type,
                view=self.view,
                obs_scale=self.obs_scale,
                shared_spaces=self.shared_spaces,
            )
            names = self._agent_names()
            if self.groups is None:
                self.groups = {a: [a] for a in names}
            unknown = sorted({a for g in self.groups.values() for a in g} - set(names))
            if unknown:
                shown = names if len(names) <= 20 else [*names[:20], "..."]
                raise ValueError(f"groups: unknown agents {unknown[:20]}; agents are {shown}")
        return self._interface

    def _agent_names(self) -> list[str]:
        iface = self._interface
        return list(iface.agents if isinstance(iface, ProductInterface) else iface.net.agents)  # type: ignore[union-attr]

    def observations(self, net: Network, state: SimState) -> NDArray[np.float32]:
        """``(B, A, D)`` observations exactly as the env builds them (``A = N`` node agents)."""
        return self.interface(net).observe(state)

    def __call__(self, net: Network, state: SimState, rng: np.random.Generator) -> F64:
        iface = self.interface(net)
        codec = iface.codec
        obs = iface.observe(state)
        batch = obs.shape[0]
        index = {a: i for i, a in enumerate(self._agent_names())}
        actions: NDArray[Any] = np.zeros((batch, *codec.batch_shape))
        per_agent = len(codec.batch_shape) == 2  # a vector of entries per agent (else one index)
        groups = self.groups if self.groups is not None else {}  # set by interface()
        for gid, agents in groups.items():
            idx = [index[a] for a in agents]
            out = np.asarray(self.act(gid, obs[:, idx].reshape(batch * len(idx), -1)), dtype=np.float64)
            if per_agent:
                width = out.reshape(batch * len(idx), -1).shape[1]
                actions[:, idx, :width] = out.reshape(batch, len(idx), width)
            else:
                actions[:, idx] = out.reshape(batch, len(idx))
        orders, _ = iface.decode_batch(np.round(actions) if codec.integer else actions, state)
        return orders
