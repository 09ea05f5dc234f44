"""Infer a persona from a transcript: what the user revealed, read with the cue lexicons.

The privileged-dynamics forward and reward models (``hindsight/embedded.py``) and the model-based
agent instantiate an embedded simulator with such a persona. Everything not revealed in the text is
drawn from the persona prior with the caller's own seed — never the source episode's seed, which
would recreate the true hidden persona.
"""

from __future__ import annotations

import collections
import dataclasses
import re
from collections.abc import Sequence

import numpy as np

from ..episode import Turn
from . import cues
from .counseling import NEED_CUE_FIDELITY
from .counseling_text import DETAILS
from .personas import (
    COUNSELING_NEEDS,
    PERSUASION_CONCERNS,
    CounselingPersona,
    PersuasionPersona,
    sample_counseling_persona,
    sample_persuasion_persona,
)
from .seeker_needs import need_posterior, voiced_needs


def _words(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"\b(" + "|".join(alternatives) + r")\b", re.I)


_CHILDREN_YES = _words(
    "i have (two |three |a |)(kids|children|son|daughter)",
    "i'm a parent",
    "a little (boy|girl)",
    "my (kids|children|son|daughter)",
)
_CHILDREN_NO = _words("no kids", "don't have any (kids|children)", "no children")
_AWARE_YES = _words("i've heard of them", "i know a little about them", "seen their ads")
_AWARE_NO = _words("never heard", "haven't heard", "first time i've heard", "what do they do")
_PROBLEMS = {
    "job crisis": _words("job", "work", "boss", "fired", "laid off", "layoffs", "hours", "rent"),
    "academic pressure": _words(
        "school", "exams?", "finals", "class(es)?", "grades", "thesis", "scholarship"
    ),
    "breakup with partner": _words(
        "breakup", "broke up", "partner", "ex", "girlfriend", "boyfriend"
    ),
    "problems with friends": _words("friend", "friends", "friendship"),
    "ongoing depression": _words(r"depress\w*", "out of bed", "enjoy", "motions", "empty"),
}


def _user_turns(turns: Sequence[Turn]) -> list[tuple[int, str]]:
    """(index among user turns, text) of the user's turns."""
    return [(k, t.text) for k, t in enumerate(t for t in turns if t.role == "user")]


def infer_persuasion_persona(turns: Sequence[Turn], rng: np.random.Generator) -> PersuasionPersona:
    """A persuadee consistent with what the transcript reveals; the rest from the prior."""
    prior = sample_persuasion_persona(rng)
    user = _user_turns(turns)
    types = collections.Counter(x for _, text in user for x in cues.persuasion_types_in(text))
    main_type = types.most_common(1)[0][0] if types else prior.main_type
    concerns: list[str] = []
    concern_turns: list[int] = []
    for k, text in user:
        for c in cues.concerns_in(text):
            if c in ("legitimacy", "impact", "money", "local") and c not in concerns:
                concerns.append(c)
                concern_turns.append(k + 1)  # voiced in the reply to agent turn k+1
    if not concerns:
        options = PERSUASION_CONCERNS[main_type]
        concerns, concern_turns = [options[0]], [int(rng.integers(1, 7))]
    text = " ".join(t for _, t in user)
    has_children = prior.has_children
    if _CHILDREN_YES.search(text):
        has_children = True
    elif _CHILDREN_NO.search(text):
        has_children = False
    aware = prior.aware
    if _AWARE_YES.search(text):
        aware = True
    elif _AWARE_NO.search(text):
        aware = False
    return dataclasses.replace(
        prior,
        main_type=main_type,
        concerns=concerns,
        concern_turns=concern_turns,
        has_children=has_children,
        aware=aware,
    )


def infer_counseling_persona(
    turns: Sequence[Turn], rng: np.random.Generator, initial_intensity: int | None = None
) -> CounselingPersona:
    """A help-seeker consistent with the transcript (and the reported initial intensity)."""
    prior = sample_counseling_persona(rng, DETAILS)
    said = [t for _, t in _user_turns(turns)]
    text = " ".join(said)
    problem = prior.problem
    hits = {p: len(pat.findall(text)) for p, pat in _PROBLEMS.items()}
    if max(hits.values()) > 0:
        problem = max(hits, key=hits.get)
    # the need: drawn from its posterior given the needs the seeker's words voice
    voiced = [v for t in said for v in voiced_needs(t)]
    post = need_posterior(problem, voiced, NEED_CUE_FIDELITY)
    need = COUNSELING_NEEDS[int(rng.choice(len(post), p=post))]
    risk = cues.mentions_risk(text)
    return dataclasses.replace(
        prior,
        need=need,
        problem=problem,
        intensity=int(initial_intensity) if initial_intensity else prior.intensity,
        readiness=0.75 if need == "advice" else prior.readiness,
        risk=risk,
        risk_turn=1 if risk else -1,
    )
