"""Fuzz (issue 13, "Done when"): random mutations of the shipped scenarios (fields set to random values of
random types, keys deleted, unknown keys added) given to ``validate_scenario``, and random YAML text
given to ``load_yaml_text``. The only outcomes allowed are success or ``ScenarioError``: no other
exception type, and no hang (each example is bounded in size and must finish within a second)."""

from __future__ import annotations

import contextlib
import copy
import math
import os
import time
from functools import cache
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from invmgmt_marl._io import load_yaml_text
from invmgmt_marl.errors import ScenarioError
from invmgmt_marl.scenario import list_scenarios, load_scenario, validate_scenario

# 60 examples per test by default (a few seconds); FUZZ_EXAMPLES=2000 for a long run
FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@cache
def _shipped(name: str) -> dict[str, Any]:
    return load_scenario(name).to_dict()


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside a nested mapping/list."""
    out: list[tuple[Any, ...]] = []
    items: Any = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for k, v in items:
        out.append((*prefix, k))
        out.extend(_paths(v, (*prefix, k)))
    return out


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.inf, -math.inf, math.nan, 0, -1, 1e308, 1e30, 10**9, 2**63]),
    st.text(max_size=20),
    st.sampled_from(["../../escaped", "store_0", "external", "poisson", "csv", "discrete", "reconciliation"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    data = copy.deepcopy(_shipped(draw(st.sampled_from(list_scenarios()))))
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(data)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent: Any = data
        for p in path[:-1]:
            parent = parent[p]
        action = draw(st.sampled_from(["set", "delete", "extra"]))
        if action == "set":
            parent[path[-1]] = draw(values)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=10))] = draw(values)
    return data


@FUZZ
@given(mutated())
def test_mutated_scenarios_give_success_or_scenario_error(data: dict[str, Any]) -> None:
    start = time.perf_counter()
    try:
        validate_scenario(data)
    except ScenarioError as err:
        assert len(str(err)) < 6000  # every value quoted in the message is capped
    assert time.perf_counter() - start < 1.0


@FUZZ
@given(st.text(alphabet=st.sampled_from(list("ab:-[]{}&*!|>'\"#,?\n 01.")), max_size=200))
def test_random_yaml_text_gives_success_or_scenario_error(text: str) -> None:
    try:
        data = load_yaml_text(text)
    except ScenarioError:
        return
    if isinstance(data, dict):
        with contextlib.suppress(ScenarioError):
            validate_scenario(data)
