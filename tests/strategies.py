"""Hypothesis strategies shared by the property tests, and the example counts of the profiles.

The profiles (``dev``: few examples; ``ci``: the full counts, derandomized) are registered in
``tests/conftest.py``. A test that wants ``n`` examples under ``ci`` asks for
``settings(max_examples=examples(n))``: the active profile scales ``n`` by its own ``max_examples``
over the ``ci`` one (``dev`` runs a fifth, never fewer than ``MIN_EXAMPLES``).

Shared pieces:
- quantities: ``quantities`` (orders / demand, with 0, 1e9 and fractions), ``small_quantities``
  (initial stock, pipelines, backlogs), ``COSTS``;
- network skeletons: :class:`Skeleton` with ``add_serial`` and ``add_tree``, and ``agent_names``
  (a random node order, which permutes agent indices and the allocation order);
- named small topologies ``TOPOLOGIES`` (roles and ``(from, to)`` edges);
- episodes: ``demand_paths`` (integer ``(T, S)`` demand) and ``baseline_policies`` (constant,
  random or base-stock policies).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st

from invmgmt_marl.policies.base import BaseStockPolicy, ConstantPolicy, RandomPolicy

HUGE = 1e9
COSTS = st.sampled_from([0.0, 0.5, 1.0, 2.0])

CI_EXAMPLES = 100  # max_examples of the ci profile: the unit the per-test counts are written in
DEV_EXAMPLES = 20  # max_examples of the dev profile
MIN_EXAMPLES = 10


def hypothesis_profile(environ: Mapping[str, str] = os.environ) -> str:
    """The profile to load: HYPOTHESIS_PROFILE if set, else ``ci`` when CI is set (to anything but
    ``""``, ``"0"`` or ``"false"``), else ``dev``."""
    chosen = environ.get("HYPOTHESIS_PROFILE", "").strip()
    if chosen:
        return chosen
    return "ci" if environ.get("CI", "").strip().lower() not in ("", "0", "false") else "dev"


def examples(n: int) -> int:
    """``max_examples`` for a test that runs ``n`` examples under the ``ci`` profile.

    The loaded profile's ``max_examples`` over ``CI_EXAMPLES`` scales ``n`` (``ci``: n, ``dev``: n / 5,
    a custom profile with 1000: 10 n), with at least ``MIN_EXAMPLES``.
    """
    return max(MIN_EXAMPLES, round(n * settings().max_examples / CI_EXAMPLES))


# -------------------------------------------------------------------------------------------------
# quantities
def quantities(integer: bool) -> st.SearchStrategy[float]:
    """Orders and demand: integers 0..30 with 0 and 1e9 favoured; fractions and 1e9 + 0.5 unless integer."""
    ints = st.one_of(st.integers(0, 30), st.just(0), st.just(int(HUGE))).map(float)
    if integer:
        return ints
    return st.one_of(
        ints,
        st.floats(0, 50, allow_nan=False, allow_infinity=False),
        st.just(HUGE + 0.5),
        st.just(0.1),
        st.just(1 / 3),
    )


def small_quantities(integer: bool) -> st.SearchStrategy[float]:
    """Initial stock / pipelines / backlogs: modest sizes 0..25."""
    ints = st.integers(0, 25).map(float)
    return ints if integer else st.one_of(ints, st.floats(0, 25, allow_nan=False, allow_infinity=False))


# -------------------------------------------------------------------------------------------------
# network skeletons
@dataclass
class Skeleton:
    """Abstract nodes (by role) and the links between them, before they get agent names."""

    roles: list[str] = field(default_factory=list)
    links: list[tuple[int, int]] = field(default_factory=list)  # (upstream id, downstream id)

    def add(self, role: str) -> int:
        self.roles.append(role)
        return len(self.roles) - 1

    def add_serial(self, draw: st.DrawFn) -> None:
        """supplier -> 0..2 warehouses -> store."""
        prev = self.add("supplier")
        for _ in range(draw(st.integers(0, 2))):
            w = self.add("warehouse")
            self.links.append((prev, w))
            prev = w
        self.links.append((prev, self.add("store")))

    def add_tree(self, draw: st.DrawFn, max_stores: int) -> None:
        """supplier -> 1..2 warehouses -> 1..max_stores stores each."""
        sup = self.add("supplier")
        for _ in range(draw(st.integers(1, 2))):
            w = self.add("warehouse")
            self.links.append((sup, w))
            for _ in range(draw(st.integers(1, max_stores))):
                self.links.append((w, self.add("store")))


def agent_names(draw: st.DrawFn, roles: list[str]) -> tuple[list[int], dict[int, str]]:
    """A random node order and the agent name of every abstract node (roles counted in that order)."""
    order = list(draw(st.permutations(range(len(roles)))))
    counts = {"store": 0, "warehouse": 0, "supplier": 0}
    name: dict[int, str] = {}
    for i in order:
        name[i] = f"{roles[i]}_{counts[roles[i]]}"
        counts[roles[i]] += 1
    return order, name


# roles in scenario order and (from, to) edges of a few small networks
TOPOLOGIES: dict[str, tuple[list[str], list[tuple[str, str]]]] = {
    "chain2": (["store", "supplier"], [("supplier_0", "store_0"), ("external", "supplier_0")]),
    "chain3": (
        ["store", "warehouse", "supplier"],
        [("warehouse_0", "store_0"), ("supplier_0", "warehouse_0"), ("external", "supplier_0")],
    ),
    "tree": (
        ["store", "store", "warehouse", "supplier"],
        [
            ("warehouse_0", "store_0"),
            ("warehouse_0", "store_1"),
            ("supplier_0", "warehouse_0"),
            ("external", "supplier_0"),
        ],
    ),
    "tree_direct": (
        ["store", "store", "supplier"],
        [("supplier_0", "store_0"), ("supplier_0", "store_1"), ("external", "supplier_0")],
    ),
    # two sources for the store, two external edges (normal / urgent) for the supplier
    "dual": (
        ["store", "warehouse", "supplier"],
        [
            ("warehouse_0", "store_0"),
            ("supplier_0", "store_0"),
            ("supplier_0", "warehouse_0"),
            ("external", "supplier_0"),
            ("external", "supplier_0"),
        ],
    ),
}


# -------------------------------------------------------------------------------------------------
# episodes
def demand_paths(periods: int, n_stores: int, high: int = 10) -> st.SearchStrategy[np.ndarray]:
    """``(periods, n_stores)`` integer demand in ``0..high`` as float64."""
    return st.lists(
        st.lists(st.integers(0, high), min_size=n_stores, max_size=n_stores),
        min_size=periods,
        max_size=periods,
    ).map(lambda rows: np.array(rows, dtype=np.float64).reshape(periods, n_stores))


@st.composite
def baseline_policies(draw: st.DrawFn, n_nodes: int) -> Any:
    """A constant (0..15), random (integer or not) or base-stock (levels 0..30 per node) policy."""
    kind = draw(st.sampled_from(["constant", "random", "base_stock"]))
    if kind == "constant":
        return ConstantPolicy(draw(st.integers(0, 15)))
    if kind == "random":
        return RandomPolicy(integer=draw(st.booleans()))
    return BaseStockPolicy(draw(st.lists(st.integers(0, 30), min_size=n_nodes, max_size=n_nodes)))
