"""Find, read and override scenarios. Shipped scenarios live in ``scenarios/*.yaml`` (inside the wheel
as ``invmgmt_marl/scenarios``); any path to a YAML file works too."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from invmgmt_marl._io import load_yaml_file
from invmgmt_marl.errors import ScenarioError
from invmgmt_marl.scenario.schema import Scenario, validate_scenario

__all__ = [
    "scenario_dir",
    "list_scenarios",
    "list_product_scenarios",
    "load_scenario",
    "apply_overrides",
    "OVERRIDES",
]


def scenario_dir() -> Path:
    """The folder of shipped scenarios: inside the installed package, or the repository's ``scenarios/``."""
    here = Path(__file__).resolve().parent.parent
    for cand in (here / "scenarios", here.parent / "scenarios"):
        if cand.is_dir():
            return cand
    raise FileNotFoundError("no shipped scenarios folder found next to the package")  # pragma: no cover


#: shipped product scenarios that :func:`list_scenarios` leaves out, with the reason (docs/products.md)
UNLISTED_PRODUCT_SCENARIOS: dict[str, str] = {
    "sku2000_3w": "2,000 products x 3 nodes: each of the ~40 conformance checks run over every listed "
    "scenario takes 2-3 s on it (about 2 minutes more for a suite kept under 5); its API tests run on "
    "their own (tests/env/test_products_plumbing.py)",
    "sku1000_1w": "1,000 products: the conformance checks would add about a minute to the suite; its API "
    "tests in both agent forms run on their own (tests/env/test_products_api_forms.py)",
}


def list_scenarios() -> list[str]:
    """Names of the shipped scenarios, sorted: ``scenarios/*.yaml`` and the product scenarios of
    ``scenarios/products/`` except :data:`UNLISTED_PRODUCT_SCENARIOS`."""
    plain = [p.stem for p in scenario_dir().glob("*.yaml")]
    return sorted(plain + [n for n in list_product_scenarios() if n not in UNLISTED_PRODUCT_SCENARIOS])


def list_product_scenarios() -> list[str]:
    """Names of every shipped scenario with products (``scenarios/products/*.yaml``), sorted; they load
    by name like the others. :func:`list_scenarios` lists them too, except
    :data:`UNLISTED_PRODUCT_SCENARIOS`."""
    return sorted(p.stem for p in (scenario_dir() / "products").glob("*.yaml"))


def _read_yaml(path: Path) -> Any:
    """The file's YAML under the package's limits (size, depth, aliases, duplicate keys): see
    :func:`invmgmt_marl._io.load_yaml_file`."""
    return load_yaml_file(path, error=ScenarioError)


# keyword -> (path into the scenario mapping)
OVERRIDES: dict[str, tuple[str, ...]] = {
    "periods": ("periods",),
    "action_type": ("actions", "type"),
    "max_order": ("actions", "max_order"),
    "view": ("observation", "view"),
    "obs_scale": ("observation", "scale"),
    "reward": ("reward", "scheme"),
    "alpha": ("reward", "alpha"),
    "reward_weights": ("reward", "weights"),
}


def apply_overrides(scenario: Scenario, **overrides: Any) -> Scenario:
    """Return a re-validated copy of ``scenario`` with keyword overrides applied.

    Keywords: ``periods``, ``action_type``, ``max_order``, ``view``, ``obs_scale``, ``reward``,
    ``alpha``, ``reward_weights``, and ``demand`` (a demand mapping given to every store, e.g.
    ``{"process": "poisson", "mean": 10}``) and ``reward_spec`` (a whole reward block, with per-role
    and per-agent settings). ``None`` values are ignored. Switching ``reward`` to a
    scheme other than ``reconciliation`` drops the scenario's reconciliation weights.
    """
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if not overrides:
        return scenario
    source = f"{scenario.name} (with overrides {sorted(overrides)})"
    data = copy.deepcopy(scenario.to_dict())
    reward_spec = overrides.pop("reward_spec", None)
    if reward_spec is not None:  # a whole reward block: scheme, alpha, weights, roles, agents
        if not isinstance(reward_spec, Mapping):
            raise ScenarioError(
                f"reward_spec: expected a mapping like {{'scheme': 'cost', 'alpha': 0.5}}, got "
                f"{reward_spec!r}"
            )
        data["reward"] = dict(reward_spec)
    demand = overrides.pop("demand", None)
    if demand is not None:  # one demand process for every store
        if not isinstance(demand, Mapping):
            raise ScenarioError(
                f"demand: expected a mapping like {{'process': 'poisson', 'mean': 10}}, got {demand!r}"
            )
        for node in data["nodes"]:
            if node.get("role") == "store":
                node["demand"] = dict(demand)
    for key, value in overrides.items():
        if key not in OVERRIDES:
            raise ScenarioError(
                f"{key}: unknown scenario override (value {value!r}); "
                f"known: {sorted([*OVERRIDES, 'demand', 'reward_spec'])}"
            )
        *parents, leaf = OVERRIDES[key]
        node = data
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    if overrides.get("reward", "reconciliation") != "reconciliation" and "reward_weights" not in overrides:
        data["reward"].pop("weights", None)  # reconciliation weights do not apply to the new scheme
    return validate_scenario(data, source=source)


def load_scenario(name_or_path: str | Path | Scenario = "serial", **overrides: Any) -> Scenario:
    """Load a shipped scenario by name, a YAML file by path or a MABIM task folder (its YAML config and
    CSV files, mode ``test``: :func:`invmgmt_marl.scenario.mabim.load_mabim_task`), then apply keyword
    overrides."""
    if isinstance(name_or_path, Scenario):
        return apply_overrides(name_or_path, **overrides)
    p = Path(name_or_path)
    if p.is_dir() and p.suffix not in (".yaml", ".yml"):  # a MABIM task folder (scenario.mabim)
        from invmgmt_marl.scenario.mabim import load_mabim_task

        return apply_overrides(load_mabim_task(p), **overrides)
    if p.suffix not in (".yaml", ".yml") or not p.exists():
        cand = scenario_dir() / f"{name_or_path}.yaml"
        if not cand.exists() and str(name_or_path) in list_product_scenarios():
            cand = scenario_dir() / "products" / f"{name_or_path}.yaml"
        if not cand.exists():
            raise ScenarioError(
                f"scenario: unknown scenario {str(name_or_path)!r}; shipped: {list_scenarios()} "
                "(or give a path to a .yaml file)"
            )
        p = cand
    data = _read_yaml(p)
    if isinstance(data, dict):  # default name: the file's stem, made a safe slug (it enters file names)
        data.setdefault("name", re.sub(r"[^A-Za-z0-9_.\-]", "_", p.stem).lstrip(".")[:100] or "scenario")
    return apply_overrides(validate_scenario(data, source=str(p), base_dir=p.resolve().parent), **overrides)
