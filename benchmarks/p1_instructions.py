"""Instruction counts of the one-product hot paths, for before/after comparisons on a noisy machine.

Timings on the shared 2-core machine vary by 10-40 %; instruction counts under valgrind's callgrind
repeat within 0.2 % (two runs of 5d66b24 differed by 0.11 % and 0.04 % on the env segments, under
0.01 % on the sim segments). Each segment: a warm-up, ``os.getppid()`` (callgrind zeroes its counters
there), the measured steps, ``os.getpgrp()`` (callgrind dumps there). Dumps, in order: 1 ParallelEnv
serial x 200 steps, 2 ParallelEnv net_2x3 x 200, 3 ``sim.step`` serial at B=4096 x 20, 4 ``sim.step``
net_2x3 at B=4096 x 20. Run it from the root of each checkout to compare (a few minutes of CPU each):

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=. valgrind --tool=callgrind --zero-before=os_getppid \
        --dump-before=os_getpgrp --callgrind-out-file=cg.out python benchmarks/p1_instructions.py
    grep -m1 summary cg.out.1 cg.out.2 cg.out.3 cg.out.4

Without valgrind it just runs the segments (a quick check that it works).

Measured (issue 10: P = 1 must stay within 10 %), millions of instructions per segment, at 192dd8a
(before the product axis) / 7cb02a6 (the start of the round that added cash, liquidation, pricing and
modes) / 5d66b24 (main after it), and main against 192dd8a:

| segment | 192dd8a | 7cb02a6 | 5d66b24 | main / before |
|---|---|---|---|---|
| env serial, 200 steps | 129.09 | 130.29 | 133.22 | +3.2 % |
| env net_2x3, 200 steps | 159.18 | 161.55 | 166.15 | +4.4 % |
| sim serial, B=4096, 20 steps | 237.22 | 239.55 | 243.34 | +2.6 % |
| sim net_2x3, B=4096, 20 steps | 642.62 | 646.65 | 654.13 | +1.8 % |

From 7cb02a6 to 5d66b24, 97 % of the sim increase at B=4096 is zeroing the five cash / liquidation
ledger rows in ``sim.step`` (numpy's scalar fill); in the env, the per-agent infos carry five more
ledger fields.
"""

import os

import numpy as np

import invmgmt_marl
from invmgmt_marl.compile import compile_network
from invmgmt_marl.demand import sample_network_demand
from invmgmt_marl.sim import initial_state, step


def env_segment(name, n):
    env = invmgmt_marl.parallel_env(name)
    rng = np.random.default_rng(0)
    acts = [
        {
            a: rng.uniform(env.action_space(a).low, env.action_space(a).high).astype(np.float32)
            for a in env.possible_agents
        }
        for _ in range(env.net.periods)
    ]

    def go(k):
        env.reset(seed=0)
        t = 0
        for _ in range(k):
            _, _, term, trunc, _ = env.step(acts[t])
            t += 1
            if any(trunc.values()) or any(term.values()):
                env.reset(seed=0)
                t = 0

    go(20)
    os.getppid()
    go(n)
    os.getpgrp()


def sim_segment(name, n, B=4096):
    net = compile_network(invmgmt_marl.load_scenario(name))
    rng = np.random.default_rng(0)
    T = net.periods
    demand = sample_network_demand(net, rng, B, T)
    orders = rng.uniform(0, 20, size=(8, B, net.edge_src.shape[0]))

    def go(k):
        state = initial_state(net, B)
        for i in range(k):
            state, led = step(net, state, orders[i % 8], demand[:, i % T])

    go(3)
    os.getppid()
    go(n)
    os.getpgrp()


env_segment("serial", 200)
env_segment("net_2x3", 200)
sim_segment("serial", 20)
sim_segment("net_2x3", 20)
