"""Chat-model users for the fake chat server that answer the same whatever was said."""

from __future__ import annotations

import json
from collections.abc import Callable


def fixed_user(donation: float, intensity: int, reply: str) -> Callable[[dict], str]:
    """A responder: asked for its outcome, a persuadee gives ``donation`` and a seeker reports
    ``intensity``; any other turn gets ``reply``."""

    def respond(body: dict) -> str:
        last = body["messages"][-1]["content"]
        if '"donation"' in last:
            return json.dumps({"donation": donation})
        if '"intensity"' in last:
            return json.dumps({"intensity": intensity})
        return reply

    return respond
