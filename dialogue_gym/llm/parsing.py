"""Structured answers: extract a JSON object from model text, validate it, re-ask when malformed.

Transport errors are the retry layer's business; here a *well-delivered but unusable* answer is
removed from the cache and re-asked (telling the model what was wrong) a bounded number of times,
then reported as a :class:`ParseFailure` that keeps the raw text and the number of attempts —
never scored as 0.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

from ..errors import InvalidInput
from .base import ChatBackend, Message, SamplingParams

T = TypeVar("T")


class ParseFailure(Exception):
    """No valid structured answer after the allowed attempts."""

    def __init__(self, reason: str, raw: str, attempts: int) -> None:
        super().__init__(f"{reason} (after {attempts} attempts; last answer: {raw[:200]!r})")
        self.reason, self.raw, self.attempts = reason, raw, attempts


def extract_json(text: str) -> Any:
    """The first balanced ``{...}`` object in ``text``, parsed; ``ValueError`` if none parses."""
    start = text.find("{")
    while start != -1:
        depth, in_str, escape = 0, False, False
        for i in range(start, len(text)):
            c = text[i]
            if in_str:
                if escape:
                    escape = False
                elif c == "\\":
                    escape = True
                elif c == '"':
                    in_str = False
            elif c == '"':
                in_str = True
            elif c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    try:
                        return json.loads(text[start : i + 1])
                    except json.JSONDecodeError:
                        break
        start = text.find("{", start + 1)
    raise InvalidInput("no JSON object found in the answer")


def number_field(name: str, low: float, high: float) -> Callable[[Any], float]:
    """A validator: ``obj[name]`` must be a number; it is clipped to ``[low, high]``."""

    def validate(obj: Any) -> float:
        if not isinstance(obj, dict) or name not in obj:
            raise InvalidInput(f'expected a JSON object with the key "{name}"')
        value = obj[name]
        if isinstance(value, str):
            value = value.strip().lstrip("$")
        try:
            x = float(value)
        except (TypeError, ValueError):
            raise InvalidInput(f'"{name}" must be a number, got {obj[name]!r}') from None
        if x != x:  # NaN
            raise InvalidInput(f'"{name}" must be a number, got NaN')
        return min(high, max(low, x))

    return validate


def ask_json(
    backend: ChatBackend,
    messages: list[Message],
    validate: Callable[[Any], T],
    params: SamplingParams | None = None,
    seed: int | None = None,
    max_attempts: int = 3,
    schema: dict[str, Any] | None = None,
) -> tuple[T, int, str]:
    """Ask until ``validate(extract_json(answer))`` succeeds; returns (value, attempts, raw).
    ``schema``: the answer's JSON schema, which backends that can enforce it do
    (:attr:`~.base.SamplingParams.json_schema`); the answer is validated all the same."""
    if max_attempts < 1:
        raise InvalidInput(f"max_attempts must be >= 1, got {max_attempts}")
    params = params or SamplingParams()
    if schema is not None:
        params = replace(params, json_schema=schema)
    convo = list(messages)
    raw, reason = "", ""
    for attempt in range(max_attempts):
        request_seed = None if seed is None else seed + attempt
        result = backend.chat(convo, params, request_seed)
        raw = result.text
        try:
            if result.truncated:
                raise InvalidInput("the answer was cut off")
            return validate(extract_json(raw)), attempt + 1, raw
        except ValueError as e:
            backend.forget(convo, params, request_seed)  # never served again from a cache
            reason = str(e)
            convo = convo + [
                {"role": "assistant", "content": raw},
                {
                    "role": "user",
                    "content": f"That answer could not be used: {reason}. "
                    "Reply with only the JSON object.",
                },
            ]
    raise ParseFailure(reason, raw, max_attempts)
