"""Hand-written persuaders (see the package docstring: never tuned to the simulators)."""

from __future__ import annotations

from typing import Any

from dialogue_gym.agents.base import Agent

from .common import (
    NO_WORDS,
    agrees,
    has_word,
    last_user,
    n_agent_turns,
    named_amount,
    said_yes,
)

# --------------------------------------------------------------------------- persuasion lines

INTRO = (
    "Hi there, how are you doing today? I'd love to tell you a little about a charity called "
    "Save the Children."
)
FACT_REACH = (
    "Save the Children has been helping kids since 1919 and now works in about 120 countries, "
    "including here in the US. They provide food, health care, education and protection to "
    "children who need it most."
)
FACT_MONEY = (
    "It's a well-rated charity, and around 85 cents of every dollar goes straight to its "
    "programs for children. Even a dollar or two can help pay for things like vaccines, meals or "
    "school supplies."
)
ASK = (
    "Would you be willing to donate some of your $2 task payment to Save the Children? Any "
    "amount, from a few cents up to the full $2, would make a real difference."
)
THANK_YES = (
    "Thank you so much, that's really generous of you! Your donation will help children get the "
    "care and support they need."
)
THANK_NO = (
    "That's completely okay, and I really appreciate you taking the time to hear about their work."
)
THANK_MAYBE = "Thanks for thinking it over. Whatever you decide, I appreciate you listening."
CLOSINGS = (
    "Thanks again for chatting with me today. I hope you have a great rest of your day!",
    "It was really nice talking with you. Take care!",
    "Thank you for your time, I enjoyed our conversation.",
)


def _answer_to_ask(last: str) -> str:
    if agrees(last):
        return THANK_YES
    return THANK_NO if has_word(last, NO_WORDS) else THANK_MAYBE


def _closing(k: int) -> str:
    return CLOSINGS[k % len(CLOSINGS)]


class _ScriptedPersuader(Agent):
    """A fixed pitch that ends with one ask, then thanks and closes (subclasses set SCRIPT)."""

    SCRIPT: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.reset()

    def reset(self, seed: int | None = None) -> None:
        """No per-episode memory: the turn comes from the conversation."""

    def act(self, observation: str, info: dict[str, Any]) -> str:
        """Say the next line of the script; answer the ask; then close politely."""
        t = n_agent_turns(info)
        if t < len(self.SCRIPT):
            return self.SCRIPT[t]
        if t == len(self.SCRIPT):
            return _answer_to_ask(last_user(info))
        return _closing(t - len(self.SCRIPT) - 1)


class AskOnce(_ScriptedPersuader):
    """Introduce the charity, give two facts, ask once for a donation, then thank and close."""

    name = "persuasion/ask-once"
    SCRIPT = (INTRO, FACT_REACH, FACT_MONEY, ASK)


class StoryFirst(_ScriptedPersuader):
    """Open with a short story about a child the charity helped, then facts, then one ask."""

    name = "persuasion/story-first"
    SCRIPT = (
        "Hi! Can I share a quick story? I read about a little boy in Sierra Leone who was so "
        "malnourished he couldn't walk, and a few weeks after Save the Children's nutrition team "
        "treated him he was back playing with his brothers.",
        "Stories like his happen every day, because millions of children face hunger, disease or "
        "war. Save the Children has spent over 100 years getting kids food, medicine, schooling "
        "and safety.",
        FACT_MONEY,
        ASK,
    )


class SelfModeling(_ScriptedPersuader):
    """Introduce the charity and its work, say I am donating too, then ask once to join me."""

    name = "persuasion/self-modeling"
    SCRIPT = (
        INTRO,
        FACT_REACH,
        "I'm planning to give part of my own payment from this task to them, because it's one of "
        "the most direct ways I know to help a child.",
        "Would you like to join me and donate some of your $2 payment too? Whatever amount feels "
        "right to you would be wonderful.",
    )


CONCERNS: dict[str, tuple[tuple[str, ...], str]] = {
    "overhead": (
        (
            "overhead",
            "admin",
            "administrative",
            "where the money",
            "where does the money",
            "money go",
            "ceo",
            "salary",
            "salaries",
            "percent",
            "percentage",
            "how much of",
        ),
        "That's a fair question. Around 85 cents of every dollar goes to programs for children, "
        "and Save the Children publishes audited financial reports every year.",
    ),
    "trust": (
        (
            "scam",
            "scams",
            "legit",
            "legitimate",
            "trust",
            "trustworthy",
            "credible",
            "fraud",
            "suspicious",
            "skeptical",
            "sceptical",
            "how do i know",
        ),
        "I understand being careful with charities. Save the Children has been around for over "
        "100 years, and independent watchdogs like Charity Navigator rate it well for "
        "accountability and transparency.",
    ),
    "home": (
        (
            "at home",
            "local",
            "locally",
            "own country",
            "america",
            "american",
            "americans",
            "here first",
            "our country",
            "domestic",
            "in the us",
            "in the u.s.",
        ),
        "That's a good point, and Save the Children actually works here in the US too, with "
        "early education and emergency programs in poor and rural communities. A gift can help "
        "kids both here and abroad.",
    ),
    "afford": (
        (
            "afford",
            "broke",
            "tight",
            "need the money",
            "can't spare",
            "cannot spare",
            "bills",
            "paycheck",
            "poor",
            "struggling",
        ),
        "I completely understand, money is tight for a lot of people right now. It's entirely "
        "up to you, and no amount is too small.",
    ),
    "how": (
        (
            "how do i donate",
            "how would i",
            "how does it work",
            "how do i give",
            "deducted",
            "taken out",
            "how will",
        ),
        "It's simple: whatever amount you choose is taken out of your task payment by the "
        "researchers and sent to Save the Children for you.",
    ),
}


class AnswerConcerns(Agent):
    """Ask-once pitch, but first answer each concern the user raises (overhead, trust, ...)."""

    name = "persuasion/answer-concerns"
    SCRIPT = (INTRO, FACT_REACH, FACT_MONEY, ASK)

    def __init__(self) -> None:
        self.reset()

    def reset(self, seed: int | None = None) -> None:
        """Forget the step reached and the concerns answered."""
        self.step, self.closed = 0, 0
        self.answered: set[str] = set()

    def act(self, observation: str, info: dict[str, Any]) -> str:
        """Answer a new concern if there is one, otherwise say the next line of the plan."""
        last = last_user(info)
        for key, (words, answer) in CONCERNS.items():
            if key not in self.answered and has_word(last, words):
                self.answered.add(key)
                after_ask = self.step > len(self.SCRIPT)
                return answer + (" Whatever you decide is completely fine." if after_ask else "")
        self.step += 1
        if self.step <= len(self.SCRIPT):
            return self.SCRIPT[self.step - 1]
        if self.step == len(self.SCRIPT) + 1:
            return _answer_to_ask(last)
        self.closed += 1
        return _closing(self.closed - 1)


class QuestionsFirst(Agent):
    """Ask about the user (children, past giving, the charity), acknowledge, pitch, ask once."""

    name = "persuasion/questions-first"

    def reset(self, seed: int | None = None) -> None:
        """No per-episode memory: the turn comes from the conversation."""

    def act(self, observation: str, info: dict[str, Any]) -> str:
        """Ask three questions about the user, acknowledging each answer, then pitch and ask."""
        t, last = n_agent_turns(info), last_user(info)
        yes = said_yes(last)
        if t == 0:
            return "Hi! Before I tell you why I'm here, can I ask: do you have any children?"
        if t == 1:
            ack = (
                "That's wonderful, so you know how much kids depend on the adults around them."
                if yes
                else "That's fine, thanks for sharing."
            )
            return ack + " Have you ever donated to a charity before?"
        if t == 2:
            ack = (
                "That's great, it's good to hear you care about helping others."
                if yes
                else "That's okay, a lot of people haven't had the chance."
            )
            return ack + " Have you heard of the charity Save the Children?"
        if t == 3:
            ack = (
                "Great, then you may know a bit about their work already."
                if yes
                else "No worries, I'm happy to tell you about them."
            )
            return ack + " " + FACT_REACH
        script = (FACT_MONEY, ASK)
        if t - 4 < len(script):
            return script[t - 4]
        if t == 6:
            return _answer_to_ask(last)
        return _closing(t - 7)


class SmallStep(Agent):
    """Foot-in-the-door: ask for a few cents first, and if the user agrees invite a bit more."""

    name = "persuasion/small-step"

    def __init__(self) -> None:
        self.reset()

    def reset(self, seed: int | None = None) -> None:
        """Forget whether the second ask was made."""
        self.second_ask = False

    def act(self, observation: str, info: dict[str, Any]) -> str:
        """Pitch, ask for 10 cents, maybe ask once more (never a third time), then close."""
        t, last = n_agent_turns(info), last_user(info)
        if t == 0:
            return INTRO
        if t == 1:
            return FACT_REACH
        if t == 2:
            return (
                "Would you be willing to give just a small amount, say 10 cents, from your task "
                "payment? It's a tiny step, but it really adds up when lots of people do it."
            )
        if t == 3:
            amount = named_amount(last)
            if agrees(last) and (amount is None or amount < 0.5):
                self.second_ask = True
                return (
                    "Thank you, that's really kind! If you feel comfortable, would you consider "
                    "making it a bit more, maybe 50 cents or a dollar? Totally fine if not."
                )
            return THANK_YES if agrees(last) else THANK_NO
        if t == 4 and self.second_ask:
            return "Thank you either way, every bit you give really helps children in need."
        return _closing(t - 4)
