"""``invmgmt-marl serve`` (the HTTP server) and ``invmgmt-marl grade`` (grade a profit or a policy).

``serve`` runs :func:`invmgmt_marl.server.create_app` under uvicorn (the ``server`` extra);
``grade --task NAME --profit X`` grades a team profit on the task's seed, ``grade --task NAME --policy
NAME`` first plays a registered policy (``baseline``: the task's own baseline) on that demand path.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from rich.console import Console
from rich.markup import escape

from invmgmt_marl.cli._common import (
    HelpFormatter,
    finite_float,
    has_module,
    nonnegative_int,
    positive_float,
    positive_int,
)

__all__ = ["add_parsers", "run_grade", "run_serve"]

SERVER_INSTALL = "pip install 'invmgmt-marl[server]'"


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "serve",
        help="serve episodes of any scenario and the graded tasks over HTTP (FastAPI + uvicorn)",
        description="Serve episodes over HTTP: POST /reset, POST /step, GET /state, GET /tasks, "
        "POST /grader, GET /baseline, GET /web; OpenAPI docs at /docs (docs/server.md).",
        formatter_class=HelpFormatter,
    )
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (0.0.0.0: every interface)")
    p.add_argument("--port", type=positive_int, default=8000, help="TCP port")
    p.add_argument("--max-sessions", type=positive_int, default=64, help="live episodes at once")
    p.add_argument(
        "--idle-timeout", type=positive_float, default=600.0, help="seconds before an idle session is dropped"
    )
    p.add_argument("--max-body", type=positive_int, default=1_000_000, help="largest request body, in bytes")
    p.set_defaults(handler=run_serve)

    g = sub.add_parser(
        "grade",
        help="grade a team profit (or a policy's episode) on a task: floor, ceiling, grade in [0, 1]",
        description="Grade on a task: clamp((profit - floor) / (ceiling - floor), 0, 1); floor = a "
        "passive agent, ceiling = the perfect-information LP where it models the scenario, else a baseline "
        "reference.",
        formatter_class=HelpFormatter,
    )
    g.add_argument("--task", help="task name (see --list)")
    what = g.add_mutually_exclusive_group()
    what.add_argument(
        "--profit", type=finite_float, help="the episode's team profit (minus cost if cost-only)"
    )
    what.add_argument(
        "--policy", help="play this registered policy ('baseline': the task's baseline) and grade it"
    )
    what.add_argument("--list", action="store_true", help="list the tasks and exit")
    g.add_argument("--seed", type=nonnegative_int, default=None, help="demand seed (default: the task's)")
    g.add_argument("--json", action="store_true", help="print the grade as JSON")
    g.set_defaults(handler=run_grade)


def run_serve(args: argparse.Namespace, console: Console) -> int:
    if not (has_module("fastapi") and has_module("uvicorn")):
        raise ImportError(f"serve needs FastAPI and uvicorn: {SERVER_INSTALL}")
    import uvicorn

    from invmgmt_marl.server import Settings, create_app

    settings = Settings(
        max_sessions=args.max_sessions, idle_timeout=args.idle_timeout, max_body_bytes=args.max_body
    )
    console.print(escape(f"serving on http://{args.host}:{args.port} (docs at /docs, page at /web)"))
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info")
    return 0


def run_grade(args: argparse.Namespace, console: Console) -> int:
    from invmgmt_marl.tasks import TASKS, baseline_profit, get_task, grade, task_network, trajectory_profit

    if args.list:
        for t in TASKS.values():
            console.print(escape(f"{t.name}: {t.description} (scenario {t.scenario}, seed {t.seed})"))
        return 0
    if args.task is None:
        raise ValueError("--task: give a task name (invmgmt-marl grade --list shows them)")
    task = get_task(args.task, field="--task")
    if args.profit is not None:
        profit = float(args.profit)
    elif args.policy is not None:
        if args.policy == "baseline":
            profit = baseline_profit(task, args.seed)
        else:
            from invmgmt_marl.cli._common import build_policy
            from invmgmt_marl.rollout import rollout

            net = task_network(task)
            seed = task.seed if args.seed is None else args.seed
            policy = build_policy(args.policy, net, {}, flag="--policy")
            if net.product_axis:  # rollout has no product axis: the retail runner plays the env's episode
                from invmgmt_marl.policies.retail import run_retail

                profit = float(run_retail(net, policy, [seed]).profit[0])
            else:
                profit = trajectory_profit(net, rollout(net, policy, episodes=1, seed=seed, keep="sum"))
    else:
        raise ValueError("grade: give --profit X, --policy NAME or --list")
    g = grade(task, profit, args.seed)
    if args.json:
        console.print_json(json.dumps(g.to_dict()))
        return 0
    console.print(
        escape(
            f"task {g.task} (seed {g.seed}): profit {g.profit:.2f}, floor {g.floor:.2f}, "
            f"{g.top_kind} {g.top:.2f} [{g.top_method}] -> grade {g.grade:.4f}"
        )
    )
    return 0
