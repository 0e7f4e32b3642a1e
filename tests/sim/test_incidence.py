"""Sparse incidence operators (invmgmt_marl/sim/incidence.py), the large-network compile path and the
in-transit sum of the step (``_sum_slots``).

The reference for every product is the dense 0/1 matrix the operator stands for (``toarray()``, built
independently from the column indices) multiplied with numpy's matmul; the reference for the
compiled large-network path is the same scenario compiled with dense matrices.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import invmgmt_marl.compile as compile_mod
from invmgmt_marl.compile import compile_network
from invmgmt_marl.demand import sample_network_demand
from invmgmt_marl.scenario import load_scenario, validate_scenario
from invmgmt_marl.scenario.generate import generate_network
from invmgmt_marl.sim import initial_state, step
from invmgmt_marl.sim.incidence import Incidence

MATRICES = ("edge_to_dst", "edge_from_src", "out_from_src", "customer_of_store", "alloc_src", "alloc_src_T")


def _dense(column: np.ndarray, n_cols: int) -> np.ndarray:
    d = np.zeros((len(column), n_cols))
    for r, c in enumerate(column):
        if 0 <= c < n_cols:
            d[r, c] = 1.0
    return d


@pytest.mark.parametrize("seed", range(5))
def test_products_equal_the_dense_matrix(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_cols = int(rng.integers(1, 7))
    column = rng.integers(-1, n_cols + 1, size=int(rng.integers(1, 15)))  # -1 and n_cols: empty rows
    m, d = Incidence(column, n_cols), _dense(column, n_cols)
    assert np.array_equal(m.toarray(), d) and np.array_equal(m.T.toarray(), d.T)
    assert m.shape == d.shape and m.T.shape == d.T.shape and m.T.T is m
    x = rng.random((2, 3, len(column)))
    y = rng.random((2, 3, n_cols))
    # a column sums at most a few 0/1-weighted entries: the dense product may add them in another
    # order (a few ulp), and rows of one entry are exact
    np.testing.assert_allclose(x @ m, x @ d, rtol=1e-14, atol=0)
    np.testing.assert_array_equal(y @ m.T, y @ d.T)  # a gather: exact
    out = np.full((2, 3, n_cols), np.nan)
    assert np.matmul(x, m, out=out) is out
    np.testing.assert_allclose(out, x @ d, rtol=1e-14, atol=0)
    np.testing.assert_allclose(x[0, 0] @ m, x[0, 0] @ d, rtol=1e-14, atol=0)  # a 1-d operand


def test_sums_in_ascending_row_order() -> None:
    # column 0 gets rows 0, 2, 3: 1e16 + 1 + 1 in that order is 1e16 (each 1 rounds away), the
    # order 1 + 1 + 1e16 would give 1e16 + 2: the operator adds rows in ascending order
    m = Incidence(np.array([0, 1, 0, 0]), 2)
    x = np.array([1e16, 5.0, 1.0, 1.0])
    assert (x @ m).tolist() == [1e16, 5.0]


def test_refuses_wrong_operands() -> None:
    m = Incidence(np.array([0, 1, 1]), 2)
    with pytest.raises(ValueError, match="shape"):
        np.ones(2) @ m
    with pytest.raises(ValueError, match="column"):
        Incidence(np.zeros((2, 2), dtype=np.int64), 2)
    with pytest.raises(TypeError):
        np.add(np.ones(3), m)  # only matmul is defined


def _big_scenario(stores: int) -> object:
    data = generate_network(3, suppliers=3, regional=4, local=12, stores=stores, periods=12, name="big")
    return validate_scenario(data)


def test_large_network_compiles_to_operators_and_steps_like_dense(monkeypatch: pytest.MonkeyPatch) -> None:
    sc = _big_scenario(60)  # 79 nodes, more than 128 outflows: the allocation grid path
    monkeypatch.setattr(compile_mod, "DENSE_MAX_NODES", 10)
    sparse = compile_network(sc)
    monkeypatch.setattr(compile_mod, "DENSE_MAX_NODES", 10**6)
    dense = compile_network(sc)
    for name in MATRICES:
        op, mat = getattr(sparse, name), getattr(dense, name)
        assert isinstance(op, Incidence) and isinstance(mat, np.ndarray)
        np.testing.assert_array_equal(op.toarray(), mat)
    assert sparse.alloc_before is None and sparse.multi_outflow and sparse.any_priority
    for f in ("agent_edges", "upstream", "downstream"):  # the O(E) rewrites of the O(N x E) loops
        a, b = getattr(sparse, f), getattr(dense, f)
        assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    rng = np.random.default_rng(0)
    batch = 3
    demand = sample_network_demand(dense, rng, batch, dense.periods)
    s_sparse, s_dense = initial_state(sparse, batch), initial_state(dense, batch)
    for t in range(dense.periods):
        orders = rng.uniform(0.0, 1.0, size=(batch, dense.n_edges)) * dense.max_order
        s_sparse, led_sparse = step(sparse, s_sparse, orders, demand[:, t])
        s_dense, led_dense = step(dense, s_dense, orders, demand[:, t])
        np.testing.assert_allclose(led_sparse.nodes, led_dense.nodes, rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(led_sparse.edges, led_dense.edges, rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(s_sparse.on_hand, s_dense.on_hand, rtol=1e-12, atol=1e-9)


def test_allocation_grid_equals_the_matmul_path() -> None:
    """The transposed (position, node) grid gives the exclusive prefix sums the 0/1 'served earlier'
    matrix gives (on a network small enough to have that matrix)."""
    net = compile_network(load_scenario("large_network"))
    assert net.alloc_before is not None and net.multi_outflow
    grid = dataclasses.replace(net, alloc_before=None)
    rng = np.random.default_rng(1)
    demand = sample_network_demand(net, rng, 4, net.periods)
    s1, s2 = initial_state(net, 4), initial_state(grid, 4)
    for t in range(20):
        orders = rng.uniform(0.0, 1.0, size=(4, net.n_edges)) * net.max_order
        s1, l1 = step(net, s1, orders, demand[:, t])
        s2, l2 = step(grid, s2, orders, demand[:, t])
        np.testing.assert_allclose(l1.nodes, l2.nodes, rtol=1e-12, atol=1e-9)
    assert l1.field("shipped").sum() > 0


@pytest.mark.parametrize("lmax", range(1, 12))
def test_pipeline_sum_is_numpys_bit_for_bit(lmax: int) -> None:
    """The in-transit sum (``_sum_slots``) equals ``np.add.reduce`` over the ring buffer exactly, for
    magnitudes 16 orders apart (where the order of additions shows) and every lead time."""
    from invmgmt_marl.sim.dynamics import _sum_slots

    rng = np.random.default_rng(lmax)
    for shape in [(1, 3), (4, 5), (2, 7, 3)]:
        p = rng.random((*shape, lmax)) * 10.0 ** rng.integers(-8, 9, size=(*shape, lmax))
        out = np.empty(shape)
        _sum_slots(p, out)
        np.testing.assert_array_equal(out, np.add.reduce(p, axis=-1))
