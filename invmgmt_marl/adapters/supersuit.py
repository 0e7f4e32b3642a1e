"""The ParallelEnv through SuperSuit's vector wrappers, as a Stable-Baselines3 VecEnv.

``pettingzoo_env_to_vec_env_v1`` makes one vector slot per agent; ``concat_vec_envs_v1`` stacks
``num_envs`` copies. Two known defects of SuperSuit 3.11 are handled here:

- ``PPO(seed=...)`` calls ``vec_env.seed()``, which SuperSuit's ``ConcatVecEnv`` lacks: the wrapper
  below keeps the seed and passes it to the next ``reset`` (copy ``i`` gets ``seed + i``).
- SuperSuit never marks time-limit ends: the wrapper sets ``info["TimeLimit.truncated"]`` so that
  Stable-Baselines3 bootstraps the value at truncation instead of treating it as terminal.

Every agent needs identical spaces: by default the env's own ``shared_spaces=True`` (padded actions,
role one-hot), which is fast; ``supersuit_padding=True`` uses SuperSuit's ``pad_observations_v0``,
``pad_action_space_v0`` and ``agent_indicator_v0`` instead (about 20x slower per step).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from invmgmt_marl.adapters import require
from invmgmt_marl.env import InventoryParallelEnv

__all__ = ["make_sb3_vec_env"]


def make_sb3_vec_env(
    scenario: Any = "serial",
    num_envs: int = 8,
    seed: int | None = None,
    supersuit_padding: bool = False,
    env: Any = None,
    **env_kwargs: Any,
) -> Any:
    """A Stable-Baselines3 VecEnv of ``num_envs`` episodes x agents slots.

    Args:
        scenario: scenario name, path or :class:`~invmgmt_marl.scenario.Scenario`.
        num_envs: episodes run side by side (slots = ``num_envs * n_agents``).
        seed: seed of the first reset (copy ``i`` is seeded ``seed + i``); ``PPO(seed=...)`` also works.
        supersuit_padding: pad with SuperSuit's wrappers instead of the env's ``shared_spaces``.
        env: a ready ParallelEnv to vectorise instead (e.g. a
            :class:`~invmgmt_marl.lotsizing.hybrid.HybridPlannerEnv` with ``shared_spaces=True``);
            ``scenario`` and ``env_kwargs`` are then ignored. Its copies are independent.
        **env_kwargs: passed to :class:`~invmgmt_marl.env.InventoryParallelEnv`.
    """
    ss = require("supersuit", "sb3")
    vec_base = require("stable_baselines3.common.vec_env", "sb3")
    if env is not None:
        pass
    elif supersuit_padding:
        env = InventoryParallelEnv(scenario, **env_kwargs)
        env = ss.agent_indicator_v0(ss.pad_action_space_v0(ss.pad_observations_v0(env)))
    else:
        env = InventoryParallelEnv(scenario, shared_spaces=True, **env_kwargs)
    venv = ss.concat_vec_envs_v1(
        ss.pettingzoo_env_to_vec_env_v1(env), num_envs, num_cpus=0, base_class="stable_baselines3"
    )

    class SeededTruncatingVecEnv(vec_base.VecEnvWrapper):  # type: ignore[name-defined]
        """Seeds through reset and marks time-limit ends as truncations."""

        def __init__(self, inner: Any) -> None:
            super().__init__(inner)
            self._next_seed: int | None = seed

        def seed(self, seed: int | None = None) -> list[int | None]:
            self._next_seed = seed
            return [None if seed is None else seed + i for i in range(num_envs)]

        def reset(self) -> Any:
            # straight to SuperSuit's ConcatVecEnv: SB3VecEnvWrapper.reset(seed) would call its missing seed()
            obs, infos = self.venv.venv.reset(seed=self._next_seed)
            self.reset_infos = self.venv.reset_infos = infos
            self._next_seed = None
            return obs

        def step_wait(self) -> Any:
            inner = self.venv.venv  # SuperSuit's ConcatVecEnv, which still separates the two flags
            obs, rewards, terms, truncs, infos = inner.step_wait()
            dones = np.logical_or(terms, truncs)
            for i, (term, trunc) in enumerate(zip(terms, truncs, strict=True)):
                if trunc and not term:
                    infos[i]["TimeLimit.truncated"] = True
            return obs, rewards, dones, infos

    return SeededTruncatingVecEnv(venv)
