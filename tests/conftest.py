"""Shared fixtures for the invmgmt-marl test suite."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

import invmgmt_marl
from invmgmt_marl.scenario import validate_scenario

settings.register_profile(
    "invmgmt", deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("invmgmt")


@pytest.fixture
def make_env() -> Iterator[Callable[..., Any]]:
    """Factory for parallel envs that closes every env it made."""
    made: list[Any] = []

    def factory(scenario: Any = "serial", **kw: Any) -> Any:
        if isinstance(scenario, dict):  # a raw scenario mapping
            scenario = validate_scenario(scenario)
        env = invmgmt_marl.parallel_env(scenario, **kw)
        made.append(env)
        return env

    yield factory
    for env in made:
        env.close()


@pytest.fixture(params=invmgmt_marl.list_scenarios())
def scenario_name(request: pytest.FixtureRequest) -> str:
    """Every shipped scenario (the name is the test id)."""
    return str(request.param)
