"""Which need a help-seeker voices, and what their words say about their latent need.

A sentence voices a need when its meaning is close to one of that need's prototype wordings
(:data:`~.counseling_text.NEED_READING`; cosine of base-MiniLM embeddings >= :data:`VOICE_BAR`).
The simulated seeker voices its latent need with probability ``need_cue_fidelity`` and one of the
other three otherwise; that fidelity is fitted on ESConv train seekers by maximum likelihood (how
consistently one real seeker's voiced needs agree, ``scripts/fit_outcome.py``). The posterior over
the need given the voiced ones (:func:`need_posterior`) is the reading an agent could make; the
ESConv replays draw each real seeker's need from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np

from ..errors import InvalidInput
from .classifier import split_sentences
from .counseling_text import NEED_READING
from .engagement import unit_embeddings
from .personas import COUNSELING_NEEDS, need_prior

VOICE_BAR = 0.5
"""Cosine to the nearest prototype from which a sentence voices that need: set by reading our own
example sentences ("Any tips?" 0.58 advice, "I feel so stupid." 0.53 reassure, "I am so stressed
about my exams." 0.23), never on ESConv."""


@cache
def _prototypes() -> tuple[np.ndarray, tuple[str, ...]]:
    needs = tuple(n for n in COUNSELING_NEEDS for _ in NEED_READING[n])
    texts = [t for n in COUNSELING_NEEDS for t in NEED_READING[n]]
    return unit_embeddings(texts), needs


def voiced_needs(text: str) -> list[str]:
    """The needs ``text`` voices, one per sentence that voices one (in order)."""
    sentences = split_sentences(text)
    if not sentences:
        return []
    protos, needs = _prototypes()
    sims = unit_embeddings(sentences) @ protos.T
    best = sims.argmax(1)
    return [needs[j] for i, j in enumerate(best) if sims[i, j] >= VOICE_BAR]


def need_posterior(problem: str, voiced: Sequence[str], fidelity: float) -> np.ndarray:
    """P(need | problem, voiced needs), in :data:`COUNSELING_NEEDS` order: the problem's prior
    times, for each voiced need, ``fidelity`` if it is that need, ``(1 - fidelity) / 3`` if not."""
    if not 0.0 < fidelity <= 1.0:
        raise InvalidInput(f"fidelity must be in (0, 1], got {fidelity}")
    fidelity = min(fidelity, 0.999)  # a voiced need then settles it, short of certainty
    log = np.log(need_prior(problem))
    for v in voiced:
        k = COUNSELING_NEEDS.index(v)
        hit = np.full(len(COUNSELING_NEEDS), np.log((1.0 - fidelity) / 3.0))
        hit[k] = np.log(fidelity)
        log = log + hit
    p = np.exp(log - log.max())
    return p / p.sum()


def fit_fidelity(problems: Sequence[str], voiced: Sequence[Sequence[str]]) -> float:
    """Maximum-likelihood fidelity (grid 0.25..0.99) of the voiced needs of many seekers, each
    with one latent need drawn from its problem's prior."""
    grid = np.linspace(0.25, 0.99, 149)
    best, best_ll = 0.25, -np.inf
    for f in grid:
        ll = 0.0
        for problem, vs in zip(problems, voiced, strict=True):
            if not vs:
                continue
            counts = np.array([sum(v == n for v in vs) for n in COUNSELING_NEEDS])
            lik = need_prior(problem) * f**counts * ((1 - f) / 3) ** (len(vs) - counts)
            ll += float(np.log(lik.sum()))
        if ll > best_ll:
            best, best_ll = float(f), ll
    return round(best, 3)
