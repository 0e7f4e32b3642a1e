"""Plain helper functions shared by the test modules (fixtures live in ``conftest.py``)."""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from invmgmt_marl.compile import compile_network
from invmgmt_marl.scenario import validate_scenario
from invmgmt_marl.sim import initial_state, step

REPO_ROOT = Path(__file__).resolve().parents[1]
# The golden traces live *next to* the repository (never copied into it): ../shared
SHARED_DIR = (REPO_ROOT / ".." / "shared").resolve()
GOLDEN_DIR = SHARED_DIR / "golden" / "liu"
DATASETS_DIR = SHARED_DIR / "datasets" / "liu2022"
GOLDEN_MISSING = f"../shared/golden/liu not found: expected the Liu et al. golden traces in {GOLDEN_DIR}"
DATASETS_MISSING = (
    f"../shared/datasets/liu2022 not found: expected the Liu et al. demand files in {DATASETS_DIR}"
)

# Liu's agent k <-> our agent name (the shipped scenarios list nodes in Liu's order)
SERIAL_AGENTS = ["store_0", "warehouse_0", "supplier_0"]
NET_AGENTS = ["store_0", "store_1", "warehouse_0", "warehouse_1", "supplier_0", "supplier_1"]


def golden_params(prefix: str = "") -> list[Any]:
    """``pytest.param(path, id=file name)`` for every golden file (a skipping placeholder if absent)."""
    files = sorted(GOLDEN_DIR.glob(f"{prefix}*.json")) if GOLDEN_DIR.is_dir() else []
    if not files:
        return [pytest.param(None, id="golden-missing", marks=pytest.mark.skip(reason=GOLDEN_MISSING))]
    return [pytest.param(f, id=f.name) for f in files]


@functools.cache
def _load_json(path: str) -> Any:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def load_golden(path: Path | None) -> dict[str, Any]:
    if path is None or not path.exists():
        pytest.skip(GOLDEN_MISSING)
    return _load_json(str(path))


def golden_orders(g: dict[str, Any], period: dict[str, Any]) -> np.ndarray:
    """``(1, E)`` edge orders of one recorded period (serial: actions; net: flattened [normal, urgent])."""
    if g["env"] == "serial":
        return np.array([period["actions"]], dtype=np.float64)
    return np.array([sum(period["orders"], [])], dtype=np.float64)


def read_demand_file(rel: str) -> np.ndarray:
    """A Liu demand file by its path relative to Liu's repository root (``test_data/...``)."""
    p = DATASETS_DIR / rel.removeprefix("test_data/")
    if not p.exists():
        pytest.skip(DATASETS_MISSING + f" (missing {p.name})")
    return np.array([float(x) for x in p.read_text().split()])


def node_pipeline(net: Any, state: Any) -> np.ndarray:
    """``(B, N, L)``: per node, the inbound pipelines summed, in arrival order (next period first)."""
    slots = (state.t + np.arange(net.max_lead)) % net.max_lead
    pipe = state.pipeline[:, :, slots]  # (B, E, L)
    return np.einsum("bel,en->bnl", pipe, net.edge_to_dst)


# -------------------------------------------------------------------------------------------------
# small scenario dicts
# store_0 <-(2)- warehouse_0 <-(2)- supplier_0 <-(1)- external: a valid base for the validation tests
BASE_SCENARIO: dict[str, Any] = {
    "name": "base",
    "periods": 10,
    "nodes": [
        {
            "role": "store",
            "initial_on_hand": 5,
            "holding_cost": 1,
            "backlog_cost": 2,
            "demand": {"process": "poisson", "mean": 3},
        },
        {"role": "warehouse", "initial_on_hand": 5, "holding_cost": 1, "backlog_cost": 1},
        {"role": "supplier", "initial_on_hand": 5, "holding_cost": 1, "backlog_cost": 1},
    ],
    "edges": [
        {"from": "warehouse_0", "to": "store_0", "lead_time": 2},
        {"from": "supplier_0", "to": "warehouse_0", "lead_time": 2},
        {"from": "external", "to": "supplier_0", "lead_time": 1},
    ],
    "actions": {"type": "box", "max_order": 10},
    "observation": {"view": "local"},
    "reward": {"scheme": "cost", "alpha": 1.0},
}


def chain_dict(**top: Any) -> dict[str, Any]:
    """external -(1)-> supplier_0 -(2)-> store_0; the hand-trace scenario of test_hand_traces."""
    d: dict[str, Any] = {
        "name": "tiny_chain",
        "periods": 3,
        "nodes": [
            {
                "role": "store",
                "initial_on_hand": 4,
                "holding_cost": 1,
                "backlog_cost": 3,
                "price": 10,
                "demand": {"process": "fixed", "values": [5, 7, 2]},
            },
            {"role": "supplier", "initial_on_hand": 6, "holding_cost": 0.5, "backlog_cost": 2},
        ],
        "edges": [
            {
                "from": "supplier_0",
                "to": "store_0",
                "lead_time": 2,
                "unit_cost": 2,
                "fixed_cost": 5,
                "initial_pipeline": [0, 3],
            },
            {"from": "external", "to": "supplier_0", "lead_time": 1, "unit_cost": 1, "initial_pipeline": [2]},
        ],
        "actions": {"type": "box", "max_order": 20},
        "observation": {"scale": 1},
    }
    d.update(copy.deepcopy(top))
    return d


def one_warehouse_two_stores(
    *,
    allocation: str = "priority",
    wh_stock: float = 5,
    priorities: tuple[int, int] = (0, 0),
    lost_sales: bool = False,
    store_stock: float = 0,
    capacity: tuple[float | None, float | None] = (None, None),
) -> dict[str, Any]:
    """external -> supplier_0 -> warehouse_0 -> {store_0, store_1}, all lead times 1."""

    def store() -> dict[str, Any]:
        return {
            "role": "store",
            "initial_on_hand": store_stock,
            "holding_cost": 1,
            "backlog_cost": 0 if lost_sales else 1,  # a lost-sales store takes no backlog cost
            "lost_sales": lost_sales,
            "lost_sales_cost": 2 if lost_sales else 0,
            "demand": {"process": "constant", "value": 0},
        }

    edges = []
    for k in range(2):
        e: dict[str, Any] = {
            "from": "warehouse_0",
            "to": f"store_{k}",
            "lead_time": 1,
            "priority": priorities[k],
        }
        if capacity[k] is not None:
            e["capacity"] = capacity[k]
        edges.append(e)
    edges += [
        {"from": "supplier_0", "to": "warehouse_0", "lead_time": 1},
        {"from": "external", "to": "supplier_0", "lead_time": 1},
    ]
    return {
        "name": "one_wh_two_stores",
        "periods": 4,
        "nodes": [
            store(),
            store(),
            {
                "role": "warehouse",
                "initial_on_hand": wh_stock,
                "holding_cost": 1,
                "backlog_cost": 1,
                "allocation": allocation,
            },
            {"role": "supplier", "initial_on_hand": 0},
        ],
        "edges": edges,
        "actions": {"max_order": 100},
    }


def build(d: dict[str, Any]) -> Any:
    return compile_network(validate_scenario(d))


def run_sim(net: Any, orders: np.ndarray, demand: np.ndarray) -> tuple[list[Any], list[Any]]:
    """Run ``orders (B, T, E)`` and ``demand (B, T, S)`` from the initial state; states[0] is initial."""
    orders = np.asarray(orders, dtype=np.float64)
    demand = np.asarray(demand, dtype=np.float64)
    state = initial_state(net, orders.shape[0])
    states, ledgers = [state], []
    for t in range(orders.shape[1]):
        state, led = step(net, state, np.ascontiguousarray(orders[:, t]), np.ascontiguousarray(demand[:, t]))
        states.append(state)
        ledgers.append(led)
    return states, ledgers


# --------------------------------------------------------------------------------------------------
# scenarios with products in the conformance tests (docs/products.md, "What the product path does not
# carry"): they take box / multidiscrete actions and the local view only; their observation layout
# is product features + node context (tested in tests/env/test_products_env.py)
PRODUCT_ACTION_TYPES = ("box", "multidiscrete")
PRODUCT_VIEWS = ("local",)


def is_product_scenario(name: str) -> bool:
    """Whether a shipped scenario has products (``scenarios/products/``)."""
    from invmgmt_marl.scenario import list_product_scenarios

    return str(name) in list_product_scenarios()


@functools.cache
def has_pricing(name: str) -> bool:
    """Whether a shipped scenario has price actions (a store with pricing: box actions only)."""
    from invmgmt_marl.scenario import load_scenario

    return is_product_scenario(name) and bool(compile_network(load_scenario(name)).any_pricing)


def skip_unsupported_on_products(
    name: str, action_type: str | None = None, view: str | None = None, check: str | None = None
) -> None:
    """Skip, with the documented reason, a conformance check that a product scenario does not carry:
    an action type other than box / multidiscrete (box only with price actions), a view other than
    local, or a ``check`` written for the one-product layout (its reason given)."""
    if not is_product_scenario(name):
        return
    if action_type is not None and action_type not in PRODUCT_ACTION_TYPES:
        pytest.skip(f"products take box or multidiscrete actions only (docs/products.md), not {action_type}")
    if action_type == "multidiscrete" and has_pricing(name):
        pytest.skip("price actions need box actions; multidiscrete is refused (docs/products.md, Prices)")
    if view is not None and view not in PRODUCT_VIEWS:
        pytest.skip(f"products have the local view only (docs/products.md), not {view}")
    if check is not None:
        pytest.skip(check)
