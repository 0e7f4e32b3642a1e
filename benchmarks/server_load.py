"""Requests per second of the HTTP server under concurrent sessions, on localhost.

    python benchmarks/server_load.py [--sessions 20] [--steps 30] [--scenario divergent]

Starts uvicorn in a background thread on a free port, plays ``sessions`` episodes at once (one thread
and one HTTP connection each, random in-bounds orders), and prints the wall time, the step requests per
second and the median / 95th-percentile latency of a step.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import uvicorn

import invmgmt_marl
from invmgmt_marl.server import Settings, create_app
from invmgmt_marl.server.client import Client


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def play(url: str, scenario: str, seed: int, steps: int) -> list[float]:
    env = invmgmt_marl.parallel_env(scenario)
    steps = min(steps, env.net.periods)
    rng = np.random.default_rng(seed)
    lat = []
    with Client(url) as c:
        sid = c.reset(scenario=scenario, seed=seed)["session_id"]
        for _ in range(steps):
            act = {a: rng.uniform(0, env.action_space(a).high).tolist() for a in env.possible_agents}
            t0 = time.perf_counter()
            c.step(sid, act)
            lat.append(time.perf_counter() - t0)
        c.close_session(sid)
    return lat


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--scenario", default="divergent")
    args = ap.parse_args()
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(Settings(max_sessions=max(64, args.sessions))), port=port, log_level="warning"
        )
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    url = f"http://127.0.0.1:{port}"
    t0 = time.perf_counter()
    with ThreadPoolExecutor(args.sessions) as pool:
        lats = [
            x
            for lat in pool.map(lambda s: play(url, args.scenario, s, args.steps), range(args.sessions))
            for x in lat
        ]
    wall = time.perf_counter() - t0
    server.should_exit = True
    q = statistics.quantiles(lats, n=20)
    print(
        f"{args.sessions} sessions x {args.steps} steps of {args.scenario}: {wall:.2f} s wall, "
        f"{len(lats) / wall:.0f} steps/s, step latency median {statistics.median(lats) * 1e3:.1f} ms, "
        f"p95 {q[18] * 1e3:.1f} ms"
    )


if __name__ == "__main__":
    main()
