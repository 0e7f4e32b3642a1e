"""PettingZoo API conformance over every shipped scenario x action type x view x shared spaces,
plus the spaces' contracts that the PettingZoo tests do not check."""

from __future__ import annotations

import itertools
import os
import warnings
from typing import Any

import numpy as np
import pytest
from gymnasium import spaces
from pettingzoo.test import api_test, parallel_api_test
from pettingzoo.utils.env import AECEnv, ParallelEnv

import invmgmt_marl
from invmgmt_marl import supply_chain_v0
from invmgmt_marl.compile import compile_network
from invmgmt_marl.scenario import ROLES
from invmgmt_marl.sim.calendar import event_features
from tests.helpers import REPO_ROOT, is_product_scenario, skip_unsupported_on_products

PERIODS = 25
SCENARIOS = invmgmt_marl.list_scenarios()
ACTION_TYPES = ["box", "discrete", "multidiscrete", "order_up_to"]
VIEWS = ["local", "neighbours", "global"]
COMBOS = [
    pytest.param(sc, at, view, shared, id=f"{sc}-{at}-{view}-{'shared' if shared else 'own'}")
    for sc, at, view, shared in itertools.product(SCENARIOS, ACTION_TYPES, VIEWS, [False, True])
] + [  # the echelon variant differs from order_up_to only in the position it decodes against
    pytest.param(sc, "order_up_to_echelon", "local", shared, id=f"{sc}-order_up_to_echelon-local-{s}")
    for sc in SCENARIOS
    for shared, s in ((False, "own"), (True, "shared"))
]


def test_shipped_scenarios() -> None:
    listed = invmgmt_marl.list_scenarios()  # a fresh call, not the module-level copy
    # one entry per YAML file in the repository's scenarios/ folder (other files, e.g. the
    # generator script, are not scenarios), listed by os.listdir rather than the loader's glob
    on_disk = {f[: -len(".yaml")] for f in os.listdir(REPO_ROOT / "scenarios") if f.endswith(".yaml")}
    assert "generate_large" not in on_disk and len(on_disk) >= 3
    # and the product scenarios of scenarios/products/, except the ones kept out with a reason
    from invmgmt_marl.scenario.loader import UNLISTED_PRODUCT_SCENARIOS

    products = REPO_ROOT / "scenarios" / "products"
    on_disk |= {f[: -len(".yaml")] for f in os.listdir(products) if f.endswith(".yaml")}
    on_disk -= set(UNLISTED_PRODUCT_SCENARIOS)
    assert {"sku50_1w", "sku200_1w"} <= on_disk and "sku2000_3w" not in on_disk
    assert set(listed) == on_disk
    assert len(listed) == len(on_disk)  # no duplicates
    assert all(a < b for a, b in itertools.pairwise(listed)), listed  # strictly increasing order
    assert {"hmarl", "net_2x3", "serial"} <= set(listed)
    assert listed == SCENARIOS  # the list the parametrisations below were built from


def _kw(at: str, view: str, shared: bool) -> dict[str, Any]:
    return {"periods": PERIODS, "action_type": at, "view": view, "shared_spaces": shared}


@pytest.mark.parametrize(("scenario", "action_type", "view", "shared"), COMBOS)
def test_parallel_api(scenario: str, action_type: str, view: str, shared: bool) -> None:
    skip_unsupported_on_products(scenario, action_type, view)
    env = invmgmt_marl.parallel_env(scenario, **_kw(action_type, view, shared))
    assert isinstance(env, ParallelEnv)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*observation space value is infinity.*")
        warnings.filterwarnings(
            "ignore", message=".*should be gymnasium.spaces.box or gymnasium.spaces.discrete.*"
        )
        parallel_api_test(env, num_cycles=PERIODS + 5)
    env.close()


@pytest.mark.parametrize(("scenario", "action_type", "view", "shared"), COMBOS)
def test_aec_api(scenario: str, action_type: str, view: str, shared: bool) -> None:
    skip_unsupported_on_products(scenario, action_type, view)
    env = invmgmt_marl.env(scenario, **_kw(action_type, view, shared))
    assert isinstance(env.unwrapped, AECEnv) or isinstance(env, AECEnv)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*observation space value is infinity.*")
        warnings.filterwarnings(
            "ignore", message=".*should be gymnasium.spaces.box or gymnasium.spaces.discrete.*"
        )
        api_test(env, num_cycles=PERIODS + 5)
    env.close()


@pytest.mark.parametrize(("scenario", "action_type", "view", "shared"), COMBOS)
def test_rollout_stays_in_spaces(scenario: str, action_type: str, view: str, shared: bool) -> None:
    """Every observation lies in its space, every sampled action is accepted, infos are complete,
    and the episode truncates after exactly ``periods`` steps."""
    skip_unsupported_on_products(scenario, action_type, view)
    env = invmgmt_marl.parallel_env(scenario, **_kw(action_type, view, shared))
    obs, infos = env.reset(seed=3)
    for a in env.possible_agents:
        env.action_space(a).seed(17)
    steps = 0
    while env.agents:
        for a, o in obs.items():
            assert o.dtype == np.float32
            assert env.observation_space(a).contains(o), (a, o)
        assert env.state_space.contains(env.state())
        actions = {a: env.action_space(a).sample() for a in env.agents}
        obs, rew, term, trunc, infos = env.step(actions)
        steps += 1
        assert set(obs) == set(rew) == set(term) == set(trunc) == set(infos) == set(env.possible_agents)
        for a in env.possible_agents:
            assert isinstance(rew[a], float) and np.isfinite(rew[a])
            assert set(invmgmt_marl.sim.NODE_FIELDS) | {"clipped", "t"} <= set(infos[a])
            assert infos[a]["t"] == steps - 1
            if not shared:  # an agent's own space only holds in-bounds actions
                assert infos[a]["clipped"] == 0
        assert all(v is False for v in term.values())
        assert all(v == (steps == PERIODS) for v in trunc.values())
    assert steps == PERIODS


@pytest.mark.parametrize("shared", [False, True], ids=["own", "shared"])
@pytest.mark.parametrize("action_type", ACTION_TYPES)
def test_spaces_are_cached_objects(scenario_name: str, action_type: str, shared: bool) -> None:
    skip_unsupported_on_products(scenario_name, action_type)
    env = invmgmt_marl.parallel_env(scenario_name, action_type=action_type, shared_spaces=shared)
    for a in env.possible_agents:
        assert env.observation_space(a) is env.observation_space(a)
        assert env.action_space(a) is env.action_space(a)
    if shared:
        obs_spaces = [env.observation_space(a) for a in env.possible_agents]
        act_spaces = [env.action_space(a) for a in env.possible_agents]
        assert all(s == obs_spaces[0] for s in obs_spaces)
        assert all(s == act_spaces[0] for s in act_spaces)


@pytest.mark.parametrize("view", VIEWS)
def test_shared_observations_end_with_role_one_hot(scenario_name: str, view: str) -> None:
    skip_unsupported_on_products(scenario_name, view=view)
    own = invmgmt_marl.parallel_env(scenario_name, view=view, periods=5)
    shared = invmgmt_marl.parallel_env(scenario_name, view=view, periods=5, shared_spaces=True)
    o_own, _ = own.reset(seed=2)
    o_sh, _ = shared.reset(seed=2)
    for a in own.possible_agents:
        role = a.rsplit("_", 1)[0]
        assert o_sh[a].shape == (o_own[a].shape[0] + len(ROLES),)
        np.testing.assert_array_equal(o_sh[a][-3:], np.eye(3)[ROLES.index(role)])
        np.testing.assert_array_equal(o_sh[a][:-3], o_own[a])  # the rest is the agent's own view


@pytest.mark.parametrize("view", VIEWS)
def test_observation_dimensions(scenario_name: str, view: str) -> None:
    skip_unsupported_on_products(
        scenario_name,
        view=view,
        check="product features + node context: test_products_env.py::test_observation_layout",
    )
    env = invmgmt_marl.parallel_env(scenario_name, view=view)
    net = compile_network(env.scenario)
    # on_hand, backlog, owed to it, incoming, L arrivals, [makeable units], [expiring units], progress
    f = 5 + net.max_lead + int(net.any_assembly) + int(net.any_perishable)
    width_in = max(1, max(int((net.upstream[i] >= 0).sum()) for i in range(net.n_nodes)))
    width_out = max(1, max(int((net.downstream[i] >= 0).sum()) for i in range(net.n_nodes)))
    expected = {"local": f, "neighbours": f * (1 + width_in + width_out), "global": net.n_nodes * (f + 1)}[
        view
    ]
    for a in env.possible_agents:
        assert env.observation_space(a).shape == (expected,)
    assert env.state_space.shape == (net.n_nodes * f,)


def test_local_state_is_all_local_observations(scenario_name: str) -> None:
    env = invmgmt_marl.parallel_env(scenario_name, periods=6)
    obs, _ = env.reset(seed=5)
    for _ in range(4):
        expected = np.concatenate([obs[a] for a in env.possible_agents])
        if is_product_scenario(scenario_name):
            expected = _product_state_from_observations(env, obs)
        np.testing.assert_array_equal(env.state(), expected)
        obs, *_ = env.step({a: env.action_space(a).sample() for a in env.agents})


def _product_state_from_observations(env: Any, obs: dict[str, np.ndarray]) -> np.ndarray:
    """The documented product ``state()`` layout (docs/products.md; ``ProductInterface.state``) rebuilt
    from the node agents' local observations (``P * F`` product features, then the node context:
    storage, budget, progress, [cash], [2 per event]) plus what no observation holds: every product
    feature ``(P, N, F)`` flattened, storage and budget of every node ``(2 N)``, progress ``(1)``,
    [cash of every node ``(N)``], [stock by age of every perishable (product, node) pair, scaled],
    [each event's countdown and periods left ``(2 V)``]."""
    net, iface = env.net, env.interface
    p, n, f = net.n_products, net.n_nodes, iface.features
    assert list(env.possible_agents) == list(net.agents) and len(net.agents) == n  # node agents
    rows = np.stack([obs[a] for a in env.possible_agents]).astype(np.float64)  # (N, P F + C)
    feats = rows[:, : p * f].reshape(n, p, f).swapaxes(0, 1)  # (P, N, F)
    ctx = rows[:, p * f :]  # (N, C)
    parts = [feats.ravel(), ctx[:, :2].ravel(), ctx[:1, 2]]
    if net.any_cash:
        parts.append(ctx[:, 3])
    if net.any_perishable_products:
        parts.append(np.asarray(env.sim_state.age, dtype=np.float64)[0].ravel() / iface.scale)
    if net.any_events:  # the calendar's countdowns, whichever nodes they show at
        parts.append(event_features(net, int(env.sim_state.t)).ravel())
    return np.concatenate(parts).astype(np.float32)


def test_global_view_is_the_state_plus_agent_one_hot(scenario_name: str) -> None:
    skip_unsupported_on_products(scenario_name, view="global")
    env = invmgmt_marl.parallel_env(scenario_name, view="global", periods=6)
    obs, _ = env.reset(seed=5)
    n = len(env.possible_agents)
    for _ in range(3):
        for i, a in enumerate(env.possible_agents):
            np.testing.assert_array_equal(obs[a][:-n], env.state())
            np.testing.assert_array_equal(obs[a][-n:], np.eye(n)[i])
        obs, *_ = env.step({a: env.action_space(a).sample() for a in env.agents})


def test_neighbours_view_holds_neighbour_features() -> None:
    # serial: store_0 <- warehouse_0 <- supplier_0. warehouse_0's neighbours: upstream supplier_0,
    # downstream store_0; the store has no downstream node, the supplier no internal upstream (zeros)
    env = invmgmt_marl.parallel_env("serial", view="neighbours", periods=6)
    loc = invmgmt_marl.parallel_env("serial", periods=6)
    o, _ = env.reset(seed=1)
    lo, _ = loc.reset(seed=1)
    for _ in range(3):
        f = lo["store_0"].shape[0]
        np.testing.assert_array_equal(
            o["warehouse_0"].reshape(3, f), [lo["warehouse_0"], lo["supplier_0"], lo["store_0"]]
        )
        np.testing.assert_array_equal(
            o["store_0"].reshape(3, f), [lo["store_0"], lo["warehouse_0"], np.zeros(f)]
        )
        np.testing.assert_array_equal(
            o["supplier_0"].reshape(3, f), [lo["supplier_0"], np.zeros(f), lo["warehouse_0"]]
        )
        acts = {a: env.action_space(a).sample() for a in env.agents}
        o, *_ = env.step(acts)
        lo, *_ = loc.step(acts)


def test_action_spaces_per_type() -> None:
    assert invmgmt_marl.parallel_env("serial").action_space("store_0") == spaces.Box(0, 20, (1,), np.float32)
    assert invmgmt_marl.parallel_env("serial", action_type="discrete").action_space(
        "store_0"
    ) == spaces.Discrete(21)
    assert invmgmt_marl.parallel_env("net_2x3", action_type="discrete").action_space(
        "warehouse_1"
    ) == spaces.Discrete(25)
    assert invmgmt_marl.parallel_env("net_2x3", action_type="multidiscrete").action_space(
        "store_0"
    ) == spaces.MultiDiscrete([5, 5])
    hm = invmgmt_marl.parallel_env("hmarl")
    np.testing.assert_array_equal(hm.action_space("store_0").high, [200])  # scenario default
    np.testing.assert_array_equal(hm.action_space("supplier_0").high, [1000])  # edge max_order


def test_module_entry_points() -> None:
    assert supply_chain_v0.parallel_env is invmgmt_marl.parallel_env
    env = invmgmt_marl.parallel_env()
    assert env.metadata["name"] == "supply_chain_v0"
    assert env.possible_agents == ["store_0", "warehouse_0", "supplier_0"]  # default scenario: serial
    raw = invmgmt_marl.raw_env("net_2x3")
    assert isinstance(raw, AECEnv)
    assert raw.possible_agents == [
        "store_0",
        "store_1",
        "warehouse_0",
        "warehouse_1",
        "supplier_0",
        "supplier_1",
    ]
    with pytest.raises(ValueError, match="render_mode"):
        invmgmt_marl.parallel_env(render_mode="video")


def test_aec_env_cycles_agents_and_applies_joint_step() -> None:
    env = invmgmt_marl.env("serial", periods=3, action_type="discrete")
    env.reset(seed=0)
    seen = []
    for agent in env.agent_iter():
        obs, rew, term, trunc, info = env.last()
        seen.append(agent)
        env.step(None if term or trunc else 5)
    assert seen[:3] == ["store_0", "warehouse_0", "supplier_0"]
    assert len(seen) == 3 * 3 + 3  # three periods, then each agent observes its truncation
