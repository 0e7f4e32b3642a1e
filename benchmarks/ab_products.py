"""Before/after product figures of two source trees in one run, interleaved (a busy machine slows both alike).

    git archive <commit> | tar -x -C /tmp/base      # the "before" tree
    python benchmarks/ab_products.py --base /tmp/base [--rounds 3]

Each round runs one child process per tree (base first, then this tree) that measures, on
``sku2000_3w``: the ParallelEnv with SKU agents (agent-steps/s, median of 5 episodes), ``reset()``
(median of 7), and ``sim.step`` at batches 1, 4 and 16 (agent-steps/s, median of 5 episodes of 20
periods). The report gives, per figure and tree, the median over rounds. Times are the process's CPU
time (``time.process_time``), not wall time: on a shared machine, time the process waits for a core
does not count, so the figures are close to what a quiet machine gives (they still share caches).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import json, statistics, time
clock = time.process_time  # CPU time: other jobs on a busy machine do not count (they still share caches)
import numpy as np
import invmgmt_marl
from invmgmt_marl.compile import compile_network
from invmgmt_marl.demand import sample_network_demand
from invmgmt_marl.sim import initial_state, step

out = {"package": invmgmt_marl.__file__}
env = invmgmt_marl.parallel_env("sku2000_3w", agents="node_product")
env.reset(seed=0)
rng = np.random.default_rng(0)
pool = [
    {a: rng.uniform(env.action_space(a).low, env.action_space(a).high).astype(np.float32)
     for a in env.possible_agents}
    for _ in range(4)
]
T, A = env.net.periods, len(env.possible_agents)
def episode():
    env.reset()
    for t in range(T):
        env.step(pool[t % 4])
episode()
rates = []
for _ in range(5):
    t0 = clock(); episode(); rates.append(T * A / (clock() - t0))
out["env_agent_steps_per_s"] = statistics.median(rates)
resets = []
for _ in range(7):
    t0 = clock(); env.reset(); resets.append(clock() - t0)
out["reset_ms"] = 1e3 * statistics.median(resets)
net = compile_network(invmgmt_marl.load_scenario("sku2000_3w"))
P, periods = net.n_products, 20
for batch in (1, 4, 16):
    orders = rng.uniform(0.0, 1.0, size=(periods, batch, P, net.n_edges)) * net.max_order
    demand = sample_network_demand(net, rng, batch, periods)
    rates = []
    for _ in range(5):
        t0 = clock()
        state = initial_state(net, batch)
        for t in range(periods):
            state, _ = step(net, state, orders[t], demand[:, t])
        rates.append(periods * batch * P * net.n_nodes / (clock() - t0))
    out[f"sim_B{batch}_agent_steps_per_s"] = statistics.median(rates)
print(json.dumps(out))
"""


def child(tree: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, check=True, env=env, cwd=tree
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base", required=True, help="the 'before' source tree (holds invmgmt_marl/)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--json", metavar="PATH")
    args = p.parse_args(argv)
    trees = {"before": Path(args.base).resolve(), "after": Path(__file__).resolve().parent.parent}
    runs: dict[str, list[dict]] = {k: [] for k in trees}
    for _ in range(args.rounds):
        for k, tree in trees.items():
            runs[k].append(child(tree))
    for k in trees:
        print(f"{k}: {runs[k][0]['package']}")
    keys = [k for k in runs["after"][0] if k != "package"]
    print(f"load average at the end: {os.getloadavg()[0]:.1f}; medians over {args.rounds} rounds")
    print(f"{'figure':34s} {'before':>14s} {'after':>14s} {'ratio':>7s}")
    med = {k: {f: statistics.median(r[f] for r in runs[k]) for f in keys} for k in trees}
    for f in keys:
        b, a = med["before"][f], med["after"][f]
        print(f"{f:34s} {b:14,.1f} {a:14,.1f} {a / b:7.2f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"runs": runs, "medians": med}, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
