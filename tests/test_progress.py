"""Progress off a terminal: whole lines, not one endless carriage-return line."""

from __future__ import annotations

import subprocess
import sys


def test_redirected_progress_is_plain_lines():
    code = (
        "from dialogue_gym.progress import progress_bar\n"
        "for _ in progress_bar(range(50), desc='work', leave=False, mininterval=0):\n"
        "    pass\n"
    )
    err = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stderr
    lines = err.splitlines()
    assert "\r" not in err and len(lines) >= 2 and all(line.startswith("work:") for line in lines)
    assert "50/50" in lines[-1]  # the final count stays, even for a bar that would vanish
