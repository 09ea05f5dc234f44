"""``dialogue-gym generate``: a simulated dataset (resumable JSONL)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..domains import env_ids
from ..errors import InvalidInput
from .common import add_backend_args, backend_of, env_kwargs_of, with_llm


def run(args: argparse.Namespace) -> int:
    """Generate (or finish) a simulated dataset."""
    from ..agents.registry import is_privileged
    from ..generate import generate

    if args.simulator != "embedded" and is_privileged(args.agent):
        raise InvalidInput(f"agent {args.agent!r} reads the hidden persona: embedded only")
    summary = generate(
        args.env,
        with_llm(args.agent, args.llm, args.no_cache),
        args.episodes,
        args.out,
        seed=args.seed,
        concurrency=args.concurrency,
        backend=backend_of(args),
        **env_kwargs_of(args),
    )
    print(summary)
    return 130 if summary.interrupted else 0


def add_parser(sub: Any) -> None:
    """Add the subcommand to ``sub`` (the CLI's subparsers)."""
    g = sub.add_parser("generate", help="generate a simulated dataset (resumable JSONL)")
    g.add_argument("--env", required=True, choices=env_ids())
    g.add_argument("--agent", required=True, help="registered agent spec, e.g. human-like")
    g.add_argument("--episodes", type=int, required=True)
    g.add_argument("--out", type=Path, required=True, help="the JSONL file (appended to)")
    g.add_argument("--seed", type=int, default=0, help="seed of episode 0 (episode i: seed+i)")
    g.add_argument(
        "--concurrency",
        type=int,
        default=1,
        help="worker processes (embedded) or threads (LLM simulator)",
    )
    g.add_argument("--max-turns", type=int, default=10)
    g.add_argument("--simulator", default="embedded", choices=("embedded", "llm"))
    g.add_argument("--llm", default=None, help="chat backend for an LLM user or agent")
    g.add_argument("--no-cache", action="store_true", help="do not use the completion cache")
    add_backend_args(g)
    g.set_defaults(func=run)
