"""Train the hybrid planner's residual policy: Stable-Baselines3 PPO on :class:`HybridPlannerEnv`.

One policy is shared by all agents (the env's ``shared_spaces=True``: role one-hot, padded actions),
the env is vectorised with SuperSuit (:func:`invmgmt_marl.adapters.supersuit.make_sb3_vec_env`) and
rewards are normalised (``VecNormalize``), as :func:`invmgmt_marl.train.train` does for the plain env.
After every iteration the deterministic policy is scored on fixed validation demand paths on the
batched simulator (:class:`~invmgmt_marl.lotsizing.hybrid.HybridPolicy`); the parameters with the
lowest validation cost (iteration 0 included: the freshly initialised network, whose residuals are
near zero, i.e. near the planner) are restored at the end. Score the result on separate test paths.

Needs the ``sb3`` extra (``torch``, ``stable-baselines3``, ``supersuit``).
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from invmgmt_marl.adapters import require
from invmgmt_marl.demand import sample_network_demand
from invmgmt_marl.lotsizing.hybrid import HybridPlannerEnv, HybridPolicy
from invmgmt_marl.policies.base import Policy
from invmgmt_marl.rollout import rollout

__all__ = ["HybridTrainResult", "train_hybrid", "hybrid_cost"]

logger = logging.getLogger(__name__)


@dataclass
class HybridTrainResult:
    """What :func:`train_hybrid` produced.

    Attributes:
        model: the Stable-Baselines3 PPO model (best validation parameters loaded).
        policy: the deterministic trained policy on the batched simulator.
        env: the hybrid env it was trained on (spaces, settings).
        curve: one row per iteration: ``iteration``, ``agent_steps``, ``val_cost_per_agent_period``.
        best_iteration: the iteration whose parameters were kept (0: the initial network).
        seconds: wall-clock seconds; ``cpu_seconds``: process CPU seconds (the budget's unit).
    """

    model: Any
    policy: HybridPolicy
    env: HybridPlannerEnv
    curve: list[dict[str, float]] = field(default_factory=list)
    best_iteration: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    config: dict[str, Any] = field(default_factory=dict)


def hybrid_cost(policy: Policy, env: HybridPlannerEnv, demand: NDArray[np.float64]) -> NDArray[np.float64]:
    """``(B,)`` cost per agent-period of ``policy`` on the demand paths ``(B, T, S)`` (batched simulator)."""
    net = env.net
    traj = rollout(net, policy, demand=demand, seed=0, keep="sum")
    return np.asarray(traj.cost().sum(axis=1) / (net.n_nodes * net.periods), dtype=np.float64)


def train_hybrid(
    scenario: Any = "lot_sizing",
    planner: Policy | None = None,
    mode: str = "scale",
    iterations: int = 20,
    steps_per_iteration: int = 2048,
    num_envs: int = 4,
    seed: int = 0,
    val_episodes: int = 8,
    ppo: Mapping[str, Any] | None = None,
    progress: Callable[[dict[str, float]], None] | None = None,
    **env_kwargs: Any,
) -> HybridTrainResult:
    """Train a shared PPO residual policy on top of ``planner`` and return it with its curve.

    Args:
        scenario: scenario name, path or :class:`~invmgmt_marl.scenario.Scenario`.
        planner: the planner policy (default: rolling-horizon Wagner-Whitin); copied, not modified.
        mode: ``"scale"``, ``"shift"`` or ``"gate"`` (:class:`HybridPlannerEnv`).
        iterations: PPO iterations (the budget; ``steps_per_iteration`` agent steps each).
        steps_per_iteration: agent steps collected per iteration (rounded to whole vector steps).
        num_envs: episodes run side by side.
        seed: seeds PPO and the training episodes; validation paths use ``seed + 10_000``.
        val_episodes: validation demand paths (pick the best iteration).
        ppo: extra PPO settings (``learning_rate``, ``n_epochs``, ``batch_size``, ``gamma``,
            ``policy_kwargs``, ...).
        progress: called with each curve row.
        **env_kwargs: passed to the inner :class:`~invmgmt_marl.env.InventoryParallelEnv`.

    Raises:
        ValueError: ``iterations`` < 0, ``steps_per_iteration`` or ``num_envs`` < 1.
    """
    if iterations < 0:
        raise ValueError(f"iterations: expected >= 0, got {iterations}")
    if steps_per_iteration < 1 or num_envs < 1:
        raise ValueError(
            f"steps_per_iteration / num_envs: expected >= 1, got {steps_per_iteration} / {num_envs}"
        )
    torch = require("torch", "sb3")
    sb3 = require("stable_baselines3", "sb3")
    vec = require("stable_baselines3.common.vec_env", "sb3")
    from invmgmt_marl.adapters.supersuit import make_sb3_vec_env

    torch.set_num_threads(1)
    start, cpu0 = time.perf_counter(), time.process_time()
    env = HybridPlannerEnv(
        scenario, policy=copy.deepcopy(planner), mode=mode, shared_spaces=True, **env_kwargs
    )
    val = sample_network_demand(env.net, np.random.default_rng(seed + 10_000), val_episodes, env.net.periods)
    raw = make_sb3_vec_env(env=env, num_envs=num_envs, seed=seed)
    settings: dict[str, Any] = {"learning_rate": 3e-4, "n_epochs": 10, "gamma": 0.99, **(ppo or {})}
    venv = vec.VecNormalize(vec.VecMonitor(raw), norm_obs=False, norm_reward=True, gamma=settings["gamma"])
    n_steps = max(8, steps_per_iteration // venv.num_envs)
    settings.setdefault("n_steps", n_steps)
    total = settings["n_steps"] * venv.num_envs  # samples per iteration
    # about 8 minibatches, of a size that divides the samples (else SB3 warns and drops a remainder)
    settings.setdefault("batch_size", max(d for d in range(1, max(1, total // 8) + 1) if total % d == 0))
    settings.setdefault("policy_kwargs", {"log_std_init": -1.0})
    model = sb3.PPO("MlpPolicy", venv, seed=seed, verbose=0, device="cpu", **settings)

    def act(obs: NDArray[np.float32]) -> NDArray[Any]:
        return np.asarray(model.predict(obs, deterministic=True)[0])

    policy = env.batch_policy(act)
    result = HybridTrainResult(
        model,
        policy,
        env,
        config={"mode": mode, "num_envs": num_envs, "seed": seed, "ppo": settings, "env": env_kwargs},
    )

    def record(it: int) -> float:
        cost = float(hybrid_cost(policy, env, val).mean())
        row = {"iteration": it, "agent_steps": float(model.num_timesteps), "val_cost_per_agent_period": cost}
        result.curve.append(row)
        logger.info("hybrid iteration %d: %s", it, row)
        if progress is not None:
            progress(row)
        return cost

    best = record(0)
    best_params = copy.deepcopy(model.policy.state_dict())
    per_iteration = settings["n_steps"] * venv.num_envs
    for it in range(1, iterations + 1):
        model.learn(total_timesteps=per_iteration, reset_num_timesteps=False)
        cost = record(it)
        if cost < best:
            best, result.best_iteration = cost, it
            best_params = copy.deepcopy(model.policy.state_dict())
    model.policy.load_state_dict(best_params)
    venv.close()
    result.seconds = time.perf_counter() - start
    result.cpu_seconds = time.process_time() - cpu0
    return result
