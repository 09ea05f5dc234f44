"""The ILQL agent: a trained LM whose next-token logits are shifted by ``beta * (Q - V)``.

``ILQLBackend`` is a chat backend that decodes token by token with the KV cache, adding
``beta * (min_i Q_i(s, .) - V(s))`` from the ILQL heads to the LM's log-probabilities before
temperature and top-p (Snell et al. 2022's policy extraction; :func:`agents.ilql.shift_logits`).
Its own loop rather than ``generate``: a ``LogitsProcessor`` sees token ids and scores but not the
hidden states the heads read. ``beta=0`` gives the behaviour policy ``pi_beta``. The prompt is
cut by the rule training used (:func:`~.lm_loading.fit_messages`: oldest messages go, the system
prompt stays) so that prompt and reply fit the ``max_length`` the heads were trained with.
By name: ``ilql:path=DIR,beta=4``.
"""

from __future__ import annotations

import inspect
import threading
from typing import Any

from ..errors import InvalidInput
from ..llm.base import ChatBackend, ChatResult, Message, SamplingParams
from .ilql import load_ilql, saved_args, shift_logits
from .lm_loading import fit_messages
from .prompting import PromptingAgent


class ILQLBackend(ChatBackend):
    """Chat completions from an ILQL-trained LM with value-shifted decoding."""

    kind = "ilql"

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        heads: Any,
        beta: float = 1.0,
        name: str = "ilql",
        max_length: int | None = None,
    ) -> None:
        if beta < 0:
            raise InvalidInput(f"beta must be >= 0, got {beta}")
        self.max_length = max_length
        self.model, self.tokenizer, self.heads = model.eval(), tokenizer, heads.eval()
        self.beta = float(beta)
        self.name = name
        self._lock = threading.Lock()
        # transformers 5.2x calls the KV cache ``cache``; earlier releases ``past_key_values``
        takes = inspect.signature(model.forward).parameters
        self._cache_arg = "cache" if "cache" in takes else "past_key_values"

    def describe(self) -> dict[str, Any]:
        """Kind, model name and beta."""
        return {"kind": self.kind, "model": self.name, "beta": self.beta}

    def next_token_distribution(self, messages: list[Message], temperature: float = 1.0) -> Any:
        """Probabilities of the first token of the reply (for inspection and tests)."""
        import torch

        ids = self._prompt(messages, 1)
        with torch.no_grad():
            out = self.model(input_ids=ids, output_hidden_states=True)
            logits = self._shifted(out.logits[:, -1], out.hidden_states[-1][:, -1])
        return torch.softmax(logits / max(temperature, 1e-6), dim=-1)[0]

    def _prompt(self, messages: list[Message], reserve: int) -> Any:
        """Token ids of the prompt, cut so that ``reserve`` reply tokens still fit."""
        if self.max_length is not None:
            messages = fit_messages(
                self.tokenizer,
                list(messages),
                self.max_length,
                reserve=reserve,
                generation_prompt=True,
            )
        enc = self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        return enc["input_ids"].to(next(self.model.parameters()).device)

    def _shifted(self, logits: Any, hidden: Any) -> Any:
        if self.beta == 0:
            return shift_logits(logits, 0.0 * logits, 0.0)
        return shift_logits(logits, self.heads.advantage(hidden), self.beta)

    def chat(
        self, messages: list[Message], params: SamplingParams | None = None, seed: int | None = None
    ) -> ChatResult:
        """Decode a reply with value-shifted logits (greedy at temperature 0)."""
        import torch

        params = params or SamplingParams()
        stop_ids = {self.tokenizer.eos_token_id}
        gen_eos = getattr(getattr(self.model, "generation_config", None), "eos_token_id", None)
        stop_ids |= set(gen_eos if isinstance(gen_eos, list) else [gen_eos])
        stop_ids.discard(None)
        ids = self._prompt(messages, params.max_tokens)
        new: list[int] = []
        finish = "length"
        with self._lock, torch.no_grad():
            gen = torch.Generator(device="cpu").manual_seed(0 if seed is None else int(seed))
            past, step_ids = None, ids
            for _ in range(params.max_tokens):
                out = self.model(
                    input_ids=step_ids,
                    use_cache=True,
                    output_hidden_states=True,
                    **{self._cache_arg: past},
                )
                past = out["cache"] if "cache" in out else out["past_key_values"]
                logits = self._shifted(out.logits[:, -1], out.hidden_states[-1][:, -1])[0]
                token = _pick(logits.cpu(), params, gen)
                if token in stop_ids:
                    finish = "stop"
                    break
                new.append(token)
                step_ids = torch.tensor([[token]], device=ids.device)
        text = self.tokenizer.decode(new, skip_special_tokens=True)
        for s in params.stop:
            if s in text:
                text, finish = text[: text.index(s)], "stop"
        return ChatResult(text=text.strip(), finish_reason=finish)


def _pick(logits: Any, params: SamplingParams, gen: Any) -> int:
    """Greedy at temperature 0, else temperature and top-p sampling."""
    import torch

    if params.temperature == 0:
        return int(torch.argmax(logits))
    probs = torch.softmax(logits / params.temperature, dim=-1)
    if params.top_p < 1.0:
        sorted_p, order = torch.sort(probs, descending=True)
        keep = torch.cumsum(sorted_p, 0) - sorted_p < params.top_p
        probs = torch.zeros_like(probs).scatter(0, order[keep], sorted_p[keep])
    return int(torch.multinomial(probs / probs.sum(), 1, generator=gen))


class ILQLAgent(PromptingAgent):
    """A chat agent decoding from an ILQL folder with value-shifted logits."""

    name = "ilql"

    def __init__(
        self,
        domain: str,
        path: str,
        beta: float = 1.0,
        temperature: float = 0.7,
        max_tokens: int = 60,
        device: str = "cpu",
        seed: int | None = None,
    ) -> None:
        model, tokenizer, heads = load_ilql(path, device)
        backend = ILQLBackend(
            model, tokenizer, heads, beta, name=str(path), max_length=saved_args(path).max_length
        )
        super().__init__(domain, backend, temperature, max_tokens, cache=False, seed=seed)
