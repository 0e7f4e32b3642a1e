"""Multi-level lot sizing on a serial chain or a distribution tree.

Every node ``i`` has one supplier ``parent[i]`` (``-1``: the unlimited outside source) and a lead time
``lead_time[i]``: what node ``i`` *receives* in period ``t`` was *released* (ordered, and shipped by its
parent) in period ``t - lead_time[i]``, so the parent must have it on hand then. Receipts before
period ``lead_time[i]`` are impossible (those orders would lie before the horizon). Node ``i`` serves
its own external demand ``demand[i]`` and its children's releases; holding cost is charged on end-of-
period stock at each node (stock in transit is free, as in the simulator), a set-up cost for every
period with a positive receipt.

Three planners:

- :func:`level_by_level`: MRP style. Children first: plan each node on its gross requirements (its
  demand plus its children's releases, net of its initial stock) with any single-item planner,
  then offset by the lead time to get its releases, which become its parent's requirements.
- :func:`joint_milp`: the exact joint model (binary set-ups) as a MILP -- the reference.
- :func:`genetic_algorithm`: an adaptive GA over set-up patterns (see its docstring).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import Bounds, LinearConstraint, milp

from invmgmt_marl.lotsizing.plan import EPS, LotSizingPlan

__all__ = [
    "genetic_single",
    "MultiLevelProblem",
    "MultiLevelPlan",
    "evaluate_receipts",
    "level_by_level",
    "joint_milp",
    "genetic_algorithm",
]

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
BoolA = NDArray[np.bool_]
SinglePlanner = Callable[[F64, F64, F64], LotSizingPlan]


@dataclass(frozen=True, eq=False)
class MultiLevelProblem:
    """A multi-level lot-sizing instance (build with :meth:`create`, which validates).

    Attributes:
        demand: ``(N, T)`` external demand at each node (zero rows for internal nodes).
        parent: ``(N,)`` supplier of each node, ``-1`` for the outside source.
        lead_time: ``(N,)`` periods from release to receipt (``>= 0``).
        setup_cost: ``(N, T)`` set-up cost, indexed by the receipt period.
        holding_cost: ``(N, T)`` holding cost per unit left at the end of a period.
        initial_inventory: ``(N,)`` stock at the start of period 0.
    """

    demand: F64  # (N, T)
    parent: I64  # (N,)
    lead_time: I64  # (N,)
    setup_cost: F64  # (N, T)
    holding_cost: F64  # (N, T)
    initial_inventory: F64  # (N,)

    @classmethod
    def create(
        cls,
        demand: ArrayLike,
        parent: ArrayLike,
        lead_time: ArrayLike,
        setup_cost: ArrayLike,
        holding_cost: ArrayLike,
        initial_inventory: ArrayLike = 0.0,
    ) -> MultiLevelProblem:
        """Validate and build. ``setup_cost`` / ``holding_cost`` may be ``(N,)`` or ``(N, T)``.

        Raises:
            ValueError: naming the field and the value (shapes, negative values, a parent index out of
                range, or a cycle in ``parent``).
        """
        d = np.asarray(demand, dtype=np.float64)
        if d.ndim != 2 or d.size == 0:
            raise ValueError(f"demand: expected shape (N, T), got {d.shape}")
        n, t_len = d.shape
        if not np.all(np.isfinite(d)) or np.any(d < 0):
            raise ValueError("demand: must be finite and >= 0")
        par = np.asarray(parent, dtype=np.int64).reshape(-1)
        lead = np.asarray(lead_time, dtype=np.int64).reshape(-1)
        if par.shape != (n,) or np.any(par < -1) or np.any(par >= n) or np.any(par == np.arange(n)):
            raise ValueError(
                f"parent: expected (N,) = ({n},) indices in [-1, N) other than self, got {par.tolist()}"
            )
        if lead.shape != (n,) or np.any(lead < 0):
            raise ValueError(f"lead_time: expected ({n},) values >= 0, got {lead.tolist()}")

        def per(v: ArrayLike, name: str) -> F64:
            a = np.asarray(v, dtype=np.float64)
            a = np.broadcast_to(a[:, None] if a.ndim == 1 else a, (n, t_len)).copy()
            if not np.all(np.isfinite(a)) or np.any(a < 0):
                raise ValueError(f"{name}: must be finite and >= 0, got {np.asarray(v).tolist()}")
            return a

        init = np.broadcast_to(np.asarray(initial_inventory, dtype=np.float64), (n,)).copy()
        if not np.all(np.isfinite(init)) or np.any(init < 0):
            raise ValueError(f"initial_inventory: must be finite and >= 0, got {init.tolist()}")
        prob = cls(d, par, lead, per(setup_cost, "setup_cost"), per(holding_cost, "holding_cost"), init)
        prob.order()  # raises on cycles
        return prob

    @property
    def n_nodes(self) -> int:
        return int(self.demand.shape[0])

    @property
    def periods(self) -> int:
        return int(self.demand.shape[1])

    def children(self, i: int) -> I64:
        return np.flatnonzero(self.parent == i)

    def order(self) -> list[int]:
        """Nodes children-first (every node after all of its descendants)."""
        depth = np.zeros(self.n_nodes, dtype=np.int64)
        for i in range(self.n_nodes):
            j, steps = i, 0
            while self.parent[j] >= 0:
                j = int(self.parent[j])
                steps += 1
                if steps > self.n_nodes:
                    raise ValueError(f"parent: the supply links contain a cycle, got {self.parent.tolist()}")
            depth[i] = steps
        return [int(i) for i in np.argsort(-depth, kind="stable")]


@dataclass(frozen=True, eq=False)
class MultiLevelPlan:
    """A multi-level plan and its cost.

    Attributes:
        method: the planner that made it.
        receipts: ``(N, T)`` units each node receives in each period.
        releases: ``(N, T)`` the same orders at their release period (``receipts`` shifted by the lead time).
        inventory: ``(N, T)`` end-of-period stock.
        setups: ``(N, T)`` positive receipts.
        setup_cost: ``(N,)`` set-up cost per node.
        holding_cost: ``(N,)`` holding cost per node.
        info: planner-specific details.
    """

    method: str
    receipts: F64  # (N, T)
    releases: F64  # (N, T)
    inventory: F64  # (N, T)
    setups: BoolA  # (N, T)
    setup_cost: F64  # (N,)
    holding_cost: F64  # (N,)
    info: Mapping[str, Any] = field(default_factory=dict)

    @property
    def total_cost(self) -> float:
        return float(self.setup_cost.sum() + self.holding_cost.sum())


def _release(receipts_row: F64, lead: int) -> F64:
    t_len = receipts_row.size
    out = np.zeros(t_len)
    out[: t_len - lead] = receipts_row[lead:]
    return out


def evaluate_receipts(
    problem: MultiLevelProblem, receipts: ArrayLike, method: str = "given"
) -> MultiLevelPlan:
    """Stock, set-ups and cost of given receipts; raises ``ValueError`` if infeasible (a receipt
    before the lead time, or a shortage at some node)."""
    r = np.asarray(receipts, dtype=np.float64).copy()
    n, t_len = problem.demand.shape
    if r.shape != (n, t_len):
        raise ValueError(f"receipts: expected shape {(n, t_len)}, got {r.shape}")
    r[np.abs(r) < EPS] = 0.0
    scale = max(1.0, float(problem.demand.sum()))
    releases = np.stack([_release(r[i], int(problem.lead_time[i])) for i in range(n)])
    inv = np.zeros((n, t_len))
    for i in range(n):
        lead = int(problem.lead_time[i])
        if np.any(r[i, :lead] > EPS):
            raise ValueError(f"receipts: node {i} receives before its lead time {lead}")
        gross = problem.demand[i] + releases[problem.children(i)].sum(axis=0)
        inv[i] = problem.initial_inventory[i] + np.cumsum(r[i] - gross)
        if np.any(inv[i] < -1e-6 * scale):
            t = int(np.argmax(inv[i] < -1e-6 * scale))
            raise ValueError(f"receipts: node {i} runs short in period {t} (stock {inv[i, t]:.6g})")
    inv = np.maximum(inv, 0.0)
    setups = r > EPS
    return MultiLevelPlan(
        method=method,
        receipts=r,
        releases=releases,
        inventory=inv,
        setups=setups,
        setup_cost=(problem.setup_cost * setups).sum(axis=1),
        holding_cost=(problem.holding_cost * inv).sum(axis=1),
    )


def _net_requirements(gross: F64, initial: float) -> F64:
    """Requirements left after the initial stock is used up, period by period."""
    covered = np.minimum(np.cumsum(gross), initial)
    return gross - np.diff(np.concatenate([[0.0], covered]))


def _infeasible(i: int, lead: int, net: F64) -> ValueError:
    t = int(np.argmax(net[:lead] > EPS))
    return ValueError(
        f"problem: node {i} needs {net[t]:.6g} units in period {t}, before its lead time {lead}; "
        "raise its initial_inventory"
    )


def level_by_level(problem: MultiLevelProblem, planner: SinglePlanner | None = None) -> MultiLevelPlan:
    """Plan node by node, children first, each with ``planner`` (default Wagner-Whitin) on its net
    requirements, offsetting releases by the lead time.

    Raises:
        ValueError: some node needs units before its lead time that its initial stock cannot cover.
    """
    from invmgmt_marl.lotsizing.single import wagner_whitin

    plan_one = planner or wagner_whitin
    n, t_len = problem.demand.shape
    receipts = np.zeros((n, t_len))
    releases = np.zeros((n, t_len))
    for i in problem.order():
        lead = int(problem.lead_time[i])
        gross = problem.demand[i] + releases[problem.children(i)].sum(axis=0)
        net = _net_requirements(gross, float(problem.initial_inventory[i]))
        if np.any(net[:lead] > EPS):
            raise _infeasible(i, lead, net)
        if lead < t_len and net[lead:].sum() > EPS:
            p = plan_one(net[lead:], problem.setup_cost[i, lead:], problem.holding_cost[i, lead:])
            receipts[i, lead:] = p.quantities
        releases[i] = _release(receipts[i], lead)
    name = getattr(plan_one, "__name__", "planner")
    return _with(evaluate_receipts(problem, receipts, f"level_by_level[{name}]"), {})


def _with(plan: MultiLevelPlan, info: Mapping[str, Any]) -> MultiLevelPlan:
    return MultiLevelPlan(
        plan.method,
        plan.receipts,
        plan.releases,
        plan.inventory,
        plan.setups,
        plan.setup_cost,
        plan.holding_cost,
        dict(info),
    )


def joint_milp(
    problem: MultiLevelProblem, time_limit: float = 30.0, mip_rel_gap: float = 1e-9
) -> MultiLevelPlan:
    """The exact joint plan as a MILP (HiGHS). Per node ``i`` and period ``t``: receipts ``r``, end
    stock ``I``, binary set-up ``y``::

        min  sum K[i,t] y[i,t] + h[i,t] I[i,t]
        s.t. I[i,t] - I[i,t-1] - r[i,t] + sum_{c child of i, t + L_c < T} r[c, t + L_c] = -demand[i,t]
             r[i,t] <= M[i] y[i,t]     (M[i]: all demand in the subtree of i)
             r[i,t] = 0 for t < L_i

    ``info`` holds ``mip_gap``, ``dual_bound`` and the HiGHS status.

    Raises:
        ValueError: infeasible, or no plan found within ``time_limit``.
    """
    n, t_len = problem.demand.shape
    subtree = problem.demand.sum(axis=1).copy()
    for i in problem.order():  # children first: accumulate subtree demand upwards
        if problem.parent[i] >= 0:
            subtree[problem.parent[i]] += subtree[i]
    big_m = np.maximum(subtree, EPS)
    ir = np.arange(n * t_len).reshape(n, t_len)
    ii, iy = ir + n * t_len, ir + 2 * n * t_len
    n_var = 3 * n * t_len
    c = np.zeros(n_var)
    c[ii.ravel()] = problem.holding_cost.ravel()
    c[iy.ravel()] = problem.setup_cost.ravel()
    rows: list[I64] = []
    cols: list[I64] = []
    vals: list[F64] = []

    def add(r: I64, cc: I64, v: float) -> None:
        rows.append(np.asarray(r).ravel())
        cols.append(np.asarray(cc).ravel())
        vals.append(np.full(np.asarray(r).size, v))

    row = ir  # one balance row per (node, period)
    add(row, ii, 1.0)
    add(row[:, 1:], ii[:, :-1], -1.0)
    add(row, ir, -1.0)
    for ch in range(n):
        p = int(problem.parent[ch])
        lead = int(problem.lead_time[ch])
        if p < 0 or lead >= t_len:
            continue
        t = np.arange(t_len - lead)
        add(row[p, t], ir[ch, t + lead], 1.0)
    a_eq = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n * t_len, n_var)
    )
    rhs = -problem.demand.copy()
    rhs[:, 0] += problem.initial_inventory
    link = sp.csr_matrix(
        (
            np.concatenate([np.ones(n * t_len), -np.repeat(big_m, t_len)]),
            (np.tile(np.arange(n * t_len), 2), np.concatenate([ir.ravel(), iy.ravel()])),
        ),
        shape=(n * t_len, n_var),
    )
    ub = np.full(n_var, np.inf)
    ub[iy.ravel()] = 1.0
    too_early = np.arange(t_len)[None, :] < problem.lead_time[:, None]
    ub[ir[too_early]] = 0.0
    res = milp(
        c,
        constraints=[LinearConstraint(a_eq, rhs.ravel(), rhs.ravel()), LinearConstraint(link, -np.inf, 0.0)],
        integrality=np.concatenate([np.zeros(2 * n * t_len), np.ones(n * t_len)]),
        bounds=Bounds(np.zeros(n_var), ub),
        options={"time_limit": float(time_limit), "mip_rel_gap": float(mip_rel_gap)},
    )
    if res.x is None:
        raise ValueError(f"joint_milp: no feasible plan found (HiGHS status {res.status}: {res.message})")
    plan = evaluate_receipts(problem, res.x[ir], "joint_milp")
    info = {
        "mip_gap": float(getattr(res, "mip_gap", np.nan)),
        "dual_bound": float(getattr(res, "mip_dual_bound", np.nan)),
        "status": int(res.status),
        "message": str(res.message),
    }
    return _with(plan, info)


# --------------------------------------------------------------------------------------------------
def _decode(problem: MultiLevelProblem, setups: BoolA) -> tuple[F64, BoolA] | None:
    """Receipts from a set-up pattern, children first: each set-up receives the node's net
    requirements up to its next set-up. A period with requirements and no set-up at or before it
    (from the lead time on) gets one (repair). ``None`` if infeasible (requirements before the lead
    time). Returns ``(receipts, repaired set-ups)``."""
    n, t_len = problem.demand.shape
    receipts = np.zeros((n, t_len))
    releases = np.zeros((n, t_len))
    fixed = setups.copy()
    for i in problem.order():
        lead = int(problem.lead_time[i])
        gross = problem.demand[i] + releases[problem.children(i)].sum(axis=0)
        net = _net_requirements(gross, float(problem.initial_inventory[i]))
        if np.any(net[:lead] > EPS):
            return None
        row = fixed[i]
        row[:lead] = False
        current = -1
        for t in range(lead, t_len):
            if row[t]:
                current = t
            if net[t] > EPS:
                if current < 0:
                    row[t] = True
                    current = t
                receipts[i, current] += net[t]
        row &= receipts[i] > EPS  # set-ups that received nothing cost nothing: drop them
        releases[i] = _release(receipts[i], lead)
    return receipts, fixed


def genetic_algorithm(
    problem: MultiLevelProblem,
    rng: np.random.Generator | int | None = 0,
    population: int = 30,
    generations: int = 60,
    max_evaluations: int | None = None,
    elite: int = 2,
    mutation_rate: float | None = None,
    crossover_rate: float = 0.9,
    seed_plans: bool = True,
) -> MultiLevelPlan:
    """Adaptive genetic algorithm for multi-level lot sizing over a short horizon.

    Chromosome: the ``(N, T)`` binary set-up pattern (the usual encoding for uncapacitated multi-
    level lot sizing, e.g. Dellaert & Jeunet, *IJPR* 38(5), 2000). Decoding (children first) gives
    each set-up the node's net requirements until its next set-up and repairs missing set-ups; the
    repaired pattern replaces the chromosome. Operators: binary tournament selection, uniform
    crossover of whole node rows, bit-flip mutation. *Adaptive*: the mutation rate grows by half
    (up to 0.5) after every 5 generations without improvement of the best and returns to its
    initial value on improvement. *Elitism*: the ``elite`` best survive unchanged, so the result is
    never worse than the best of the initial population.

    The initial population holds lot-for-lot (a set-up in every period) and, with ``seed_plans``,
    the level-by-level Wagner-Whitin pattern; the rest are random patterns.

    Args:
        problem: the instance.
        rng: a ``numpy.random.Generator`` or a seed.
        population: individuals per generation (``>= 2``).
        generations: the most generations.
        max_evaluations: stop once this many decodings have been made (``None``: no limit).
        elite: individuals carried over unchanged (``>= 1``).
        mutation_rate: initial bit-flip probability (default ``1 / (N * T)``, at least 0.02).
        crossover_rate: probability that two parents are crossed.
        seed_plans: put the level-by-level Wagner-Whitin pattern in the initial population.

    Returns:
        The best plan; ``info`` holds ``initial_best`` (best cost of the initial population),
        ``evaluations``, ``generations`` and ``history`` (best cost after each generation).
    """
    if population < 2 or elite < 1 or elite >= population:
        raise ValueError(
            f"population/elite: need population >= 2 and 1 <= elite < population, got {population}/{elite}"
        )
    if generations < 0:
        raise ValueError(f"generations: must be >= 0, got {generations}")
    gen_rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    n, t_len = problem.demand.shape
    p0 = mutation_rate if mutation_rate is not None else max(1.0 / (n * t_len), 0.02)
    evals = 0

    def fitness(ind: BoolA) -> tuple[float, BoolA]:
        nonlocal evals
        evals += 1
        dec = _decode(problem, ind)
        if dec is None:
            return np.inf, ind
        receipts, fixed = dec
        return evaluate_receipts(problem, receipts).total_cost, fixed

    seeds: list[BoolA] = [np.ones((n, t_len), dtype=bool)]
    if seed_plans:
        with contextlib.suppress(ValueError):  # an infeasible problem is reported below
            seeds.append(level_by_level(problem).setups.copy())
    pop = seeds[:population]
    while len(pop) < population:
        pop.append(gen_rng.random((n, t_len)) < gen_rng.uniform(0.1, 0.6))
    scored = [fitness(ind) for ind in pop]
    costs = np.array([s[0] for s in scored])
    pop = [s[1] for s in scored]
    if not np.isfinite(costs.min()):
        raise ValueError(
            "problem: no feasible plan (requirements before the lead time); raise initial_inventory"
        )
    initial_best = float(costs.min())
    history = [initial_best]
    rate, stall, gen = p0, 0, 0
    for gen in range(1, generations + 1):  # noqa: B007 (gen is reported)
        if max_evaluations is not None and evals >= max_evaluations:
            gen -= 1
            break
        order = np.argsort(costs, kind="stable")
        new = [pop[k].copy() for k in order[:elite]]
        new_costs = [float(costs[k]) for k in order[:elite]]
        while len(new) < population and (max_evaluations is None or evals < max_evaluations):
            a, b = (min(gen_rng.integers(0, population, 2), key=lambda k: costs[k]) for _ in range(2))
            child = pop[a].copy()
            if gen_rng.random() < crossover_rate:
                take = gen_rng.random(n) < 0.5
                child[take] = pop[b][take]
            child ^= gen_rng.random((n, t_len)) < rate
            cost, child = fitness(child)
            new.append(child)
            new_costs.append(cost)
        improved = min(new_costs) < costs.min() - 1e-9
        pop, costs = new, np.array(new_costs)
        if len(pop) < population:  # budget ran out mid-generation: keep the population size
            population = len(pop)
        stall = 0 if improved else stall + 1
        rate = p0 if improved else (min(rate * 1.5, 0.5) if stall % 5 == 0 else rate)
        history.append(float(costs.min()))
    best = pop[int(np.argmin(costs))]
    dec = _decode(problem, best)
    if dec is None:  # cannot happen: the best individual has a finite cost
        raise RuntimeError("genetic_algorithm: the best individual does not decode")
    plan = evaluate_receipts(problem, dec[0], "genetic_algorithm")
    return _with(
        plan,
        {"initial_best": initial_best, "evaluations": evals, "generations": gen, "history": history},
    )


def genetic_single(
    demand: ArrayLike, setup_cost: ArrayLike, holding_cost: ArrayLike, **kwargs: Any
) -> LotSizingPlan:
    """:func:`genetic_algorithm` on a single-item instance (one node, no lead time), as a planner with
    the signature of :func:`~invmgmt_marl.lotsizing.single.wagner_whitin`. ``kwargs`` go to the GA."""
    from invmgmt_marl.lotsizing.plan import check_instance, plan_from_quantities

    d, K, h = check_instance(demand, setup_cost, holding_cost)  # noqa: N806
    prob = MultiLevelProblem.create(d[None], [-1], [0], K[None], h[None])
    ml = genetic_algorithm(prob, **kwargs)
    return plan_from_quantities("genetic_algorithm", ml.receipts[0], d, K, h, info=ml.info)
