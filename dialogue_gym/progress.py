"""Progress bars that suit where they are shown: a live bar on a terminal, and a plain line every
half minute when stderr goes to a file or a pipe (one line per update, no carriage returns).

tqdm does the counting and timing; only where it writes changes. Its own ``disable=None`` would
hide the bar off a terminal, and a run sent to a log would then print nothing for many minutes.
"""

from __future__ import annotations

import os
import sys
from typing import Any, TextIO

from tqdm import tqdm

LOG_INTERVAL_S = 30.0
"""Seconds between two progress lines when stderr is not a terminal."""


class _Lines:
    """A stream that turns tqdm's carriage-return redraws into whole lines (blank ones dropped)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> None:
        line = text.replace("\r", "").strip()
        if line:
            self.stream.write(line + "\n")

    def flush(self) -> None:
        self.stream.flush()


def quiet_library_bars() -> None:
    """Off a terminal, switch off the progress bars of Hugging Face libraries (model loading,
    downloads): they honour ``HF_HUB_DISABLE_PROGRESS_BARS`` when imported, and cannot be made to
    print plain lines. Call before they are imported; child processes inherit it."""
    if not sys.stderr.isatty():
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def progress_bar(iterable: Any = None, **kwargs: Any) -> tqdm:
    """``tqdm(iterable, **kwargs)`` on stderr: redrawn in place on a terminal; on a file or a
    pipe, one plain line at most every :data:`LOG_INTERVAL_S` seconds and when it ends."""
    stream = sys.stderr
    if not stream.isatty():
        kwargs = {"mininterval": LOG_INTERVAL_S, "ascii": True, "ncols": 100, **kwargs}
        kwargs["file"] = _Lines(stream)
        kwargs["leave"] = True  # the final count, as a last line
        kwargs["dynamic_ncols"] = False  # no terminal to measure
    return tqdm(iterable, **kwargs)
