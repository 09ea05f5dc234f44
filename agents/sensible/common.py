"""What the hand-written agents share: reading the user's words from ``info``."""

from __future__ import annotations

import re
from typing import Any


def messages(info: dict[str, Any]) -> list[dict[str, str]]:
    return list(info.get("messages") or [])


def n_agent_turns(info: dict[str, Any]) -> int:
    return sum(1 for m in messages(info) if m.get("role") == "assistant")


def last_user(info: dict[str, Any]) -> str:
    for m in reversed(messages(info)):
        if m.get("role") == "user":
            return str(m.get("content", "")).replace("\u2019", "'")
    return ""


def all_user(info: dict[str, Any]) -> str:
    return " ".join(str(m.get("content", "")) for m in messages(info) if m.get("role") == "user")


def has_word(text: str, words: tuple[str, ...]) -> bool:
    pattern = r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b"
    return re.search(pattern, text.lower().replace("\u2019", "'")) is not None


def named_amount(text: str) -> float | None:
    """A dollar amount the user names ("$0.50", "50 cents", "1 dollar"), if any."""
    t = text.lower()
    if m := re.search(r"\$\s*(\d+(?:\.\d+)?)", t):
        return float(m.group(1))
    if m := re.search(r"(\d+(?:\.\d+)?)\s*(cents?|dollars?)", t):
        return float(m.group(1)) / (100 if m.group(2).startswith("cent") else 1)
    return None


YES_WORDS = (
    "yes",
    "yeah",
    "yep",
    "sure",
    "ok",
    "okay",
    "of course",
    "definitely",
    "absolutely",
    "i will",
    "i'll",
    "i would",
    "i'd",
    "i can",
    "happy to",
    "why not",
    "count me in",
)
NO_WORDS = (
    "no",
    "nope",
    "not",
    "don't",
    "won't",
    "can't",
    "cannot",
    "rather not",
    "pass",
    "nothing",
)


def agrees(text: str) -> bool:
    """Did the user say yes to a donation? A named amount above zero counts as yes."""
    amount = named_amount(text)
    if amount is not None:
        return amount > 0
    return has_word(text, YES_WORDS) and not has_word(text, NO_WORDS)


def said_yes(text: str) -> bool:
    """A loose yes to a yes/no question about the user."""
    return has_word(
        text, YES_WORDS + ("i do", "i have", "we have", "my son", "my daughter", "my kids")
    ) and not (re.match(r"\s*(no|nope|not|never)\b", text.lower()))
