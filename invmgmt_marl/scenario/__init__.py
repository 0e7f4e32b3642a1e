"""Scenario schema (validated, frozen) and the YAML loader."""

from invmgmt_marl.scenario.loader import (
    apply_overrides,
    list_product_scenarios,
    list_scenarios,
    load_scenario,
    scenario_dir,
)
from invmgmt_marl.scenario.schema import (
    EXTERNAL,
    ROLES,
    ActionSpec,
    DemandSpec,
    EdgeSpec,
    NodeSpec,
    ObservationSpec,
    RewardSpec,
    Scenario,
    Seasonal,
    validate_scenario,
)

__all__ = [
    "EXTERNAL",
    "ROLES",
    "ActionSpec",
    "DemandSpec",
    "EdgeSpec",
    "NodeSpec",
    "ObservationSpec",
    "RewardSpec",
    "Scenario",
    "Seasonal",
    "apply_overrides",
    "list_product_scenarios",
    "list_scenarios",
    "load_scenario",
    "scenario_dir",
    "validate_scenario",
]
