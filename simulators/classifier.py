"""Utterance -> strategies: a multi-label classifier that works on any free text.

An utterance is split into sentences; each sentence is scored by a linear model over TF-IDF
word unigrams and bigrams (multinomial logistic regression), and the utterance's labels are the
union of its sentences' labels. A sentence whose best score is not confident falls back to the
domain's non-strategic label, so text in other languages, emoji or noise expresses no strategy.

Weights are fitted by ``scripts/fit_classifier.py`` on the fitting splits only (P4G annotated
dialogues' first 200 ids, ESConv train) plus the realizer's own templates, and shipped in
``params/classifier_<domain>.npz``. Inference is plain numpy: no scikit-learn at run time.

A separate lexicon flags hostile text (insults, threats, demands), which the simulators treat as
such whatever strategy words it also contains.
"""

from __future__ import annotations

import math
import re
from functools import cache, lru_cache
from importlib import resources

import numpy as np

from .strategies import get_domain

_TOKEN = re.compile(r"[a-z0-9$']+|[?!]")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens, with '?' and '!' kept as tokens."""
    return _TOKEN.findall(text.lower())


def features(text: str) -> list[str]:
    """Unigrams and bigrams of :func:`tokens` (the analyzer used in fitting and inference)."""
    t = tokens(text)
    return t + [f"{a} {b}" for a, b in zip(t, t[1:], strict=False)]


def split_sentences(text: str) -> list[str]:
    """Split an utterance into non-empty sentences."""
    return [s for s in (p.strip() for p in _SENTENCE.split(text)) if s]


_HOSTILE = re.compile(
    r"\b(idiot|stupid|moron|dumb|shut up|hate you|loser|pathetic|worthless|useless|"
    r"you suck|screw you|damn you|f+u+c+k+\w*|shit\w*|bitch\w*|asshole|bastard|"
    r"or else|i will hurt|i'll hurt|i will find you|regret it|you will pay|you'll pay|"
    r"do it now|you must donate|you have to donate|you owe me|obey)\b",
    re.IGNORECASE,
)


def is_hostile(text: str) -> bool:
    """True if the text insults, threatens or coerces (a lexicon; errs on the side of flagging)."""
    return bool(_HOSTILE.search(text))


class StrategyClassifier:
    """Maps free text to the domain's strategy labels (multi-label, sentence-level union)."""

    def __init__(
        self,
        domain: str,
        vocab: list[str],
        idf: np.ndarray,
        coef: np.ndarray,
        intercept: np.ndarray,
        labels: list[str],
        min_confidence: float = 0.3,
        second_label: float = 0.35,
    ) -> None:
        self.domain = get_domain(domain)
        if list(labels) != list(self.domain.strategies):
            raise ValueError(f"classifier labels {labels} do not match the {domain} taxonomy")
        self.labels = list(labels)
        self.index = {f: i for i, f in enumerate(vocab)}
        self.idf = np.asarray(idf, dtype=np.float64)
        self.coef_t = np.ascontiguousarray(np.asarray(coef, dtype=np.float64).T)  # (V, L)
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.min_confidence = min_confidence
        self.second_label = second_label
        self._cached = lru_cache(maxsize=65536)(self._classify_uncached)

    @classmethod
    def load(cls, domain: str) -> StrategyClassifier:
        """Load the shipped weights for ``domain`` ("persuasion" or "counseling")."""
        get_domain(domain)
        ref = resources.files("dialogue_gym.simulators").joinpath(f"params/classifier_{domain}.npz")
        with resources.as_file(ref) as path, np.load(path, allow_pickle=False) as z:
            return cls(
                domain,
                vocab=[str(v) for v in z["vocab"]],
                idf=z["idf"],
                coef=z["coef"],
                intercept=z["intercept"],
                labels=[str(v) for v in z["labels"]],
            )

    def sentence_probs(self, sentence: str) -> np.ndarray:
        """Probability of each label for one sentence (softmax over the linear scores)."""
        counts: dict[int, int] = {}
        for f in features(sentence):
            j = self.index.get(f)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        scores = self.intercept.copy()
        if counts:
            idx = np.fromiter(counts, dtype=np.int64, count=len(counts))
            tf = np.array([1.0 + math.log(c) for c in counts.values()])
            x = tf * self.idf[idx]
            x /= math.sqrt(float(x @ x))
            scores += x @ self.coef_t[idx]
        scores -= scores.max()
        e = np.exp(scores)
        return e / e.sum()

    def _sentence_labels(self, sentence: str) -> list[str]:
        if not tokens(sentence):
            return [self.domain.fallback]
        p = self.sentence_probs(sentence)
        order = np.argsort(-p)
        if p[order[0]] < self.min_confidence:
            return [self.domain.fallback]
        out = [self.labels[order[0]]]
        if p[order[1]] >= self.second_label:
            out.append(self.labels[order[1]])
        return out

    def _classify_uncached(self, text: str) -> tuple[str, ...]:
        found: list[str] = []
        for sentence in split_sentences(text[:4000]) or [""]:
            for label in self._sentence_labels(sentence):
                if label not in found:
                    found.append(label)
        strategic = [x for x in found if x != self.domain.fallback]
        return tuple(strategic) if strategic else (self.domain.fallback,)

    def classify(self, text: str) -> tuple[str, ...]:
        """The strategies ``text`` expresses, in order of first appearance (never empty)."""
        if not isinstance(text, str):
            raise TypeError(f"classify expects str, got {type(text).__name__}")
        return self._cached(text)

    def top(self, text: str) -> str:
        """The single most likely label of the whole text (for single-label evaluation)."""
        p = self.sentence_probs(text)
        return self.labels[int(np.argmax(p))] if tokens(text) else self.domain.fallback


@cache
def get_classifier(domain: str) -> StrategyClassifier:
    """The shipped classifier for ``domain``, loaded once per process."""
    return StrategyClassifier.load(domain)
