"""What a checkpoint was trained on, recorded at save time and verified before a checkpoint is used.

**Load only checkpoints you trust.** Stable-Baselines3 zips and RLlib checkpoints are pickle-based
formats: unpickling a crafted file runs arbitrary code. The loaders here do what they can
(:func:`safe_sb3_load` replaces every pickled entry of an SB3 zip by an object built here and loads
the weights with ``torch.load(weights_only=True)``; RLlib's restore has no pickle-free path in 2.60),
and they read the JSON metadata written beside a checkpoint *first*: a checkpoint whose agents,
roles, supply edges, action type, order bounds or spaces differ from the env it is loaded for is
refused with :class:`~invmgmt_marl.errors.CheckpointError` naming the mismatch, before any pickle is
opened. A different scenario with the same interface (other costs, demand, horizon) is allowed with
a logged warning: evaluating a policy under shifted demand is a legitimate experiment.
"""

from __future__ import annotations

import json
import logging
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from invmgmt_marl.errors import CheckpointError, quote
from invmgmt_marl.interface import _mismatch, check_interface, network_interface

__all__ = [
    "INTERFACE_KEYS",
    "network_interface",
    "policy_signature",
    "check_signature",
    "check_interface",
    "safe_sb3_load",
]

logger = logging.getLogger(__name__)

#: the parts of a signature that must match for a policy to act in an env at all
INTERFACE_KEYS = ("agents", "roles", "edges", "max_order", "action_type", "observation_space", "action_space")


def policy_signature(env: Any) -> dict[str, Any]:
    """The signature recorded beside a checkpoint: the env's network interface, its action type and
    spaces, the scenario's name and its fingerprint (``Network.fingerprint``)."""
    agents = list(env.possible_agents)
    return {
        "scenario": env.scenario.name,
        "scenario_fingerprint": env.net.fingerprint,
        **network_interface(env.net),
        "action_type": env.scenario.actions.type,
        "observation_space": {a: str(env.observation_space(a)) for a in agents},
        "action_space": {a: str(env.action_space(a)) for a in agents},
    }


def check_signature(saved: Mapping[str, Any] | None, actual: Mapping[str, Any], where: str) -> None:
    """Refuse a checkpoint whose recorded interface differs from ``actual`` (see the module docstring).

    Args:
        saved: the signature in the checkpoint's metadata (``None``: an old checkpoint without one,
            which is loaded with a warning that it cannot be verified).
        actual: :func:`policy_signature` of the env the checkpoint is loaded for.
        where: the checkpoint's path, for messages.

    Raises:
        CheckpointError: ``"<where>: trained on scenario 'a', not 'b': agents: ..."``.
    """
    if saved is None:
        logger.warning(
            "%s: no signature in the checkpoint metadata; cannot verify what it was trained on", where
        )
        return
    for key in INTERFACE_KEYS:
        if key in saved and saved[key] != actual.get(key):
            raise CheckpointError(
                f"{where}: trained on scenario {quote(saved.get('scenario'))}, which does not match "
                f"{quote(actual.get('scenario'))} here: {_mismatch(key, saved[key], actual.get(key))}"
            )
    if saved.get("scenario_fingerprint") != actual.get("scenario_fingerprint"):
        logger.warning(
            "%s: trained on scenario %s (fingerprint %s), used on %s (fingerprint %s): same agents, edges "
            "and spaces, other costs, demand or horizon",
            where,
            quote(saved.get("scenario")),
            saved.get("scenario_fingerprint"),
            quote(actual.get("scenario")),
            actual.get("scenario_fingerprint"),
        )


_SB3_MAX_DATA = 16 << 20  # the zip's "data" JSON entry


def _constant(value: float) -> Any:
    def schedule(_progress: float) -> float:
        return value

    return schedule


def safe_sb3_load(
    sb3: Any, path: Path, observation_space: Any, action_space: Any, trusted: bool = False
) -> Any:
    """``PPO.load`` without cloudpickle: every pickled entry of the zip's ``data`` is replaced by an object
    built here (spaces from the env, the default MLP policy class, constant schedules, empty buffers);
    the weights are read by SB3 with ``torch.load(weights_only=True)``. A zip holding other pickled
    entries (custom policy classes or policy keywords) is refused unless ``trusted``.

    Raises:
        CheckpointError: not a zip, unknown pickled entries, or weights that do not fit the spaces.
    """
    if trusted:
        return sb3.PPO.load(path, device="cpu")
    try:
        with zipfile.ZipFile(path) as zf:
            info = zf.getinfo("data")
            if info.file_size > _SB3_MAX_DATA:
                raise CheckpointError(f"{path}: its 'data' entry is {info.file_size} bytes; refusing")
            data = json.loads(zf.read("data").decode("utf-8"))
    except (OSError, KeyError, zipfile.BadZipFile, UnicodeDecodeError, ValueError) as err:
        if isinstance(err, CheckpointError):
            raise
        raise CheckpointError(f"{path}: not a Stable-Baselines3 zip ({quote(str(err))})") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{path}: not a Stable-Baselines3 zip (its data is not a mapping)")
    from stable_baselines3.common.buffers import RolloutBuffer
    from stable_baselines3.common.policies import ActorCriticPolicy

    lr = data.get("learning_rate")
    lr = float(lr) if isinstance(lr, (int, float)) else 3e-4
    replace: dict[str, Any] = {
        "policy_class": ActorCriticPolicy,  # PPO's "MlpPolicy"
        "observation_space": observation_space,
        "action_space": action_space,
        "rollout_buffer_class": RolloutBuffer,
        "clip_range": _constant(0.2),
        "clip_range_vf": None,
        "lr_schedule": _constant(lr),
        "learning_rate": lr,
        "_last_obs": None,
        "_last_episode_starts": None,
        "_last_original_obs": None,
        "ep_info_buffer": None,
        "ep_success_buffer": None,
        "action_noise": None,
    }
    pickled = sorted(k for k, v in data.items() if isinstance(v, dict) and ":serialized:" in v)
    unknown = [k for k in pickled if k not in replace]
    if unknown:
        raise CheckpointError(
            f"{path}: holds pickled entries {unknown} that cannot be rebuilt safely; load it with "
            "trusted=True only if you trust the file (unpickling runs code)"
        )
    try:
        return sb3.PPO.load(path, device="cpu", custom_objects={k: replace[k] for k in pickled})
    except RuntimeError as err:  # set_parameters: the weights do not fit the networks built for the spaces
        raise CheckpointError(
            f"{path}: its weights do not fit this env's spaces ({quote(str(err), 300)})"
        ) from None
