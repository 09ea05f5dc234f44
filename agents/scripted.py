"""Scripted agents: the expert flows of each domain, with a noise knob (the behaviour policy).

Persuasion: the typical order of P4G persuaders (Wang et al. 2019, Sec. 4-5): greet, ask whether the
persuadee knows the charity, establish credibility, appeal to emotion and reason, propose a
donation, explain how it works, model the behaviour, ask again.
Counseling: Hill's helping-skills stages as followed by ESConv supporters (Liu et al. 2021):
exploration (questions, restatement) -> comforting (reflection, affirmation, self-disclosure) ->
action (suggestions, information).

``noise`` is the probability of replacing the scripted strategy with a uniformly random one;
``reactive`` lets the agent answer what the user voiced as a human expert would, read from the
user's words alone: a persuadee's concern; a help-seeker's self-harm mention (crisis resources)
or stated need (to vent, to be reassured, advice, information), met from the fourth turn on.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InvalidInput
from ..simulators import cues
from ..simulators.realizer import last_user_message, say
from ..simulators.strategies import get_domain
from .base import Agent

FLOWS: dict[str, tuple[str, ...]] = {
    "persuasion": (
        "non-strategy",
        "source-related-inquiry",
        "credibility-appeal",
        "emotion-appeal",
        "logical-appeal",
        "proposition-of-donation",
        "donation-information",
        "personal-story",
        "self-modeling",
        "proposition-of-donation",
    ),
    "counseling": (
        "Others",
        "Question",
        "Restatement or Paraphrasing",
        "Question",
        "Reflection of feelings",
        "Affirmation and Reassurance",
        "Self-disclosure",
        "Providing Suggestions",
        "Information",
        "Affirmation and Reassurance",
    ),
}
"""The expert flow of each domain (one strategy per agent turn; the last repeats if longer)."""

HUMAN_LIKE_NOISE = 0.2
"""Noise of the human-like behaviour policy (reactive scripted agent): the simulators are
calibrated so that this policy reproduces the corpora's outcomes (P4G: 46% give $0, mean $0.41;
ESConv: mean intensity drop about 2)."""


CRISIS_LINE = (
    "I'm really glad you told me. If you ever feel unsafe, please call or text 988 or your "
    "local crisis line right away; you don't have to go through this alone."
)
"""The scripted supporter's answer to a mention of self-harm (crisis resources)."""


class ScriptedAgent(Agent):
    """Follows a fixed strategy flow, optionally noisy and reactive, realized as varied text."""

    name = "scripted"

    def __init__(
        self,
        domain: str,
        noise: float = 0.0,
        reactive: bool = True,
        flow: tuple[str, ...] | None = None,
        seed: int | None = None,
    ) -> None:
        self.domain = get_domain(domain)
        if not 0.0 <= noise <= 1.0:
            raise InvalidInput(f"noise must be in [0, 1], got {noise}")
        self.flow = tuple(flow) if flow is not None else FLOWS[domain]
        for s in self.flow:
            self.domain.index(s)
        self.noise = noise
        self.reactive = reactive
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.turn = 0
        self.need: str | None = None

    def reset(self, seed: int | None = None, turn: int = 0) -> None:
        """Restart the flow at ``turn`` (a dialogue taken over part-way: its agent turns so far);
        ``seed`` fixes the noise and the wording."""
        self.rng = np.random.default_rng(self.seed if seed is None else seed)
        self.turn = turn
        self.need: str | None = None

    def choose(self, info: dict[str, Any]) -> str:
        """The strategy for this turn."""
        strategy = self.flow[min(self.turn, len(self.flow) - 1)]
        last = last_user_message(info)
        if self.reactive and last:
            reaction = self._react(last)
            if reaction is not None and self.rng.random() >= self.noise:
                strategy = reaction
        if self.rng.random() < self.noise:
            names = self.domain.strategies
            strategy = names[int(self.rng.integers(len(names)))]
        return strategy

    def _react(self, last: str) -> str | None:
        if self.domain.name == "persuasion":
            found = cues.concerns_in(last)
            return cues.CONCERN_RESPONSE[found[0]] if found else None
        if cues.mentions_risk(last):
            return "Information"
        found = cues.counseling_needs_in(last)
        if found:
            self.need = found[0]
        if self.need is not None and self.turn >= 3 and self.turn % 2 == 0:
            return cues.NEED_RESPONSE[self.need]  # a trained supporter meets the stated need
        return None

    def act(self, observation: str, info: dict[str, Any]) -> str:
        """Choose a strategy and word it."""
        strategy = self.choose(info)
        self.turn += 1
        if strategy == "Information" and cues.mentions_risk(last_user_message(info)):
            return CRISIS_LINE
        return say(self.domain.name, strategy, self.rng, info)

    def config(self) -> dict[str, Any]:
        """Name, domain, noise, reactivity and flow."""
        return {
            "name": self.name,
            "domain": self.domain.name,
            "noise": self.noise,
            "reactive": self.reactive,
            "flow": list(self.flow),
        }


class RandomAgent(Agent):
    """Picks a uniformly random strategy each turn and words it."""

    name = "random"

    def __init__(self, domain: str, seed: int | None = None) -> None:
        self.domain = get_domain(domain)
        self.seed = seed
        self.rng = np.random.default_rng(seed)

    def reset(self, seed: int | None = None) -> None:
        """Reseed the strategy and wording choices."""
        self.rng = np.random.default_rng(self.seed if seed is None else seed)

    def act(self, observation: str, info: dict[str, Any]) -> str:
        """A random strategy, realized as text."""
        names = self.domain.strategies
        strategy = names[int(self.rng.integers(len(names)))]
        return say(self.domain.name, strategy, self.rng, info)

    def config(self) -> dict[str, Any]:
        """Name and domain."""
        return {"name": self.name, "domain": self.domain.name}
