"""Throughput benchmark: the PettingZoo ParallelEnv, the batched simulator and gym-invmgmt.

    python benchmarks/throughput.py            # about 2 minutes
    python benchmarks/throughput.py --quick    # under 20 s, fewer repeats / episodes
    python benchmarks/throughput.py --json out.json
    python benchmarks/throughput.py --products # the product (SKU) section only

Every figure is the median over repeats within this one run. Random actions / orders and demand
are generated before timing, so only the environment (or simulator) is measured. See README.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np

import invmgmt_marl
from invmgmt_marl.compile import compile_network
from invmgmt_marl.demand import sample_network_demand
from invmgmt_marl.sim import initial_state, kernel, step

sys.path.insert(0, str(Path(__file__).resolve().parent))
from large_network import report as large_network_report  # noqa: E402
from large_network import run as large_network_run  # noqa: E402

SCENARIOS = ("serial", "net_2x3", "hmarl")
BATCHES = (1, 64, 4096)
TARGET_ENV = 30_000  # ParallelEnv serial, env-steps/s (the original Liu et al. env does ~10k)
TARGET_SIM = 5_000_000  # batched simulator at batch 4096, agent-steps/s
GYM_IDS = ("GymInvMgmt/Serial-v0", "GymInvMgmt/MultiEchelon-v0")
PRODUCT_SCENARIOS = ("sku200_1w", "sku2000_3w")
PRODUCT_BATCHES = (1, 4, 8, 16)
# MABIM (ReplenishmentEnv) on this machine type, from issue 10: agent-steps/s and reset seconds
MABIM = {"sku200_1w": (220_000, 2.3), "sku2000_3w": (970_000, 8.5)}
TARGET_SKU_ENV = 2_000_000  # ParallelEnv agent-steps/s on sku2000_3w with SKU agents
TARGET_SKU_SIM = 30_000_000  # batched simulator agent-steps/s on sku2000_3w
TARGET_RESET_S = 0.05
MIB = 2**20
LARGE_NODES = 10_000  # benchmarks/large_network.py: build time, peak memory and step time


def rate(episode: Callable[[], object], units: int, repeats: int, min_time: float) -> tuple[float, float]:
    """Median units/s of ``episode()`` (which does ``units`` of work) and the spread (max - min) / median
    of the repeats. timeit-style: an untimed warm-up call sizes each repeat to ``n`` back-to-back
    episodes lasting at least ``min_time`` seconds."""
    t0 = time.perf_counter()
    episode()
    n = max(1, math.ceil(min_time / (time.perf_counter() - t0)))
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            episode()
        rates.append(n * units / (time.perf_counter() - t0))
    med = statistics.median(rates)
    return med, (max(rates) - min(rates)) / med


def random_action(space, rng: np.random.Generator):
    if hasattr(space, "n"):  # Discrete
        return int(rng.integers(space.n))
    return rng.uniform(space.low, space.high).astype(np.float32).reshape(space.shape)


# --------------------------------------------------------------------------------------------------
def bench_parallel_env(name: str, repeats: int, min_time: float, **kw) -> dict:
    env = invmgmt_marl.parallel_env(name, **kw)
    periods, n_agents = env.net.periods, len(env.possible_agents)
    rng = np.random.default_rng(0)
    pool = [{a: random_action(env.action_space(a), rng) for a in env.possible_agents} for _ in range(periods)]
    env.reset(seed=0)

    def episode() -> None:
        env.reset()
        for actions in pool:
            env.step(actions)
        assert not env.agents  # truncated at `periods`

    sps, spread = rate(episode, periods, repeats, min_time)
    label = name + "".join(f" {k}={v}" for k, v in kw.items())
    return {
        "env": label,
        "agents": n_agents,
        "periods": periods,
        "env_steps_per_s": sps,
        "agent_steps_per_s": sps * n_agents,
        "spread": spread,
    }


def bench_sim(name: str, batch: int, repeats: int, min_time: float) -> dict:
    net = compile_network(invmgmt_marl.load_scenario(name))
    T = net.periods
    rng = np.random.default_rng(0)
    orders = rng.uniform(0.0, net.max_order, size=(T, batch, net.n_edges))
    demand = sample_network_demand(net, rng, batch, T)  # (B, T, S)

    def episode() -> None:
        state = initial_state(net, batch)
        for t in range(T):
            state, _ = step(net, state, orders[t], demand[:, t])

    sps, spread = rate(episode, T * batch, repeats, min_time)
    row = {
        "scenario": name,
        "batch": batch,
        "agents": net.n_nodes,
        "env_steps_per_s": sps,
        "agent_steps_per_s": sps * net.n_nodes,
        "spread": spread,
    }
    if batch == max(BATCHES):
        row.update(sim_memory(net, batch, orders, demand))
    return row


def sim_memory(net, batch: int, orders: np.ndarray, demand: np.ndarray) -> dict:
    """tracemalloc peak over one episode (state, ledgers, temporaries; the pre-generated inputs excluded)."""
    tracemalloc.start()
    state = initial_state(net, batch)
    state_bytes = sum(a.nbytes for a in state if isinstance(a, np.ndarray))
    for t in range(net.periods):
        state, ledger = step(net, state, orders[t], demand[:, t])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    ledger_bytes = sum(a.nbytes for a in ledger if isinstance(a, np.ndarray))
    return {
        "peak_mib": peak / MIB,
        "state_mib": state_bytes / MIB,
        "ledger_mib": ledger_bytes / MIB,
        "inputs_mib": (orders.nbytes + demand.nbytes) / MIB,
    }


def bench_gym(env_id: str, repeats: int, min_time: float) -> dict:
    import gym_invmgmt  # noqa: F401  (registers the GymInvMgmt/* ids)
    import gymnasium

    env = gymnasium.make(env_id)  # as users get it (OrderEnforcing, PassiveEnvChecker wrappers)
    core = env.unwrapped
    periods = core.num_periods
    env.action_space.seed(0)
    pool = [env.action_space.sample() for _ in range(periods)]
    env.reset(seed=0)

    def episode() -> None:
        env.reset()
        for action in pool:
            *_, truncated, _ = env.step(action)
        assert truncated

    sps, spread = rate(episode, periods, repeats, min_time)
    n_nodes = len(core.network.main_nodes)
    return {
        "env": env_id,
        "agents": n_nodes,
        "periods": periods,
        "env_steps_per_s": sps,
        "agent_steps_per_s": sps * n_nodes,
        "spread": spread,
        "nodes_total": core.graph.number_of_nodes(),
    }


# --------------------------------------------------------------------------------------------------
def bench_product_env(name: str, repeats: int, min_time: float) -> dict:
    """ParallelEnv with SKU agents (one per node x product): agent-steps/s, reset time, peak memory.

    The peak is traced on an env of its own: objects allocated while tracemalloc runs are spread over
    more memory (each carries a trace), and stepping an env built that way measured 20-30% slower."""

    def build() -> tuple[invmgmt_marl.InventoryParallelEnv, list[dict]]:
        env = invmgmt_marl.parallel_env(name, agents="node_product")
        env.reset(seed=0)
        rng = np.random.default_rng(0)
        pool = [{a: random_action(env.action_space(a), rng) for a in env.possible_agents} for _ in range(4)]
        return env, pool

    tracemalloc.start()
    env, pool = build()
    for t in range(env.net.periods):
        env.step(pool[t % 4])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del env, pool
    env, pool = build()
    periods, n_agents = env.net.periods, len(env.possible_agents)

    def episode() -> None:
        env.reset()
        for t in range(periods):
            env.step(pool[t % 4])

    sps, spread = rate(episode, periods, repeats, min_time)
    resets = []
    for _ in range(max(5, repeats)):
        t0 = time.perf_counter()
        env.reset()
        resets.append(time.perf_counter() - t0)
    return {
        "scenario": name,
        "agents": n_agents,
        "periods": periods,
        "env_steps_per_s": sps,
        "agent_steps_per_s": sps * n_agents,
        "spread": spread,
        "reset_s": statistics.median(resets),
        "peak_mib": peak / MIB,
    }


def bench_product_sim(
    name: str, batch: int, repeats: int, min_time: float, kernel_choice: str = "auto", threads: int = 1
) -> dict:
    """sim.step on a product network: agent-steps = batch x nodes x products per step. ``kernel_choice``
    and ``threads`` select the step (invmgmt_marl.sim.kernel: "numpy", or numba on ``threads``)."""
    net = compile_network(invmgmt_marl.load_scenario(name))
    T, P = net.periods, net.n_products
    rng = np.random.default_rng(0)
    orders = rng.uniform(0.0, 1.0, size=(T, batch, P, net.n_edges)) * net.max_order
    demand = sample_network_demand(net, rng, batch, T)  # (B, T, P, S)
    previous, previous_threads = kernel.use_kernel(kernel_choice), kernel.set_threads(threads)

    def episode() -> None:
        state = initial_state(net, batch)
        for t in range(T):
            state, _ = step(net, state, orders[t], demand[:, t])

    try:
        episode()  # numba compiles (or loads its cache) on first use: not timed
        sps, spread = rate(episode, T * batch, repeats, min_time)
        used = kernel.kernel_name(net)
    finally:
        kernel.use_kernel(previous)
        kernel.set_threads(previous_threads)
    agents = net.n_nodes * P
    return {
        "scenario": name,
        "batch": batch,
        "kernel": used,
        "threads": threads if used == "numba" else 1,
        "agents": agents,
        "env_steps_per_s": sps,
        "agent_steps_per_s": sps * agents,
        "spread": spread,
    }


def product_sim_configs() -> list[tuple[str, int]]:
    """(kernel, threads) rows: the numpy step, and numba on one thread and on every core."""
    if kernel._numba is None:
        return [("numpy", 1)]
    cores = kernel._cores()
    return [("numpy", 1), ("numba", 1)] + ([("numba", cores)] if cores > 1 else [])


def run_products(repeats: int, min_time: float) -> dict:
    out: dict = {
        "product_env": [bench_product_env(n, repeats, min_time) for n in PRODUCT_SCENARIOS],
        "product_sim": [
            bench_product_sim(n, b, repeats, min_time, k, th)
            for n in PRODUCT_SCENARIOS
            for b in PRODUCT_BATCHES
            for k, th in product_sim_configs()
        ],
    }
    out["large_network"] = large_network_run(LARGE_NODES)  # build / memory / step, fresh process
    big_env = next(r for r in out["product_env"] if r["scenario"] == "sku2000_3w")
    big_sim = max(r["agent_steps_per_s"] for r in out["product_sim"] if r["scenario"] == "sku2000_3w")
    out["product_targets"] = [
        target(
            "ParallelEnv sku2000_3w SKU agents agent-steps/s", big_env["agent_steps_per_s"], TARGET_SKU_ENV
        ),
        target("sim sku2000_3w agent-steps/s (best batch and step)", big_sim, TARGET_SKU_SIM),
        {
            "what": "reset() sku2000_3w, ms (at most)",
            "value": 1e3 * big_env["reset_s"],
            "target": 1e3 * TARGET_RESET_S,
            "met": big_env["reset_s"] <= TARGET_RESET_S,
        },
        {
            "what": f"{LARGE_NODES:,}-node network build, s (at most; and < 2 GiB)",
            "value": out["large_network"]["build_s"],
            "target": 10.0,
            "met": out["large_network"]["build_met"],
        },
    ]
    return out


def report_products(res: dict) -> None:
    n = "{:,.0f}".format
    table(
        "Products: PettingZoo ParallelEnv with SKU agents (agents='node_product'), random actions",
        [
            "scenario",
            "agents",
            "env-steps/s",
            "agent-steps/s",
            "MABIM agent-steps/s",
            "reset ms",
            "MABIM reset s",
            "peak MiB",
            "spread",
        ],
        [
            [
                r["scenario"],
                r["agents"],
                n(r["env_steps_per_s"]),
                n(r["agent_steps_per_s"]),
                n(MABIM[r["scenario"]][0]),
                f"{1e3 * r['reset_s']:.1f}",
                f"{MABIM[r['scenario']][1]:.1f}",
                f"{r['peak_mib']:.1f}",
                pct(r),
            ]
            for r in res["product_env"]
        ],
    )
    table(
        "Products: batched simulator, sim.step (agent = node x product)",
        ["scenario", "batch", "step", "agents", "env-steps/s", "agent-steps/s", "spread"],
        [
            [
                r["scenario"],
                r["batch"],
                r["kernel"] + (f" x{r['threads']} threads" if r["threads"] > 1 else ""),
                r["agents"],
                n(r["env_steps_per_s"]),
                n(r["agent_steps_per_s"]),
                pct(r),
            ]
            for r in res["product_sim"]
        ],
    )
    large_network_report(res["large_network"])
    table(
        "Product targets (issue 10)",
        ["figure", "value", "target", "met"],
        [
            [t["what"], n(t["value"]), n(t["target"]), "yes" if t["met"] else "NO"]
            for t in res["product_targets"]
        ],
    )


# --------------------------------------------------------------------------------------------------
def header() -> dict:
    try:
        import gym_invmgmt

        gym_version = gym_invmgmt.__version__
    except ImportError:
        gym_version = None
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": None if kernel._numba is None else kernel._numba.__version__,
        "invmgmt_marl": invmgmt_marl.__version__,
        "gym_invmgmt": gym_version,
        "cpu_count": os.cpu_count(),
        "cpus_usable": affinity,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "loadavg_1min_at_start": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }


def run_all(quick: bool) -> dict:
    repeats, min_time = (3, 0.1) if quick else (5, 1.0)
    out: dict = {"header": header(), "repeats": repeats, "min_time_per_repeat_s": min_time, "quick": quick}
    out["parallel_env"] = [bench_parallel_env(n, repeats, min_time) for n in SCENARIOS]
    out["parallel_env"].append(bench_parallel_env("serial", repeats, min_time, action_type="discrete"))
    out["sim"] = [bench_sim(n, b, repeats, min_time) for n in SCENARIOS for b in BATCHES]
    try:
        out["gym_invmgmt"] = [bench_gym(i, repeats, min_time) for i in GYM_IDS]
    except ImportError:
        out["gym_invmgmt"] = None

    serial = out["parallel_env"][0]["env_steps_per_s"]
    out["targets"] = [target("ParallelEnv serial env-steps/s", serial, TARGET_ENV)] + [
        target(f"sim {r['scenario']} B={r['batch']} agent-steps/s", r["agent_steps_per_s"], TARGET_SIM)
        for r in out["sim"]
        if r["batch"] == max(BATCHES)
    ]
    if out["gym_invmgmt"]:
        out["ratio_serial_vs_gym"] = serial / out["gym_invmgmt"][0]["env_steps_per_s"]
    out["frames"] = run_frames(10 if quick else 30)
    return out


def run_frames(frames: int) -> list[dict] | None:
    """``render_mode="rgb_array"`` frame times per shipped scenario (benchmarks/render.py), or None
    without matplotlib."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return None
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from render import frame_times

    return [frame_times(name, frames) for name in invmgmt_marl.list_scenarios()]


def target(what: str, value: float, goal: float) -> dict:
    return {"what": what, "value": value, "target": goal, "met": value >= goal}


# --------------------------------------------------------------------------------------------------
def table(title: str, cols: list[str], rows: list[list]) -> None:
    """A rich table (first column left-aligned, the rest right-aligned), plain text without rich."""
    rows = [[str(c) for c in r] for r in rows]
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(cols)]
        print(f"\n{title}")
        for r in [cols, *rows]:
            cells = [
                c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
            ]
            print("  ".join(cells))
        return
    t = Table(title=title, title_justify="left")
    for i, c in enumerate(cols):
        t.add_column(c, justify="left" if i == 0 else "right")
    for r in rows:
        t.add_row(*r)
    Console(width=120).print(t)


def pct(row: dict) -> str:
    return f"{100 * row['spread']:.0f}%"


def report(res: dict) -> None:
    h, n = res["header"], "{:,.0f}".format
    print(f"invmgmt-marl throughput benchmark, {h['date']}")
    versions = ", ".join(f"{k} {h[k]}" for k in ("python", "numpy", "numba", "invmgmt_marl", "gym_invmgmt"))
    print(f"Versions: {versions}")
    print(f"CPUs {h['cpu_count']} (usable {h['cpus_usable']}), {h['platform']}")
    print(f"1-min load average at start: {h['loadavg_1min_at_start']}")
    print(f"Each figure: median of {res['repeats']} repeats of >= {res['min_time_per_repeat_s']} s")
    print("spread: (fastest - slowest repeat) / median; large values mean a busy machine")

    table(
        "PettingZoo ParallelEnv, random actions",
        ["env", "agents", "periods", "env-steps/s", "agent-steps/s", "spread"],
        [
            [r["env"], r["agents"], r["periods"], n(r["env_steps_per_s"]), n(r["agent_steps_per_s"]), pct(r)]
            for r in res["parallel_env"]
        ],
    )
    table(
        "Batched simulator, sim.step",
        ["scenario", "batch", "env-steps/s", "agent-steps/s", "spread", "peak MiB", "state MiB"],
        [
            [
                r["scenario"],
                r["batch"],
                n(r["env_steps_per_s"]),
                n(r["agent_steps_per_s"]),
                pct(r),
                f"{r['peak_mib']:.1f}" if "peak_mib" in r else "",
                f"{r['state_mib']:.2f}" if "state_mib" in r else "",
            ]
            for r in res["sim"]
        ],
    )
    print(
        "peak: tracemalloc peak over one episode (state, ledgers, temporaries; pre-generated inputs excluded)"
    )
    if res["gym_invmgmt"] is None:
        print("\ngym_invmgmt is not installed: peer comparison skipped (pip install gym-invmgmt==0.2.1)")
    else:
        table(
            "gym-invmgmt (single-agent, via gymnasium.make), random actions",
            ["env", "nodes", "periods", "env-steps/s", "node-steps/s", "spread"],
            [
                [
                    r["env"],
                    r["agents"],
                    r["periods"],
                    n(r["env_steps_per_s"]),
                    n(r["agent_steps_per_s"]),
                    pct(r),
                ]
                for r in res["gym_invmgmt"]
            ],
        )
        print(f"ParallelEnv serial / gym-invmgmt Serial-v0 env-steps/s: {res['ratio_serial_vs_gym']:.2f}x")
    if res.get("frames"):
        table(
            "rgb_array frames (network diagram with the period's state), base-stock episode",
            ["scenario", "frame H x W", "first call ms", "median ms", "p90 ms"],
            [
                [
                    r["scenario"],
                    f"{r['height']} x {r['width']}",
                    f"{r['first_ms']:.0f}",
                    f"{r['median_ms']:.1f}",
                    f"{r['p90_ms']:.1f}",
                ]
                for r in res["frames"]
            ],
        )
        worst = max(r["median_ms"] for r in res["frames"])
        print(f"slowest median frame {worst:.1f} ms (target: well under 100 ms)")
    table(
        "Targets",
        ["figure", "value", "target", "met"],
        [
            [t["what"], n(t["value"]), ">= " + n(t["target"]), "yes" if t["met"] else "NO"]
            for t in res["targets"]
        ],
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer repeats and episodes (< 20 s)")
    p.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    p.add_argument("--products", action="store_true", help="the product (SKU) section only")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    repeats, min_time = (3, 0.1) if args.quick else (5, 1.0)
    if args.products:
        res = {"header": header(), **run_products(repeats, min_time)}
    else:
        res = run_all(args.quick)
        res.update(run_products(repeats, min_time))
    res["wall_s"] = time.perf_counter() - t0
    if not args.products:
        report(res)
    report_products(res)
    print(f"\ntotal {res['wall_s']:.1f} s")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(res, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
