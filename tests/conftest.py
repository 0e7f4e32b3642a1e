"""Shared fixtures for the invmgmt-marl test suite."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import invmgmt_marl
from invmgmt_marl.scenario import validate_scenario
from tests.helpers import DATASETS_DIR, DATASETS_MISSING, GOLDEN_DIR, GOLDEN_MISSING

settings.register_profile(
    "invmgmt", deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("invmgmt")


@pytest.fixture(scope="session")
def golden_dir() -> Path:
    """``../shared/golden/liu`` next to the repository; skips when absent."""
    if not GOLDEN_DIR.is_dir():
        pytest.skip(GOLDEN_MISSING)
    return GOLDEN_DIR


@pytest.fixture(scope="session")
def datasets_dir() -> Path:
    """``../shared/datasets/liu2022`` next to the repository; skips when absent."""
    if not DATASETS_DIR.is_dir():
        pytest.skip(DATASETS_MISSING)
    return DATASETS_DIR


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


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


@pytest.fixture(params=invmgmt_marl.list_scenarios())
def scenario_name(request: pytest.FixtureRequest) -> str:
    """Every shipped scenario (the name is the test id)."""
    return str(request.param)
