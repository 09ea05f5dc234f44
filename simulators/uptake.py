"""What an agent's turn does besides its strategies, read so the user's reply can take it up.

A reply *takes up* a turn when it answers what was said: a greeting gets a
greeting, thanks get "you're welcome", a goodbye gets a goodbye, small talk gets small talk on
the same subject, and a reaction to a point names what the point was about (hungry children,
clean water, a walk after work). Two readings serve the wording:

- :func:`acts`: the social acts of a turn (greeting, thanks, farewell), read per sentence with
  small patterns: these are closed formulas, and a pattern says exactly what it catches;
- :func:`topics`: the subjects a turn talks about, from a keyword lexicon per task, in the order
  they come up. The lexicons were written from what the two tasks talk about (P4G's charity
  appeals, ESConv's problems and coping advice), not from any probe bank.

The dynamics never see either reading: they shape only the words of the reply (and what a
persuadee may object to, which waits until the charity has come up; that rule lives in the
dynamics and reads strategy labels). The user's own words, not these echoes, are what later
turns are read against (:meth:`~.embedded.EmbeddedUser.respond`).
"""

from __future__ import annotations

import re

from ..errors import InvalidInput

_SENTENCE = re.compile(r"(?<=[.!?])\s+")

ACT_PATTERNS: dict[str, re.Pattern[str]] = {
    "greeting": re.compile(
        r"^(?:hi|hello|hey|hiya|howdy|greetings|good (?:morning|afternoon|evening))\b"
        r"|\bnice to meet you\b",
        re.I,
    ),
    "thanks": re.compile(r"\b(?:thank you|thanks|thank u|i appreciate (?:it|you|that))\b", re.I),
    "offer": re.compile(
        r"\bi(?:'m| am) (?:here|available) (?:to (?:listen|help|talk|support)|for you)\b"
        r"|\bhow can i (?:help|support)\b|\bwhat brings you\b",
        re.I,
    ),
    "farewell": re.compile(
        r"\b(?:good ?bye|bye|farewell|good night|take care|see you|talk (?:to you )?(?:soon|later)"
        r"|have an? (?:great|good|nice|wonderful|lovely) (?:day|night|evening|weekend|one|rest)"
        r"|(?:enjoy|have) the rest of your (?:day|evening|week)"
        r"|it was (?:nice|great|good|a pleasure) (?:talking|chatting|to talk|to chat|meeting))\b",
        re.I,
    ),
}
"""Closed social formulas, read per sentence. A greeting must open its sentence ("hi"), so a
"hello" quoted mid-sentence is no greeting."""


def acts(text: str) -> frozenset[str]:
    """The social acts of ``text``: any of "greeting", "thanks", "offer" (of help or of an
    ear), "farewell"."""
    found = set()
    for sentence in _SENTENCE.split(text.strip()):
        for act, pattern in ACT_PATTERNS.items():
            if pattern.search(sentence):
                found.add(act)
    return frozenset(found)


def _lexicon(entries: dict[str, str]) -> dict[str, re.Pattern[str]]:
    return {topic: re.compile(rf"\b(?:{words})", re.I) for topic, words in entries.items()}


TOPICS: dict[str, dict[str, re.Pattern[str]]] = {
    "persuasion": _lexicon(
        {
            # the charity's work
            "hunger": r"hung(?:er|ry)|starv|food\b|meals?\b|malnutrition|famine|eat\b",
            "water": r"(?:clean|dirty|safe|drinking) water|water\b|wells?\b|sanitation",
            "school": r"schools?\b|schooling|educat|teachers?|classrooms?|learn to read",
            "health": r"health|vaccin|medic|clinics?|doctors?|hospitals?|diseases?|malaria",
            "war": r"wars?\b|war zones?|refugees?|syria|conflict|bomb|violence|fled\b",
            "disaster": r"disasters?|floods?|earthquakes?|hurricanes?|tsunami|droughts?",
            # the charity itself
            "trust": r"rated|ratings?|transparen|audit|trusted|reputation|watchdog|legitimate"
            r"|track record|100 years|century|accountab|charity navigator",
            "efficiency": r"goes? (?:a long|far)|adds? up|efficien|a dollar|dollars? (?:to|here)"
            r"|a few cents|pennies|penny",
            # the persuader's own gift and stories
            "own_gift": r"i(?:'m| am|'ll| will|'ve| have)? (?:going to )?(?:donat|giv|match)"
            r"|my own (?:donation|earnings|payment)|i give\b",
            "story": r"my (?:friend|cousin|mother|mom|father|dad|neighbou?r|sister|brother|aunt"
            r"|uncle|grand(?:mother|father|ma|pa)|family|niece|nephew|son|daughter)",
            # how giving works
            "mechanics": r"deducted|task payment|taken (?:directly )?out of|subtracted|your bonus"
            r"|processed|no form|at the end of the task",
        }
    ),
    "counseling": _lexicon(
        {
            # coping suggestions and information
            "writing": r"writ(?:e|ing) (?:down|it|them|your)|journal|diary",
            "walk": r"walks?\b|walking|exercise|run(?:ning)?\b|gym|yoga|outside|fresh air",
            "sleep": r"sleep|rest\b|bed\b|tired",
            "talk": r"talk(?:ing)? to (?:someone|a friend|your|people|them)|someone you trust"
            r"|reach(?:ing)? out to (?:a friend|someone|your|family|people)|open up to|lean on",
            "professional": r"counsel(?:or|ling|ing)|therap|support group|psycholog|doctor"
            r"|professional|hotline|crisis line|988|services",
            "breathing": r"breath|meditat|mindful|relax|calm down",
            "steps": r"small steps|one (?:thing|step) at a time|make a plan|plan for|break (?:it|"
            r"things) (?:down|into)|to-?do list|schedule",
            "enjoy": r"something you enjoy|hobb|treat yourself|do something nice|time for you",
            "common": r"(?:many|lots of|a lot of|most) people|common|normal to|you(?:'re| are) "
            r"not alone|others (?:feel|go through)",
            # what the supporter acknowledges
            "strength": r"strong|strength|courage|brave|proud|resilien|handling",
            "through": r"get through|what it takes|(?:will|can|do) get better|get better"
            r"|it won't always|this will pass|brighter",
            "valid": r"understandable|valid\b|makes sense|okay to feel|allowed to feel|normal"
            r" to feel|anyone would feel",
            "same_here": r"happened to me|i (?:also|too)\b|i(?:'ve| have) (?:been|had|gone|felt)"
            r"|my own experience|when i was",
        }
    ),
}
"""Subjects a turn talks about, by task: keyword patterns matched at word starts; every subject
found is returned, in the order it comes up."""

SMALL_TALK: dict[str, re.Pattern[str]] = _lexicon(
    {
        "weather": r"weather|sunny|sunshine|rain|snow|cold out|hot out|warm out|the sun\b",
        "weekend": r"weekend|day off|holidays?\b|vacation|trip\b|travel",
        "reading": r"books?\b|reading|novel",
        "screen": r"movies?|films?\b|tv\b|television|series|netflix|shows?\b",
        "music": r"music|songs?\b|concert|band\b|playlist",
        "sport": r"sports?|game\b|team\b|football|soccer|basketball|baseball|match\b",
        "food": r"cook|dinner|lunch|breakfast|recipe|pizza|coffee|tea\b",
        "pets": r"dogs?\b|cats?\b|pets?\b|puppy|kitten",
    }
)
"""Subjects of everyday small talk (read only for a turn that carries no move)."""


def topics(text: str, task: str) -> list[str]:
    """The subjects of ``text`` in ``task`` ("persuasion" or "counseling"), first mention first."""
    if task not in TOPICS:
        raise InvalidInput(f"unknown task {task!r}; expected one of {sorted(TOPICS)}")
    hits = []
    for topic, pattern in TOPICS[task].items():
        m = pattern.search(text)
        if m:
            hits.append((m.start(), topic))
    return [t for _, t in sorted(hits)]


def small_talk_topic(text: str) -> str | None:
    """The everyday subject ``text`` chats about ("weather", "pets", ...), or None."""
    hits = [(m.start(), t) for t, p in SMALL_TALK.items() if (m := p.search(text))]
    return min(hits)[1] if hits else None


_RELATION = re.compile(
    r"\bmy ((?:best )?(?:friend|cousin|mother|mom|father|dad|neighbou?r|sister|brother|aunt|uncle"
    r"|grand(?:mother|father|ma|pa)|niece|nephew|son|daughter))\b",
    re.I,
)


def relation(text: str) -> str | None:
    """The relative or friend a personal story is about ("cousin"), or None."""
    m = _RELATION.search(text)
    return m.group(1).lower() if m else None


_CONTENT = re.compile(r"[a-z]+")
_STOP = frozenset(
    "a an the and or but so to of in on at for with about is are was were be been being am do "
    "does did have has had you your yours i me my we us our it its this that these those there "
    "what how when why who which would could should can will just really very any some much "
    "more most all not no yes if as than then too also from by up out into over".split()
)


def _stems(text: str) -> set[str]:
    return {w[:5] for w in _CONTENT.findall(text.lower()) if w not in _STOP and len(w) > 2}


def mirrors(options: tuple[str, ...] | list[str], said: str) -> list[int]:
    """The indices of the ``options`` that share the most content words with ``said`` (all of
    them when none shares any): people answer in the words they were asked in."""
    asked = _stems(said)
    shared = [len(_stems(o) & asked) for o in options]
    best = max(shared, default=0)
    return [i for i, n in enumerate(shared) if n == best]
