"""The test suite's own machinery: hypothesis profile choice and example scaling, shared strategies."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

from tests.strategies import (
    CI_EXAMPLES,
    DEV_EXAMPLES,
    MIN_EXAMPLES,
    TOPOLOGIES,
    demand_paths,
    examples,
    hypothesis_profile,
)


@pytest.mark.parametrize(
    ("environ", "profile"),
    [
        ({}, "dev"),
        ({"CI": "true"}, "ci"),
        ({"CI": "1"}, "ci"),
        ({"CI": "false"}, "dev"),
        ({"CI": "0"}, "dev"),
        ({"CI": ""}, "dev"),
        ({"HYPOTHESIS_PROFILE": "dev", "CI": "true"}, "dev"),  # the explicit choice wins
        ({"HYPOTHESIS_PROFILE": "ci"}, "ci"),
    ],
)
def test_profile_choice(environ: dict[str, str], profile: str) -> None:
    assert hypothesis_profile(environ) == profile


def test_profiles_registered() -> None:
    ci, dev = settings.get_profile("ci"), settings.get_profile("dev")
    assert (ci.max_examples, ci.derandomize, ci.deadline) == (CI_EXAMPLES, True, None)
    assert (dev.max_examples, dev.derandomize, dev.deadline) == (DEV_EXAMPLES, False, None)
    assert dev.max_examples < ci.max_examples


def test_examples_scale_with_the_loaded_profile() -> None:
    # n x (loaded max_examples / ci max_examples), at least MIN_EXAMPLES
    scale = settings().max_examples / CI_EXAMPLES
    assert examples(400) == round(400 * scale)
    assert examples(1) == MIN_EXAMPLES
    settings.load_profile("ci")  # the scale is read at call time from the loaded profile
    try:
        assert examples(250) == 250
        settings.load_profile("dev")
        assert examples(250) == 50 and examples(60) == 12 and examples(40) == MIN_EXAMPLES
    finally:
        settings.load_profile(hypothesis_profile())


def test_topologies_are_valid_scenarios() -> None:
    from invmgmt_marl.scenario import validate_scenario

    for name, (roles, links) in TOPOLOGIES.items():
        d = {
            "name": name,
            "periods": 2,
            "nodes": [
                {"role": r, **({"demand": {"process": "constant", "value": 1}} if r == "store" else {})}
                for r in roles
            ],
            "edges": [{"from": s, "to": t, "lead_time": 1} for s, t in links],
        }
        sc = validate_scenario(d)
        assert len(sc.edges) == len(links) and [n.role for n in sc.nodes] == roles


@settings(max_examples=20)
@given(demand_paths(3, 2, high=4))
def test_demand_paths_shape_and_range(d: np.ndarray) -> None:
    assert d.shape == (3, 2) and d.dtype == np.float64
    assert np.all((d >= 0) & (d <= 4) & (d == np.round(d)))
