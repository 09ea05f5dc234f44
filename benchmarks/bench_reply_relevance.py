"""Do the simulated users' replies follow from what the agent said? (issue 14, point 7)

Relevance model: the original all-MiniLM-L6-v2 (6 layers, no fine-tuning; a sentence-similarity
model trained on question-answer and conversation pairs), run by our numpy forward pass. For every
agent turn and the user's reply to it, the reply *follows* when it is closer (cosine) to that turn
than a reply drawn from another episode at the same turn index is (so position alone explains
nothing). The figure is the share of such comparisons won, over ``--shuffles`` draws per pair:
0.5 means the replies are unrelated to what was said, 1.0 that every reply is closer to its own
turn than to any other. Reported for every pair and for agent turns that ask something (the
reader finds a question: ``Question`` in Counseling, an inquiry in Persuasion).

With ``--real DATA_DIR`` it scores real pairs the same way first (P4G test persuader turns and
the persuadee's next message; ESConv test supporter turns and the seeker's next message, a
speaker's consecutive messages joined), as the reference for the simulated figures.

Usage: ``python benchmarks/bench_reply_relevance.py [--episodes 500] [--agent human-like]
[--real ../shared/data]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from functools import cache
from pathlib import Path

import numpy as np

import dialogue_gym
from dialogue_gym.simulators.classifier import get_classifier
from dialogue_gym.simulators.corpus_personas import p4g_dialogues
from dialogue_gym.simulators.minilm import MiniLM

ASKING = {
    "counseling": {"Question"},
    "persuasion": {
        "source-related-inquiry",
        "task-related-inquiry",
        "personal-related-inquiry",
    },
}


@cache
def _model() -> MiniLM:
    return MiniLM.load(layers=6)


def embed(texts: list[str]) -> np.ndarray:
    """Unit-length all-MiniLM-L6-v2 embeddings (mean pooled, as sentence-transformers does)."""
    model = _model()
    rows = np.stack([model.embed(t) for t in texts])
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def pairs_of(result) -> list[tuple[int, int, str, str]]:
    """(episode, turn index, agent turn, the user's reply) of every answered agent turn."""
    out = []
    for i, e in enumerate(result.episodes):
        msgs = e.messages or []
        k = 0
        for a, b in zip(msgs, msgs[1:], strict=False):
            if a["role"] == "assistant" and b["role"] == "user":
                out.append((i, k, a["content"], b["content"]))
                k += 1
    return out


def real_pairs(data: str, domain: str) -> list[tuple[int, int, str, str]]:
    """(dialogue, turn index, agent turn, the person's reply) of the real test dialogues."""
    if domain == "persuasion":
        convs = [d["conversation"] for d in p4g_dialogues(Path(data), "test")]
    else:
        convs = []
        with open(Path(data) / "esconv" / "esconv_test.jsonl") as f:
            for line in f:
                turns: list[list[str]] = []  # [speaker, text] with a speaker's messages joined
                for t in json.loads(line)["dialog"]:
                    if turns and turns[-1][0] == t["speaker"]:
                        turns[-1][1] += " " + t["text"]
                    else:
                        turns.append([t["speaker"], t["text"]])
                start = next((i for i, t in enumerate(turns) if t[0] == "sys"), len(turns))
                convs.append([t for _, t in turns[start:]])
    out = []
    for i, conv in enumerate(convs):
        for k, (a, b) in enumerate(zip(conv[0::2], conv[1::2], strict=False)):
            out.append((i, k, a, b))
    return out


def relevance(
    pairs: list[tuple[int, int, str, str]], shuffles: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Per pair: the share of same-position replies from other episodes it beats; and whether
    the agent turn asks something."""
    rng = np.random.default_rng(seed)
    agent = embed([p[2] for p in pairs])
    reply = embed([p[3] for p in pairs])
    own = np.sum(agent * reply, axis=1)
    by_turn: dict[int, list[int]] = {}
    for j, (_, k, _, _) in enumerate(pairs):
        by_turn.setdefault(k, []).append(j)
    wins = np.zeros(len(pairs))
    for j, (ep, k, _, _) in enumerate(pairs):
        others = [o for o in by_turn[k] if pairs[o][0] != ep]
        if not others:
            wins[j] = np.nan
            continue
        drawn = rng.choice(others, size=min(shuffles, len(others)), replace=False)
        wins[j] = float(np.mean(own[j] > agent[j] @ reply[drawn].T))
    return wins, own


def main() -> None:
    """Generate episodes per env, score every (agent turn, reply) pair, print the shares."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--episodes", type=int, default=500)
    parser.add_argument("--agent", default="human-like")
    parser.add_argument("--shuffles", type=int, default=20)
    parser.add_argument("--env", choices=["Persuasion-v0", "Counseling-v0"], help="one env only")
    parser.add_argument("--examples", type=int, default=3, help="worst pairs to print per env")
    parser.add_argument("--real", metavar="DATA_DIR", help="also score the real test dialogues")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; agent {args.agent}")
    for env_id, domain in (("Persuasion-v0", "persuasion"), ("Counseling-v0", "counseling")):
        if args.env and env_id != args.env:
            continue
        t = time.time()
        if args.real:
            report(f"{env_id} real test dialogues", real_pairs(args.real, domain), domain, args, t)
            t = time.time()
        result = dialogue_gym.evaluate(
            args.agent, env_id, args.episodes, seed=0, progress=False, oracle=False,
            keep_transcripts=True,
        )  # fmt: skip
        report(f"{env_id} {args.agent}", pairs_of(result), domain, args, t)


def report(title: str, pairs: list, domain: str, args: argparse.Namespace, t: float) -> None:
    """Print the share of replies that follow their turn, overall and after a question."""
    wins, own = relevance(pairs, args.shuffles)
    clf = get_classifier(domain)
    asks = np.array([bool(ASKING[domain] & set(clf.classify(p[2]))) for p in pairs])
    ok = np.isfinite(wins)
    episodes = len({p[0] for p in pairs})
    print(
        f"{title}: {len(pairs)} pairs from {episodes} dialogues; replies that follow "
        f"their turn (beat a same-turn reply from another dialogue): {np.nanmean(wins):.3f} "
        f"overall, {np.nanmean(wins[asks & ok]):.3f} after a question ({int(asks.sum())}), "
        f"{np.nanmean(wins[~asks & ok]):.3f} otherwise; {time.time() - t:.0f} s"
    )
    for j in np.argsort(np.where(ok, wins + own * 1e-3, np.inf))[: args.examples]:
        print(f"   {wins[j]:.2f}  agent: {pairs[j][2][:90]!r}")
        print(f"         user:  {pairs[j][3][:90]!r}")


if __name__ == "__main__":
    main()
