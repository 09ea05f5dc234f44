"""Supervised fine-tuning (behaviour cloning) of a chat LM on dialogue records, loss on agent turns.

Records are the prompt-completion chat records of :func:`dialogue_gym.export.sft_records`: the
conversation so far (with the task as system prompt) as ``prompt`` and the agent's turn as
``completion``. Tokens of the prompt get label -100, so the loss falls on the agent's words only.
Filtered SFT keeps the records of the top ``top_share`` of episodes by reward. Training runs in the
transformers ``Trainer`` on the device the model sits on (:mod:`.lm_loading`: device, dtype,
LoRA); ``save_lm`` writes a folder the ``lm`` agent loads (``lm:path=DIR``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidInput


@dataclass
class SFTArgs:
    """SFT hyperparameters."""

    max_steps: int = 100
    """Optimizer steps."""
    batch_size: int = 4
    """Records (or dialogues, with ``unit="dialogue"``) per step."""
    lr: float = 5e-5
    """AdamW learning rate."""
    max_length: int = 512
    """Tokens per record (longer ones keep their end: the agent turn)."""
    top_share: float = 1.0
    """Keep records of the episodes in this top share by reward (1.0: plain SFT)."""
    seed: int = 0
    """Seed of the data order and dropout."""
    unit: str = "turn"
    """``turn``: one example per agent turn, the conversation so far as its prompt. ``dialogue``:
    one example per dialogue with the loss on every agent turn: each token is read once, about
    1/n of the compute for n agent turns, and a step sees what an ILQL step sees."""

    def __post_init__(self) -> None:
        if self.unit not in ("turn", "dialogue"):
            raise InvalidInput(f"unit must be 'turn' or 'dialogue', got {self.unit!r}")
        if self.max_steps < 1 or self.batch_size < 1 or self.lr <= 0 or self.max_length < 8:
            raise InvalidInput("need max_steps, batch_size >= 1, lr > 0 and max_length >= 8")
        if not 0 < self.top_share <= 1:
            raise InvalidInput(f"top_share must be in (0, 1], got {self.top_share}")


def filter_top(records: Sequence[dict[str, Any]], share: float) -> list[dict[str, Any]]:
    """Records whose episode reward is in the top ``share`` of episodes."""
    if share >= 1.0:
        return list(records)
    by_episode = {r["episode_id"]: r["reward"] for r in records}
    threshold = np.quantile(list(by_episode.values()), 1 - share)
    return [r for r in records if r["reward"] >= threshold]


def encode(tokenizer: Any, record: dict[str, Any], max_length: int) -> dict[str, list[int]]:
    """Token ids and labels (-100 on the prompt) of one prompt-completion record."""
    from .lm_loading import chat_ids

    prompt = chat_ids(tokenizer, record["prompt"], True)
    full = chat_ids(tokenizer, record["prompt"] + record["completion"])
    if full[: len(prompt)] != prompt:
        raise InvalidInput("the chat template does not extend the prompt: cannot mask it")
    labels = [-100] * len(prompt) + full[len(prompt) :]
    eos = tokenizer.eos_token_id
    if eos is not None and eos not in full[len(prompt) :]:  # teach the model to stop
        full, labels = full + [eos], labels + [eos]
    full, labels = full[-max_length:], labels[-max_length:]
    return {"input_ids": full, "attention_mask": [1] * len(full), "labels": labels}


def whole_dialogues(records: Sequence[dict[str, Any]]) -> list[list[dict[str, str]]]:
    """Each episode's conversation up to its last agent turn, from its per-turn records."""
    last: dict[str, dict[str, Any]] = {}
    for r in records:
        if r["episode_id"] not in last or len(r["prompt"]) > len(last[r["episode_id"]]["prompt"]):
            last[r["episode_id"]] = r
    return [r["prompt"] + r["completion"] for r in last.values()]


def encode_whole(
    tokenizer: Any, messages: list[dict[str, str]], max_length: int
) -> dict[str, list[int]]:
    """Token ids of a whole dialogue with labels on the agent's tokens only (-100 elsewhere);
    the same token marking as ILQL's (:func:`agents.ilql.encode_dialogue`)."""
    from .ilql import encode_dialogue

    n_agent = sum(m["role"] == "assistant" for m in messages)
    enc = encode_dialogue(tokenizer, messages, [0.0] * n_agent, max_length)
    ids = enc["input_ids"]
    labels = [t if a else -100 for t, a in zip(ids, enc["is_action"], strict=True)]
    return {"input_ids": ids, "attention_mask": [1] * len(ids), "labels": labels}


def train_sft(
    model: Any,
    tokenizer: Any,
    records: Sequence[dict[str, Any]],
    args: SFTArgs | None = None,
    output_dir: str | Path = "runs/sft",
    progress: bool = False,
) -> dict[str, Any]:
    """Fine-tune ``model`` in place; returns the training losses and record counts."""
    from datasets import Dataset
    from transformers import DataCollatorForSeq2Seq, PrinterCallback, Trainer, TrainingArguments

    args = args or SFTArgs()
    kept = filter_top(records, args.top_share)
    if not kept:
        raise InvalidInput("no records to train on")
    if args.unit == "dialogue":
        examples = [encode_whole(tokenizer, m, args.max_length) for m in whole_dialogues(kept)]
    else:
        examples = [encode(tokenizer, r, args.max_length) for r in kept]
    data = Dataset.from_list(examples)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    training_args = TrainingArguments(
        output_dir=str(output_dir),
        max_steps=args.max_steps,
        per_device_train_batch_size=args.batch_size,
        learning_rate=args.lr,
        seed=args.seed,
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        use_cpu=next(model.parameters()).device.type == "cpu",
        disable_tqdm=not progress,
        remove_unused_columns=False,
    )
    trainer = Trainer(
        model=model,
        args=training_args,
        train_dataset=data,
        data_collator=DataCollatorForSeq2Seq(tokenizer, label_pad_token_id=-100),
    )
    trainer.remove_callback(PrinterCallback)  # the log goes into the returned figures
    trainer.train()
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    return {
        "algo": "sft",
        "args": asdict(args),
        "losses": losses,
        "records": len(kept),
        "records_offered": len(records),
        "examples": len(examples),
    }
