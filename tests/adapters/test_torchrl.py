"""The TorchRL env over the batched simulator: specs, and step-for-step equality with B ParallelEnvs."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torchrl")

from torchrl.envs.utils import check_env_specs  # noqa: E402

import invmgmt_marl  # noqa: E402
from invmgmt_marl.adapters.torchrl import InventoryTorchRLEnv, group_agents  # noqa: E402

PERIODS = 6


@pytest.mark.parametrize(
    ("scenario", "group_map", "action_type"),
    [
        ("serial", "all", "box"),
        ("serial", "role", "discrete"),
        ("net_2x3", "all", "discrete"),
        ("net_2x3", "role", "multidiscrete"),
        ("net_2x3", "all", "order_up_to"),
        ("hmarl", "role", "box"),
    ],
)
def test_specs(scenario: str, group_map: str, action_type: str) -> None:
    env = InventoryTorchRLEnv(
        scenario, num_episodes=3, group_map=group_map, seed=1, periods=PERIODS, action_type=action_type
    )
    check_env_specs(env)
    td = env.rollout(2 * PERIODS, break_when_any_done=False)  # crosses an automatic reset
    assert td.batch_size == (3, 2 * PERIODS)
    assert td["next", "done"][:, PERIODS - 1].all() and not td["next", "done"][:, : PERIODS - 1].any()
    groups = group_agents(list(env.net.agents), group_map)
    assert set(groups) <= set(td.keys())


@pytest.mark.parametrize("batch", [1, 4])
@pytest.mark.parametrize(
    ("scenario", "group_map"), [("serial", "all"), ("net_2x3", "all"), ("net_2x3", "role")]
)
def test_equals_parallel_envs_step_for_step(batch: int, scenario: str, group_map: str) -> None:
    """Episode b of the TorchRL env (set_seed(s)) equals a ParallelEnv reset with seed s + b, then
    reset without a seed for the next episode: observations, rewards, state and done, every step of
    two episodes, for the same random actions."""
    seed = 40
    shared = group_map == "all"
    env = InventoryTorchRLEnv(scenario, num_episodes=batch, group_map=group_map, periods=PERIODS)
    env.set_seed(seed)
    pz = [invmgmt_marl.parallel_env(scenario, periods=PERIODS, shared_spaces=shared) for _ in range(batch)]
    torch.manual_seed(0)
    for episode in range(2):
        td = env.reset()
        obs = [p.reset(seed=seed + b if episode == 0 else None)[0] for b, p in enumerate(pz)]
        for t in range(PERIODS):
            for g, agents in env.group_map.items():
                for j, a in enumerate(agents):
                    for b in range(batch):
                        np.testing.assert_array_equal(td[g, "observation"][b, j].numpy(), obs[b][a])
            for b in range(batch):
                np.testing.assert_array_equal(td["state"][b].numpy(), pz[b].state())
            td = env.rand_action(td)
            out = env.step(td)["next"]
            steps = []
            for b, p in enumerate(pz):
                acts = {
                    a: td[g, "action"][b, j].numpy()
                    for g, ags in env.group_map.items()
                    for j, a in enumerate(ags)
                }
                steps.append(p.step(acts))
            for g, agents in env.group_map.items():
                for j, a in enumerate(agents):
                    for b in range(batch):
                        assert out[g, "reward"][b, j, 0].item() == pytest.approx(steps[b][1][a], rel=1e-6)
                        assert out[g, "truncated"][b, j, 0].item() == steps[b][3][a]
            assert out["done"].all().item() == (t == PERIODS - 1)
            obs = [s[0] for s in steps]
            td = out


def test_bad_grouping() -> None:
    with pytest.raises(ValueError, match="group_map"):
        InventoryTorchRLEnv("serial", group_map="pairs")
    with pytest.raises(ValueError, match="shared_spaces"):
        InventoryTorchRLEnv("serial", group_map="all", shared_spaces=False)
