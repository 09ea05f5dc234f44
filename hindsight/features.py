"""Text features for the learned hindsight models: a general sentence encoder, cached per text.

The learned reward model, forward model and controller (:mod:`.learned_reward`,
:mod:`.retrieval`, :mod:`.critic`) see a dialogue only through these features. The default
encoder is the stock all-MiniLM-L6-v2 (``minilm``, :mod:`dialogue_gym.agents.encoders`): a
general sentence-similarity model, *not* the simulators' fine-tuned reader, so nothing the
evaluator perceives with is shared. ``hash:N`` (a hashed bag of words) needs no model, for tests.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..agents.encoders import Encoder, make_encoder
from ..episode import Turn

_SHARED: dict[str, tuple[Encoder, dict[str, np.ndarray]]] = {}
"""One encoder and one text cache per spec and process: the controller, forward model and reward
model fitted on the same dialogues embed each text once between them."""


class CachedEncoder:
    """An :class:`~dialogue_gym.agents.encoders.Encoder` that embeds each distinct text once
    (per process: every ``CachedEncoder`` of the same spec shares the model and the cache)."""

    def __init__(self, spec: str = "minilm") -> None:
        if spec not in _SHARED:
            _SHARED[spec] = (make_encoder(spec), {})
        self.spec = spec
        self.encoder, self._cache = _SHARED[spec]
        self.dim = self.encoder.dim

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalized float32 row per text (new texts are embedded in one batch)."""
        new = sorted({t for t in texts if t not in self._cache})
        if new:
            for text, row in zip(new, self.encoder.encode(new), strict=True):
                self._cache[text] = row
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._cache[t] for t in texts])


def clear_text_caches() -> None:
    """Forget every cached embedding (the models stay loaded). A text's embedding can differ in
    the last float bits with the batch it was embedded in, so work that must give the same
    figures wherever it runs (a benchmark seed, alone in a worker or after others in one
    process) starts from an empty cache."""
    for _, cache in _SHARED.values():
        cache.clear()


def as_encoder(encoder: str | CachedEncoder) -> CachedEncoder:
    """``encoder`` itself, or the shared cached encoder of that spec."""
    return encoder if isinstance(encoder, CachedEncoder) else CachedEncoder(encoder)


def unit_rows(rows: np.ndarray) -> np.ndarray:
    """Each row (or a single vector) scaled to length 1 (zero rows stay zero)."""
    return rows / np.maximum(np.linalg.norm(rows, axis=-1, keepdims=True), 1e-9)


def _mean(rows: np.ndarray, dim: int) -> np.ndarray:
    return rows.mean(axis=0) if len(rows) else np.zeros(dim, dtype=np.float32)


def dialogue_features(encoder: CachedEncoder, turns: Sequence[Turn]) -> np.ndarray:
    """A fixed-size vector for a whole dialogue: the mean agent turn, the mean user turn, the
    mean of the user's last two turns (where outcomes are often said), and the length."""
    agent = encoder.encode([t.text for t in turns if t.role == "assistant"])
    user = encoder.encode([t.text for t in turns if t.role == "user"])
    length = np.array([len(turns) / 20.0, len(agent) / 10.0], dtype=np.float32)
    return np.concatenate(
        [_mean(agent, encoder.dim), _mean(user, encoder.dim), _mean(user[-2:], encoder.dim), length]
    )


def opening_features(encoder: CachedEncoder, turns: Sequence[Turn], k: int = 2) -> np.ndarray:
    """The mean of the user's first ``k`` turns (how the user came in)."""
    user = encoder.encode([t.text for t in turns if t.role == "user"][:k])
    return _mean(user, encoder.dim)
