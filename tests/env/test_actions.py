"""Action validation, clipping and decoding."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from invmgmt_marl import InvalidActionError
from invmgmt_marl.scenario import validate_scenario

SERIAL = ["store_0", "warehouse_0", "supplier_0"]


def _valid(action_type: str) -> dict[str, Any]:
    if action_type == "box":
        return {a: np.array([5.0], np.float32) for a in SERIAL}
    if action_type == "discrete":
        return dict.fromkeys(SERIAL, 5)
    return {a: np.array([5]) for a in SERIAL}


BAD = {
    # action_type: [(id, agent's bad action)]
    "box": [
        ("nan", np.array([np.nan], np.float32)),
        ("inf", np.array([np.inf], np.float32)),
        ("-inf", np.array([-np.inf])),
        ("scalar", 5.0),
        ("too-long", np.array([1.0, 2.0])),
        ("2d", np.array([[1.0]])),
        ("empty", np.array([])),
        ("text", "abc"),
        ("text-list", ["a"]),
        ("dict", {"q": 1}),
        ("none", None),
    ],
    "discrete": [
        ("nan", np.nan),
        ("inf", np.inf),
        ("fraction", 2.5),
        ("fraction-np", np.float32(0.5)),
        ("list", [3]),
        ("array", np.array([3, 4])),
        ("text", "x"),
        ("none", None),
    ],
    "multidiscrete": [
        ("nan", np.array([np.nan])),
        ("fraction", np.array([1.5])),
        ("scalar", 3),
        ("too-long", np.array([1, 2])),
        ("text", "x"),
    ],
}
BAD_CASES = [pytest.param(at, bad, id=f"{at}-{name}") for at, cases in BAD.items() for name, bad in cases]


@pytest.mark.parametrize(("action_type", "bad"), BAD_CASES)
@pytest.mark.parametrize("agent", ["store_0", "supplier_0"])
def test_bad_action_raises(make_env, action_type: str, bad: Any, agent: str) -> None:
    env = make_env("serial", action_type=action_type, periods=5)
    env.reset(seed=0)
    before = env.state().copy()
    acts = _valid(action_type)
    acts[agent] = bad
    with pytest.raises(InvalidActionError, match=agent):
        env.step(acts)
    # nothing happened: the env is still at the same period and accepts a valid step
    np.testing.assert_array_equal(env.state(), before)
    _, _, _, _, infos = env.step(_valid(action_type))
    assert infos["store_0"]["t"] == 0


def test_invalid_action_error_is_a_value_error() -> None:
    assert issubclass(InvalidActionError, ValueError)


@pytest.mark.parametrize("action_type", ["box", "discrete", "multidiscrete"])
def test_unknown_and_missing_agents_raise(make_env, action_type: str) -> None:
    env = make_env("serial", action_type=action_type, periods=5)
    env.reset(seed=0)
    acts = _valid(action_type)
    with pytest.raises(InvalidActionError, match="nobody"):
        env.step({**acts, "nobody": acts["store_0"]})
    missing = dict(acts)
    del missing["warehouse_0"]
    with pytest.raises(InvalidActionError, match="warehouse_0"):
        env.step(missing)
    with pytest.raises(InvalidActionError, match=r"expected one action for each live agent.*missing \["):
        env.step({})
    # a renamed agent: one unknown and one missing
    renamed = dict(missing)
    renamed["warehouse_1"] = acts["store_0"]
    with pytest.raises(InvalidActionError, match="warehouse_1"):
        env.step(renamed)


@pytest.mark.parametrize(
    ("action_type", "actions", "ordered", "clipped"),
    [
        # box bounds [0, 20]: 25 -> 20, -3 -> 0, 7.5 kept
        ("box", {"store_0": [25.0], "warehouse_0": [-3.0], "supplier_0": [7.5]}, [20, 0, 7.5], [1, 1, 0]),
        ("box", {"store_0": [1e12], "warehouse_0": [20.0], "supplier_0": [0.0]}, [20, 20, 0], [1, 0, 0]),
        # Discrete(21): index 21 -> 20, -1 -> 0
        ("discrete", {"store_0": 21, "warehouse_0": -1, "supplier_0": 20}, [20, 0, 20], [1, 1, 0]),
        ("discrete", {"store_0": 10**6, "warehouse_0": 0, "supplier_0": 3}, [20, 0, 3], [1, 0, 0]),
        # MultiDiscrete([21]): 30 -> 20, -4 -> 0
        ("multidiscrete", {"store_0": [30], "warehouse_0": [-4], "supplier_0": [2]}, [20, 0, 2], [1, 1, 0]),
    ],
)
def test_out_of_bounds_orders_are_clipped_and_counted(
    make_env, action_type, actions, ordered, clipped
) -> None:
    env = make_env("serial", action_type=action_type, periods=5)
    env.reset(seed=0)
    acts = {a: (np.asarray(v) if isinstance(v, list) else v) for a, v in actions.items()}
    _, _, _, _, infos = env.step(acts)
    np.testing.assert_array_equal(env.last_ledger.ordered[0], ordered)
    np.testing.assert_array_equal(env.last_ledger.edge_ordered[0], ordered)  # serial: one edge per agent
    assert [infos[a]["clipped"] for a in SERIAL] == clipped
    assert [infos[a]["ordered"] for a in SERIAL] == ordered
    # strict mode raises on the same actions, naming the first offending agent
    strict = make_env("serial", action_type=action_type, periods=5, strict=True)
    strict.reset(seed=0)
    with pytest.raises(InvalidActionError, match="store_0"):
        strict.step(acts)


def test_multidiscrete_clipping_counts_entries(make_env) -> None:
    env = make_env("net_2x3", action_type="multidiscrete", periods=5)
    env.reset(seed=0)
    acts = {a: np.array([1, 1]) for a in env.agents}
    acts["warehouse_0"] = np.array([7, -1])
    _, _, _, _, infos = env.step(acts)
    assert infos["warehouse_0"]["clipped"] == 2
    assert infos["warehouse_0"]["ordered"] == 4  # 4 + 0
    assert sum(infos[a]["clipped"] for a in env.possible_agents) == 2


@pytest.mark.parametrize("action_type", ["box", "discrete", "multidiscrete"])
def test_strict_accepts_in_bounds_actions(make_env, action_type: str) -> None:
    env = make_env("net_2x3", action_type=action_type, strict=True, periods=10)
    env.reset(seed=0)
    for _ in range(10):
        _, _, _, _, infos = env.step({a: env.action_space(a).sample() for a in env.agents})
        assert all(i["clipped"] == 0 for i in infos.values())


def test_discrete_decoding_net_2x3(make_env) -> None:
    """Discrete(25): a -> (normal, urgent) = (a // 5, a % 5), as in Liu et al."""
    env = make_env("net_2x3", action_type="discrete", periods=25)
    env.reset(seed=0)
    net = env.net
    for a in range(25):
        # every agent uses a different index this period
        acts = {ag: (a + 7 * k) % 25 for k, ag in enumerate(env.agents)}
        env.step(acts)
        for k, _ag in enumerate(env.possible_agents):
            idx = (a + 7 * k) % 25
            edges = net.agent_edges[k]
            np.testing.assert_array_equal(env.last_ledger.edge_ordered[0, edges], [idx // 5, idx % 5])
            assert env.last_ledger.ordered[0, k] == idx // 5 + idx % 5


def test_multidiscrete_order_is_normal_then_urgent(make_env) -> None:
    env = make_env("net_2x3", action_type="multidiscrete", periods=5)
    env.reset(seed=0)
    env.step({a: np.array([3, 1]) for a in env.agents})
    net = env.net
    labels = [(net.lead_time[j], net.unit_cost[j]) for j in net.agent_edges[0]]
    assert labels == [(4, 0.1), (2, 0.2)]  # [normal, urgent]
    for k in range(6):
        np.testing.assert_array_equal(env.last_ledger.edge_ordered[0, net.agent_edges[k]], [3, 1])


def test_integer_types_accepted_for_discrete(make_env) -> None:
    env = make_env("serial", action_type="discrete", periods=5)
    env.reset(seed=0)
    env.step({"store_0": 3, "warehouse_0": np.int64(4), "supplier_0": np.array(5)})
    np.testing.assert_array_equal(env.last_ledger.ordered[0], [3, 4, 5])
    env.step({"store_0": 3.0, "warehouse_0": np.float32(4.0), "supplier_0": np.uint8(5)})
    np.testing.assert_array_equal(env.last_ledger.ordered[0], [3, 4, 5])


def _uneven() -> Any:
    """store_0 orders from warehouse_0 and supplier_0 (2 edges); the others have one edge each."""
    return validate_scenario(
        {
            "periods": 5,
            "nodes": [
                {"role": "store", "demand": {"process": "constant", "value": 1}},
                {"role": "warehouse", "initial_on_hand": 50},
                {"role": "supplier", "initial_on_hand": 50},
            ],
            "edges": [
                {"from": "warehouse_0", "to": "store_0", "lead_time": 1, "max_order": 3},
                {"from": "supplier_0", "to": "store_0", "lead_time": 2, "max_order": 2},
                {"from": "supplier_0", "to": "warehouse_0", "lead_time": 1, "max_order": 9},
                {"from": "external", "to": "supplier_0", "lead_time": 1, "max_order": 9},
            ],
        }
    )


def test_shared_box_pads_and_ignores_padding(make_env) -> None:
    env = make_env(_uneven(), shared_spaces=True)
    env.reset(seed=0)
    space = env.action_space("store_0")
    assert space.shape == (2,)
    assert all(env.action_space(a) == space for a in env.possible_agents)
    _, _, _, _, infos = env.step(
        {
            "store_0": np.array([3.0, 2.0], np.float32),
            "warehouse_0": np.array([4.0, 9.0], np.float32),  # second entry is padding: ignored
            "supplier_0": np.array([9.0, 0.0], np.float32),
        }
    )
    np.testing.assert_array_equal(env.last_ledger.edge_ordered[0], [3, 2, 4, 9])
    assert [infos[a]["clipped"] for a in env.possible_agents] == [0, 0, 0]
    # beyond the agent's own bound (the shared space allows up to 9 for everyone): clipped and counted
    _, _, _, _, infos = env.step({a: np.array([9.0, 9.0], np.float32) for a in env.possible_agents})
    np.testing.assert_array_equal(env.last_ledger.edge_ordered[0], [3, 2, 9, 9])
    assert [infos[a]["clipped"] for a in env.possible_agents] == [2, 0, 0]


def test_discrete_mixed_radix_with_uneven_bounds(make_env) -> None:
    # store_0: edges with 0..3 and 0..2 -> Discrete(12), a = 3 * q0 + q1 (first edge most significant)
    env = make_env(_uneven(), action_type="discrete", periods=12)
    assert env.action_space("store_0").n == 12
    assert env.action_space("warehouse_0").n == 10
    env.reset(seed=0)
    for a in range(12):
        env.step({"store_0": a, "warehouse_0": 9 - a % 10, "supplier_0": 0})
        np.testing.assert_array_equal(env.last_ledger.edge_ordered[0], [a // 3, a % 3, 9 - a % 10, 0])


@pytest.mark.parametrize("strict", [False, True], ids=["clip", "strict"])
def test_box_upper_bound_from_the_space_is_in_bounds(make_env, strict: bool) -> None:
    env = make_env("serial", max_order=0.1, strict=strict, periods=3)
    env.reset(seed=0)
    acts = {a: env.action_space(a).high.copy() for a in env.agents}
    assert all(env.action_space(a).contains(acts[a]) for a in env.agents)
    _, _, _, _, infos = env.step(acts)
    assert [i["clipped"] for i in infos.values()] == [0, 0, 0]
