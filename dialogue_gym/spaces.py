"""Gymnasium spaces for dialogue: an utterance or a conversation as text."""

from __future__ import annotations

import string
from typing import Any

from gymnasium import spaces

READABLE_CHARSET = string.ascii_letters + string.digits + string.punctuation + " \n"
"""Characters ``sample()`` draws from: printable ASCII."""


class UnicodeText(spaces.Text):
    """A ``spaces.Text`` whose members are any Unicode string within the length bounds.

    Gymnasium's ``Text`` tests membership against an enumerated charset, but people and language
    models write in any script, with emoji. This space keeps Text's length bounds and its
    ``sample()`` over :data:`READABLE_CHARSET`, and accepts every ``str`` of allowed length.
    """

    def __init__(self, max_length: int, min_length: int = 0, seed: Any = None) -> None:
        super().__init__(max_length, min_length=min_length, charset=READABLE_CHARSET, seed=seed)

    def contains(self, x: Any) -> bool:
        """True for any ``str`` whose length is within ``[min_length, max_length]``."""
        return isinstance(x, str) and self.min_length <= len(x) <= self.max_length

    def __repr__(self) -> str:
        return f"UnicodeText({self.min_length}, {self.max_length})"
