"""HAPPO through TorchRL: the sequential-update correction factor and surrogate by hand, one agent's
parameters per update step, and the factors the trainer used."""

from __future__ import annotations

import math

import pytest

pytest.importorskip("torchrl")

import torch  # noqa: E402

from invmgmt_marl.adapters.torchrl import InventoryTorchRLEnv  # noqa: E402
from invmgmt_marl.adapters.torchrl_happo import (  # noqa: E402
    HAPPOTrainer,
    happo_surrogate,
    sequential_factors,
)
from invmgmt_marl.adapters.torchrl_ppo import PPOSettings  # noqa: E402


def test_sequential_factors_by_hand() -> None:
    # 3 agents, 2 samples; ratios pi_new / pi_old: sample 0: 2, 0.5, 3; sample 1: 1, 4, 0.25.
    # order 2, 0, 1: agent 2 is first (factor 1); agent 0 sees agent 2's ratio (3; 0.25);
    # agent 1 sees agents 2 and 0 (3 * 2 = 6; 0.25 * 1 = 0.25)
    old = torch.log(torch.tensor([[0.2, 0.4, 0.1], [0.5, 0.1, 0.8]]))
    ratios = torch.tensor([[2.0, 0.5, 3.0], [1.0, 4.0, 0.25]])
    new = old + torch.log(ratios)
    got = sequential_factors(old, new, [2, 0, 1])
    assert torch.allclose(got, torch.tensor([[3.0, 6.0, 1.0], [0.25, 0.25, 1.0]]))
    # the identity order: agent 0 first, agent 2 sees 2 * 0.5 = 1 and 1 * 4 = 4
    got = sequential_factors(old, new, [0, 1, 2])
    assert torch.allclose(got, torch.tensor([[1.0, 2.0, 1.0], [1.0, 1.0, 4.0]]))
    with pytest.raises(ValueError, match="order"):
        sequential_factors(old, new, [0, 0, 1])


def test_happo_surrogate_by_hand() -> None:
    # sample 0: ratio 1.5, advantage 1, factor 2, clip 0.2: min(1.5 * 2, 1.2 * 2) = 2.4
    # sample 1: ratio 0.5, advantage -1, factor 2: min(0.5 * -2, 0.8 * -2) = -1.6
    # loss = -mean(2.4, -1.6) = -0.4
    old = torch.zeros(2)
    new = torch.log(torch.tensor([1.5, 0.5]))
    loss = happo_surrogate(new, old, torch.tensor([1.0, -1.0]), torch.tensor([2.0, 2.0]), 0.2)
    assert float(loss) == pytest.approx(-0.4, abs=1e-6)
    # with factor 1 and ratio inside the clip range it is plain -ratio * advantage
    loss = happo_surrogate(
        torch.log(torch.tensor([1.1])), torch.zeros(1), torch.tensor([3.0]), torch.ones(1), 0.2
    )
    assert float(loss) == pytest.approx(-3.3, abs=1e-6)


def _trainer() -> HAPPOTrainer:
    env = InventoryTorchRLEnv(
        "serial", num_episodes=2, seed=0, periods=10, demand={"process": "poisson", "mean": 10}, alpha=0.0
    )
    return HAPPOTrainer(env, PPOSettings(num_episodes=2, num_epochs=2, minibatch_size=10), seed=0)


def test_each_update_step_changes_one_agent_and_factors_match() -> None:
    tr = _trainer()
    nets = tr.actor_net.nets
    snap = [[p.detach().clone() for p in net.parameters()] for net in nets]
    changed: list[tuple[int, set[int]]] = []

    def watch(i: int, step):  # type: ignore[no-untyped-def]
        def wrapped(*a, **kw):  # type: ignore[no-untyped-def]
            out = step(*a, **kw)
            moved = {
                j
                for j, net in enumerate(nets)
                if any(not torch.equal(p, q) for p, q in zip(net.parameters(), snap[j], strict=True))
            }
            changed.append((i, moved))
            for j, net in enumerate(nets):
                snap[j] = [p.detach().clone() for p in net.parameters()]
            return out

        return wrapped

    for i, opt in enumerate(tr.actor_optims):
        opt.step = watch(i, opt.step)  # type: ignore[method-assign]
    tr.iterate()
    assert changed and all(moved <= {i} for i, moved in changed)  # one agent's actor per update step
    assert [i for i, _ in changed][:: len(changed) // 3] == tr.last_order  # agents in the drawn order
    # the factors each agent was weighted with are those of the agents updated before it, computed
    # from the final actors (an agent's policy does not change after its own turn)
    flat = tr.last_batch
    with torch.no_grad():
        new_lp = tr._log_prob(flat)[0]
    want = sequential_factors(flat["agents", "sample_log_prob"], new_lp, tr.last_order)
    assert torch.allclose(tr.last_factors, want, rtol=1e-4, atol=1e-6)
    assert not torch.allclose(want, torch.ones_like(want))  # the earlier agents' updates did move
    assert math.isfinite(float(tr.last_factors.sum()))
