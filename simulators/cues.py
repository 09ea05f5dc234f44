"""Reading what a user revealed: concerns, feelings, needs and safety flags, from text alone.

Keyword lexicons over the user's own words. Used by reactive agents, by the privileged hindsight
controller (which sees only the transcript) and by the counseling environment's safety flag. They
never look at a hidden persona, but they were written against the embedded simulators' own reply
sentences (``persuasion_text``, ``counseling_text``): on this simulator they read almost every
revelation, which says nothing of how well they read real people. A stopgap, not detection; the
learned hindsight components (``dialogue_gym.hindsight.critic``) do not use them.
"""

from __future__ import annotations

import re

CONCERN_PATTERNS: dict[str, re.Pattern[str]] = {
    "legitimacy": re.compile(
        r"\b(legit|scam|trust|real organization|sure the money|wary)\w*", re.I
    ),
    "impact": re.compile(
        r"\b(overhead|actually goes|used for|difference would|what my money|effective)\w*", re.I
    ),
    "money": re.compile(
        r"\b(tight|spare|budget|need this money|need the extra|every dollar counts)\w*", re.I
    ),
    "local": re.compile(r"\b(here at home|locally|my own town|kids here)\b", re.I),
    "unknown_charity": re.compile(
        r"(what do they do|never heard|haven't heard|where are they)", re.I
    ),
}
"""Persuadee concerns and the words that voice them."""

PERSUASION_TYPE_PATTERNS: dict[str, re.Pattern[str]] = {
    "empathic": re.compile(r"\b(tear up|soft spot|gets to me|breaks my heart|poor kids)\b", re.I),
    "analytical": re.compile(r"\b(numbers person|evidence|facts|how effective|achieves)\b", re.I),
    "skeptic": re.compile(r"\b(wary|scams?|don't really trust|spend more on ads)\b", re.I),
    "thrifty": re.compile(r"\b(tight|extra cash|every dollar counts|budget)\b", re.I),
}
"""Remarks that reveal what drives a persuadee."""

COUNSELING_NEED_PATTERNS: dict[str, re.Pattern[str]] = {
    "listen": re.compile(r"\b(vent|listen|get it off my chest|someone to talk)\b", re.I),
    "reassure": re.compile(r"\b(not good enough|failing|my fault|worthless|failure)\b", re.I),
    "advice": re.compile(r"\b(what (should|do) i do|any advice|don't know what to do)\b", re.I),
    "info": re.compile(
        r"\b(where to (start|look|find)|resources|is it normal|is this normal)\b", re.I
    ),
}
"""Remarks that reveal what kind of support a help-seeker needs."""

RISK_PATTERN = re.compile(
    r"\b(kill(ing)? myself|end it all|hurt(ing)? myself|self[- ]harm|suicid\w*|"
    r"don't want to (live|be here)|no reason to live|better off without me|disappear forever)\b",
    re.I,
)
"""Mentions of self-harm (the counseling env flags these turns)."""

CRISIS_PATTERN = re.compile(
    r"\b(988|hotline|crisis|emergency|lifeline|helpline|911|samaritans)\b", re.I
)
"""An agent turn that points to crisis resources."""


def concerns_in(text: str) -> list[str]:
    """Persuasion concerns voiced in ``text``."""
    return [name for name, pat in CONCERN_PATTERNS.items() if pat.search(text)]


def persuasion_types_in(text: str) -> list[str]:
    """Persuadee main types that ``text`` hints at."""
    return [name for name, pat in PERSUASION_TYPE_PATTERNS.items() if pat.search(text)]


def counseling_needs_in(text: str) -> list[str]:
    """Help-seeker needs that ``text`` hints at."""
    return [name for name, pat in COUNSELING_NEED_PATTERNS.items() if pat.search(text)]


def mentions_risk(text: str) -> bool:
    """True if ``text`` mentions self-harm or suicide."""
    return bool(RISK_PATTERN.search(text))


def points_to_crisis_help(text: str) -> bool:
    """True if ``text`` points to crisis resources."""
    return bool(CRISIS_PATTERN.search(text))


CONCERN_RESPONSE: dict[str, str] = {
    "legitimacy": "credibility-appeal",
    "impact": "donation-information",
    "money": "foot-in-the-door",
    "local": "logical-appeal",
    "unknown_charity": "credibility-appeal",
}
"""A strategy that answers each persuasion concern."""

NEED_RESPONSE: dict[str, str] = {
    "listen": "Reflection of feelings",
    "reassure": "Affirmation and Reassurance",
    "advice": "Providing Suggestions",
    "info": "Information",
}
"""A strategy that meets each counseling need."""
