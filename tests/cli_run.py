"""Run the command line as a user does: ``python -m dialogue_gym.cli`` in a subprocess."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

CLI = [sys.executable, "-m", "dialogue_gym.cli"]
"""The command that starts ``dialogue-gym`` in a fresh interpreter."""


def run_cli(
    *args: str, stdin: str | None = None, timeout: float = 300, **kwargs: Any
) -> subprocess.CompletedProcess:
    """The finished process (text stdout and stderr) of ``dialogue-gym ARGS``; further keywords
    (``env``, ``cwd``, ``check``) go to :func:`subprocess.run`."""
    return subprocess.run(
        [*CLI, *args], input=stdin, capture_output=True, text=True, timeout=timeout, **kwargs
    )
