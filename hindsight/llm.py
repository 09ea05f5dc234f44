"""LLM-backed hindsight components over any chat backend, with validated JSON answers.

- :class:`LLMController`: shown the completed dialogue (numbered agent turns) and its outcome,
  it answers ``{"turn": <agent turn number>, "utterance": "...", "rationale": "..."}``.
- :class:`LLMForwardModel`: writes the rest of the dialogue, both sides, as
  ``{"turns": [{"role": "agent"|"user", "text": "..."}, ...]}``.
- :class:`LLMRewardModel`: the LLM judge (:class:`~dialogue_gym.llm.judge.LLMJudge`).

Each request carries its answer's JSON schema, which endpoints that support structured outputs
enforce (local models enforce only numeric ones, the judge's: :mod:`~dialogue_gym.llm.constrained`).
Malformed answers are re-asked (bounded); a component that never answers validly raises
:class:`~dialogue_gym.llm.parsing.ParseFailure`, which regeneration records as a skipped attempt.
"""

from __future__ import annotations

from typing import Any

from ..domains import env_domain
from ..episode import Episode, Turn
from ..errors import InvalidInput
from ..llm.base import ChatBackend, SamplingParams
from ..llm.judge import LLMJudge
from ..llm.parsing import ask_json
from ..llm.spec import make_backend
from .base import (
    Continuation,
    ForwardModel,
    HindsightController,
    Proposal,
    RewardModel,
    clip_reward,
)

ROLE_NAMES = {"persuasion": ("Persuader", "Persuadee"), "counseling": ("Supporter", "Seeker")}
STRING = {"type": "string"}


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    """A JSON schema object whose every property is required (strict structured outputs)."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def continuation_schema(max_turns: int | None = None) -> dict[str, Any]:
    """The forward model's answer: the rest of the dialogue, both sides, at most ``max_turns``
    turns (the user's reply first)."""
    turns = {
        "type": "array",
        "minItems": 1,
        "items": _object({"role": {"type": "string", "enum": ["user", "agent"]}, "text": STRING}),
    }
    if max_turns is not None:
        turns["maxItems"] = max_turns
    return _object({"turns": turns})


CONTINUATION = continuation_schema()
"""The forward model's answer, unbounded in length."""


def _transcript(domain: str, turns: list[Turn]) -> tuple[str, list[int]]:
    agent, user = ROLE_NAMES[domain]
    lines, agent_idx = [], []
    for i, t in enumerate(turns):
        if t.role == "assistant":
            agent_idx.append(i)
            lines.append(f"[{len(agent_idx)}] {agent}: {t.text}")
        else:
            lines.append(f"    {user}: {t.text}")
    return "\n".join(lines), agent_idx


class LLMController(HindsightController):
    """Asks a chat model which agent turn to rewrite, and how."""

    name = "llm"

    def __init__(self, llm: str | ChatBackend, max_attempts: int = 3, cache: bool = True):
        self.backend = make_backend(llm, cache=cache)
        self.max_attempts = max_attempts

    def propose(self, episode: Episode, k: int = 1) -> list[Proposal]:
        """One proposal per request; ``k`` requests with different seeds, distinct turns kept."""
        domain = env_domain(episode.env_id)
        text, agent_idx = _transcript(domain, episode.turns)
        outcome = "donation" if domain == "persuasion" else "intensity reduction"
        prompt = (
            f"{text}\n\nOutcome ({outcome}): {episode.reward}.\n"
            "In hindsight, which numbered agent turn should have been different, and what should "
            "the agent have said instead to reach a better outcome? Answer only with JSON: "
            '{"turn": <number>, "utterance": "<the better message>", "rationale": "<short>"}'
        )

        def validate(obj: Any) -> tuple[int, str, str]:
            if not isinstance(obj, dict) or not {"turn", "utterance"} <= set(obj):
                raise InvalidInput('expected keys "turn" and "utterance"')
            n = int(obj["turn"])
            if not 1 <= n <= len(agent_idx):
                raise InvalidInput(f'"turn" must be between 1 and {len(agent_idx)}')
            if not str(obj["utterance"]).strip():
                raise InvalidInput('"utterance" must not be empty')
            return agent_idx[n - 1], str(obj["utterance"]).strip(), str(obj.get("rationale", ""))

        out: list[Proposal] = []
        messages = [{"role": "user", "content": prompt}]
        schema = _object(
            {
                "turn": {"type": "integer", "minimum": 1, "maximum": len(agent_idx)},
                "utterance": STRING,
                "rationale": STRING,
            }
        )
        for j in range(k * 2):
            (i, utterance, why), _, _ = ask_json(
                self.backend,
                messages,
                validate,
                SamplingParams(temperature=0.7, max_tokens=200),
                seed=j * 101,
                max_attempts=self.max_attempts,
                schema=schema,
            )
            if all(p.turn_index != i for p in out):
                out.append(Proposal(i, utterance, None, why))
            if len(out) == k:
                break
        return out

    def config(self) -> dict[str, Any]:
        """Name and backend."""
        return {"name": self.name, "llm": self.backend.describe()}


class LLMForwardModel(ForwardModel):
    """Asks a chat model to write the rest of the dialogue, both sides."""

    name = "llm"

    def __init__(
        self, llm: str | ChatBackend, max_turns: int = 10, max_attempts: int = 3, cache: bool = True
    ) -> None:
        self.backend = make_backend(llm, cache=cache)
        self.max_turns = max_turns
        self.max_attempts = max_attempts

    def continue_dialogue(self, episode: Episode, prefix: list[Turn], seed: int) -> Continuation:
        """The imagined continuation (at most ``max_turns`` agent turns in all)."""
        domain = env_domain(episode.env_id)
        text, agent_idx = _transcript(domain, prefix)
        left = max(0, self.max_turns - len(agent_idx))
        prompt = (
            f"{text}\n\nContinue this conversation realistically until it ends: first the "
            f"{ROLE_NAMES[domain][1]}'s reply, then at most {left} more exchanges. Answer only "
            'with JSON: {"turns": [{"role": "user", "text": "..."}, {"role": "agent", '
            '"text": "..."}, ...]}'
        )

        def validate(obj: Any) -> list[Turn]:
            if not isinstance(obj, dict) or not isinstance(obj.get("turns"), list):
                raise InvalidInput('expected {"turns": [...]}')
            turns = []
            for t in obj["turns"]:
                if not isinstance(t, dict) or t.get("role") not in ("user", "agent"):
                    raise InvalidInput('each turn needs "role" ("user" or "agent") and "text"')
                turns.append(Turn("assistant" if t["role"] == "agent" else "user", str(t["text"])))
            if not turns or turns[0].role != "user":
                raise InvalidInput("the continuation must start with the user's reply")
            return turns

        turns, _, _ = ask_json(
            self.backend,
            [{"role": "user", "content": prompt}],
            validate,
            SamplingParams(temperature=0.7, max_tokens=600),
            seed,
            self.max_attempts,
            schema=continuation_schema(2 * left + 1),
        )
        return Continuation(turns[: 2 * left + 1], {})

    def config(self) -> dict[str, Any]:
        """Name and backend."""
        return {"name": self.name, "oracle": False, "llm": self.backend.describe()}


class LLMRewardModel(RewardModel):
    """The LLM judge as reward model."""

    name = "llm-judge"

    def __init__(self, llm: str | ChatBackend, domain: str, cache: bool = True) -> None:
        self.judge = LLMJudge(domain, llm, cache=cache)

    def score(self, episode: Episode, turns: list[Turn], seed: int) -> float:
        """The judged outcome, clipped."""
        messages = [{"role": t.role, "content": t.text} for t in turns]
        return clip_reward(episode.env_id, self.judge.score(messages, seed=seed % (2**31)))

    def config(self) -> dict[str, Any]:
        """Name and judge."""
        return {"name": self.name, "oracle": False, **self.judge.config()}
