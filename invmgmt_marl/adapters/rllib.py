"""Ray RLlib (new API stack, ``ray[rllib]==2.60.0``): env registration, PPO configs, trained policies.

    from invmgmt_marl.adapters.rllib import ppo_config
    algo = ppo_config("serial", policies="shared").build_algo()
    algo.train()

Policy layouts:

- ``shared``: one module for every agent, over the env's shared spaces (observation + role one-hot,
  padded actions); RLlib requires identical spaces for agents that share a module.
- ``per_role``: one module per role (stores share one, warehouses one, suppliers one).
- ``per_agent``: one module per agent.

Scaling out is Ray's job: start a cluster (``ray start --head`` on one machine, ``ray start
--address=HEAD:6379`` on the others), ``ray.init(address=...)`` (or ``invmgmt-marl train --address``)
and raise ``num_env_runners`` / ``num_learners``. Nothing here distributes work by itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from invmgmt_marl._io import atomic_write_json, read_json_or_none
from invmgmt_marl.adapters import require
from invmgmt_marl.adapters.checkpoint import check_signature, network_interface, policy_signature
from invmgmt_marl.env import InventoryParallelEnv
from invmgmt_marl.errors import CheckpointError
from invmgmt_marl.policies.agent import ActFn, ObservationPolicy
from invmgmt_marl.scenario import Scenario, validate_scenario

__all__ = [
    "ENV_NAME",
    "LAYOUTS",
    "register_env",
    "policy_groups",
    "ppo_config",
    "save_metadata",
    "module_act_fn",
    "load_rllib_policy",
]

ENV_NAME = "invmgmt"
LAYOUTS = ("shared", "per_role", "per_agent")
METADATA_FILE = "invmgmt_marl.json"


def _make_env(config: Mapping[str, Any]) -> Any:
    pz = require("ray.rllib.env.wrappers.pettingzoo_env", "rllib")
    return pz.ParallelPettingZooEnv(InventoryParallelEnv(**dict(config)))


def register_env(name: str = ENV_NAME) -> str:
    """Register ``name`` with Ray Tune: ``env_config`` holds ``parallel_env`` keyword arguments
    (``scenario``, ``shared_spaces``, overrides)."""
    registry = require("ray.tune.registry", "rllib")
    registry.register_env(name, _make_env)
    return name


def policy_groups(env: InventoryParallelEnv, layout: str) -> dict[str, list[str]]:
    """``{module_id: [agents]}`` for a layout, checking that agents sharing a module share spaces."""
    if layout not in LAYOUTS:
        raise ValueError(f"policies: expected one of {LAYOUTS}, got {layout!r}")
    agents = env.possible_agents
    if layout == "shared":
        groups = {"shared": list(agents)}
    elif layout == "per_role":
        groups = {}
        node_role = dict(zip(env.net.agents, env.net.roles, strict=True))
        for a in agents:  # a node agent, or a SKU agent "<node>__<product>" of a product network
            groups.setdefault(node_role[a.split("__")[0]], []).append(a)
    else:
        groups = {a: [a] for a in agents}
    for gid, members in groups.items():
        first = members[0]
        for a in members[1:]:
            if env.observation_space(a) != env.observation_space(first) or env.action_space(
                a
            ) != env.action_space(first):
                raise ValueError(
                    f"policies: agents {first!r} and {a!r} share module {gid!r} but their spaces differ "
                    f"({env.observation_space(first)} / {env.action_space(first)} vs "
                    f"{env.observation_space(a)} / "
                    f"{env.action_space(a)}); use "
                    + (
                        "shared_spaces=True in env_config"
                        if layout == "shared"
                        else "policies='shared' (padded shared spaces) or 'per_agent'"
                    )
                )
    return groups


def ppo_config(
    scenario: Any = "serial",
    policies: str = "shared",
    *,
    seed: int | None = 0,
    num_env_runners: int = 0,
    num_learners: int = 0,
    train_batch_size: int = 2000,
    minibatch_size: int = 250,
    num_epochs: int = 10,
    lr: float = 5e-5,
    gamma: float = 0.99,
    hidden: tuple[int, ...] = (64, 64),
    env_name: str = ENV_NAME,
    reward_scale: float = 1.0,
    vf_clip_param: float = 10.0,
    lambda_: float = 1.0,
    clip_param: float = 0.3,
    **env_kwargs: Any,
) -> Any:
    """A ``PPOConfig`` on the new API stack over :class:`ParallelPettingZooEnv`.

    Args:
        scenario: scenario name or YAML path (kept in ``env_config``; must be picklable).
        policies: ``shared``, ``per_role`` or ``per_agent``.
        seed: RLlib's seed (``.debugging(seed=...)``); env copies are seeded from it.
        num_env_runners, num_learners: Ray parallelism (0 = sample / learn in the driver).
        train_batch_size, minibatch_size, num_epochs, lr, gamma: PPO settings (``lr`` 5e-5, RLlib's
            own default: on serial 3e-4 learnt fast for 10 iterations, then degraded).
        hidden: hidden layer sizes of the default MLP.
        env_name: the registered env name (registered here if needed).
        reward_scale: multiply rewards by this in the env (e.g. ``1 / 20`` on serial for rewards of
            order one).
        vf_clip_param, lambda_, clip_param: PPO's value-loss clip, GAE lambda and clip. The defaults are
            RLlib's own (10, 1.0, 0.3): they gave the best of the settings tried on serial here
            (evaluation cost ~9 after 10 iterations, then drifting to ~11; scaled rewards, a larger
            value clip, or lambda 0.95 / clip 0.2 were less stable). See benchmarks/README.md.
        **env_kwargs: ``parallel_env`` keywords (``action_type``, ``view``, ``reward``, ``alpha``, ...).
    """
    ppo = require("ray.rllib.algorithms.ppo", "rllib")
    rl_module = require("ray.rllib.core.rl_module", "rllib")
    model_config = require("ray.rllib.core.rl_module.default_model_config", "rllib")
    register_env(env_name)
    env_config = {"scenario": scenario, **env_kwargs, "shared_spaces": policies == "shared"}
    template = InventoryParallelEnv(**env_config)
    env_config["reward_scale"] = reward_scale
    groups = policy_groups(template, policies)
    owner = {a: gid for gid, members in groups.items() for a in members}

    def mapping(agent_id: str, episode: Any = None, **kw: Any) -> str:
        return owner[agent_id]

    spec = rl_module.MultiRLModuleSpec(
        rl_module_specs={
            gid: rl_module.RLModuleSpec(
                model_config=model_config.DefaultModelConfig(fcnet_hiddens=list(hidden))
            )
            for gid in groups
        }
    )
    return (
        ppo.PPOConfig()
        .environment(env_name, env_config=env_config)
        .framework("torch")
        .env_runners(num_env_runners=num_env_runners)
        .learners(num_learners=num_learners)
        .training(
            train_batch_size_per_learner=train_batch_size,
            minibatch_size=minibatch_size,
            num_epochs=num_epochs,
            lr=lr,
            gamma=gamma,
            vf_clip_param=vf_clip_param,
            lambda_=lambda_,
            clip_param=clip_param,
        )
        .multi_agent(policies=set(groups), policy_mapping_fn=mapping)
        .rl_module(rl_module_spec=spec)
        .debugging(seed=seed)
    )


def save_metadata(
    checkpoint_dir: str | Path,
    env_config: Mapping[str, Any],
    groups: Mapping[str, list[str]],
    env: InventoryParallelEnv | None = None,
) -> Path:
    """Write what :func:`load_rllib_policy` needs next to an RLlib checkpoint: the env config, the
    module groups and the signature of the env (agents, edges, spaces, scenario fingerprint) that the
    loader verifies before restoring anything. ``env`` defaults to one built from ``env_config``."""
    path = Path(checkpoint_dir) / METADATA_FILE
    # a scenario is kept as its name or path, or (an in-memory Scenario) as its full mapping
    cfg = {
        k: (str(v) if isinstance(v, Path) else v.to_dict() if isinstance(v, Scenario) else v)
        for k, v in env_config.items()
    }
    env = env if env is not None else InventoryParallelEnv(**dict(env_config))
    meta = {"env_config": cfg, "groups": dict(groups), "signature": policy_signature(env)}
    atomic_write_json(path, meta, default=str)
    return path


def _module_dir(checkpoint_dir: Path) -> Path:
    for cand in (checkpoint_dir / "learner_group" / "learner" / "rl_module", checkpoint_dir):
        if cand.is_dir() and (cand / "class_and_ctor_args.pkl").exists():
            return cand
    raise FileNotFoundError(f"checkpoint: no RLlib MultiRLModule found under {checkpoint_dir}")


def module_act_fn(get_module: Callable[[str], Any], spaces: Mapping[str, Any]) -> ActFn:
    """``act(module_id, obs)`` giving the deterministic actions of RLlib modules, mapped to the env's
    action space (RLlib normalises Box actions to [-1, 1] by default: they are unsquashed and clipped)."""
    torch = require("torch", "rllib")
    space_utils = require("ray.rllib.utils.spaces.space_utils", "rllib")

    def act(gid: str, obs: np.ndarray) -> np.ndarray:
        module = get_module(gid)
        with torch.no_grad():
            out = module.forward_inference({"obs": torch.as_tensor(obs)})
            dist = module.get_inference_action_dist_cls().from_logits(out["action_dist_inputs"])
            actions = dist.to_deterministic().sample().numpy()
        space = spaces[gid]
        if hasattr(space, "low"):
            actions = np.stack(
                [space_utils.clip_action(space_utils.unsquash_action(a, space), space) for a in actions]
            )
        return actions

    return act


def load_rllib_policy(
    checkpoint_dir: str | Path, groups: Mapping[str, list[str]] | None = None, **env_config: Any
) -> ObservationPolicy:
    """A deterministic :class:`ObservationPolicy` from an RLlib checkpoint (no Ray cluster needed).

    **Load only checkpoints you trust**: RLlib restores modules by unpickling
    (``class_and_ctor_args.pkl``, ``state.pkl``), and unpickling a crafted file runs code; RLlib 2.60
    offers no pickle-free restore of a module. What this loader does first: it reads the JSON metadata,
    builds the env and compares the recorded signature (agents, roles, edges, order bounds, spaces)
    with it, and refuses a mismatch with :class:`~invmgmt_marl.errors.CheckpointError` *before* any
    pickle is opened (a checkpoint of another scenario otherwise runs with the agents it does not
    cover ordering 0).

    ``env_config`` and ``groups`` default to the metadata saved by :func:`save_metadata`
    (``invmgmt-marl train`` writes it); give them for other checkpoints.
    """
    multi = require("ray.rllib.core.rl_module.multi_rl_module", "rllib")
    ckpt = Path(checkpoint_dir).resolve()  # RLlib (pyarrow) needs absolute paths
    meta = read_json_or_none(ckpt / METADATA_FILE, "checkpoint metadata") or {}
    if meta:
        env_config = {**meta.get("env_config", {}), **env_config}
        groups = groups if groups is not None else meta.get("groups")
    if groups is None:
        raise ValueError(f"groups: no {METADATA_FILE} in {ckpt}; pass groups={{module_id: [agents]}}")
    if isinstance(env_config.get("scenario"), dict):
        env_config = {**env_config, "scenario": validate_scenario(env_config["scenario"])}
    template = InventoryParallelEnv(**env_config)
    check_signature(meta.get("signature"), policy_signature(template), str(ckpt))  # before unpickling
    unknown = sorted({a for members in groups.values() for a in members} - set(template.possible_agents))
    uncovered = sorted(set(template.possible_agents) - {a for members in groups.values() for a in members})
    if unknown or uncovered:
        raise CheckpointError(
            f"{ckpt}: its module groups do not cover this env's agents exactly: "
            + (f"unknown {unknown}" if unknown else f"no module for {uncovered}")
        )
    module = multi.MultiRLModule.from_checkpoint(str(_module_dir(ckpt)))
    spaces = {gid: template.action_space(members[0]) for gid, members in groups.items()}
    act = module_act_fn(lambda gid: module[gid], spaces)

    return ObservationPolicy(
        act,
        groups=groups,
        action_type=template.interface.action_type,
        view=template.interface.view,
        shared_spaces=bool(env_config.get("shared_spaces", False)),
        obs_scale=template.interface.scale,
        network=network_interface(template.net),
    )
