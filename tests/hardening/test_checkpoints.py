"""Issue 13 items 1 and 6: checkpoints are verified before use and SB3 zips load without unpickling.

A crafted pickle here writes a marker file when unpickled; a test that finds the marker absent shows
that nothing in the file was unpickled."""

from __future__ import annotations

import base64
import json
import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from invmgmt_marl.compile import compile_network
from invmgmt_marl.errors import CheckpointError
from invmgmt_marl.scenario import validate_scenario
from invmgmt_marl.sim import initial_state

TINY = validate_scenario(
    {
        "name": "tiny",
        "periods": 10,
        "nodes": [
            {"role": "store", "initial_on_hand": 5, "holding_cost": 0.5, "backlog_cost": 2,
             "demand": {"process": "constant", "value": 5}},
            {"role": "supplier", "initial_on_hand": 20, "holding_cost": 0.5, "backlog_cost": 2},
        ],
        "edges": [
            {"from": "supplier_0", "to": "store_0", "lead_time": 1},
            {"from": "external", "to": "supplier_0", "lead_time": 1},
        ],
        "actions": {"max_order": 10},
    }
)  # fmt: skip


class _Marker:
    """Unpickling this creates the file ``path`` (what a malicious pickle would do, harmlessly)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (self.path, "w"))


def _evil(marker: Path) -> dict[str, str]:
    return {":type:": "x", ":serialized:": base64.b64encode(pickle.dumps(_Marker(str(marker)))).decode()}


@pytest.fixture(scope="module")
def sb3_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("stable_baselines3", reason="extra 'sb3' not installed")
    from invmgmt_marl.train import train

    out = tmp_path_factory.mktemp("sb3")
    train(TINY, backend="sb3", iterations=1, seed=0, out=out, eval_episodes=1, steps_per_iteration=64)
    return out / "sb3_ppo.zip"


def _rewrite(src: Path, dst: Path, **entries: Any) -> None:
    """Copy an SB3 zip, replacing entries of its ``data`` JSON."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.namelist():
            blob = zin.read(item)
            if item == "data":
                data = json.loads(blob)
                data.update(entries)
                blob = json.dumps(data).encode()
            zout.writestr(item, blob)
    dst.with_suffix(".json").write_text(src.with_suffix(".json").read_text())


def test_sb3_metadata_carries_a_signature(sb3_model: Path) -> None:
    meta = json.loads(sb3_model.with_suffix(".json").read_text())
    sig = meta["signature"]
    assert sig["agents"] == ["store_0", "supplier_0"]
    assert sig["edges"] == [["supplier_0", "store_0"], ["external", "supplier_0"]]
    assert len(sig["scenario_fingerprint"]) == 64


def test_sb3_loads_without_unpickling(
    sb3_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stable_baselines3.common import save_util

    from invmgmt_marl.adapters.sb3 import load_sb3_policy

    def no_pickle(*args: Any, **kw: Any) -> Any:
        raise AssertionError("cloudpickle.loads was called")

    monkeypatch.setattr(save_util.cloudpickle, "loads", no_pickle)
    policy = load_sb3_policy(sb3_model)
    net = compile_network(TINY)
    orders = policy(net, initial_state(net, 2), np.random.default_rng(0))
    assert orders.shape == (2, 2) and np.all((orders >= 0) & (orders <= 10))

    # a crafted zip whose spaces are pickles that would run code: they are replaced, never unpickled
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.zip"
    _rewrite(sb3_model, evil, observation_space=_evil(marker), lr_schedule=_evil(marker))
    monkeypatch.undo()
    load_sb3_policy(evil)
    assert not marker.exists()


def test_sb3_zip_with_unknown_pickled_entries_is_refused(sb3_model: Path, tmp_path: Path) -> None:
    from invmgmt_marl.adapters.sb3 import load_sb3_policy

    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.zip"
    _rewrite(sb3_model, evil, policy_kwargs=_evil(marker))
    with pytest.raises(CheckpointError, match=r"pickled entries \['policy_kwargs'\].*trusted=True"):
        load_sb3_policy(evil)
    assert not marker.exists()  # before: PPO.load unpickled it and the marker was written


def test_sb3_model_refused_on_another_scenario(sb3_model: Path) -> None:
    from invmgmt_marl.adapters.sb3 import load_sb3_policy

    # before: loaded; on serial the third agent was left to whatever the model did with padded slots
    with pytest.raises(CheckpointError, match=r"trained on scenario 'tiny'.*'serial' here: agents"):
        load_sb3_policy(sb3_model, scenario="serial")


def test_loaded_policy_refuses_to_run_on_another_network(sb3_model: Path) -> None:
    from invmgmt_marl.adapters.sb3 import load_sb3_policy

    policy = load_sb3_policy(sb3_model)
    other = TINY.to_dict()
    other["edges"][0]["max_order"] = 3  # same agents, other order bound: actions would mean other quantities
    net = compile_network(validate_scenario(other))
    with pytest.raises(CheckpointError, match=r"max_order\[0\]: trained with 10.0, here 3.0"):
        policy(net, initial_state(net, 1), np.random.default_rng(0))


def test_same_interface_other_costs_loads_with_a_warning(
    sb3_model: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from invmgmt_marl.adapters.sb3 import load_sb3_policy

    other = TINY.to_dict()
    other["nodes"][0]["holding_cost"] = 3.0
    with caplog.at_level("WARNING"):
        load_sb3_policy(sb3_model, scenario=validate_scenario(other))
    assert "other costs, demand or horizon" in caplog.text


@pytest.mark.slow  # importing ray.rllib alone takes about 5 s
def test_rllib_checkpoint_refused_before_unpickling(tmp_path: Path) -> None:
    pytest.importorskip("ray.rllib", reason="extra 'rllib' not installed")
    from invmgmt_marl.adapters.checkpoint import policy_signature
    from invmgmt_marl.adapters.rllib import METADATA_FILE, load_rllib_policy
    from invmgmt_marl.env import InventoryParallelEnv

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    marker = tmp_path / "pwned"
    ckpt = tmp_path / "ckpt"
    module_dir = ckpt / "learner_group" / "learner" / "rl_module"
    module_dir.mkdir(parents=True)
    (module_dir / "class_and_ctor_args.pkl").write_bytes(pickle.dumps(_Marker(str(marker))))
    env = InventoryParallelEnv("serial", shared_spaces=True)
    groups = {"shared": list(env.possible_agents)}
    meta = {"env_config": {"scenario": "serial", "shared_spaces": True}, "groups": groups}
    (ckpt / METADATA_FILE).write_text(json.dumps({**meta, "signature": policy_signature(env)}))
    # before: restored (running the pickle), then agents of divergent outside the groups ordered 0
    with pytest.raises(CheckpointError, match=r"trained on scenario 'serial'.*'divergent' here: agents"):
        load_rllib_policy(ckpt, scenario="divergent")
    # an old checkpoint without a signature: the groups must still cover every agent
    (ckpt / METADATA_FILE).write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match=r"no module for \['supplier_1'"):
        load_rllib_policy(ckpt, scenario="divergent")
    assert not marker.exists()
