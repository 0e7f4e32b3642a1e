"""The batched digital-twin simulator: pure numpy functions over arrays with a leading batch axis.

net = compile_network(load_scenario("serial"))
state = initial_state(net, batch=4096)
state, ledger = step(net, state, orders, demand)   # orders (B, E), demand (B, S)
"""

from invmgmt_marl.sim.demand import DEMAND_PROCESSES, register_demand_process, sample_demand
from invmgmt_marl.sim.dynamics import allocate, step
from invmgmt_marl.sim.ledger import COST_FIELDS, EDGE_FIELDS, NODE_FIELDS, Ledger
from invmgmt_marl.sim.network import Network, compile_network
from invmgmt_marl.sim.state import SimState, initial_state

__all__ = [
    "COST_FIELDS",
    "DEMAND_PROCESSES",
    "EDGE_FIELDS",
    "NODE_FIELDS",
    "Ledger",
    "Network",
    "SimState",
    "allocate",
    "compile_network",
    "initial_state",
    "register_demand_process",
    "sample_demand",
    "step",
]
