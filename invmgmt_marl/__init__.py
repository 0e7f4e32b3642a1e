"""invmgmt-marl: multi-echelon inventory management as a multi-agent RL benchmark.

import invmgmt_marl
env = invmgmt_marl.parallel_env("serial")
obs, infos = env.reset(seed=0)
"""

from invmgmt_marl.compile import compile_network
from invmgmt_marl.env import InventoryParallelEnv
from invmgmt_marl.errors import InvalidActionError, ScenarioError
from invmgmt_marl.evaluate import Evaluation, evaluate
from invmgmt_marl.registration import register_envs
from invmgmt_marl.scenario import list_scenarios, load_scenario
from invmgmt_marl.supply_chain_v0 import env, parallel_env, raw_env

__version__ = "0.1.0"

register_envs()  # InvMgmt/<Scenario>-v0 in PettingZoo's registry, InvMgmt/<Scenario>Central-v0 in Gymnasium's

__all__ = [
    "Evaluation",
    "InvalidActionError",
    "InventoryParallelEnv",
    "ScenarioError",
    "__version__",
    "compile_network",
    "env",
    "evaluate",
    "list_scenarios",
    "load_scenario",
    "parallel_env",
    "raw_env",
]
