"""Direct preference optimization (DPO; Rafailov et al. 2023) of a chat LM on hindsight pairs.

The pairs come from :func:`dialogue_gym.hindsight.preference_pairs`: the conversation up to a
rewritten turn as the prompt, the hindsight rewrite (whose regenerated episode scored higher) as
``chosen`` and the original turn as ``rejected``, all in chat format. Training is trl's
``DPOTrainer``; the reference model is a frozen copy of the starting model (with LoRA, the base
weights with the adapters disabled). ``save_lm`` writes a folder ``lm:path=DIR`` loads.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import InvalidInput
from .lm_loading import fit_messages


@dataclass
class DPOArgs:
    """DPO hyperparameters."""

    max_steps: int = 50
    """Optimizer steps."""
    batch_size: int = 4
    """Pairs per step."""
    lr: float = 5e-6
    """AdamW learning rate."""
    beta: float = 0.1
    """DPO's KL strength: how far the policy may move from the reference."""
    max_length: int = 512
    """Tokens per prompt + answer (longer prompts lose their beginning)."""
    seed: int = 0
    """Seed of the data order."""

    def __post_init__(self) -> None:
        if self.max_steps < 1 or self.batch_size < 1 or self.lr <= 0 or self.beta <= 0:
            raise InvalidInput("need max_steps, batch_size >= 1 and lr, beta > 0")
        if self.max_length < 16:
            raise InvalidInput(f"max_length must be >= 16, got {self.max_length}")


def fit_prompt(
    tokenizer: Any, prompt: list[dict[str, str]], answers: list[list[dict[str, str]]], limit: int
) -> list[dict[str, str]]:
    """``prompt`` without its oldest messages (the system prompt stays) until the longest answer
    fits in ``limit`` tokens with it (:func:`~.lm_loading.fit_messages`); trl would otherwise cut
    the answer's end or the system prompt."""
    return fit_messages(tokenizer, prompt, limit, answers)


def train_dpo(
    model: Any,
    tokenizer: Any,
    pairs: Sequence[dict[str, Any]],
    args: DPOArgs | None = None,
    output_dir: str | Path = "runs/dpo",
    progress: bool = False,
) -> dict[str, Any]:
    """Train ``model`` in place on preference pairs; returns the per-step losses, reward
    accuracies and margins (trl's logged figures) and the pair count."""
    from datasets import Dataset
    from transformers import PrinterCallback
    from trl import DPOConfig, DPOTrainer

    args = args or DPOArgs()
    if not pairs:
        raise InvalidInput(
            "no preference pairs to train on (did any regeneration beat its source?)"
        )
    for key in ("prompt", "chosen", "rejected"):
        if any(key not in p for p in pairs):
            raise InvalidInput(f"every pair needs prompt, chosen and rejected; one lacks {key!r}")
    data = Dataset.from_list(
        [
            {
                "prompt": fit_prompt(
                    tokenizer, p["prompt"], [p["chosen"], p["rejected"]], args.max_length
                ),
                "chosen": p["chosen"],
                "rejected": p["rejected"],
            }
            for p in pairs
        ]
    )
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    on_cpu = next(model.parameters()).device.type == "cpu"
    config = DPOConfig(
        output_dir=str(output_dir),
        max_steps=args.max_steps,
        per_device_train_batch_size=args.batch_size,
        learning_rate=args.lr,
        beta=args.beta,
        max_length=args.max_length,
        seed=args.seed,
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        disable_tqdm=not progress,
        use_cpu=on_cpu,
        # trl turns bf16 mixed precision on by default; on a CPU without bf16 units one step of
        # SmolLM2 took 150 s instead of a few (tests/llm/test_smollm2.py::test_dpo_smollm2)
        bf16=False if on_cpu else None,
        # trl 1.x checkpoints activations by default (recomputing each forward pass in the
        # backward one): a memory saving a CPU with a small model does not need, for time
        gradient_checkpointing=not on_cpu,
    )
    is_peft = hasattr(model, "disable_adapter")  # trl then uses the adapter-free base as reference
    ref = None if is_peft else copy.deepcopy(model).eval().requires_grad_(False)
    trainer = DPOTrainer(
        model=model, ref_model=ref, args=config, train_dataset=data, processing_class=tokenizer
    )
    trainer.remove_callback(PrinterCallback)  # the log goes into the returned figures
    trainer.train()
    history = [h for h in trainer.state.log_history if "loss" in h]
    return {
        "algo": "dpo",
        "args": asdict(args),
        "losses": [h["loss"] for h in history],
        "accuracies": [h.get("rewards/accuracies") for h in history],
        "margins": [h.get("rewards/margins") for h in history],
        "pairs": len(pairs),
    }
