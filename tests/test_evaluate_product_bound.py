"""evaluate() on a product network reports the product LP bound (with the shared constraints, or
without them when the joint LP is too large), computed independently here with the oracle."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pytest

from invmgmt_marl import oracle
from invmgmt_marl.compile import compile_network
from invmgmt_marl.evaluate import evaluate
from invmgmt_marl.scenario import load_scenario

NET = compile_network(load_scenario("sku50_1w"))


def test_evaluate_uses_the_product_bound() -> None:
    ev = evaluate("base_stock", "sku50_1w", episodes=2, seed=0, objective="profit", ladder=False)
    demand = ev.trajectory.demand  # (B, T, P, S)
    expected = [oracle.product_bound(NET, d, "profit").objective for d in demand]
    assert ev.bound == pytest.approx(np.array(expected), rel=1e-9)
    # an upper bound on profit: never below the policy's profit on the same path
    assert (np.asarray(ev.bound) >= np.asarray(ev.value) - 1e-6).all()


def test_too_large_joint_lp_falls_back_to_dropping_the_coupling(
    monkeypatch: Any, caplog: pytest.LogCaptureFixture
) -> None:
    real = oracle.product_bound

    def small(
        net: Any, demand: Any, objective: Any = "cost", coupling: Any = "auto", max_variables: Any = 0
    ) -> Any:
        return real(net, demand, objective, coupling, max_variables=10)  # every joint LP is "too large"

    monkeypatch.setattr(oracle, "product_bound", small)
    with caplog.at_level(logging.WARNING, logger="invmgmt_marl.evaluate"):
        ev = evaluate("base_stock", "sku50_1w", episodes=1, seed=0, objective="profit", ladder=False)
    assert "without the shared constraints" in caplog.text
    dropped = real(NET, ev.trajectory.demand[0], "profit", coupling="drop").objective
    assert ev.bound == pytest.approx([dropped], rel=1e-9)
