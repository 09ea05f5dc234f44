"""``CachedBackend``: a disk cache of completions in SQLite, safe across threads and processes.

The key is the SHA-256 of the canonical JSON of everything that determines an answer: the inner
backend's description (kind, base URL, model — never a key), the messages, the sampling
parameters and the seed (distinct samples are asked for with distinct seeds). Every answer a run
consumes is stored, an answer cut at the token limit too (with its ``finish_reason``
``"length"``, so it replays as cut): a rerun then replays the run exactly, whatever the server
would answer now. Errors and refusals are never stored, and an answer the caller rejected is
removed (:meth:`CachedBackend.forget`, called by :func:`~.parsing.ask_json`). Each write is one
SQLite transaction (atomic); WAL mode and a busy timeout let several processes share one file.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .base import ChatBackend, ChatResult, Message, SamplingParams


def default_cache_dir() -> Path:
    """``$DIALOGUE_GYM_CACHE_DIR``, else ``~/.cache/dialogue-gym``."""
    env = os.environ.get("DIALOGUE_GYM_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "dialogue-gym"


def cache_key(
    backend: dict[str, Any], messages: list[Message], params: SamplingParams, seed: int | None
) -> str:
    """SHA-256 of the canonical JSON of the request (a request without a JSON schema keys as it
    did before schemas existed, so older caches still answer)."""
    fields = asdict(params)
    if fields["json_schema"] is None:
        del fields["json_schema"]
    blob = json.dumps(
        {"backend": backend, "messages": messages, "params": fields, "seed": seed},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


class CachedBackend(ChatBackend):
    """Wraps a backend with the SQLite completion cache."""

    kind = "cached"

    def __init__(self, inner: ChatBackend, cache_dir: str | Path | None = None) -> None:
        self.inner = inner
        self.path = Path(cache_dir or default_cache_dir()) / "completions.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._count = threading.Lock()  # the counters below are shared by threads
        self.hits = 0
        self.misses = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.unmetered = 0  # answers sent whose backend reported no token usage
        with self._conn() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS completions "
                "(key TEXT PRIMARY KEY, text TEXT NOT NULL, finish_reason TEXT NOT NULL)"
            )

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=60.0)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=60000")
            self._local.conn = conn
        return conn

    def describe(self) -> dict[str, Any]:
        """The inner backend's description (the cache does not change answers)."""
        return self.inner.describe()

    def _get(self, key: str) -> ChatResult | None:
        row = (
            self._conn()
            .execute("SELECT text, finish_reason FROM completions WHERE key = ?", (key,))
            .fetchone()
        )
        return ChatResult(text=row[0], finish_reason=row[1], cached=True) if row else None

    def _put(self, key: str, result: ChatResult) -> None:
        usage = result.usage or {}
        with self._count:
            if "prompt_tokens" in usage and "completion_tokens" in usage:
                self.prompt_tokens += int(usage["prompt_tokens"] or 0)
                self.completion_tokens += int(usage["completion_tokens"] or 0)
            else:
                self.unmetered += 1
        if result.refused:
            return
        with self._conn() as conn:  # one transaction
            conn.execute(
                "INSERT OR IGNORE INTO completions (key, text, finish_reason) VALUES (?, ?, ?)",
                (key, result.text, result.finish_reason),
            )

    def _lookup(
        self, messages: list[Message], params: SamplingParams | None, seed: int | None
    ) -> tuple[str, SamplingParams, ChatResult | None]:
        """The request's key, its parameters, and the cached answer if there is one."""
        params = params or SamplingParams()
        key = cache_key(self.describe(), messages, params, seed)
        hit = self._get(key)
        with self._count:
            if hit is not None:
                self.hits += 1
            else:
                self.misses += 1
        return key, params, hit

    def forget(
        self, messages: list[Message], params: SamplingParams | None = None, seed: int | None = None
    ) -> None:
        """Remove the stored answer to this request, if any."""
        key = cache_key(self.describe(), messages, params or SamplingParams(), seed)
        with self._conn() as conn:
            conn.execute("DELETE FROM completions WHERE key = ?", (key,))

    def chat(
        self, messages: list[Message], params: SamplingParams | None = None, seed: int | None = None
    ) -> ChatResult:
        """A cached answer, or the inner backend's (stored unless refused)."""
        key, params, hit = self._lookup(messages, params, seed)
        if hit is not None:
            return hit
        result = self.inner.chat(messages, params, seed)
        self._put(key, result)
        return result

    async def achat(
        self, messages: list[Message], params: SamplingParams | None = None, seed: int | None = None
    ) -> ChatResult:
        """Async form (the SQLite work is small and done inline)."""
        key, params, hit = self._lookup(messages, params, seed)
        if hit is not None:
            return hit
        result = await self.inner.achat(messages, params, seed)
        self._put(key, result)
        return result
