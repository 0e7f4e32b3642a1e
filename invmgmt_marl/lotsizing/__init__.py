"""Lot sizing with set-up costs: exact and heuristic planners on a deterministic horizon.

Single item (:mod:`.single`): Wagner-Whitin (exact), Silver-Meal, least unit cost, part-period
balancing, a capacitated MILP. Multi-level (:mod:`.multilevel`): level by level, a joint MILP, an
adaptive genetic algorithm. Every single-item planner is ``planner(demand (T,), K, h) -> LotSizingPlan``
and is registered in :data:`PLANNERS` by name (the rolling-horizon policy
:mod:`invmgmt_marl.policies.rolling` plans with any of them).

DALSA is *not* provided: no published description of it could be found (see ``docs/lot_sizing.md``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from invmgmt_marl.lotsizing.multilevel import (
    MultiLevelPlan,
    MultiLevelProblem,
    evaluate_receipts,
    genetic_algorithm,
    genetic_single,
    joint_milp,
    level_by_level,
)
from invmgmt_marl.lotsizing.plan import LotSizingPlan, check_instance, lot_cost, plan_from_quantities
from invmgmt_marl.lotsizing.single import (
    capacitated_lot_sizing,
    least_unit_cost,
    part_period_balancing,
    silver_meal,
    wagner_whitin,
    wagner_whitin_batch,
)

__all__ = [
    "PLANNERS",
    "get_planner",
    "LotSizingPlan",
    "MultiLevelPlan",
    "MultiLevelProblem",
    "capacitated_lot_sizing",
    "check_instance",
    "evaluate_receipts",
    "genetic_algorithm",
    "genetic_single",
    "joint_milp",
    "least_unit_cost",
    "level_by_level",
    "lot_cost",
    "part_period_balancing",
    "plan_from_quantities",
    "silver_meal",
    "wagner_whitin",
    "wagner_whitin_batch",
]

#: single-item planners by name: ``planner(demand (T,), setup_cost, holding_cost) -> LotSizingPlan``
PLANNERS: dict[str, Callable[..., LotSizingPlan]] = {
    "wagner_whitin": wagner_whitin,
    "silver_meal": silver_meal,
    "least_unit_cost": least_unit_cost,
    "part_period_balancing": part_period_balancing,
    "capacitated_milp": capacitated_lot_sizing,
    "genetic_algorithm": genetic_single,
}


def get_planner(name: str, **kwargs: Any) -> Callable[..., LotSizingPlan]:
    """The planner registered as ``name``, with ``kwargs`` bound (e.g. ``capacity``, GA budget)."""
    if name not in PLANNERS:
        raise ValueError(f"planner: unknown planner {name!r}; known: {sorted(PLANNERS)}")
    fn = PLANNERS[name]
    if not kwargs:
        return fn

    def bound(demand: Any, setup_cost: Any, holding_cost: Any) -> LotSizingPlan:
        return fn(demand, setup_cost, holding_cost, **kwargs)

    bound.__name__ = name
    return bound
