"""One line of the simulator report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Check:
    """One report line: a name, the measured figures, and whether it passed (None: no threshold)."""

    name: str
    text: str
    passed: bool | None
    data: dict[str, Any]
