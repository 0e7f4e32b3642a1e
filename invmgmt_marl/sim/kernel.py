"""An optional compiled step for networks with products: the same dynamics, fused into one loop.

:func:`invmgmt_marl.sim.step` is a fixed sequence of numpy operations. On a product network with
thousands of products and a handful of nodes (MABIM's shapes: ``sku2000_3w`` has 6,000 (node,
product) cells) that costs about 90 whole-array passes a period, each small and many broadcasting a
per-node vector along a 3-long last axis, so the simulator spends its time in numpy's call and loop
overhead rather than in arithmetic. This module compiles the product path, for the features MABIM-like
networks use, into one loop over (episode, product) with numba: every cell is read once and its 33
ledger fields written once, and the batch is split over the machine's cores.

It is the same model, not a second one: the loop follows :mod:`invmgmt_marl.sim.dynamics` step by
step and adds in numpy's order (its pairwise sums, its reductions over products), and
``tests/sim/test_kernel.py`` checks it against the numpy path on random networks, orders and demand,
field by field: bit for bit wherever no node sums more than two flows (every shipped SKU scenario).
Where a node sums three or more (outflows or inbound edges), the numpy path hands the sum to BLAS,
whose order is its own and differs between CPUs, and the loop adds left to right: the last bits
may differ (1e-15 relative), as they already do between machines.

Supported (else :func:`step_function` returns ``None`` and the numpy path runs): networks with a
product axis, priority and proportional allocation, lost sales or backlog, fixed ordering costs,
shared storage (refuse or keep the overflow), ordering budgets, shared shipping capacity per edge,
per-(product, edge) lead times up to 128 periods. Not supported (numpy path): cash, pricing,
liquidation, perishables, stochastic lead times, unreliable suppliers, transit loss, quantity
discounts, assembly, goodwill, per-node (unshared) storage.

Selection: ``INVMGMT_MARL_KERNEL`` = ``auto`` (the default: numba when it is installed, the ``fast``
extra), ``numba`` (an error if it is not installed) or ``numpy``; :func:`use_kernel` switches at run
time. numba compiles the loop on first use (about 10 s) and caches the machine code on disk next to
this module (or under ``NUMBA_CACHE_DIR``); later processes load it in well under a second.
"""

from __future__ import annotations

import logging
import os
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from numpy.typing import NDArray

from invmgmt_marl.sim.ledger import EDGE_FIELDS, NODE_FIELDS, Ledger
from invmgmt_marl.sim.network import Network
from invmgmt_marl.sim.state import SimState

__all__ = [
    "KERNELS",
    "MAX_THREADS",
    "kernel_name",
    "set_threads",
    "step_function",
    "unsupported",
    "use_kernel",
]

logger = logging.getLogger(__name__)

F64 = NDArray[np.float64]
KERNELS = ("auto", "numba", "numpy")
MAX_THREADS = 256  # a bound on INVMGMT_MARL_THREADS / set_threads (each is an OS thread)
_MAX_LEAD = 128  # numpy sums at most 128 slots in one pairwise block (the loop reproduces it)
# below this many (episode, node, product) cells per thread, a thread costs more than it saves
_MIN_CELLS_PER_THREAD = 10_000

try:  # the optional dependency (extra ``fast``)
    import numba as _numba
except ImportError:  # pragma: no cover - depends on the install
    _numba = None  # type: ignore[assignment]

_choice = os.environ.get("INVMGMT_MARL_KERNEL", "auto").strip().lower() or "auto"
if _choice not in KERNELS:  # a bad value is not silently ignored
    raise ValueError(f"INVMGMT_MARL_KERNEL: expected one of {KERNELS}, got {_choice[:40]!r}")
if _choice == "numba" and _numba is None:
    raise ImportError("INVMGMT_MARL_KERNEL=numba needs numba: pip install 'invmgmt-marl[fast]'")


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _env_threads() -> int:
    raw = os.environ.get("INVMGMT_MARL_THREADS", "").strip()
    if not raw:
        return _cores()
    try:
        n = int(raw)
    except ValueError:
        n = 0
    if not 1 <= n <= MAX_THREADS:
        raise ValueError(
            f"INVMGMT_MARL_THREADS: expected an integer from 1 to {MAX_THREADS}, got {raw[:40]!r}"
        )
    return n


_threads = _env_threads()
_executor: ThreadPoolExecutor | None = None
_executor_size = 0


def _forget_pool() -> None:
    """A forked child inherits the pool object but not its threads: it starts its own when needed."""
    global _executor, _executor_size
    _executor, _executor_size = None, 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def set_threads(n: int | None) -> int:
    """Threads the compiled step splits a batch over (``None``: one per usable core, the default;
    ``INVMGMT_MARL_THREADS`` sets it at start-up); returns the previous number. Batches of fewer than
    about 20,000 (episode, node, product) cells always run on the calling thread. Results do not
    depend on it: every episode is computed by the same loop, whichever thread runs it."""
    global _threads
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_THREADS):
        raise ValueError(f"threads: expected an integer from 1 to {MAX_THREADS} or None, got {n!r}")
    previous, _threads = _threads, _cores() if n is None else n
    return previous


def use_kernel(name: str) -> str:
    """Select the step of product networks: ``"auto"``, ``"numba"`` or ``"numpy"``; returns the
    previous choice (so a caller can restore it). ``"numba"`` raises ``ImportError`` if numba is not
    installed."""
    global _choice
    if name not in KERNELS:
        raise ValueError(f"kernel: expected one of {KERNELS}, got {name!r}")
    if name == "numba" and _numba is None:
        raise ImportError("kernel 'numba' needs numba: pip install 'invmgmt-marl[fast]'")
    previous, _choice = _choice, name
    _cache.clear()
    return previous


def kernel_name(net: Network) -> str:
    """``"numba"`` if :func:`invmgmt_marl.sim.step` runs the compiled loop on ``net``, else ``"numpy"``."""
    return "numba" if step_function(net) is not None else "numpy"


def unsupported(net: Network) -> str | None:
    """Why the compiled loop cannot run ``net`` (the first feature it lacks), or ``None`` if it can."""
    if not net.product_axis:
        return "no product axis (one-product networks keep the numpy path, the golden-trace path)"
    for flag in (
        "any_cash",
        "any_pricing",
        "any_liquidation",
        "any_perishable",
        "any_perishable_products",
        "any_lead_jitter",
        "any_reliability",
        "any_transit_loss",
        "any_tiers",
        "any_assembly",
        "any_goodwill",
        "any_storage",
    ):
        if getattr(net, flag):
            return flag.removeprefix("any_")
    if net.max_lead > _MAX_LEAD:
        return f"lead times over {_MAX_LEAD} periods"
    return None


_announced = False  # the first-use message was logged
StepFn = Callable[[Network, SimState, F64, F64], tuple[SimState, Ledger]]
_cache: weakref.WeakKeyDictionary[Network, StepFn | None] = weakref.WeakKeyDictionary()


def step_function(net: Network) -> StepFn | None:
    """The compiled step for ``net``, or ``None`` when the numpy path runs (kernel ``numpy``, numba
    not installed, or a feature the loop lacks: :func:`unsupported`). Cached per network."""
    try:
        return _cache[net]
    except KeyError:
        pass
    fn: StepFn | None = None
    if _choice != "numpy" and _numba is not None:
        reason = unsupported(net)
        if reason is None:
            fn = _Compiled(net)
            global _announced
            if not _announced and not _rows.signatures:  # numba compiles (or loads) at the first step
                _announced = True
                logger.info(
                    "numba: compiling the product step on first use (seconds; the machine code is cached "
                    "on disk for later processes; INVMGMT_MARL_KERNEL=numpy skips it)"
                )
        elif _choice == "numba":
            logger.info("network %s runs the numpy step: the compiled loop lacks %s", net.name, reason)
    _cache[net] = fn
    return fn


class _Compiled:
    """The network's parameters, broadcast to full per-product arrays once, and the call."""

    def __init__(self, net: Network) -> None:
        p_cnt, e_cnt, n_cnt, s_cnt = net.n_products, net.n_edges, net.n_nodes, net.n_stores
        o_cnt = e_cnt + s_cnt

        def full(x: Any, shape: tuple[int, ...], dtype: Any = np.float64) -> NDArray[Any]:
            # always a fresh, writable, C-ordered array: numba compiles one machine-code version per
            # combination of argument types, and read-only or strided arrays would be other types
            return np.array(np.broadcast_to(np.asarray(x, dtype=dtype), shape), dtype=dtype, order="C")

        lmax = net.max_lead
        self.n_nodes = n_cnt
        self.lmax = lmax
        self.edge_src = full(net.edge_src, (e_cnt,), np.int64)
        self.edge_dst = full(net.edge_dst, (e_cnt,), np.int64)
        # slot of the ring buffer a shipment sent in a period with t % L == k lands in, per (p, e)
        self.dest = full(net.pipe_insert_idx % lmax, (lmax, p_cnt * e_cnt), np.int64).reshape(
            lmax, p_cnt, e_cnt
        )
        self.unit_cost = full(net.unit_cost, (p_cnt, e_cnt))
        self.fixed_cost = full(net.fixed_cost, (p_cnt, e_cnt))
        self.transit_hold = full(net.transit_holding_cost, (p_cnt, e_cnt))
        self.holding = full(net.holding_cost, (p_cnt, n_cnt))
        self.backlog_cost = full(net.backlog_cost, (p_cnt, n_cnt))
        self.lost_cost = full(net.lost_sales_cost, (p_cnt, n_cnt))
        self.price = full(net.price, (p_cnt, n_cnt))
        self.capacity = full(net.out_capacity, (p_cnt, o_cnt))
        self.out_src = full(net.out_src, (o_cnt,), np.int64)
        self.alloc_order = full(net.alloc_order, (o_cnt,), np.int64)
        self.store_node = full(net.store_nodes, (s_cnt,), np.int64)
        self.store_lost = full(net.store_lost_sales, (s_cnt,), np.float64)
        self.storage = full(net.storage_capacity, (n_cnt,))
        self.volume = full(net.volume, (p_cnt,))
        self.refuse = full(net.overflow_refuse, (n_cnt,), np.bool_)
        self.overflow_cost = full(net.overflow_cost, (n_cnt,))
        self.budget = full(net.order_budget, (n_cnt,))
        self.ship_capacity = full(net.ship_capacity, (e_cnt,))
        self.out_prop = full(net.out_proportional, (o_cnt,), np.bool_)
        self.flags = np.array(
            [
                net.any_shared_storage,
                net.any_lost,
                net.any_capacity,
                net.any_fixed_cost,
                net.multi_outflow,
                net.any_budget,
                net.any_shared_shipping,
                net.any_proportional,
            ],
            dtype=np.bool_,
        )
        self.params = (  # the loop's read-only arguments, in its order (dest[slot] goes third)
            self.edge_src, self.edge_dst, self.unit_cost, self.fixed_cost, self.transit_hold,
            self.holding, self.backlog_cost, self.lost_cost, self.price, self.capacity,
            self.out_src, self.alloc_order, self.store_node, self.store_lost, self.storage, self.volume,
            self.refuse, self.overflow_cost, self.budget, self.ship_capacity, self.out_prop, self.flags,
        )  # fmt: skip

    def __call__(self, net: Network, state: SimState, orders: F64, demand: F64) -> tuple[SimState, Ledger]:
        batch, p_cnt = orders.shape[0], orders.shape[1]
        t = state.t
        slot = t % self.lmax
        nodes = np.empty((len(NODE_FIELDS), batch, p_cnt, self.n_nodes))
        edges = np.empty((len(EDGE_FIELDS), batch, p_cnt, net.n_edges))
        pipeline = np.empty(state.pipeline.shape)  # C order whatever the input's
        backlog = np.empty((batch, p_cnt, net.n_outflows))
        external = np.zeros((batch, p_cnt))
        demand = np.array(demand, dtype=np.float64, order="C")  # a copy: the state and ledger keep it
        state_arrays = (
            _plain(state.on_hand),
            _plain(state.backlog),
            _plain(state.pipeline),
            _plain(orders),
            demand,
        )
        params = self.params[:2] + (self.dest[slot],) + self.params[2:]
        _run_rows(
            batch,
            p_cnt * self.n_nodes,
            (slot, state_arrays, params, (nodes, edges, pipeline, backlog, external)),
        )
        ledger = Ledger(t, nodes.swapaxes(0, 1), edges.swapaxes(0, 1), demand, external)
        on_hand = nodes[_ON_HAND].copy()
        next_state = SimState(t + 1, on_hand, backlog, pipeline, edges[_E_ORDERED], demand)
        return next_state, ledger


def _plain(x: Any) -> F64:
    """``x`` as a C-ordered, writable float64 array (a copy only when it is not one already), so that
    every call has the argument types of the one compiled version."""
    if type(x) is np.ndarray and x.dtype == np.float64 and x.flags.c_contiguous and x.flags.writeable:
        return x
    return np.array(x, dtype=np.float64, order="C")


def _run_rows(batch: int, cells: int, args: tuple[Any, ...]) -> None:
    """Run the loop over the batch's episodes, split into ``threads`` contiguous blocks run at once
    (the loop releases the GIL) when the batch is large enough to pay for the hand-off."""
    parts = min(_threads, batch)
    if parts < 2 or batch * cells < _MIN_CELLS_PER_THREAD * 2:
        _rows(0, batch, *args)
        return
    bounds = np.linspace(0, batch, parts + 1).astype(int).tolist()
    pool = _pool()
    futures = [pool.submit(_rows, bounds[k], bounds[k + 1], *args) for k in range(1, parts)]
    _rows(bounds[0], bounds[1], *args)  # the caller's thread takes the first block
    for f in futures:
        f.result()


def _pool() -> ThreadPoolExecutor:
    global _executor
    if _executor is None or _executor_size != _threads:
        _start_pool()
    return _executor  # type: ignore[return-value]


def _start_pool() -> None:
    global _executor, _executor_size
    if _executor is not None:
        _executor.shutdown(wait=False)
    _executor = ThreadPoolExecutor(max_workers=max(_threads - 1, 1), thread_name_prefix="invmgmt-sim")
    _executor_size = _threads


def _pairwise_block(a: F64, lo: int, n: int) -> float:  # pragma: no cover - compiled
    """``a[lo:lo + n].sum()`` for ``n <= 128`` exactly as numpy's pairwise sum adds it: fewer than 8
    values left to right, else 8 running sums combined as a tree, then the rest left to right."""
    if n < 8:
        res = 0.0
        for i in range(n):
            res += a[lo + i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    end = n - n % 8
    i = 8
    while i < end:
        r0 += a[lo + i]
        r1 += a[lo + i + 1]
        r2 += a[lo + i + 2]
        r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]
        r5 += a[lo + i + 5]
        r6 += a[lo + i + 6]
        r7 += a[lo + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    for j in range(end, n):
        res += a[lo + j]
    return res


def _pairwise(a: F64, lo: int, n: int) -> float:  # pragma: no cover - compiled
    """``a[lo:lo + n].sum()`` exactly as numpy sums a contiguous run: runs over 128 values split in
    two at a multiple of 8 below the middle, recursively, and the halves' sums are added. Written with
    an explicit stack (numba cannot cache recursive functions); addition is commutative, so only the
    tree matters, not which half is summed first."""
    if n <= 128:
        return _pairwise_block(a, lo, n)
    seg = np.empty((64, 3), dtype=np.int64)  # (lo, n, children done) of pending segments
    vals = np.empty(64)
    top = 1
    seg[0, 0], seg[0, 1], seg[0, 2] = lo, n, 0
    nv = 0
    while top > 0:
        top -= 1
        s_lo, s_n, done = seg[top, 0], seg[top, 1], seg[top, 2]
        if s_n <= 128:
            vals[nv] = _pairwise_block(a, s_lo, s_n)
            nv += 1
        elif done == 0:
            half = s_n // 2
            half -= half % 8
            seg[top, 2] = 1  # come back to add the two halves once both are summed
            seg[top + 1, 0], seg[top + 1, 1], seg[top + 1, 2] = s_lo + half, s_n - half, 0
            seg[top + 2, 0], seg[top + 2, 1], seg[top + 2, 2] = s_lo, half, 0
            top += 3
        else:
            nv -= 1
            vals[nv - 1] = vals[nv - 1] + vals[nv]
    return vals[0]


def _product_sum(vals: F64, out: F64, terms: F64) -> None:  # pragma: no cover - compiled
    """``out[x] = sum_p vals[p, x]`` in the order of numpy's ``.sum(axis=-2)`` over a ``(B, P, X)``
    array: products in order when ``X > 1``, pairwise (numpy's inner-loop sum) when ``X == 1``.
    ``terms`` is ``(P,)`` scratch."""
    p_cnt, x_cnt = vals.shape
    if x_cnt == 1:
        for p in range(p_cnt):
            terms[p] = vals[p, 0]
        out[0] = _pairwise(terms, 0, p_cnt)
        return
    for x in range(x_cnt):
        out[x] = 0.0
    for p in range(p_cnt):
        for x in range(x_cnt):
            out[x] += vals[p, x]


def _episode(b, slot, state, params, out):  # pragma: no cover - compiled
    """One period of episode ``b``, product by product: the steps of :mod:`~invmgmt_marl.sim.dynamics`."""
    on_hand, backlog_in, pipe_in, orders, demand = state
    (edge_src, edge_dst, dest, unit_cost, fixed_cost, transit_hold, holding, backlog_cost, lost_cost,
     price, capacity, out_src, alloc_order, store_node, store_lost, storage, volume, refuse,
     overflow_cost, budget, ship_capacity, out_prop, flags) = params  # fmt: skip
    nodes, edges, pipe_out, backlog_out, external = out
    _, p_cnt, n_cnt = on_hand.shape
    e_cnt = orders.shape[2]
    o_cnt = backlog_in.shape[2]
    lmax = pipe_in.shape[3]
    shared, any_lost, any_cap, any_fixed, multi = flags[0], flags[1], flags[2], flags[3], flags[4]
    any_budget, shared_ship, any_prop = flags[5], flags[6], flags[7]
    terms = np.empty(p_cnt)
    if True:  # one episode (kept indented as the loop body it is)
        # the fields of features the loop does not run are zero: one whole (P, N) plane each
        for f in (_COMPONENTS, _ASSEMBLED, _CONSUMED, _EXPIRED, _TRANSIT_LOST, _WASTE_COST):
            nodes[f, b] = 0.0
        for f in range(_CASH, _SALVAGE + 1):
            nodes[f, b] = 0.0
        # arrivals, and what fits each node's shared storage: the volumes held and arriving are summed
        # over products in numpy's order (dynamics._volume_of: products in order with several nodes,
        # pairwise with one), in the same pass
        accept = np.ones(n_cnt)
        gross = np.zeros((p_cnt, n_cnt))
        held = np.zeros(n_cnt)
        coming = np.zeros(n_cnt)
        one_node = n_cnt == 1
        terms_held = np.empty(p_cnt if shared and one_node else 0)
        for p in range(p_cnt):
            for e in range(e_cnt):
                arrived = pipe_in[b, p, e, slot]
                edges[_E_ARRIVED, b, p, e] = arrived
                gross[p, edge_dst[e]] += arrived
            if shared:
                if one_node:
                    terms_held[p] = on_hand[b, p, 0] * volume[p]
                    terms[p] = gross[p, 0] * volume[p]
                else:
                    for n in range(n_cnt):
                        held[n] += on_hand[b, p, n] * volume[p]
                        coming[n] += gross[p, n] * volume[p]
        if shared:
            if one_node:
                held[0] = _pairwise(terms_held, 0, p_cnt)
                coming[0] = _pairwise(terms, 0, p_cnt)
            for n in range(n_cnt):
                room = max(storage[n] - held[n], 0.0)
                if coming[n] > room:
                    accept[n] = room / coming[n]
        # orders placed: beyond a node's budget every order is scaled by one factor (dynamics._apply_budget);
        # the orders kept are the ledger's edge_ordered, read from there on
        kept = edges[_E_ORDERED, b]
        if any_budget:
            cost = np.zeros((p_cnt, n_cnt))
            for p in range(p_cnt):
                for e in range(e_cnt):
                    cost[p, edge_dst[e]] += orders[b, p, e] * unit_cost[p, e]
            total = np.empty(n_cnt)
            _product_sum(cost, total, terms)
            keep = np.ones(n_cnt)
            for n in range(n_cnt):
                if total[n] > budget[n]:
                    keep[n] = budget[n] / total[n]
            for p in range(p_cnt):
                for n in range(n_cnt):
                    nodes[_REJECTED, b, p, n] = 0.0
                for e in range(e_cnt):
                    k = orders[b, p, e] * keep[edge_dst[e]]
                    kept[p, e] = k
                    nodes[_REJECTED, b, p, edge_dst[e]] += orders[b, p, e] - k
        else:  # (the orders are copied into edge_ordered product by product, below)
            nodes[_REJECTED, b] = 0.0
        # products sharing an edge's volume per period: requirements cut (dynamics._shared_shipping);
        # the loads need what is owed on every edge first: backlog + this period's orders
        scale = np.ones(e_cnt)
        if shared_ship:
            for p in range(p_cnt):
                for e in range(e_cnt):
                    if not any_budget:
                        kept[p, e] = orders[b, p, e]
                    backlog_out[b, p, e] = backlog_in[b, p, e] + kept[p, e]
            load_pe = np.empty((p_cnt, e_cnt))
            for p in range(p_cnt):
                for e in range(e_cnt):
                    load_pe[p, e] = backlog_out[b, p, e] * volume[p]
            load = np.empty(e_cnt)
            _product_sum(load_pe, load, terms)
            for e in range(e_cnt):
                if load[e] > ship_capacity[e]:
                    scale[e] = ship_capacity[e] / load[e]
        avail_n = np.empty(n_cnt)
        required = np.empty(o_cnt)
        shipped = np.empty(o_cnt)
        before = np.empty(n_cnt)
        total_req = np.empty(n_cnt)
        for p in range(p_cnt):
            for n in range(n_cnt):
                g = gross[p, n]
                if shared:
                    accepted = g * accept[n]
                    overflow = g - accepted
                    received = accepted if refuse[n] else g
                else:
                    overflow = 0.0
                    received = g
                nodes[_RECEIVED, b, p, n] = received
                nodes[_REFUSED, b, p, n] = g - received
                nodes[_OVERFLOW, b, p, n] = overflow
                avail_n[n] = on_hand[b, p, n] + received
            # what is owed on every outflow (backlog + this period's orders and demand), and the
            # requirements: what is owed, capped by shipping capacity
            if not any_budget and not shared_ship:
                for e in range(e_cnt):
                    kept[p, e] = orders[b, p, e]
            for o in range(o_cnt):
                if o >= e_cnt:
                    owed = backlog_in[b, p, o] + demand[b, p, o - e_cnt]
                    backlog_out[b, p, o] = owed  # owed for now; the backlog once shipped
                elif shared_ship:
                    owed = backlog_out[b, p, o]  # (computed above for the loads)
                else:
                    owed = backlog_in[b, p, o] + kept[p, o]
                    backlog_out[b, p, o] = owed
                if shared_ship:
                    required[o] = owed * scale[o] if o < e_cnt else owed
                elif any_cap:
                    required[o] = min(owed, capacity[p, o])
                else:
                    required[o] = owed
            # shipping in allocation order: each outflow gets what its node has left (external: all)
            for n in range(n_cnt):
                before[n] = 0.0
                total_req[n] = 0.0
            for k in range(o_cnt):
                o = alloc_order[k]
                src = out_src[o]
                if src >= n_cnt:
                    shipped[o] = required[o]
                    continue
                left = avail_n[src]
                if multi:
                    left -= before[src]
                    before[src] += required[o]
                shipped[o] = min(max(left, 0.0), required[o])
                total_req[src] += required[o]
            if any_prop:  # proportional nodes ship the same fraction of every requirement
                for o in range(o_cnt):
                    src = out_src[o]
                    if src < n_cnt and out_prop[o]:
                        frac = 1.0
                        if total_req[src] > avail_n[src] and total_req[src] > 0:
                            frac = avail_n[src] / total_req[src]
                        shipped[o] = required[o] * min(frac, 1.0)
            # ledger per node, from its outflows
            for n in range(n_cnt):
                for f in range(_REQUESTED, _BACKLOG + 1):
                    nodes[f, b, p, n] = 0.0
                nodes[_SOLD, b, p, n] = 0.0
                nodes[_LOST, b, p, n] = 0.0
            for o in range(o_cnt):
                owed = backlog_out[b, p, o]
                left = owed - shipped[o]
                lost = 0.0
                if any_lost and o >= e_cnt:
                    lost = left * store_lost[o - e_cnt]
                    left -= lost
                backlog_out[b, p, o] = left
                src = out_src[o]
                if o >= e_cnt:
                    node = store_node[o - e_cnt]
                    nodes[_SOLD, b, p, node] += shipped[o]
                    nodes[_LOST, b, p, node] += lost
                if src < n_cnt:
                    req = kept[p, o] if o < e_cnt else demand[b, p, o - e_cnt]
                    nodes[_REQUESTED, b, p, src] += req
                    nodes[_OWED, b, p, src] += owed
                    nodes[_SHIPPED, b, p, src] += shipped[o]
                    nodes[_BACKLOG, b, p, src] += left
            # in transit: the ring buffer, this period's slot emptied, shipments added where they land
            for e in range(e_cnt):
                for s in range(lmax):
                    pipe_out[b, p, e, s] = pipe_in[b, p, e, s]
                pipe_out[b, p, e, slot] = 0.0
                pipe_out[b, p, e, dest[p, e]] += shipped[e]
            # edge fields, aggregated to the receiving node
            for n in range(n_cnt):
                for f in range(_ORDERED, _TRANSIT_HOLDING_COST + 1):
                    nodes[f, b, p, n] = 0.0
                nodes[_REVENUE, b, p, n] = 0.0
            for e in range(e_cnt):
                sent = shipped[e]
                in_transit = _pairwise_block(pipe_out[b, p, e], 0, lmax)
                ordering = sent * unit_cost[p, e]
                fixed = (1.0 if kept[p, e] > 0 else 0.0) * fixed_cost[p, e] if any_fixed else 0.0
                holding_transit = in_transit * transit_hold[p, e]
                edges[_E_BACKLOG, b, p, e] = backlog_out[b, p, e]
                edges[_E_IN_TRANSIT, b, p, e] = in_transit
                edges[_E_TRANSIT_LOST, b, p, e] = 0.0
                edges[_E_ORDERING_COST, b, p, e] = ordering
                edges[_E_FIXED_COST, b, p, e] = fixed
                edges[_E_TRANSIT_HOLDING_COST, b, p, e] = holding_transit
                edges[_E_SHIPPED, b, p, e] = sent
                dst = edge_dst[e]
                nodes[_ORDERED, b, p, dst] += kept[p, e]
                nodes[_INBOUND_BACKLOG, b, p, dst] += backlog_out[b, p, e]
                nodes[_IN_TRANSIT, b, p, dst] += in_transit
                nodes[_ORDERING_COST, b, p, dst] += ordering
                nodes[_FIXED_COST, b, p, dst] += fixed
                nodes[_TRANSIT_HOLDING_COST, b, p, dst] += holding_transit
                src = edge_src[e]
                if src < n_cnt:
                    nodes[_REVENUE, b, p, src] += ordering  # transfer revenue (added to sales below)
                else:
                    external[b, p] += sent
            # node level: stock, costs, revenue, service
            for n in range(n_cnt):
                stock = max(avail_n[n] - nodes[_SHIPPED, b, p, n], 0.0)
                nodes[_ON_HAND, b, p, n] = stock
                hold = stock * holding[p, n]
                if shared:
                    hold += nodes[_OVERFLOW, b, p, n] * overflow_cost[n]
                nodes[_HOLDING_COST, b, p, n] = hold
                nodes[_BACKLOG_COST, b, p, n] = nodes[_BACKLOG, b, p, n] * backlog_cost[p, n]
                nodes[_LOST_SALES_COST, b, p, n] = nodes[_LOST, b, p, n] * lost_cost[p, n]
                nodes[_REVENUE, b, p, n] = nodes[_SOLD, b, p, n] * price[p, n] + nodes[_REVENUE, b, p, n]
                owed_n = nodes[_OWED, b, p, n]
                nodes[_SERVICE_LEVEL, b, p, n] = 1.0 - (owed_n - nodes[_SHIPPED, b, p, n]) / max(
                    owed_n, _TINY
                )


# ledger rows as plain ints (numba reads module globals as compile-time constants)
_TINY = 1e-300
_F = {name: k for k, name in enumerate(NODE_FIELDS)}
_G = {name: k for k, name in enumerate(EDGE_FIELDS)}
_REQUESTED, _OWED, _SHIPPED, _BACKLOG = _F["requested"], _F["owed"], _F["shipped"], _F["backlog"]
_ORDERED, _INBOUND_BACKLOG, _IN_TRANSIT = _F["ordered"], _F["inbound_backlog"], _F["in_transit"]
_TRANSIT_LOST, _ORDERING_COST, _FIXED_COST = _F["transit_lost"], _F["ordering_cost"], _F["fixed_cost"]
_TRANSIT_HOLDING_COST, _HOLDING_COST, _BACKLOG_COST = (
    _F["transit_holding_cost"],
    _F["holding_cost"],
    _F["backlog_cost"],
)
_LOST_SALES_COST, _WASTE_COST, _SOLD, _LOST = _F["lost_sales_cost"], _F["waste_cost"], _F["sold"], _F["lost"]
_RECEIVED, _REFUSED, _ON_HAND, _COMPONENTS = _F["received"], _F["refused"], _F["on_hand"], _F["components"]
_ASSEMBLED, _CONSUMED, _EXPIRED, _REVENUE = _F["assembled"], _F["consumed"], _F["expired"], _F["revenue"]
_SERVICE_LEVEL, _REJECTED, _OVERFLOW = _F["service_level"], _F["rejected"], _F["overflow"]
_CASH, _SALVAGE = _F["cash"], _F["salvage"]
_E_ORDERED, _E_BACKLOG, _E_IN_TRANSIT = _G["edge_ordered"], _G["edge_backlog"], _G["edge_in_transit"]
_E_TRANSIT_LOST, _E_ORDERING_COST, _E_FIXED_COST = (
    _G["edge_transit_lost"],
    _G["edge_ordering_cost"],
    _G["edge_fixed_cost"],
)
_E_TRANSIT_HOLDING_COST, _E_SHIPPED, _E_ARRIVED = (
    _G["edge_transit_holding_cost"],
    _G["edge_shipped"],
    _G["edge_arrived"],
)


def _rows_loop(first, stop, slot, state, params, out):  # pragma: no cover - compiled
    """Episodes ``first .. stop - 1`` of the batch, one after the other (releases the GIL)."""
    for b in range(first, stop):
        _episode(b, slot, state, params, out)


def _jit(fn: Callable[..., Any], **options: Any) -> Any:
    """``numba.njit(cache=True)``; without a writable cache location (a read-only install and no
    writable ``NUMBA_CACHE_DIR``) numba refuses to cache: then compile in every process instead."""
    try:
        return _numba.njit(cache=True, **options)(fn)
    except RuntimeError as err:  # "cannot cache function ...: no locator available"
        logger.info("numba cannot cache the compiled step (%s); it compiles in every process", err)
        return _numba.njit(**options)(fn)


if _numba is not None:  # compiled on first call; the machine code is cached on disk
    _pairwise_block = _jit(_pairwise_block, inline="always")
    _pairwise = _jit(_pairwise)
    _product_sum = _jit(_product_sum)
    _episode = _jit(_episode)
    _rows = _jit(_rows_loop, nogil=True)
else:  # pragma: no cover - without numba nothing calls these
    _rows = _rows_loop
