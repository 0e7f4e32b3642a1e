"""Scenario validation: every invalid field raises ScenarioError naming the field path and the bad value."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

import invmgmt_marl
from invmgmt_marl import ScenarioError
from invmgmt_marl.scenario import load_scenario, validate_scenario
from tests.helpers import BASE_SCENARIO

BASE = BASE_SCENARIO


def path(*parts: str) -> str:
    """A regex for a field path: parts joined by '.' or ': ', a node may carry its agent name
    (``nodes[0] (store_0).demand``)."""
    sep = r"(?: \([a-z]+_\d+\))?(?:\.|: )"
    return sep.join(re.escape(p) for p in parts) + r"(?![\w\[])"


def setp(*keys: Any, value: Any) -> Callable[[dict[str, Any]], None]:
    def mut(d: dict[str, Any]) -> None:
        node = d
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value

    return mut


def delp(*keys: Any) -> Callable[[dict[str, Any]], None]:
    def mut(d: dict[str, Any]) -> None:
        node = d
        for k in keys[:-1]:
            node = node[k]
        del node[keys[-1]]

    return mut


def chain(*muts: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def mut(d: dict[str, Any]) -> None:
        for m in muts:
            m(d)

    return mut


def add_node(node: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    return lambda d: d["nodes"].append(node)


def add_edge(edge: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    return lambda d: d["edges"].append(edge)


CASES = [
    # id, mutation, field-path regex, bad value as it appears in the message
    ("lead_time-zero", setp("edges", 0, "lead_time", value=0), path("edges[0]", "lead_time"), "0"),
    ("lead_time-negative", setp("edges", 1, "lead_time", value=-2), path("edges[1]", "lead_time"), "-2"),
    ("lead_time-fraction", setp("edges", 0, "lead_time", value=1.5), path("edges[0]", "lead_time"), "1.5"),
    ("lead_time-missing", delp("edges", 0, "lead_time"), path("edges[0]", "lead_time"), "missing"),
    ("unknown-key-top", setp("bogus_key", value=123), path("bogus_key"), "123"),
    ("unknown-key-node", setp("nodes", 1, "bogus_key", value=123), path("nodes[1]", "bogus_key"), "123"),
    ("unknown-key-edge", setp("edges", 2, "bogus_key", value=123), path("edges[2]", "bogus_key"), "123"),
    (
        "unknown-key-demand",
        setp("nodes", 0, "demand", "bogus_key", value=123),
        path("nodes[0]", "demand", "bogus_key"),
        "123",
    ),
    (
        "unknown-key-seasonal",
        setp("nodes", 0, "demand", "seasonal", value={"amplitude": 0.1, "period": 7, "bogus_key": 123}),
        path("nodes[0]", "demand", "seasonal", "bogus_key"),
        "123",
    ),
    ("unknown-key-actions", setp("actions", "bogus_key", value=123), path("actions", "bogus_key"), "123"),
    (
        "unknown-key-observation",
        setp("observation", "bogus_key", value=123),
        path("observation", "bogus_key"),
        "123",
    ),
    ("unknown-key-reward", setp("reward", "bogus_key", value=123), path("reward", "bogus_key"), "123"),
    ("unknown-role", setp("nodes", 1, "role", value="factory"), path("nodes[1]", "role"), "'factory'"),
    (
        "unknown-process",
        setp("nodes", 0, "demand", value={"process": "bogus_process"}),
        path("nodes[0]", "demand", "process"),
        "'bogus_process'",
    ),
    ("negative-mean", setp("nodes", 0, "demand", "mean", value=-3), path("nodes[0]", "demand", "mean"), "-3"),
    (
        "negative-std",
        setp("nodes", 0, "demand", value={"process": "normal", "mean": 5, "std": -1}),
        path("nodes[0]", "demand", "std"),
        "-1",
    ),
    (
        "uniform-high-below-low",
        setp("nodes", 0, "demand", value={"process": "uniform", "low": 5, "high": 2}),
        path("nodes[0]", "demand", "high"),
        "2",
    ),
    (
        "merton-max-zero",
        setp("nodes", 0, "demand", value={"process": "merton", "max_demand": 0}),
        path("nodes[0]", "demand", "max_demand"),
        "0",
    ),
    (
        "demand-missing-param",
        setp("nodes", 0, "demand", value={"process": "poisson"}),
        path("nodes[0]", "demand", "mean"),
        "missing",
    ),
    (
        "fixed-too-short",
        setp("nodes", 0, "demand", value={"process": "fixed", "values": [1, 2, 3]}),
        path("nodes[0]", "demand", "values"),
        "3 values",
    ),
    (
        "seasonal-amplitude",
        setp("nodes", 0, "demand", "seasonal", value={"amplitude": 1.5, "period": 7}),
        path("nodes[0]", "demand", "seasonal", "amplitude"),
        "1.5",
    ),
    (
        "multiplier-negative",
        setp("nodes", 0, "demand", "multiplier", value=-2),
        path("nodes[0]", "demand", "multiplier"),
        "-2",
    ),
    ("store-without-demand", delp("nodes", 0, "demand"), path("nodes[0]", "demand"), "None"),
    (
        "demand-on-warehouse",
        setp("nodes", 1, "demand", value={"process": "poisson", "mean": 3}),
        path("nodes[1]", "demand"),
        "poisson",
    ),
    (
        "lost-sales-on-warehouse",
        chain(setp("nodes", 1, "lost_sales", value=True), setp("nodes", 1, "backlog_cost", value=0)),
        path("nodes[1]", "lost_sales"),
        "True",
    ),
    ("price-on-supplier", setp("nodes", 2, "price", value=7), path("nodes[2]", "price"), "7"),
    (
        "lost-sales-store-with-backlog-cost",
        setp("nodes", 0, "lost_sales", value=True),
        path("nodes[0]", "backlog_cost"),
        "2",
    ),
    (
        "lost-sales-store-with-initial-backlog",
        chain(
            setp("nodes", 0, "lost_sales", value=True),
            setp("nodes", 0, "backlog_cost", value=0),
            setp("nodes", 0, "initial_backlog", value=4),
        ),
        path("nodes[0]", "initial_backlog"),
        "4",
    ),
    (
        "negative-holding-cost",
        setp("nodes", 1, "holding_cost", value=-1),
        path("nodes[1]", "holding_cost"),
        "-1",
    ),
    (
        "negative-initial-stock",
        setp("nodes", 2, "initial_on_hand", value=-5),
        path("nodes[2]", "initial_on_hand"),
        "-5",
    ),
    ("no-nodes", setp("nodes", value=[]), path("nodes"), "[]"),
    ("unknown-from", setp("edges", 0, "from", value="nobody"), path("edges[0]", "from"), "'nobody'"),
    ("unknown-to", setp("edges", 1, "to", value="nobody"), path("edges[1]", "to"), "'nobody'"),
    ("self-loop", setp("edges", 0, "from", value="store_0"), path("edges[0]", "from"), "'store_0'"),
    (
        "duplicate-edge",
        add_edge({"from": "warehouse_0", "to": "store_0", "lead_time": 1}),
        path("edges[3]"),
        "'warehouse_0' -> 'store_0'",
    ),
    ("cycle", add_edge({"from": "store_0", "to": "supplier_0", "lead_time": 1}), path("edges"), "'store_0'"),
    (
        "external-into-warehouse",
        add_edge({"from": "external", "to": "warehouse_0", "lead_time": 1}),
        path("edges[3]", "to"),
        "'warehouse_0'",
    ),
    (
        "external-into-store",
        add_edge({"from": "external", "to": "store_0", "lead_time": 1}),
        path("edges[3]", "to"),
        "'store_0'",
    ),
    (
        "supplier-without-external",
        chain(
            add_node({"role": "supplier"}),
            add_edge({"from": "supplier_0", "to": "supplier_1", "lead_time": 1}),
        ),
        path("nodes[3]"),
        "supplier_1",
    ),
    ("node-without-inbound", add_node({"role": "warehouse"}), path("nodes[3]"), "warehouse_1"),
    (
        "store-unreachable",
        chain(
            setp("nodes", value=[copy.deepcopy(BASE["nodes"][0]), {"role": "warehouse"}]),
            setp("edges", value=[{"from": "warehouse_0", "to": "store_0", "lead_time": 1}]),
        ),
        path("nodes[0]"),
        "store_0",
    ),
    (
        "pipeline-longer-than-lead",
        setp("edges", 0, "initial_pipeline", value=[1, 2, 3]),
        path("edges[0]", "initial_pipeline"),
        "3",
    ),
    ("capacity-zero", setp("edges", 0, "capacity", value=0), path("edges[0]", "capacity"), "0"),
    (
        "discrete-fractional-max-order",
        chain(setp("actions", "type", value="discrete"), setp("actions", "max_order", value=2.5)),
        path("actions", "max_order"),
        "2.5",
    ),
    (
        "multidiscrete-fractional-edge-max-order",
        chain(setp("actions", "type", value="multidiscrete"), setp("edges", 1, "max_order", value=3.5)),
        path("edges[1]", "max_order"),
        "3.5",
    ),
    ("unknown-action-type", setp("actions", "type", value="bogus"), path("actions", "type"), "'bogus'"),
    ("max-order-zero", setp("actions", "max_order", value=0), path("actions", "max_order"), "0"),
    (
        "unknown-view",
        setp("observation", "view", value="bogus_view"),
        path("observation", "view"),
        "'bogus_view'",
    ),
    ("scale-zero", setp("observation", "scale", value=0), path("observation", "scale"), "0"),
    (
        "unknown-scheme",
        setp("reward", "scheme", value="bogus_scheme"),
        path("reward", "scheme"),
        "'bogus_scheme'",
    ),
    (
        "weights-with-cost",
        setp("reward", "weights", value={"service_level": 1.0}),
        path("reward", "weights"),
        "service_level",
    ),
    (
        "unknown-weight",
        chain(
            setp("reward", "scheme", value="reconciliation"),
            setp("reward", "weights", value={"bogus_weight": 1.0}),
        ),
        path("reward", "weights"),
        "'bogus_weight'",
    ),
    (
        "negative-weight",
        chain(
            setp("reward", "scheme", value="reconciliation"),
            setp("reward", "weights", value={"holding_cost": -1.0}),
        ),
        path("reward", "weights", "holding_cost"),
        "-1",
    ),
    ("alpha-above-one", setp("reward", "alpha", value=1.5), path("reward", "alpha"), "1.5"),
    ("alpha-negative", setp("reward", "alpha", value=-0.1), path("reward", "alpha"), "-0.1"),
    ("periods-zero", setp("periods", value=0), path("periods"), "0"),
    ("periods-missing", delp("periods"), path("periods"), "missing"),
]


def test_base_is_valid() -> None:
    sc = validate_scenario(copy.deepcopy(BASE))
    assert sc.agents == ["store_0", "warehouse_0", "supplier_0"]


@pytest.mark.parametrize(("mutation", "field", "value"), [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_invalid_field_names_path_and_value(mutation, field: str, value: str) -> None:
    d = copy.deepcopy(BASE)
    mutation(d)
    with pytest.raises(ScenarioError) as info:
        validate_scenario(d, source="my_source.yaml")
    msg = str(info.value)
    assert msg.startswith("my_source.yaml: "), msg
    assert re.search(field, msg), f"field path /{field}/ not in: {msg}"
    assert value in msg, f"value {value!r} not in: {msg}"
    assert isinstance(info.value, ValueError)


def test_lost_sales_on_a_warehouse_with_backlog_cost_names_lost_sales() -> None:
    d = copy.deepcopy(BASE)
    d["nodes"][1]["lost_sales"] = True  # the warehouse keeps its backlog_cost 1
    with pytest.raises(ScenarioError) as info:
        validate_scenario(d)
    msg = str(info.value)
    assert re.search(path("nodes[1]", "lost_sales"), msg), msg
    assert "True" in msg


@pytest.mark.parametrize(
    ("overrides", "field", "value"),
    [
        ({"bogus_override": 1}, path("bogus_override"), "1"),
        ({"periods": 0}, path("periods"), "0"),
        ({"action_type": "bogus"}, path("actions", "type"), "'bogus'"),
        ({"view": "bogus"}, path("observation", "view"), "'bogus'"),
        ({"alpha": 2}, path("reward", "alpha"), "2"),
        ({"reward": "bogus"}, path("reward", "scheme"), "'bogus'"),
        ({"obs_scale": -1}, path("observation", "scale"), "-1"),
        ({"max_order": 2.5, "action_type": "discrete"}, path("actions", "max_order"), "2.5"),
        ({"reward_weights": {"service_level": 1.0}}, path("reward", "weights"), "service_level"),
        ({"demand": 5}, path("demand"), "5"),
        ({"demand": {"process": "poisson", "mean": -1}}, path("nodes[0]", "demand", "mean"), "-1"),
    ],
    ids=lambda v: "-".join(v) if isinstance(v, dict) else None,
)
def test_bad_overrides(overrides: dict[str, Any], field: str, value: str) -> None:
    for make in (
        lambda: load_scenario("serial", **overrides),
        lambda: invmgmt_marl.parallel_env("serial", **overrides),
    ):
        with pytest.raises(ScenarioError) as info:
            make()
        msg = str(info.value)
        assert re.search(field, msg), msg
        assert value in msg, msg


def test_none_overrides_are_ignored() -> None:
    assert load_scenario("serial", periods=None, reward=None) == load_scenario("serial")


def test_good_overrides_apply() -> None:
    sc = load_scenario(
        "net_2x3",
        periods=7,
        action_type="multidiscrete",
        max_order=3,
        view="global",
        obs_scale=2,
        reward="reconciliation",
        alpha=0.25,
        reward_weights={"revenue": 1.0},
        demand={"process": "constant", "value": 1},
    )
    assert sc.periods == 7 and sc.actions.type == "multidiscrete" and sc.actions.max_order == 3
    assert sc.observation.view == "global" and sc.observation.scale == 2
    assert (
        sc.reward.scheme == "reconciliation"
        and sc.reward.alpha == 0.25
        and dict(sc.reward.weights) == {"revenue": 1}
    )
    assert all(n.demand.process == "constant" for n in sc.nodes if n.role == "store")
    assert load_scenario("net_2x3").periods == 200  # the shipped scenario is untouched


def test_non_mapping_data() -> None:
    for bad in ([1, 2], "text", None, 3):
        with pytest.raises(ScenarioError, match="mapping") as info:
            validate_scenario(bad)  # type: ignore[arg-type]
        assert type(bad).__name__ in str(info.value)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("- a\n- b\n", r"mapping, got list"),
        ("just a string\n", r"mapping, got str"),
        ("", r"mapping, got NoneType"),
        ("nodes: [\n  {role: store\n", r"not valid YAML"),
        ("periods: 3\n\tbad: indent\n", r"not valid YAML"),
        ("a: 1\na: [unclosed\n", r"not valid YAML"),
    ],
    ids=["list", "string", "empty", "unclosed-flow", "tab", "unclosed-list"],
)
def test_bad_yaml_files(tmp_path: Path, text: str, match: str) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    with pytest.raises(ScenarioError, match=match) as info:
        load_scenario(p)
    assert "bad.yaml" in str(info.value)
    with pytest.raises(ScenarioError, match=match):
        invmgmt_marl.parallel_env(str(p))


def test_invalid_field_in_a_yaml_file_names_file_and_field(tmp_path: Path) -> None:
    d = copy.deepcopy(BASE)
    d["edges"][2]["lead_time"] = 0
    p = tmp_path / "broken.yaml"
    p.write_text(yaml.safe_dump(d))
    with pytest.raises(ScenarioError, match=r"broken\.yaml: edges\[2\]\.lead_time.*got 0"):
        load_scenario(p)


@pytest.mark.parametrize("name", ["nosuch", "serial_v2", "net_2x3.yml", "/no/such/file.yaml"])
def test_unknown_scenario_name(name: str) -> None:
    with pytest.raises(ScenarioError, match=re.escape(repr(name))):
        load_scenario(name)
    with pytest.raises(ScenarioError, match=re.escape(repr(name))):
        invmgmt_marl.parallel_env(name)


def test_errors_are_value_errors() -> None:
    assert issubclass(ScenarioError, ValueError)
