"""Exact optimal policies of small single-store instances by relative value iteration.

The instance is one store buying from an unlimited source with lead time ``L >= 1`` (in the
simulator: a store fed by a supplier whose stock never runs out and costs nothing to hold, see
:func:`single_store_scenario`), integer demand with a finite pmf, orders ``0 .. max_order``, and either
backorders, lost sales, or lost sales with perishable stock (shelf life ``m``, oldest shipped first,
what reaches age ``m`` is wasted). The timing is the simulator's (``sim/dynamics.py``): arrivals, order,
demand, shipping, costs on end-of-period stock.

The decision state is the stock *after this period's arrivals* and the pipeline: ``(I, a_1 .. a_{L-1})``
(``a_k`` arrives ``k`` periods later; ``I < 0`` is backlog), or for perishables the stock by age
``(b_0 .. b_{m-1}, a_1 .. a_{L-1})``. Stock is truncated to ``[-max_backlog, max_stock]``; the
truncation is harmless when the optimal policy never gets near it (:attr:`MDPSolution.edge_mass`
reports the stationary probability of the truncation boundary, which should be ~0).

Average-cost relative value iteration with a damped (aperiodicity) update; the Odoni bounds
``min(TV - V) <= g* <= max(TV - V)`` give the optimal gain to a tolerance. The optimal stationary
policy's gain is then computed exactly from its stationary distribution.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from invmgmt_marl.sim.network import Network
from invmgmt_marl.sim.state import SimState

__all__ = [
    "SingleStoreMDP",
    "MDPSolution",
    "solve_mdp",
    "evaluate_policy",
    "base_stock_table",
    "MDPPolicy",
    "single_store_scenario",
    "TableSolution",
    "TablePolicy",
    "check_pmf",
    "grid_states",
    "grid_index",
    "transition_tables",
    "average_cost",
    "relative_value_iteration",
    "uniform_store_node",
]

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
M = TypeVar("M")
Sol = TypeVar("Sol")


# ---- shared machinery of the tabular models (this module's and :mod:`.mdp_serial`'s) ---------------
def check_pmf(demand_pmf: tuple[float, ...]) -> None:
    """Raises ValueError unless ``demand_pmf`` is non-negative probabilities summing to 1."""
    p = np.asarray(demand_pmf, dtype=np.float64)
    if p.ndim != 1 or len(p) == 0 or np.any(p < 0) or abs(p.sum() - 1) > 1e-9:
        raise ValueError(f"demand_pmf: expected non-negative probabilities summing to 1, got {demand_pmf}")


def grid_states(dims: tuple[tuple[int, int], ...]) -> I64:
    """``(S, D)`` every integer state of the box ``dims`` (``(low, high)`` per coordinate), in index
    order (the last coordinate fastest)."""
    grid = np.meshgrid(*[np.arange(lo, hi + 1) for lo, hi in dims], indexing="ij")
    return np.stack([g.ravel() for g in grid], axis=1).astype(np.int64)


def grid_index(dims: tuple[tuple[int, int], ...], states: I64) -> I64:
    """``(B,)`` index in :func:`grid_states` order of ``(B, D)`` states (coordinates clipped into range)."""
    idx = np.zeros(states.shape[0], dtype=np.int64)
    for j, (lo, hi) in enumerate(dims):
        idx = idx * (hi - lo + 1) + (np.clip(states[:, j], lo, hi) - lo)
    return idx


def transition_tables(
    n_states: int, n_actions: int, n_demands: int, step: Callable[[int, int], tuple[I64, F64]]
) -> tuple[I64, F64]:
    """``next (A, K, S)`` state indices and ``cost (A, K, S)``, where ``step(a, k)`` gives the ``(S,)``
    next state indices and ``(S,)`` period costs of action ``a`` and demand ``k`` in every state."""
    nxt = np.zeros((n_actions, n_demands, n_states), dtype=np.int64)
    cost = np.zeros((n_actions, n_demands, n_states))
    for a in range(n_actions):
        for d in range(n_demands):
            nxt[a, d], cost[a, d] = step(a, d)
    return nxt, cost


def average_cost(nxt: I64, cost: F64, pmf: F64, policy: I64, start: int = 0) -> tuple[float, F64]:
    """Exact long-run average cost per period of the stationary ``policy`` ``(S,)`` (action indices)
    from state ``start``, and the long-run state distribution ``(S,)``, for tables ``nxt, cost``
    ``(A, K, S)`` (:func:`transition_tables`) and the demand ``pmf`` ``(K,)``."""
    pi = _stationary(nxt, pmf, policy, start=start)
    c = cost[policy, :, np.arange(nxt.shape[2])] @ pmf  # (S,)
    return float(pi @ c), pi


def relative_value_iteration(
    nxt: I64, cost: F64, pmf: F64, ref: int, tol: float, max_iter: int, damping: float, name: str
) -> tuple[I64, tuple[float, float], int]:
    """Average-cost relative value iteration (damped, values relative to state ``ref``) on tables
    ``nxt, cost`` ``(A, K, S)`` and the demand ``pmf`` ``(K,)``.

    Returns:
        The greedy policy ``(S,)`` (action indices), the Odoni bounds ``(low, high)`` on the optimal
        gain, and the number of sweeps.

    Raises:
        RuntimeError: no convergence within ``max_iter`` sweeps (the message starts with ``name``).
    """
    exp_cost = np.einsum("k,aks->as", pmf, cost)  # (A, S)
    v = np.zeros(nxt.shape[2])
    lo = hi = 0.0
    qv = exp_cost
    it = 0
    while it < max_iter:
        it += 1
        qv = exp_cost + np.einsum("k,aks->as", pmf, v[nxt])
        tv = qv.min(axis=0)
        diff = tv - v
        lo, hi = float(diff.min()), float(diff.max())
        v = v + damping * diff
        v -= v[ref]
        if hi - lo < tol * max(1.0, abs(hi)):
            break
    if hi - lo >= tol * max(1.0, abs(hi)):
        raise RuntimeError(f"{name}: no convergence after {max_iter} sweeps (span {hi - lo:.3g})")
    return np.argmin(qv, axis=0).astype(np.int64), (lo, hi), it


def uniform_store_node(
    demand_pmf: tuple[float, ...], holding_cost: float, shortage_cost: float, mode: str
) -> dict[str, object]:
    """The scenario mapping of a store starting empty whose demand is ``demand_pmf`` as a ``uniform``
    process, backordering or losing unmet demand at ``shortage_cost``.

    Raises:
        ValueError: the pmf is not uniform on ``low .. high`` (the only finite pmf the scenario
            schema can express).
    """
    p = np.asarray(demand_pmf)
    nz = np.flatnonzero(p > 0)
    low, high = int(nz[0]), int(nz[-1])
    if not np.allclose(p[low : high + 1], 1.0 / (high - low + 1)) or np.any(p[:low] > 0):
        raise ValueError(f"demand_pmf: the scenario needs a uniform pmf, got {demand_pmf}")
    store: dict[str, object] = {
        "role": "store",
        "initial_on_hand": 0,
        "holding_cost": holding_cost,
        "demand": {"process": "uniform", "low": low, "high": high},
    }
    if mode == "lost_sales":
        store.update(lost_sales=True, lost_sales_cost=shortage_cost)
    else:
        store.update(backlog_cost=shortage_cost)
    return store


@dataclass(frozen=True)
class TableSolution(Generic[M]):
    """An optimal policy table of a tabular model ``M`` (:func:`solve_mdp`, ``solve_serial_mdp``).

    Attributes:
        model: the instance.
        policy: ``(S,)`` optimal action index in every state.
        gain: the optimal policy's exact long-run average cost per period.
        gain_bounds: the value-iteration (Odoni) bounds ``(low, high)`` on the optimal gain.
        iterations: value-iteration sweeps.
        edge_mass: stationary probability of states on a truncation boundary (should be ~0).
    """

    model: M
    policy: I64  # (S,)
    gain: float
    gain_bounds: tuple[float, float]
    iterations: int
    edge_mass: float


class TablePolicy(Generic[Sol]):
    """Base of the simulator policies that play a solved table (``__call__`` in the subclasses)."""

    #: does not look at the period index: long-run bounds apply to its steady-state cost
    stationary = True

    def __init__(self, solution: Sol) -> None:
        self.solution = solution


@dataclass(frozen=True)
class SingleStoreMDP:
    """A small single-store inventory instance (module docstring).

    Attributes:
        demand_pmf: ``(K,)`` ``P(D = k)``, ``k = 0 .. K-1``.
        lead_time: ``L >= 1``.
        holding_cost: per unit on hand at the end of a period.
        shortage_cost: backlog cost per unit-period (``mode="backlog"``) or per lost unit.
        mode: ``"backlog"`` or ``"lost_sales"``.
        max_order: orders ``0 .. max_order``.
        max_stock: stock is capped here (truncation).
        max_backlog: backlog is capped here (truncation; backlog mode).
        shelf_life: ``m >= 2`` for perishable stock (lost sales only), else ``None``.
        waste_cost: per expired unit.
        unit_cost: per unit ordered.
    """

    demand_pmf: tuple[float, ...]
    lead_time: int
    holding_cost: float
    shortage_cost: float
    mode: Literal["backlog", "lost_sales"] = "lost_sales"
    max_order: int = 8
    max_stock: int = 20
    max_backlog: int = 20
    shelf_life: int | None = None
    waste_cost: float = 0.0
    unit_cost: float = 0.0

    def __post_init__(self) -> None:
        check_pmf(self.demand_pmf)
        if self.lead_time < 1:
            raise ValueError(f"lead_time: must be >= 1, got {self.lead_time}")
        if self.mode not in ("backlog", "lost_sales"):
            raise ValueError(f"mode: expected 'backlog' or 'lost_sales', got {self.mode!r}")
        if self.shelf_life is not None and (self.shelf_life < 2 or self.mode != "lost_sales"):
            raise ValueError(
                f"shelf_life: needs >= 2 and mode='lost_sales', got {self.shelf_life}, {self.mode}"
            )
        if self.max_order < 1 or self.max_stock < self.max_order:
            raise ValueError(
                f"max_order / max_stock: need 1 <= max_order <= max_stock, got {self.max_order}, "
                f"{self.max_stock}"
            )

    # ---- state space ------------------------------------------------------------------------------
    @property
    def dims(self) -> tuple[tuple[int, int], ...]:
        """``(low, high)`` of every state coordinate."""
        pipe = ((0, self.max_order),) * (self.lead_time - 1)
        if self.shelf_life is not None:
            return ((0, self.max_order),) * self.shelf_life + pipe
        low = -self.max_backlog if self.mode == "backlog" else 0
        return ((low, self.max_stock), *pipe)

    def states(self) -> I64:
        """``(S, D)`` every state, in index order."""
        return grid_states(self.dims)

    def index(self, states: I64) -> I64:
        """``(B,)`` index of ``(B, D)`` states (coordinates clipped into range)."""
        return grid_index(self.dims, states)

    def position(self, states: I64) -> I64:
        """``(S,)`` inventory position: stock (all ages) + pipeline."""
        return states.sum(axis=1)

    def transition(self, states: I64, q: int, d: int) -> tuple[I64, F64]:
        """Next states ``(S, D)`` and period costs ``(S,)`` after ordering ``q`` and demand ``d``."""
        lt = self.lead_time
        pipe = states[:, states.shape[1] - (lt - 1) :] if lt > 1 else states[:, :0]
        nxt_arrival = pipe[:, 0] if lt > 1 else np.full(len(states), q)
        new_pipe = np.concatenate([pipe[:, 1:], np.full((len(states), 1), q)], axis=1) if lt > 1 else pipe
        cost = np.full(len(states), self.unit_cost * q, dtype=np.float64)
        if self.shelf_life is None:
            inv = states[:, 0]
            end = inv - d
            if self.mode == "lost_sales":
                cost += self.shortage_cost * np.maximum(-end, 0) + self.holding_cost * np.maximum(end, 0)
                end = np.maximum(end, 0)
            else:
                cost += self.shortage_cost * np.maximum(-end, 0) + self.holding_cost * np.maximum(end, 0)
            nxt = np.concatenate([(end + nxt_arrival)[:, None], new_pipe], axis=1)
            return nxt, cost
        m = self.shelf_life
        ages = states[:, :m]  # b_0 (arrived now) .. b_{m-1} (oldest)
        left = np.full(len(states), d)
        rem = ages.copy()
        for k in range(m - 1, -1, -1):  # oldest first
            take = np.minimum(rem[:, k], left)
            rem[:, k] -= take
            left -= take
        waste = rem[:, m - 1]
        cost += (
            self.shortage_cost * left
            + self.waste_cost * waste
            + self.holding_cost * rem[:, : m - 1].sum(axis=1)
        )
        nxt = np.concatenate([nxt_arrival[:, None], rem[:, : m - 1], new_pipe], axis=1)
        return nxt, cost

    def tables(self) -> tuple[I64, F64]:
        """``next (A, K, S)`` state indices and ``cost (A, K, S)`` for every action and demand."""
        st = self.states()

        def step(q: int, d: int) -> tuple[I64, F64]:
            ns, c = self.transition(st, q, d)
            return self.index(ns), c

        return transition_tables(len(st), self.max_order + 1, len(self.demand_pmf), step)


@dataclass(frozen=True)
class MDPSolution(TableSolution[SingleStoreMDP]):
    """Result of :func:`solve_mdp` (fields: :class:`TableSolution`): ``policy`` is the order in every
    state, ``edge_mass`` the stationary probability of the stock truncation bounds."""


def _stationary(
    nxt: I64, pmf: F64, policy: I64, start: int = 0, tol: float = 1e-13, max_iter: int = 200_000
) -> F64:
    """Long-run state distribution from state ``start`` (index 0: no stock, empty pipeline, as the
    scenarios start) under ``policy``: power iteration on the lazy chain ``(P + I) / 2``, which has the
    same stationary distributions and is aperiodic."""
    s_n = nxt.shape[2]
    rows = np.repeat(np.arange(s_n), len(pmf))
    cols = nxt[policy, :, np.arange(s_n)].ravel()  # (S, K)
    p_t = sp.csr_matrix((np.tile(pmf, s_n), (cols, rows)), shape=(s_n, s_n))  # transposed
    pi = np.zeros(s_n)
    pi[start] = 1.0
    for _ in range(max_iter):
        new = 0.5 * (pi + p_t @ pi)
        if np.abs(new - pi).sum() < tol:
            return np.asarray(new / new.sum())
        pi = new
    raise RuntimeError(f"stationary distribution: no convergence after {max_iter} iterations")


def evaluate_policy(
    model: SingleStoreMDP, policy: I64, tables: tuple[I64, F64] | None = None
) -> tuple[float, F64]:
    """Exact long-run average cost of a stationary ``policy`` ``(S,)`` (orders per state) from the empty
    state (stock 0 or, with backorders, the state index 0), and the long-run distribution ``(S,)``."""
    nxt, cost = model.tables() if tables is None else tables
    return average_cost(nxt, cost, np.asarray(model.demand_pmf), policy)


def base_stock_table(model: SingleStoreMDP, level: int) -> I64:
    """``(S,)`` orders of base stock at ``level``: ``min(max_order, max(0, level - position))``."""
    return np.clip(level - model.position(model.states()), 0, model.max_order).astype(np.int64)


def solve_mdp(
    model: SingleStoreMDP, tol: float = 1e-7, max_iter: int = 20000, damping: float = 0.7
) -> MDPSolution:
    """Optimal stationary policy and its long-run average cost by relative value iteration.

    Raises:
        RuntimeError: no convergence within ``max_iter`` sweeps.
    """
    nxt, cost = model.tables()
    pmf = np.asarray(model.demand_pmf)
    policy, (lo, hi), it = relative_value_iteration(nxt, cost, pmf, 0, tol, max_iter, damping, "solve_mdp")
    gain, pi = evaluate_policy(model, policy, (nxt, cost))
    st = model.states()
    lo_s, hi_s = model.dims[0]
    edge = (st[:, 0] == hi_s) | ((st[:, 0] == lo_s) & (model.mode == "backlog"))
    edge_mass = float(pi[edge].sum()) if model.shelf_life is None else 0.0
    return MDPSolution(model, policy, gain, (lo, hi), it, edge_mass)


# --------------------------------------------------------------------------------------------------
def single_store_scenario(
    model: SingleStoreMDP, periods: int = 200, name: str = "mdp_single_store"
) -> dict[str, object]:
    """A scenario mapping (for :func:`invmgmt_marl.scenario.schema.validate_scenario`) whose store
    behaves exactly like ``model``: a supplier with ample free stock ships to the store with lead time
    ``L``; the store's demand is the pmf as a ``uniform`` process when the pmf is uniform.

    Raises:
        ValueError: the pmf is not uniform on ``low .. high`` (the only finite pmf the scenario
            schema can express).
    """
    store = uniform_store_node(model.demand_pmf, model.holding_cost, model.shortage_cost, model.mode)
    if model.shelf_life is not None:
        store.update(shelf_life=model.shelf_life, waste_cost=model.waste_cost)
    return {
        "name": name,
        "periods": periods,
        "nodes": [store, {"role": "supplier", "initial_on_hand": 1e9}],
        "edges": [
            {
                "from": "supplier_0",
                "to": "store_0",
                "lead_time": model.lead_time,
                "unit_cost": model.unit_cost,
                "max_order": model.max_order,
            },
            {"from": "external", "to": "supplier_0", "lead_time": 1, "max_order": 1},
        ],
        "actions": {"type": "box", "max_order": model.max_order},
    }


class MDPPolicy(TablePolicy[MDPSolution]):
    """A solved policy table as a simulator policy for :func:`single_store_scenario` networks: reads
    the store's stock (by age), this period's arrival and the pipeline from the state, orders the
    table's quantity on the store's inbound edge and nothing elsewhere."""

    def __call__(self, net: Network, state: SimState, rng: np.random.Generator) -> F64:
        m = self.solution.model
        store = int(net.store_nodes[0])
        edge = int(np.flatnonzero(net.edge_dst == store)[0])
        slots = net.pipeline_slots(state.t)[: m.lead_time]
        pipe = state.pipeline[:, edge, slots]  # (B, L) arrivals in t .. t+L-1
        if m.shelf_life is None:
            inv = state.on_hand[:, store] - state.backlog[:, net.n_edges] + pipe[:, 0]
            cols = [inv]
        else:
            k = int(np.flatnonzero(net.perishable_nodes == store)[0])
            age = state.age[:, k, : m.shelf_life]  # type: ignore[index]
            cols = [pipe[:, 0], *(age[:, j] for j in range(1, m.shelf_life))]
        cols += [pipe[:, j] for j in range(1, m.lead_time)]
        st = np.rint(np.stack(cols, axis=1)).astype(np.int64)
        orders = np.zeros((st.shape[0], net.n_edges))
        orders[:, edge] = self.solution.policy[m.index(st)]
        return orders
