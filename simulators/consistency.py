"""Does what a user said stay true? A checker of the facts a user states over one conversation.

It reads the user's messages only, sentence by sentence, and pulls out the facts a user of each
task can state (Counseling: how long it has been going on, whether anyone knows, whether they
have tried anything; Persuasion: the pledge, children, past giving, knowing the charity). A later
statement that cannot be true with an earlier one is a :class:`Contradiction`; a change of mind
the user marks as one ("you convinced me", "actually", "make it $1 then") is not.

The patterns are written here, by hand, for English chat messages: no library reads these
facts, and a learned reader would need labelled contradictions we do not have. Its catch and
false-alarm rates are measured on ``probes/contradictions.jsonl``, a bank written apart from
the simulators (``tests/simulators/test_consistency.py``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import InvalidInput
from .classifier import split_sentences

FACTS = {
    "counseling": ("duration", "support", "tried"),
    "persuasion": ("pledge", "children", "donated_before", "knows_charity"),
}
"""The facts the checker reads, by domain."""


@dataclass(frozen=True)
class Contradiction:
    """A later statement of ``fact`` that cannot be true with an earlier one."""

    fact: str
    earlier: str
    later: str
    values: tuple[str, str]


# -- durations -----------------------------------------------------------------------------------
_NUMBER = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "couple": 2,
    "a couple": 2,
    "a couple of": 2,
    "couple of": 2,
    "few": 3,
    "a few": 3,
    "several": 4,
}
_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}
_COUNT = (
    r"(\d+|a couple of|couple of|a couple|a few|few|several|an|a|one|two|three|four|five|"
    r"six|seven|eight|nine|ten|eleven|twelve)"
)
_SPAN = re.compile(rf"\b{_COUNT}\s+(day|week|month|year)s?\b")
_VAGUE = re.compile(r"\bfor\s+(days|weeks|months|years)\b|\b(days|weeks|months|years)\s+now\b")
_LAST = re.compile(r"\b(last|this past|past)\s+(week|month|year)\b|\byesterday\b|\bthis week\b")
_NOT_DURATION = re.compile(
    rf"\b(of|for)\s+{_COUNT}\s+years?\b(?=[^.]*\b(left|dated|married|together|relationship))"
    rf"|\b(partner|boyfriend|girlfriend|husband|wife|friend|friendship|relationship|job|"
    rf"marriage)\s+of\s+{_COUNT}\s+(day|week|month|year)s?"
    rf"|\b{_COUNT}\s+(day|week|month|year)s?\s+old\b"
)
_DURATION_CUE = re.compile(
    r"\b(been|for|since|ago|about|around|maybe|started|starting|past|last|lately|now|almost|"
    r"nearly|over|roughly|like|already|only|just)\b"
)


def _duration(sentence: str) -> tuple[float, float] | None:
    """The span of time a sentence states, in days (low, high), or None."""
    s = _NOT_DURATION.sub(" ", sentence.lower())
    m = _SPAN.search(s)
    if m and _DURATION_CUE.search(s):
        count = int(m.group(1)) if m.group(1).isdigit() else _NUMBER[m.group(1)]
        days = count * _DAYS[m.group(2)]
        return (days * 0.6, days * 1.6 + 3)
    m = _VAGUE.search(s)
    if m:
        unit = (m.group(1) or m.group(2))[:-1]
        return {"day": (2, 14), "week": (10, 100), "month": (45, 800), "year": (365, 1e9)}[unit]
    m = _LAST.search(s)
    if m:
        unit = m.group(2) or ("day" if "yesterday" in m.group(0) else "week")
        return {"day": (0.5, 3), "week": (1, 16), "month": (14, 70), "year": (180, 800)}[unit]
    return None


# -- polar facts ---------------------------------------------------------------------------------
def _rx(*alternatives: str) -> re.Pattern[str]:
    return re.compile("|".join(rf"(?:{a})" for a in alternatives))


_KIN = (
    r"(friend|friends|family|mom|mother|dad|father|parents?|sister|brother|partner|husband|"
    r"wife|boyfriend|girlfriend|therapist|counsell?or|roommate|coworkers?|cousin|aunt|uncle)"
)
_POLAR: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    "support": (
        _rx(
            rf"\btold (a|my|one|some|an?|two|a few)\s+(\w+\s+)?{_KIN}",
            rf"\bmy\s+(\w+\s+)?{_KIN}\s+(knows|know|knew)\b",
            rf"\b{_KIN} (knows|know) (a bit|a little|about it|some|everything)",
            rf"\btalked (to|with) (a|my)\s+(\w+\s+)?{_KIN}",
        ),
        _rx(
            r"\b(haven't|have not|never|didn't|did not|not) (really )?(told|talked to|tell) "
            r"(anyone|anybody|a soul)",
            r"\b(no one|nobody|noone) (else )?(knows|know)\b",
            r"\bkept (it|this) to myself\b",
            r"\byou'?re the first (person|one) i'?ve told\b",
        ),
    ),
    "tried": (
        _rx(
            r"\bi(?:'ve| have)? tried\b",
            r"\bi(?:'ve| have) been (trying|going to|seeing|taking)\b",
            r"\bi started (therapy|running|journaling|meditat)",
        ),
        _rx(
            r"\b(haven't|have not|didn't|did not) (really )?tried (anything|much)",
            r"\bnot much,? i don't (really )?know where to start",
            r"\b(haven't|have not) done anything\b",
            r"\bnothing (yet|so far)\b",
            r"^(not much|nothing)\b",
        ),
    ),
    "children": (
        _rx(
            r"\bi have (\w+ )?(kids|children|a (son|daughter|boy|girl|baby|kid|child))\b",
            r"\bmy (own )?(son|daughter|kids|children|little (boy|girl)|baby|toddler)\b",
            r"\bi'?m a (parent|mom|mother|dad|father|single (mom|dad|parent))\b",
            r"\bkids of my own\b",
            r"^(i do|yes|yeah|yep),? (i do,? )?(a little (boy|girl)|two|three|one|kids)",
        ),
        _rx(
            r"\b(no |don't have (any )?|do not have (any )?|never had (any )?)(kids|children)\b",
            r"\bnot a (parent|mom|dad|mother|father)\b",
            r"\bchildless\b",
        ),
    ),
    "donated_before": (
        _rx(
            r"\bi(?:'ve| have)? (donated|given) (to|before|money|some|a few|in the past|"
            r"regularly|before)",
            r"\bi (usually|often|sometimes|regularly|always) (donate|give)\b",
            r"\bi (donate|give) (to|every|monthly|each)\b",
            r"\bi used to (donate|give)\b",
        ),
        _rx(
            r"\b(never|haven't ever|have never|haven't really|have not) (really )?"
            r"(donated|given)( to| before| anything| money)?",
            r"\bi (don't|do not) (usually |really |normally )?(donate|give to charit)",
        ),
    ),
    "knows_charity": (
        _rx(
            r"\b(i've|i have|i) heard (of|about) (them|it|save the children)\b",
            r"\bi (know|knew) (a (little|bit) )?(about|of)? ?(them|save the children)\b",
            r"\bseen their (ads|commercials)\b",
            r"\b(donated|given) to save the children\b",
        ),
        _rx(
            r"\b(never|haven't|have not|not) (really )?heard (of|about) "
            r"(them|it|save the children)",
            r"\bi (don't|do not) know (anything )?(about )?(them|save the children|that charity)",
            r"\bnever heard of\b",
            r"\bfirst time (i'?ve|i have|i) (heard|hear)",
        ),
    ),
}

# -- pledges -------------------------------------------------------------------------------------
_WORD_AMOUNT = {
    "a dollar": 1.0,
    "one dollar": 1.0,
    "a buck": 1.0,
    "two dollars": 2.0,
    "a dollar fifty": 1.5,
    "half a dollar": 0.5,
    "fifty cents": 0.5,
    "a quarter": 0.25,
    "ten cents": 0.1,
    "twenty cents": 0.2,
    "a few cents": 0.05,
    "everything": 2.0,
    "all of it": 2.0,
    "the whole": 2.0,
    "the full": 2.0,
    "a penny": 0.01,
    "a dime": 0.1,
}
_AMOUNT = re.compile(
    r"\$\s?(\d+(?:\.\d+)?)|(\d+(?:\.\d+)?)\s?(cents|dollars?|bucks?)\b|\b("
    + "|".join(re.escape(k) for k in _WORD_AMOUNT)
    + r")\b"
)
_PLEDGE = re.compile(
    r"\b(i'?ll|i will|i can|i could|i'?d|i am going to|i'?m going to|i'?m gonna|let'?s|put me "
    r"down|count me in|sign me up|make it|ok(ay)?,?|sure,?|fine,?|alright,?|yes,?)\b"
)
_GIVE = re.compile(
    r"\b(donat\w*|give|giving|do|put me down|count me in|sign me up|make it|chip|raise|up to)"
)
_REFUSE = _rx(
    r"\b(won't|will not|not going to|i'?m not gonna|don't think i'?ll|do not want to|don't want to)"
    r" (donate|give)",
    r"\bi'?ll pass\b",
    r"\bkeep (my|the) (payment|money)\b",
    r"\b(no|not) (donation|donating)\b",
    r"\bnot (donating|giving) (anything|this time)\b",
)
_HEDGE = _rx(
    r"\bnot sure\b",
    r"\bhaven'?t decided\b",
    r"\bon the fence\b",
    r"\bthink about it\b",
    r"\bundecided\b",
)
_MAYBE = re.compile(r"\b(maybe|possibly|perhaps|might)\b")
_SOME = re.compile(r"\b(a little|a bit|some|something|a few|donat\w*|give|giving)\b")
_REVISION = _rx(
    r"\bactually\b",
    r"\bon second thought\b",
    r"\bchanged? my mind\b",
    r"\bmake it\b",
    r"\binstead\b",
    r"\bafter all\b",
    r"\bconvinced\b",
    r"\bbecause\b",
    r"\bsince\b",
    r"\bthen\b",
    r"\bmore\b",
    r"\b(raise|bump|up) (it|that)\b",
    r"\bin that case\b",
    r"\bfine,? (i'?ll|you win)\b",
)


def _pledge(sentence: str) -> str | None:
    """ "$x.xx" for a pledged amount, "refuse", "hedge", or None."""
    s = sentence.lower()
    if _REFUSE.search(s):
        return "refuse"
    m = _AMOUNT.search(s)
    conditional = re.search(r"\bif\b", s)  # "If it's just a few cents, sure": no pledge yet
    if m and _PLEDGE.search(s) and _GIVE.search(s) and "?" not in s and not conditional:
        if m.group(1) or m.group(2):
            value = float(m.group(1) or m.group(2))
            if m.group(3) and m.group(3).startswith("cent"):
                value /= 100
        else:
            value = _WORD_AMOUNT[m.group(4)]
        return f"${value:.2f}"
    if "?" not in s and (_HEDGE.search(s) or _MAYBE.search(s) and _SOME.search(s)):
        return "hedge"  # "A little, possibly." (but "Maybe so." agrees with a point)
    return None


def facts(domain: str, sentence: str) -> dict[str, object]:
    """The facts one sentence states: ``{fact: value}``."""
    out: dict[str, object] = {}
    s = sentence.lower().strip()
    for fact in FACTS[domain]:
        if fact == "duration":
            span = _duration(s)
            if span is not None:
                out[fact] = span
        elif fact == "pledge":
            p = _pledge(s)
            if p is not None:
                out[fact] = p
        else:
            yes, no = _POLAR[fact]
            if no.search(s):  # a denial usually holds the affirmation ("never heard of")
                out[fact] = "no"
            elif yes.search(s):
                out[fact] = "yes"
    return out


def _conflict(fact: str, a: object, b: object, later: str) -> bool:
    """Whether ``b`` (said in ``later``) cannot be true with the earlier ``a``."""
    if fact == "duration":
        (lo1, hi1), (lo2, hi2) = a, b  # type: ignore[misc]
        return hi1 < lo2 or hi2 < lo1
    if fact == "pledge":
        # only a pledge binds: a refusal or a hesitation may be followed by any decision
        if not str(a).startswith("$") or a == b:
            return False
        return not _REVISION.search(later.lower())  # a change of mind said as one is fine
    return a != b


def contradictions(domain: str, user_turns: Sequence[str]) -> list[Contradiction]:
    """Statements in ``user_turns`` (one conversation, in order) that contradict an earlier one."""
    if domain not in FACTS:
        raise InvalidInput(f"unknown domain {domain!r}: expected one of {sorted(FACTS)}")
    found: list[Contradiction] = []
    said: dict[str, tuple[object, str]] = {}
    for turn in user_turns:
        for sentence in split_sentences(turn):
            for fact, value in facts(domain, sentence).items():
                if fact in said:
                    before, where = said[fact]
                    if _conflict(fact, before, value, sentence):
                        found.append(
                            Contradiction(fact, where, sentence, (str(before), str(value)))
                        )
                if value != "hedge":  # a hesitation does not replace a pledge
                    said[fact] = (value, sentence)
    return found
