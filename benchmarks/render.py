"""Milliseconds per rgb frame (invmgmt_marl.frames.render_frame) for every shipped scenario.

    python benchmarks/render.py [--frames 30]

Prints, per scenario: the frame size, the first call (draws and caches the static diagram) and the
median over the following frames of a base-stock episode (background restored, gauges and numbers
drawn). The issue's target: well under 100 ms per frame.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import invmgmt_marl  # noqa: E402
from invmgmt_marl.compile import compile_network
from invmgmt_marl.demand import sample_network_demand  # noqa: E402
from invmgmt_marl.frames import render_frame  # noqa: E402
from invmgmt_marl.policies import make_policy  # noqa: E402
from invmgmt_marl.sim import initial_state, step  # noqa: E402
from invmgmt_marl.sim.supply import sample_supply  # noqa: E402


def frame_times(name: str, frames: int = 30) -> dict:
    """Frame size, first-call ms and median / p90 ms per frame of a base-stock episode of ``name``."""
    net = compile_network(invmgmt_marl.load_scenario(name))
    policy = make_policy("base_stock", net)
    rng = np.random.default_rng(0)
    demand = sample_network_demand(net, rng, 1, net.periods)
    supply = sample_supply(net, rng, 1, net.periods)  # None unless lead times or supply are uncertain
    state = initial_state(net)
    t0 = time.perf_counter()
    frame = render_frame(net, state)
    first = 1000 * (time.perf_counter() - t0)
    times = []
    for t in range(min(frames, net.periods)):
        orders = np.clip(policy(net, state, rng), 0.0, net.max_order)
        state, ledger = step(net, state, orders, demand[:, t], None if supply is None else supply.at(t))
        t0 = time.perf_counter()
        render_frame(net, state, ledger)
        times.append(1000 * (time.perf_counter() - t0))
    h, w = frame.shape[:2]
    return {
        "scenario": name,
        "height": int(h),
        "width": int(w),
        "first_ms": first,
        "median_ms": float(np.median(times)),
        "p90_ms": float(np.percentile(times, 90)),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--frames", type=int, default=30)
    args = ap.parse_args()
    print(f"{'scenario':<20}{'frame (H x W)':>16}{'first call ms':>15}{'median ms':>11}{'p90 ms':>9}")
    for name in invmgmt_marl.list_scenarios():
        r = frame_times(name, args.frames)
        size = f"{r['height']} x {r['width']}"
        print(f"{name:<20}{size:>16}{r['first_ms']:>15.0f}{r['median_ms']:>11.1f}{r['p90_ms']:>9.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
