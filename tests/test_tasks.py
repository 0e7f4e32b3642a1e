"""Tasks and grading: the floor is the passive agent's episode, the LP ceiling is never beaten by a simulated
policy, the grade formula by hand, the hook for other task families, and ``invmgmt-marl grade``."""

from __future__ import annotations

import numpy as np
import pytest

import invmgmt_marl
from invmgmt_marl import tasks as T
from invmgmt_marl.cli import main
from invmgmt_marl.policies import ConstantPolicy, RandomPolicy, make_policy
from invmgmt_marl.rollout import rollout
from invmgmt_marl.tasks import Reference, Task, grade_value

#: tasks whose top of scale is the LP (the oracle models their scenario)
LP_TASKS = ("serial", "divergent", "net_2x3", "seasonal_retail", "lot_sizing", "hmarl")


def _env_profit(task: Task, seed: int, action: float = 0.0) -> float:
    """The task's episode played through the PettingZoo env (not rollout), summing ledger_profit."""
    env = invmgmt_marl.parallel_env(task.scenario, **dict(task.options))
    env.reset(seed=seed)
    total = 0.0
    while env.agents:
        env.step({a: np.full(env.action_space(a).shape, action, dtype=np.float32) for a in env.agents})
        total += T.ledger_profit(env.net, env.last_ledger)
    return total


@pytest.mark.parametrize("name", ["serial", "seasonal_retail", "perishable_grocery", "divergent", "sku50_1w"])
def test_floor_is_the_passive_episode_the_env_plays(name: str) -> None:
    """Three code paths, one number: the floor (the simulator with zero orders), the env with zero actions
    on the seed's demand path, and (without products) rollout(ConstantPolicy(0)); all draw demand from
    default_rng(seed) in the same way."""
    task = T.TASKS.get(name) or Task(f"{name}_floor_test", "x", scenario=name)
    net = T.task_network(task)
    for seed in (0, 4):
        floor = T.floor(task, seed)
        assert floor == pytest.approx(_env_profit(task, seed), rel=1e-12, abs=1e-9)
        if not net.product_axis:
            traj = rollout(net, ConstantPolicy(0.0), episodes=1, seed=seed, keep="sum")
            assert floor == pytest.approx(T.trajectory_profit(net, traj), rel=1e-12, abs=1e-9)
    assert T.floor(task, 0) != T.floor(task, 4)  # the seed picks the demand path


def test_product_tasks_need_their_own_baseline_or_ceiling() -> None:
    """The baseline policies have no product axis: a product task without a baseline hook is refused
    with a message naming the hooks. A single store (sku50_1w) gets the retail LP ceiling
    (invmgmt_marl.bounds.retail); where that LP does not apply (three nodes) the top of the scale is the
    baseline hook's profit, a reference."""
    bare = Task("sku_bare_test", "x", scenario="sku50_1w")
    with pytest.raises(ValueError, match="baseline= hook"):
        T.baseline_profit(bare, 0)
    assert T.ceiling(bare, 0).kind == "ceiling"
    hooked = Task(
        "sku_hooked_test", "x", scenario="sku2000_3w", options={"periods": 5}, baseline=lambda t, s: 10.0
    )
    assert T.ceiling(hooked, 0) == Reference(10.0, "reference", "baseline of task 'sku_hooked_test'")


@pytest.mark.parametrize("name", LP_TASKS)
def test_no_simulated_policy_beats_the_lp_ceiling(name: str) -> None:
    """The LP's optimum bounds the profit of every ordering policy on the same demand path: check it
    against the floor, untuned and random policies and constant orders, on two seeds."""
    task = T.get_task(name)
    net = T.task_network(task)
    for seed in (0, 1):
        top = T.ceiling(task, seed)
        assert top.kind == "ceiling"
        policies = [
            make_policy("base_stock", net),
            make_policy("echelon_base_stock", net),
            make_policy("s_S", net),
            RandomPolicy(),
            *(ConstantPolicy(q) for q in (0.0, 2.0, 5.0, 10.0)),
        ]
        profits = [
            T.trajectory_profit(net, rollout(net, p, episodes=1, seed=seed, keep="sum")) for p in policies
        ]
        assert max(profits) <= top.value + 1e-6 * max(1.0, abs(top.value)), (name, seed, profits, top)
        assert T.floor(task, seed) <= top.value
    # the tuned baseline too (lot_sizing tunes in well under a second)
    if name == "lot_sizing":
        assert T.baseline_profit(task, 0) <= T.ceiling(task, 0).value


def test_tasks_without_an_lp_say_reference() -> None:
    """assembly: the oracle refuses it, so the top of the scale is the baseline's profit, named a reference
    (a baseline hook keeps the test fast: no tuning)."""
    task = Task("assembly_ref_test", "x", scenario="assembly", baseline=lambda t, s: 1234.5)
    top = T.ceiling(task, 0)
    assert top == Reference(1234.5, "reference", "baseline 'base_stock'")
    assert T.get_task("assembly").scenario == "assembly"
    g = T.grade(task, 1234.5, 0)
    assert g.top_kind == "reference" and g.grade == 1.0 and "reference" in g.to_dict()


def test_grade_formula_by_hand() -> None:
    assert grade_value(250.0, 100.0, 300.0) == 0.75  # (250 - 100) / (300 - 100)
    assert grade_value(-5.0, 100.0, 300.0) == 0.0
    assert grade_value(1e9, 100.0, 300.0) == 1.0
    assert grade_value(100.0, 100.0, 100.0) == 0.0  # an empty scale: nothing above the floor
    assert grade_value(101.0, 100.0, 100.0) == 1.0
    with pytest.raises(ValueError, match="agent_profit"):
        grade_value(float("inf"), 0.0, 1.0)
    # serial, seed 0: from the returned floor and ceiling
    g = T.grade("serial", -5000.0)
    assert g.grade == pytest.approx((-5000.0 - g.floor) / (g.top - g.floor))


def test_task_validation_and_registry() -> None:
    with pytest.raises(ValueError, match="Task.name"):
        Task("../x", "bad", scenario="serial")
    with pytest.raises(ValueError, match="Task.seed"):
        Task("ok", "bad", scenario="serial", seed=-1)
    with pytest.raises(ValueError, match="already registered"):
        T.register_task(Task("serial", "again", scenario="serial"))
    with pytest.raises(ValueError, match="task_name: unknown task 'nope'"):
        T.get_task("nope")
    with pytest.raises(ValueError, match="seed"):
        T.floor(T.get_task("serial"), -3)
    with pytest.raises(TypeError, match="Reference"):
        T.ceiling(Task("bad_hook", "x", scenario="serial", ceiling=lambda t, s: 3.0), 0)  # type: ignore[arg-type,return-value]


def test_cli_grade(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["grade", "--task", "serial", "--profit", "-5000", "--json"]) == 0
    out = capsys.readouterr().out
    g = T.grade("serial", -5000.0)
    assert f'"grade": {g.grade}' in out and '"top_kind": "ceiling"' in out
    assert main(["grade", "--task", "lot_sizing", "--policy", "constant"]) == 0
    out = capsys.readouterr().out
    assert "grade 0.0000" in out  # constant orders nothing by default: the floor itself
    assert main(["grade", "--list"]) == 0
    assert "serial_clark_scarf" in capsys.readouterr().out
    assert main(["grade", "--task", "nope", "--profit", "1"]) == 2
    assert "--task: unknown task 'nope'" in capsys.readouterr().err
