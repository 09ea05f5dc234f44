"""Loading, placing and saving the causal language models that the LM trainers fine-tune, and
the chat-template token ids they all train on.

``LMOptions`` holds what every LM trainer shares: the device (``cpu``, ``cuda``, ``cuda:1``,
``mps`` or ``auto``), the dtype of the weights at load time (``float32``, ``bfloat16``,
``float16``; default: as stored, float32 for SmolLM2's GGUF) and LoRA through ``peft``
(``lora_r > 0``; the base weights are frozen and only the adapters train). ``save_lm`` merges LoRA
adapters into the weights, so a saved folder is a plain transformers model that ``lm:path=DIR``
loads.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InvalidInput
from ..files import atomic_dir

DTYPES = ("float32", "bfloat16", "float16")


@dataclass
class LMOptions:
    """Device, weight dtype and LoRA settings of a language-model training run."""

    device: str = "cpu"
    """``cpu``, ``cuda``, ``cuda:N``, ``mps`` or ``auto`` (a GPU when there is one)."""
    dtype: str | None = None
    """Weight dtype at load time: one of ``DTYPES``, or None for the stored one."""
    lora_r: int = 0
    """LoRA rank; 0 trains all weights."""
    lora_alpha: int = 16
    """LoRA scaling numerator."""
    lora_dropout: float = 0.05
    """Dropout on the LoRA path."""
    lora_targets: str = "all-linear"
    """peft ``target_modules``: ``all-linear`` or comma-separated module names."""

    def __post_init__(self) -> None:
        if self.dtype is not None and self.dtype not in DTYPES:
            raise InvalidInput(f"dtype must be one of {DTYPES} or None, got {self.dtype!r}")
        if self.lora_r < 0:
            raise InvalidInput(f"lora_r must be >= 0 (0: no LoRA), got {self.lora_r}")
        head = self.device.split(":")[0]
        if head not in ("cpu", "cuda", "mps", "auto"):
            raise InvalidInput(
                f"device must be cpu, cuda, cuda:N, mps or auto, got {self.device!r}"
            )

    def resolved_device(self) -> str:
        """The device to use; ``auto`` becomes ``cuda`` or ``mps`` when present, else ``cpu``."""
        import torch

        if self.device != "auto":
            if self.device.startswith("cuda") and not torch.cuda.is_available():
                raise InvalidInput(f"device {self.device!r} asked for, but torch sees no CUDA GPU")
            return self.device
        if torch.cuda.is_available():
            return "cuda"
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return "mps"
        return "cpu"


def load_lm(name: str, options: LMOptions | None = None) -> tuple[Any, Any]:
    """Model and tokenizer from a transformers folder (or hub-style name) or ``local:smollm2``,
    placed on the options' device with LoRA adapters added when ``lora_r > 0``."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    options = options or LMOptions()
    if name == "local:smollm2":
        from ..llm.smollm2 import smollm2_copy

        model, tokenizer = smollm2_copy()  # de-quantized once per process
        if options.dtype:
            model = model.to(getattr(torch, options.dtype))
    elif not Path(name).exists():
        raise InvalidInput(
            f"model {name!r}: no such folder (give a transformers folder or "
            "local:smollm2; nothing is downloaded)"
        )
    else:
        tokenizer = AutoTokenizer.from_pretrained(name)
        kw = {"dtype": getattr(torch, options.dtype)} if options.dtype else {}
        model = AutoModelForCausalLM.from_pretrained(name, **kw)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    if getattr(tokenizer, "chat_template", None) is None:
        raise InvalidInput(
            f"the tokenizer of {name!r} has no chat template (use an instruct model)"
        )
    model = model.to(options.resolved_device())
    return with_lora(model, options), tokenizer


def chat_ids(
    tokenizer: Any, messages: list[dict[str, str]], generation_prompt: bool = False
) -> list[int]:
    """Token ids of ``messages`` under the tokenizer's chat template (a plain list, whatever
    container this transformers version returns)."""
    out = tokenizer.apply_chat_template(
        messages, tokenize=True, add_generation_prompt=generation_prompt
    )
    return list(out["input_ids"] if hasattr(out, "keys") else out)


def fit_messages(
    tokenizer: Any,
    messages: list[dict[str, str]],
    limit: int,
    answers: Sequence[list[dict[str, str]]] = ([],),
    reserve: int = 0,
    generation_prompt: bool = False,
) -> list[dict[str, str]]:
    """``messages`` without their oldest messages (a leading system prompt always stays) until,
    followed by the longest of ``answers`` and ``reserve`` more tokens, they fit in ``limit``
    tokens. The one truncation rule of every LM algorithm, in training and when the agent
    speaks: DPO's prompts, ILQL's training dialogues and ILQL's decoding prompts."""
    head = messages[:1] if messages and messages[0]["role"] == "system" else []
    body = list(messages[len(head) :])
    while body:
        lengths = [
            len(chat_ids(tokenizer, head + body + list(a), generation_prompt)) for a in answers
        ]
        if max(lengths) + reserve <= limit:
            break
        body = body[1:]
    return head + body


def with_lora(model: Any, options: LMOptions) -> Any:
    """``model`` wrapped with peft LoRA adapters when ``options.lora_r > 0``, else unchanged."""
    if options.lora_r == 0:
        return model
    from peft import LoraConfig, get_peft_model

    targets: Any = options.lora_targets
    if targets != "all-linear":
        targets = [t.strip() for t in targets.split(",") if t.strip()]
    config = LoraConfig(
        r=options.lora_r,
        lora_alpha=options.lora_alpha,
        lora_dropout=options.lora_dropout,
        target_modules=targets,
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, config)


def base_model(model: Any) -> Any:
    """The plain transformers model: LoRA adapters merged in when ``model`` is a peft model."""
    return model.merge_and_unload() if hasattr(model, "merge_and_unload") else model


def write_lm(model: Any, tokenizer: Any, folder: Path) -> None:
    """Write model (LoRA merged, KV cache on for generation) and tokenizer into ``folder``."""
    model = base_model(model)
    model.config.use_cache = True  # trainers turn it off; generation wants it
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def save_lm(
    model: Any, tokenizer: Any, path: str | Path, training: dict[str, Any] | None = None
) -> Path:
    """Save model and tokenizer, atomically, where ``lm:path=DIR`` loads them; ``training`` (the
    trainer's returned figures: algorithm, arguments, losses) goes beside them as
    ``training.json``."""
    with atomic_dir(path) as tmp:
        write_lm(model, tokenizer, tmp)
        if training is not None:
            (tmp / "training.json").write_text(json.dumps(training, indent=1, default=str))
    return Path(path)
