"""Reproduce the reference figures of Liu et al. (2022) on the serial chain with tuned baselines.

Liu et al. report, on their serial environment over 20 test episodes (cost per agent-period):

- stationary Poisson(10) demand: a tuned order-up-to rule, 6.62;
- Merton jump-diffusion demand: an order-up-to rule that follows the last demand, 13.09, and static
  order-up-to levels, 32.98.

Here each rule is tuned on fresh training paths (64, seed 123, ``invmgmt_marl.policies.tune``, cached)
and evaluated both on the published test files (``../shared/datasets/liu2022``, when present) and on
our own freshly drawn 20-episode test set (seed 2022 by default), with the perfect-information bound
of every test path and the gap to it.

    python benchmarks/liu_reference.py                          # print the table
    python benchmarks/liu_reference.py --doc docs/benchmark.md  # also write it into the doc's Liu section
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from invmgmt_marl.evaluate import evaluate, resolve_network
from invmgmt_marl.policies import tune

REPO = Path(__file__).resolve().parents[1]
LIU_DIR = (REPO / ".." / "shared" / "datasets" / "liu2022").resolve()
START, END = "<!-- liu-reference:start -->", "<!-- liu-reference:end -->"
STATIONARY = {"process": "poisson", "mean": 10}


@dataclass(frozen=True)
class Case:
    """One comparison: a demand setting, Liu's figure, and our tuned policy family."""

    setting: str
    liu_rule: str
    liu: float | None  # Liu et al.'s cost per agent-period, None for our extra rows
    kind: str
    options: dict[str, Any] = field(default_factory=dict)
    demand: dict[str, Any] | None = None  # scenario demand override (None: serial's Merton)
    published: str = ""  # folder of the published test files

    @property
    def ours(self) -> str:
        opts = ", ".join(f"{k}={v}" for k, v in self.options.items())
        return f"{self.kind}" + (f" ({opts})" if opts else "")


CASES: tuple[Case, ...] = (
    Case(
        "stationary Poisson(10)",
        "tuned order-up-to",
        6.62,
        "echelon_base_stock",
        demand=STATIONARY,
        published="test_demand_stationary",
    ),
    Case(
        "stationary Poisson(10)",
        "(extra)",
        None,
        "base_stock",
        demand=STATIONARY,
        published="test_demand_stationary",
    ),
    Case(
        "Merton",
        "order-up-to following the last demand",
        13.09,
        "forecast_order_up_to",
        {"signal": "demand"},
        published="test_demand_merton",
    ),
    Case("Merton", "static order-up-to levels", 32.98, "echelon_base_stock", published="test_demand_merton"),
    Case("Merton", "(extra)", None, "base_stock", published="test_demand_merton"),
)


def run(
    train_episodes: int, train_seed: int, test_episodes: int, test_seed: int, progress: bool
) -> list[dict[str, Any]]:
    """Tune and evaluate every case; one row per case with both test sets."""
    if train_seed == test_seed:
        raise ValueError(f"train_seed: must differ from test_seed ({test_seed}), got {train_seed}")
    rows = []
    for case in CASES:
        net = resolve_network("serial", demand=case.demand)
        t0 = time.perf_counter()
        tuned = tune(
            net,
            case.kind,
            episodes=train_episodes,
            seed=train_seed,
            progress=progress,
            cache=True,
            **case.options,
        )
        policy = tuned.policy(net)
        row: dict[str, Any] = {
            "setting": case.setting,
            "liu_rule": case.liu_rule,
            "liu": case.liu,
            "ours": case.ours,
            "params": tuned.params,
            "train": tuned.cost_per_agent_period,
            "tune_seconds": time.perf_counter() - t0,
        }
        fresh = evaluate(policy, net, episodes=test_episodes, seed=test_seed, keep_trajectory=False)
        row["fresh"] = _numbers(fresh.summary())
        published = LIU_DIR / case.published
        if published.is_dir():
            pub = evaluate(policy, net, demand=published, seed=test_seed, keep_trajectory=False)
            row["published"] = _numbers(pub.summary())
        else:
            row["published"] = None
        rows.append(row)
    return rows


def _numbers(s: dict[str, Any]) -> dict[str, Any]:
    return {
        "cost": s["cost"]["per_agent_period"],
        "stderr": s["cost"]["stderr_per_agent_period"],
        "bound": s["bound"]["per_agent_period"],
        "gap": s["bound"]["gap"],
        "fill_rate": s["system_fill_rate"],
        "bullwhip_cv": list(s["bullwhip"]["cv"].values()),
        "episodes": s["episodes"],
    }


def _fmt(v: float | None, spec: str = "{:.2f}") -> str:
    return "–" if v is None or (isinstance(v, float) and not math.isfinite(v)) else spec.format(v)


COLUMNS = (
    "setting",
    "Liu et al. rule",
    "Liu et al.",
    "ours (tuned)",
    "published files: cost (± s.e.)",
    "bound",
    "gap",
    "fresh test set: cost (± s.e.)",
    "bound",
    "gap",
)


def _cells(r: dict[str, Any]) -> list[str]:
    out = [r["setting"], r["liu_rule"], _fmt(r["liu"]), r["ours"]]
    for key in ("published", "fresh"):
        x = r[key]
        if x is None:
            out += ["not found", "–", "–"]
        else:
            out += [f"{x['cost']:.2f} ± {x['stderr']:.2f}", _fmt(x["bound"]), _fmt(x["gap"], "{:.0%}")]
    return out


def markdown(
    rows: list[dict[str, Any]],
    command: str,
    test_episodes: int,
    test_seed: int,
    train_episodes: int,
    train_seed: int,
) -> str:
    lines = [
        START,
        "## Liu et al. (2022) reference figures, serial chain",
        "",
        f"Regenerate with: `{command}`",
        "",
        "Cost per agent-period (team cost / 3 agents / 200 periods), mean over 20 test episodes. "
        "Liu et al.'s",
        "figures are from their own environment; ours are tuned on "
        f"{train_episodes} fresh training paths (seed {train_seed}) and evaluated on the",
        "published test files (`test_demand_stationary`, `test_demand_merton`) and on our own "
        f"{test_episodes} "
        f"freshly drawn paths (seed {test_seed}).",
        'Stationary demand is `load_scenario("serial", demand={"process": "poisson", "mean": 10})`. '
        "Bound: the perfect-information",
        "linear program on each test path; gap = (cost - bound) / bound. Rows marked (extra) have "
        "no Liu et al. "
        "counterpart.",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "|".join(["---"] * 2 + ["---:"] + ["---"] + ["---:"] * 6) + "|",
    ]
    for r in rows:
        lines.append("| " + " | ".join(_cells(r)) + " |")
    lines += ["", "Tuned parameters:", ""]
    for r in rows:
        params = ", ".join(f"`{k}` {v:g}" for k, v in r["params"].items())
        lines.append(f"- {r['setting']}, {r['ours']}: {params} (training cost {r['train']:.2f})")
    lines.append(END)
    return "\n".join(lines) + "\n"


def write_doc(doc: Path, section: str) -> None:
    """Replace the Liu section of ``doc`` (between the markers), or append it."""
    text = doc.read_text(encoding="utf-8") if doc.exists() else ""
    if START in text and END in text:
        text = text[: text.index(START)] + section.rstrip("\n") + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + section
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--train-episodes", type=int, default=64)
    p.add_argument("--train-seed", type=int, default=123)
    p.add_argument("--episodes", type=int, default=20, help="fresh test paths")
    p.add_argument("--seed", type=int, default=2022, help="seed of the fresh test set")
    p.add_argument("--doc", help="markdown file whose Liu section to write (e.g. docs/benchmark.md)")
    p.add_argument("--json", help="also write the rows as JSON")
    args = p.parse_args(argv)
    console = Console()
    if not LIU_DIR.is_dir():
        console.print(f"[yellow]note:[/yellow] {LIU_DIR} not found: published-file columns are left empty")
    rows = run(args.train_episodes, args.train_seed, args.episodes, args.seed, progress=console.is_terminal)
    table = Table(title="Liu et al. (2022) serial chain: cost per agent-period (published files | fresh set)")
    for c in (
        "setting",
        "Liu rule",
        "Liu",
        "ours (tuned)",
        "published",
        "bound",
        "gap",
        "fresh",
        "bound",
        "gap",
    ):
        table.add_column(c, justify="left" if c in ("setting", "Liu rule", "ours (tuned)") else "right")
    for r in rows:
        table.add_row(*(escape(c) for c in _cells(r)))
    console.print(table)
    command = (
        f"python benchmarks/liu_reference.py --train-episodes {args.train_episodes} --train-seed "
        f"{args.train_seed} --episodes {args.episodes} --seed {args.seed}"
        + (f" --doc {args.doc}" if args.doc else "")
    )
    if args.doc:
        write_doc(
            Path(args.doc),
            markdown(rows, command, args.episodes, args.seed, args.train_episodes, args.train_seed),
        )
        console.print(f"wrote the Liu et al. section of {args.doc}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
