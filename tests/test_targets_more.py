"""``benchmarks/targets_more.py``: the (s, S)-factor action codec of the ``net_2x3`` target.

The codec's orders are checked against :class:`~invmgmt_marl.policies.base.SSPolicy` (an independent
implementation of the same rule) run with the levels the factors should give: ``round(f * level)`` with
``f = 1 + span * (x - 1)``.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from invmgmt_marl.compile import compile_network
from invmgmt_marl.demand import sample_network_demand
from invmgmt_marl.interface import make_codec
from invmgmt_marl.policies.base import SSPolicy
from invmgmt_marl.rollout import rollout
from invmgmt_marl.scenario.loader import load_scenario

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "targets_more.py"
S_LOW = np.array([2.0, 3.0, 2.0, 2.0, 4.0, 3.0])  # the tuned (s, S) levels of net_2x3 (reference command)
S_HIGH = np.array([8.0, 3.0, 8.0, 2.0, 4.0, 3.0])


@pytest.fixture(scope="module")
def tm() -> Iterator[Any]:
    spec = importlib.util.spec_from_file_location("targets_more_under_test", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    module.REF.update(s=S_LOW, S=S_HIGH, span=0.3)
    if module.SS_ACTION not in module.ACTION_TYPES:
        module.ACTION_TYPES.register(module.SS_ACTION, module.ScaledSSCodec)
    yield module
    sys.modules.pop(spec.name, None)


@pytest.mark.parametrize(
    ("x_s", "x_big", "s", "big"),
    [
        (1.0, 1.0, S_LOW, S_HIGH),  # the centre of the box: the tuned policy itself
        # the box's corners: factors 1 -/+ span, levels rounded to the nearest unit:
        # 0.7 * (2, 3, 2, 2, 4, 3) = (1.4, 2.1, 1.4, 1.4, 2.8, 2.1); 1.3 * (8, 3, 8, 2, 4, 3) =
        # (10.4, 3.9, 10.4, 2.6, 5.2, 3.9); 1.3 * s = (2.6, 3.9, 2.6, 2.6, 5.2, 3.9);
        # 0.7 * S = (5.6, 2.1, 5.6, 1.4, 2.8, 2.1), so S = max(round(0.7 S), round(1.3 s))
        (0.0, 2.0, [1, 2, 1, 1, 3, 2], [10, 4, 10, 3, 5, 4]),
        (2.0, 0.0, [3, 4, 3, 3, 5, 4], [6, 4, 6, 3, 5, 4]),  # S clamped up to s where 0.7 S < s
        (1.03, 0.97, S_LOW, S_HIGH),  # factors 1 +/- 0.009 round back to the tuned levels
    ],
)
def test_scaled_ss_codec_matches_ss_policy(tm: Any, x_s: float, x_big: float, s: Any, big: Any) -> None:
    net = compile_network(load_scenario("net_2x3"))
    codec = make_codec(net, tm.SS_ACTION, shared=True)
    action = np.tile(np.array([x_s, x_big]), (net.n_nodes, 1))  # (N, 2): (s entry, S entry) per node

    def learned(net_: Any, state: Any, rng: np.random.Generator) -> np.ndarray:
        return codec.decode_batch(np.broadcast_to(action, (state.on_hand.shape[0], *action.shape)), state)[0]

    demand = sample_network_demand(net, np.random.default_rng(5), 3)
    got = rollout(net, learned, demand=demand)
    want = rollout(net, SSPolicy(s, big), demand=demand)
    np.testing.assert_allclose(got.cost(), want.cost(), rtol=1e-12, atol=1e-12)  # every period and node
    assert got.cost().sum() > 0


def test_scaled_ss_codec_needs_two_edges_per_node(tm: Any) -> None:
    net = compile_network(load_scenario("serial"))  # one inbound edge per node
    with pytest.raises(ValueError, match="two inbound edges"):
        make_codec(net, tm.SS_ACTION, shared=True)
