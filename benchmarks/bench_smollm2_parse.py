"""How often SmolLM2-135M-Instruct's structured answers parse (LLM user's outcome; LLM judge).

Runs short Persuasion-v0 and Counseling-v0 episodes with the LLM user played by SmolLM2 (scripted
agent, ``--max-turns`` turns) and asks the LLM judge about each transcript; reports the share of
answers valid on the first attempt, within the allowed 3, and never. The cache is off. Prints
the model's load time first (the README's figure).

Usage: ``python benchmarks/bench_smollm2_parse.py [--episodes 20] [--max-turns 2]``
"""

from __future__ import annotations

import argparse
import collections
import time

import dialogue_gym
from dialogue_gym.llm.judge import LLMJudge
from dialogue_gym.llm.parsing import ParseFailure


def main() -> None:
    """Print parse rates per env for the user's final answer and the judge."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--episodes", type=int, default=20)
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
        r = dialogue_gym.evaluate(
            "scripted", env_id, args.episodes, seed=0, progress=True, keep_transcripts=True,
            simulator="llm", llm="local:smollm2", llm_cache=False, max_turns=args.max_turns,
        )  # fmt: skip
        judge = LLMJudge(domain, "local:smollm2", cache=False)
        user = collections.Counter()
        for e in r.episodes:
            user["failed" if e.status == "failed" else "ok"] += 1
        judged = collections.Counter()
        for e in r.episodes:
            try:
                judge.score(e.messages or [], seed=e.seed)
                judged["ok"] += 1
            except ParseFailure:
                judged["failed"] += 1
        n = len(r.episodes)
        print(
            f"{env_id}: user outcome parsed {user['ok']}/{n} ({user['ok'] / n:.0%}), "
            f"judge parsed {judged['ok']}/{n} ({judged['ok'] / n:.0%}), within 3 attempts; "
            f"mean outcome of parsed {r.summary.get('mean_return', float('nan')):.2f}; "
            f"{time.time() - t:.0f} s"
        )


if __name__ == "__main__":
    main()
