"""Cost of ``validation.check_inputs`` per call next to one ``sim.step``, for small and large batches.

    python benchmarks/check_inputs.py

Prints microseconds per call (best of 5 repeats of many calls) and the check's share of a step.
"""

from __future__ import annotations

import timeit
from typing import Any

import numpy as np

from invmgmt_marl.compile import compile_network
from invmgmt_marl.scenario import load_scenario
from invmgmt_marl.sim import initial_state, step
from invmgmt_marl.validation import check_inputs


def per_call(fn: Any, args: tuple[Any, ...], number: int) -> float:
    """Best-of-5 seconds per call of ``fn(*args)``."""
    return min(timeit.repeat(lambda: fn(*args), number=number, repeat=5)) / number


def main() -> None:
    for scenario in ("serial", "divergent"):
        net = compile_network(load_scenario(scenario))
        for batch in (1, 1024):
            rng = np.random.default_rng(0)
            state = initial_state(net, batch)
            orders = rng.uniform(0, 10, size=(batch, net.n_edges))
            demand = rng.uniform(0, 10, size=(batch, net.n_stores))
            n = 20_000 if batch == 1 else 2_000
            chk = per_call(check_inputs, (net, orders, demand), n)
            stp = per_call(step, (net, state, orders, demand), n // 4)
            print(
                f"{scenario:10s} B={batch:5d}: check_inputs {chk * 1e6:7.2f} us, step {stp * 1e6:8.2f} us, "
                f"check / step {100 * chk / stp:5.1f}%"
            )


if __name__ == "__main__":
    main()
