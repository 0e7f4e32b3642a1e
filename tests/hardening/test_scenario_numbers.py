"""Issue 13 items 8 and 14 (scenario part): every number in a scenario is finite and within sane bounds,
and sizes that would need huge arrays are refused with a ScenarioError naming the field, before any
array is allocated."""

from __future__ import annotations

import copy
import math
import re
import time
from typing import Any

import pytest

from invmgmt_marl.errors import ScenarioError
from invmgmt_marl.scenario import load_scenario, validate_scenario
from invmgmt_marl.scenario.schema import MAX_DISCRETE_ACTIONS, MAX_LEAD_TIME, MAX_PERIODS


def serial() -> dict[str, Any]:
    return copy.deepcopy(load_scenario("serial").to_dict())


def assembly() -> dict[str, Any]:
    return copy.deepcopy(load_scenario("assembly").to_dict())


def _set(data: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    node: Any = data
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value
    return data


# (path into the mapping, the field name the error must carry); each set to inf and to nan below
FLOAT_FIELDS = [
    (("nodes", 0, "initial_on_hand"), "nodes[0].initial_on_hand"),
    (("nodes", 0, "holding_cost"), "nodes[0].holding_cost"),
    (("nodes", 0, "backlog_cost"), "nodes[0].backlog_cost"),
    (("nodes", 0, "price"), "nodes[0].price"),
    (("edges", 0, "unit_cost"), "edges[0].unit_cost"),
    (("edges", 0, "initial_pipeline", 0), "edges[0].initial_pipeline[0]"),
    (("edges", 0, "max_order"), "edges[0].max_order"),
    (("edges", 0, "capacity"), "edges[0].capacity"),
    (("actions", "max_order"), "actions.max_order"),
    (("observation", "scale"), "observation.scale"),
    (("nodes", 0, "demand", "multiplier"), "nodes[0].demand.multiplier"),
    (("nodes", 0, "demand", "base"), "nodes[0].demand.base"),  # a merton parameter
    (("nodes", 0, "demand", "max_demand"), "nodes[0].demand.max_demand"),
    (("nodes", 0, "goodwill"), "nodes[0].goodwill.cap"),  # set to a mapping below
    (("nodes", 0, "demand", "seasonal"), "nodes[0].demand.seasonal.phase"),  # likewise
]


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan], ids=["inf", "-inf", "nan"])
@pytest.mark.parametrize(("path", "field"), FLOAT_FIELDS, ids=[f for _, f in FLOAT_FIELDS])
def test_non_finite_numbers_are_refused(path: tuple[Any, ...], field: str, bad: float) -> None:
    data = serial()
    if field.endswith("goodwill.cap"):
        value: Any = {"cap": bad}
    elif field.endswith("seasonal.phase"):
        value = {"amplitude": 0.2, "period": 7, "phase": bad}
    else:
        value = bad
    with pytest.raises(ScenarioError, match=re.escape(f"{field}: ")):
        validate_scenario(_set(data, path, value))


def test_bom_and_reward_weights_must_be_finite() -> None:
    data = assembly()
    i = next(k for k, n in enumerate(data["nodes"]) if n.get("bom"))
    comp = next(iter(data["nodes"][i]["bom"]))
    data["nodes"][i]["bom"][comp] = math.inf
    with pytest.raises(ScenarioError, match=rf"nodes\[{i}\]\.bom\.{comp}: Input should be a finite number"):
        validate_scenario(data)
    with pytest.raises(ScenarioError, match=r"reward\.weights\.holding: Input should be a finite number"):
        load_scenario("serial", reward="reconciliation", reward_weights={"holding": math.nan})


def test_max_order_inf_is_refused() -> None:
    # before: accepted, and every quantity observation (divided by the largest max_order) became 0
    with pytest.raises(ScenarioError, match=r"actions\.max_order: Input should be a finite number, got inf"):
        load_scenario("serial", max_order=math.inf)


def test_huge_numbers_are_refused_naming_the_yaml_field() -> None:
    start = time.perf_counter()
    msg = r"nodes\[0\]\.demand\.mean: must lie within \+-1e\+12, got 1e\+30"
    with pytest.raises(ScenarioError, match=msg):
        load_scenario("serial", demand={"process": "poisson", "mean": 1e30})
    data = serial()
    data["nodes"][1]["holding_cost"] = 1e300
    with pytest.raises(ScenarioError, match=r"nodes\[1\]\.holding_cost: must lie within"):
        validate_scenario(data)
    assert time.perf_counter() - start < 1.0


def test_periods_and_lead_times_that_need_terabytes_are_refused() -> None:
    with pytest.raises(ScenarioError, match=rf"periods: Input should be less than or equal to {MAX_PERIODS}"):
        load_scenario("serial", periods=10**12)
    data = serial()
    data["edges"][1]["lead_time"] = 10**9
    with pytest.raises(ScenarioError, match=rf"edges\[1\]\.lead_time: .*{MAX_LEAD_TIME}"):
        validate_scenario(data)
    data = serial()
    data["edges"][0]["lead_time_extra"] = [0.0] * MAX_LEAD_TIME + [1.0]
    with pytest.raises(ScenarioError, match=r"edges\[0\]\.lead_time_extra"):
        validate_scenario(data)


def test_discrete_spaces_beyond_the_cap_are_refused() -> None:
    msg = r"actions\.max_order: store_0's Discrete space would have 1e\+07"
    with pytest.raises(ScenarioError, match=msg):
        load_scenario("serial", action_type="discrete", max_order=10**7 - 1)
    with pytest.raises(ScenarioError, match="MultiDiscrete component"):
        load_scenario("serial", action_type="multidiscrete", max_order=MAX_DISCRETE_ACTIONS)
    # net_2x3 has two inbound edges per node: 2001 x 2001 = 4,004,001 joint actions, over the cap,
    # although each edge alone (2001) is far below it
    with pytest.raises(ScenarioError, match="Discrete space would have 4.004e\\+06"):
        load_scenario("net_2x3", action_type="discrete", max_order=2000)
    assert load_scenario("net_2x3", action_type="discrete", max_order=20).actions.max_order == 20
    # the largest shipped case in the test suite stays legal: divergent's warehouse_0, 101**3 actions
    assert load_scenario("divergent", action_type="discrete").actions.type == "discrete"


def test_shipped_scenarios_still_validate() -> None:
    from invmgmt_marl.scenario import list_scenarios

    for name in list_scenarios():
        assert load_scenario(name).name == name
