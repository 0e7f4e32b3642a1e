"""Baseline ordering policies, batched over the simulator state, and their tuning by simulation.

A policy is any callable ``policy(net, state, rng) -> (B, E)`` order quantities (see :mod:`.base`).
"""

from invmgmt_marl.policies.base import (
    POLICIES,
    BaseStockPolicy,
    ConstantPolicy,
    EchelonBaseStockPolicy,
    ForecastOrderUpToPolicy,
    Policy,
    RandomPolicy,
    SSPolicy,
    demand_statistics,
    echelon_inventory_position,
    heuristic_base_stock_levels,
    inventory_position,
    make_policy,
    node_throughput,
    split_over_edges,
    throughput_matrix,
)
from invmgmt_marl.policies.products import (
    CapacityBaseStockPolicy,
    newsvendor_levels,
    simulate_products,
    tune_products,
)
from invmgmt_marl.policies.tuning import TUNABLE, TuneResult, build_tuned, tune

__all__ = [
    "POLICIES",
    "TUNABLE",
    "TuneResult",
    "build_tuned",
    "tune",
    "BaseStockPolicy",
    "CapacityBaseStockPolicy",
    "newsvendor_levels",
    "simulate_products",
    "tune_products",
    "ConstantPolicy",
    "EchelonBaseStockPolicy",
    "ForecastOrderUpToPolicy",
    "Policy",
    "RandomPolicy",
    "SSPolicy",
    "demand_statistics",
    "echelon_inventory_position",
    "heuristic_base_stock_levels",
    "inventory_position",
    "make_policy",
    "node_throughput",
    "split_over_edges",
    "throughput_matrix",
]
