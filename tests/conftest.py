"""Shared fixtures for the invmgmt-marl test suite."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

import invmgmt_marl
from invmgmt_marl.scenario import validate_scenario
from tests.strategies import CI_EXAMPLES, DEV_EXAMPLES, hypothesis_profile

# Hypothesis profiles. ``ci``: the full example counts (each test's ``examples(n)`` is n), derandomized
# (a fixed seed per test, no example database), no deadline. ``dev``: a fifth of the examples for a
# quick local loop, random seeds, no deadline either (2 shared cores make timings noisy).
# Chosen by HYPOTHESIS_PROFILE; otherwise ``ci`` when the CI variable is set (to anything but
# "", "0" or "false") and ``dev`` if not.
_COMMON: dict[str, Any] = {
    "deadline": None,
    "print_blob": True,
    "suppress_health_check": [HealthCheck.too_slow],
}
settings.register_profile("ci", max_examples=CI_EXAMPLES, derandomize=True, **_COMMON)
settings.register_profile("dev", max_examples=DEV_EXAMPLES, derandomize=False, **_COMMON)


settings.load_profile(hypothesis_profile())


def pytest_report_header(config: pytest.Config) -> str:
    return f"hypothesis profile: {hypothesis_profile()} (max_examples={settings().max_examples})"


@pytest.fixture(scope="module")
def ray_local() -> Iterator[Any]:
    """A local Ray instance (2 CPUs) whose workers import this copy of the package, started for a
    module and shut down after it (one already running is used and left alone). Needs the rllib
    extra: the modules using it skip without Ray."""
    import ray

    from invmgmt_marl.sharding import ensure_ray

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAY_AUTH_MODE", "disabled")
        started = not ray.is_initialized()
        if started:
            ensure_ray(num_cpus=2)
        try:
            yield ray
        finally:
            if started:
                ray.shutdown()


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
