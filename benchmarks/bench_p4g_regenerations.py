"""The learned hindsight pipeline on the real PersuasionForGood dialogues, side by side with the
authors' released regenerations (issue 15, point 7).

Ours: the critic controller, retrieval forward model and learned reward model, all fitted on
p4g/train.json (817 real dialogues, nothing else), regenerate its $0 dialogues. Theirs:
p4g/hindsight_regenerations.json (no ids: a regeneration is told from an original by sharing the
original's opening and then diverging; its rewrite is the first utterance that differs). Both:
the share of $0 dialogues regenerated, where in the dialogue the rewrite falls (utterance index,
and as a share of the length), the reward distribution (clipped to $0-2, and how many raw rewards
were above $2), and the length in utterances. The regenerated set is exported for SFT (records),
ILQL (the episode JSONL ``train --algo ilql --regenerated`` reads) and DPO (preference pairs).

Usage: ``python benchmarks/bench_p4g_regenerations.py [--encoder minilm] [--out DIR]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections import Counter
from pathlib import Path

import numpy as np

from dialogue_gym.data_paths import require_data_dir
from dialogue_gym.export import sft_records
from dialogue_gym.hindsight import (
    CriticController,
    LearnedRewardModel,
    RetrievalForwardModel,
    preference_pairs,
    regenerate,
)
from dialogue_gym.hindsight.features import CachedEncoder
from dialogue_gym.jsonl import write_episodes
from dialogue_gym.loaders import load_p4g_json


def authors(path: Path, originals: list[dict]) -> dict[str, np.ndarray]:
    """Rewrite index, relative position, raw reward and length of the authors' regenerations.

    Their file holds successful originals and regenerations of $0 dialogues, without ids. Each
    dialogue is matched to the corpus original (train + test) with the longest common opening;
    a regeneration is one that diverges from a $0 original, its rewrite the first utterance
    that differs."""
    by_opening: dict[str, list[dict]] = {}
    for o in originals:
        by_opening.setdefault(o["conversation"][0].strip(), []).append(o)

    def common(a: list[str], b: list[str]) -> int:
        return next(
            (j for j, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
        )

    index, rel, reward, length, sources = [], [], [], [], set()
    for row in json.loads(path.read_text()):
        c = row["conversation"]
        candidates = by_opening.get(c[0].strip(), [])
        if not candidates:
            continue
        best = max(candidates, key=lambda o: common(o["conversation"], c))
        k = common(best["conversation"], c)
        if best["reward"] != 0 or (k == len(c) == len(best["conversation"])):
            continue  # an original (or a regeneration of a dialogue that had given)
        index.append(k)
        rel.append(k / len(c))
        reward.append(float(row["reward"]))
        length.append(len(c))
        sources.add(id(best))
    n_zero = sum(1 for o in originals if o["reward"] == 0)
    return {
        "index": np.array(index),
        "relative": np.array(rel),
        "reward": np.array(reward),
        "length": np.array(length),
        "n_zero": np.array(n_zero),
        "n_sources": np.array(len(sources)),
    }


def describe(name: str, d: dict[str, np.ndarray], failed: int) -> str:
    """One Markdown row."""
    r = d["reward"]
    clipped = np.clip(r, 0, 2)
    q = np.percentile(d["relative"], [25, 50, 75]) if len(r) else [np.nan] * 3
    share = f"{len(r)}/{failed} = {len(r) / failed:.2f}"
    return (
        f"| {name} | {share} | {np.median(d['index']):.0f} | {q[0]:.2f} / {q[1]:.2f} / {q[2]:.2f} "
        f"| {clipped.mean():.3f} | {np.mean(clipped > 0):.2f} | {int(np.sum(r > 2))} "
        f"| {np.mean(d['length']):.1f} |"
    )


def main() -> None:
    """Regenerate p4g/train.json's $0 dialogues with the learned pipeline; compare; export."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--encoder", default="minilm")
    parser.add_argument("--data", default=None)
    parser.add_argument("--out", type=Path, default=Path("runs/p4g-hindsight"))
    args = parser.parse_args()
    data = require_data_dir(args.data, ("p4g",))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; encoder {args.encoder}")
    t = time.time()
    train = load_p4g_json(data / "p4g" / "train.json")
    enc = CachedEncoder(args.encoder)
    controller = CriticController(train, enc)
    forward = RetrievalForwardModel(train, enc)
    reward = LearnedRewardModel.fit(train, encoder=args.encoder)
    print(f"fitted on {len(train)} dialogues [{time.time() - t:.0f} s]", flush=True)
    regen = regenerate(train, controller, forward, reward)
    print(f"regenerated {len(regen)} [{time.time() - t:.0f} s]", flush=True)
    failed = sum(1 for e in train if e.reward == 0)
    ours = {
        "index": np.array([r.provenance["rewritten_turn"] for r in regen]),
        "relative": np.array([r.provenance["rewritten_turn"] / len(r.turns) for r in regen]),
        "reward": np.array([float(r.reward) for r in regen]),
        "length": np.array([len(r.turns) for r in regen]),
    }
    corpus = [json.loads((data / "p4g" / f).read_text()) for f in ("train.json", "test.json")]
    theirs = authors(data / "p4g" / "hindsight_regenerations.json", corpus[0] + corpus[1])
    print()
    print(
        "| regenerations | of the $0 dialogues | rewrite at (median utterance) | rewrite "
        "position / length (25/50/75%) | mean reward ($, clipped) | share > $0 | raw > $2 "
        "| length (utterances) |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    print(describe("ours (learned, p4g/train.json)", ours, failed))
    print(describe("authors' released set (of train + test)", theirs, int(theirs["n_zero"])))
    print(
        f"(the authors' {len(theirs['reward'])} regenerations come from "
        f"{int(theirs['n_sources'])} distinct $0 dialogues)"
    )
    strategies = Counter(r.provenance["new_strategy"] for r in regen)
    print("\nour rewrites' strategies:", dict(strategies.most_common()))
    args.out.mkdir(parents=True, exist_ok=True)
    write_episodes(args.out / "regenerated.jsonl", regen)  # ILQL / train --regenerated
    sft = sft_records(train + regen)
    (args.out / "sft.jsonl").write_text("".join(json.dumps(r) + "\n" for r in sft))
    pairs = preference_pairs(regen, {e.id: e for e in train})
    (args.out / "dpo_pairs.jsonl").write_text("".join(json.dumps(p) + "\n" for p in pairs))
    print(
        f"\nexported to {args.out}: regenerated.jsonl ({len(regen)}), sft.jsonl ({len(sft)}), "
        f"dpo_pairs.jsonl ({len(pairs)}) [{time.time() - t:.0f} s]"
    )


if __name__ == "__main__":
    main()
