"""Chat backends (OpenAI-compatible endpoints, local transformers models), their disk cache,
the retry layer and structured-answer parsing."""

from __future__ import annotations

from ..errors import BackendError
from .base import ChatBackend, ChatResult, Message, SamplingParams
from .cache import CachedBackend, default_cache_dir
from .parsing import ParseFailure, ask_json, extract_json, number_field
from .spec import make_backend

__all__ = [
    "BackendError",
    "CachedBackend",
    "ChatBackend",
    "ChatResult",
    "Message",
    "ParseFailure",
    "SamplingParams",
    "ask_json",
    "default_cache_dir",
    "extract_json",
    "make_backend",
    "number_field",
]
