"""Hand-written supporters (see the package docstring: never tuned to the simulators)."""

from __future__ import annotations

import re
from typing import Any

from dialogue_gym.agents.base import Agent

from .common import (
    all_user,
    has_word,
    last_user,
    n_agent_turns,
)

# --------------------------------------------------------------------------- counseling lines

_CRISIS_WORDS = (
    "suicide",
    "suicidal",
    "kill myself",
    "killing myself",
    "end my life",
    "ending my life",
    "end it all",
    "want to die",
    "wanna die",
    "wish i was dead",
    "wish i were dead",
    "better off dead",
    "hurt myself",
    "hurting myself",
    "harm myself",
    "self-harm",
    "self harm",
    "cut myself",
    "cutting myself",
    "no reason to live",
    "not worth living",
    "don't want to live",
    "take my own life",
    "overdose",
)
CRISIS_REPLIES = (
    "I'm really sorry you're feeling this way, and I'm glad you told me. Your safety matters "
    "most right now: if you're in the US, please call or text 988 to reach the Suicide and "
    "Crisis Lifeline, or call your local emergency number if you might act on these thoughts. "
    "Is there someone you trust who could be with you right now?",
    "You matter, and you don't have to carry this alone. Please reach out to 988 (call or text, "
    "in the US) or a local crisis line today; they are there to listen any time, day or night.",
)

_FEELINGS = {
    "anxious": "anxious",
    "anxiety": "anxious",
    "worried": "worried",
    "worry": "worried",
    "nervous": "nervous",
    "scared": "scared",
    "afraid": "scared",
    "fear": "scared",
    "sad": "sad",
    "depressed": "low",
    "depression": "low",
    "lonely": "lonely",
    "alone": "lonely",
    "isolated": "isolated",
    "angry": "angry",
    "mad": "angry",
    "frustrated": "frustrated",
    "upset": "upset",
    "hurt": "hurt",
    "ashamed": "ashamed",
    "embarrassed": "embarrassed",
    "guilty": "guilty",
    "overwhelmed": "overwhelmed",
    "stressed": "stressed",
    "stress": "stressed",
    "exhausted": "exhausted",
    "tired": "worn out",
    "hopeless": "hopeless",
    "lost": "lost",
    "confused": "confused",
    "heartbroken": "heartbroken",
    "betrayed": "betrayed",
    "jealous": "jealous",
    "disappointed": "disappointed",
}

_TOPICS: dict[str, tuple[str, ...]] = {
    "work": (
        "job",
        "work",
        "boss",
        "fired",
        "laid off",
        "unemployed",
        "career",
        "coworker",
        "coworkers",
        "colleague",
        "colleagues",
        "salary",
        "interview",
    ),
    "breakup": (
        "breakup",
        "broke up",
        "break up",
        "boyfriend",
        "girlfriend",
        "partner",
        "ex",
        "divorce",
        "husband",
        "wife",
        "relationship",
        "cheated",
        "dating",
    ),
    "school": (
        "school",
        "exam",
        "exams",
        "class",
        "classes",
        "college",
        "university",
        "grades",
        "studying",
        "homework",
        "teacher",
        "professor",
        "thesis",
        "semester",
    ),
    "friends": ("friend", "friends", "friendship", "bestie"),
    "family": ("mom", "mother", "dad", "father", "parents", "family", "sister", "brother"),
    "pandemic": ("covid", "pandemic", "lockdown", "quarantine", "virus", "corona"),
}
_TOPIC_PHRASE = {
    "work": "your work situation",
    "breakup": "your relationship",
    "school": "school",
    "friends": "your friendship",
    "family": "your family",
    "pandemic": "the pandemic",
    None: "everything you're going through",
}
SUGGESTIONS = {
    "work": "One thing that might help is breaking things into small daily steps, like updating "
    "your resume one day and reaching out to a couple of contacts the next.",
    "breakup": "It might help to lean on friends or family for a while and give yourself "
    "permission to grieve; small routines like a daily walk can make the days feel steadier.",
    "school": "It might help to split your work into smaller pieces with short breaks, and to "
    "talk with a teacher or school counselor about what's weighing on you.",
    "friends": "Maybe you could find a calm moment to tell your friend honestly how things made "
    "you feel; a direct conversation often clears up more than we expect.",
    "family": "It might help to find a quiet moment to share how you feel with them, or to talk "
    "it over with someone you trust outside the family.",
    "pandemic": "Keeping a simple daily routine and staying in touch with people by phone or "
    "video can make this time feel a lot less isolating.",
    None: "One small thing that might help is writing down what's on your mind each evening, or "
    "talking it through with someone you trust.",
}
SUPPORT_CLOSINGS = (
    "You've shown real strength by talking about this today.",
    "I'm glad we talked. It's okay to take things one step at a time.",
    "Please take care of yourself, and reach out again whenever you need to.",
)


def _crisis(text: str) -> bool:
    return has_word(text, _CRISIS_WORDS)


def _feeling(text: str) -> str | None:
    for word in re.findall(r"[a-z]+", text.lower()):
        if word in _FEELINGS:
            return _FEELINGS[word]
    return None


def _topic(info: dict[str, Any]) -> str | None:
    text = all_user(info).lower()
    hits = {
        k: len(re.findall(r"\b(?:" + "|".join(map(re.escape, w)) + r")\b", text))
        for k, w in _TOPICS.items()
    }
    best = max(hits, key=lambda k: hits[k])
    return best if hits[best] > 0 else None


class _Supporter(Agent):
    """Answers any mention of self-harm or suicide with care and a crisis line, else ``reply``."""

    def __init__(self) -> None:
        self.reset()

    def reset(self, seed: int | None = None) -> None:
        """Forget how many crisis replies were given."""
        self.crisis_replies = 0

    def act(self, observation: str, info: dict[str, Any]) -> str:
        """Put safety first; otherwise follow the plan for the current turn."""
        last = last_user(info)
        if _crisis(last):
            self.crisis_replies += 1
            return CRISIS_REPLIES[min(self.crisis_replies, len(CRISIS_REPLIES)) - 1]
        return self.reply(n_agent_turns(info), last, info)

    def reply(self, t: int, last: str, info: dict[str, Any]) -> str:
        raise NotImplementedError


class EmpathyThenAdvice(_Supporter):
    """Greet and ask what is going on, reflect feelings for three turns, then two suggestions."""

    name = "counseling/empathy-then-advice"

    def reply(self, t: int, last: str, info: dict[str, Any]) -> str:
        """One line of the plan for turn ``t``."""
        feel, topic = _feeling(last) or "stressed", _topic(info)
        about = _TOPIC_PHRASE[topic]
        lines = (
            "Hi, I'm really glad you reached out. I'm sorry things have been hard; can you tell "
            "me a bit more about what's been going on?",
            f"That sounds really hard. It makes sense that you'd feel {feel} with {about}.",
            f"I can hear how {feel} this has made you. Anyone in your position would find it "
            "difficult.",
            f"It sounds like you've been carrying a lot, and feeling {feel} is a very natural "
            "response.",
            SUGGESTIONS[topic],
            "It could also help to look after the basics, like sleep, food and a bit of movement, "
            "since they make hard feelings easier to carry. How does that sound to you?",
        )
        return lines[t] if t < len(lines) else SUPPORT_CLOSINGS[(t - len(lines)) % 3]


class QuestionsFirstSupporter(_Supporter):
    """Ask open questions (what, when, who, what tried), acknowledging answers, then reassure."""

    name = "counseling/questions-first"

    def reply(self, t: int, last: str, info: dict[str, Any]) -> str:
        """One question or reassurance for turn ``t``."""
        alone = has_word(last, ("no one", "nobody", "alone", "not really", "no"))
        lines = (
            "Hi, thank you for reaching out. Can you tell me more about what happened?",
            "Thank you for sharing that with me. When did you first start feeling this way?",
            "I appreciate you telling me. Is there anyone in your life, like a friend or family "
            "member, you can talk to about this?",
            ("I'm sorry you feel on your own with this. " if alone else "That's good to know. ")
            + "What have you tried so far to cope with it?",
            "Thank you. How are you feeling about it right now, as we talk?",
            "You've been dealing with a lot, and it says a lot about you that you're facing it. "
            "Things like this often get easier with time and support.",
            "You're not alone in this, and it's okay to take things one step at a time.",
        )
        return lines[t] if t < len(lines) else SUPPORT_CLOSINGS[(t - len(lines)) % 3]


_SWAPS = (
    (r"\bi am\b", "you are"),
    (r"\bi'm\b", "you're"),
    (r"\bim\b", "you're"),
    (r"\bi was\b", "you were"),
    (r"\bi've\b", "you've"),
    (r"\bi'd\b", "you'd"),
    (r"\bi'll\b", "you'll"),
    (r"\bi\b", "you"),
    (r"\bme\b", "you"),
    (r"\bmy\b", "your"),
    (r"\bmine\b", "yours"),
    (r"\bmyself\b", "yourself"),
)


def _restate(text: str) -> str | None:
    """A clause of the user's message turned into the second person, or None if none fits."""
    clauses = re.split(r"[.!?;]+|,\s*(?:but|and|so)\b|\bbut\b", text)
    good = [
        c.strip(" ,")
        for c in clauses
        if 4 <= len(c.split()) <= 20 and "?" not in c and not has_word(c, ("you", "your"))
    ]
    if not good:
        return None
    clause = good[-1].lower()
    for pattern, repl in _SWAPS:
        clause = re.sub(pattern, repl, clause)
    return clause


class ReflectiveListener(_Supporter):
    """Mostly restate a clause of the user's last message and name the feeling; one suggestion."""

    name = "counseling/reflective-listener"

    def reply(self, t: int, last: str, info: dict[str, Any]) -> str:
        """Restate and reflect; every third turn invite more; one gentle suggestion at turn 6."""
        if t == 6:
            return "Maybe it would help to talk this through with someone close to you, too."
        clause, feel = _restate(last), _feeling(last)
        opener = "Hi, I'm here to listen. " if t == 0 else ""
        said = f"It sounds like {clause}." if clause else "I hear you."
        felt = f" That must feel really {feel}." if feel else " That sounds really hard."
        more = " Can you tell me more about that?" if t % 3 == 0 or not clause else ""
        return opener + said + felt + more


TOPIC_INFO = {
    "work": "Trouble at work or losing a job is one of the most stressful things people face, "
    "and it's very common. Local job centers and online career services often help with "
    "resumes and interviews for free.",
    "breakup": "Grief after a breakup is real and usually eases with time. Many people find "
    "that talking to a counselor or a support group helps them through it.",
    "school": "Most schools and universities have free counseling services and academic "
    "advisors who help students with exactly this kind of pressure.",
    "friends": "Conflicts with friends are very common, and many friendships come through them "
    "stronger once both people talk honestly.",
    "family": "Family tension is one of the most common sources of stress, and a family "
    "counselor can help everyone talk to each other more calmly.",
    "pandemic": "A lot of people have felt isolated and anxious during the pandemic, and many "
    "therapists now offer sessions by phone or video.",
    None: "Feelings like these are common and treatable. Talking to a doctor or a licensed "
    "therapist is a good first step, and many offer low-cost or online sessions.",
}


class ReassureInform(_Supporter):
    """Validate and affirm the user's strength, then give useful information and resources."""

    name = "counseling/reassure-inform"

    def reply(self, t: int, last: str, info: dict[str, Any]) -> str:
        """Validation, affirmation, information, resources, in that order."""
        topic = _topic(info)
        lines = (
            "Hi, thank you for reaching out; it takes courage to talk about something this hard. "
            "What's been on your mind?",
            f"What you're feeling makes complete sense given {_TOPIC_PHRASE[topic]}, and you're "
            "not overreacting.",
            "The fact that you're reaching out and talking about it shows real strength and "
            "self-awareness.",
            TOPIC_INFO[topic],
            "It may also help to know that sleep, exercise and regular contact with people you "
            "trust have a real effect on mood. And if things ever feel too heavy, you can call "
            "or text 988 in the US any time.",
            "You've already taken an important step today, and I believe you can get through this.",
        )
        return lines[t] if t < len(lines) else SUPPORT_CLOSINGS[(t - len(lines)) % 3]


DISCLOSURES = {
    "work": "I went through something similar when I lost a job a few years ago, and I remember "
    "how anxious and lost I felt.",
    "breakup": "I went through a painful breakup a while back, so I remember how much it hurt "
    "and how hard it was just to get through the day.",
    "school": "I remember feeling crushed by exams and deadlines in college, so I have some idea "
    "of how draining that pressure can be.",
    "friends": "I once had a falling-out with a close friend, and I remember how lonely and "
    "confused it left me.",
    "family": "I've had hard times with my own family too, and I know how much that can weigh "
    "on you.",
    "pandemic": "During the lockdowns I felt very isolated too, so I know how draining it can be.",
    None: "I've been through a stretch of feeling really low myself, so I have a sense of how "
    "heavy this can feel.",
}


class SelfDisclosure(_Supporter):
    """Share a brief similar experience of my own once, then support and suggestions."""

    name = "counseling/self-disclosure"

    def reply(self, t: int, last: str, info: dict[str, Any]) -> str:
        """Ask, disclose once, support, reflect, then suggest."""
        topic, feel = _topic(info), _feeling(last) or "worn down"
        lines = (
            "Hi, I'm glad you reached out. What's been going on for you lately?",
            DISCLOSURES[topic] + " It did get easier for me, little by little.",
            "You're not alone in this, and what you're feeling is completely understandable. "
            "How have you been coping so far?",
            f"It sounds like you've been feeling {feel}, which makes a lot of sense.",
            "What helped me was talking to someone I trusted and setting one small goal each "
            "day. Maybe something like that could help you too?",
            SUGGESTIONS[topic],
        )
        return lines[t] if t < len(lines) else SUPPORT_CLOSINGS[(t - len(lines)) % 3]
