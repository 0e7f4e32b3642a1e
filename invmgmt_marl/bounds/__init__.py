"""Valid lower bounds and exact optima for decision quality (docs/bounds.md).

The ladder, from loosest to tightest where each applies: per-store newsvendor bounds (any network with
i.i.d. store demand), the Clark-Scarf relaxation of serial chains (exact optimum when nothing is
relaxed), and value iteration on small discrete instances. :func:`bound_ladder` returns every rung that
applies to a compiled network. Only numpy and scipy are needed.
"""

from invmgmt_marl.bounds.bridge import (
    SerialMapping,
    SerialOptimum,
    chain_order,
    serial_mapping,
    serial_optimum,
)
from invmgmt_marl.bounds.clark_scarf import (
    GridDist,
    SerialSolution,
    normal_dist,
    pmf_dist,
    poisson_dist,
    serial_cost,
    solve_serial,
)
from invmgmt_marl.bounds.demand_dist import NotApplicable, store_period_dist
from invmgmt_marl.bounds.ladder import (
    Bound,
    Skipped,
    bound_ladder,
    clark_scarf_bound,
    newsvendor_bound,
    newsvendor_cost,
    steady_state_cost,
)
from invmgmt_marl.bounds.mdp import (
    MDPPolicy,
    MDPSolution,
    SingleStoreMDP,
    base_stock_table,
    evaluate_policy,
    single_store_scenario,
    solve_mdp,
)
from invmgmt_marl.bounds.mdp_serial import (
    SerialMDP,
    SerialMDPPolicy,
    SerialMDPSolution,
    solve_serial_mdp,
    two_node_scenario,
)
from invmgmt_marl.bounds.merton import merton_newsvendor_bound

__all__ = [
    "Bound",
    "MDPPolicy",
    "MDPSolution",
    "SingleStoreMDP",
    "Skipped",
    "base_stock_table",
    "bound_ladder",
    "clark_scarf_bound",
    "evaluate_policy",
    "newsvendor_bound",
    "newsvendor_cost",
    "single_store_scenario",
    "solve_mdp",
    "steady_state_cost",
    "GridDist",
    "NotApplicable",
    "SerialMapping",
    "SerialOptimum",
    "SerialSolution",
    "chain_order",
    "normal_dist",
    "pmf_dist",
    "poisson_dist",
    "serial_cost",
    "serial_mapping",
    "serial_optimum",
    "solve_serial",
    "store_period_dist",
    "SerialMDP",
    "SerialMDPPolicy",
    "SerialMDPSolution",
    "solve_serial_mdp",
    "two_node_scenario",
    "merton_newsvendor_bound",
]
