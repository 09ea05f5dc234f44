"""``dialogue-gym evaluate``: an agent's returns, success and normalized score on an env."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from ..domains import env_ids
from ..errors import InvalidInput
from .common import add_backend_args, backend_of, with_llm


def run(args: argparse.Namespace) -> int:
    """Evaluate one agent on one env; print the table, optionally save JSON."""
    started = time.time()
    from ..agents.registry import is_privileged
    from ..comparison import format_table
    from ..domains import env_domain
    from ..evaluation import evaluate

    env_kwargs: dict = {"max_turns": args.max_turns}
    if args.simulator != "embedded":
        if is_privileged(args.agent):
            raise InvalidInput(f"agent {args.agent!r} reads the hidden persona: embedded only")
        if args.llm is None:
            raise InvalidInput("--simulator llm needs --llm SPEC (e.g. local:smollm2)")
        env_kwargs.update(simulator=args.simulator, llm=args.llm, llm_cache=not args.no_cache)
    judge = None
    if args.judge:
        from ..llm.judge import LLMJudge

        judge = LLMJudge(env_domain(args.env), args.judge, cache=not args.no_cache)
    result = evaluate(
        with_llm(args.agent, args.llm, args.no_cache),
        args.env,
        args.episodes,
        args.seed,
        out=args.out,
        oracle=not args.no_oracle,
        keep_transcripts=args.transcripts,
        concurrency=args.concurrency,
        judge=judge,
        backend=backend_of(args),
        **env_kwargs,
    )
    print(format_table([result]))
    s = result.summary
    print(
        f"wall time {time.time() - started:.1f} s: the agent's episodes {s['wall_time_s']:.1f} s, "
        f"the reference runs {s.get('reference_time_s', 0):.1f} s, the rest loading models and "
        "the reader"
    )
    if args.out:
        print(f"saved {args.out}")
    return 0


def add_parser(sub: Any) -> None:
    """Add the subcommand to ``sub`` (the CLI's subparsers)."""
    e = sub.add_parser("evaluate", help="evaluate an agent on an environment")
    e.add_argument("--env", required=True, choices=env_ids())
    e.add_argument("--agent", required=True, help="registered agent, e.g. scripted:noise=0.2")
    e.add_argument("--episodes", type=int, default=100)
    e.add_argument("--seed", type=int, default=0, help="first episode seed")
    e.add_argument("--max-turns", type=int, default=10)
    e.add_argument("--simulator", default="embedded", choices=("embedded", "llm"))
    e.add_argument(
        "--llm",
        default=None,
        help="chat backend for an LLM user or agent: "
        "local:smollm2 | openai:MODEL | http://HOST:PORT/v1#MODEL | hf:PATH",
    )
    e.add_argument("--no-cache", action="store_true", help="do not use the completion cache")
    e.add_argument("--concurrency", type=int, default=1, help="episodes played at once")
    e.add_argument("--judge", default=None, help="backend spec of an LLM judge (optional)")
    e.add_argument("--out", type=Path, default=None, help="save the result as JSON")
    e.add_argument("--no-oracle", action="store_true", help="skip the fraction-of-oracle run")
    e.add_argument("--transcripts", action="store_true", help="keep transcripts in the JSON")
    add_backend_args(e)
    e.set_defaults(func=run)
