"""invmgmt_marl.agent_dicts: the template-copied per-step dicts equal the plain constructions they
replace (``dict.fromkeys``, ``dict(zip(...))``, ``[actions[a] for a in agents]``, per-group
``np.array``), are fresh objects every call, and the env's dicts stay independent across steps."""

from __future__ import annotations

import numpy as np
import pytest

import invmgmt_marl
from invmgmt_marl.agent_dicts import AgentDicts, stack_actions, stacked

AGENTS = ["a__p0", "a__p1", "b__p0", "b__p1", "c__p0"]


def test_flags_are_fresh_copies_equal_to_fromkeys() -> None:
    d = AgentDicts(AGENTS)
    for value in (False, True):
        got = d.flags(list(AGENTS), value)
        assert got == dict.fromkeys(AGENTS, value) and list(got) == AGENTS
        got["a__p0"] = "changed"
        assert d.flags(list(AGENTS), value)["a__p0"] is value  # the template was not touched
    sub = ["b__p1", "a__p0"]  # not every agent: built from the given names, in their order
    assert list(d.flags(sub, True)) == sub


def test_zip_and_same() -> None:
    d = AgentDicts(AGENTS)
    vals = [0.5, 1.5, 2.5, 3.5, 4.5]
    assert d.zip(AGENTS, vals) == dict(zip(AGENTS, vals, strict=True))
    assert list(d.zip(AGENTS[::-1], vals)) == AGENTS[::-1]  # another order keeps the caller's names
    with pytest.raises(ValueError):
        d.zip(AGENTS, vals[:-1])  # one value per agent
    shared = {"clipped": 0}
    same = d.same(AGENTS, shared)
    assert list(same) == AGENTS and all(v is shared for v in same.values())


def test_stack_actions_reads_in_agent_order() -> None:
    acts = {a: np.array([float(k)]) for k, a in enumerate(AGENTS)}
    assert [float(x[0]) for x in stack_actions(acts, AGENTS)] == [0, 1, 2, 3, 4]
    shuffled = {a: acts[a] for a in reversed(AGENTS)}  # a dict in another order: read by name
    assert [float(x[0]) for x in stack_actions(shuffled, AGENTS)] == [0, 1, 2, 3, 4]
    with pytest.raises(KeyError):
        stack_actions({a: acts[a] for a in AGENTS[:-1]} | {"zz": acts["c__p0"]}, AGENTS)


def test_stacked_equals_per_group_arrays() -> None:
    groups = [np.array([0, 1]), np.array([2, 3]), np.array([4])]
    same = [np.array([k, 10 + k]) for k in range(5)]  # every action of width 2: one np.array
    assert stacked(same, groups).tolist() == [0, 10, 1, 11, 2, 12, 3, 13, 4, 14]
    mixed = [np.array([0.0, 1.0]), np.array([2.0, 3.0]), np.array([4.0]), np.array([5.0]), np.array([6.0])]
    assert stacked(mixed, groups).tolist() == [0, 1, 2, 3, 4, 5, 6]  # widths differ by node
    with pytest.raises(ValueError):
        stacked([np.array([0.0, 1.0]), np.array([2.0]), *mixed[2:]], groups)  # ragged inside a group


def test_env_dicts_are_independent_across_steps() -> None:
    env = invmgmt_marl.parallel_env("sku50_1w", agents="node_product")
    env.reset(seed=0)
    acts = {a: env.action_space(a).low for a in env.agents}
    _, rew1, term1, trunc1, _ = env.step(acts)
    term1[env.agents[0]] = True  # a caller may edit what it got ...
    trunc1.clear()
    _, rew2, term2, trunc2, _ = env.step(acts)
    assert term2 == dict.fromkeys(env.possible_agents, False)  # ... without changing the next step
    assert trunc2 == dict.fromkeys(env.possible_agents, False)
    assert list(rew2) == env.possible_agents and rew1 is not rew2
