"""How much a supporter's turn engages with what *this* seeker said, read by meaning.

The score is the probability that the turn was written in answer to this seeker rather than to
another one: a logistic head on three cosines of sentence embeddings (the bundled
all-MiniLM-L6-v2, unadapted, whose embeddings are trained for meaning):

- the turn against the seeker's last message;
- the turn against the mean of everything the seeker has said so far;
- the turn against the mean seeker message of the corpus (a line that would fit any seeker is
  close to it, so this weight comes out negative).

The head and the corpus mean are fitted by ``scripts/fit_engagement.py`` on ESConv train pairs: each
seeker context with the supporter's real next turn against a supporter turn drawn from another
dialogue. ``params/engagement.npz`` holds them with the held-out AUC on the test split.

Why not the reader's embeddings: they are adapted to strategy labels and lose the topic; on the
same kind of pairs they separate answers from shuffled turns far worse (AUC about 0.71 against
about 0.88).

A *parrot* is a verbatim echo of the seeker's last message (:func:`is_parrot`): lexical, since a
parrot is by definition a copy of the words.
"""

from __future__ import annotations

import difflib
import re
from collections import OrderedDict
from collections.abc import Sequence
from functools import cache
from importlib import resources

import numpy as np

from .minilm import base_model

PARROT_RATIO = 0.8
"""Similarity of the normalised texts (``difflib`` ratio) from which a turn is a parrot."""
UNREAD_ENGAGEMENT = 0.49
"""Mean engagement of a hearing template worded without reading the seeker (default slots),
against simulated seekers' words: 0.487 over 720 readings
(``tests/simulators/test_engagement.py`` measures it again); what a script that never reads the
user earns on the dynamics."""
_CACHE_SIZE = 65536
_WORDS = re.compile(r"[a-z0-9']+")


class _UnitEmbeddings:
    """Unit-length base-MiniLM embeddings, cached (seeker replies repeat; turns are re-read)."""

    def __init__(self) -> None:
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        new = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if new:
            rows = base_model().embed_batch([t[:2000] for t in new])
            rows /= np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-9)
            for t, r in zip(new, rows, strict=True):
                self._cache[t] = r
            while len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return np.stack([self._cache[t] for t in texts])


unit_embeddings = _UnitEmbeddings()
"""``unit_embeddings(texts)`` -> (N, 384) unit vectors of the base encoder (cached)."""


def features(turn: np.ndarray, seeker: np.ndarray, corpus_mean: np.ndarray) -> np.ndarray:
    """The head's inputs for one turn embedding against the seeker's message embeddings
    (rows in order, last = the latest message)."""
    ctx = seeker.mean(0)
    ctx = ctx / max(float(np.linalg.norm(ctx)), 1e-9)
    return np.array([turn @ seeker[-1], turn @ ctx, turn @ corpus_mean], dtype=np.float64)


class EngagementHead:
    """P(this turn answers this seeker) from :func:`features` (logistic)."""

    def __init__(self, weights: np.ndarray, bias: float, corpus_mean: np.ndarray) -> None:
        self.weights = np.asarray(weights, dtype=np.float64)
        self.bias = float(bias)
        self.corpus_mean = np.asarray(corpus_mean, dtype=np.float32)

    @classmethod
    def load(cls) -> EngagementHead:
        """The shipped head (``params/engagement.npz``)."""
        ref = resources.files("dialogue_gym.simulators").joinpath("params/engagement.npz")
        with resources.as_file(ref) as path, np.load(path) as z:
            return cls(z["weights"], float(z["bias"]), z["corpus_mean"])

    def score(self, turn: str, seeker: Sequence[str]) -> float:
        """Engagement in (0, 1) of ``turn`` with the seeker's messages so far (0.5 without any)."""
        said = [s for s in seeker if s.strip()]
        if not said or not turn.strip():
            return 0.5
        rows = unit_embeddings([turn, *said])
        x = features(rows[0], rows[1:], self.corpus_mean)
        return float(1.0 / (1.0 + np.exp(-(x @ self.weights + self.bias))))


@cache
def get_engagement() -> EngagementHead:
    """The shipped engagement head, loaded once per process."""
    return EngagementHead.load()


def _normal(text: str) -> str:
    return " ".join(_WORDS.findall(text.lower()))


def is_parrot(turn: str, last_seeker: str | None) -> bool:
    """True when ``turn`` repeats the seeker's last message nearly word for word."""
    if not last_seeker:
        return False
    a, b = _normal(turn), _normal(last_seeker)
    if len(b.split()) < 3 or not a:
        return False
    if b in a and len(a) <= 1.3 * len(b):
        return True
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() >= PARROT_RATIO
