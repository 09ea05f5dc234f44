"""Does an LLM-played user respond to the agent at all? Outcomes under three agents, same personas.

For each env, the LLM user (``--llm``, default ``local:smollm2``) meets the random agent, the
scripted expert flow and the zero-shot prompting agent (the same backend speaking as the agent;
it never sees the persona) on the same seeds, hence the same persona cards. Prints each agent's
mean outcome with its 95% t interval, the valid-outcome count, and the paired differences (same
seeds) with bootstrap intervals and p-values. A user that discriminates between agents shows
differences whose intervals exclude 0; the embedded simulator's figures for the same seeds are
printed beside them for scale.

Usage: ``python benchmarks/bench_llm_user_discrimination.py [--episodes 50] [--max-turns 2]
[--llm local:smollm2] [--env Persuasion-v0]``
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

import dialogue_gym
from dialogue_gym.stats import difference_test, holm, mean_ci


def main() -> None:
    """Print one table per env."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--episodes", type=int, default=50)
    p.add_argument("--max-turns", type=int, default=2)
    p.add_argument("--llm", default="local:smollm2")
    p.add_argument(
        "--env",
        action="append",
        choices=("Persuasion-v0", "Counseling-v0"),
        help="env to measure (repeatable; default both)",
    )
    args = p.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores; user {args.llm}, "
        f"{args.episodes} episodes of at most {args.max_turns} turns per agent"
    )
    agents = ("random", "scripted", f"prompting:llm={args.llm},max_tokens=60")
    for env_id in args.env or ("Persuasion-v0", "Counseling-v0"):
        print(f"\n## {env_id}\n\n| agent | user | mean [95% CI] | valid | embedded user mean |")
        print("| --- | --- | --- | --- | --- |")
        by_agent = {}
        for spec in agents:
            t = time.time()
            run = {"seed": 0, "progress": False, "oracle": False, "max_turns": args.max_turns}
            llm = dialogue_gym.evaluate(
                spec, env_id, args.episodes, simulator="llm", llm=args.llm, **run
            )
            emb = dialogue_gym.evaluate(spec, env_id, args.episodes, **run)
            ok = {e.seed: e.reward for e in llm.episodes if e.status == "ok"}
            by_agent[spec.split(":")[0]] = ok
            m, lo, hi = mean_ci(list(ok.values())) if ok else (float("nan"),) * 3
            print(
                f"| {spec.split(':')[0]} | {args.llm} | {m:.3f} [{lo:.3f}, {hi:.3f}] | "
                f"{len(ok)}/{args.episodes} | {emb.rewards.mean():.3f} | "
                f"({time.time() - t:.0f} s)",
                flush=True,
            )
        print("\n| difference (same seeds) | mean [95% CI] | p | p (Holm, this env) |")
        print("| --- | --- | --- | --- |")
        names = list(by_agent)
        rows = []
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                seeds = sorted(set(by_agent[a]) & set(by_agent[b]))
                if len(seeds) < 2:
                    print(f"| {b} - {a} | too few valid pairs | - | - |")
                    continue
                est, pv = difference_test(
                    np.array([[by_agent[b][s] for s in seeds]]),
                    np.array([[by_agent[a][s] for s in seeds]]),
                )
                rows.append((f"{b} - {a}", est.value, est.low, est.high, pv))
        for (name, d, lo, hi, pv), adj in zip(rows, holm([r[4] for r in rows]), strict=True):
            print(f"| {name} | {d:+.3f} [{lo:+.3f}, {hi:+.3f}] | {pv:.3g} | {adj:.3g} |")


if __name__ == "__main__":
    main()
