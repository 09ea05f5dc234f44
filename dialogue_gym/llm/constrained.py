"""Constrained structured answers: JSON schemas for the outcome questions, and a logits processor
that makes a local transformers model write only text of a given regular language.

Endpoints get the schema itself (``response_format``, see :mod:`.openai_backend`). A local
model gets :class:`RegexLogitsProcessor`, which at each step masks every token whose text would
leave the language, and allows the end of the answer only once the text is complete. Only the
schemas :func:`schema_regex` can translate are enforced locally: an object with one number in a
range (every outcome question, the LLM judge) and objects of strings, string enums, bounded
integers and arrays of such objects with ``minItems`` 0 or 1 and any ``maxItems`` (the
hindsight controller's and forward model's answers, the ProCoT plan). Any other schema decodes
freely and relies on parsing and re-asking.

Why not a library: lm-format-enforcer 0.11.3 (pure Python, full JSON schemas) fails to import its
transformers integration under transformers 5 (``transformers.tokenization_utils`` moved), and
outlines pulls a Rust core and its own model wrappers. The schemas here are regular languages,
matched partially by the ``regex`` package that transformers already depends on.
"""

from __future__ import annotations

import json
from typing import Any

import regex

from ..errors import InvalidInput

WS = r"[ ]?"
"""Optional single space between JSON tokens (more would only let a small model ramble)."""


def number_schema(key: str, low: float, high: float) -> dict[str, Any]:
    """JSON schema of ``{"<key>": <number in [low, high]>}``."""
    return {
        "type": "object",
        "properties": {key: {"type": "number", "minimum": low, "maximum": high}},
        "required": [key],
        "additionalProperties": False,
    }


def _number_regex(low: float, high: float) -> str:
    """Decimal numbers (at most two decimals) in ``[low, high]``, for integer bounds."""
    if low != int(low) or high != int(high) or low > high:
        raise InvalidInput(f"number bounds must be integers with low <= high, got [{low}, {high}]")
    low, high = int(low), int(high)
    frac, zeros = r"(\.[0-9]{1,2})?", r"(\.0{1,2})?"
    parts = []
    for k in range(max(low, 0), high + 1):  # 0 .. high
        parts.append(f"{k}{zeros if k == high else frac}")
    for k in range(1, -low + 1) if low < 0 else ():  # -1 .. low, and -0.xx
        parts.append(f"-{k}{zeros if k == -low else frac}")
    if low < 0:
        parts.append(r"-0\.[0-9]{1,2}")
    return "(" + "|".join(parts) + ")"


STRING = r'"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt])*"'
"""A JSON string: any characters but quotes, backslashes and control characters, or an escape."""
PROBE = "Zq7 ,;:!?()[]{}-+*/=<>@#$%&_~|'"
"""Text that continues an answer only inside a free string: there, every *plain* token (one
without quotes, backslashes or control characters) continues it too, which spares checking each."""


def _value_regex(spec: dict[str, Any]) -> str | None:
    """Regex of one JSON value of ``spec``, or None where this module writes none."""
    kind = spec.get("type")
    if "enum" in spec:
        if not all(isinstance(v, str) for v in spec["enum"]):
            return None
        return "(?:" + "|".join(regex.escape(json.dumps(v)) for v in spec["enum"]) + ")"
    if kind == "string":
        return STRING
    if kind in ("number", "integer"):
        low, high = spec.get("minimum"), spec.get("maximum")
        if low is None or high is None or low != int(low) or high != int(high) or low > high:
            return None
        if kind == "integer":
            return "(?:" + "|".join(str(k) for k in range(int(low), int(high) + 1)) + ")"
        return _number_regex(low, high)
    if kind == "array":
        item = _value_regex(spec.get("items") or {})
        most = spec.get("maxItems")
        if item is None or spec.get("minItems", 0) not in (0, 1) or (most is not None and most < 1):
            return None
        more = "*" if most is None else f"{{0,{most - 1}}}"
        items = rf"{item}(?:{WS},{WS}{item}){more}"
        return rf"\[{WS}{items if spec.get('minItems') else f'(?:{items})?'}{WS}\]"
    if kind == "object":
        parts = []
        for key, sub in (spec.get("properties") or {}).items():
            value = _value_regex(sub)
            if value is None or not regex.fullmatch(r"[A-Za-z_]+", key):
                return None
            parts.append(rf'"{key}"{WS}:{WS}{value}')
        if not parts:
            return None
        return rf"\{{{WS}" + f"{WS},{WS}".join(parts) + rf"{WS}\}}"
    return None


def schema_regex(schema: dict[str, Any] | None) -> str | None:
    """A regular expression for the JSON texts ``schema`` allows, where this module can write
    one: an object whose properties are numbers or integers with integer bounds, strings, string
    enums, arrays of these or objects of these, every property present in the schema's order;
    otherwise ``None`` (the answer is decoded freely)."""
    if not schema or schema.get("type") != "object":
        return None
    value = _value_regex(schema)
    return None if value is None else WS + value


class TokenTable:
    """Each token id's text, as appended to an answer (computed once per tokenizer)."""

    def __init__(self, tokenizer: Any) -> None:
        # decoded after a reference token and cut: tokenizers that drop a token's leading space
        # when it is decoded alone (SentencePiece) keep it, as they do inside a text
        ref = tokenizer.encode("0", add_special_tokens=False)[-1:]
        head = len(tokenizer.decode(ref))
        self.texts = [tokenizer.decode(ref + [i])[head:] for i in range(len(tokenizer))]
        self.eos = {i for i in (tokenizer.eos_token_id, tokenizer.pad_token_id) if i is not None}
        self.by_first: dict[str, list[int]] = {}
        self.plain: list[int] = []
        """Tokens without quotes, backslashes or control characters."""
        self.other: list[int] = []
        for i, t in enumerate(self.texts):
            if t and i not in self.eos:
                self.by_first.setdefault(t[0], []).append(i)
                bad = any(c in '"\\' or ord(c) < 32 for c in t)
                (self.other if bad else self.plain).append(i)


class RegexLogitsProcessor:
    """A ``transformers`` logits processor: only tokens that keep the answer a prefix of a match
    of ``pattern``; the end-of-sequence token only once the answer matches in full. Batch size 1
    (the backend generates one answer per request)."""

    def __init__(self, table: TokenTable, pattern: str, prompt_length: int) -> None:
        self.table = table
        self.pattern = regex.compile(pattern)
        self.prompt_length = prompt_length
        self._allowed: dict[str, list[int]] = {}

    def _prefix_ok(self, text: str) -> bool:
        return self.pattern.fullmatch(text, partial=True) is not None

    def allowed(self, text: str) -> list[int]:
        """Token ids allowed after the answer ``text`` (memoized per text)."""
        if text in self._allowed:
            return self._allowed[text]
        out = []
        if self._prefix_ok(text + PROBE):  # inside a free string: every plain token continues
            texts = self.table.texts
            out = self.table.plain + [
                i for i in self.table.other if self._prefix_ok(text + texts[i])
            ]
        else:
            for first, ids in self.table.by_first.items():
                if not self._prefix_ok(text + first):
                    continue
                out += [i for i in ids if self._prefix_ok(text + self.table.texts[i])]
        if self.pattern.fullmatch(text) is not None:
            out += sorted(self.table.eos)
        self._allowed[text] = out
        return out

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        """Mask the scores of the tokens that would leave the language."""
        import torch

        if input_ids.shape[0] != 1:
            raise InvalidInput("RegexLogitsProcessor decodes one answer at a time")
        text = "".join(self.table.texts[i] for i in input_ids[0, self.prompt_length :].tolist())
        allowed = self.allowed(text)
        if not allowed:  # cannot happen for a well-formed pattern; end rather than loop
            allowed = sorted(self.table.eos)
        mask = torch.full_like(scores, float("-inf"))
        mask[:, allowed] = 0.0
        return scores + mask
