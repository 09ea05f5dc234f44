"""Real ESConv supporters replayed against their own seekers, on the Counseling dynamics.

Each supporter turn (consecutive utterances joined) is read as the environment reads an agent's
turn (strategies, harm, crisis help) and, as the environment does, against what *the real seeker*
had said before it (engagement, parroting: :func:`~.counseling.seeker_cues`). The seeker's
persona takes the dialogue's problem, emotion and initial intensity; their latent need is drawn
from its posterior given the needs their own words voice (:mod:`.seeker_needs`), and a seeker
whose words mention self-harm discloses it where they did. The other latent attributes are drawn.
Used by ``scripts/fit_outcome.py`` (train split) and by ``sim-report`` (test split).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import counseling as C
from .classifier import get_classifier
from .corpus_personas import esconv_exchanges, esconv_seekers
from .counseling_text import DETAILS
from .cues import mentions_risk
from .personas import COUNSELING_NEEDS, load_params, sample_counseling_persona
from .seeker_needs import need_posterior, voiced_needs

REAL_CUE_FIDELITY: float = load_params("counseling_outcome")["need_cue_fidelity_fit"]
"""How often a real seeker's voiced need, as we read it, is their own (the fit on ESConv train
seekers): the posterior a replay draws the need from. Simulated seekers use
:data:`~.counseling.NEED_CUE_FIDELITY`."""


@dataclass
class ESConvReplay:
    """One real dialogue, read once: its seeker and its supporter turns as the dynamics see them."""

    given: dict[str, Any]
    voiced: list[str]
    turns: list[tuple[tuple[str, ...], dict[str, Any]]]
    texts: list[str]
    drop: float

    def persona(self, seed: int) -> C.CounselingPersona:
        """A persona for this seeker: the need drawn from its posterior (seeded)."""
        rng = np.random.default_rng(seed)
        post = need_posterior(self.given["problem"], self.voiced, REAL_CUE_FIDELITY)
        need = COUNSELING_NEEDS[int(rng.choice(len(post), p=post))]
        return sample_counseling_persona(rng, DETAILS, self.given | {"need": need})

    def play(self, seed: int) -> tuple[C.CounselingDynamics, C.CounselingState]:
        """The seeker's dynamics and final state after every real turn (or where they ended
        the talk: ``state.turn`` turns were played)."""
        dyn = C.CounselingDynamics(self.persona(seed))
        return dyn, dyn.play(self.turns)

    def simulated_drop(self, seed: int) -> float:
        """The simulated intensity drop of one replay."""
        dyn, state = self.play(seed)
        return dyn.outcome(state)


def read_dialogue(d: dict[str, Any]) -> ESConvReplay:
    """Read one :func:`~.corpus_personas.esconv_seekers` dialogue for replay."""
    clf = get_classifier("counseling")
    exchanges = esconv_exchanges(d["dialog"])
    dyn = C.CounselingDynamics(sample_counseling_persona(np.random.default_rng(0), DETAILS))
    turns, risk_turn = [], -1
    for k, (context, turn) in enumerate(exchanges):
        labels = clf.classify(turn)
        turns.append((labels, dyn.cues(turn, labels, context)))
        if risk_turn < 0 and context and mentions_risk(context[-1]):
            risk_turn = max(1, k)
    seeker = [t["text"] for t in d["dialog"] if t["speaker"] == "usr"]
    if risk_turn < 0 and any(mentions_risk(t) for t in seeker):
        risk_turn = len(exchanges)
    given = dict(d["persona"]) | {"risk": risk_turn >= 0, "risk_turn": risk_turn}
    voiced = [v for t in seeker for v in voiced_needs(t)]
    return ESConvReplay(given, voiced, turns, [t for _, t in exchanges], float(d["drop"] or 0.0))


def read_split(path: Path, limit: int | None = None) -> list[ESConvReplay]:
    """Every dialogue of an ESConv split that reports a final intensity, read for replay."""
    return [read_dialogue(d) for d in esconv_seekers(path)[:limit] if d["drop"] is not None]


def replay_drops(replays: list[ESConvReplay], draws: int, first_seed: int) -> np.ndarray:
    """(dialogues, draws) simulated drops; draw ``j`` of dialogue ``i`` uses seed
    ``first_seed + draws * i + j``."""
    return np.array(
        [
            [r.simulated_drop(first_seed + draws * i + j) for j in range(draws)]
            for i, r in enumerate(replays)
        ]
    )
