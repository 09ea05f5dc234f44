"""``OpenAIBackend``: any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, llama.cpp's
server, Ollama, ...) through the official ``openai`` client, sync and async.

The API key is read from the environment only (``api_key_env``, default ``OPENAI_API_KEY``) and
never stored in results, caches or logs. Endpoints that need no key (a local server) get a
placeholder. Retries are ours (:mod:`.retry`), the SDK's are off. A request with a
``json_schema`` sends it as ``response_format``: first in OpenAI's form (``{"type":
"json_schema", ...}``: OpenAI, vLLM, llama.cpp's own server), and if the server rejects that
(HTTP 400/422, or an error that names ``response_format`` — llama-cpp-python's server answers 500),
in llama-cpp-python's form (``{"type": "json_object", "schema": ...}``); a server that takes
neither is asked again without it, and not sent it again: its answers then rely on parsing and
re-asking.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from ..errors import BackendError, InvalidInput
from .base import ChatBackend, ChatResult, Message, SamplingParams
from .retry import Retryable, RetryPolicy, acall_with_retries, call_with_retries

OPENAI_URL = "https://api.openai.com/v1"
SCHEMA_FORMATS = {
    "json_schema": lambda schema: {
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": schema, "strict": True},
    },
    "json_object": lambda schema: {"type": "json_object", "schema": schema},
}
"""The ``response_format`` forms that carry a JSON schema, in the order they are tried."""


def _retry_after(err: Exception) -> float | None:
    response = getattr(err, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class OpenAIBackend(ChatBackend):
    """Chat completions from an OpenAI-compatible HTTP endpoint."""

    kind = "openai"

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        api_key_env: str = "OPENAI_API_KEY",
    ) -> None:
        import openai

        if not model:
            raise InvalidInput("model must be a non-empty model name")
        if timeout <= 0:
            raise InvalidInput(f"timeout must be > 0 seconds, got {timeout}")
        self.model = model
        self.base_url = (base_url or OPENAI_URL).rstrip("/")
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        key = os.environ.get(api_key_env)
        if not key:
            if self.base_url == OPENAI_URL:
                raise InvalidInput(f"set {api_key_env} in the environment to use {self.base_url}")
            key = "not-needed"
        common = {"api_key": key, "base_url": self.base_url, "timeout": timeout, "max_retries": 0}
        self._client = openai.OpenAI(**common)
        self._aclient: Any = None
        self._async_common = common
        self.requests = 0
        self.retries = 0
        self.schema_formats = list(SCHEMA_FORMATS)
        """The ``response_format`` forms still to try, the one in use first (empty: none)."""
        self.schema_supported: bool | None = None
        """Whether the server took a ``response_format`` (None: not asked yet)."""

    def describe(self) -> dict[str, Any]:
        """Kind, base URL and model (never the key)."""
        return {"kind": self.kind, "base_url": self.base_url, "model": self.model}

    def _kwargs(self, messages: list[Message], params: SamplingParams, seed: int | None) -> dict:
        kw: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "temperature": params.temperature,
            "max_tokens": params.max_tokens,
            "top_p": params.top_p,
        }
        if params.stop:
            kw["stop"] = list(params.stop)
        if seed is not None:
            kw["seed"] = seed
        if params.json_schema is not None and self.schema_formats:
            kw["response_format"] = SCHEMA_FORMATS[self.schema_formats[0]](params.json_schema)
        return kw

    def _schema_rejected(self, err: Exception, kw: dict[str, Any]) -> bool:
        """True if ``err`` is the server refusing this ``response_format`` form; the next form
        (or none) is then put in ``kw`` and remembered for later requests."""
        import openai

        if "response_format" not in kw or not isinstance(err, openai.APIStatusError):
            return False
        if err.status_code not in (400, 422) and "response_format" not in str(err):
            return False
        sent = kw.pop("response_format")
        schema = sent.get("json_schema", {}).get("schema") or sent.get("schema")
        with contextlib.suppress(ValueError):  # another thread may have dropped it already
            self.schema_formats.remove(sent["type"])
        if self.schema_formats:
            kw["response_format"] = SCHEMA_FORMATS[self.schema_formats[0]](schema)
        else:
            self.schema_supported = False
        return True

    @staticmethod
    def _result(response: Any) -> ChatResult:
        if not response.choices:
            raise BackendError("the endpoint returned no choices")
        choice = response.choices[0]
        text = choice.message.content
        finish = choice.finish_reason or "stop"
        if text is None:
            text, finish = getattr(choice.message, "refusal", None) or "", "refusal"
        usage = response.usage.model_dump() if getattr(response, "usage", None) else {}
        return ChatResult(text=text, finish_reason=finish, usage=usage)

    def _translate(self, err: Exception) -> Exception:
        import openai

        if isinstance(err, openai.RateLimitError | openai.InternalServerError):
            return Retryable(f"{type(err).__name__}: {err}", _retry_after(err))
        if isinstance(err, openai.APITimeoutError | openai.APIConnectionError):
            return Retryable(f"{type(err).__name__}: {err}")
        if isinstance(err, openai.APIStatusError) and err.status_code >= 500:
            return Retryable(f"HTTP {err.status_code}: {err}", _retry_after(err))
        if isinstance(err, ValueError | openai.APIResponseValidationError):
            return Retryable(f"malformed response body: {type(err).__name__}: {err}")
        return BackendError(f"{type(err).__name__}: {err}")

    def chat(
        self, messages: list[Message], params: SamplingParams | None = None, seed: int | None = None
    ) -> ChatResult:
        """One completion, retried on 429/5xx/timeouts."""
        kw = self._kwargs(messages, params or SamplingParams(), seed)

        def once() -> ChatResult:
            self.requests += 1
            try:
                result = self._result(self._client.chat.completions.create(**kw))
            except Exception as e:  # noqa: BLE001 - translated below
                if isinstance(e, BackendError):
                    raise
                if self._schema_rejected(e, kw):
                    return once()
                raise self._translate(e) from e
            if "response_format" in kw:
                self.schema_supported = True
            return result

        try:
            result, used = call_with_retries(once, self.retry)
        except Retryable as e:
            raise BackendError(f"gave up after {self.retry.max_retries} retries: {e}") from e
        self.retries += used
        return result

    async def achat(
        self, messages: list[Message], params: SamplingParams | None = None, seed: int | None = None
    ) -> ChatResult:
        """Async completion with the ``AsyncOpenAI`` client and the same retry layer."""
        import openai

        if self._aclient is None:
            self._aclient = openai.AsyncOpenAI(**self._async_common)
        kw = self._kwargs(messages, params or SamplingParams(), seed)

        async def once() -> ChatResult:
            self.requests += 1
            try:
                result = self._result(await self._aclient.chat.completions.create(**kw))
            except Exception as e:  # noqa: BLE001 - translated below
                if isinstance(e, BackendError):
                    raise
                if self._schema_rejected(e, kw):
                    return await once()
                raise self._translate(e) from e
            if "response_format" in kw:
                self.schema_supported = True
            return result

        try:
            result, used = await acall_with_retries(once, self.retry)
        except Retryable as e:
            raise BackendError(f"gave up after {self.retry.max_retries} retries: {e}") from e
        self.retries += used
        return result
