"""How often SmolLM2-135M-Instruct's structured answers parse (LLM user's outcome; LLM judge).

Runs short Persuasion-v0 and Counseling-v0 episodes with the LLM user played by SmolLM2 (scripted
agent, ``--max-turns`` turns) and asks the LLM judge about each transcript; reports the share of
answers valid on the first attempt and within the allowed 3, and how the valid outcomes are
distributed (a constant answer is not a working user). Both answers are decoded under their
JSON schema (``dialogue_gym.llm.constrained``). The cache is off. Prints the model's load time
first (the README's figure).

Usage: ``python benchmarks/bench_smollm2_parse.py [--episodes 50] [--max-turns 2]``
"""

from __future__ import annotations

import argparse
import collections
import time

import gymnasium as gym
from tqdm import tqdm

import dialogue_gym  # noqa: F401 - registers the envs
from dialogue_gym.agents.scripted import ScriptedAgent
from dialogue_gym.llm.judge import LLMJudge
from dialogue_gym.llm.parsing import ParseFailure
from dialogue_gym.rollout import play_episode


def main() -> None:
    """Print parse rates per env for the user's final answer and the judge."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--episodes", type=int, default=50)
    p.add_argument("--max-turns", type=int, default=2)
    args = p.parse_args()
    import os
    import platform

    from dialogue_gym.llm.smollm2 import load_smollm2

    t = time.time()
    load_smollm2()
    print(
        f"SmolLM2-135M-Instruct (GGUF, via transformers) loaded in {time.time() - t:.1f} s on "
        f"{platform.machine()}, {os.cpu_count()} cores"
    )
    for env_id, domain in (("Persuasion-v0", "persuasion"), ("Counseling-v0", "counseling")):
        t = time.time()
        env = gym.make(
            env_id, simulator="llm", llm="local:smollm2", llm_cache=False, max_turns=args.max_turns
        )
        agent = ScriptedAgent(domain)
        episodes = [
            (r.reward, r.final_info, r.messages)
            for r in (
                play_episode(env, agent, seed) for seed in tqdm(range(args.episodes), desc=env_id)
            )
        ]
        judge = LLMJudge(domain, "local:smollm2", cache=False)
        ok = [(r, i) for r, i, _ in episodes if i.get("status") != "failed"]
        first = sum(i.get("parse_attempts") == 1 for _, i in ok)
        judged, judge_failed = [], 0
        for seed, (_, _, messages) in enumerate(episodes):
            try:
                judged.append(judge.score(messages, seed=seed))
            except ParseFailure:
                judge_failed += 1
        n = len(episodes)
        print(
            f"{env_id}: user outcome valid {len(ok)}/{n} ({len(ok) / n:.0%}; first attempt "
            f"{first}), judge valid {len(judged)}/{n} ({len(judged) / n:.0%}); "
            f"{time.time() - t:.0f} s"
        )
        print(f"  user outcomes: {_histogram([r for r, _ in ok])}")
        print(f"  judge scores:  {_histogram(judged)}")
        failures = collections.Counter(
            i.get("failure", "?") for _, i, _ in episodes if i.get("status") == "failed"
        )
        if failures:
            print(f"  user failures: {dict(failures)}")


def _histogram(values: list[float]) -> str:
    """``value: count`` pairs, smallest value first, with the mean."""
    if not values:
        return "none"
    counts = collections.Counter(round(float(v), 2) for v in values)
    pairs = ", ".join(f"{v:g}: {c}" for v, c in sorted(counts.items()))
    return f"{pairs} (mean {sum(values) / len(values):.2f})"


if __name__ == "__main__":
    main()
