"""Multi-agent PPO through TorchRL on :class:`~invmgmt_marl.adapters.torchrl.InventoryTorchRLEnv`.

* ``ippo``: every agent's actor and critic see only its own observation (parameters shared across
  agents: the observation carries the role one-hot), as independent PPO with parameter sharing.
* ``mappo``: the same actors; the critic is centralised: one MLP on the env's ``state()`` (every
  node's features) outputs a value per agent.

Actors are TorchRL ``MultiAgentMLP`` with a ``TanhNormal`` head bounded by the action space (box and
order-up-to actions); the loss is ``ClipPPOLoss`` with GAE. Each iteration collects ``num_episodes``
whole episodes from the batched env (``B x T`` env steps), then runs ``num_epochs`` epochs of
minibatches. Rewards are divided by a fixed scale (the first batch's mean absolute reward times the
effective horizon ``min(T, 1 / (1 - gamma))``), so that returns are of order 1 whatever the costs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from invmgmt_marl.adapters import require

__all__ = ["PPOSettings", "TorchRLTrainer"]

torch = require("torch", "torchrl")
nn = torch.nn
_td = require("tensordict", "torchrl")
_tdnn = require("tensordict.nn", "torchrl")
_modules = require("torchrl.modules", "torchrl")
_objectives = require("torchrl.objectives", "torchrl")
_envs_utils = require("torchrl.envs.utils", "torchrl")


@dataclass
class PPOSettings:
    """PPO hyper-parameters (``train(..., ppo={...})`` overrides any of them)."""

    num_episodes: int = 16  # episodes per iteration (the env's batch)
    num_epochs: int = 10
    minibatch_size: int = 200  # env steps (each with every agent) per minibatch
    lr: float = 3e-4
    gamma: float = 0.99
    lmbda: float = 0.95
    clip_epsilon: float = 0.2
    entropy_coeff: float = 1e-3
    hidden: int = 64
    max_grad_norm: float = 1.0


class _StateCritic(nn.Module):  # type: ignore[name-defined]
    """``(..., S)`` state -> ``(..., N, 1)`` a value per agent (the MAPPO centralised critic)."""

    def __init__(self, state_dim: int, n_agents: int, hidden: int) -> None:
        super().__init__()
        self.n_agents = n_agents
        self.net = nn.Sequential(
            nn.Linear(state_dim, hidden),
            nn.Tanh(),
            nn.Linear(hidden, hidden),
            nn.Tanh(),
            nn.Linear(hidden, n_agents),
        )

    def forward(self, state: Any) -> Any:
        return self.net(state).unsqueeze(-1)


# ---- pieces shared with :mod:`invmgmt_marl.adapters.torchrl_happo` ---------------------------------
def _box_action_spec(env: Any) -> Any:
    """The env's ``("agents", "action")`` spec; raises ValueError unless the env has one shared group
    ``"agents"`` and box-type actions."""
    if list(env.group_map) != ["agents"]:
        raise ValueError("env: the torchrl trainer needs group_map='all' (one shared group 'agents')")
    spec = env.action_spec["agents", "action"]
    if not isinstance(spec, require("torchrl.data", "torchrl").Bounded):
        raise ValueError(
            f"action_type: the torchrl trainer supports box-type actions (box, order_up_to), got {spec}"
        )
    return spec


def _tanh_normal_actor(env: Any, spec: Any, net: Any) -> Any:
    """A sampling actor whose ``net`` maps ``(..., N, D)`` observations to ``(..., N, 2k)`` TanhNormal
    parameters, bounded by the action space."""
    module = _tdnn.TensorDictModule(
        nn.Sequential(net, _tdnn.NormalParamExtractor()),
        in_keys=[("agents", "observation")],
        out_keys=[("agents", "loc"), ("agents", "scale")],
    )
    return _modules.ProbabilisticActor(
        module=module,
        spec=env.action_spec,
        in_keys=[("agents", "loc"), ("agents", "scale")],
        out_keys=[("agents", "action")],
        distribution_class=_modules.TanhNormal,
        distribution_kwargs={"low": spec.space.low[0], "high": spec.space.high[0]},  # (N, k)
        return_log_prob=True,
        log_prob_key=("agents", "sample_log_prob"),
    )


def _with_gae(loss: Any, settings: PPOSettings) -> Any:
    """``loss`` (a ``ClipPPOLoss``) keyed to the ``"agents"`` group, with a GAE value estimator."""
    loss.set_keys(
        reward=("agents", "reward"),
        action=("agents", "action"),
        sample_log_prob=("agents", "sample_log_prob"),
        value=("agents", "state_value"),
        done=("agents", "done"),
        terminated=("agents", "terminated"),
    )
    loss.make_value_estimator(_objectives.ValueEstimators.GAE, gamma=settings.gamma, lmbda=settings.lmbda)
    return loss


def _collect(trainer: Any) -> tuple[Any, float]:
    """One batch of whole episodes sampled from ``trainer.actor``, rewards scaled by
    ``trainer.reward_scale`` (set from the first batch: mean |reward| x the effective horizon) and the
    GAE advantages and value targets of ``trainer.loss`` added; returns the flattened ``(B * T,)``
    batch and the mean unscaled episode return (summed over agents)."""
    env, s = trainer.env, trainer.s
    # sample from the policy (env.rollout alone acts with the distribution's mode)
    with torch.no_grad(), _envs_utils.set_exploration_type(_envs_utils.ExplorationType.RANDOM):
        data = env.rollout(env.net.periods, trainer.actor, break_when_any_done=False)  # (B, T)
    reward = data["next", "agents", "reward"]
    episode_return = float(reward.sum(dim=1).mean())
    if trainer.reward_scale is None:  # returns of order 1: mean |reward| x the effective horizon
        horizon = min(float(env.net.periods), 1.0 / (1.0 - s.gamma))
        trainer.reward_scale = float(reward.abs().mean()) * horizon or 1.0
    data["next", "agents", "reward"] = reward / trainer.reward_scale
    with torch.no_grad():
        trainer.loss.value_estimator(
            data,
            params=trainer.loss.critic_network_params,
            target_params=trainer.loss.target_critic_network_params,
        )
    return data.reshape(-1), episode_return


def _minibatches(total: int, settings: PPOSettings) -> Iterator[Any]:
    """Index tensors of the minibatches of ``num_epochs`` epochs over ``total`` samples (a fresh
    permutation per epoch; the last partial minibatch of an epoch is dropped)."""
    mb = max(1, min(settings.minibatch_size, total))
    for _ in range(settings.num_epochs):
        perm = torch.randperm(total)
        for k in range(0, total - mb + 1, mb):
            yield perm[k : k + mb]


def _deterministic_act_fn(actor: Any, n: int) -> Callable[[str, NDArray[np.float32]], NDArray[np.float64]]:
    """``act(group_id, obs)`` for :class:`~invmgmt_marl.policies.agent.ObservationPolicy` (one group of
    the ``n`` agents, in node order): the actor's deterministic action (the TanhNormal's mode)."""

    def act(gid: str, obs: NDArray[np.float32]) -> NDArray[np.float64]:
        x = torch.as_tensor(np.asarray(obs, dtype=np.float32)).reshape(-1, n, obs.shape[-1])
        td = _td.TensorDict({("agents", "observation"): x}, batch_size=(x.shape[0],))
        with torch.no_grad(), _envs_utils.set_exploration_type(_envs_utils.ExplorationType.DETERMINISTIC):
            a = actor(td)["agents", "action"]
        return np.asarray(a.reshape(-1, a.shape[-1]).numpy(), dtype=np.float64)

    return act


class TorchRLTrainer:
    """Builds the actor, critic and loss for ``algo`` on an env and runs PPO iterations.

    Args:
        env: an :class:`~invmgmt_marl.adapters.torchrl.InventoryTorchRLEnv` with ``group_map="all"``.
        algo: ``"mappo"`` or ``"ippo"``.
        settings: :class:`PPOSettings`.
        seed: seeds torch.
    """

    def __init__(self, env: Any, algo: str, settings: PPOSettings, seed: int = 0) -> None:
        if algo not in ("mappo", "ippo"):
            raise ValueError(f"algo: expected 'mappo' or 'ippo', got {algo!r}")
        spec = _box_action_spec(env)
        torch.manual_seed(seed)
        self.env, self.algo, self.s = env, algo, settings
        n = env.net.n_nodes
        obs_dim = int(env.observation_spec["agents", "observation"].shape[-1])
        act_dim = int(spec.shape[-1])

        def shared_mlp(n_out: int) -> Any:  # one MLP shared by every agent, on its own observation
            return _modules.MultiAgentMLP(
                n_agent_inputs=obs_dim,
                n_agent_outputs=n_out,
                n_agents=n,
                centralized=False,
                share_params=True,
                depth=2,
                num_cells=settings.hidden,
                activation_class=nn.Tanh,
            )

        self.actor = _tanh_normal_actor(env, spec, shared_mlp(2 * act_dim))
        if algo == "mappo":
            state_dim = int(env.observation_spec["state"].shape[-1])
            critic_net: Any = _StateCritic(state_dim, n, settings.hidden)
            in_keys: list[Any] = ["state"]
        else:
            critic_net = shared_mlp(1)
            in_keys = [("agents", "observation")]
        self.critic = _tdnn.TensorDictModule(
            critic_net, in_keys=in_keys, out_keys=[("agents", "state_value")]
        )
        loss = _objectives.ClipPPOLoss(
            actor_network=self.actor,
            critic_network=self.critic,
            clip_epsilon=settings.clip_epsilon,
            entropy_coeff=settings.entropy_coeff,
            normalize_advantage=True,
            loss_critic_type="l2",
            normalize_advantage_exclude_dims=(-2,),  # per agent
        )
        self.loss = _with_gae(loss, settings)
        self.optim = torch.optim.Adam(self.loss.parameters(), settings.lr)
        self.reward_scale: float | None = None

    def iterate(self) -> dict[str, float]:
        """Collect one batch of whole episodes and run the PPO epochs; returns the batch's mean episode
        return per agent (unscaled) and the last minibatch's losses."""
        flat, episode_return = _collect(self)
        out: dict[str, float] = {}
        for idx in _minibatches(flat.batch_size[0], self.s):
            losses = self.loss(flat[idx])
            value = losses["loss_objective"] + losses["loss_critic"] + losses["loss_entropy"]
            self.optim.zero_grad()
            value.backward()
            torch.nn.utils.clip_grad_norm_(self.loss.parameters(), self.s.max_grad_norm)
            self.optim.step()
            out = {k2: float(v.detach()) for k2, v in losses.items() if k2.startswith("loss_")}
        return {"episode_return_mean": episode_return / self.env.net.n_nodes, **out}

    def act_fn(self) -> Callable[[str, NDArray[np.float32]], NDArray[np.float64]]:
        """``act(group_id, obs)`` for :class:`~invmgmt_marl.policies.agent.ObservationPolicy` (one
        shared group): the actor's deterministic action (the TanhNormal's mode)."""
        return _deterministic_act_fn(self.actor, self.env.net.n_nodes)
