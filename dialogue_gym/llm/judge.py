"""``LLMJudge``: an optional reward model that reads a finished conversation and scores it.

Same parsing rules as the LLM user's final question: the answer is JSON (constrained to the
schema where the backend can: :mod:`.constrained`), validated, re-asked when
malformed (a bounded number of times), and clipped to the task's range; a judge that never gives a
valid answer raises :class:`~dialogue_gym.llm.parsing.ParseFailure` (callers record it as a
failure, never as 0). Usable by evaluation (``evaluate(..., judge=...)``) and by the hindsight
pipeline as a reward model.
"""

from __future__ import annotations

from typing import Any

from ..domains import domain_named
from ..errors import InvalidInput
from .base import ChatBackend, SamplingParams
from .constrained import number_schema
from .parsing import ask_json, number_field
from .spec import make_backend

QUESTIONS = {
    "persuasion": (
        "Above is a chat in which a persuader asks a crowd worker to donate part of a $2 task "
        'payment to Save the Children. Write a JSON object with one key, "donation", whose '
        "value is your estimate of the dollars (0 to 2) the worker donates.",
        "donation",
        (0, 2),
    ),
    "counseling": (
        'Above is an emotional-support chat. Write a JSON object with one key, "reduction", '
        "whose value is your estimate of how many points the seeker's emotional intensity "
        "(1-5 scale) fell during it (-4 to 4; negative if it rose).",
        "reduction",
        (-4, 4),
    ),
}


class LLMJudge:
    """Scores a conversation with a chat model (a learned-free reward model)."""

    def __init__(
        self, domain: str, llm: str | ChatBackend, max_attempts: int = 3, cache: bool = True
    ) -> None:
        if domain not in QUESTIONS:
            raise InvalidInput(f"unknown domain {domain!r}; allowed: {', '.join(QUESTIONS)}")
        self.domain = domain
        self.backend = make_backend(llm, cache=cache)
        self.max_attempts = max_attempts

    def prompt(self, messages: list[dict[str, str]]) -> list[dict[str, str]]:
        """The judge's request: the transcript, then the question."""
        facts = domain_named(self.domain)
        agent, user = facts.agent_role, facts.user_role
        lines = [f"{agent if m['role'] == 'assistant' else user}: {m['content']}" for m in messages]
        question = QUESTIONS[self.domain][0]
        return [
            {"role": "system", "content": "You are a careful judge of conversations."},
            {"role": "user", "content": "\n".join(lines) + "\n\n" + question},
        ]

    def score(self, messages: list[dict[str, str]], seed: int = 0) -> float:
        """The judged outcome, clipped to the task's range."""
        _, key, (low, high) = QUESTIONS[self.domain]
        value, _, _ = ask_json(
            self.backend,
            self.prompt(messages),
            number_field(key, low, high),
            SamplingParams(temperature=0.0, max_tokens=40),
            seed,
            self.max_attempts,
            schema=number_schema(key, low, high),
        )
        return value

    def config(self) -> dict[str, Any]:
        """Domain and backend description."""
        return {"domain": self.domain, "llm": self.backend.describe()}
