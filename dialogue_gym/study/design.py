"""The study design: counterbalanced orders, blinded labels, persona cards and questions."""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidInput

MAX_AGENTS = 8
"""At most this many agents per study (each participant talks with every one)."""


def latin_square(n: int) -> list[list[int]]:
    """A balanced Latin square (Williams design) over ``n`` conditions: each condition appears
    once in every position and, across the rows, follows every other condition equally often.
    ``n`` rows for even ``n``; ``2n`` (each row and its mirror) for odd ``n``."""
    if n < 1:
        raise InvalidInput(f"a Latin square needs at least 1 condition, got {n}")
    first, low, high = [0], 1, n - 1
    while len(first) < n:  # 0, 1, n-1, 2, n-2, ...
        first.append(low)
        low += 1
        if len(first) < n:
            first.append(high)
            high -= 1
    rows = [[(c + r) % n for c in first] for r in range(n)]
    if n % 2:
        rows += [row[::-1] for row in rows]
    return rows


def order_for(participant: int, n_agents: int) -> list[int]:
    """The agents' order (indices into the study's agent list) for the ``participant``-th
    participant (0-based, in order of joining): rows of :func:`latin_square` in turn."""
    rows = latin_square(n_agents)
    return rows[participant % len(rows)]


def partner_label(position: int) -> str:
    """What a participant calls the partner met at ``position`` (0-based): "Partner A", ...
    Labels follow positions, not agents, so they carry nothing about which agent it is."""
    return f"Partner {string.ascii_uppercase[position]}"


@dataclass(frozen=True)
class Rating:
    """One Likert item, rated 1 (strongly disagree) to 5 (strongly agree)."""

    key: str
    statement: str


@dataclass(frozen=True)
class Questions:
    """What a participant is asked after each conversation in one domain."""

    outcome_key: str
    outcome_question: str
    outcome_low: float
    outcome_high: float
    outcome_step: float
    ratings: tuple[Rating, ...]


QUESTIONS: dict[str, Questions] = {
    "persuasion": Questions(
        outcome_key="donation",
        outcome_question="How much of your $2.00 bonus would you give to Save the Children "
        "after this conversation? ($0.00 to $2.00)",
        outcome_low=0.0,
        outcome_high=2.0,
        outcome_step=0.01,
        ratings=(
            Rating("persuasive", "The partner was persuasive."),
            Rating("natural", "The partner sounded natural."),
            Rating("again", "I would talk with this partner again."),
        ),
    ),
    "counseling": Questions(
        outcome_key="intensity_after",
        outcome_question="How intense is the feeling on your card now, after this conversation? "
        "(1 = very mild, 5 = very intense)",
        outcome_low=1.0,
        outcome_high=5.0,
        outcome_step=1.0,
        ratings=(
            Rating("empathic", "The partner understood how I felt."),
            Rating("natural", "The partner sounded natural."),
            Rating("again", "I would talk with this partner again."),
        ),
    ),
}
"""The outcome question and rating items of each domain."""

LIKERT = (
    (1, "strongly disagree"),
    (2, "disagree"),
    (3, "neutral"),
    (4, "agree"),
    (5, "strongly agree"),
)


def reward_of(domain: str, outcome: float, card: dict[str, Any]) -> float:
    """The conversation's reward from the participant's answer, on the env's scale: dollars
    given (persuasion); intensity before minus after (counselling; before is the card's)."""
    if domain == "persuasion":
        return float(outcome)
    return float(card["intensity"]) - float(outcome)


_CONCERN_TEXT = {
    "local": "You would rather help children in your own country.",
    "impact": "You want to know how much of a donation really reaches the children.",
    "legitimacy": "You are wary of charities you cannot check.",
    "money": "Money is tight for you this month.",
}
_NEED_TEXT = {
    "listen": "Most of all you want someone to listen.",
    "reassure": "Most of all you want to hear that it will be all right.",
    "advice": "Most of all you want practical advice.",
    "info": "Most of all you want to know more about what is happening to you.",
}


def persona_card(domain: str, persona: dict[str, Any]) -> dict[str, Any]:
    """The card a participant reads for the user role, drawn from the env's persona for the same
    seed (so a study's cards follow the corpora's distributions): a title, lines to read, and,
    in counselling, the feeling and its intensity before the conversations."""
    name = persona.get("name") or "you"
    if domain == "persuasion":
        lines = [
            f"You are {name}, a crowd worker. You have just earned a $2.00 bonus for a task.",
            "Your chat partner may ask you to give part of it to Save the Children, a charity "
            "for children's health, education and safety. Whatever you give is your decision.",
            "You have heard of Save the Children."
            if persona.get("aware")
            else "You have not heard of Save the Children before.",
            "You have children of your own." if persona.get("has_children") else "",
            "You have given to charities before."
            if persona.get("gave_before")
            else "You rarely give to charities.",
            *(_CONCERN_TEXT.get(c, "") for c in persona.get("concerns", [])[:1]),
            "Answer as this person would, in your own words.",
        ]
        return {"title": "Your role: the person being asked", "lines": [x for x in lines if x]}
    lines = [
        f"You are {name}. Your situation: {persona['problem']}.",
        f"Your feeling: {persona['emotion']}, right now at {persona['intensity']} on a scale "
        "from 1 (very mild) to 5 (very intense).",
        *(f"Part of your story: {d}" for d in persona.get("details", [])[:2]),
        _NEED_TEXT.get(persona.get("need", ""), ""),
        "Talk about it as this person would, in your own words. Start the conversation yourself.",
    ]
    return {
        "title": "Your role: the person seeking support",
        "lines": [x for x in lines if x],
        "emotion": persona["emotion"],
        "intensity": int(persona["intensity"]),
    }


def draw_card(env_id: str, seed: int) -> dict[str, Any]:
    """The persona card for ``seed``: the env's own persona for that seed, turned into text."""
    import gymnasium as gym

    from ..domains import env_domain

    env = gym.make(env_id, privileged_info=True)
    _, info = env.reset(seed=seed)
    env.close()
    return persona_card(env_domain(env_id), info["privileged"]["persona"])
