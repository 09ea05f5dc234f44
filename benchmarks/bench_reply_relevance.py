"""Do the simulated users' replies follow from what the agent said?

Scores every (agent turn, reply) pair with :mod:`dialogue_gym.simulators.relevance` (the original
all-MiniLM-L6-v2; a reply *follows* when it is closer to its own turn than a same-position reply
from another dialogue is; 0.5 means unrelated). Agents: the random, scripted and human-like
agents (template text) and, with ``--sensible``, the hand-written agents of
``agents/sensible/`` (text the reply wording was never written against). With
``--real DATA_DIR`` it scores real pairs the same way first (P4G and ESConv test dialogues), as
the reference.

Usage: ``python benchmarks/bench_reply_relevance.py [--episodes 300]
[--agents random,scripted,human-like] [--sensible] [--real ../shared/data]``
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import gymnasium as gym

import dialogue_gym  # noqa: F401  (registers the envs)
from dialogue_gym.agents.registry import make_agent
from dialogue_gym.agents.sensible import SENSIBLE_AGENTS
from dialogue_gym.rollout import play_episodes
from dialogue_gym.simulators.relevance import pairs_of, real_pairs, relevance

ENVS = {"Persuasion-v0": "persuasion", "Counseling-v0": "counseling"}


def main() -> None:
    """Generate episodes per env and agent, score every (agent turn, reply) pair, print shares."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--episodes", type=int, default=300)
    parser.add_argument("--agents", default="random,scripted,human-like")
    parser.add_argument("--sensible", action="store_true", help="also the hand-written agents")
    parser.add_argument("--shuffles", type=int, default=20)
    parser.add_argument("--env", choices=sorted(ENVS), help="one env only")
    parser.add_argument("--examples", type=int, default=2, help="worst pairs to print")
    parser.add_argument("--real", metavar="DATA_DIR", help="also score the real test dialogues")
    parser.add_argument("--seed", type=int, default=660_000, help="first episode seed")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores")
    for env_id, domain in ENVS.items():
        if args.env and env_id != args.env:
            continue
        if args.real:
            t = time.time()
            report(f"{env_id} real test dialogues", real_pairs(args.real, domain), domain, args, t)
        agents = [(a, make_agent(a, domain)) for a in args.agents.split(",") if a]
        if args.sensible:
            agents += [(cls.name.split("/")[-1], cls()) for cls in SENSIBLE_AGENTS[domain]]
        pooled = []
        for name, agent in agents:
            t = time.time()
            seeds = range(args.seed, args.seed + args.episodes)
            results = play_episodes(gym.make(env_id), agent, seeds)
            pairs = [(p[0] + len(pooled), *p[1:]) for p in pairs_of([r.messages for r in results])]
            pooled += pairs
            report(f"{env_id} {name}", pairs, domain, args, t)
        if len(agents) > 1:
            report(f"{env_id} all agents pooled", pooled, domain, args, time.time())


def report(title: str, pairs: list, domain: str, args: argparse.Namespace, t: float) -> None:
    """Print the share of replies that follow their turn, overall and after a question."""
    r = relevance(pairs, domain, args.shuffles)
    print(
        f"{title}: {r.pairs} pairs from {r.dialogues} dialogues; follow their turn "
        f"{r.overall:.3f} overall, {r.after_question:.3f} after a question ({r.questions}), "
        f"{r.otherwise:.3f} otherwise; {time.time() - t:.0f} s"
    )
    for score, agent, reply in r.worst[: args.examples]:
        print(f"   {score:.2f}  agent: {agent[:90]!r}\n         user:  {reply[:90]!r}")


if __name__ == "__main__":
    main()
