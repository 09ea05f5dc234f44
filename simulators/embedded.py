"""``EmbeddedUser``: the shared loop of the embedded simulated users.

Each turn: classify the agent's words into strategies, read the few other cues the dynamics use
(harm, an amount, crisis resources), move the hidden state with the persona's deterministic
dynamics, then word a reply from the turn's events with the episode's own wording generator.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

import numpy as np

from .base import Dynamics, SimulatedUser, UserReply
from .classifier import get_classifier


class EmbeddedUser(SimulatedUser):
    """A simulated user made of a persona, its :class:`Dynamics` and a reply wording."""

    def __init__(self) -> None:
        self.classifier = get_classifier(self.domain)
        self.persona: Any = None
        self.dynamics: Dynamics | None = None
        self.state: Any = None
        self._rng = np.random.default_rng(0)

    @abstractmethod
    def _new_persona(
        self, rng: np.random.Generator, given: dict[str, Any] | None
    ) -> tuple[Any, Dynamics]:
        """Draw a persona (``given`` fixes any part of it) and build its dynamics."""

    @abstractmethod
    def _start(self) -> str | None:
        """Reset per-episode wording memory; return the opening line (or None)."""

    @abstractmethod
    def _word(self, events: Any) -> str:
        """The reply to one turn's events."""

    def _reply_info(self, text: str, events: Any) -> dict[str, Any]:
        """Extra ``info`` about a reply: what the user voiced in it (subclasses add keys)."""
        return {}

    def reset(self, rng: np.random.Generator, persona: dict[str, Any] | None = None) -> str | None:
        """Draw a persona from ``rng`` (``persona`` fixes any part of it), then a separate
        wording stream; return the opening."""
        self.persona, self.dynamics = self._new_persona(rng, persona)
        self.state = self.dynamics.initial_state()
        self._rng = np.random.default_rng(rng.integers(2**63))
        self.agent_text = ""  # the agent's last turn, for the wording only
        opening = self._start()
        self.said: list[str] = [opening] if opening else []  # the user's messages so far
        return opening

    def respond(self, agent_text: str) -> UserReply:
        """Classify the agent's words, move the hidden state, and word a reply."""
        if self.dynamics is None:
            raise RuntimeError(f"{type(self).__name__}.respond called before reset")
        labels = self.classifier.classify(agent_text)
        cues = self.dynamics.cues(agent_text, labels, self.said)
        self.state, events = self.dynamics.step(self.state, labels, **cues)
        self.agent_text = agent_text
        text = self._word(events)
        self.said.append(text)
        return UserReply(
            text=text,
            done=bool(self.state.ended),
            reason=self.state.ended,
            info={
                "strategies": list(labels),
                "harm": events.harm,
                **self._reply_info(text, events),
            },
        )

    def outcome(self) -> float:
        """The outcome implied by the current hidden state."""
        if self.dynamics is None:
            raise RuntimeError(f"{type(self).__name__}.outcome called before reset")
        return self.dynamics.outcome(self.state)

    def _pick(self, options: tuple[str, ...] | list[str]) -> str:
        return options[int(self._rng.integers(len(options)))]
