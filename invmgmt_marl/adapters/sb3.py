"""A native Stable-Baselines3 ``VecEnv`` over the batched simulator: one slot per (episode, agent).

Where the SuperSuit path steps ``num_envs`` ParallelEnvs one after another in Python, this runs all
episodes as one batch of the simulator: no per-episode loop. Slots are episode-major: slot
``b * N + i`` is agent ``i`` of episode ``b``. Spaces are the env's shared spaces (observation with
role one-hot, padded actions), identical for every slot, so one policy can act for all agents.

For the same seeds and actions it gives the same observations and rewards as
:func:`invmgmt_marl.adapters.supersuit.make_sb3_vec_env`: episode ``b`` draws its demand from
``numpy.random.default_rng(seed + b)``, exactly like the ``b``-th ParallelEnv copy seeded ``seed + b``.
Scenarios with products work with both agent groupings (``agents="node"`` or ``"node_product"``, the
SKU agents): slots are then (episode, agent) over the env's agents.
All episodes end together (fixed horizon); on the last period every slot reports ``done`` with
``info["TimeLimit.truncated"] = True`` and ``info["terminal_observation"]``, and the batch restarts.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces as gym_spaces
from numpy.typing import NDArray

from invmgmt_marl._io import read_json_or_none
from invmgmt_marl.adapters import require
from invmgmt_marl.adapters.checkpoint import (
    check_signature,
    network_interface,
    policy_signature,
    safe_sb3_load,
)
from invmgmt_marl.demand import sample_network_demand
from invmgmt_marl.env import InventoryParallelEnv
from invmgmt_marl.policies.agent import ObservationPolicy
from invmgmt_marl.scenario import validate_scenario
from invmgmt_marl.sim import initial_state, step
from invmgmt_marl.sim.supply import SupplyPath, sample_supply
from invmgmt_marl.validation import check_inputs

__all__ = ["NativeVecEnv", "make_native_vec_env", "load_sb3_policy"]

logger = logging.getLogger(__name__)

_vec = require("stable_baselines3.common.vec_env.base_vec_env", "sb3")


class NativeVecEnv(_vec.VecEnv):  # type: ignore[name-defined]
    """``num_envs`` episodes x ``n_agents`` slots, stepped as one simulator batch.

    Args:
        scenario: scenario name, path or :class:`~invmgmt_marl.scenario.Scenario`.
        num_episodes: episodes run side by side.
        seed: seed of the first reset (episode ``b`` uses ``seed + b``).
        normalize_actions: offer box actions as ``Box(-1, 1)`` and map them linearly to
            ``[0, max_order]`` (what Gaussian policies learn best with).
        **env_kwargs: as for :class:`~invmgmt_marl.env.InventoryParallelEnv` (``shared_spaces`` is
            always on).
    """

    def __init__(
        self,
        scenario: Any = "serial",
        num_episodes: int = 8,
        seed: int | None = None,
        normalize_actions: bool = False,
        **env_kwargs: Any,
    ):
        env_kwargs.pop("shared_spaces", None)
        self.template = InventoryParallelEnv(scenario, shared_spaces=True, **env_kwargs)
        self.net = self.template.net
        agent = self.template.possible_agents[0]
        self.num_episodes = num_episodes
        self.n_agents = len(self.template.possible_agents)  # nodes, or (node, product) SKU agents
        action_space = self.template.action_space(agent)
        self._action_high: np.ndarray | None = None
        if normalize_actions:
            if not isinstance(action_space, gym_spaces.Box):
                raise ValueError(f"normalize_actions: only for box actions, got {action_space}")
            self._action_high = action_space.high.astype(np.float64)
            action_space = gym_spaces.Box(-1.0, 1.0, shape=action_space.shape, dtype=np.float32)
        super().__init__(num_episodes * self.n_agents, self.template.observation_space(agent), action_space)
        self.interface = self.template.interface
        self._rngs = [np.random.default_rng() for _ in range(num_episodes)]
        self._pending_seed = seed  # consumed by the next reset
        self._actions: NDArray[Any] | None = None
        self._state = initial_state(self.net, num_episodes)
        self._demand = np.zeros((num_episodes, self.net.periods, self.net.n_stores))
        self._supply: SupplyPath | None = None

    # -- VecEnv API ------------------------------------------------------------------------------
    def seed(self, seed: int | None = None) -> list[int | None]:
        """Seed the next reset: episode ``b`` draws its demand from ``default_rng(seed + b)``."""
        self._pending_seed = seed
        return [None if seed is None else seed + b for b in range(self.num_episodes)]

    def reset(self) -> NDArray[np.float32]:
        if self._pending_seed is not None:
            self._rngs = [np.random.default_rng(self._pending_seed + b) for b in range(self.num_episodes)]
            self._pending_seed = None
        self._reset_options()
        self._new_episodes()
        self.reset_infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        return self._observe()

    def step_async(self, actions: NDArray[Any]) -> None:
        self._actions = np.asarray(actions)

    def step_wait(
        self,
    ) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.bool_], list[dict[str, Any]]]:
        if self._actions is None:
            raise RuntimeError("step_wait() without step_async()")
        b = self.num_episodes
        # actions in the space's dtype (float32 for Box), as SuperSuit hands them to the ParallelEnv
        acts = self._actions.astype(self.action_space.dtype).reshape((b, *self.interface.codec.batch_shape))
        if self._action_high is not None:  # [-1, 1] -> [0, high]
            acts = (np.clip(acts, -1.0, 1.0) + 1.0) * 0.5 * self._action_high
        orders, _ = self.interface.decode_batch(acts, self._state)
        t = self._state.t
        check_inputs(self.net, orders, self._demand[:, t])  # actions come from outside: no NaN orders
        shock = None if self._supply is None else self._supply.at(t)
        self._state, ledger = step(self.net, self._state, orders, self._demand[:, t], shock)
        r = self.interface.rewards(ledger)  # (B, agents): the env's own reward path
        rewards = r.reshape(-1).astype(np.float32)
        obs = self._observe()
        if self._state.t >= self.net.periods:
            dones = np.ones(self.num_envs, dtype=bool)
            infos = [{"terminal_observation": o, "TimeLimit.truncated": True} for o in obs]
            self._new_episodes()
            obs = self._observe()
        else:
            dones = np.zeros(self.num_envs, dtype=bool)
            infos = [{} for _ in range(self.num_envs)]
        return obs, rewards, dones, infos

    def close(self) -> None:
        pass

    def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
        return [getattr(self.template, attr_name) for _ in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
        raise AttributeError(
            "NativeVecEnv slots share one simulator batch: attributes cannot be set per slot"
        )

    def env_method(self, method_name: str, *args: Any, indices: Any = None, **kwargs: Any) -> list[Any]:
        raise AttributeError("NativeVecEnv has no per-slot env objects to call methods on")

    def env_is_wrapped(self, wrapper_class: Any, indices: Any = None) -> list[bool]:
        return [False for _ in self._get_indices(indices)]

    def get_images(self) -> Sequence[None]:
        return [None for _ in range(self.num_envs)]

    # -- internals -------------------------------------------------------------------------------
    def _new_episodes(self) -> None:
        periods = self.net.periods
        demand, supply = [], []
        for rng in self._rngs:  # the same draws, in the same order, as the b-th ParallelEnv's reset
            demand.append(sample_network_demand(self.net, rng, 1, periods))
            supply.append(sample_supply(self.net, rng, 1, periods))
        self._demand = np.concatenate(demand, axis=0)
        self._supply = (
            None if supply[0] is None else SupplyPath(*(np.concatenate(x) for x in zip(*supply, strict=True)))
        )
        self._state = initial_state(self.net, self.num_episodes)

    def _observe(self) -> NDArray[np.float32]:
        return self.interface.observe(self._state).reshape(self.num_envs, -1)  # (B * N, D)


def make_native_vec_env(
    scenario: Any = "serial", num_episodes: int = 8, seed: int | None = None, **kw: Any
) -> NativeVecEnv:
    """Build a :class:`NativeVecEnv` (``num_episodes * n_agents`` slots)."""
    return NativeVecEnv(scenario, num_episodes=num_episodes, seed=seed, **kw)


def load_sb3_policy(path: str | Path, trusted: bool = False, **env_kwargs: Any) -> ObservationPolicy:
    """A deterministic shared :class:`ObservationPolicy` from a saved Stable-Baselines3 PPO model.

    **Load only checkpoints you trust**: an SB3 zip is a pickle-based format. Here nothing in it is
    unpickled unless ``trusted=True``: its pickled entries are rebuilt from the env (spaces, the MLP
    policy class) and the weights are read with ``torch.load(weights_only=True)``
    (:func:`~invmgmt_marl.adapters.checkpoint.safe_sb3_load`).

    Reads the ``.json`` that ``invmgmt-marl train --backend sb3`` writes beside the ``.zip`` (scenario,
    env keywords, action normalisation, signature); keywords given here override it. The signature is
    checked *before* the zip is opened: a model trained on other agents, edges or spaces raises
    :class:`~invmgmt_marl.errors.CheckpointError` naming the mismatch.

    Args:
        path: the ``.zip``.
        trusted: let SB3 unpickle the zip as it is (for models with custom policy classes).
        **env_kwargs: env keywords overriding the metadata (e.g. ``scenario=`` to evaluate elsewhere).
    """
    sb3 = require("stable_baselines3", "sb3")
    model_path = Path(path)
    meta_path = model_path.with_suffix(".json")
    meta = read_json_or_none(meta_path, "checkpoint metadata") or {}
    ref = meta.get("scenario", "serial")
    scenario = validate_scenario(ref) if isinstance(ref, dict) else ref
    kwargs = {
        "scenario": scenario,
        **meta.get("env_kwargs", {}),
        **{k: v for k, v in env_kwargs.items() if k != "normalize_actions"},
    }
    template = InventoryParallelEnv(shared_spaces=True, **kwargs)
    signature = policy_signature(template)
    check_signature(meta.get("signature"), signature, str(model_path))  # before anything is unpickled
    agent = template.possible_agents[0]
    normalized = env_kwargs.pop("normalize_actions", None)
    if normalized is None:
        if "normalize_actions" not in meta:
            logger.warning(
                "load_sb3_policy: no %s beside the model; assuming actions were not normalised "
                "(pass normalize_actions=True if the model was trained with it)",
                meta_path.name,
            )
        normalized = bool(meta.get("normalize_actions", False))
    high = template.action_space(agent).high.astype(np.float64) if normalized else None  # type: ignore[attr-defined]
    space = template.action_space(agent)
    if normalized:
        space = gym_spaces.Box(-1.0, 1.0, shape=space.shape, dtype=np.float32)
    model = safe_sb3_load(sb3, model_path, template.observation_space(agent), space, trusted=trusted)

    def act(gid: str, obs: NDArray[np.float32]) -> NDArray[Any]:
        a = model.predict(obs, deterministic=True)[0]
        return a if high is None else (np.clip(a, -1.0, 1.0) + 1.0) * 0.5 * high

    return ObservationPolicy(
        act,
        groups={"shared": list(template.possible_agents)},
        shared_spaces=True,
        action_type=template.interface.action_type,
        view=template.interface.view,
        obs_scale=template.interface.scale,
        network=network_interface(template.net),
    )
