"""A single-agent Gymnasium env for centralised control of the whole network.

One agent sets every node's orders at once: the action is the vector of order quantities of every
supply edge ``(E,)`` (in scenario edge order), the observation is the centralised state (every node's
local features, ``(N * F,)``, as ``ParallelEnv.state()``), and the reward is the team's total reward,
the sum over agents of what the multi-agent env would give them. It is a thin translation over
:class:`~invmgmt_marl.env.InventoryParallelEnv`, so it runs the same simulator with the same
scenario settings: how single-agent users and the gym-invmgmt / OR-Gym literature compare against
the multi-agent form.

    import gymnasium as gym
    import invmgmt_marl  # registers InvMgmt/<Scenario>Central-v0 for every shipped scenario

    env = gym.make("InvMgmt/SerialCentral-v0")
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from invmgmt_marl.env import InventoryParallelEnv
from invmgmt_marl.scenario import Scenario

__all__ = ["CentralizedInventoryEnv"]


class CentralizedInventoryEnv(gymnasium.Env[NDArray[np.float32], NDArray[Any]]):
    """Every edge's order quantity chosen by one agent.

    Args:
        scenario: a shipped scenario name, a YAML path or a :class:`Scenario`.
        render_mode: ``None``, ``"ansi"`` or ``"human"``.
        **kwargs: as for :class:`~invmgmt_marl.env.InventoryParallelEnv` (``periods``, ``reward``,
            ``demand``, ``strict``, ...). ``action_type`` may be ``"box"`` (default: ``Box(0,
            max_order, (E,))``) or ``"multidiscrete"`` (``MultiDiscrete(max_order + 1)``).

    Observation: ``Box(0, inf, (N * F,), float32)``, the multi-agent env's ``state()``.
    Reward: the sum of every agent's reward under the scenario's reward settings.
    Episode end: truncation after ``periods`` steps (never termination). ``info`` holds
    ``team_cost`` (the period's total cost), ``clipped`` (order entries clipped to bounds) and ``t``.
    """

    metadata = {"render_modes": ["ansi", "human"], "render_fps": 4}

    def __init__(
        self, scenario: str | Path | Scenario = "serial", render_mode: str | None = None, **kwargs: Any
    ) -> None:
        kwargs.pop("shared_spaces", None)
        self.multi = InventoryParallelEnv(scenario, render_mode=render_mode, **kwargs)
        net = self.multi.net
        self.render_mode = render_mode
        kind = self.multi.interface.action_type
        if kind == "box":
            self.action_space: spaces.Space[Any] = spaces.Box(
                0.0, net.max_order.astype(np.float32), dtype=np.float32
            )
        elif kind == "multidiscrete":
            self.action_space = spaces.MultiDiscrete(net.max_order.astype(np.int64) + 1)
        else:
            raise ValueError(f"action_type: the centralised env takes 'box' or 'multidiscrete', got {kind!r}")
        self.observation_space: spaces.Space[Any] = self.multi.state_space
        self._agents = self.multi.possible_agents
        self._edges = net.agent_edges

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[NDArray[np.float32], dict[str, Any]]:
        super().reset(seed=seed)
        self.multi.reset(seed=seed, options=options)
        return self.multi.state(), {"team_cost": 0.0, "clipped": 0, "t": -1}

    def step(self, action: Any) -> tuple[NDArray[np.float32], float, bool, bool, dict[str, Any]]:
        a = np.asarray(action)
        if a.shape != self.action_space.shape:
            raise ValueError(f"action: expected shape {self.action_space.shape}, got {a.shape}")
        per_agent = {agent: a[e] for agent, e in zip(self._agents, self._edges, strict=True)}
        _, rewards, _, truncations, infos = self.multi.step(per_agent)
        ledger = self.multi.last_ledger
        team_cost = float(ledger.total_cost.sum()) if ledger is not None else 0.0
        info = {
            "team_cost": team_cost,
            "clipped": int(sum(i["clipped"] for i in infos.values())),
            "t": int(next(iter(infos.values()))["t"]),
        }
        return self.multi.state(), float(sum(rewards.values())), False, bool(all(truncations.values())), info

    def render(self) -> Any:
        return self.multi.render()

    def close(self) -> None:
        self.multi.close()
