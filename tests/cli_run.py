"""Run the command line as a user does: ``python -m dialogue_gym.cli`` in a subprocess."""

from __future__ import annotations

import subprocess
import sys


def run_cli(
    *args: str, stdin: str | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """The finished process (text stdout and stderr) of ``dialogue-gym ARGS``."""
    return subprocess.run(
        [sys.executable, "-m", "dialogue_gym.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
