"""What a supporter's question asks about, read by meaning (it shapes the seeker's answer only).

Each sentence of the agent's turn is embedded by the shared reader
(:func:`~.classifier.get_reader`) and compared (cosine) with our own prototype questions of a few
kinds; the closest kind wins if it is close enough. The dynamics never see this: it only picks
which answer the simulated seeker words (issue 14: a question gets an answer of its kind).
"""

from __future__ import annotations

from functools import cache

import numpy as np

from .classifier import get_reader

INTENTS: dict[str, tuple[str, ...]] = {
    "duration": (
        "How long has this been going on?",
        "When did this start?",
        "How long have you been feeling like this?",
        "Since when has it been this way?",
    ),
    "cause": (
        "What happened?",
        "Can you tell me more about what is going on?",
        "What made you feel this way?",
        "What is bothering you the most about it?",
    ),
    "support": (
        "Have you talked to anyone about this?",
        "Do you have friends or family you can lean on?",
        "Is there someone you can turn to?",
        "Does anyone else know what you are going through?",
    ),
    "feeling": (
        "How are you feeling right now?",
        "How does that make you feel?",
        "How are you holding up?",
        "What emotions come up when you think about it?",
    ),
    "tried": (
        "What have you tried so far?",
        "What do you think you could do about it?",
        "Have you thought about any options?",
        "What would help you right now?",
    ),
}
MIN_SIMILARITY = 0.55
"""Below this cosine to every prototype, the question is of no known kind (a general answer)."""


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.maximum(np.linalg.norm(rows, axis=-1, keepdims=True), 1e-9)


@cache
def _prototypes() -> tuple[list[str], np.ndarray]:
    reader = get_reader()
    kinds = [k for k, qs in INTENTS.items() for _ in qs]
    return kinds, _unit(np.stack([reader.embed(q) for qs in INTENTS.values() for q in qs]))


def question_kind(text: str) -> str | None:
    """The kind of question ``text`` asks (a key of :data:`INTENTS`), or None."""
    if not text.strip():
        return None
    kinds, protos = _prototypes()
    sims = _unit(get_reader().embeddings(text)) @ protos.T  # every sentence and the whole turn
    row, col = np.unravel_index(int(np.argmax(sims)), sims.shape)
    return kinds[col] if sims[row, col] >= MIN_SIMILARITY else None
