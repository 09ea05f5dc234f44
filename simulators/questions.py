"""What an agent's question asks about, read by meaning (it shapes the user's answer only).

Each sentence of the agent's turn is embedded by the shared reader
(:func:`~.classifier.get_reader`) and compared (cosine) with our own prototype questions of a few
kinds, one set per task; the closest kind wins if it is close enough. The dynamics never see
this: it only picks which answer the simulated seeker or persuadee words (a question gets an
answer of its kind).
"""

from __future__ import annotations

from functools import cache

import numpy as np

from ..errors import InvalidInput
from .classifier import get_reader

COUNSELING_INTENTS: dict[str, tuple[str, ...]] = {
    # what a supporter asks a seeker
    "duration": (
        "How long has this been going on?",
        "When did this start?",
        "How long have you been feeling like this?",
        "Since when has it been this way?",
        "When did you first notice this?",
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
    "daily": (
        "How has this been affecting your daily life?",
        "How are you sleeping these days?",
        "Are you eating okay?",
        "How are you managing day to day?",
    ),
    "tried": (
        "What have you tried so far?",
        "What do you think you could do about it?",
        "Have you thought about any options?",
        "What would help you right now?",
    ),
}
PERSUASION_INTENTS: dict[str, tuple[str, ...]] = {
    # what a persuader asks a persuadee (the ask itself is read by the dynamics, not here)
    "aware": (
        "Have you heard of Save the Children?",
        "Are you familiar with this charity?",
        "Do you know what this organization does?",
        "Have you come across them before?",
    ),
    "children": (
        "Do you have any kids?",
        "Are you a parent?",
        "Do you have children of your own?",
        "Are there any children in your family?",
    ),
    "giving": (
        "Have you ever donated to a charity?",
        "Do you usually give to charities?",
        "How often do you donate?",
        "Which causes have you supported before?",
    ),
    "permission": (
        "Do you have a minute to hear about a charity?",
        "Can I tell you about an organization I support?",
        "Would you mind if I told you about a cause?",
        "Could I take a moment of your time?",
    ),
    "wellbeing": (
        "How are you doing today?",
        "How are you?",
        "How is your day going?",
        "Are you having a good day?",
    ),
    "opinion": (
        "How do you feel about donating to charity?",
        "What do you think about helping children in need?",
        "Do you care about children's rights?",
        "What matters to you when you choose a charity?",
    ),
}
MIN_SIMILARITY = 0.55
"""Below this cosine to every prototype, the question is of no known kind (a general answer)."""


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.maximum(np.linalg.norm(rows, axis=-1, keepdims=True), 1e-9)


INTENTS = {"counseling": COUNSELING_INTENTS, "persuasion": PERSUASION_INTENTS}


@cache
def _prototypes(task: str) -> tuple[list[str], np.ndarray]:
    reader = get_reader()
    intents = INTENTS[task]
    kinds = [k for k, qs in intents.items() for _ in qs]
    return kinds, _unit(np.stack([reader.embed(q) for qs in intents.values() for q in qs]))


def question_kind(text: str, task: str = "counseling") -> str | None:
    """The kind of question ``text`` asks (a key of ``INTENTS[task]``), or None."""
    if task not in INTENTS:
        raise InvalidInput(f"unknown task {task!r}; expected one of {sorted(INTENTS)}")
    if not text.strip():
        return None
    kinds, protos = _prototypes(task)
    sims = _unit(get_reader().embeddings(text)) @ protos.T  # every sentence and the whole turn
    row, col = np.unravel_index(int(np.argmax(sims)), sims.shape)
    return kinds[col] if sims[row, col] >= MIN_SIMILARITY else None
