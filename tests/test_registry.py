"""The Registry class and the extension points built on it; hostile arguments to new entry points."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import invmgmt_marl
from invmgmt_marl.compile import compile_network
from invmgmt_marl.errors import ScenarioError
from invmgmt_marl.interface import AgentInterface
from invmgmt_marl.registry import (
    ACTION_TYPES,
    DEMAND_PROCESSES,
    POLICIES,
    REWARD_SCHEMES,
    VIEWS,
    Registry,
    RegistryError,
)


def test_lazy_builtins_load_on_first_lookup(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "lazy_mod_for_registry.py").write_text("VALUE = object()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    reg: Registry[object] = Registry("thing", {"x": "lazy_mod_for_registry:VALUE"})
    assert "x" in reg and reg.names() == ("x",)
    assert "lazy_mod_for_registry" not in sys.modules  # naming it imported nothing
    value = reg.get("x")
    assert value is sys.modules["lazy_mod_for_registry"].VALUE
    assert reg["x"] is value  # loaded once, the same object after


def test_duplicates_refused_unless_replaced_and_unknown_names_listed() -> None:
    reg: Registry[int] = Registry("number", {"one": "math:pi"})
    reg.register("two", 2)
    with pytest.raises(RegistryError, match="number 'two' is already registered"):
        reg.register("two", 3)
    with pytest.raises(RegistryError, match="number 'one' is already registered"):  # lazy names too
        reg.register("one", 1)
    reg.register("two", 22, replace=True)
    assert reg.get("two") == 22
    with pytest.raises(RegistryError, match=r"unknown number 'three'; known: \['one', 'two'\]"):
        reg.get("three")
    with pytest.raises(RegistryError, match="unknown number"):
        reg.get(["not", "hashable"])  # type: ignore[arg-type]
    with pytest.raises(RegistryError, match="non-empty string"):
        reg.register("", 0)
    reg.unregister("two")
    assert "two" not in reg and len(reg) == 1


def test_builtin_registries_resolve_every_name() -> None:
    assert set(DEMAND_PROCESSES) >= {"poisson", "normal", "uniform", "constant", "fixed", "merton", "csv"}
    assert set(REWARD_SCHEMES) == {"cost", "profit", "reconciliation", "retail_step"}
    assert set(VIEWS) >= {"local", "neighbours", "global"}
    assert set(ACTION_TYPES) >= {"box", "discrete", "multidiscrete", "order_up_to", "order_up_to_echelon"}
    for reg in (DEMAND_PROCESSES, REWARD_SCHEMES, VIEWS, ACTION_TYPES, POLICIES):
        for name, entry in reg.items():  # every "module:attr" string points at something real
            assert entry is not None, (reg.kind, name)
    assert ACTION_TYPES.get("discrete").name == "discrete"


def test_the_schema_names_unknown_extension_names() -> None:
    with pytest.raises(ScenarioError, match="unknown observation view 'radar'"):
        invmgmt_marl.load_scenario("serial", view="radar")
    with pytest.raises(ScenarioError, match="unknown action type 'telepathy'"):
        invmgmt_marl.load_scenario("serial", action_type="telepathy")
    with pytest.raises(ScenarioError, match="unknown reward scheme 'karma'"):
        invmgmt_marl.load_scenario("serial", reward="karma")


@pytest.mark.parametrize("bad", [0, -3, 2.5, "ten", float("nan"), 10**9])
def test_max_cycles_refuses_what_periods_refuses(bad: object) -> None:
    with pytest.raises(ScenarioError, match="periods"):
        invmgmt_marl.parallel_env("serial", max_cycles=bad)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_agent_interface_refuses_a_bad_scale(bad: float) -> None:
    net = compile_network(invmgmt_marl.load_scenario("serial"))
    with pytest.raises(ValueError, match="obs_scale: must be a positive finite number"):
        AgentInterface(net, obs_scale=bad)
    with pytest.raises(ValueError, match="unknown observation view 'x'"):
        AgentInterface(net, view="x")
    with pytest.raises(RegistryError, match="unknown action type"):
        AgentInterface(net, action_type="x")
    assert np.isfinite(AgentInterface(net).scale)
