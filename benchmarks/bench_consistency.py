"""Does what a simulated user says stay true? Contradictions per episode, by agent and fact.

Plays ``--episodes`` episodes of each agent in each env, keeps the transcripts, and runs
:func:`dialogue_gym.simulators.consistency.contradictions` over each user's messages. Prints the
number of episodes with a contradiction of each fact, and a few examples.

Usage: ``python benchmarks/bench_consistency.py [--episodes 1000] [--agents random,scripted]``
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

import dialogue_gym
from dialogue_gym.simulators.consistency import contradictions

ENVS = {"Persuasion-v0": "persuasion", "Counseling-v0": "counseling"}


def main() -> None:
    """Count contradictions in simulated users' messages, per env, agent and fact."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--episodes", type=int, default=1000)
    parser.add_argument("--agents", default="random,scripted,human-like,oracle")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--examples", type=int, default=2)
    args = parser.parse_args()
    for env_id, domain in ENVS.items():
        for agent in args.agents.split(","):
            t = time.time()
            result = dialogue_gym.evaluate(
                agent,
                env_id,
                args.episodes,
                seed=args.seed,
                progress=False,
                oracle=False,
                keep_transcripts=True,
            )
            found = []
            for e in result.episodes:
                user = [m["content"] for m in e.messages or [] if m["role"] == "user"]
                found.append(contradictions(domain, user))
            by_fact = Counter(c.fact for f in found for c in {x.fact: x for x in f}.values())
            bad = sum(1 for f in found if f)
            print(
                f"{env_id} {agent}: {bad} of {len(found)} episodes contradict themselves "
                f"({dict(by_fact)}); {time.time() - t:.0f} s"
            )
            shown = [c for f in found for c in f][: args.examples]
            for c in shown:
                print(f"   {c.fact}: {c.earlier!r} ... {c.later!r}")


if __name__ == "__main__":
    main()
