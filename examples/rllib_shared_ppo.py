"""Shared-policy PPO with Ray RLlib (new API stack) on the serial chain.

One policy acts for every agent: the env's shared spaces give every agent the same observation
(its local features plus a role one-hot) and the same (padded) action space, which RLlib needs for
agents mapped to one module. Run:  python examples/rllib_shared_ppo.py
"""

import os

os.environ.setdefault("RAY_AUTH_MODE", "disabled")

import ray  # noqa: E402
import torch  # noqa: E402

from invmgmt_marl.adapters.rllib import module_act_fn, ppo_config  # noqa: E402
from invmgmt_marl.env import InventoryParallelEnv  # noqa: E402
from invmgmt_marl.policies.agent import ObservationPolicy  # noqa: E402
from invmgmt_marl.train import cost_per_agent_period, evaluation_demand  # noqa: E402

torch.set_num_threads(1)  # on 2 cores, more threads made RLlib iterations several times slower
ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)  # or ray.init(address="HEAD:6379")

# PPOConfig over ParallelPettingZooEnv(parallel_env("serial", shared_spaces=True, demand=...))
config = ppo_config(
    "serial",
    policies="shared",  # or "per_role" / "per_agent"
    demand={"process": "poisson", "mean": 10},  # any parallel_env keyword goes into env_config
    train_batch_size=4000,
    num_env_runners=0,  # raise on a cluster: sampling runs in Ray actors
)
algo = config.build_algo()

# deterministic evaluation on 10 fixed demand paths, on the batched simulator
env = InventoryParallelEnv(**config.env_config)
spaces = {"shared": env.action_space("store_0")}
policy = ObservationPolicy(
    module_act_fn(algo.get_module, spaces), groups={"shared": env.possible_agents}, shared_spaces=True
)
eval_demand = evaluation_demand(env, episodes=10, seed=10_000)

for it in range(1, 11):
    result = algo.train()
    ret = result["env_runners"]["episode_return_mean"]
    print(
        f"iteration {it:2d}: training return {ret:10.1f}   "
        f"evaluation cost per agent-period {cost_per_agent_period(env, policy, eval_demand):6.2f}"
    )

path = algo.save_to_path(os.path.abspath("runs/example_rllib"))
print("checkpoint:", path)
algo.stop()
ray.shutdown()
