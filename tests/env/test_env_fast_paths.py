"""The ParallelEnv's fast paths at SKU scale return exactly what the straightforward paths return.

``env.step`` reads actions with :func:`~invmgmt_marl.agent_dicts.stack_flat` (joined buffers),
builds observations with :meth:`ProductInterface.observe` (every feature written once into the float32
result) and fills dicts from key templates (:meth:`AgentDicts.zip_all`). Here every step of an episode
is replayed beside the env by the slow paths kept for this: the checked per-agent decode
(``_decode_checked``), ``sim.step`` on the same inputs, :meth:`ProductInterface.observe_reference`
(``product_features`` and ``context`` in float64, then laid out and cast, the code ``observe`` ran
before) and ``dict(zip(...))``. Observations must match bit for bit, rewards, flags and infos exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import invmgmt_marl
from invmgmt_marl.agent_dicts import stack_flat, stacked
from invmgmt_marl.compile import compile_network
from invmgmt_marl.product_interface import ProductInterface, make_interface
from invmgmt_marl.scenario import load_scenario, validate_scenario
from invmgmt_marl.sim import initial_state, step
from invmgmt_marl.sim.supply import sample_supply

# two nodes whose inbound edges are listed in the other order (edge 0 feeds node 1): observe reads the
# pipeline through an index (the `_in_edge_take` branch)
SWAPPED = {
    "name": "swapped_edges",
    "periods": 10,
    "nodes": [
        {"role": "store", "lost_sales": True, "demand": {"process": "poisson", "mean": 3}},
        {"role": "supplier", "initial_on_hand": 6, "storage_capacity": 50},
    ],
    "edges": [
        {"from": "external", "to": "supplier_0", "lead_time": 3},
        {"from": "supplier_0", "to": "store_0", "lead_time": 2},
    ],
    "products": [
        {"name": "a", "unit_cost": 2, "price": 5, "max_order": 6},
        {"name": "b", "unit_cost": 1, "price": 2, "lead_time": 1, "max_order": 9},
        {"name": "c", "unit_cost": 3, "price": 4, "max_order": 4},
    ],
}
# the store buys from its supplier and from the vendor: two inbound edges, so observe sums the
# pipeline with product_features' matmul (the `_in_edge is None` branch)
TWO_INBOUND = {
    **SWAPPED,
    "name": "two_inbound",
    "edges": [
        {"from": "supplier_0", "to": "store_0", "lead_time": 2},
        {"from": "external", "to": "supplier_0", "lead_time": 3},
        {"from": "external", "to": "store_0", "lead_time": 4},
    ],
}


def _actions(env: Any, rng: np.random.Generator, kind: str) -> dict[str, Any]:
    """Random actions of every live agent in one of the forms a caller may pass."""
    out: dict[str, Any] = {}
    for a in env.agents:
        space = env.action_space(a)
        x = rng.uniform(space.low, space.high * 1.05)  # float64, some entries above the bound
        if kind == "float32":  # what action_space.sample() gives: fast path
            out[a] = np.minimum(x, space.high).astype(np.float32)
        elif kind == "float64":  # another dtype, still one dtype for every agent: fast path
            out[a] = np.minimum(x, space.high)
        elif kind == "mixed":  # float32 and float64 mixed: stack_flat must refuse, np.array reads them
            v = np.minimum(x, space.high)
            out[a] = v.astype(np.float32) if rng.random() < 0.5 else v
        elif kind == "lists":
            out[a] = np.minimum(x, space.high).tolist()
        else:  # "clip": some entries beyond the bounds, clipped and counted in infos
            out[a] = x.astype(np.float32)
    return out


def _reference_step(env: Any, actions: dict[str, Any], state: Any) -> tuple[Any, ...]:
    """What env.step must return, by the slow paths."""
    iface = env.interface
    agents = list(env.agents)
    # decode_batch (vectorised, tests/env/test_products_env.py ties it to decode) on the actions
    # padded into one (1, A, width) array; on small envs also the checked per-agent loop
    padded = np.zeros((1, *iface.batch_shape))
    for k, a in enumerate(agents):
        x = np.asarray(actions[a], dtype=np.float64)
        padded[0, k, : x.size] = x
    orders, counts = iface.decode_batch(padded)
    clipped = {a: int(c) for a, c in zip(agents, counts[0], strict=True) if c}
    if len(agents) <= 1000:
        checked, checked_clipped = iface._decode_checked(actions, agents)
        assert np.array_equal(checked, orders)
        assert {a: c for a, c in checked_clipped.items() if c} == clipped
    t = state.t
    shock = None if env._supply is None else env._supply.at(t)
    controls = iface.decode_controls(actions) if env._controls is not None else {}
    new_state, ledger = step(env.net, state, orders, env._demand[:, t], shock, **controls)
    obs = dict(zip(env.possible_agents, iface.observe_reference(new_state)[0], strict=True))
    rewards = dict(zip(agents, (iface.rewards(ledger)[0] * env.reward_scale).tolist(), strict=True))
    done = new_state.t >= env.net.periods
    infos = iface.infos(ledger, clipped)
    return orders, obs, rewards, dict.fromkeys(agents, False), dict.fromkeys(agents, done), infos


def _same_obs(got: dict[str, Any], want: dict[str, Any]) -> None:
    assert list(got) == list(want)
    for a, x in got.items():
        y = want[a]
        assert type(x) is np.ndarray and x.dtype == np.float32 and x.shape == y.shape, a
        assert x.tobytes() == y.tobytes(), a  # bit for bit (also the sign of zeros)


@pytest.mark.parametrize(
    ("scenario", "agents", "steps"),
    [
        ("sku200_1w", "node_product", 20),
        ("sku200_1w", "node", 20),
        ("sku2000_3w", "node_product", 20),
        ("sku2000_3w", "node", 20),
        ("swapped", "node_product", 10),
        ("swapped", "node", 10),
        ("two_inbound", "node_product", 10),
        ("two_inbound", "node", 10),
        # prices, cash, liquidation, perishables, events, several inbound edges per node
        ("retail_chain", "node", 10),
        ("retail_medium", "node_product", 10),
    ],
)
def test_step_equals_the_slow_paths(scenario: str, agents: str, steps: int) -> None:
    source: Any = {"swapped": SWAPPED, "two_inbound": TWO_INBOUND}.get(scenario, scenario)
    if isinstance(source, dict):
        source = validate_scenario(source)
    env = invmgmt_marl.parallel_env(source, agents=agents, reward_scale=0.5)
    assert isinstance(env.interface, ProductInterface)
    iface = env.interface  # observe's pipeline read: edge rows, rows through an index, or a matmul
    branch = "matmul" if iface._in_edge is None else "rows" if iface._in_edge_take is None else "take"
    expected = {
        "swapped": "take",
        "two_inbound": "matmul",
        "retail_chain": "matmul",
        "retail_medium": "matmul",
    }
    assert branch == expected.get(scenario, "rows")
    obs, _ = env.reset(seed=3)
    reference = env.interface.observe_reference(env.sim_state)[0]
    _same_obs(obs, dict(zip(env.possible_agents, reference, strict=True)))
    rng = np.random.default_rng(7)
    kinds = ["float32", "float64", "mixed", "lists", "clip"]
    kept: list[dict[str, Any]] = []
    for k in range(steps):
        actions = _actions(env, rng, kinds[k % len(kinds)])
        state = env.sim_state
        orders, *want = _reference_step(env, actions, state)
        fast_orders, _ = env.interface.decode(actions, list(env.agents), state)
        assert np.array_equal(fast_orders, orders)
        joined = stack_flat(list(actions.values()), env.interface._sizes)
        one_dtype = len({getattr(x, "dtype", None) for x in actions.values()} - {None}) == 1
        assert (joined is not None) == (kinds[k % len(kinds)] != "lists" and one_dtype)
        got = env.step(actions)
        _same_obs(got[0], want[0])
        for g, w in zip(got[1:], want[1:], strict=True):
            assert g == w and list(g) == list(w)
        kept.append(got[0])
        if k == 0:
            first_bytes = {a: x.tobytes() for a, x in got[0].items()}
        if not env.agents:
            break
    # observations never alias across steps: what the first step returned is unchanged at the end
    assert {a: x.tobytes() for a, x in kept[0].items()} == first_bytes
    a0 = env.possible_agents[0]
    assert all(not np.shares_memory(kept[0][a0], later[a0]) for later in kept[1:])


def test_observe_equals_reference_in_batches_and_with_shared_spaces() -> None:
    # batches of 3 episodes stepped by the simulator (random orders and demand); shared spaces append
    # the role one-hot; a scale of 1 skips the multiply
    cases: tuple[tuple[Any, dict[str, Any]], ...] = (
        ("sku50_1w", {}),
        (SWAPPED, {}),
        (TWO_INBOUND, {"obs_scale": 1.0}),
        ("retail_hard", {}),  # prices, cash, events
    )
    for scenario, kw in cases:
        net = compile_network(
            validate_scenario(scenario) if isinstance(scenario, dict) else load_scenario(scenario)
        )
        for agents, shared in (("node", True), ("node_product", True), ("node_product", False)):
            iface = make_interface(net, agents=agents, shared_spaces=shared, **kw)
            assert isinstance(iface, ProductInterface)
            rng = np.random.default_rng(0)
            state = initial_state(net, 3)
            supply = sample_supply(net, rng, 3, net.periods)  # None unless supply is uncertain
            for _ in range(net.max_lead + 2):  # every ring offset t % L
                orders = rng.uniform(0.0, 1.0, size=(3, net.n_products, net.n_edges)) * net.max_order
                demand = rng.poisson(3.0, size=(3, net.n_products, net.n_stores)).astype(np.float64)
                shock = None if supply is None else supply.at(state.t)
                state, _ = step(net, state, orders, demand, shock)
                got, want = iface.observe(state), iface.observe_reference(state)
                assert got.shape == want.shape and got.shape[0] == 3
                assert got.tobytes() == want.tobytes()


def test_stack_flat_reads_only_what_it_cannot_misread() -> None:
    f32 = [np.array([1.5], dtype=np.float32), np.array([2.5], dtype=np.float32), np.array([3.0], np.float32)]
    got = stack_flat(f32, [1, 1, 1])
    assert got is not None and got.dtype == np.float32 and got.tolist() == [1.5, 2.5, 3.0]
    wide = [np.arange(3.0), np.arange(3.0, 5.0)]  # per-agent widths 3 and 2 (node agents)
    assert stack_flat(wide, [3, 2]).tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]  # type: ignore[union-attr]
    refused = {
        # an int32 value has float32's size: read as bytes it would be a tiny denormal
        "int32 among float32": [f32[0], np.array([3], dtype=np.int32), f32[2]],
        "float64 among float32": [f32[0], np.array([3.0]), f32[2]],
        "big-endian": [np.array([1.0], dtype=">f4")] * 3,
        "sizes 0 and 2 for 1 and 1": [np.zeros((1, 0), np.float32), np.zeros((1, 2), np.float32), f32[2]],
        "not C-contiguous": [np.arange(4.0)[::2], np.arange(2.0)],
        "lists": [[1.0], [2.0], [3.0]],
        "python floats": [1.0, 2.0, 3.0],
        "objects": [np.array([1.0], dtype=object)] * 3,
    }
    expected = {"not C-contiguous": [2, 2]}
    for why, values in refused.items():
        assert stack_flat(values, expected.get(why, [1, 1, 1])) is None, why
    # what stack_flat refuses, stacked (np.array) reads by value or rejects
    assert stacked([f32[0], np.array([3], dtype=np.int32), f32[2]], [np.arange(3)]).tolist() == [1.5, 3, 3]


def test_sku_infos_are_fresh_every_step() -> None:
    # SKU agents that clipped nothing share one info dict within a step (docs/products.md); a new one
    # every step, so a caller who edits (or keeps) a step's infos never changes another step's
    env = invmgmt_marl.parallel_env("sku50_1w", agents="node_product")
    env.reset(seed=0)
    acts = {a: env.action_space(a).low for a in env.agents}
    *_, first = env.step(acts)
    a0, a1 = env.possible_agents[:2]
    assert first[a0] is first[a1] and first[a0] == {"clipped": 0, "t": 0}
    first[a0]["mine"] = 1
    *_, second = env.step(acts)
    assert second[a0] == {"clipped": 0, "t": 1} and first[a0] is not second[a0]
    assert first[a1] == {"clipped": 0, "t": 0, "mine": 1}  # the edit stays in the step it was made in
