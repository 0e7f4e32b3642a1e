"""Train PPO on a scenario with RLlib, Stable-Baselines3 or TorchRL and keep a learning curve.

The ``torchrl`` backend trains multi-agent PPO (``algo="mappo"``: centralised critic on the env's
state; ``"ippo"``: independent critics) through the native batched
:class:`~invmgmt_marl.adapters.torchrl.InventoryTorchRLEnv` (:mod:`invmgmt_marl.adapters.torchrl_ppo`).

Both backends are evaluated the same way after every iteration: the current policy acts
deterministically on a fixed set of evaluation demand paths (drawn once from the scenario with
``seed + 10_000``), through :class:`~invmgmt_marl.policies.agent.ObservationPolicy` on the batched
simulator, and the mean cost per agent-period is recorded next to the training return.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from invmgmt_marl._io import atomic_write_json
from invmgmt_marl.adapters import require
from invmgmt_marl.demand import sample_network_demand
from invmgmt_marl.env import InventoryParallelEnv
from invmgmt_marl.policies.agent import ObservationPolicy
from invmgmt_marl.rollout import rollout

__all__ = [
    "TrainResult",
    "train",
    "evaluation_demand",
    "cost_per_agent_period",
    "plot_curve",
    "base_stock_reference",
]

logger = logging.getLogger(__name__)


@dataclass
class TrainResult:
    """What a training run produced."""

    backend: str
    scenario: str
    policies: str
    seed: int
    curve: list[dict[str, float]] = field(default_factory=list)  # one row per iteration
    checkpoint: str | None = None
    seconds: float = 0.0
    config: dict[str, Any] = field(default_factory=dict)

    def to_json(self, path: str | Path) -> None:
        """Strict JSON: NaN (no finished episode yet) is written as null."""

        def clean(v: Any) -> Any:
            if isinstance(v, float) and v != v:
                return None
            if isinstance(v, dict):
                return {k: clean(x) for k, x in v.items()}
            if isinstance(v, list):
                return [clean(x) for x in v]
            return v

        atomic_write_json(path, clean(self.__dict__), default=str)


def evaluation_demand(env: InventoryParallelEnv, episodes: int, seed: int) -> np.ndarray:
    """``(episodes, T, S)`` fixed evaluation demand paths for the env's scenario."""
    return sample_network_demand(env.net, np.random.default_rng(seed), episodes, env.net.periods)


def cost_per_agent_period(env: InventoryParallelEnv, policy: ObservationPolicy, demand: np.ndarray) -> float:
    """Mean total cost per agent and period of ``policy`` on the given demand paths."""
    traj = rollout(env.net, policy, demand=demand, keep="sum")
    return float(traj.cost().sum(axis=1).mean() / (env.net.n_nodes * env.net.periods))


def train(
    scenario: Any = "serial",
    backend: str = "rllib",
    policies: str = "shared",
    iterations: int = 20,
    seed: int = 0,
    out: str | Path | None = None,
    eval_episodes: int = 10,
    address: str | None = None,
    num_env_runners: int = 0,
    num_learners: int = 0,
    steps_per_iteration: int = 4000,
    progress: Callable[[dict[str, float]], None] | None = None,
    ppo: Mapping[str, Any] | None = None,
    max_seconds: float | None = None,
    keep_best: bool = False,
    algo: str = "mappo",
    **env_kwargs: Any,
) -> TrainResult:
    """Train PPO and return the learning curve; checkpoints and ``results.json`` go to ``out``.

    Args:
        scenario: scenario name or YAML path.
        backend: ``rllib`` (policies ``shared`` / ``per_role`` / ``per_agent``) or ``sb3`` (``shared``
            over the native batched VecEnv).
        iterations: training iterations (``steps_per_iteration`` agent steps each).
        seed: seeds the learner, the training episodes and (``seed + 10_000``) the evaluation paths.
        out: output folder (checkpoint, ``results.json``); nothing is written when ``None``.
        eval_episodes: evaluation demand paths.
        address: Ray cluster address (``ray.init(address=...)``); local Ray when ``None``.
        num_env_runners: RLlib env runners (Ray actors) sampling in parallel.
        num_learners: RLlib learner actors (0: learn in the driver).
        steps_per_iteration: samples per iteration: agent steps for sb3; RLlib's
            ``train_batch_size_per_learner`` for rllib (which RLlib counts in env steps).
        progress: called with each curve row (the CLI draws its progress bar with it).
        ppo: extra PPO settings (``lr``, ``num_epochs``, ``minibatch_size``, ``gamma``, ...).
        max_seconds: stop after the iteration that crosses this wall-clock budget.
        keep_best: also save the policy with the lowest evaluation cost so far under ``out/best``
            (the evaluation set is not a test set: score the saved policy on separate demand).
        algo: the torchrl backend's algorithm, ``mappo``, ``ippo`` or ``happo`` (ignored by the others).
        **env_kwargs: ``parallel_env`` keywords (``action_type``, ``reward``, ``alpha``, ``demand``, ...).
    """
    if backend not in ("rllib", "sb3", "torchrl"):
        raise ValueError(f"backend: expected 'rllib', 'sb3' or 'torchrl', got {backend!r}")
    if backend in ("sb3", "torchrl") and policies != "shared":
        raise ValueError(f"policies: the {backend} backend trains one shared policy, got {policies!r}")
    if backend == "torchrl" and algo not in ("mappo", "ippo", "happo"):
        raise ValueError(f"algo: expected 'mappo', 'ippo' or 'happo', got {algo!r}")
    torch = require("torch", backend)
    torch.set_num_threads(1)  # 2 threads on 2 cores made RLlib iterations 4-14x slower here
    outdir = Path(out).resolve() if out is not None else None  # RLlib (pyarrow) needs absolute paths
    if outdir is not None:
        outdir.mkdir(parents=True, exist_ok=True)
    env = InventoryParallelEnv(scenario, shared_spaces=policies == "shared", **env_kwargs)
    eval_demand = evaluation_demand(env, eval_episodes, seed + 10_000)
    result = TrainResult(
        backend, str(scenario), policies, seed, config={"env": env_kwargs, "ppo": dict(ppo or {})}
    )
    if backend == "torchrl":
        result.config["algo"] = algo
        settings_t = dict(ppo or {})
        settings_t.setdefault("algo", algo)
        ppo = settings_t
    start = time.perf_counter()
    deadline = None if max_seconds is None else start + max_seconds
    settings = dict(ppo or {})
    if backend == "rllib" and num_learners:
        settings["num_learners"] = num_learners
    job = _Job(
        result,
        env,
        scenario,
        policies,
        iterations,
        seed,
        outdir,
        eval_demand,
        address,
        num_env_runners,
        steps_per_iteration,
        progress,
        settings,
        env_kwargs,
        deadline,
        keep_best,
    )
    {"rllib": _train_rllib, "sb3": _train_sb3, "torchrl": _train_torchrl}[backend](job)
    result.seconds = time.perf_counter() - start
    if outdir is not None:
        result.to_json(outdir / "results.json")
    return result


class _Job(NamedTuple):
    """Everything a backend's training loop needs."""

    result: TrainResult
    env: InventoryParallelEnv
    scenario: Any
    policies: str
    iterations: int
    seed: int
    outdir: Path | None
    eval_demand: np.ndarray
    address: str | None
    num_env_runners: int
    steps: int
    progress: Callable[[dict[str, float]], None] | None
    ppo: dict[str, Any]
    env_kwargs: dict[str, Any]
    deadline: float | None
    keep_best: bool


def _record(
    result: TrainResult, row: dict[str, float], progress: Callable[[dict[str, float]], None] | None
) -> None:
    result.curve.append(row)
    logger.info("iteration %d: %s", row["iteration"], row)
    if progress is not None:
        progress(row)


def _train_rllib(job: _Job) -> None:
    result, env, scenario, policies, iterations, seed, outdir, eval_demand = job[:8]
    address, num_env_runners, steps, progress, ppo, env_kwargs, deadline, keep_best = job[8:]
    ray = require("ray", "rllib")
    from invmgmt_marl.adapters.rllib import module_act_fn, policy_groups, ppo_config, save_metadata

    if not ray.is_initialized():
        ray.init(
            address=address,
            include_dashboard=False,
            log_to_driver=False,
            # one CPU per env runner and per learner actor, plus the driver (a local instance only)
            **(
                {} if address else {"num_cpus": max(2, num_env_runners + int(ppo.get("num_learners", 0)) + 1)}
            ),
        )
    settings = {"train_batch_size": steps, "minibatch_size": max(64, steps // 8), "num_epochs": 10, **ppo}
    config = ppo_config(
        scenario, policies, seed=seed, num_env_runners=num_env_runners, **settings, **env_kwargs
    )
    groups = policy_groups(env, policies)
    algo = config.build_algo()
    spaces = {gid: env.action_space(members[0]) for gid, members in groups.items()}
    policy = ObservationPolicy(
        module_act_fn(algo.get_module, spaces), groups=groups, shared_spaces=policies == "shared"
    )
    try:
        for it in range(1, iterations + 1):
            res = algo.train()
            runners = res.get("env_runners", {})
            _record(
                result,
                {
                    "iteration": it,
                    "env_steps": float(runners.get("num_env_steps_sampled_lifetime", float("nan"))),
                    "episode_return_mean": float(runners.get("episode_return_mean", float("nan"))),
                    "eval_cost_per_agent_period": cost_per_agent_period(env, policy, eval_demand),
                },
                progress,
            )
            if keep_best and outdir is not None and _is_best(result):
                algo.save_to_path(str(outdir / "best"))
                save_metadata(outdir / "best", config.env_config, groups, env=env)
            if deadline is not None and time.perf_counter() > deadline:
                break
        if outdir is not None:
            ckpt = outdir / "checkpoint"
            algo.save_to_path(str(ckpt))
            save_metadata(ckpt, config.env_config, groups, env=env)
            result.checkpoint = str(ckpt)
    finally:
        algo.stop()


def _train_sb3(job: _Job) -> None:
    result, env, scenario, policies, iterations, seed, outdir, eval_demand = job[:8]
    address, num_env_runners, steps, progress, ppo, env_kwargs, deadline, keep_best = job[8:]
    sb3 = require("stable_baselines3", "sb3")
    from invmgmt_marl.adapters.sb3 import NativeVecEnv

    episodes = max(1, int(ppo.pop("num_episodes", 8)))
    vec = require("stable_baselines3.common.vec_env", "sb3")
    # every Box action type (box, order_up_to, order_up_to_echelon) is offered normalised to [-1, 1]
    box = isinstance(env.action_space(env.possible_agents[0]), require("gymnasium", "sb3").spaces.Box)
    native = NativeVecEnv(scenario, num_episodes=episodes, seed=seed, normalize_actions=box, **env_kwargs)
    # returns are large negative costs: normalise rewards (not observations, which the env scales)
    venv = vec.VecNormalize(
        vec.VecMonitor(native), norm_obs=False, norm_reward=True, gamma=ppo.get("gamma", 0.99)
    )
    n_steps = max(8, steps // venv.num_envs)
    settings = {
        "n_steps": n_steps,
        "batch_size": max(64, (n_steps * venv.num_envs) // 8),
        "n_epochs": 10,
        "learning_rate": 3e-4,
        "gamma": 0.99,
        **ppo,
    }
    model = sb3.PPO("MlpPolicy", venv, seed=seed, verbose=0, device="cpu", **settings)

    high = native._action_high

    def act(gid: str, obs: np.ndarray) -> np.ndarray:
        a = model.predict(obs, deterministic=True)[0]
        return a if high is None else (np.clip(a, -1.0, 1.0) + 1.0) * 0.5 * high

    policy = ObservationPolicy(act, groups={"shared": list(env.possible_agents)}, shared_spaces=True)
    rollout_steps = n_steps * venv.num_envs
    for it in range(1, iterations + 1):
        model.learn(total_timesteps=rollout_steps, reset_num_timesteps=False)
        ep_returns = [ep["r"] for ep in model.ep_info_buffer] if model.ep_info_buffer else []
        _record(
            result,
            {
                "iteration": it,
                "env_steps": float(model.num_timesteps / native.n_agents),
                "episode_return_mean": float(np.mean(ep_returns)) if ep_returns else float("nan"),
                "eval_cost_per_agent_period": cost_per_agent_period(env, policy, eval_demand),
            },
            progress,
        )
        if keep_best and outdir is not None and _is_best(result):
            _save_sb3(model, outdir / "best" / "sb3_ppo.zip", scenario, env_kwargs, high is not None, env)
        if deadline is not None and time.perf_counter() > deadline:
            break
    if outdir is not None:
        result.checkpoint = str(
            _save_sb3(model, outdir / "sb3_ppo.zip", scenario, env_kwargs, high is not None, env)
        )


def _train_torchrl(job: _Job) -> None:
    """MAPPO / IPPO / HAPPO through TorchRL (``ppo["algo"]``; the other keys are
    :class:`~invmgmt_marl.adapters.torchrl_ppo.PPOSettings` fields). The final actor's weights go to
    ``out/torchrl_actor.pt`` (a ``state_dict``)."""
    result, env, scenario, policies, iterations, seed, outdir, eval_demand = job[:8]
    steps, progress, ppo, env_kwargs, deadline = (
        job.steps,
        job.progress,
        dict(job.ppo),
        job.env_kwargs,
        job.deadline,
    )
    from invmgmt_marl.adapters.torchrl import InventoryTorchRLEnv
    from invmgmt_marl.adapters.torchrl_ppo import PPOSettings, TorchRLTrainer

    algo = str(ppo.pop("algo", "mappo"))
    if "num_episodes" not in ppo:  # steps_per_iteration counts agent steps, as for sb3
        ppo["num_episodes"] = max(1, steps // (env.net.n_nodes * env.net.periods))
    unknown = sorted(set(ppo) - set(PPOSettings.__dataclass_fields__))
    if unknown:
        raise ValueError(
            f"ppo: unknown torchrl PPO setting(s) {unknown}; "
            f"known: {sorted(PPOSettings.__dataclass_fields__)}"
        )
    settings = PPOSettings(**ppo)
    tenv = InventoryTorchRLEnv(scenario, num_episodes=settings.num_episodes, seed=seed, **env_kwargs)
    if algo == "happo":
        from invmgmt_marl.adapters.torchrl_happo import HAPPOTrainer

        trainer: Any = HAPPOTrainer(tenv, settings, seed=seed)
    else:
        trainer = TorchRLTrainer(tenv, algo, settings, seed=seed)
    policy = ObservationPolicy(
        trainer.act_fn(), groups={"shared": list(env.possible_agents)}, shared_spaces=True
    )
    per_iteration = settings.num_episodes * env.net.periods
    result.config["eval_cost_initial"] = cost_per_agent_period(env, policy, eval_demand)  # untrained
    for it in range(1, iterations + 1):
        row = trainer.iterate()
        _record(
            result,
            {
                "iteration": it,
                "env_steps": float(it * per_iteration),
                **row,
                "eval_cost_per_agent_period": cost_per_agent_period(env, policy, eval_demand),
            },
            progress,
        )
        if deadline is not None and time.perf_counter() > deadline:
            break
    if outdir is not None:
        torch = require("torch", "torchrl")
        path = outdir / "torchrl_actor.pt"
        torch.save(trainer.actor.state_dict(), path)
        result.checkpoint = str(path)


def _save_sb3(
    model: Any,
    path: Path,
    scenario: Any,
    env_kwargs: dict[str, Any],
    normalized: bool,
    env: InventoryParallelEnv | None = None,
) -> Path:
    from invmgmt_marl.adapters.checkpoint import policy_signature

    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    meta = {"scenario": _scenario_ref(scenario), "env_kwargs": env_kwargs, "normalize_actions": normalized}
    if env is not None:  # what load_sb3_policy verifies before using the model
        meta["signature"] = policy_signature(env)
    atomic_write_json(path.with_suffix(".json"), meta, default=str)
    return path


def _scenario_ref(scenario: Any) -> Any:
    """A JSON-able reference to a scenario: its name or path, or its full mapping."""
    if isinstance(scenario, (str, Path)):
        return str(scenario)
    return scenario.to_dict()


def _is_best(result: TrainResult) -> bool:
    costs = [r["eval_cost_per_agent_period"] for r in result.curve]
    return costs[-1] <= min(costs)


def base_stock_reference(
    scenario: Any, eval_episodes: int = 10, seed: int = 0, train_episodes: int = 64, **env_kwargs: Any
) -> float:
    """The tuned base-stock policy's cost per agent-period on the evaluation paths ``train`` uses.

    Base-stock levels are tuned on ``train_episodes`` fresh paths (seed 123, the benchmark's training
    set; cached like ``invmgmt-marl evaluate --tune``) and scored on the same ``eval_episodes`` paths
    (seed ``seed + 10_000``) as each iteration of :func:`train` with that ``seed``: the horizontal line
    a learning curve is read against.
    """
    from invmgmt_marl.policies import tune

    env = InventoryParallelEnv(scenario, **env_kwargs)
    tuned = tune(env.net, "base_stock", episodes=train_episodes, seed=123, cache=True)
    demand = evaluation_demand(env, eval_episodes, seed + 10_000)
    traj = rollout(env.net, tuned.policy(env.net), demand=demand, keep="sum")
    return float(traj.cost().sum(axis=1).mean() / (env.net.n_nodes * env.net.periods))


def plot_curve(result: TrainResult, path: str | Path, reference: float | None = None) -> Path:
    """Save a PNG of the evaluation cost per iteration; ``reference`` (e.g. :func:`base_stock_reference`)
    is drawn as a dashed horizontal line labelled "tuned base-stock"."""
    from matplotlib.ticker import MaxNLocator

    from invmgmt_marl.plots import new_figure

    it = [r["iteration"] for r in result.curve]
    fig = new_figure(figsize=(7, 4))
    ax = fig.subplots()
    ax.plot(it, [r["eval_cost_per_agent_period"] for r in result.curve], marker="o", label="evaluation cost")
    ax.set_xlabel("iteration")
    ax.set_ylabel("cost per agent-period (deterministic policy)")
    ax.set_title(f"{result.backend} PPO ({result.policies}) on {result.scenario}")
    if reference is not None and np.isfinite(reference):
        ax.axhline(reference, color="black", ls="--", lw=1.0, label=f"tuned base-stock ({reference:.2f})")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(loc="best")
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=110)
    return out
