"""Play one episode of a scenario with a language model deciding every order.

The model is any OpenAI-compatible chat server, named by environment variables:

    OPENAI_BASE_URL   e.g. http://localhost:8000/v1 (a local vLLM / llama.cpp / Ollama server) or
                      https://api.openai.com/v1
    OPENAI_MODEL      the model name the server knows
    OPENAI_API_KEY    sent as a bearer token (optional for local servers)

    python examples/llm_agent.py --scenario serial --periods 20 --seed 0

Each period the model reads the state as text (invmgmt_marl.llm.observation_text) and answers with a
JSON object of orders (invmgmt_marl.llm.action_schema); a reply that does not parse is sent back once
with the error, then the period orders nothing. Prints the episode's cost and the number of periods
that fell back.
"""

from __future__ import annotations

import argparse
import os
import sys

import invmgmt_marl
from invmgmt_marl.llm import ChatAgent, openai_chat, play_episode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default="serial")
    parser.add_argument("--periods", type=int, default=20, help="episode length (each period is one call)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--history", type=int, default=4, help="earlier turns kept in the prompt")
    args = parser.parse_args(argv)
    base_url, model = os.environ.get("OPENAI_BASE_URL"), os.environ.get("OPENAI_MODEL")
    if not base_url or not model:
        print(
            "set OPENAI_BASE_URL and OPENAI_MODEL (and OPENAI_API_KEY if the server needs one)",
            file=sys.stderr,
        )
        return 2
    chat = openai_chat(base_url, model, os.environ.get("OPENAI_API_KEY"))
    env = invmgmt_marl.parallel_env(args.scenario, periods=args.periods, action_type="box")
    result = play_episode(env, ChatAgent(chat, history=args.history), seed=args.seed)
    print(
        f"{args.scenario}: {result.periods} periods, total cost {result.total_cost:.2f}, "
        f"revenue {result.revenue:.2f}, periods without a valid answer {result.failures}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
