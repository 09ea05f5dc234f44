"""A language-model agent around any transformers causal LM with a chat template.

``LMAgent(domain, "path/to/model")`` or ``LMAgent(domain, model, tokenizer)``; by name:
``lm:path=DIR``. It speaks with the task description as system prompt (like ``prompting``) and
samples from the model with a per-turn seed, so episodes are reproducible. The trainers (SFT in
:mod:`.sft`, DPO in :mod:`.dpo`) save folders this agent loads; ILQL has its own agent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import InvalidInput
from ..llm.transformers_backend import TransformersBackend
from .prompting import PromptingAgent


class LMAgent(PromptingAgent):
    """A local causal LM as the agent (no disk cache: the model is often being trained)."""

    name = "lm"

    def __init__(
        self,
        domain: str,
        path: Any,
        tokenizer: Any = None,
        temperature: float = 0.7,
        max_tokens: int = 60,
        device: str = "cpu",
        seed: int | None = None,
    ) -> None:
        if isinstance(path, str | Path) and not Path(path).is_dir():
            raise InvalidInput(
                f"lm agent: no model folder at {str(path)!r} (path=DIR of a saved "
                "transformers model; nothing is downloaded)"
            )
        backend = TransformersBackend(
            str(path) if isinstance(path, Path) else path, tokenizer, device=device
        )
        super().__init__(domain, backend, temperature, max_tokens, cache=False, seed=seed)
