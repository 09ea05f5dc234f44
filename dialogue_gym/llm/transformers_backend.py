"""``TransformersBackend``: a local causal language model with its chat template.

Give it a path (or hub-style directory) to load, or an in-memory model and tokenizer. Sampling is
seeded per request, so a seed gives the same answer; a lock serializes generation (one CPU model
is not run by several threads at once). ``async`` calls run in a worker thread. A request with a
``json_schema`` that :func:`~.constrained.schema_regex` translates decodes under that constraint.
"""

from __future__ import annotations

import threading
from typing import Any

from ..errors import InvalidInput
from .base import ChatBackend, ChatResult, Message, SamplingParams
from .constrained import RegexLogitsProcessor, TokenTable, schema_regex


class TransformersBackend(ChatBackend):
    """Chat completions from a local ``transformers`` causal LM."""

    kind = "transformers"

    def __init__(
        self,
        model: Any,
        tokenizer: Any = None,
        name: str | None = None,
        device: str = "cpu",
        gguf_file: str | None = None,
        dtype: str | None = None,
    ) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if isinstance(model, str):
            kw: dict[str, Any] = {"gguf_file": gguf_file} if gguf_file else {}
            if dtype:
                kw["dtype"] = getattr(torch, dtype)
            self.name = name or (f"{model}#{gguf_file}" if gguf_file else model)
            tokenizer = tokenizer or AutoTokenizer.from_pretrained(
                model, **{k: v for k, v in kw.items() if k == "gguf_file"}
            )
            model = AutoModelForCausalLM.from_pretrained(model, **kw)
        else:
            if tokenizer is None:
                raise InvalidInput("an in-memory model needs its tokenizer")
            self.name = name or getattr(model, "name_or_path", "") or type(model).__name__
        if getattr(tokenizer, "chat_template", None) is None:
            raise InvalidInput(f"the tokenizer of {self.name!r} has no chat template")
        self.model = model.to(device).eval()
        self.tokenizer = tokenizer
        self.device = device
        self._lock = threading.Lock()
        self._tokens: TokenTable | None = None
        self.requests = 0

    def describe(self) -> dict[str, Any]:
        """Kind and model name (name in-memory models distinctly if you cache them)."""
        return {"kind": self.kind, "model": self.name}

    def chat(
        self, messages: list[Message], params: SamplingParams | None = None, seed: int | None = None
    ) -> ChatResult:
        """Generate one answer with the model's chat template."""
        import torch

        params = params or SamplingParams()
        enc = self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        enc = {k: v.to(self.device) for k, v in enc.items()}
        sample = params.temperature > 0
        gen_kw: dict[str, Any] = {"max_new_tokens": params.max_tokens, "do_sample": sample}
        if sample:
            gen_kw.update(temperature=params.temperature, top_p=params.top_p)
        pad = self.tokenizer.pad_token_id
        gen_kw["pad_token_id"] = pad if pad is not None else self.tokenizer.eos_token_id
        pattern = schema_regex(params.json_schema)
        if pattern is not None:  # decode only answers of the schema
            if self._tokens is None:
                self._tokens = TokenTable(self.tokenizer)
            prompt = enc["input_ids"].shape[1]
            gen_kw["logits_processor"] = [RegexLogitsProcessor(self._tokens, pattern, prompt)]
        with self._lock, torch.random.fork_rng(devices=[]), torch.no_grad():
            torch.manual_seed(0 if seed is None else int(seed) % (2**63))
            out = self.model.generate(**enc, **gen_kw)
            self.requests += 1
        new = out[0, enc["input_ids"].shape[1] :]
        text = self.tokenizer.decode(new, skip_special_tokens=True)
        eos = self.tokenizer.eos_token_id
        hit_eos = eos is not None and bool((new == eos).any())
        finish = "length" if len(new) >= params.max_tokens and not hit_eos else "stop"
        for s in params.stop:
            if s in text:
                text, finish = text[: text.index(s)], "stop"
        usage = {"prompt_tokens": int(enc["input_ids"].shape[1]), "completion_tokens": len(new)}
        return ChatResult(text=text.strip(), finish_reason=finish, usage=usage)
