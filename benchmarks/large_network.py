"""Build time, peak memory and step time of a generated 10,000-node network (issue 10, item 7).

    python benchmarks/large_network.py                 # 10,000 nodes, in a fresh process
    python benchmarks/large_network.py --nodes 2000
    python benchmarks/large_network.py --json out.json

The network comes from the seeded generator (``invmgmt_marl.scenario.generate.generate_network``, the
one behind ``scenarios/generate_large.py``): 1% suppliers, 4% regional DCs, 15% local warehouses and
80% stores, 30% of them with a second source. "Build" is generate + validate + ``compile_network``;
the peak memory is the build process's whole resident set (``VmHWM`` of ``/proc/self/status``, else
``resource.getrusage``: interpreter, imports and everything built), measured in a child process so
that nothing else counts (``getrusage`` would carry over the parent's peak through fork + exec). Step times
are medians of ``sim.step`` with random orders. Before this work the same build took 82 s and 16 GB
(dense node x edge incidence matrices; issue 10).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

BATCHES = (1, 16)
STEPS = 20
TARGET_BUILD_S = 10.0
TARGET_BUILD_MIB = 2048.0


def layers(n_nodes: int) -> dict[str, int]:
    """The generator's layer sizes for ``n_nodes`` nodes (1% / 4% / 15% / the rest stores)."""
    suppliers, regional, local = max(1, n_nodes // 100), max(1, n_nodes // 25), max(1, 3 * n_nodes // 20)
    return {
        "suppliers": suppliers,
        "regional": regional,
        "local": local,
        "stores": n_nodes - suppliers - regional - local,
    }


def peak_rss_mib() -> float:
    """This process's peak resident set, MiB (Linux ``VmHWM``: reset at exec, unlike ``ru_maxrss``)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(n_nodes: int) -> dict:
    """Build and step the network in this process; returns the figures (call it in a fresh process)."""
    import numpy as np

    from invmgmt_marl.compile import compile_network
    from invmgmt_marl.demand import sample_network_demand
    from invmgmt_marl.scenario import validate_scenario
    from invmgmt_marl.scenario.generate import generate_network
    from invmgmt_marl.sim import initial_state, step

    rss0 = peak_rss_mib()
    t0 = time.perf_counter()
    data = generate_network(0, name=f"net{n_nodes}", periods=STEPS, **layers(n_nodes))
    t1 = time.perf_counter()
    sc = validate_scenario(data)
    t2 = time.perf_counter()
    net = compile_network(sc)
    t3 = time.perf_counter()
    rss_build = peak_rss_mib()
    out = {
        "nodes": net.n_nodes,
        "edges": net.n_edges,
        "outflows": net.n_outflows,
        "incidence": type(net.edge_to_dst).__name__,
        "generate_s": t1 - t0,
        "validate_s": t2 - t1,
        "compile_s": t3 - t2,
        "build_s": t3 - t0,
        "rss_before_build_mib": rss0,
        "peak_rss_build_mib": rss_build,
        "step_ms": {},
    }
    rng = np.random.default_rng(0)
    for batch in BATCHES:
        demand = sample_network_demand(net, rng, batch, STEPS)
        orders = rng.uniform(0.0, 1.0, size=(STEPS, batch, net.n_edges)) * net.max_order
        state = initial_state(net, batch)
        times = []
        for t in range(STEPS):
            s0 = time.perf_counter()
            state, _ = step(net, state, orders[t], demand[:, t])
            times.append(time.perf_counter() - s0)
        out["step_ms"][str(batch)] = 1e3 * statistics.median(times)
    out["peak_rss_mib"] = peak_rss_mib()
    return out


def run(n_nodes: int = 10_000) -> dict:
    """:func:`measure` in a fresh Python process (so the peak memory is the build's own)."""
    code = f"import json, sys; sys.path.insert(0, {str(__file__.rsplit('/', 1)[0])!r}); "
    code += f"from large_network import measure; print(json.dumps(measure({int(n_nodes)})))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    res = json.loads(done.stdout.strip().splitlines()[-1])
    res["build_met"] = res["build_s"] < TARGET_BUILD_S and res["peak_rss_build_mib"] < TARGET_BUILD_MIB
    return res


def report(res: dict) -> None:
    steps = ", ".join(f"B={b}: {ms:.1f} ms" for b, ms in res["step_ms"].items())
    print(f"\nLarge network ({res['nodes']:,} nodes, {res['edges']:,} edges, incidence: {res['incidence']})")
    print(
        f"  build {res['build_s']:.1f} s (generate {res['generate_s']:.1f}, "
        f"validate {res['validate_s']:.1f}, compile {res['compile_s']:.1f}); "
        f"peak RSS of the build process {res['peak_rss_build_mib']:.0f} MiB "
        f"(interpreter and imports {res['rss_before_build_mib']:.0f} MiB)"
    )
    print(f"  sim.step median: {steps}")
    print(
        f"  target: build < {TARGET_BUILD_S:.0f} s and < {TARGET_BUILD_MIB:.0f} MiB: "
        f"{'met' if res['build_met'] else 'NOT met'} (before: 82 s, 16 GB)"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--nodes", type=int, default=10_000)
    p.add_argument("--json", metavar="PATH")
    args = p.parse_args(argv)
    res = run(args.nodes)
    report(res)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(res, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
