"""HAPPO (heterogeneous-agent PPO) through TorchRL on the batched env (``InventoryTorchRLEnv``).

Liu et al. (2022) train the serial and network scenarios with HAPPO (Kuba et al., 2022, "Trust region
policy optimisation in multi-agent reinforcement learning", ICLR). It differs from MAPPO in two ways:

* every agent has **its own actor** (no parameter sharing), with its own optimiser;
* after each batch the agents are updated **one after another**, in a random order. Agent ``i_m``'s
  clipped surrogate weights the advantage by the **correction factor** of the agents updated before
  it in this round,

  ``M_{i_m}(s, a) = prod_{j < m} pi_new^{i_j}(a^{i_j} | o^{i_j}) / pi_old^{i_j}(a^{i_j} | o^{i_j})``

  (computed after their updates, with no gradient), and minimises
  ``-E[min(r A M, clip(r, 1 - eps, 1 + eps) A M)]`` with ``r = pi_theta^{i_m} / pi_old^{i_m}``.

The critic is MAPPO's centralised one (one MLP on ``state()`` giving a value per agent), trained on
the GAE targets for ``num_epochs`` epochs before the actors. Collection, reward scaling and GAE are
those of :class:`~invmgmt_marl.adapters.torchrl_ppo.TorchRLTrainer`. The factor and the surrogate
are the pure functions :func:`sequential_factors` and :func:`happo_surrogate`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from invmgmt_marl.adapters import require
from invmgmt_marl.adapters.torchrl_ppo import (
    PPOSettings,
    _box_action_spec,
    _collect,
    _deterministic_act_fn,
    _minibatches,
    _StateCritic,
    _tanh_normal_actor,
    _with_gae,
)

__all__ = ["HAPPOTrainer", "happo_surrogate", "sequential_factors"]

torch = require("torch", "torchrl")
nn = torch.nn
_tdnn = require("tensordict.nn", "torchrl")
_objectives = require("torchrl.objectives", "torchrl")


def sequential_factors(old_log_prob: Any, new_log_prob: Any, order: Sequence[int]) -> Any:
    """HAPPO's correction factor of every agent for one update order.

    Args:
        old_log_prob: ``(S, N)`` log-probability of each agent's sampled action under the behaviour
            policy.
        new_log_prob: ``(S, N)`` the same under each agent's *updated* policy.
        order: a permutation of ``range(N)``: the order in which the agents are updated.

    Returns:
        ``(S, N)``: for agent ``order[m]``, the product over ``j < m`` of
        ``exp(new_log_prob[:, order[j]] - old_log_prob[:, order[j]])`` (1 for the first agent).

    Raises:
        ValueError: ``order`` is not a permutation of the agents.
    """
    n = old_log_prob.shape[-1]
    if sorted(order) != list(range(n)):
        raise ValueError(f"order: expected a permutation of range({n}), got {list(order)}")
    ratio = torch.exp(new_log_prob - old_log_prob)  # (S, N)
    out = torch.ones_like(ratio)
    running = torch.ones_like(ratio[:, 0])
    for i in order:
        out[:, i] = running
        running = running * ratio[:, i]
    return out


def happo_surrogate(log_prob: Any, old_log_prob: Any, advantage: Any, factor: Any, clip: float) -> Any:
    """One agent's HAPPO loss: ``-mean(min(r A M, clip(r, 1 - clip, 1 + clip) A M))``, all ``(S,)``,
    with ``r = exp(log_prob - old_log_prob)``, ``A`` the advantage and ``M`` the correction factor."""
    ratio = torch.exp(log_prob - old_log_prob)
    weighted = advantage * factor
    return -torch.minimum(ratio * weighted, ratio.clamp(1.0 - clip, 1.0 + clip) * weighted).mean()


class _PerAgentMLP(nn.Module):  # type: ignore[name-defined]
    """``(..., N, D)`` -> ``(..., N, out)``: a separate MLP for every agent (no parameter sharing)."""

    def __init__(self, n_agents: int, obs_dim: int, n_out: int, hidden: int) -> None:
        super().__init__()
        self.nets = nn.ModuleList(
            nn.Sequential(
                nn.Linear(obs_dim, hidden),
                nn.Tanh(),
                nn.Linear(hidden, hidden),
                nn.Tanh(),
                nn.Linear(hidden, n_out),
            )
            for _ in range(n_agents)
        )

    def forward(self, obs: Any) -> Any:
        return torch.stack([net(obs[..., i, :]) for i, net in enumerate(self.nets)], dim=-2)


class HAPPOTrainer:
    """Builds per-agent actors, the centralised critic and runs HAPPO iterations (module docstring).

    Same interface as :class:`~invmgmt_marl.adapters.torchrl_ppo.TorchRLTrainer`: ``iterate()``,
    ``act_fn()`` and ``actor``.

    Args:
        env: an :class:`~invmgmt_marl.adapters.torchrl.InventoryTorchRLEnv` with ``group_map="all"``.
        settings: :class:`~invmgmt_marl.adapters.torchrl_ppo.PPOSettings`.
        seed: seeds torch and the update orders.
    """

    algo = "happo"

    def __init__(self, env: Any, settings: PPOSettings, seed: int = 0) -> None:
        spec = _box_action_spec(env)
        torch.manual_seed(seed)
        self.rng = np.random.default_rng(seed)
        self.env, self.s = env, settings
        n = env.net.n_nodes
        self.n_agents = n
        obs_dim = int(env.observation_spec["agents", "observation"].shape[-1])
        act_dim = int(spec.shape[-1])
        self.actor_net = _PerAgentMLP(n, obs_dim, 2 * act_dim, settings.hidden)
        self.actor = _tanh_normal_actor(env, spec, self.actor_net)
        state_dim = int(env.observation_spec["state"].shape[-1])
        self.critic = _tdnn.TensorDictModule(
            _StateCritic(state_dim, n, settings.hidden),
            in_keys=["state"],
            out_keys=[("agents", "state_value")],
        )
        # ClipPPOLoss only provides the GAE estimator (the actor losses are HAPPO's own, below)
        self.loss = _with_gae(
            _objectives.ClipPPOLoss(actor_network=self.actor, critic_network=self.critic), settings
        )
        self.actor_optims = [torch.optim.Adam(net.parameters(), settings.lr) for net in self.actor_net.nets]
        self.critic_optim = torch.optim.Adam(self.critic.parameters(), settings.lr)
        self.reward_scale: float | None = None
        #: the last iteration's update order, ``(S, N)`` factors each agent was weighted with, and batch
        self.last_order: list[int] = []
        self.last_factors: Any = None
        self.last_batch: Any = None

    def _log_prob(self, batch: Any) -> tuple[Any, Any]:
        """``(S, N)`` log-probability of the batch's actions under the current actors, and the
        ``(S, N)`` entropy estimate ``-log_prob`` of a fresh sample (for the entropy bonus)."""
        dist = self.actor.get_dist(batch.select(("agents", "observation")))
        lp = dist.log_prob(batch["agents", "action"])
        ent = -dist.log_prob(dist.rsample())
        return lp, ent

    def iterate(self) -> dict[str, float]:
        """Collect one batch of whole episodes, fit the critic, then update the actors one after
        another in a random order; returns the batch's mean episode return per agent (unscaled) and
        the last losses."""
        s = self.s
        flat, episode_return = _collect(self)
        total = flat.batch_size[0]
        adv = flat[self.loss.tensor_keys.advantage].squeeze(-1)  # (S, N)
        adv = (adv - adv.mean(dim=0)) / (adv.std(dim=0) + 1e-8)  # per agent
        target = flat[self.loss.tensor_keys.value_target]  # (S, N, 1)
        old_lp = flat["agents", "sample_log_prob"].detach()  # (S, N)
        out: dict[str, float] = {}
        for idx in _minibatches(total, s):  # the centralised critic
            value = self.critic(flat[idx].select("state"))["agents", "state_value"]
            loss_c = ((value - target[idx]) ** 2).mean()
            self.critic_optim.zero_grad()
            loss_c.backward()
            torch.nn.utils.clip_grad_norm_(self.critic.parameters(), s.max_grad_norm)
            self.critic_optim.step()
            out["loss_critic"] = float(loss_c.detach())
        order = [int(i) for i in self.rng.permutation(self.n_agents)]
        self.last_order = order
        factor = torch.ones(total)
        used = torch.ones(total, self.n_agents)
        for i in order:  # sequential updates: agent i sees the factor of the agents updated before it
            params = list(self.actor_net.nets[i].parameters())
            used[:, i] = factor
            for idx in _minibatches(total, s):
                lp, ent = self._log_prob(flat[idx])
                loss_a = happo_surrogate(lp[:, i], old_lp[idx, i], adv[idx, i], factor[idx], s.clip_epsilon)
                loss_e = -s.entropy_coeff * ent[:, i].mean()
                self.actor_optims[i].zero_grad()
                (loss_a + loss_e).backward()
                torch.nn.utils.clip_grad_norm_(params, s.max_grad_norm)
                self.actor_optims[i].step()
                out["loss_objective"] = float(loss_a.detach())
                out["loss_entropy"] = float(loss_e.detach())
            with torch.no_grad():
                new_lp = self._log_prob(flat)[0][:, i]
            factor = factor * torch.exp(new_lp - old_lp[:, i])
        self.last_factors, self.last_batch = used, flat
        return {"episode_return_mean": episode_return / self.env.net.n_nodes, **out}

    def act_fn(self) -> Callable[[str, NDArray[np.float32]], NDArray[np.float64]]:
        """``act(group_id, obs)`` for :class:`~invmgmt_marl.policies.agent.ObservationPolicy` (one
        group of every agent, in node order): each actor's deterministic action."""
        return _deterministic_act_fn(self.actor, self.n_agents)
