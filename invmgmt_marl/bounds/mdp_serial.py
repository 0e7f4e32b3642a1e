"""Exact optimal policies of small two-node serial instances by relative value iteration.

The instance is a store fed by a warehouse (lead time ``L1``), the warehouse fed by an unlimited
external source (lead time ``L2``); integer demand with a finite pmf at the store; both nodes order
``0 .. max_order`` per period. The store backorders (cost ``shortage_cost`` per unit-period) or loses
unmet demand (``shortage_cost`` per lost unit); the warehouse backlogs what it cannot ship to the store,
at ``warehouse_backlog_cost`` per unit-period. That internal backlog cost is what the Clark-Scarf model
leaves out, so echelon base-stock is in general **not** optimal here and this is the exact reference.

The timing is the simulator's (``sim/dynamics.py``): arrivals, orders, demand, shipping (the warehouse
ships ``min(on hand, backlog + the store's new order)``, which reaches the store ``L1`` periods later;
the external source ships the warehouse's order in full, which arrives ``L2`` periods later), then
costs on end-of-period stock and backlog.

Decision state (after this period's arrivals)::

    (I, a_1 .. a_{L1-1}, W, R, b_1 .. b_{L2-1})

``I`` the store's net stock (``< 0``: backorders), ``a_k`` the shipment reaching the store ``k``
periods later, ``W`` the warehouse's stock on hand, ``R`` what it owes the store, ``b_k`` the external
shipment reaching the warehouse ``k`` periods later. Each coordinate is truncated to a range (see
:attr:`SerialMDP.dims`); :attr:`SerialMDPSolution.edge_mass` reports the stationary probability of the
truncation boundaries, which should be ~0 for the truncation to be harmless.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from invmgmt_marl.bounds.mdp import (
    TablePolicy,
    TableSolution,
    average_cost,
    check_pmf,
    grid_index,
    grid_states,
    relative_value_iteration,
    transition_tables,
    uniform_store_node,
)
from invmgmt_marl.sim.network import Network
from invmgmt_marl.sim.state import SimState

__all__ = [
    "SerialMDP",
    "SerialMDPSolution",
    "SerialMDPPolicy",
    "solve_serial_mdp",
    "evaluate_serial_policy",
    "echelon_base_stock_table",
    "installation_base_stock_table",
    "two_node_scenario",
]

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


@dataclass(frozen=True)
class SerialMDP:
    """A two-node serial instance (module docstring).

    Attributes:
        demand_pmf: ``(K,)`` ``P(D = k)``, ``k = 0 .. K-1``.
        lead_times: ``(L1, L2)``: warehouse -> store and external -> warehouse, each ``>= 1``.
        holding_cost: ``(h1, h2)`` per unit on hand at the end of a period, store and warehouse.
        shortage_cost: the store's backorder cost per unit-period, or cost per lost unit.
        warehouse_backlog_cost: per unit the warehouse owes the store at the end of a period.
        mode: the store's ``"backlog"`` or ``"lost_sales"``.
        max_order: both nodes order ``0 .. max_order``.
        max_stock: ``(store, warehouse)`` stock on hand caps (truncation).
        max_backlog: ``(store, warehouse)`` backlog caps (truncation; the store's only with backorders).
    """

    demand_pmf: tuple[float, ...]
    lead_times: tuple[int, int]
    holding_cost: tuple[float, float]
    shortage_cost: float
    warehouse_backlog_cost: float
    mode: Literal["backlog", "lost_sales"] = "backlog"
    max_order: int = 4
    max_stock: tuple[int, int] = (12, 12)
    max_backlog: tuple[int, int] = (8, 8)

    def __post_init__(self) -> None:
        check_pmf(self.demand_pmf)
        if len(self.lead_times) != 2 or min(self.lead_times) < 1:
            raise ValueError(f"lead_times: expected two lead times >= 1, got {self.lead_times}")
        if self.mode not in ("backlog", "lost_sales"):
            raise ValueError(f"mode: expected 'backlog' or 'lost_sales', got {self.mode!r}")
        if self.max_order < 1:
            raise ValueError(f"max_order: must be >= 1, got {self.max_order}")
        if min(self.max_stock) < self.max_order:
            raise ValueError(
                f"max_stock: each cap must be >= max_order {self.max_order}, got {self.max_stock}"
            )
        if min(self.max_backlog) < 0:
            raise ValueError(f"max_backlog: must be >= 0, got {self.max_backlog}")

    # ---- state space ------------------------------------------------------------------------------
    @property
    def max_shipment(self) -> int:
        """The largest shipment warehouse -> store: its backlog cap plus one order."""
        return self.max_backlog[1] + self.max_order

    @property
    def dims(self) -> tuple[tuple[int, int], ...]:
        """``(low, high)`` of every state coordinate (module docstring order)."""
        l1, l2 = self.lead_times
        low = -self.max_backlog[0] if self.mode == "backlog" else 0
        return (
            (low, self.max_stock[0]),
            *(((0, self.max_shipment),) * (l1 - 1)),
            (0, self.max_stock[1]),
            (0, self.max_backlog[1]),
            *(((0, self.max_order),) * (l2 - 1)),
        )

    @property
    def n_actions(self) -> int:
        """Joint actions ``(q1, q2)``, index ``q1 * (max_order + 1) + q2``."""
        return (self.max_order + 1) ** 2

    def states(self) -> I64:
        """``(S, D)`` every state, in index order."""
        return grid_states(self.dims)

    def index(self, states: I64) -> I64:
        """``(B,)`` index of ``(B, D)`` states (coordinates clipped into range)."""
        return grid_index(self.dims, states)

    def split(self, states: I64) -> tuple[I64, I64, I64, I64, I64]:
        """``I (S,)``, store pipeline ``(S, L1-1)``, ``W (S,)``, ``R (S,)``, warehouse pipeline
        ``(S, L2-1)``."""
        l1 = self.lead_times[0]
        return states[:, 0], states[:, 1:l1], states[:, l1], states[:, l1 + 1], states[:, l1 + 2 :]

    def positions(self, states: I64) -> tuple[I64, I64]:
        """``(S,)`` installation inventory positions of the store and the warehouse (stock + in transit
        to the node + owed to it - owed by it), as :func:`invmgmt_marl.positions.inventory_position`."""
        inv, pipe1, w, r, pipe2 = self.split(states)
        store = inv + pipe1.sum(axis=1) + r
        return store, w - r + pipe2.sum(axis=1)

    def transition(self, states: I64, q1: int, q2: int, d: int) -> tuple[I64, F64]:
        """Next states ``(S, D)`` and period costs ``(S,)`` after orders ``q1, q2`` and demand ``d``."""
        inv, pipe1, w, r, pipe2 = self.split(states)
        h1, h2 = self.holding_cost
        end = inv - d
        cost = h1 * np.maximum(end, 0) + self.shortage_cost * np.maximum(-end, 0)
        if self.mode == "lost_sales":
            end = np.maximum(end, 0)
        need = r + q1
        ship = np.minimum(w, need)
        w_end, r_end = w - ship, need - ship
        cost = cost + h2 * w_end + self.warehouse_backlog_cost * r_end
        ship_col = ship[:, None]
        q2_col = np.full((len(states), 1), q2)
        if pipe1.shape[1]:
            inv_next, pipe1_next = end + pipe1[:, 0], np.concatenate([pipe1[:, 1:], ship_col], axis=1)
        else:
            inv_next, pipe1_next = end + ship, pipe1
        if pipe2.shape[1]:
            w_next, pipe2_next = w_end + pipe2[:, 0], np.concatenate([pipe2[:, 1:], q2_col], axis=1)
        else:
            w_next, pipe2_next = w_end + q2, pipe2
        nxt = np.concatenate(
            [inv_next[:, None], pipe1_next, w_next[:, None], r_end[:, None], pipe2_next], axis=1
        )
        return nxt, cost.astype(np.float64)

    def tables(self) -> tuple[I64, F64]:
        """``next (A, K, S)`` state indices and ``cost (A, K, S)`` for every joint action and demand."""
        st = self.states()

        def step(a: int, d: int) -> tuple[I64, F64]:
            ns, c = self.transition(st, *divmod(a, self.max_order + 1), d)
            return self.index(ns), c

        return transition_tables(len(st), self.n_actions, len(self.demand_pmf), step)

    def empty_state(self) -> int:
        """Index of the state with nothing anywhere (how :func:`two_node_scenario` starts)."""
        return int(self.index(np.zeros((1, len(self.dims)), dtype=np.int64))[0])


@dataclass(frozen=True)
class SerialMDPSolution(TableSolution[SerialMDP]):
    """Result of :func:`solve_serial_mdp` (fields: :class:`~invmgmt_marl.bounds.mdp.TableSolution`):
    ``policy`` is the joint action index ``q1 * (max_order + 1) + q2`` in every state, ``gain`` the
    cost of both nodes together."""

    def orders(self, states: I64) -> tuple[I64, I64]:
        """``(B,)`` store and warehouse orders in ``(B, D)`` states."""
        q1, q2 = np.divmod(self.policy[self.model.index(states)], self.model.max_order + 1)
        return q1, q2


def evaluate_serial_policy(
    model: SerialMDP, policy: I64, tables: tuple[I64, F64] | None = None
) -> tuple[float, F64]:
    """Exact long-run average cost per period of a stationary joint ``policy`` ``(S,)`` from the empty
    state, and its long-run state distribution ``(S,)``."""
    nxt, cost = model.tables() if tables is None else tables
    return average_cost(
        nxt, cost, np.asarray(model.demand_pmf, dtype=np.float64), policy, model.empty_state()
    )


def _joint(model: SerialMDP, q1: I64, q2: I64) -> I64:
    m = model.max_order
    return (np.clip(q1, 0, m) * (m + 1) + np.clip(q2, 0, m)).astype(np.int64)


def installation_base_stock_table(model: SerialMDP, levels: tuple[int, int]) -> I64:
    """``(S,)`` joint actions of installation base stock at ``(store, warehouse)`` levels, orders capped
    at ``max_order`` (:class:`~invmgmt_marl.policies.base.BaseStockPolicy`)."""
    p1, p2 = model.positions(model.states())
    return _joint(model, levels[0] - p1, levels[1] - p2)


def echelon_base_stock_table(model: SerialMDP, levels: tuple[int, int]) -> I64:
    """``(S,)`` joint actions of echelon base stock at echelon levels ``(store, store + warehouse)``,
    orders capped at ``max_order`` (:class:`~invmgmt_marl.policies.base.EchelonBaseStockPolicy`)."""
    p1, p2 = model.positions(model.states())
    return _joint(model, levels[0] - p1, levels[1] - (p1 + p2))


def solve_serial_mdp(
    model: SerialMDP, tol: float = 1e-8, max_iter: int = 50_000, damping: float = 0.7
) -> SerialMDPSolution:
    """Optimal stationary joint policy and its long-run average cost by relative value iteration.

    Raises:
        RuntimeError: no convergence within ``max_iter`` sweeps.
    """
    nxt, cost = model.tables()
    pmf = np.asarray(model.demand_pmf, dtype=np.float64)
    ref = model.empty_state()
    policy, (lo, hi), it = relative_value_iteration(
        nxt, cost, pmf, ref, tol, max_iter, damping, "solve_serial_mdp"
    )
    gain, pi = evaluate_serial_policy(model, policy, (nxt, cost))
    st = model.states()
    edge = np.zeros(len(st), dtype=bool)
    for j, (lo_j, hi_j) in enumerate(model.dims):
        edge |= st[:, j] == hi_j
        if j == 0 and model.mode == "backlog":
            edge |= st[:, 0] == lo_j
    return SerialMDPSolution(model, policy, gain, (lo, hi), it, float(pi[edge].sum()))


# --------------------------------------------------------------------------------------------------
def two_node_scenario(model: SerialMDP, periods: int = 200, name: str = "mdp_two_node") -> dict[str, object]:
    """A scenario mapping (for :func:`invmgmt_marl.scenario.schema.validate_scenario`) that behaves
    exactly like ``model``: ``external -> supplier_0 -> store_0``, nothing on hand or in transit at
    the start, the store's demand the pmf as a ``uniform`` process.

    Raises:
        ValueError: the pmf is not uniform on ``low .. high`` (the only finite pmf the scenario
            schema can express).
    """
    store = uniform_store_node(model.demand_pmf, model.holding_cost[0], model.shortage_cost, model.mode)
    warehouse = {
        "role": "supplier",
        "initial_on_hand": 0,
        "holding_cost": model.holding_cost[1],
        "backlog_cost": model.warehouse_backlog_cost,
    }
    l1, l2 = model.lead_times
    return {
        "name": name,
        "periods": periods,
        "nodes": [store, warehouse],
        "edges": [
            {"from": "supplier_0", "to": "store_0", "lead_time": l1},
            {"from": "external", "to": "supplier_0", "lead_time": l2},
        ],
        "actions": {"type": "box", "max_order": model.max_order},
        "reward": {"scheme": "cost"},
    }


class SerialMDPPolicy(TablePolicy[SerialMDPSolution]):
    """A solved two-node policy table as a simulator policy for :func:`two_node_scenario` networks:
    reads the decision state (after this period's arrivals) from the simulator state and orders the
    table's quantities on the store's and the warehouse's inbound edges."""

    def __call__(self, net: Network, state: SimState, rng: np.random.Generator) -> F64:
        m = self.solution.model
        l1, l2 = m.lead_times
        store = int(net.store_nodes[0])
        e1 = int(np.flatnonzero(net.edge_dst == store)[0])  # warehouse -> store
        wh = int(net.edge_src[e1])
        e2 = int(np.flatnonzero(net.edge_dst == wh)[0])  # external -> warehouse
        slots = net.pipeline_slots(state.t)
        pipe1 = state.pipeline[:, e1, slots[:l1]]  # (B, L1) arrivals in t .. t+L1-1
        pipe2 = state.pipeline[:, e2, slots[:l2]]  # (B, L2)
        customers = net.n_edges + int(np.flatnonzero(net.store_nodes == store)[0])
        cols = [state.on_hand[:, store] - state.backlog[:, customers] + pipe1[:, 0]]
        cols += [pipe1[:, k] for k in range(1, l1)]
        cols += [state.on_hand[:, wh] + pipe2[:, 0], state.backlog[:, e1]]
        cols += [pipe2[:, k] for k in range(1, l2)]
        st = np.rint(np.stack(cols, axis=1)).astype(np.int64)
        q1, q2 = self.solution.orders(st)
        orders = np.zeros((st.shape[0], net.n_edges))
        orders[:, e1] = q1
        orders[:, e2] = q2
        return orders
