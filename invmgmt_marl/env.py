"""The PettingZoo ParallelEnv shell over the batched simulator (run with a batch of one).

The shell only translates: action dicts to an orders array, the simulator's arrays back to
per-agent dicts. Dynamics live in :mod:`invmgmt_marl.sim`, rewards in :mod:`invmgmt_marl.rewards`,
observations and action decoding in :class:`~invmgmt_marl.interface.AgentInterface`.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray
from pettingzoo import ParallelEnv

from invmgmt_marl.agent_dicts import AgentDicts
from invmgmt_marl.compile import compile_network
from invmgmt_marl.demand import sample_network_demand
from invmgmt_marl.errors import InvalidActionError
from invmgmt_marl.product_interface import make_interface
from invmgmt_marl.scenario import Scenario, load_scenario
from invmgmt_marl.sim import initial_state, step
from invmgmt_marl.sim.ledger import Ledger
from invmgmt_marl.sim.state import SimState
from invmgmt_marl.sim.supply import SupplyPath, sample_supply
from invmgmt_marl.validation import check_demand

__all__ = ["InventoryParallelEnv", "demand_from_options"]

logger = logging.getLogger(__name__)


def demand_from_options(
    demand: Any, periods: int, n_stores: int, n_products: int | None = None
) -> NDArray[np.float64]:
    """Validate ``options["demand"]``: ``(>= periods, n_stores)`` (or ``(>= periods,)`` for one store);
    with products (``n_products`` given) ``(>= periods, n_products, n_stores)`` (or
    ``(>= periods, n_products)`` for one store). Returns ``(1, periods, [P,] S)``."""
    d = np.asarray(demand)
    if n_products is not None:
        if d.ndim == 2 and n_stores == 1:
            d = d[:, :, None]
        if d.ndim != 3 or d.shape[1:] != (n_products, n_stores):
            raise ValueError(
                f"options['demand']: expected shape (T, P, S) with T >= periods={periods}, "
                f"P=products={n_products}, S=stores={n_stores}, got {d.shape}"
            )
        flat = check_demand(
            d.reshape(d.shape[0], -1), periods=periods, allow_longer=True, name="options['demand']"
        )
        return flat[:periods].reshape(1, periods, n_products, n_stores)  # a new array
    if d.ndim == 1 and n_stores == 1:
        d = d[:, None]
    d = check_demand(d, periods=periods, n_stores=n_stores, allow_longer=True, name="options['demand']")
    return d[:periods][None].copy()  # the episode never aliases the caller's array


class InventoryParallelEnv(ParallelEnv):
    """Multi-echelon inventory management: every supply-chain node is an agent.

    Args:
        scenario: a shipped scenario name, a path to a YAML file, or a :class:`Scenario`.
        render_mode: ``None``, ``"ansi"``, ``"human"`` (the ansi frame on stdout) or ``"rgb_array"``.
        shared_spaces: give every agent identical spaces, what a shared policy needs: observations
            followed by a role one-hot (every view already has the same length for all agents),
            actions padded to the most inbound edges (padding ignored).
        strict: raise on out-of-bounds orders instead of clipping them. With ``shared_spaces``, only
            actions outside the shared space raise; entries beyond an agent's own bounds are clipped
            and counted, since they are legal samples of its (padded) space.
        max_cycles: PettingZoo's name for the episode length (the same as ``periods=``).
        agents: ``"node"`` (one agent per node) or, in scenarios with products, ``"node_product"``
            (one agent per node and product, ``store_0__sku12``; docs/products.md).
        reward_scale: multiply every reward by this (a training convenience: value functions learn
            better from rewards of order one; infos keep the unscaled ledger).
        **overrides: scenario overrides: ``periods``, ``action_type``, ``max_order``, ``view``,
            ``obs_scale``, ``reward``, ``alpha``, ``reward_weights``, ``demand`` (one demand
            process for every store).
    """

    metadata: dict[str, Any] = {
        "name": "supply_chain_v0",
        "render_modes": ["ansi", "human", "rgb_array"],
        "is_parallelizable": True,
    }

    def __init__(
        self,
        scenario: str | Path | Scenario = "serial",
        *,
        render_mode: str | None = None,
        shared_spaces: bool = False,
        strict: bool = False,
        reward_scale: float = 1.0,
        max_cycles: int | None = None,
        agents: str = "node",
        **overrides: Any,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode: expected one of {self.metadata['render_modes']} or None, got {render_mode!r}"
            )
        if max_cycles is not None:
            if "periods" in overrides and overrides["periods"] != max_cycles:
                raise ValueError(
                    f"max_cycles: the episode length is given twice, max_cycles={max_cycles!r} "
                    f"and periods={overrides['periods']!r}"
                )
            overrides["periods"] = max_cycles
        self.scenario = load_scenario(scenario, **overrides)
        self.net = compile_network(self.scenario)
        self.render_mode = render_mode
        if not np.isfinite(reward_scale) or reward_scale <= 0:
            raise ValueError(f"reward_scale: must be a positive finite number, got {reward_scale!r}")
        self.reward_scale = float(reward_scale)
        self.shared_spaces = shared_spaces
        self.interface = make_interface(self.net, agents=agents, shared_spaces=shared_spaces, strict=strict)
        self.possible_agents = list(self.interface.agents)
        self._dicts = AgentDicts(self.possible_agents)  # per-step dicts from templates (agent_dicts.py)
        self.agents: list[str] = []
        self.action_spaces = self.interface.action_spaces
        self.observation_spaces = self.interface.observation_spaces
        self.state_space = self.interface.state_space
        # controls besides orders (liquidation, prices): keywords of sim.step, decoded by the interface
        self._controls = (
            getattr(self.interface, "decode_controls", None)
            if self.net.any_liquidation or self.net.any_pricing
            else None
        )
        # no generator until the first reset: an unseeded env (and every copy of one) then draws fresh
        # entropy, so copies made before their first reset (SuperSuit's) never share a stream
        self._rng: np.random.Generator | None = None
        self._seeded = False
        self._sim_state = initial_state(self.net, 1)
        per_store = (
            (self.net.n_products, self.net.n_stores) if self.net.product_axis else (self.net.n_stores,)
        )
        self._demand = np.zeros((1, self.net.periods, *per_store))
        self._supply: SupplyPath | None = None
        self._ledger: Ledger | None = None

    # spaces are built once; PettingZoo's API test checks that the same objects come back
    def observation_space(self, agent: str) -> spaces.Space[Any]:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space[Any]:
        return self.action_spaces[agent]

    # ---------------------------------------------------------------------------------------------
    def reset(
        self, seed: int | None = None, options: Mapping[str, Any] | None = None
    ) -> tuple[dict[str, NDArray[np.float32]], dict[str, dict[str, Any]]]:
        """Start an episode. ``options={"demand": array (periods, n_stores)}`` replays a given demand path
        (``(periods, n_products, n_stores)`` in a network with products).

        Everything is validated before anything changes: a failed ``reset`` leaves the generator and
        the running episode as they were. Reset infos carry every ledger key (zeros, ``t = -1``),
        the same keys as step infos.
        """
        net = self.net
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
            raise ValueError(f"seed: expected an integer or None, got {seed!r}")
        if options is not None and not isinstance(options, Mapping):
            raise ValueError(f"options: expected a mapping or None, got {type(options).__name__}")
        unknown = set(options or {}) - {"demand"}
        if unknown:
            logger.warning(
                "reset: ignoring unknown option(s) %s; known: ['demand']", sorted(map(repr, unknown))
            )
        given = None
        if options and options.get("demand") is not None:
            given = demand_from_options(
                options["demand"], net.periods, net.n_stores, net.n_products if net.product_axis else None
            )
        if seed is not None:
            self._rng, self._seeded = np.random.default_rng(seed), True
        elif self._rng is None:
            self._rng = np.random.default_rng()
        self._demand = given if given is not None else sample_network_demand(net, self._rng, 1, net.periods)
        self._supply = sample_supply(net, self._rng, 1, net.periods)  # None unless supply is uncertain
        self._sim_state = initial_state(net, 1)
        self._ledger = None
        self.agents = list(self.possible_agents)
        return self._observations(), self.interface.infos(None, {})

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        if not self._seeded:  # a copy of an unseeded env draws its own entropy at its next reset
            state["_rng"] = None
        return state

    def step(
        self, actions: Mapping[str, Any]
    ) -> tuple[
        dict[str, NDArray[np.float32]],
        dict[str, float],
        dict[str, bool],
        dict[str, bool],
        dict[str, dict[str, Any]],
    ]:
        if not self.agents:
            if self._rng is None:
                raise RuntimeError("step() called before reset(); call reset() first")
            raise RuntimeError("step() called after the episode ended; call reset() first")
        if type(actions) is not dict and not isinstance(actions, Mapping):
            raise InvalidActionError(
                f"actions: expected a mapping {{agent: action}}, got {type(actions).__name__}"
            )
        orders, clipped = self.interface.decode(actions, self.agents, self._sim_state)
        t = self._sim_state.t
        shock = None if self._supply is None else self._supply.at(t)
        controls = self._controls(actions) if self._controls is not None else {}
        self._sim_state, ledger = step(
            self.net, self._sim_state, orders, self._demand[:, t], shock, **controls
        )
        self._ledger = ledger
        r = self.interface.rewards(ledger)[0]
        obs = self._observations()
        done = self._sim_state.t >= self.net.periods
        agents = self.agents
        if self.reward_scale != 1.0:
            r = r * self.reward_scale
        dicts = self._dicts
        rewards = dicts.zip(agents, r.tolist())
        terminations = dicts.flags(agents, False)
        truncations = dicts.flags(agents, done)
        infos = self.interface.infos(ledger, clipped)
        if done:
            self.agents = []
        return obs, rewards, terminations, truncations, infos

    # ---------------------------------------------------------------------------------------------
    def _observations(self) -> dict[str, NDArray[np.float32]]:
        return self._dicts.zip_all(self.interface.observe(self._sim_state)[0])  # (A, D) -> row views

    def state(self) -> NDArray[np.float32]:
        """The centralised state: every node's local features, flattened."""
        return self.interface.state(self._sim_state)[0]

    @property
    def sim_state(self) -> SimState:
        """The simulator state after the last step (a batch of one; read only: it is immutable)."""
        return self._sim_state

    @property
    def last_ledger(self) -> Ledger | None:
        """The ledger of the last period simulated (a batch of one), or ``None`` after reset."""
        return self._ledger

    @property
    def demand(self) -> NDArray[np.float64]:
        """This episode's customer demand path, ``(periods, n_stores)``; ``(periods, P, S)`` with
        products."""
        return self._demand[0]

    def render(self) -> Any:
        """``"ansi"``: the frame as text; ``"human"``: the same frame written to stdout;
        ``"rgb_array"``: the network diagram with the period's state, ``(H, W, 3)`` uint8 (needs the
        ``plots`` extra); else ``None``."""
        if self.render_mode == "rgb_array":
            from invmgmt_marl.frames import render_frame

            return render_frame(self.net, self._sim_state, self._ledger)
        if self.render_mode not in ("ansi", "human"):
            return None
        from invmgmt_marl.render import render_ansi

        frame = render_ansi(self.net, self._sim_state, self._ledger)
        if self.render_mode == "human":  # what the user asked for: the frame on the terminal
            sys.stdout.write(frame + "\n")
            return None
        return frame

    def close(self) -> None:
        pass
