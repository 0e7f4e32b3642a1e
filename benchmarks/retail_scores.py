"""Profit and grade of the retail baselines on the retail tasks (the table in docs/retail.md).

    python benchmarks/retail_scores.py              # seeds 0-4 of every retail task (~10 s)
    python benchmarks/retail_scores.py --seeds 0 1  # other seeds

For each task and seed: the floor (the passive agent that never buys), the retail heuristic with
safety 1, the tuned retail heuristic (the task's baseline; tuned on seeds 10,000-10,015, never a graded
one) and the top of the scale (the task's ceiling: the retail LP bound of invmgmt_marl.bounds.retail;
the column says "reference" if a seed fell back to the baseline), then the means over seeds. Grades are
``clamp((profit - floor) / (top - floor), 0, 1)``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's package, not an installed one

from invmgmt_marl.policies.retail import RetailHeuristic, run_retail  # noqa: E402
from invmgmt_marl.tasks import baseline_profit, ceiling, floor, get_task, grade, task_network  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    args = ap.parse_args(argv)
    out = sys.stdout
    out.write("| task | floor | heuristic (grade) | tuned heuristic (grade) | top of the scale |\n")
    out.write("|---|---:|---:|---:|---:|\n")
    for name in ("retail_easy", "retail_medium", "retail_hard"):
        task = get_task(name)
        net = task_network(task)
        rows, kinds = [], set()
        for s in args.seeds:
            low, top = floor(task, s), ceiling(task, s)
            kinds.add(top.kind)
            plain = float(run_retail(net, RetailHeuristic(), [s]).profit[0])
            tuned = baseline_profit(task, s)
            rows.append(
                (low, plain, grade(task, plain, s).grade, tuned, grade(task, tuned, s).grade, top.value)
            )
        m = np.mean(np.array(rows), axis=0)
        out.write(
            f"| {name} | {m[0]:,.0f} | {m[1]:,.0f} ({m[2]:.3f}) | {m[3]:,.0f} ({m[4]:.3f}) "
            f"| {m[5]:,.0f} ({' / '.join(sorted(kinds))}) |\n"
        )
    out.write(f"\nmeans over seeds {args.seeds}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
