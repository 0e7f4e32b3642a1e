"""Issue 13 item 10: NaN / infinite / negative orders and negative demand are refused where inputs come
from outside (``check_inputs``, ``rollout``, the native SB3 VecEnv), naming the array and the entry.
Before, they flowed through ``step`` and broke unit conservation silently."""

from __future__ import annotations

import numpy as np
import pytest

from invmgmt_marl.compile import compile_network
from invmgmt_marl.errors import InvalidActionError
from invmgmt_marl.rollout import rollout
from invmgmt_marl.scenario import load_scenario
from invmgmt_marl.sim import initial_state, step
from invmgmt_marl.validation import check_demand, check_inputs, check_orders


@pytest.fixture(scope="module")
def net():  # type: ignore[no-untyped-def]
    return compile_network(load_scenario("serial", periods=6, demand={"process": "constant", "value": 3}))


def test_valid_inputs_pass_and_come_back_as_float_arrays(net) -> None:  # type: ignore[no-untyped-def]
    o, d = check_inputs(net, [[1, 2, 3], [0, 0, 0]], [[4], [5]])
    assert o.dtype == np.float64 and o.shape == (2, 3) and d.shape == (2, 1)


@pytest.mark.parametrize(
    ("orders", "match"),
    [
        ([[1.0, np.nan, 3.0]], r"orders\[0, 1\]: must be finite, got nan"),
        ([[1.0, 2.0, np.inf]], r"orders\[0, 2\]: must be finite, got inf"),
        ([[1.0, 2.0, 3.0], [0.0, -1.0, 0.0]], r"orders\[1, 1\]: must be non-negative, got -1.0"),
        ([[1.0, 2.0]], r"orders: expected shape \(B, 3\), got \(1, 2\)"),
        ([["a", "b", "c"]], "orders: expected a numeric array"),
    ],
)
def test_bad_orders_are_invalid_actions(net, orders, match) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidActionError, match=match):
        check_orders(net, orders)


def test_bad_demand_and_batch_mismatch(net) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=r"demand\[0, 0\]: must be non-negative, got -2.0"):
        check_inputs(net, [[0, 0, 0]], [[-2.0]])
    with pytest.raises(ValueError, match=r"demand: must be finite, got nan at index \(0, 4, 0\)"):
        check_demand(np.array([[[1.0]] * 4 + [[np.nan]]]), n_stores=net.n_stores, batched=True)
    with pytest.raises(ValueError, match="batch size 2 differs from the orders' 1"):
        check_inputs(net, [[0, 0, 0]], [[1.0], [1.0]])


def test_negative_demand_breaks_conservation_in_step_unchecked(net) -> None:  # type: ignore[no-untyped-def]
    # why the check exists: step itself accepts -5 demand and the store "receives" 5 units from customers
    state = initial_state(net, 1)
    nxt, _ = step(net, state, np.zeros((1, 3)), np.array([[-5.0]]))
    # 10 on hand + 10 arriving in period 0 - (-5) shipped to customers = 25: units appear from nowhere
    assert nxt.on_hand[0, 0] == pytest.approx(25.0)
    with pytest.raises(ValueError, match="must be non-negative"):
        check_inputs(net, np.zeros((1, 3)), np.array([[-5.0]]))


def test_rollout_refuses_nan_policy_orders_and_negative_demand(net) -> None:  # type: ignore[no-untyped-def]
    def nan_policy(net, state, rng):  # type: ignore[no-untyped-def]
        out = np.full((state.on_hand.shape[0], net.n_edges), 2.0)
        out[:, 1] = np.nan
        return out

    # before: np.clip kept the NaN and every cost of the episode came out NaN
    with pytest.raises(InvalidActionError, match=r"orders\[0, 1\]: must be finite, got nan"):
        rollout(net, nan_policy, episodes=1)
    demand = np.full((2, net.periods, 1), 3.0)
    demand[1, 2, 0] = -1.0
    with pytest.raises(ValueError, match=r"demand: must be non-negative, got -1.0 at index \(1, 2, 0\)"):
        rollout(net, lambda n, s, r: np.zeros((2, n.n_edges)), demand=demand)


def test_native_vec_env_refuses_nan_actions() -> None:
    pytest.importorskip("stable_baselines3")
    from invmgmt_marl.adapters.sb3 import NativeVecEnv

    venv = NativeVecEnv("serial", num_episodes=2, seed=0)
    venv.reset()
    actions = np.ones((venv.num_envs, *venv.action_space.shape), dtype=np.float32)
    actions[4] = np.nan  # slot 4 = episode 1, agent 1
    venv.step_async(actions)
    # the action codec already refuses NaN actions; check_inputs guards the decoded orders too
    with pytest.raises(InvalidActionError, match="must be finite"):
        venv.step_wait()


def test_product_inputs_are_checked_with_their_product_axis() -> None:
    """With products, orders are ``(B, P, E)`` and demand ``(B, P, S)``; bad entries are named."""
    import invmgmt_marl
    from invmgmt_marl.validation import check_inputs

    net = invmgmt_marl.compile_network(invmgmt_marl.load_scenario("sku50_1w"))
    orders, demand = np.ones((2, 50, 1)), np.ones((2, 50, 1))
    o, d = check_inputs(net, orders, demand)
    assert o.shape == (2, 50, 1) and d.shape == (2, 50, 1)
    with pytest.raises(InvalidActionError, match=r"orders: expected shape \(B, 50, 1\)"):
        check_inputs(net, np.ones((2, 1)), demand)
    orders[1, 7, 0] = np.nan
    with pytest.raises(InvalidActionError, match=r"orders\[1, 7, 0\]: must be finite"):
        check_inputs(net, orders, demand)
    demand[0, 3, 0] = -1.0
    with pytest.raises(ValueError, match=r"demand\[0, 3, 0\]: must be non-negative"):
        check_inputs(net, np.ones((2, 50, 1)), demand)
