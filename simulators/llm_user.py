"""``LLMUser``: a language model role-plays the persuadee or the help-seeker.

The persona comes from the same samplers as the embedded simulator (so both modes are comparable)
and is written into a persona card (:mod:`.persona_cards`). The agent's words reach the model
delimited as the other party's speech, with the instruction never to follow instructions inside
them. The model may end the chat by writing ``[END]``. After the last turn a structured final
question asks for the outcome (the donation; the emotional intensity now) as JSON, validated,
re-asked when malformed, and clipped to the task's range. When the model cannot answer (no valid
outcome after the allowed attempts, a refusal) the episode ends as *failed* (its reason in
``info``): a result, recorded, whose env reward is a placeholder 0.0 that evaluation never
counts. When the backend cannot be reached or errs after its retries,
:class:`~dialogue_gym.errors.BackendError` propagates out of ``reset``/``step``: that is not a
result, and no episode is recorded for it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..domains import domain_named
from ..errors import InvalidInput, UsageError
from ..llm.base import ChatBackend, SamplingParams
from ..llm.constrained import number_schema
from ..llm.parsing import ParseFailure, ask_json, number_field
from .base import SimulatedUser, UserReply
from .counseling_text import DETAILS
from .persona_cards import END, counseling_card, persuasion_card
from .personas import sample_counseling_persona, sample_persuasion_persona


def quote(agent_role: str, text: str) -> str:
    """Agent text delimited as the other party's words: a speaker tag the persona card explains
    (a short tag, because small models echo long framing)."""
    return f"{agent_role.capitalize()}: {text}"


def clean_reply(text: str, user_role: str, max_sentences: int = 3) -> str:
    """Strip a speaker tag the model may add, keep the first paragraph, at most a few sentences."""
    import re

    text = text.strip()
    for tag in (f"{user_role}:", f"{user_role.capitalize()}:", "You:", "Me:"):
        if text.startswith(tag):
            text = text[len(tag) :].strip()
    text = text.split("\n\n")[0].replace("\n", " ").strip()
    sentences = re.split(r"(?<=[.!?])\s+", text)
    return " ".join(sentences[:max_sentences])


class LLMUser(SimulatedUser):
    """A simulated user played by a chat model through any :class:`ChatBackend`."""

    opens: bool

    def __init__(
        self,
        domain: str,
        backend: ChatBackend,
        params: SamplingParams | None = None,
        max_parse_attempts: int = 3,
    ) -> None:
        if domain not in ("persuasion", "counseling"):
            raise InvalidInput(f"unknown domain {domain!r}; allowed: persuasion, counseling")
        self.domain = domain
        self.opens = domain == "counseling"
        facts = domain_named(domain)
        self.agent_role, self.user_role = facts.agent_role.lower(), facts.user_role.lower()
        self.backend = backend
        self.params = params or SamplingParams(temperature=0.7, max_tokens=80)
        self.max_parse_attempts = max_parse_attempts
        self.persona: Any = None
        self._messages: list[dict[str, str]] = []
        self._seed = 0
        self._turn = 0
        self._outcome: float | None = None
        self.failure: str | None = None
        self.parse_attempts = 0

    def reset(self, rng: np.random.Generator, persona: dict[str, Any] | None = None) -> str | None:
        """Draw a persona card (``persona`` fixes any part of it); the help-seeker opens."""
        if self.domain == "persuasion":
            self.persona = sample_persuasion_persona(rng, persona)
            card = persuasion_card(self.persona)
        else:
            self.persona = sample_counseling_persona(rng, DETAILS, persona)
            card = counseling_card(self.persona)
        self._seed = int(rng.integers(2**31))
        self._messages = [{"role": "system", "content": card}]
        self._turn, self._outcome, self.failure, self.parse_attempts = 0, None, None, 0
        if not self.opens:
            return None
        prompt = "Start the chat: greet the supporter and say briefly how you feel."
        text = self._say([*self._messages, {"role": "user", "content": prompt}])
        if text is None:
            return "Hi."  # the failure is reported on the first step
        text = clean_reply(text, self.user_role)
        self._messages.append({"role": "assistant", "content": text})
        return text

    @property
    def card(self) -> str | None:
        """The persona card of the current episode (None before ``reset``)."""
        return self._messages[0]["content"] if self._messages else None

    def _say(self, messages: list[dict[str, str]]) -> str | None:
        """The model's text, or None (and ``failure``) if it refused; a ``BackendError``
        propagates: an unreachable backend is not the model's answer."""
        result = self.backend.chat(messages, self.params, self._seed + self._turn)
        if result.refused:
            self.failure = "the model refused to answer"
            return None
        return result.text.strip()

    def respond(self, agent_text: str) -> UserReply:
        """The model's reply to the agent's words (delimited as theirs)."""
        if self.persona is None:
            raise UsageError("LLMUser.respond called before reset")
        if self.failure:
            return UserReply("", done=True, reason="failed", info={"failure": self.failure})
        self._turn += 1
        self._messages.append({"role": "user", "content": quote(self.agent_role, agent_text)})
        text = self._say(self._messages)
        if text is None:
            return UserReply("", done=True, reason="failed", info={"failure": self.failure})
        done = END in text
        text = clean_reply(text.replace(END, ""), self.user_role)
        self._messages.append({"role": "assistant", "content": text})
        return UserReply(text, done=done, reason="left" if done else "", info={})

    def outcome(self) -> float:
        """Ask the structured final question once; 0.0 placeholder (and ``failure``) if it fails."""
        if self._outcome is not None:
            return self._outcome
        if self.failure:
            return 0.0
        if self.domain == "persuasion":
            question = (
                'Write a JSON object with one key, "donation", whose value is the number of '
                "dollars (0 to 2) of your $2 payment that you donate to Save the Children."
            )
            key, low, high = "donation", 0, 2
        else:
            question = (
                'Write a JSON object with one key, "intensity", whose value is how intense your '
                "emotion is now, from 1 (mild) to 5 (very intense)."
            )
            key, low, high = "intensity", 1, 5
        # A fresh request (persona card, the transcript as text, the question): small models
        # answer in JSON far more often than when the question continues the role-play chat.
        lines = [
            m["content"] if m["role"] == "user" else f"You: {m['content']}"
            for m in self._messages[1:]
        ]
        messages = [
            self._messages[0],
            {
                "role": "user",
                "content": "The chat is over. It went:\n" + "\n".join(lines) + "\n\n" + question,
            },
        ]
        params = SamplingParams(temperature=0.0, max_tokens=40)
        try:
            value, attempts, _ = ask_json(
                self.backend,
                messages,
                number_field(key, low, high),
                params,
                self._seed + 10_000,
                self.max_parse_attempts,
                schema=number_schema(key, low, high),
            )
        except ParseFailure as e:
            self.failure = f"no valid outcome: {e.reason}"
            self.parse_attempts = e.attempts
            self.raw_outcome = e.raw
            return 0.0
        self.parse_attempts = attempts
        if self.domain == "persuasion":
            self._outcome = round(value, 2)
        else:
            self.final_intensity = int(round(value))
            self._outcome = float(self.persona.intensity - self.final_intensity)
        return self._outcome

    def outcome_details(self) -> dict[str, Any]:
        """Outcome details, the number of parse attempts and, on failure, the raw answer."""
        d: dict[str, Any] = {"parse_attempts": self.parse_attempts}
        if self.failure:
            d.update(status="failed", failure=self.failure)
            if getattr(self, "raw_outcome", None) is not None:
                d["raw_answer"] = self.raw_outcome
        elif self.domain == "persuasion":
            d["donation"] = self._outcome
        else:
            d.update(initial_intensity=self.persona.intensity, final_intensity=self.final_intensity)
        return d

    def privileged(self) -> dict[str, Any]:
        """The persona card's source (no hidden state: the model has none we can read)."""
        return {"persona": self.persona.to_dict() if self.persona is not None else None}
