"""Adapters to training stacks, each importing its heavy dependency lazily.

- :mod:`invmgmt_marl.adapters.sb3`: a native batched Stable-Baselines3 ``VecEnv`` (extra ``sb3``).
- :mod:`invmgmt_marl.adapters.supersuit`: the ParallelEnv through SuperSuit's vector wrappers (extra ``sb3``).
- :mod:`invmgmt_marl.adapters.rllib`: Ray RLlib env registration, PPO configs, checkpoints (extra ``rllib``).
- :mod:`invmgmt_marl.adapters.torchrl`: a native batched TorchRL ``EnvBase`` (extra ``torchrl``);
  :mod:`invmgmt_marl.adapters.torchrl_ppo`: MAPPO / IPPO on it.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["require"]


def require(module: str, extra: str) -> ModuleType:
    """Import ``module`` or raise an ImportError that names the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as err:  # pragma: no cover - depends on the installation
        raise ImportError(
            f"{module} is needed for this feature: install it with  pip install 'invmgmt-marl[{extra}]'"
            f"  (and torch==2.13.0 first on CPU-only machines). Original error: {err}"
        ) from err
