"""The interface every simulated user implements, embedded or LLM-played."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class UserReply:
    """What the simulated user says after an agent turn, and whether it ends the conversation."""

    text: str
    done: bool = False
    reason: str = ""
    info: dict[str, Any] = field(default_factory=dict)


class SimulatedUser(ABC):
    """A simulated conversation partner with a hidden persona and a hidden mental state.

    The environment calls :meth:`reset` once per episode with its seeded generator, then
    :meth:`respond` after each agent utterance, and reads :meth:`outcome` when the episode ends.
    """

    domain: str
    """"persuasion" or "counseling"."""
    opens: bool
    """True if the user speaks first (the reset observation then holds its opening line)."""

    @abstractmethod
    def reset(self, rng: np.random.Generator, persona: dict[str, Any] | None = None) -> str | None:
        """Start a new conversation; return the user's opening line, or None if the agent opens.

        ``persona`` fixes part or all of the persona (see the domain's persona sampler); the rest
        is drawn from ``rng``."""

    @abstractmethod
    def respond(self, agent_text: str) -> UserReply:
        """React to one agent utterance."""

    @abstractmethod
    def outcome(self) -> float:
        """The task outcome implied by the current hidden state (the terminal reward)."""

    @abstractmethod
    def privileged(self) -> dict[str, Any]:
        """Hidden persona and state, for analysis and oracle agents only."""

    def outcome_details(self) -> dict[str, Any]:
        """What the user reports at the end besides the reward (e.g. the final intensity)."""
        return {}


def shallow_copy(state: Any) -> Any:
    """A shallow copy of a plain state object (``copy.copy`` without its generic machinery: the
    planners copy states hundreds of thousands of times per episode)."""
    new = object.__new__(type(state))
    new.__dict__.update(state.__dict__)
    return new


class Dynamics(ABC):
    """Deterministic hidden-state dynamics of one persona: what oracle planners look ahead with."""

    @abstractmethod
    def initial_state(self) -> Any:
        """The hidden state before the first agent turn."""

    @abstractmethod
    def step(self, state: Any, labels: tuple[str, ...], **cues: Any) -> tuple[Any, Any]:
        """The state after an agent turn expressing ``labels`` (and :meth:`cues` of its text)."""

    def cues(
        self, text: str, labels: tuple[str, ...] = (), context: Sequence[str] | None = None
    ) -> dict[str, Any]:
        """What, besides its strategies (``labels``), the dynamics read from an agent utterance;
        ``context`` is what the user has said so far, in order (None: not read against it)."""
        from .classifier import get_reader

        return {"harm": get_reader().harm(text)}

    def play(self, turns: Iterable[tuple[tuple[str, ...], dict[str, Any]]]) -> Any:
        """The state after ``turns`` ((labels, cues) per agent turn) from the initial state,
        stopping where the user ends the conversation (replays of recorded or scripted turns)."""
        state = self.initial_state()
        for labels, cues in turns:
            state, _ = self.step(state, labels, **cues)
            if self.ended(state):
                break
        return state

    @abstractmethod
    def outcome(self, state: Any) -> float:
        """The terminal reward if the conversation ended in ``state``."""

    @abstractmethod
    def value(self, state: Any) -> float:
        """A smooth progress score of ``state`` (tie-breaker for planners)."""

    @staticmethod
    def ended(state: Any) -> bool:
        """True if the user has ended the conversation in ``state``."""
        return bool(getattr(state, "ended", ""))
