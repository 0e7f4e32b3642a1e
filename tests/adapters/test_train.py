"""Short seeded training runs lower the cost; the CLI writes checkpoint, results.json and a curve."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("stable_baselines3", reason="extra 'sb3' not installed")

from invmgmt_marl.scenario import validate_scenario  # noqa: E402
from invmgmt_marl.train import train  # noqa: E402

# a tiny deterministic chain: the store sells 5 a period; without orders it runs dry and backlogs
TINY = validate_scenario(
    {
        "name": "tiny",
        "periods": 20,
        "nodes": [
            {
                "role": "store",
                "initial_on_hand": 5,
                "holding_cost": 0.5,
                "backlog_cost": 2,
                "demand": {"process": "constant", "value": 5},
            },
            {"role": "supplier", "initial_on_hand": 20, "holding_cost": 0.5, "backlog_cost": 2},
        ],
        "edges": [
            {"from": "supplier_0", "to": "store_0", "lead_time": 1},
            {"from": "external", "to": "supplier_0", "lead_time": 1},
        ],
        "actions": {"max_order": 10},
    }
)


def test_sb3_training_lowers_cost(tmp_path: Path) -> None:
    result = train(
        TINY, backend="sb3", iterations=12, seed=0, out=tmp_path, eval_episodes=2, steps_per_iteration=640
    )
    costs = [row["eval_cost_per_agent_period"] for row in result.curve]
    assert min(costs[-3:]) < 0.6 * costs[0], costs
    saved = json.loads((tmp_path / "results.json").read_text())
    assert [r["iteration"] for r in saved["curve"]] == list(range(1, 13))
    # the saved model, loaded as a policy, reproduces the last evaluation exactly
    from invmgmt_marl.adapters.sb3 import load_sb3_policy
    from invmgmt_marl.env import InventoryParallelEnv
    from invmgmt_marl.train import cost_per_agent_period, evaluation_demand

    env = InventoryParallelEnv(TINY, shared_spaces=True)
    policy = load_sb3_policy(tmp_path / "sb3_ppo.zip", scenario=TINY)
    assert cost_per_agent_period(env, policy, evaluation_demand(env, 2, 10_000)) == pytest.approx(costs[-1])


def test_sb3_rejects_non_shared_layouts() -> None:
    with pytest.raises(ValueError, match="shared"):
        train(TINY, backend="sb3", policies="per_agent", iterations=1)


def test_cli_train_writes_outputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("matplotlib")
    # the train command sets RAY_AUTH_MODE if unset: set it here so the caller's value comes back after
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    from invmgmt_marl.cli import main

    out = tmp_path / "run"
    code = main(
        [
            "train",
            "--scenario",
            "serial",
            "--backend",
            "sb3",
            "--iterations",
            "2",
            "--steps-per-iteration",
            "600",
            "--eval-episodes",
            "2",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    curve = json.loads((out / "results.json").read_text())["curve"]
    assert len(curve) == 2 and all(np.isfinite(r["eval_cost_per_agent_period"]) for r in curve)
    assert (out / "sb3_ppo.zip").exists() and (out / "learning_curve.png").stat().st_size > 1000


def test_sb3_normalises_order_up_to_actions(tmp_path: Path) -> None:
    # order-up-to targets are a Box space like plain quantities: PPO must act in [-1, 1] there too
    # (before the fix only action_type "box" was normalised, so targets started near 0 of [0, 360])
    train(
        TINY,
        backend="sb3",
        iterations=1,
        seed=0,
        out=tmp_path,
        eval_episodes=1,
        steps_per_iteration=64,
        action_type="order_up_to_echelon",
    )
    meta = json.loads((tmp_path / "sb3_ppo.json").read_text())
    assert meta["normalize_actions"] is True
    from stable_baselines3 import PPO

    space = PPO.load(tmp_path / "sb3_ppo.zip", device="cpu").action_space
    assert float(space.low.min()) == -1.0 and float(space.high.max()) == 1.0
