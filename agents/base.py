"""The agent interface: every agent, scripted or learned, speaks through ``act``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any


class Agent(ABC):
    """A dialogue agent: reads the conversation so far and says the next utterance."""

    name: str = "agent"
    privileged: bool = False
    """True only for agents that read the simulator's hidden persona (``info["privileged"]``):
    evaluation, generation and the benchmark give that information to no other agent."""

    def reset(self, seed: int | None = None) -> None:  # noqa: B027 - optional hook
        """Prepare for a new episode (agents with per-episode memory override this)."""

    @abstractmethod
    def act(self, observation: str, info: dict[str, Any]) -> str:
        """The next agent utterance, given the observation and the env's ``info``."""

    def act_batch(self, observations: Sequence[str], infos: Sequence[dict[str, Any]]) -> list[str]:
        """Act on several independent conversations (default: a loop over :meth:`act`)."""
        return [self.act(o, i) for o, i in zip(observations, infos, strict=True)]

    def config(self) -> dict[str, Any]:
        """A JSON-ready description of the agent (saved beside evaluation results)."""
        return {"name": self.name}
