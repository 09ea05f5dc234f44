"""The learned hindsight pipeline's imagination gap on one behaviour dataset, by retrieval setting.

For each env: ``--episodes`` human-like episodes (seeds from ``--seed``), the critic controller
and learned reward model fitted on them, and the retrieval forward model at each
``--persona-weights`` value. Every regeneration's imagined reward is set beside the true reward
of its agent turns replayed in the true env (``dialogue_gym.benchmark.imagination_gap``): bias,
MAE, correlation, and the share of rewrites that truly improve vs the share believed to.
With ``--llm SPEC`` (a chat backend), the LLM forward and reward pair rewrites the first
``--llm-episodes`` unsuccessful episodes too (same critic), and its unusable answers are counted.

Usage: ``python benchmarks/bench_imagination_gap.py [--episodes 400] [--persona-weights 0,1,3]
[--llm local:smollm2 --llm-episodes 20]``
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

from dialogue_gym.benchmark import BenchmarkConfig, imagination_gap, llm_pair
from dialogue_gym.generate import generate
from dialogue_gym.hindsight import (
    CriticController,
    LearnedRewardModel,
    RetrievalForwardModel,
    regenerate,
)
from dialogue_gym.hindsight.features import CachedEncoder
from dialogue_gym.jsonl import read_episodes

KEYS = (
    "n",
    "imagined_mean",
    "true_mean",
    "gap",
    "mae",
    "corr",
    "truly_improve",
    "believed_improve",
)


def print_row(env_id: str, pair: str, gap: dict, seconds: float) -> None:
    """One row of the table: the env, the forward/reward pair, the gap's figures, the seconds."""
    cells = [f"{gap[k]:.3f}" if k in gap else "-" for k in KEYS]
    print(f"| {env_id} | {pair} | " + " | ".join(cells) + f" | {seconds:.0f} |", flush=True)


def main() -> None:
    """Print one Markdown row per env and persona weight."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--episodes", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--encoder", default="minilm")
    parser.add_argument("--persona-weights", default="0,1,3")
    parser.add_argument("--llm", default=None, help="a chat backend spec for the LLM pair")
    parser.add_argument("--llm-episodes", type=int, default=20)
    args = parser.parse_args()
    weights = [float(w) for w in args.persona_weights.split(",")]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; encoder {args.encoder}")
    print("| env | forward/reward | " + " | ".join(KEYS) + " | s |")
    print("|" + " --- |" * (len(KEYS) + 3))
    with tempfile.TemporaryDirectory() as tmp:
        for env_id in ("Persuasion-v0", "Counseling-v0"):
            path = Path(tmp) / f"{env_id}.jsonl"
            generate(env_id, "human-like", args.episodes, path, seed=args.seed, progress=False)
            episodes = read_episodes(path)[0]
            by_id = {e.id: e for e in episodes}
            enc = CachedEncoder(args.encoder)
            controller = CriticController(episodes, enc)
            reward = LearnedRewardModel.fit(episodes, encoder=args.encoder)
            for w in weights:
                t = time.time()
                forward = RetrievalForwardModel(episodes, enc, persona_weight=w)
                gap = imagination_gap(regenerate(episodes, controller, forward, reward), by_id)
                print_row(env_id, f"learned, persona weight {w:g}", gap, time.time() - t)
            if args.llm:
                t = time.time()
                cfg = BenchmarkConfig(llm=args.llm, llm_episodes=args.llm_episodes)
                regen, errors = llm_pair(episodes, cfg, controller)
                gap = imagination_gap(regen, by_id)
                print_row(env_id, f"llm ({args.llm})", gap, time.time() - t)
                tried = min(args.llm_episodes, len(regen) + len(errors))
                print(
                    f"  llm: {len(regen)} of {tried} regenerated; {len(errors)} unusable"
                    + (f", e.g. {errors[0][:200]!r}" if errors else ""),
                    flush=True,
                )


if __name__ == "__main__":
    main()
