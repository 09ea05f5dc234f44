"""``dialogue-gym demo``: one transcript, then random vs scripted vs oracle on both envs."""

from __future__ import annotations

import argparse
from typing import Any

from ..domains import env_ids


def run(args: argparse.Namespace) -> int:
    """One transcript, then random vs scripted vs oracle on both envs."""
    import gymnasium as gym

    from ..agents.registry import make_agent
    from ..comparison import format_table
    from ..evaluation import evaluate
    from ..rollout import play_episode

    env = gym.make("Persuasion-v0", render_mode="ansi")
    result = play_episode(env, make_agent("scripted", "persuasion"), seed=args.seed)
    print("One Persuasion-v0 episode, scripted agent:\n")
    print(env.render())
    print(f"\n-> donation ${result.reward:.2f} ({result.end_reason})\n")
    results = [
        evaluate(name, env_id, args.episodes, args.seed)
        for env_id in env_ids()
        for name in ("random", "scripted", "oracle")
    ]
    print(format_table(results))
    return 0


def add_parser(sub: Any) -> None:
    """Add the subcommand to ``sub`` (the CLI's subparsers)."""
    d = sub.add_parser("demo", help="a transcript and a random/scripted/oracle comparison")
    d.add_argument("--episodes", type=int, default=300, help="episodes per env and agent")
    d.add_argument("--seed", type=int, default=0, help="first episode seed")
    d.set_defaults(func=run)
