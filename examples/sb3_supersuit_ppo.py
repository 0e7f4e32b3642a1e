"""Stable-Baselines3 PPO on the ParallelEnv through SuperSuit, and the same with the native vector env.

SuperSuit turns the ParallelEnv into a vector env with one slot per agent; the adapter fixes its two
known defects (PPO(seed=...) and time-limit truncation). The native VecEnv runs all episodes as one
simulator batch instead and gives the same observations and rewards, only much faster.
Run:  python examples/sb3_supersuit_ppo.py
"""

import time

import torch
from stable_baselines3 import PPO

from invmgmt_marl.adapters.sb3 import NativeVecEnv
from invmgmt_marl.adapters.supersuit import make_sb3_vec_env

torch.set_num_threads(1)
demand = {"process": "poisson", "mean": 10}

for name, venv in [
    ("SuperSuit", make_sb3_vec_env("serial", num_envs=8, demand=demand)),
    ("native", NativeVecEnv("serial", num_episodes=8, demand=demand)),
]:
    model = PPO("MlpPolicy", venv, seed=0, n_steps=200, batch_size=600, verbose=0, device="cpu")
    start = time.perf_counter()
    model.learn(total_timesteps=24_000)  # agent steps: 8 episodes x 3 agents x 1000 periods
    print(f"{name:9s}: {24_000 / (time.perf_counter() - start):8,.0f} agent-steps/s while learning")

# For real training runs use the CLI, which also normalises actions and rewards and keeps a curve:
#   invmgmt-marl train --backend sb3 --iterations 50 --demand-process '{"process": "poisson", "mean": 10}'
