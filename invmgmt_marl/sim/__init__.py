"""The batched digital-twin simulator: pure numpy functions over arrays with a leading batch axis.

This package imports numpy and its own modules only (and numba, if installed, for the compiled step of
product networks in :mod:`invmgmt_marl.sim.kernel`: the same dynamics, bit for bit).

net = compile_network(load_scenario("serial"))   # invmgmt_marl.compile_network
state = initial_state(net, batch=4096)
state, ledger = step(net, state, orders, demand)   # orders (B, E), demand (B, S)
"""

from invmgmt_marl.sim.dynamics import allocate, step
from invmgmt_marl.sim.ledger import COST_FIELDS, EDGE_FIELDS, NODE_FIELDS, Ledger
from invmgmt_marl.sim.network import Network, RewardGroup
from invmgmt_marl.sim.state import SimState, initial_state

__all__ = [
    "COST_FIELDS",
    "EDGE_FIELDS",
    "NODE_FIELDS",
    "Ledger",
    "Network",
    "RewardGroup",
    "SimState",
    "allocate",
    "initial_state",
    "step",
]
