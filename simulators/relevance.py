"""Do a user's replies follow from what was said to them? The reply-relevance measure.

Relevance model: the original all-MiniLM-L6-v2 (6 layers, no fine-tuning; a sentence-similarity
model trained on question-answer and conversation pairs), run by our numpy forward pass
(:func:`~.minilm.base_model`). For every agent turn and the reply to it, the reply *follows* when
it is closer (cosine) to that turn than a reply drawn from another dialogue at the same turn index
is (so position alone explains nothing). The score of a pair is the share of such comparisons it
wins over ``shuffles`` draws: 0.5 means replies unrelated to what was said, 1.0 that every reply
is closer to its own turn than to any other. It is reported for every pair and for agent turns
that ask something (the reader finds a question: ``Question`` in Counseling, an inquiry in
Persuasion).

The wording rules that make simulated replies follow (:mod:`.uptake`) were written without this
model; it only measures them. The same measure scores real dialogue pairs (P4G and ESConv test,
:func:`real_pairs`) as the reference.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InvalidInput
from .classifier import get_classifier
from .minilm import base_model

ASKING = {
    "counseling": {"Question"},
    "persuasion": {
        "source-related-inquiry",
        "task-related-inquiry",
        "personal-related-inquiry",
    },
}
"""The labels that mark an agent turn as a question, by task."""

Pair = tuple[int, int, str, str]
"""(dialogue, turn index, agent turn, the reply to it)."""


@dataclass(frozen=True)
class Relevance:
    """Shares of replies that follow their turn: overall, after a question, otherwise."""

    overall: float
    after_question: float
    otherwise: float
    pairs: int
    questions: int
    dialogues: int
    worst: tuple[tuple[float, str, str], ...]
    """A few of the least related pairs (score, agent turn, reply)."""


def embed(texts: Sequence[str]) -> np.ndarray:
    """Unit-length all-MiniLM-L6-v2 embeddings (mean pooled, as sentence-transformers does)."""
    rows = []
    for i in range(0, len(texts), 64):
        rows.append(base_model().embed_batch([t[:2000] for t in texts[i : i + 64]]))
    out = np.vstack(rows) if rows else np.zeros((0, 384))
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def pairs_of(transcripts: Sequence[Sequence[dict]]) -> list[Pair]:
    """The (agent turn, reply) pairs of transcripts (lists of ``{"role", "content"}`` messages)."""
    out = []
    for i, msgs in enumerate(transcripts):
        k = 0
        for a, b in zip(msgs, msgs[1:], strict=False):
            if a["role"] == "assistant" and b["role"] == "user":
                out.append((i, k, a["content"], b["content"]))
                k += 1
    return out


def real_pairs(data: str | Path, domain: str) -> list[Pair]:
    """The (agent turn, the person's reply) pairs of the real test dialogues: P4G persuader turns
    and the persuadee's next message; ESConv supporter turns and the seeker's next message (a
    speaker's consecutive messages joined)."""
    from .corpus_personas import p4g_dialogues

    if domain == "persuasion":
        convs = [d["conversation"] for d in p4g_dialogues(Path(data), "test")]
    else:
        convs = []
        with open(Path(data) / "esconv" / "esconv_test.jsonl") as f:
            for line in f:
                turns: list[list[str]] = []
                for t in json.loads(line)["dialog"]:
                    if turns and turns[-1][0] == t["speaker"]:
                        turns[-1][1] += " " + t["text"]
                    else:
                        turns.append([t["speaker"], t["text"]])
                start = next((i for i, t in enumerate(turns) if t[0] == "sys"), len(turns))
                convs.append([t for _, t in turns[start:]])
    return [
        (i, k, a, b)
        for i, conv in enumerate(convs)
        for k, (a, b) in enumerate(zip(conv[0::2], conv[1::2], strict=False))
    ]


def relevance(pairs: Sequence[Pair], domain: str, shuffles: int = 20, seed: int = 0) -> Relevance:
    """Score ``pairs`` of ``domain``: each reply against up to ``shuffles`` same-position replies
    of other dialogues."""
    if domain not in ASKING:
        raise InvalidInput(f"unknown domain {domain!r}; expected one of {sorted(ASKING)}")
    if not pairs:
        raise InvalidInput("no (agent turn, reply) pairs to score")
    rng = np.random.default_rng(seed)
    agent = embed([p[2] for p in pairs])
    reply = embed([p[3] for p in pairs])
    own = np.sum(agent * reply, axis=1)
    by_turn: dict[int, list[int]] = {}
    for j, p in enumerate(pairs):
        by_turn.setdefault(p[1], []).append(j)
    wins = np.full(len(pairs), np.nan)
    for j, (ep, k, _, _) in enumerate(pairs):
        others = [o for o in by_turn[k] if pairs[o][0] != ep]
        if others:
            drawn = rng.choice(others, size=min(shuffles, len(others)), replace=False)
            wins[j] = float(np.mean(own[j] > agent[j] @ reply[drawn].T))
    clf = get_classifier(domain)
    asks = np.array([bool(ASKING[domain] & set(clf.classify(p[2]))) for p in pairs])
    ok = np.isfinite(wins)
    order = np.argsort(np.where(ok, wins + own * 1e-3, np.inf))[:5]
    return Relevance(
        overall=float(np.nanmean(wins)),
        after_question=float(np.nanmean(wins[asks & ok])) if (asks & ok).any() else float("nan"),
        otherwise=float(np.nanmean(wins[~asks & ok])) if (~asks & ok).any() else float("nan"),
        pairs=len(pairs),
        questions=int(asks.sum()),
        dialogues=len({p[0] for p in pairs}),
        worst=tuple((float(wins[j]), pairs[j][2], pairs[j][3]) for j in order if ok[j]),
    )
