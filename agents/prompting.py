"""Prompting agents over any chat backend: zero-shot, and ProCoT-style plan-then-speak.

``prompting``: the task description as the system prompt, the conversation as chat history.
``procot`` (Deng et al. 2023, "Prompting and Evaluating Large Language Models for Proactive
Dialogues"): first choose the next strategy from the domain's list with a short reason (JSON,
validated and re-asked when malformed), then write the utterance that carries it out.
"""

from __future__ import annotations

from typing import Any

from ..errors import InvalidInput
from ..llm.base import ChatBackend, SamplingParams
from ..llm.parsing import ParseFailure, ask_json
from ..llm.spec import make_backend
from ..simulators.strategies import get_domain
from .base import Agent

TASKS = {
    "persuasion": (
        "You are a crowd worker chatting with another worker who just earned a $2 task payment. "
        "Your goal is to persuade them to donate part or all of it to the charity Save the "
        "Children, which helps children in developing countries and the US with health care, "
        "education and protection. Be honest, polite and natural. Reply in one to three short "
        "sentences, as in a chat."
    ),
    "counseling": (
        "You are a supporter in an online emotional-support chat. The other person is in "
        "distress. Your goal is to help them feel better: understand their problem, comfort "
        "them, and, once you understand, help them find a way forward. Be warm and natural. If "
        "they mention self-harm, respond with care and point them to a crisis line such as 988. "
        "Reply in one to three short sentences."
    ),
}


OPENING = "(The chat has started. Say hello.)"
"""The user message that asks a chat model to open when nobody has spoken yet."""


def chat_messages(domain: str, messages: list[dict[str, str]]) -> list[dict[str, str]]:
    """What a chat-model agent sees: the task as system prompt, an opening cue when nobody has
    spoken yet, then the conversation. Training records (SFT, DPO, ILQL) use the same form."""
    system = [{"role": "system", "content": TASKS[domain]}]
    if not messages or messages[0]["role"] == "assistant":
        system.append({"role": "user", "content": OPENING})
    return system + list(messages)


class PromptingAgent(Agent):
    """A chat model prompted with the task description (zero-shot)."""

    name = "prompting"

    def __init__(
        self,
        domain: str,
        llm: str | ChatBackend,
        temperature: float = 0.7,
        max_tokens: int = 100,
        cache: bool = True,
        seed: int | None = None,
    ) -> None:
        self.domain = get_domain(domain)
        self.backend = make_backend(llm, cache=cache)
        self.params = SamplingParams(temperature=temperature, max_tokens=max_tokens)
        self.seed = seed
        self._episode_seed = seed or 0
        self.turn = 0

    def reset(self, seed: int | None = None) -> None:
        """New episode: the request seeds derive from ``seed``."""
        self._episode_seed = (self.seed if seed is None else seed) or 0
        self.turn = 0

    def _request_seed(self, k: int = 0) -> int:
        return (self._episode_seed * 1000 + self.turn * 10 + k) % (2**31)

    def _history(self, info: dict[str, Any]) -> list[dict[str, str]]:
        return chat_messages(self.domain.name, info.get("messages", []))

    def act(self, observation: str, info: dict[str, Any]) -> str:
        """The model's next message."""
        messages = self._history(info)
        text = self.backend.chat(messages, self.params, self._request_seed()).text.strip()
        self.turn += 1
        return text

    def config(self) -> dict[str, Any]:
        """Name, domain, backend description and sampling parameters."""
        return {
            "name": self.name,
            "domain": self.domain.name,
            "llm": self.backend.describe(),
            "temperature": self.params.temperature,
            "max_tokens": self.params.max_tokens,
        }


class ProCoTAgent(PromptingAgent):
    """Plan (strategy + reason, as JSON) then speak; the plan is kept in ``last_plan``."""

    name = "procot"

    def __init__(self, *args: Any, max_parse_attempts: int = 3, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_parse_attempts = max_parse_attempts
        self.last_plan: dict[str, Any] = {}
        self.plan_failures = 0
        self.plan_schema = {
            "type": "object",
            "properties": {
                "strategy": {"type": "string", "enum": list(self.domain.strategies)},
                "reason": {"type": "string"},
            },
            "required": ["strategy", "reason"],
            "additionalProperties": False,
        }
        """The plan's JSON schema (sent to endpoints; enforced on local models)."""

    def _validate(self, obj: Any) -> str:
        names = {s.lower(): s for s in self.domain.strategies}
        if not isinstance(obj, dict) or "strategy" not in obj:
            raise InvalidInput('expected a JSON object with the key "strategy"')
        choice = str(obj["strategy"]).strip().lower()
        if choice not in names:
            raise InvalidInput(f'"strategy" must be one of: {", ".join(self.domain.strategies)}')
        return names[choice]

    def act(self, observation: str, info: dict[str, Any]) -> str:
        """Choose a strategy, then write the message that carries it out."""
        history = self._history(info)
        listing = "\n".join(f"- {s}: {d}" for s, d in self.domain.descriptions.items())
        plan_prompt = (
            f"Before replying, choose your next strategy from this list:\n{listing}\n"
            'Answer only with JSON: {"strategy": "<name from the list>", "reason": "<short>"}'
        )
        params = SamplingParams(temperature=0.0, max_tokens=80)
        try:
            strategy, attempts, raw = ask_json(
                self.backend,
                [*history, {"role": "user", "content": plan_prompt}],
                self._validate,
                params,
                self._request_seed(1),
                self.max_parse_attempts,
                schema=self.plan_schema,
            )
            self.last_plan = {"strategy": strategy, "attempts": attempts, "raw": raw}
            instruction = (
                f"Now write your next message, using the strategy '{strategy}' "
                f"({self.domain.descriptions[strategy]}). Only the message."
            )
        except ParseFailure as e:
            self.plan_failures += 1
            self.last_plan = {"strategy": None, "attempts": e.attempts, "raw": e.raw}
            instruction = "Now write your next message. Only the message."
        messages = [*history, {"role": "user", "content": instruction}]
        text = self.backend.chat(messages, self.params, self._request_seed(2)).text.strip()
        self.turn += 1
        return text
