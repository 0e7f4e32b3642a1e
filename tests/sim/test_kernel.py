"""The compiled step of product networks (``invmgmt_marl.sim.kernel``) against the numpy path.

The reference is the numpy step itself (``use_kernel("numpy")``), an independent implementation of
the same period: the kernel is one fused loop per (episode, product), the numpy path ~90 whole-array
operations with incidence matmuls. Every state array and every ledger field must be equal bit for
bit on the shipped SKU scenarios, and on random networks of every supported shape wherever no node
sums more than two flows (beyond that BLAS's summation order, its own, makes the last bits differ: then
equal to 1e-12 relative); the random networks have several inbound
edges and several outflows per node, priority and proportional allocation, shared storage that
refuses or keeps, ordering budgets, shared shipping capacity, fixed costs, lost sales and backlogs,
lead times from 1 to 12, so both of numpy's summation regimes of the
in-transit sum), and whatever number of threads splits the batch.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import invmgmt_marl
from invmgmt_marl.compile import compile_network
from invmgmt_marl.demand import sample_network_demand
from invmgmt_marl.scenario import validate_scenario
from invmgmt_marl.sim import NODE_FIELDS, Network, initial_state, kernel, step
from tests.strategies import examples

pytestmark = pytest.mark.skipif(
    kernel._numba is None, reason="numba is not installed (extra 'fast'): the numpy step is the only one"
)


@pytest.fixture(autouse=True)
def _restore_kernel() -> Iterator[None]:
    before, threads = kernel.use_kernel("auto"), kernel.set_threads(None)
    yield
    kernel.use_kernel(before)
    kernel.set_threads(threads)


def trajectory(net: Network, which: str, orders: np.ndarray, demand: np.ndarray) -> list[tuple[Any, ...]]:
    """Every period's state and ledger arrays under kernel ``which``; orders (T, B, P, E), demand
    (B, T, P, S)."""
    kernel.use_kernel(which)
    assert kernel.kernel_name(net) == ("numpy" if which == "numpy" else "numba")
    state, out = initial_state(net, orders.shape[1]), []
    for t in range(orders.shape[0]):
        state, led = step(net, state, orders[t], demand[:, t])
        out.append((state.t, *state[1:6], led.t, led.nodes, led.edges, led.demand, led.external_in))
    return out


def assert_identical(a: list[tuple[Any, ...]], b: list[tuple[Any, ...]]) -> None:
    names = ("t", "on_hand", "backlog", "pipeline", "last_orders", "last_demand")
    names += ("ledger.t", "ledger.nodes", "ledger.edges", "ledger.demand", "ledger.external_in")
    for period, (xa, xb) in enumerate(zip(a, b, strict=True)):
        for name, u, v in zip(names, xa, xb, strict=True):
            if isinstance(u, np.ndarray):
                assert u.shape == v.shape, (period, name, u.shape, v.shape)
                np.testing.assert_array_equal(u, v, err_msg=f"period {period}, {name}")
            else:
                assert u == v, (period, name)


def random_inputs(net: Network, batch: int, periods: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    shape = (periods, batch, net.n_products, net.n_edges)
    # fractional orders, a third of them zero (so fixed costs switch on and off)
    orders = rng.uniform(0.0, 1.0, shape) * net.max_order * (rng.random(shape) < 0.67)
    demand = sample_network_demand(net, rng, batch, periods)
    return orders, demand


def test_pairwise_sum_is_numpys() -> None:
    """The kernel's in-transit and volume sums add in numpy's pairwise order: every run length up to
    300 (blocks of 8, the tree at 128) and long runs that split recursively."""
    rng = np.random.default_rng(0)
    for n in [*range(0, 301), 1000, 2047, 6001]:
        a = rng.standard_normal(n + 7) * 10.0 ** rng.integers(-3, 6, n + 7)
        assert kernel._pairwise(a, 5, n) == np.add.reduce(a[5 : 5 + n]), n


@pytest.mark.parametrize("name", ["sku50_1w", "sku200_1w"])
def test_shipped_sku_scenarios_bit_for_bit(name: str) -> None:
    """One warehouse (N = 1: the volume sums are pairwise over 50 and 200 products) under shared
    storage, lost sales, per-SKU lead times: 25 periods of 3 episodes, every array equal."""
    net = compile_network(invmgmt_marl.load_scenario(name))
    orders, demand = random_inputs(net, 3, 25, seed=1)
    assert_identical(trajectory(net, "numba", orders, demand), trajectory(net, "numpy", orders, demand))


def test_threads_do_not_change_results() -> None:
    """sku2000_3w at B = 5 is 30,000 cells: two threads split it (blocks of 3 and 2 episodes); one
    thread, two threads and the numpy path give the same arrays."""
    net = compile_network(invmgmt_marl.load_scenario("sku2000_3w"))
    orders, demand = random_inputs(net, 5, 6, seed=2)
    kernel.set_threads(1)
    one = trajectory(net, "numba", orders, demand)
    kernel.set_threads(2)
    assert 5 * net.n_products * net.n_nodes >= 2 * kernel._MIN_CELLS_PER_THREAD  # the batch is split
    two = trajectory(net, "numba", orders, demand)
    assert_identical(one, two)
    assert_identical(two, trajectory(net, "numpy", orders, demand))


@st.composite
def product_networks(draw: st.DrawFn) -> dict[str, Any]:
    """1-2 suppliers buying from the external source, 0-2 warehouses, 1-3 stores; every store and
    warehouse buys from 1-2 nodes upstream (so nodes ship on several outflows, in drawn priority
    order, and receive on several edges); 1-4 products with their own lead times (1-12: both of
    numpy's in-transit summation regimes), costs, volumes and initial stock; shared storage that
    refuses or keeps the overflow; proportional allocation; ordering budgets; shared shipping capacity
    on edges; fixed ordering costs; lost-sales or backlogging stores."""
    n_sup, n_wh, n_st = draw(st.integers(1, 2)), draw(st.integers(0, 2)), draw(st.integers(1, 3))
    q = st.integers(0, 8)
    money = st.floats(0.0, 3.0, allow_nan=False)
    nodes: list[dict[str, Any]] = []
    for _ in range(n_st):
        lost = draw(st.booleans())
        nodes.append(
            {
                "role": "store",
                "lost_sales": lost,
                "backlog_cost": 0.0 if lost else draw(money),
                "lost_sales_cost": draw(money),
                "price": draw(st.floats(0.5, 9.0)),
                "initial_on_hand": draw(q),
                "demand": {"process": "poisson", "mean": draw(st.floats(0.5, 12.0))},
            }
        )
    nodes += [{"role": "warehouse", "initial_on_hand": draw(q)} for _ in range(n_wh)]
    nodes += [{"role": "supplier", "initial_on_hand": draw(q)} for _ in range(n_sup)]
    for n in nodes:
        n["holding_cost"] = draw(st.floats(0.0, 1.0))
        if n["role"] != "store" and draw(st.booleans()):
            n["allocation"] = "proportional"
        if draw(st.integers(0, 3)) == 0:  # an ordering budget per period
            n["order_budget"] = draw(st.floats(0.0, 40.0))
        if draw(st.booleans()):  # shared storage in volume units
            n["storage_capacity"] = draw(st.floats(5.0, 60.0))
            n["overflow"] = draw(st.sampled_from(["refuse", "keep"]))
            n["overflow_cost"] = draw(st.floats(0.0, 2.0))
            n["initial_on_hand"] = 0
    upstream_of_store = [f"warehouse_{i}" for i in range(n_wh)] or [f"supplier_{i}" for i in range(n_sup)]
    edges: list[dict[str, Any]] = []

    def buy(dst: str, sources: list[str]) -> None:
        for src in draw(st.lists(st.sampled_from(sources), min_size=1, max_size=2, unique=True)):
            edges.append(
                {
                    "from": src,
                    "to": dst,
                    "lead_time": draw(st.integers(1, 4)),
                    "unit_cost": draw(money),
                    "fixed_cost": draw(st.sampled_from([0.0, 0.0, 1.5])),
                    "priority": draw(st.integers(0, 2)),
                    # shared shipping capacity in volume units per period (None: unlimited)
                    "capacity": draw(st.one_of(st.none(), st.floats(2.0, 30.0))),
                }
            )

    for k in range(n_st):
        buy(f"store_{k}", upstream_of_store)
    for k in range(n_wh):
        buy(f"warehouse_{k}", [f"supplier_{i}" for i in range(n_sup)])
    for k in range(n_sup):
        edges.append({"from": "external", "to": f"supplier_{k}", "lead_time": draw(st.integers(1, 3))})
    products = [
        {
            "name": f"p{k}",
            "volume": draw(st.floats(0.2, 3.0)),
            "unit_cost": draw(money),
            "holding_cost": draw(st.floats(0.0, 1.0)),
            "lead_time": draw(st.integers(1, 12)),
        }
        for k in range(draw(st.integers(1, 4)))
    ]
    return {
        "periods": 14,
        "nodes": nodes,
        "edges": edges,
        "products": products,
        "actions": {"type": "box"},
    }


def widest_sum(net: Network) -> int:
    """The most flows any node sums (its outflows, or its inbound edges)."""
    outflows = np.bincount(net.out_src[net.out_src < net.n_nodes], minlength=net.n_nodes)
    inbound = np.bincount(net.edge_dst, minlength=net.n_nodes)
    return int(max(outflows.max(), inbound.max()))


def assert_close(a: list[tuple[Any, ...]], b: list[tuple[Any, ...]]) -> None:
    """Equal up to the order of sums of three or more flows: 1e-12 relative, 1e-9 units. A service
    level (shipped / owed) is compared where the node owed more than a rounding residue."""
    sl = NODE_FIELDS.index("service_level")
    owed = NODE_FIELDS.index("owed")
    for period, (xa, xb) in enumerate(zip(a, b, strict=True)):
        for k, (u, v) in enumerate(zip(xa, xb, strict=True)):
            if not isinstance(u, np.ndarray):
                assert u == v
                continue
            if k == 7:  # ledger nodes (B, K, P, N)
                real = (u[:, owed] > 1e-9) & (v[:, owed] > 1e-9)
                np.testing.assert_allclose(u[:, sl][real], v[:, sl][real], rtol=1e-9, atol=1e-9)
                u, v = np.delete(u, sl, axis=1), np.delete(v, sl, axis=1)
            np.testing.assert_allclose(u, v, rtol=1e-12, atol=1e-9, err_msg=f"period {period}, array {k}")


@given(product_networks(), st.integers(1, 4), st.integers(0, 2**31))
@settings(max_examples=examples(60), deadline=None)
def test_random_networks_equal_the_numpy_step(data: dict[str, Any], batch: int, seed: int) -> None:
    """Bit for bit where no node sums more than two flows (two terms add the same in any order);
    where one does, the numpy step sums them with BLAS, in an order of BLAS's own (it varies between
    CPUs), and the loop left to right: equal up to rounding then."""
    net = compile_network(validate_scenario(data))
    assert kernel.unsupported(net) is None
    orders, demand = random_inputs(net, batch, net.periods, seed)
    orders *= 3.0  # past max_order: the simulator does not clip; large orders make storage bind
    fast, reference = trajectory(net, "numba", orders, demand), trajectory(net, "numpy", orders, demand)
    if widest_sum(net) <= 2:
        assert_identical(fast, reference)
    else:
        assert_close(fast, reference)


def test_inputs_are_not_written_and_outputs_do_not_alias_them() -> None:
    net = compile_network(invmgmt_marl.load_scenario("sku50_1w"))
    orders, demand = random_inputs(net, 2, 3, seed=3)
    kernel.use_kernel("numba")
    state = initial_state(net, 2)
    copies = [x.copy() for x in state[1:6]]
    o, d = orders[0].copy(), demand[:, 0].copy()
    new, led = step(net, state, o, d)
    for before, after in zip(copies, state[1:6], strict=True):
        np.testing.assert_array_equal(before, after)
    np.testing.assert_array_equal(o, orders[0])
    np.testing.assert_array_equal(d, demand[:, 0])
    for out in (*new[1:6], led.nodes, led.edges, led.demand):
        assert not np.shares_memory(out, o) and not np.shares_memory(out, d)
        assert not any(np.shares_memory(out, x) for x in state[1:6])


def test_unsupported_networks_name_the_feature_and_run_numpy() -> None:
    serial = compile_network(invmgmt_marl.load_scenario("serial"))
    assert "no product axis" in (kernel.unsupported(serial) or "")
    retail = compile_network(invmgmt_marl.load_scenario("retail_easy"))
    reason = kernel.unsupported(retail)
    assert reason in {"cash", "pricing", "liquidation", "perishable_products", "lead_jitter"}, reason
    kernel.use_kernel("numba")
    assert kernel.kernel_name(retail) == "numpy" and kernel.kernel_name(serial) == "numpy"
    assert kernel.step_function(retail) is None


def test_bad_choices_are_refused() -> None:
    with pytest.raises(ValueError, match="kernel: expected one of"):
        kernel.use_kernel("fortran")
    for bad in (0, -1, 1.5, True, "2", 10**9, float("nan")):
        with pytest.raises(ValueError, match="threads: expected an integer from 1 to 256"):
            kernel.set_threads(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("var", "value", "message"),
    [
        ("INVMGMT_MARL_KERNEL", "fast", "INVMGMT_MARL_KERNEL: expected one of"),
        (
            "INVMGMT_MARL_THREADS",
            "many",
            "INVMGMT_MARL_THREADS: expected an integer from 1 to 256, got 'many'",
        ),
        ("INVMGMT_MARL_THREADS", "0", "INVMGMT_MARL_THREADS: expected an integer from 1 to 256, got '0'"),
        ("INVMGMT_MARL_THREADS", "99999999999", "expected an integer from 1 to 256, got '99999999999'"),
        ("INVMGMT_MARL_THREADS", "nan", "expected an integer from 1 to 256, got 'nan'"),
        ("INVMGMT_MARL_THREADS", "8" * 5000, "got '" + "8" * 40 + "'"),  # a huge value is cut, not echoed
    ],
)
def test_bad_environment_is_refused_at_import(var: str, value: str, message: str) -> None:
    env = {**os.environ, var: value}
    proc = subprocess.run(
        [sys.executable, "-c", "import invmgmt_marl.sim"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode != 0 and message in proc.stderr


def test_numpy_choice_from_the_environment() -> None:
    code = (
        "import invmgmt_marl; from invmgmt_marl.compile import compile_network; "
        "from invmgmt_marl.sim import kernel; "
        "print(kernel.kernel_name(compile_network(invmgmt_marl.load_scenario('sku50_1w'))))"
    )
    env = {**os.environ, "INVMGMT_MARL_KERNEL": "numpy"}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "numpy"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_runs_threaded_steps() -> None:
    """After the pool has threads, a forked child (Ray and multiprocessing workers may fork) must not
    wait on the parent's threads: it steps a split batch and gets the parent's numbers."""
    net = compile_network(invmgmt_marl.load_scenario("sku2000_3w"))
    orders, demand = random_inputs(net, 4, 1, seed=4)
    kernel.set_threads(2)
    state = initial_state(net, 4)
    expected = step(net, state, orders[0], demand[:, 0])[1].nodes  # starts the pool's thread
    assert kernel._executor is not None
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: one threaded step, compared with the parent's result
        ok = False
        try:
            ok = bool(np.array_equal(step(net, state, orders[0], demand[:, 0])[1].nodes, expected))
        finally:
            os.write(write, b"1" if ok else b"0")
            os._exit(0)
    os.close(write)
    try:
        import select

        ready, _, _ = select.select([read], [], [], 60.0)
        if not ready:
            os.kill(pid, signal.SIGKILL)
        assert ready, "the forked child did not finish its step within 60 s"
        assert os.read(read, 1) == b"1"
    finally:
        os.waitpid(pid, 0)
        os.close(read)


def test_without_a_cache_location_the_step_still_compiles(monkeypatch: pytest.MonkeyPatch) -> None:
    """numba refuses ``cache=True`` when it finds no writable cache location (a read-only install):
    ``_jit`` then compiles without caching instead of failing the package's import."""
    real = kernel._numba.njit
    calls: list[dict[str, Any]] = []

    def njit(*args: Any, **options: Any) -> Any:
        if args:  # numba's own internals call njit(fn) too: let them through
            return real(*args, **options)
        calls.append(options)
        if options.get("cache"):
            raise RuntimeError("cannot cache function 'f': no locator available for file 'f.py'")
        return real(**options)

    monkeypatch.setattr(kernel._numba, "njit", njit)

    def twice(x: float) -> float:
        return 2.0 * x

    compiled = kernel._jit(twice, nogil=True)
    assert compiled(21.0) == 42.0 and hasattr(compiled, "py_func")
    assert calls == [{"cache": True, "nogil": True}, {"nogil": True}]


def test_one_compiled_version_serves_every_network_and_input_kind() -> None:
    """Parameters of any shape, read-only and strided inputs all reach the loop as C-ordered writable
    float64 arrays: numba compiles one version (a second would cost seconds at a user's first step)."""
    kernel.use_kernel("numba")
    for name in ("sku50_1w", "sku2000_3w"):
        net = compile_network(invmgmt_marl.load_scenario(name))
        orders, demand = random_inputs(net, 2, 2, seed=5)
        o = orders[0].copy()
        o.setflags(write=False)  # read-only orders
        d = np.asfortranarray(demand[:, 0])  # another memory order
        state = initial_state(net, 2)
        reference = step(net, state, orders[0].copy(), demand[:, 0].copy())
        got = step(net, state, o, d)
        np.testing.assert_array_equal(got[1].nodes, reference[1].nodes)
    assert len(kernel._rows.signatures) == 1, kernel._rows.signatures


def test_first_use_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    """The first compiled network of a process says that numba compiles now (a pause of seconds at a
    user's first step is explained); later networks say nothing. Run in a fresh process."""
    code = (
        "import logging, invmgmt_marl; logging.basicConfig(level=logging.INFO); "
        "from invmgmt_marl.compile import compile_network; from invmgmt_marl.sim import kernel; "
        "kernel.step_function(compile_network(invmgmt_marl.load_scenario('sku50_1w'))); "
        "kernel.step_function(compile_network(invmgmt_marl.load_scenario('sku200_1w')))"
    )
    env = {k: v for k, v in os.environ.items() if k != "INVMGMT_MARL_KERNEL"}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert proc.stderr.count("numba: compiling the product step on first use") == 1, proc.stderr
