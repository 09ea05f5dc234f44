"""``dialogue-gym play``: talk with an agent, or be the agent with the simulated user."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..domains import env_ids
from .common import with_llm


def run(args: argparse.Namespace) -> int:
    """A person talks with an agent (--as user) or with the simulator (--as agent)."""
    from ..play import play_as_agent, play_as_user

    if args.as_ == "agent":
        return play_as_agent(args.env, args.seed, args.out, args.max_turns)
    agent = with_llm(args.agent, args.llm, args.no_cache)
    return play_as_user(args.env, agent, args.seed, args.out, args.max_turns)


def add_parser(sub: Any) -> None:
    """Add the subcommand to ``sub`` (the CLI's subparsers)."""
    pl = sub.add_parser("play", help="talk with an agent or with the simulated user")
    pl.add_argument("--env", required=True, choices=env_ids())
    pl.add_argument(
        "--as",
        dest="as_",
        required=True,
        choices=("user", "agent"),
        help="user: you are the persuadee/help-seeker; agent: you talk to the simulator",
    )
    pl.add_argument("--agent", default="scripted", help="the agent you talk to (--as user)")
    pl.add_argument("--llm", default=None, help="chat backend of an LLM agent")
    pl.add_argument("--no-cache", action="store_true", help="do not use the completion cache")
    pl.add_argument("--seed", type=int, default=0)
    pl.add_argument("--max-turns", type=int, default=10)
    pl.add_argument("--out", type=Path, default=Path("transcript.json"))
    pl.set_defaults(func=run)
