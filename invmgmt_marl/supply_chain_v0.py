"""Multi-echelon inventory management, version 0, in the PettingZoo idiom.

| Import             | ``from invmgmt_marl import supply_chain_v0``                             |
|--------------------|--------------------------------------------------------------------------|
| Actions            | Box (default), Discrete or MultiDiscrete order quantities per inbound edge |
| Parallel API       | Yes (native)                                                             |
| Agents             | one per node: ``store_k``, ``warehouse_k``, ``supplier_k``               |
| Observation shape  | ``5 + L`` (local), more for ``neighbours`` / ``global`` views            |
| Observation values | ``[0, inf)`` scaled quantities, last entry the progress ``t / periods``   |
| State              | every node's local features, flattened                                   |

``parallel_env(scenario="serial", **kw)`` is the native form, ``env(**kw)`` the AEC form (order
enforced) and ``raw_env(**kw)`` the AEC form without wrappers. See ``docs/env.md``.

Version History
---------------
* v0 (0.1.0): initial release: the ParallelEnv and AEC forms over the batched simulator, box /
  discrete / multidiscrete actions, local / neighbours / global views, cost / profit /
  reconciliation rewards with own/team mixing, shared spaces with a role one-hot.
  Unreleased changes that keep v0: observations, actions and rewards are built by one
  :class:`~invmgmt_marl.interface.AgentInterface`; identical numbers.
"""

from __future__ import annotations

from typing import Any

from pettingzoo.utils.conversions import parallel_to_aec, parallel_to_aec_wrapper

from invmgmt_marl.env import InventoryParallelEnv

__all__ = ["env", "parallel_env", "raw_env"]


def parallel_env(scenario: Any = "serial", **kwargs: Any) -> InventoryParallelEnv:
    """The native ParallelEnv. See :class:`~invmgmt_marl.env.InventoryParallelEnv` for arguments."""
    return InventoryParallelEnv(scenario, **kwargs)


def raw_env(scenario: Any = "serial", **kwargs: Any) -> parallel_to_aec_wrapper:
    """The AEC form without wrappers."""
    return parallel_to_aec_wrapper(InventoryParallelEnv(scenario, **kwargs))


def env(scenario: Any = "serial", **kwargs: Any) -> Any:
    """The AEC form, with PettingZoo's order enforcing wrapper."""
    return parallel_to_aec(InventoryParallelEnv(scenario, **kwargs))
