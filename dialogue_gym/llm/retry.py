"""The one retry layer: exponential backoff with jitter on rate limits, server errors and timeouts.

The SDK's own retries are switched off (``max_retries=0``) so that retries are never stacked.
A ``Retry-After`` header (seconds) is honoured, capped at ``max_delay``.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from ..errors import InvalidInput

T = TypeVar("T")


class Retryable(Exception):
    """A transient failure worth retrying; ``retry_after`` in seconds if the server said so."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry."""

    max_retries: int = 4
    base_delay: float = 0.5
    max_delay: float = 20.0

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise InvalidInput(f"max_retries must be >= 0, got {self.max_retries}")
        if self.base_delay < 0 or self.max_delay < self.base_delay:
            raise InvalidInput("need 0 <= base_delay <= max_delay")

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay)
        backoff = self.base_delay * (2**attempt)
        return min(self.max_delay, backoff * (0.5 + random.random() / 2))


def call_with_retries(fn: Callable[[], T], policy: RetryPolicy) -> tuple[T, int]:
    """Call ``fn`` until it does not raise :class:`Retryable`; returns (result, retries used)."""
    for attempt in range(policy.max_retries + 1):
        try:
            return fn(), attempt
        except Retryable as e:
            if attempt == policy.max_retries:
                raise
            time.sleep(policy.delay(attempt, e.retry_after))
    raise AssertionError("unreachable")


async def acall_with_retries(fn: Callable[[], Awaitable[T]], policy: RetryPolicy) -> tuple[T, int]:
    """Async form of :func:`call_with_retries`."""
    for attempt in range(policy.max_retries + 1):
        try:
            return await fn(), attempt
        except Retryable as e:
            if attempt == policy.max_retries:
                raise
            await asyncio.sleep(policy.delay(attempt, e.retry_after))
    raise AssertionError("unreachable")
