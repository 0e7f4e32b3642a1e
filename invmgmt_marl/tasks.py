"""Graded tasks: a scenario, a seed and a score in ``[0, 1]`` for one episode's profit.

A :class:`Task` names a scenario (with overrides), the seed of its demand path and how it is graded::

    grade = clamp((profit - floor) / (ceiling - floor), 0, 1)

- ``profit`` is the team's revenue minus the team's costs over the episode, read from the ledger
  (:func:`ledger_profit`); in a cost-only scenario (no store sells at a price) it is minus the team's
  cost, the objective the rest of the package scores such scenarios on
  (:func:`task_objective`).
- ``floor`` is the profit of a passive agent that never orders (:func:`passive_profit`: the simulator
  with zero orders) on the same demand path: deterministic for a given seed; it works with products.
- ``ceiling`` is, where the perfect-information linear program (:mod:`invmgmt_marl.oracle`) models
  the scenario, its optimum on the same demand path: the LP's least cost (or most profit) over every
  plan that knows the whole demand path in advance, a lower bound on the cost (upper bound on the
  profit) of *every* ordering policy, so the grade of any policy is honest. The set-up indicator is
  relaxed to ``[0, 1]`` (``setups="relaxed"``), which only loosens the bound (see the oracle's
  docstring). Where the LP does not model the scenario (assembly, perishable stock, ...) the top of
  the scale is a **reference**, the profit of the task's baseline policy, and says so
  (``Reference.kind == "reference"``): beating it scores 1 without proving anything. A product
  scenario with a single store gets the retail profit ceiling of :mod:`invmgmt_marl.bounds.retail`
  (cash, perishables, storage, liquidation, prices; docs/bounds.md) unless its task has a hook.

The episode a task grades is the one ``InventoryParallelEnv(scenario, **options).reset(seed=seed)``
plays: the env and :func:`~invmgmt_marl.rollout.rollout` draw demand from ``default_rng(seed)`` in the
same way, so floor, ceiling and an agent's episode share one demand path.

**Hook for other task families.** A task may bring its own ``floor``, ``ceiling`` and ``baseline``
callables ``(task, seed) -> ...`` (signatures :data:`FloorFn`, :data:`CeilingFn`, :data:`BaselineFn`);
:func:`register_task` adds it to :data:`TASKS`, after which ``invmgmt-marl grade``, the HTTP server's
``/tasks``, ``/grader`` and ``/baseline`` serve it unchanged::

    register_task(Task("retail_easy", "steady state", scenario="retail_easy", seed=0,
                       ceiling=my_lp_over_a_price_grid, floor=my_passive_floor))

Results are cached per ``(task name, seed)`` in the process (:func:`clear_cache` empties it).
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import numpy as np

from invmgmt_marl.compile import compile_network
from invmgmt_marl.demand import sample_network_demand
from invmgmt_marl.errors import quote
from invmgmt_marl.objective import Objective
from invmgmt_marl.policies import make_policy, tune
from invmgmt_marl.policies.tuning import TUNABLE
from invmgmt_marl.rollout import Trajectory, rollout
from invmgmt_marl.scenario import load_scenario
from invmgmt_marl.sim import Network, initial_state, step
from invmgmt_marl.sim.ledger import Ledger
from invmgmt_marl.sim.supply import sample_supply

__all__ = [
    "BaselineFn",
    "CeilingFn",
    "FloorFn",
    "Grade",
    "Reference",
    "TASKS",
    "Task",
    "baseline_profit",
    "ceiling",
    "clear_cache",
    "floor",
    "get_task",
    "grade",
    "grade_value",
    "ledger_profit",
    "passive_profit",
    "register_task",
    "task_network",
    "task_objective",
    "trajectory_profit",
]

logger = logging.getLogger(__name__)

ReferenceKind = Literal["ceiling", "reference"]


@dataclass(frozen=True)
class Reference:
    """The top of a task's grading scale.

    Attributes:
        value: team profit at the top of the scale.
        kind: ``"ceiling"`` when ``value`` is a proven upper bound on every policy's profit on this
            demand path; ``"reference"`` when it is only a policy's profit (no bound known).
        method: how ``value`` was obtained, in words (shown by the CLI and the server).
    """

    value: float
    kind: ReferenceKind
    method: str


FloorFn = Callable[["Task", int], float]
"""``floor(task, seed) -> profit`` of the bottom of the scale."""
CeilingFn = Callable[["Task", int], Reference]
"""``ceiling(task, seed) -> Reference``: the top of the scale."""
BaselineFn = Callable[["Task", int], float]
"""``baseline(task, seed) -> profit`` of the task's baseline policy on the seed's demand path."""


@dataclass(frozen=True)
class Task:
    """A graded episode: scenario, overrides, seed and how it is scored.

    Attributes:
        name: the task's id (a slug: letters, digits, ``_``, ``-``).
        description: one line for humans (and LLM agents).
        scenario: a shipped scenario name.
        seed: the default seed of the graded demand path.
        options: scenario overrides passed to :func:`~invmgmt_marl.scenario.load_scenario` and to the
            env (``periods``, ``action_type``, ...).
        agents: ``"node"`` or, in product scenarios, ``"node_product"``.
        baseline_policy: registered policy name the default baseline runs (tuned when tunable).
        floor: optional hook replacing the passive floor.
        ceiling: optional hook replacing the LP ceiling / baseline reference.
        baseline: optional hook replacing the default baseline.
    """

    name: str
    description: str
    scenario: str
    seed: int = 0
    options: Mapping[str, Any] = field(default_factory=dict)
    agents: str = "node"
    baseline_policy: str = "base_stock"
    floor: FloorFn | None = None
    ceiling: CeilingFn | None = None
    baseline: BaselineFn | None = None

    def __post_init__(self) -> None:
        if not self.name or not all(c.isalnum() or c in "_-" for c in self.name):
            raise ValueError(f"Task.name: expected a slug (letters, digits, _, -), got {quote(self.name)}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"Task.seed: expected an integer >= 0, got {quote(self.seed)}")
        object.__setattr__(self, "options", MappingProxyType(dict(self.options)))


@dataclass(frozen=True)
class Grade:
    """One graded episode: profit, the scale and the grade in ``[0, 1]``."""

    task: str
    seed: int
    profit: float
    floor: float
    top: float
    top_kind: ReferenceKind
    top_method: str
    grade: float

    def to_dict(self) -> dict[str, Any]:
        """The grade as JSON-ready values (``ceiling`` or ``reference`` keyed by ``top_kind``)."""
        return {
            "task": self.task,
            "seed": self.seed,
            "profit": self.profit,
            "floor": self.floor,
            self.top_kind: self.top,
            "top_kind": self.top_kind,
            "top_method": self.top_method,
            "grade": self.grade,
        }


#: the task registry, by name (add to it with :func:`register_task`)
TASKS: dict[str, Task] = {}
_LOCK = threading.Lock()
_CACHE: dict[tuple[str, str, int], Any] = {}
_NETS: dict[str, Network] = {}


def register_task(task: Task, *, replace: bool = False) -> Task:
    """Add ``task`` to :data:`TASKS`; ValueError if the name is taken (unless ``replace``)."""
    with _LOCK:
        if task.name in TASKS and not replace:
            raise ValueError(f"task: {task.name!r} is already registered")
        TASKS[task.name] = task
        _NETS.pop(task.name, None)
        for key in [k for k in _CACHE if k[0] == task.name]:
            del _CACHE[key]
    return task


def get_task(name: Any, field: str = "task_name") -> Task:
    """The registered task ``name``; ValueError naming ``field`` and the known tasks otherwise."""
    if not isinstance(name, str) or name not in TASKS:
        raise ValueError(f"{field}: unknown task {quote(name)}; known: {sorted(TASKS)}")
    return TASKS[name]


def clear_cache() -> None:
    """Forget cached floors, ceilings, baselines and networks."""
    with _LOCK:
        _CACHE.clear()
        _NETS.clear()


def _cached(task: Task, what: str, seed: int, compute: Callable[[], Any]) -> Any:
    key = (task.name, what, seed)
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
    value = compute()  # outside the lock: an LP or a tuning run may take seconds
    with _LOCK:
        _CACHE.setdefault(key, value)
        return _CACHE[key]


def task_network(task: Task) -> Network:
    """The task's compiled network (cached)."""
    with _LOCK:
        net = _NETS.get(task.name)
    if net is None:
        net = compile_network(load_scenario(task.scenario, **dict(task.options)))
        with _LOCK:
            _NETS.setdefault(task.name, net)
    return net


def task_objective(net: Network) -> Objective:
    """``"profit"`` where some store sells at a price, else ``"cost"`` (profit is then minus cost)."""
    return "profit" if bool((np.asarray(net.price) > 0).any()) else "cost"


def ledger_profit(net: Network, ledger: Ledger) -> float:
    """The team's profit of one period of a batch-of-one ledger: revenue + salvage - cost, or -cost in
    a cost-only scenario (summed over nodes, products and the batch)."""
    cost = float(np.sum(ledger.total_cost))
    if task_objective(net) == "cost":
        return -cost
    salvage = float(np.sum(ledger.salvage)) if net.any_liquidation else 0.0  # income, as in `profit`
    return float(np.sum(ledger.revenue)) + salvage - cost


def trajectory_profit(net: Network, traj: Trajectory) -> float:
    """The team's profit of a one-episode trajectory (revenue - cost, or -cost in a cost-only scenario)."""
    cost = float(traj.cost().sum())
    if task_objective(net) == "cost":
        return -cost
    salvage = float(traj.node("salvage").sum()) if net.any_liquidation else 0.0
    return float(traj.node("revenue").sum()) + salvage - cost


def _seed(task: Task, seed: int | None) -> int:
    s = task.seed if seed is None else seed
    if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0:
        raise ValueError(f"seed: expected an integer >= 0, got {quote(s)}")
    return int(s)


def passive_profit(net: Network, seed: int) -> float:
    """The team's profit of an episode with no orders at all, on the seed's demand path.

    Draws demand and uncertain supply from ``default_rng(seed)`` in the env's order (demand, then
    supply) and runs :func:`~invmgmt_marl.sim.step` with zero orders, so it works for every network,
    with or without a product axis, whatever the agents' action type.
    """
    rng = np.random.default_rng(seed)
    demand = sample_network_demand(net, rng, 1, net.periods)
    supply = sample_supply(net, rng, 1, net.periods)
    state = initial_state(net, 1)
    orders = np.zeros((1, net.n_products, net.n_edges) if net.product_axis else (1, net.n_edges))
    total = 0.0
    for t in range(net.periods):
        state, ledger = step(net, state, orders, demand[:, t], None if supply is None else supply.at(t))
        total += ledger_profit(net, ledger)
    return total


def _passive_floor(task: Task, seed: int) -> float:
    return passive_profit(task_network(task), seed)


def _default_baseline(task: Task, seed: int) -> float:
    net = task_network(task)
    if net.product_axis:
        raise ValueError(
            f"task {task.name!r}: scenario {task.scenario!r} has products, which the baseline policies "
            "do not handle; give the task a baseline= hook (and a ceiling= hook)"
        )
    kind = task.baseline_policy
    if kind in TUNABLE:
        # tuned on paths drawn from another seed than any graded one (tuning seeds are large)
        res = tune(net, kind, episodes=16, seed=10_000 + seed, objective=task_objective(net), cache=True)
        policy = res.policy(net)
    else:
        policy = make_policy(kind, net)
    return trajectory_profit(net, rollout(net, policy, episodes=1, seed=seed, keep="sum"))


def _lp_ceiling(task: Task, seed: int) -> Reference:
    from invmgmt_marl.oracle import OracleError, perfect_information_bound

    net = task_network(task)
    objective = task_objective(net)
    if net.product_axis:  # a single store with products: the retail LP (docs/bounds.md), else a reference
        from invmgmt_marl.bounds.retail import CEILING_METHOD, retail_ceiling, retail_path

        try:
            demand, supply = retail_path(net, seed)
            return Reference(retail_ceiling(net, demand, supply), "ceiling", CEILING_METHOD)
        except (RuntimeError, ValueError) as err:
            logger.info(
                "task %s: no retail LP ceiling (%s); using the baseline as a reference", task.name, err
            )
        return Reference(baseline_profit(task, seed), "reference", f"baseline of task {task.name!r}")
    try:
        # the demand path the env and rollout draw for this seed (first draw of default_rng(seed))
        demand = sample_network_demand(net, np.random.default_rng(seed), 1, net.periods)[0]
        res = perfect_information_bound(net, demand, objective=objective, setups="relaxed")
    except (OracleError, ValueError) as err:
        logger.info("task %s: no LP ceiling (%s); using the baseline as a reference", task.name, err)
        return Reference(baseline_profit(task, seed), "reference", f"baseline {task.baseline_policy!r}")
    value = res.objective if objective == "profit" else -res.objective
    return Reference(float(value), "ceiling", f"perfect-information LP ({objective}, relaxed set-ups)")


def floor(task: Task, seed: int | None = None) -> float:
    """The floor's profit on the seed's demand path (the task's hook, or the passive agent's)."""
    s = _seed(task, seed)
    return float(_cached(task, "floor", s, lambda: (task.floor or _passive_floor)(task, s)))


def ceiling(task: Task, seed: int | None = None) -> Reference:
    """The top of the scale on the seed's demand path (the task's hook, or the LP, or the baseline)."""
    s = _seed(task, seed)
    ref = _cached(task, "ceiling", s, lambda: (task.ceiling or _lp_ceiling)(task, s))
    if not isinstance(ref, Reference):
        raise TypeError(f"task {task.name!r}: the ceiling hook must return a Reference, got {quote(ref)}")
    return ref


def baseline_profit(task: Task, seed: int | None = None) -> float:
    """The baseline policy's profit on the seed's demand path (the task's hook, or tuned base-stock)."""
    s = _seed(task, seed)
    return float(_cached(task, "baseline", s, lambda: (task.baseline or _default_baseline)(task, s)))


def grade_value(profit: float, low: float, high: float) -> float:
    """``clamp((profit - low) / (high - low), 0, 1)``; 0 when the scale is empty (``high <= low``)."""
    if not math.isfinite(profit):
        raise ValueError(f"agent_profit: expected a finite number, got {quote(profit)}")
    if high <= low:
        return 1.0 if profit > low else 0.0
    return min(1.0, max(0.0, (profit - low) / (high - low)))


def grade(task: Task | str, profit: float, seed: int | None = None) -> Grade:
    """Grade an episode's team ``profit`` on ``task`` (a Task or a registered name) and ``seed``."""
    t = task if isinstance(task, Task) else get_task(task)
    s = _seed(t, seed)
    profit = float(profit)
    low, top = floor(t, s), ceiling(t, s)
    return Grade(t.name, s, profit, low, top.value, top.kind, top.method, grade_value(profit, low, top.value))


# ---- built-in tasks: one per shipped scenario of modest size (the retail tasks add their own)
_BUILTIN = {
    "serial": "Three-echelon serial chain (Liu et al.): backlog, cost only.",
    "serial_clark_scarf": "Serial chain of the Clark-Scarf model: echelon base-stock is optimal in theory.",
    "divergent": "One warehouse feeding several stores: allocate scarce stock.",
    "net_2x3": "Two suppliers, three stores, multi-sourcing: cost only.",
    "distribution_tree": "A distribution tree selling at a price: maximise profit.",
    "seasonal_retail": "Seasonal retail demand at a price: maximise profit.",
    "hmarl": "The HMARL network: maximise profit.",
    "lot_sizing": "Lot sizing with set-up costs: cost only.",
    "perishable_grocery": "Perishable stock with waste: graded against a baseline reference (no LP bound).",
    "assembly": "Assembly of components: graded against a baseline reference (no LP bound).",
}
for _name, _desc in _BUILTIN.items():
    register_task(Task(_name, _desc, scenario=_name, seed=0))


# ---- the retail store tasks (issue 14; docs/retail.md): the passive floor, the tuned retail heuristic
# as the baseline, and the retail LP ceiling of invmgmt_marl.bounds.retail (the default ceiling of a
# single store with products; the baseline as a labelled reference where the LP fails)
def _retail_tuned(task: Task) -> Any:
    from invmgmt_marl.policies.retail import tune_retail

    return _cached(task, "tuned", 0, lambda: tune_retail(task_network(task)))  # tuned once per task


def _retail_baseline(task: Task, seed: int) -> float:
    from invmgmt_marl.policies.retail import run_retail

    return float(run_retail(task_network(task), _retail_tuned(task).policy(), [seed]).profit[0])


_RETAIL = {
    "retail_easy": "Retail store, steady state: low stock, low steady demand, no events, cash 1,000.",
    "retail_medium": "Retail store, seasonal rush: five 2-day events on days 6, 12, 18, 24, 28.",
    "retail_hard": "Retail store, chaos: cash 500, low stock, higher demand, small warehouse, packed events.",
}
for _name, _desc in _RETAIL.items():
    register_task(
        Task(
            _name,
            _desc,
            scenario=_name,
            seed=0,
            baseline_policy="retail_tuned",
            baseline=_retail_baseline,
        )
    )
