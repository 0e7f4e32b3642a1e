"""Register every shipped scenario with PettingZoo's and Gymnasium's registries (on package import).

- PettingZoo: ``pettingzoo.make("parallel", "InvMgmt/Serial-v0")`` or ``pettingzoo.make("aec", ...)``;
  ``max_cycles=`` sets the episode length.
- Gymnasium (the centralised single-agent form, :mod:`invmgmt_marl.central`):
  ``gymnasium.make("InvMgmt/SerialCentral-v0")``.

Ids are ``InvMgmt/<Name>-v0`` with the scenario name in CamelCase (``net_2x3`` -> ``Net2x3``); see
:func:`env_ids`.
"""

from __future__ import annotations

import gymnasium
import pettingzoo

from invmgmt_marl.scenario import list_scenarios

__all__ = ["camel", "env_ids", "register_envs"]

NAMESPACE = "InvMgmt"


def camel(name: str) -> str:
    """``net_2x3`` -> ``Net2x3``."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def env_ids() -> dict[str, tuple[str, str]]:
    """``{scenario: (pettingzoo id, gymnasium id)}`` for every shipped scenario."""
    return {s: (f"{NAMESPACE}/{camel(s)}-v0", f"{NAMESPACE}/{camel(s)}Central-v0") for s in list_scenarios()}


def register_envs() -> None:
    """Register every shipped scenario once (calling it again changes nothing)."""
    for scenario, (pz_id, gym_id) in env_ids().items():
        if pz_id not in pettingzoo.parallel_registry:
            pettingzoo.register(
                "parallel",
                pz_id,
                entry_point="invmgmt_marl.supply_chain_v0:parallel_env",
                kwargs={"scenario": scenario},
            )
        if pz_id not in pettingzoo.aec_registry:
            pettingzoo.register(
                "aec", pz_id, entry_point="invmgmt_marl.supply_chain_v0:env", kwargs={"scenario": scenario}
            )
        if gym_id not in gymnasium.registry:
            gymnasium.register(
                gym_id,
                entry_point="invmgmt_marl.central:CentralizedInventoryEnv",
                kwargs={"scenario": scenario},
            )
