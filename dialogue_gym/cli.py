"""The ``dialogue-gym`` command line."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

DEFAULT_DATA = Path("../shared/data")


def _agent(name: str, domain: str):
    from .agents.oracle import OracleAgent
    from .agents.scripted import HUMAN_LIKE_NOISE, RandomAgent, ScriptedAgent

    agents = {
        "random": lambda: RandomAgent(domain),
        "scripted": lambda: ScriptedAgent(domain),
        "human-like": lambda: ScriptedAgent(domain, noise=HUMAN_LIKE_NOISE),
        "oracle": lambda: OracleAgent(domain),
    }
    if name not in agents:
        raise SystemExit(f"unknown agent {name!r}; allowed: {', '.join(agents)}")
    return agents[name]()


def cmd_demo(args: argparse.Namespace) -> int:
    """One transcript, then random vs scripted vs oracle on both envs."""
    import gymnasium as gym

    from .rollout import play_episode, play_episodes
    from .stats import fmt_ci, mean_ci

    env = gym.make("Persuasion-v0", render_mode="ansi")
    result = play_episode(env, _agent("scripted", "persuasion"), seed=args.seed)
    print("One Persuasion-v0 episode, scripted agent:\n")
    print(env.render())
    print(f"\n-> donation ${result.reward:.2f} ({result.end_reason})\n")
    rows = []
    for env_id, domain in (("Persuasion-v0", "persuasion"), ("Counseling-v0", "counseling")):
        env = gym.make(env_id)
        for name in ("random", "scripted", "oracle"):
            t = time.time()
            res = play_episodes(
                env,
                _agent(name, domain),
                range(args.seed, args.seed + args.episodes),
                progress=True,
                desc=f"{env_id} {name}",
            )
            rewards = [r.reward for r in res]
            rows.append(
                (env_id, name, fmt_ci(*mean_ci(rewards)), sum(r.turns for r in res) / len(res),
                 time.time() - t)
            )  # fmt: skip
    print(f"{'env':15s} {'agent':9s} {'mean return [95% CI]':26s} {'turns':>6s} {'secs':>6s}")
    for env_id, name, ci, turns, secs in rows:
        print(f"{env_id:15s} {name:9s} {ci:26s} {turns:6.1f} {secs:6.1f}")
    return 0


def cmd_sim_report(args: argparse.Namespace) -> int:
    """Run the simulator report."""
    from .simulators.report import main

    data = args.data if args.data.is_dir() else None
    if data is None:
        print(f"(no data at {args.data}: the P4G replay check is skipped)", file=sys.stderr)
    return main(args.episodes, args.seed, data, args.out)


def cmd_list(args: argparse.Namespace) -> int:
    """Print the registered environments, agents and simulators."""
    from . import ENV_IDS
    from .simulators import SIMULATORS

    print("environments:", ", ".join(ENV_IDS))
    print("agents:", "random, scripted, human-like, oracle")
    print("simulators:", ", ".join(SIMULATORS))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    p = argparse.ArgumentParser(prog="dialogue-gym", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    d = sub.add_parser("demo", help="a transcript and a random/scripted/oracle comparison")
    d.add_argument("--episodes", type=int, default=100, help="episodes per env and agent")
    d.add_argument("--seed", type=int, default=0, help="first episode seed")
    d.set_defaults(func=cmd_demo)
    r = sub.add_parser("sim-report", help="calibration, adaptivity, revelation, manipulation")
    r.add_argument("--episodes", type=int, default=500, help="episodes per env and agent")
    r.add_argument("--seed", type=int, default=100_000, help="first episode seed")
    r.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    r.add_argument("--out", type=Path, default=None, help="also write the report as JSON")
    r.set_defaults(func=cmd_sim_report)
    ls = sub.add_parser("list", help="environments, agents and simulators")
    ls.set_defaults(func=cmd_list)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``dialogue-gym`` console script."""
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
