"""Demand processes: distributions, modifiers (multiplier, seasonality, rounding) and replay."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from invmgmt_marl.demand import sample_demand
from invmgmt_marl.scenario import DemandSpec, load_scenario


def spec(**kw: Any) -> DemandSpec:
    return DemandSpec.model_validate(kw)


def draw(s: DemandSpec, batch: int = 1, periods: int = 200, seed: int = 0) -> np.ndarray:
    out = sample_demand([s], np.random.default_rng(seed), batch, periods)
    assert out.shape == (batch, periods, 1)
    return out[:, :, 0]


def test_merton_paths_of_the_serial_scenario() -> None:
    sc = load_scenario("serial")
    (s,) = [n.demand for n in sc.nodes if n.demand is not None]
    d = draw(s, batch=64)
    means = d.mean(axis=1)
    assert np.all((means > 0) & (means <= 20))
    np.testing.assert_array_equal(d, np.floor(d))  # integers
    assert d.min() >= 0 and d.max() <= 20
    np.testing.assert_array_equal(d[:, 0], np.floor(10 * np.exp(0.0)))  # X_0 = start = 0 -> floor(base)
    assert len({row.tobytes() for row in d}) == 64  # random paths


def test_merton_first_value_and_cap() -> None:
    # X_0 = start: the first demand is floor(base * exp(start)) = floor(3 * e^0.5) = floor(4.946) = 4
    d = draw(spec(process="merton", start=0.5, base=3.0, max_demand=6.0, delta=0.3), batch=32, periods=100)
    np.testing.assert_array_equal(d[:, 0], np.floor(3.0 * np.exp(0.5)))
    assert d.max() <= 6.0  # capped ...
    assert (d == 6.0).any()  # ... and the cap binds with this volatility
    assert np.all(d.mean(axis=1) > 0) and np.all(d.mean(axis=1) <= 6.0)
    np.testing.assert_array_equal(d, np.floor(d))


def test_poisson_mean_and_variance() -> None:
    d = draw(spec(process="poisson", mean=7.0), batch=200, periods=200, seed=3)  # 40 000 draws
    assert abs(d.mean() - 7.0) < 0.1  # sd of the mean ~ 0.013
    assert abs(d.var() - 7.0) < 0.5
    np.testing.assert_array_equal(d, np.floor(d))


def test_uniform_is_inclusive_integers() -> None:
    d = draw(spec(process="uniform", low=2, high=5), batch=50, periods=100)
    assert set(np.unique(d)) == {2.0, 3.0, 4.0, 5.0}


def test_normal_is_censored_at_zero() -> None:
    d = draw(spec(process="normal", mean=-1.0, std=1.0), batch=20, periods=100)
    assert d.min() == 0.0 and (d == 0).mean() > 0.5
    d = draw(spec(process="normal", mean=50.0, std=5.0, integer=False), batch=100, periods=100)
    assert abs(d.mean() - 50.0) < 0.2
    assert not np.all(d == np.round(d))  # integer: false keeps fractions


def test_multiplier_and_seasonality_exact_on_constant_process() -> None:
    t = np.arange(24.0)
    factor = 1.5 * (1 + 0.3 * np.sin(2 * np.pi * (t + 2.0) / 12.0))
    s = spec(
        process="constant",
        value=10.0,
        multiplier=1.5,
        integer=False,
        seasonal={"amplitude": 0.3, "period": 12, "phase": 2.0},
    )
    d = draw(s, batch=3, periods=24)
    np.testing.assert_allclose(d, np.broadcast_to(10.0 * factor, (3, 24)), rtol=1e-14)
    # default integer: true rounds after the modifiers
    s_int = spec(
        process="constant", value=10.0, multiplier=1.5, seasonal={"amplitude": 0.3, "period": 12, "phase": 2}
    )
    np.testing.assert_array_equal(draw(s_int, periods=24)[0], np.rint(10.0 * factor))
    # the multiplier alone
    np.testing.assert_array_equal(
        draw(spec(process="constant", value=4, multiplier=2.5), periods=5)[0], [10.0] * 5
    )


def test_fixed_series() -> None:
    np.testing.assert_array_equal(draw(spec(process="fixed", values=[1, 2, 3, 4]), periods=3)[0], [1, 2, 3])
    np.testing.assert_array_equal(
        draw(spec(process="fixed", values=[1, 2], cycle=True), periods=5)[0], [1, 2, 1, 2, 1]
    )
    with pytest.raises(ValueError, match="fixed demand has 2 values"):
        draw(spec(process="fixed", values=[1, 2]), periods=5)


def test_sampling_is_reproducible_per_seed() -> None:
    specs = [n.demand for n in load_scenario("net_2x3").nodes if n.demand is not None]
    a = sample_demand(specs, np.random.default_rng(5), 4, 50)
    b = sample_demand(specs, np.random.default_rng(5), 4, 50)
    c = sample_demand(specs, np.random.default_rng(6), 4, 50)
    assert a.shape == (4, 50, 2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert not np.array_equal(a[:, :, 0], a[:, :, 1])  # stores draw separate paths


def test_env_reset_draws_demand_from_the_scenario(make_env) -> None:
    env = make_env("hmarl", periods=60)
    env.reset(seed=11)
    d = env.demand
    assert d.shape == (60, 3)
    assert d.min() >= 0
    np.testing.assert_array_equal(d, np.rint(d))
    # multipliers 1.2 / 1.0 / 1.5 on a mean of 50 (seasonality averages out over 2 cycles)
    np.testing.assert_allclose(d.mean(axis=0), [60, 50, 75], rtol=0.12)


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((24, 1)),  # too short
        np.zeros((25, 2)),  # too many stores
        np.zeros((25, 1, 1)),  # 3-d
        np.full((25, 1), -1.0),  # negative
        np.full((25, 1), np.nan),  # not finite
    ],
    ids=["short", "stores", "3d", "negative", "nan"],
)
def test_reset_demand_option_validated(make_env, bad: np.ndarray) -> None:
    env = make_env("serial", periods=25)
    with pytest.raises(ValueError, match="demand"):
        env.reset(seed=0, options={"demand": bad})


def test_reset_demand_option_replays_the_path(make_env) -> None:
    env = make_env("serial", periods=25)
    path = np.arange(
        30, dtype=float
    )  # longer than the episode: the first 25 values are used; 1-d for one store
    env.reset(seed=0, options={"demand": path})
    np.testing.assert_array_equal(env.demand[:, 0], path[:25])
    for t in range(25):
        _, _, _, _, infos = env.step({a: np.zeros(1, np.float32) for a in env.agents})
        assert infos["store_0"]["requested"] == t
    env.reset(seed=0)  # without the option the next episode samples again
    assert not np.array_equal(env.demand[:, 0], path[:25])


def test_reset_demand_option_is_copied(make_env) -> None:
    env = make_env("serial", periods=5)
    path = np.full((5, 1), 3.0)
    env.reset(seed=0, options={"demand": path})
    path[:] = 99.0
    np.testing.assert_array_equal(env.demand, 3.0)
