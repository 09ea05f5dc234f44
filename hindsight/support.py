"""Whether a rewritten agent turn lies inside the data's support: is anything the data's agents
said close to it?

The ensembles' disagreement (:mod:`.forward_ensemble`) cannot see this. A retrieval member only
ever continues with replies from the data, and a reward head reads the mean of a dialogue's turn
embeddings, in which one strange turn is diluted. So their spread hardly moves for a turn unlike
anything recorded. This check looks at the turn itself.

A turn's *support* is the cosine similarity of its embedding to the nearest distinct agent turn
of the data. The threshold comes from the data by this rule (``loo-1st-percentile``): the 1st
percentile of every distinct recorded agent turn's similarity to its nearest *other* recorded
agent turn (leave one out). About 1 in 100 turns like the data's is flagged, then; the false-alarm
rate on turns never seen and the catch rate on off-task and harmful lines are measured by
``benchmarks/bench_support.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..episode import Episode
from ..errors import InvalidInput
from .features import CachedEncoder, as_encoder, unit_rows

QUANTILE = 0.01
"""The share of the data's own agent turns (leave one out) that falls below the threshold."""
RULE = "loo-1st-percentile"
CHUNK = 1024
"""Rows per block of the leave-one-out similarity matrix (memory: CHUNK x distinct turns)."""


class SupportCheck:
    """Flags agent turns unlike any the data's agents said (see module)."""

    def __init__(
        self, episodes: Sequence[Episode], encoder: str | CachedEncoder = "minilm"
    ) -> None:
        texts = sorted({t.text for e in episodes for t in e.turns if t.role == "assistant"})
        if len(texts) < 2:
            raise InvalidInput(
                "a support check needs at least 2 distinct agent turns in the data; "
                f"got {len(texts)}"
            )
        self.encoder = as_encoder(encoder)
        self.keys = unit_rows(np.asarray(self.encoder.encode(texts), dtype=np.float32))
        nearest = np.empty(len(texts))
        for start in range(0, len(texts), CHUNK):
            block = self.keys[start : start + CHUNK] @ self.keys.T
            rows = np.arange(block.shape[0])
            block[rows, start + rows] = -np.inf  # leave the turn itself out
            nearest[start : start + CHUNK] = block.max(axis=1)
        self.threshold = float(np.quantile(nearest, QUANTILE))
        self.turns = len(texts)

    def similarity(self, texts: Sequence[str]) -> np.ndarray:
        """Each text's cosine similarity to its nearest recorded agent turn."""
        if not len(texts):
            return np.zeros(0)
        rows = unit_rows(np.asarray(self.encoder.encode(list(texts)), dtype=np.float32))
        return (rows @ self.keys.T).max(axis=1).astype(float)

    def in_support(self, text: str) -> bool:
        """Whether ``text`` is at least as close to a recorded agent turn as the threshold."""
        return bool(self.similarity([text])[0] >= self.threshold)

    def config(self) -> dict[str, Any]:
        """Rule, quantile, threshold, the distinct turns it rests on and the encoder."""
        return {
            "rule": RULE,
            "quantile": QUANTILE,
            "threshold": self.threshold,
            "agent_turns": self.turns,
            "encoder": self.encoder.spec,
        }
