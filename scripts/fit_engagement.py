"""Fit the engagement head (``simulators/engagement.py``) on ESConv train pairs.

Every supporter turn of ``esconv_train.jsonl`` that follows something the seeker said is a
positive (the seeker's words so far, the real next turn); the same context with a supporter turn
drawn at random from another train dialogue is its negative. The corpus mean is the mean unit
embedding of the train seekers' messages. A logistic regression on :func:`engagement.features`
is fitted, then scored (AUC) on the test split's pairs built the same way.
Writes ``simulators/params/engagement.npz``.
Usage: ``python scripts/fit_engagement.py [--data DIR] [--limit N]``
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from dialogue_gym.data_paths import require_data_dir
from dialogue_gym.simulators.corpus_personas import esconv_exchanges, esconv_seekers
from dialogue_gym.simulators.engagement import features, unit_embeddings

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "simulators" / "params" / "engagement.npz"


def pairs(
    path: Path, limit: int | None, rng: np.random.Generator
) -> list[tuple[list[str], str, int]]:
    """(seeker context, supporter turn, 1) for each real exchange and (context, a turn from
    another dialogue, 0) beside it."""
    dialogues = [esconv_exchanges(d["dialog"]) for d in esconv_seekers(path)[:limit]]
    turns = [(i, turn) for i, d in enumerate(dialogues) for _, turn in d]
    out = []
    for i, d in enumerate(dialogues):
        for context, turn in d:
            if not context:
                continue
            j, other = turns[int(rng.integers(len(turns)))]
            while j == i:
                j, other = turns[int(rng.integers(len(turns)))]
            out += [(context, turn, 1), (context, other, 0)]
    return out


def design(rows: list[tuple[list[str], str, int]], corpus_mean: np.ndarray) -> np.ndarray:
    """The feature matrix of ``rows`` (embeddings batched by length for speed)."""
    texts = sorted({t for context, turn, _ in rows for t in (*context, turn)}, key=len)
    for k in range(0, len(texts), 64):
        unit_embeddings(texts[k : k + 64])
    return np.array(
        [
            features(unit_embeddings([turn])[0], unit_embeddings(c), corpus_mean)
            for c, turn, _ in rows
        ]
    )


def main() -> None:
    """Fit, score on the test split, write the parameters."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument(
        "--limit", type=int, default=None, help="train dialogues used (default all)"
    )
    args = parser.parse_args()
    data = require_data_dir(args.data) / "esconv"
    rng = np.random.default_rng(0)
    train = pairs(data / "esconv_train.jsonl", args.limit, rng)
    test = pairs(data / "esconv_test.jsonl", None, rng)
    seeker_texts = sorted({t for c, _, _ in train for t in c}, key=len)
    for k in range(0, len(seeker_texts), 64):
        unit_embeddings(seeker_texts[k : k + 64])
    corpus_mean = unit_embeddings(seeker_texts).mean(0)
    corpus_mean /= np.linalg.norm(corpus_mean)
    x_train, y_train = design(train, corpus_mean), np.array([y for *_, y in train])
    x_test, y_test = design(test, corpus_mean), np.array([y for *_, y in test])
    head = LogisticRegression(C=10.0).fit(x_train, y_train)
    auc = float(roc_auc_score(y_test, head.predict_proba(x_test)[:, 1]))
    auc_train = float(roc_auc_score(y_train, head.predict_proba(x_train)[:, 1]))
    np.savez(
        OUT,
        weights=head.coef_[0],
        bias=np.float64(head.intercept_[0]),
        corpus_mean=corpus_mean.astype(np.float32),
        test_auc=np.float64(auc),
    )
    print(
        json.dumps(
            {
                "weights": head.coef_[0].round(3).tolist(),
                "bias": round(float(head.intercept_[0]), 3),
                "train_pairs": len(train),
                "test_pairs": len(test),
                "train_auc": round(auc_train, 4),
                "test_auc": round(auc, 4),
            }
        )
    )


if __name__ == "__main__":
    main()
