"""The three parts of hindsight regeneration (Hong et al. 2024, Sec. 4).

- :class:`HindsightController` (c_H): reads a *completed* episode — its transcript and outcome,
  never the hidden persona — and proposes which agent turn to rewrite and the better utterance.
- :class:`ForwardModel` (P-hat): continues a dialogue from a prefix that ends with the rewritten
  agent turn to completion, both sides.
- :class:`RewardModel` (r-hat): scores a completed dialogue, clipped to the task's range.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..domains import domain_of, env_key
from ..episode import Episode, Turn
from ..errors import InvalidInput


def stable_seed(*parts: Any) -> int:
    """A seed from a hash of ``parts`` (episode ids, round numbers): independent of env seeds."""
    blob = "|".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.sha256(blob).digest()[:8], "little") % (2**63)


def single_env(episodes: Sequence[Episode], what: str) -> str:
    """The one env key of ``episodes``; ``ValueError`` (``what`` says which component and how it
    uses them, e.g. "a reward model is fitted on") if they hold none or several."""
    envs = sorted({env_key(e.env_id) for e in episodes})
    if len(envs) != 1:
        raise InvalidInput(f"{what} one env's episodes; got {envs}")
    return envs[0]


def clip_reward(env_id: str, value: float) -> float:
    """``value`` clipped to the task's reward range."""
    return domain_of(env_id).clip(value)


@dataclass
class Proposal:
    """Rewrite agent turn ``turn_index`` (an index into ``episode.turns``) as ``text``."""

    turn_index: int
    text: str
    strategy: str | None
    rationale: str
    priority: float = 0.0
    in_support: bool | None = None
    """Whether the data show the move in this context enough to learn from (None: not said)."""


@dataclass
class Continuation:
    """The dialogue after the prefix (both sides) and what the forward model knows about it."""

    turns: list[Turn]
    info: dict[str, Any] = field(default_factory=dict)


class HindsightController(ABC):
    """Proposes better agent utterances for a completed episode."""

    name = "controller"

    @abstractmethod
    def propose(self, episode: Episode, k: int = 1) -> list[Proposal]:
        """Up to ``k`` proposals on distinct turns, best first (empty if none is worth making)."""

    def config(self) -> dict[str, Any]:
        """What this controller is (saved in provenance)."""
        return {"name": self.name}


class ForwardModel(ABC):
    """Continues a dialogue from a prefix to completion."""

    name = "forward"
    oracle = False
    """True for the labelled ablation that uses the true environment."""

    @abstractmethod
    def continue_dialogue(self, episode: Episode, prefix: list[Turn], seed: int) -> Continuation:
        """Continue ``prefix`` (the source episode's turns up to and with the rewritten agent
        turn) with ``seed``; ``episode`` gives the env and its options, never a persona."""

    def config(self) -> dict[str, Any]:
        """What this forward model is (saved in provenance)."""
        return {"name": self.name, "oracle": self.oracle}


class RewardModel(ABC):
    """Scores a completed dialogue."""

    name = "reward"
    oracle = False

    @abstractmethod
    def score(self, episode: Episode, turns: list[Turn], seed: int) -> float:
        """The outcome of the dialogue ``turns`` (in ``episode``'s env), clipped to its range."""

    penalty = 0.0
    """The multiple of its members' disagreement the model takes off a score (ensembles)."""

    def member_scores(self, episode: Episode, turns: list[Turn], seed: int) -> np.ndarray:
        """Each member's score of ``turns`` (shape (K,)): a single model is one member, its
        score; an ensemble overrides this with its members' unpenalized predictions."""
        return np.array([self.score(episode, turns, seed)], dtype=float)

    def succeeds(self, episode: Episode, turns: list[Turn]) -> bool | None:
        """Whether the dialogue reaches the task's success bar, where the score alone cannot say
        (an expected value is never exactly 0); None: judge the score by the usual criterion."""
        return None

    def config(self) -> dict[str, Any]:
        """What this reward model is (saved in provenance)."""
        return {"name": self.name, "oracle": self.oracle}
