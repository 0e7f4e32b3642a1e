"""A native TorchRL environment over the batched simulator (extra ``torchrl``).

:class:`InventoryTorchRLEnv` is a ``torchrl.envs.EnvBase`` with ``batch_size=[B]``: ``B`` episodes
stepped as one simulator batch, no per-episode Python loop. Agents are grouped as TorchRL's
multi-agent envs do (a nested key per group):

* ``group_map="all"``: one group ``"agents"`` holding every agent, with the env's shared spaces
  (observation padded and followed by the role one-hot, actions padded to the most inbound edges), so
  one policy (or a ``MultiAgentMLP``) acts for all of them;
* ``group_map="role"``: one group per role (``"store"``, ``"warehouse"``, ``"supplier"``), each with
  its agents' own spaces (they must have equal shapes within a role; otherwise pass
  ``shared_spaces=True``).

Keys, for a group ``g`` with ``n_g`` agents: ``(g, "observation")`` ``(B, n_g, D)`` float32,
``(g, "action")`` ``(B, n_g, k)`` (Box-type actions; ``(B, n_g)`` for ``discrete``),
``(g, "reward")`` ``(B, n_g, 1)``, ``(g, "done" | "terminated" | "truncated")`` ``(B, n_g, 1)``; at
the root ``"state"`` ``(B, N * F)`` (the centralised state, for a MAPPO critic) and ``"done"``,
``"terminated"``, ``"truncated"`` ``(B, 1)``. Episodes only truncate, all after ``periods`` steps.

Seeding follows :class:`invmgmt_marl.adapters.sb3.NativeVecEnv`: after ``set_seed(s)`` episode ``b``
draws its demand (and supply) from ``numpy.random.default_rng(s + b)`` at every reset, exactly as
the ``b``-th :class:`~invmgmt_marl.env.InventoryParallelEnv` reset with ``seed=s + b`` and then reset
without a seed; so for the same actions both give the same observations, rewards and state.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from invmgmt_marl.adapters import require
from invmgmt_marl.demand import sample_network_demand
from invmgmt_marl.env import InventoryParallelEnv
from invmgmt_marl.rewards import compute_rewards
from invmgmt_marl.sim import initial_state, step
from invmgmt_marl.sim.supply import SupplyPath, sample_supply
from invmgmt_marl.validation import check_inputs

__all__ = ["InventoryTorchRLEnv", "group_agents"]

torch = require("torch", "torchrl")
_envs = require("torchrl.envs", "torchrl")
_data = require("torchrl.data", "torchrl")
_td = require("tensordict", "torchrl")


def group_agents(agents: list[str], group_map: str) -> dict[str, list[str]]:
    """``{group: [agent, ...]}``: ``"all"`` -> one group ``"agents"``; ``"role"`` -> one per role."""
    if group_map == "all":
        return {"agents": list(agents)}
    if group_map == "role":
        groups: dict[str, list[str]] = {}
        for a in agents:
            groups.setdefault(a.rsplit("_", 1)[0], []).append(a)
        return groups
    raise ValueError(f"group_map: expected 'all' or 'role', got {group_map!r}")


class InventoryTorchRLEnv(_envs.EnvBase):  # type: ignore[name-defined]
    """``B`` episodes of a scenario as one TorchRL env (module docstring for keys and seeding).

    Args:
        scenario: scenario name, path or :class:`~invmgmt_marl.scenario.Scenario`.
        num_episodes: ``B``, episodes stepped side by side.
        group_map: ``"all"`` (one shared group) or ``"role"`` (one group per role).
        shared_spaces: the env's shared spaces (role one-hot, padded actions); default True for
            ``"all"`` (required there), False for ``"role"``.
        seed: seed of the first reset (episode ``b`` uses ``seed + b``); None: fresh entropy.
        **env_kwargs: as for :class:`~invmgmt_marl.env.InventoryParallelEnv` (``periods``,
            ``action_type``, ``view``, ``reward``, ...).
    """

    def __init__(
        self,
        scenario: Any = "serial",
        num_episodes: int = 8,
        group_map: str = "all",
        shared_spaces: bool | None = None,
        seed: int | None = None,
        **env_kwargs: Any,
    ) -> None:
        if num_episodes < 1:
            raise ValueError(f"num_episodes: must be >= 1, got {num_episodes}")
        shared = group_map == "all" if shared_spaces is None else shared_spaces
        if group_map == "all" and not shared:
            raise ValueError("shared_spaces: group_map='all' stacks every agent, it needs shared_spaces=True")
        super().__init__(batch_size=torch.Size([num_episodes]), device="cpu")
        self.template = InventoryParallelEnv(scenario, shared_spaces=shared, **env_kwargs)
        self.net = self.template.net
        self.interface = self.template.interface
        self.num_episodes = num_episodes
        self.group_map = group_agents(list(self.net.agents), group_map)
        index = {a: i for i, a in enumerate(self.net.agents)}
        self._group_idx = {g: np.array([index[a] for a in ags]) for g, ags in self.group_map.items()}
        self._discrete = len(self.interface.codec.batch_shape) == 1
        self._width = 1 if self._discrete else int(self.interface.codec.batch_shape[1])
        self._make_specs()
        self._rngs = [np.random.default_rng() for _ in range(num_episodes)]
        self._pending_seed = seed
        self._state = initial_state(self.net, num_episodes)
        self._demand = np.zeros((num_episodes, self.net.periods, self.net.n_stores))
        self._supply: SupplyPath | None = None

    # ---------------------------------------------------------------------------------------------
    def _make_specs(self) -> None:
        from gymnasium import spaces

        b = self.num_episodes
        comp, bounded, unbounded = _data.Composite, _data.Bounded, _data.Unbounded
        obs, act, rew, done = {}, {}, {}, {}
        for g, agents in self.group_map.items():
            n = len(agents)
            o_shapes = {self.template.observation_space(a).shape for a in agents}
            a_spaces = [self.template.action_space(a) for a in agents]
            if len(o_shapes) > 1 or len({s.shape for s in a_spaces}) > 1:
                raise ValueError(
                    f"group_map: the agents of group {g!r} have different space shapes; "
                    "pass shared_spaces=True (padded spaces) or group_map='all'"
                )
            dim = int(np.prod(next(iter(o_shapes)) or (1,)))
            obs[g] = comp(observation=unbounded(shape=(b, n, dim), dtype=torch.float32), shape=(b, n))
            sp = a_spaces[0]
            if isinstance(sp, spaces.Box):
                high = np.stack([np.asarray(getattr(s, "high")) for s in a_spaces])  # noqa: B009 (n, k)
                spec = bounded(
                    low=torch.zeros((b, n, sp.shape[0])),
                    high=torch.as_tensor(np.broadcast_to(high, (b, *high.shape)).copy()),
                    shape=(b, n, sp.shape[0]),
                    dtype=torch.float32,
                )
            elif isinstance(sp, spaces.Discrete):
                if len({int(s.n) for s in a_spaces}) > 1:  # type: ignore[attr-defined]
                    raise ValueError(f"group_map: group {g!r} mixes Discrete sizes; pass shared_spaces=True")
                spec = _data.Categorical(int(sp.n), shape=(b, n), dtype=torch.int64)
            elif isinstance(sp, spaces.MultiDiscrete):
                nvec = np.stack([s.nvec for s in a_spaces])  # type: ignore[attr-defined]
                if not (nvec == nvec[0]).all():
                    raise ValueError(
                        f"group_map: group {g!r} mixes MultiDiscrete sizes; pass shared_spaces=True"
                    )
                spec = _data.MultiCategorical(
                    torch.as_tensor(nvec[0]), shape=(b, n, len(nvec[0])), dtype=torch.int64
                )
            else:  # pragma: no cover - every registered action type is one of the above
                raise ValueError(f"action space {sp} has no TorchRL spec here")
            act[g] = comp(action=spec, shape=(b, n))
            rew[g] = comp(reward=unbounded(shape=(b, n, 1), dtype=torch.float32), shape=(b, n))
            done[g] = comp(
                {k: _data.Categorical(2, shape=(b, n, 1), dtype=torch.bool) for k in _DONE_KEYS},
                shape=(b, n),
            )
        state_dim = int(np.prod(self.interface.state_space.shape or (1,)))
        self.observation_spec = comp(
            **obs, state=unbounded(shape=(b, state_dim), dtype=torch.float32), shape=(b,)
        )
        self.action_spec = comp(**act, shape=(b,))
        self.reward_spec = comp(**rew, shape=(b,))
        self.done_spec = comp(
            **done,
            **{k: _data.Categorical(2, shape=(b, 1), dtype=torch.bool) for k in _DONE_KEYS},
            shape=(b,),
        )

    # ---------------------------------------------------------------------------------------------
    def _set_seed(self, seed: int | None) -> None:
        """Seed the next reset: episode ``b`` draws from ``default_rng(seed + b)``."""
        self._pending_seed = seed

    def _reset(self, tensordict: Any = None, **kwargs: Any) -> Any:
        if self._pending_seed is not None:
            self._rngs = [np.random.default_rng(self._pending_seed + b) for b in range(self.num_episodes)]
            self._pending_seed = None
        demand, supply = [], []
        for rng in self._rngs:  # the same draws, in the same order, as the b-th ParallelEnv's reset
            demand.append(sample_network_demand(self.net, rng, 1, self.net.periods))
            supply.append(sample_supply(self.net, rng, 1, self.net.periods))
        self._demand = np.concatenate(demand, axis=0)
        self._supply = (
            None if supply[0] is None else SupplyPath(*(np.concatenate(x) for x in zip(*supply, strict=True)))
        )
        self._state = initial_state(self.net, self.num_episodes)
        return self._output(None, done=False)

    def _step(self, tensordict: Any) -> Any:
        b, n = self.num_episodes, self.net.n_nodes
        acts: NDArray[Any] = np.zeros((b, n) if self._discrete else (b, n, self._width))
        for g, idx in self._group_idx.items():
            a = tensordict.get((g, "action")).detach().cpu().numpy()
            if self._discrete:
                acts[:, idx] = a
            else:
                acts[:, idx, : a.shape[-1]] = a
        if not self._discrete:  # in the space's dtype, as the ParallelEnv receives them
            acts = acts.astype(np.float32)
        orders, _ = self.interface.decode_batch(acts, self._state)
        t = self._state.t
        check_inputs(self.net, orders, self._demand[:, t])
        shock = None if self._supply is None else self._supply.at(t)
        self._state, ledger = step(self.net, self._state, orders, self._demand[:, t], shock)
        r = compute_rewards(self.net, ledger)
        if self.template.reward_scale != 1.0:
            r = r * self.template.reward_scale
        return self._output(r, done=self._state.t >= self.net.periods)

    def _output(self, rewards: NDArray[np.float64] | None, done: bool) -> Any:
        b = self.num_episodes
        obs = torch.as_tensor(self.interface.observe(self._state))  # (B, N, D)
        out: dict[str, Any] = {"state": torch.as_tensor(self.interface.state(self._state))}
        flags = {
            "done": torch.full((b, 1), done),
            "terminated": torch.zeros((b, 1), dtype=torch.bool),
            "truncated": torch.full((b, 1), done),
        }
        out.update(flags)
        for g, idx in self._group_idx.items():
            n = len(idx)
            entry: dict[str, Any] = {"observation": obs[:, idx]}
            entry.update({k: v[:, None].expand(b, n, 1).clone() for k, v in flags.items()})
            if rewards is not None:
                entry["reward"] = torch.as_tensor(rewards[:, idx, None], dtype=torch.float32)
            out[g] = _td.TensorDict(entry, batch_size=(b, n))
        return _td.TensorDict(out, batch_size=(b,))


_DONE_KEYS = ("done", "terminated", "truncated")
