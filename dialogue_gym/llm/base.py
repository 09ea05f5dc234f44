"""The chat-backend interface: sync and async chat completion with sampling parameters and seed."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidInput

Message = dict[str, str]


@dataclass(frozen=True)
class SamplingParams:
    """Sampling parameters of one request (validated)."""

    temperature: float = 0.7
    max_tokens: int = 256
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    json_schema: dict[str, Any] | None = None
    """The answer must be JSON of this schema: sent to endpoints as ``response_format``, and
    enforced on local models where :func:`~.constrained.schema_regex` can (see there)."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.temperature <= 2.0:
            raise InvalidInput(f"temperature must be in [0, 2], got {self.temperature}")
        if not 1 <= self.max_tokens <= 32768:
            raise InvalidInput(f"max_tokens must be in [1, 32768], got {self.max_tokens}")
        if not 0.0 < self.top_p <= 1.0:
            raise InvalidInput(f"top_p must be in (0, 1], got {self.top_p}")
        if self.json_schema is not None and not isinstance(self.json_schema, dict):
            raise InvalidInput(f"json_schema must be a dict, got {type(self.json_schema).__name__}")


@dataclass
class ChatResult:
    """One completion: its text, why it stopped, and whether it came from the cache."""

    text: str
    finish_reason: str = "stop"
    cached: bool = False
    usage: dict[str, Any] = field(default_factory=dict)

    @property
    def truncated(self) -> bool:
        """True if generation stopped at the token limit."""
        return self.finish_reason == "length"

    @property
    def refused(self) -> bool:
        """True if the provider refused or filtered the answer."""
        return self.finish_reason in ("content_filter", "refusal")


class ChatBackend(ABC):
    """Something that completes chats: an API endpoint, a local model, or a cache around one."""

    kind: str = "backend"

    @abstractmethod
    def chat(
        self, messages: list[Message], params: SamplingParams | None = None, seed: int | None = None
    ) -> ChatResult:
        """Complete ``messages`` (OpenAI chat format)."""

    async def achat(
        self, messages: list[Message], params: SamplingParams | None = None, seed: int | None = None
    ) -> ChatResult:
        """Async form; the default runs :meth:`chat` in a worker thread."""
        return await asyncio.to_thread(self.chat, messages, params, seed)

    def forget(
        self, messages: list[Message], params: SamplingParams | None = None, seed: int | None = None
    ) -> None:
        """Drop a stored answer to this request (a cache does; others store nothing): called
        when the answer was rejected, so that it is never served again."""
        return None

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """What determines this backend's answers (kind, model, base URL): never a secret."""

    rebuild: tuple[Callable[..., Any], tuple] | None = None
    """``(make_backend, its arguments)`` when it was built from a spec string (set by it)."""

    def __reduce__(self) -> tuple:
        """Pickled as its spec, so objects holding a backend can run in other processes (Ray
        workers): each copy opens its own connection or model, and reads any API key from its
        own environment. A backend not built from a spec cannot be pickled."""
        if self.rebuild is None:
            raise TypeError(
                f"a {type(self).__name__} not built by make_backend(SPEC) cannot be sent to "
                "another process; build it from a spec string"
            )
        return self.rebuild
