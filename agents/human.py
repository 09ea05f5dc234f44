"""A person as the agent: reads the user's replies in the terminal and types the next line."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TextIO

from ..simulators.strategies import get_domain
from .base import Agent

ROLE = {"persuasion": "Persuader", "counseling": "Supporter"}


class HumanAgent(Agent):
    """Shows each new user message and asks the person at the keyboard for the next utterance.

    End of input (Ctrl-D, or stdin closed) raises ``EOFError`` so the caller can save what was
    said so far.
    """

    name = "human"

    def __init__(
        self,
        domain: str,
        input_fn: Callable[[str], str] = input,
        output: TextIO | None = None,
    ) -> None:
        self.domain = get_domain(domain)
        self.input_fn = input_fn
        self.output = output
        self._shown = 0

    def reset(self, seed: int | None = None) -> None:
        """Start showing a new conversation."""
        self._shown = 0

    def act(self, observation: str, info: dict[str, Any]) -> str:
        """Print the messages not shown yet, then read one line."""
        out = self.output or sys.stdout
        messages = info.get("messages", [])
        for m in messages[self._shown :]:
            if m["role"] == "user":
                out.write(f"them> {m['content']}\n")
        out.flush()
        self._shown = len(messages) + 1
        try:
            return self.input_fn(f"you ({ROLE[self.domain.name]})> ")
        except EOFError:  # Ctrl-D: the person is done, as with Ctrl-C
            raise KeyboardInterrupt from None

    def config(self) -> dict[str, Any]:
        """Name and domain."""
        return {"name": self.name, "domain": self.domain.name}
