"""``EmbeddedUser``: the shared loop of the embedded simulated users.

Each turn: classify the agent's words into strategies, read the few other cues the dynamics use
(harm, an amount, crisis resources), move the hidden state with the persona's deterministic
dynamics, then word a reply from the turn's events with the episode's own wording generator.
"""

from __future__ import annotations

import re
from abc import abstractmethod
from typing import Any

import numpy as np

from ..errors import UsageError
from .base import Dynamics, SimulatedUser, UserReply
from .classifier import get_classifier
from .uptake import mirrors


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
        return self.start_with(*self._new_persona(rng, persona), rng)

    def start_with(self, persona: Any, dynamics: Dynamics, rng: np.random.Generator) -> str | None:
        """Start a conversation as ``persona`` with ``dynamics`` (a persona inferred or built
        elsewhere, not drawn), the wording drawn from ``rng``; return the opening."""
        self.persona, self.dynamics = persona, dynamics
        self.state = self.dynamics.initial_state()
        seed = int(rng.integers(2**63))
        self._rng = np.random.default_rng(seed)
        self._echo_rng = np.random.default_rng([seed, 1])  # echoes leave the rest's draws alone
        self.agent_text = ""  # the agent's last turn, for the wording only
        opening = self._start()
        self.said: list[str] = [opening] if opening else []  # the user's messages so far
        return opening

    def respond(self, agent_text: str) -> UserReply:
        """Classify the agent's words, move the hidden state, and word a reply."""
        if self.dynamics is None:
            raise UsageError(f"{type(self).__name__}.respond called before reset")
        labels = self.classifier.classify(agent_text)
        cues = self.dynamics.cues(agent_text, labels, self.said)
        self.state, events = self.dynamics.step(self.state, labels, **cues)
        self.agent_text = agent_text
        self._echoes: list[str] = []  # parts of the reply that only take up the agent's words
        text = self._word(events)
        own = text
        for echo in self._echoes:  # later turns are read against what the user said of their own
            own = re.sub(re.escape(echo), "", own, count=1, flags=re.I)
        if own.strip():
            self.said.append(" ".join(own.split()))
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
            raise UsageError(f"{type(self).__name__}.outcome called before reset")
        return self.dynamics.outcome(self.state)

    def _pick(self, options: tuple[str, ...] | list[str]) -> str:
        return options[int(self._rng.integers(len(options)))]

    def _mirror(self, options: tuple[str, ...] | list[str], echo: bool = False) -> str:
        """Like :meth:`_pick` (one draw; from the echo stream with ``echo``), among the options
        that share the most words with the agent's turn (:func:`.uptake.mirrors`): options must
        be equally true."""
        best = mirrors(options, self.agent_text)
        rng = self._echo_rng if echo else self._rng
        return options[best[int(rng.integers(len(best)))]]

    def _fit(self, parts: list[str], limit: int = 4, keep: tuple[str, ...] = ()) -> str:
        """The reply made of ``parts``, at most ``limit`` of them (besides those in ``keep``):
        echoes of the agent's words go first (bar the closing part), then the latest parts."""
        parts = [p for p in parts if p]
        last = parts[-1:] if parts else []
        order = [p for p in self._echoes if p in parts[:-1]]
        order += [p for p in reversed(parts[:-1]) if p not in order] + last
        for p in order:
            if len(parts) <= limit:
                break
            if p not in keep:
                parts.remove(p)
        return " ".join(parts)

    def _echo(self, options: tuple[str, ...] | list[str], **slots: str) -> str:
        """A part of the reply that takes up the agent's turn (:mod:`.uptake`): drawn from its own
        stream (so it changes no other part of the reply) and left out of what later agent turns
        are read against."""
        text = options[int(self._echo_rng.integers(len(options)))]
        text = text.format(**slots) if slots else text
        self._echoes.append(text)
        return text
