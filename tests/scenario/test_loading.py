"""Loading shipped scenarios and YAML files; to_dict() round trips."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import yaml
from pydantic import ValidationError

import invmgmt_marl
from invmgmt_marl.compile import compile_network
from invmgmt_marl.scenario import Scenario, list_scenarios, load_scenario, validate_scenario
from tests.helpers import BASE_SCENARIO as BASE


def test_list_scenarios() -> None:
    assert {"hmarl", "net_2x3", "serial"} <= set(list_scenarios())
    assert list_scenarios() == sorted(list_scenarios())
    assert invmgmt_marl.list_scenarios() == list_scenarios()


@pytest.mark.parametrize("scenario_name", ["serial", "net_2x3", "hmarl"])
def test_shipped_scenario_shapes(scenario_name: str) -> None:
    sc = load_scenario(scenario_name)
    assert isinstance(sc, Scenario) and sc.name == scenario_name
    expected = {
        "serial": (["store_0", "warehouse_0", "supplier_0"], 3, 200),
        "net_2x3": (
            ["store_0", "store_1", "warehouse_0", "warehouse_1", "supplier_0", "supplier_1"],
            12,
            200,
        ),
        "hmarl": (["store_0", "store_1", "store_2", "warehouse_0", "supplier_0"], 5, 90),
    }[scenario_name]
    assert (sc.agents, len(sc.edges), sc.periods) == expected


def _inline(sc: Scenario) -> Scenario:
    """The scenario as its ``to_dict`` writes it: a product table's rows inline, so without the table's
    path (docs/products.md: the fingerprint covers the rows)."""
    return sc.model_copy(update={"product_table": None}) if sc.product_table is not None else sc


def test_to_dict_round_trips(scenario_name: str) -> None:
    sc = _inline(load_scenario(scenario_name))
    d = sc.to_dict()
    again = validate_scenario(copy.deepcopy(d))
    assert again == sc
    assert again.to_dict() == d
    # and through YAML text
    assert validate_scenario(yaml.safe_load(yaml.safe_dump(d))) == sc


def test_round_trip_compiles_to_the_same_network(scenario_name: str) -> None:
    a = compile_network(load_scenario(scenario_name))
    b = compile_network(validate_scenario(load_scenario(scenario_name).to_dict()))
    for f in (
        "edge_src",
        "edge_dst",
        "lead_time",
        "unit_cost",
        "fixed_cost",
        "max_order",
        "initial_pipeline",
        "initial_on_hand",
        "holding_cost",
        "backlog_cost",
        "lost_sales_cost",
        "price",
        "out_capacity",
    ):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)


def test_round_trip_keeps_non_default_fields() -> None:
    d = copy.deepcopy(BASE)
    d["nodes"][0]["demand"] = {
        "process": "constant",
        "value": 4,
        "multiplier": 1.5,
        "integer": False,
        "seasonal": {"amplitude": 0.2, "period": 12, "phase": 3},
    }
    d["nodes"][0]["label"] = "Shop"
    d["nodes"][1]["allocation"] = "proportional"
    d["edges"][0].update(
        capacity=7.5,
        max_order=3,
        priority=2,
        initial_pipeline=[1, 2],
        initial_backlog=1,
        unit_cost=0.3,
        fixed_cost=2,
        label="fast",
    )
    d["reward"] = {"scheme": "reconciliation", "alpha": 0.5, "weights": {"revenue": 0.1}}
    d["observation"] = {"view": "neighbours", "scale": 5}
    sc = validate_scenario(d)
    again = validate_scenario(sc.to_dict())
    assert again == sc
    assert again.nodes[0].demand.seasonal.phase == 3
    assert again.nodes[0].demand.integer is False
    assert again.edges[0].capacity == 7.5 and again.edges[0].label == "fast"


def test_yaml_path_loading(tmp_path: Path) -> None:
    d = copy.deepcopy(BASE)
    del d["name"]
    p = tmp_path / "my_chain.yaml"
    p.write_text(yaml.safe_dump(d))
    sc = load_scenario(p)
    assert sc.name == "my_chain"  # the file stem when the file has no name
    assert sc == validate_scenario({**d, "name": "my_chain"})
    assert load_scenario(str(p)) == sc
    # overrides on a file
    assert load_scenario(p, periods=3).periods == 3
    # the env accepts the path too
    env = invmgmt_marl.parallel_env(str(p), periods=4)
    env.reset(seed=0)
    assert env.possible_agents == ["store_0", "warehouse_0", "supplier_0"]
    assert env.demand.shape == (4, 1)


def test_shipped_scenario_round_trips_through_a_file(tmp_path: Path, scenario_name: str) -> None:
    p = tmp_path / f"copy_of_{scenario_name}.yml"
    p.write_text(yaml.safe_dump(load_scenario(scenario_name).to_dict()))
    assert load_scenario(p) == _inline(load_scenario(scenario_name))  # the name inside the file wins


def test_load_scenario_accepts_a_scenario_object() -> None:
    sc = load_scenario("serial")
    assert load_scenario(sc) is sc or load_scenario(sc) == sc
    assert load_scenario(sc, periods=5).periods == 5
    assert sc.periods == 200  # frozen: overrides make a copy


def test_scenarios_are_frozen() -> None:
    sc = load_scenario("serial")
    with pytest.raises(ValidationError, match="frozen"):
        sc.periods = 3  # type: ignore[misc]
