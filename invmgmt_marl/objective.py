"""The objectives a policy is scored on: one ``Literal`` for the whole package.

``"cost"`` is the team's total cost (the ledger's :data:`~invmgmt_marl.sim.ledger.COST_FIELDS` summed
over nodes and periods, lower is better); ``"profit"`` the team's revenue minus that cost (higher is
better). Evaluation, the perfect-information bound, tuning, the ablation and the command line all read
the names from here.
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["Objective", "OBJECTIVES", "check_objective"]

Objective = Literal["cost", "profit"]
#: the objective names, in the ``Literal``'s order (command-line choices, error messages)
OBJECTIVES: tuple[str, ...] = get_args(Objective)


def check_objective(objective: str, name: str = "objective") -> Objective:
    """``objective`` typed as :data:`Objective`, or ValueError naming ``name`` and the value."""
    if objective not in OBJECTIVES:
        raise ValueError(f"{name}: expected one of {list(OBJECTIVES)}, got {objective!r}")
    return objective  # type: ignore[return-value]
