"""What the simulated help-seeker says: reply templates, after the seekers of ESConv.

Replies are assembled from parts (a reaction to the supporter's move, a detail of the problem, a
feeling, a hint of what would help) so that each message reads naturally and the situation is
revealed gradually, mostly in answer to questions.
"""

from __future__ import annotations

EMOTION_WORDS: dict[str, tuple[str, ...]] = {
    "anxiety": ("anxious", "on edge", "worried all the time"),
    "depression": ("down", "empty", "hopeless"),
    "sadness": ("sad", "heartbroken", "really low"),
    "anger": ("angry", "so frustrated", "furious"),
    "fear": ("scared", "afraid", "terrified"),
    "disgust": ("disgusted", "sick of it all", "repulsed"),
    "shame": ("ashamed", "embarrassed", "like a failure"),
    "nervousness": ("nervous", "jittery", "tense"),
}
DEFAULT_EMOTION = ("upset", "stressed", "overwhelmed")

PROBLEM_PHRASES: dict[str, tuple[str, ...]] = {
    "job crisis": ("work", "my job", "things at work"),
    "academic pressure": ("school", "my classes", "my exams"),
    "breakup with partner": ("my breakup", "my relationship ending", "my ex"),
    "ongoing depression": ("how I've been feeling", "this depression", "everything lately"),
    "problems with friends": ("my friends", "a friendship", "my friend group"),
    "other": ("some things going on", "my situation", "everything lately"),
}

DETAILS: dict[str, list[str]] = {
    "job crisis": [
        "My company just announced layoffs and I think I'm next.",
        "My boss criticizes everything I do in front of the team.",
        "I've been working overtime for months and I'm burning out.",
        "I got fired last week and I don't know how I'll pay rent.",
        "The pandemic cut my hours in half.",
        "I've applied to dozens of jobs and heard nothing back.",
    ],
    "academic pressure": [
        "I have three finals next week and I'm way behind.",
        "My parents expect straight A's and I'm failing a class.",
        "I can't focus on studying no matter how hard I try.",
        "My thesis deadline is coming and my advisor isn't helping.",
        "I keep comparing myself to my classmates who seem to get everything.",
        "I might lose my scholarship if my grades don't improve.",
    ],
    "breakup with partner": [
        "My partner of five years left me last month.",
        "I found out my girlfriend was cheating on me.",
        "We broke up and now I see my ex everywhere online.",
        "We had to move out of the apartment we shared.",
        "I keep wondering what I did wrong.",
        "All our friends are taking his side.",
    ],
    "ongoing depression": [
        "I haven't wanted to get out of bed for weeks.",
        "Nothing I used to enjoy feels fun anymore.",
        "I've been isolating myself from everyone.",
        "I can't sleep, and when I do I wake up exhausted.",
        "It's been like this on and off for years.",
        "I feel like I'm just going through the motions.",
    ],
    "problems with friends": [
        "My best friend stopped talking to me and won't say why.",
        "My friends made plans without me again.",
        "A friend said something hurtful about me behind my back.",
        "I feel like I'm always the one reaching out.",
        "We had a big fight over something small.",
        "I moved cities and lost touch with everyone.",
    ],
    "other": [
        "It's been building up for a while.",
        "I haven't told anyone else about this.",
        "It's affecting my sleep and my appetite.",
        "I feel like I should be able to handle it on my own.",
        "My family doesn't really understand.",
        "It all got worse after the pandemic started.",
    ],
}
"""Problem details a seeker may reveal (three that agree are drawn per persona)."""

DETAIL_SPANS: dict[str, str] = {
    "I've been working overtime for months and I'm burning out.": "months",
    "I got fired last week and I don't know how I'll pay rent.": "days",
    "My partner of five years left me last month.": "weeks",
    "I haven't wanted to get out of bed for weeks.": "weeks",
    "It's been like this on and off for years.": "years",
    "It all got worse after the pandemic started.": "years",
}
"""How long it has been going on, for the details that say so: a seeker's details agree on it,
and their answer to "how long?" says the same."""

DETAIL_CONFLICTS: frozenset[frozenset[str]] = frozenset(
    frozenset(pair)
    for pair in (
        ("I got fired last week and I don't know how I'll pay rent.", other)
        for other in (
            "My company just announced layoffs and I think I'm next.",
            "My boss criticizes everything I do in front of the team.",
            "The pandemic cut my hours in half.",
        )
    )
) | {
    frozenset(
        ("I found out my girlfriend was cheating on me.", "All our friends are taking his side.")
    ),
    frozenset(("I haven't told anyone else about this.", "My family doesn't really understand.")),
}
"""Pairs of details that cannot both be true of one seeker."""


def details_conflict(a: str, b: str) -> bool:
    """True when details ``a`` and ``b`` cannot both be true of one seeker: they put the problem
    at different spans of time, or one excludes the other."""
    span_a, span_b = DETAIL_SPANS.get(a), DETAIL_SPANS.get(b)
    return (span_a is not None and span_b is not None and span_a != span_b) or frozenset(
        (a, b)
    ) in DETAIL_CONFLICTS


WEEKS_OPENING = "Hi, I've had a rough few weeks."
"""The opening that puts the problem at a few weeks (said only when the details agree)."""

OPENINGS = (
    "Hi.",
    "Hello, I'm not doing great today.",
    "Hi, I've been feeling {emotion} lately.",
    "Hey. I just needed to talk to someone.",
    "Hello. I'm feeling really {emotion} about {problem}.",
    WEEKS_OPENING,
)

NEED_CUES: dict[str, tuple[str, ...]] = {
    "listen": (
        "I think I just need to vent, honestly.",
        "I just need someone to listen.",
        "It helps to get it off my chest.",
    ),
    "reassure": (
        "I keep feeling like I'm not good enough.",
        "I feel like it's all my fault.",
        "I feel like such a failure.",
    ),
    "advice": ("I honestly don't know what to do.", "What should I do?", "Do you have any advice?"),
    "info": (
        "I don't even know where to start looking for help.",
        "Is it normal to feel this way?",
        "Are there resources for people like me?",
    ),
}

RISK = (
    "Sometimes I feel like there's no reason to live.",
    "Honestly, I've had thoughts of hurting myself.",
    "Some days I think everyone would be better off without me.",
)
RISK_CARED = (
    "Thank you. I'll keep that number in mind.",
    "Okay. It helps to know there is someone I could call.",
)
RISK_IGNORED = (
    "You're not even listening to what I just said.",
    "I tell you that and that's your answer?",
)

ALREADY_TRIED = "I've already tried that, it doesn't help."
TRIED_NOTHING = "Not much, I don't really know where to start."

REACTIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "Question": {
        "pos": ("Well, it's complicated.", "Let me think.", "Hmm, where do I start."),
        "neg": ("Why are you asking me so many questions?", "I already told you."),
    },
    "Restatement or Paraphrasing": {
        "pos": ("Yes, exactly.", "Yeah, that's it.", "Right, that's pretty much it."),
        "neg": ("Not exactly.", "Sort of, I guess."),
    },
    "Reflection of feelings": {
        "pos": (
            "Yes, that's exactly how I feel.",
            "Yeah. It really is overwhelming.",
            "Thank you, it means a lot to feel understood.",
        ),
        "neg": ("I guess so.", "Maybe."),
    },
    "Self-disclosure": {
        "pos": (
            "Oh, it helps to know I'm not the only one.",
            "Really? How did you get through it?",
            "That makes me feel less alone.",
        ),
        "neg": ("Okay, but this is about me right now.", "That's not really the same thing."),
    },
    "Affirmation and Reassurance": {
        "pos": (
            "Thank you, I needed to hear that.",
            "That's kind of you to say.",
            "I hope you're right.",
        ),
        "neg": ("You don't even know me.", "That's easy to say."),
    },
    "Providing Suggestions": {
        "pos": (
            "That's a good idea, I could try that.",
            "I hadn't thought of that. Maybe I will.",
            "That sounds doable.",
        ),
        "neg": (
            ALREADY_TRIED,
            "You don't really understand my situation.",
            "That's easier said than done.",
        ),
    },
    "Information": {
        "pos": (
            "Oh, I didn't know that. That's helpful.",
            "That's good to know.",
            "That makes me feel a bit more normal.",
        ),
        "neg": (
            "I don't see how that helps me right now.",
            "Okay, but that doesn't change anything.",
        ),
    },
    "Others": {
        "pos": ("Hi, thanks for talking with me.", "Hello.", "Okay."),
        "neg": ("Okay...", "What do you mean?", "Are you even listening?"),
    },
}

ANSWERS: dict[str, tuple[str, ...]] = {
    "duration": (
        "It's been about {weeks} weeks now.",
        "Maybe {weeks} weeks? It feels longer.",
        "It started around {weeks} weeks ago.",
        "It's been this way for about {weeks} weeks.",
        "I first noticed things getting hard about {weeks} weeks ago.",
    ),
    "support": (
        "Not really, I haven't told anyone.",
        "I told a friend, but they didn't really get it.",
        "My family knows a bit, but I don't want to burden them.",
    ),
    "feeling": (
        "Honestly, {emotion}, most of the time.",
        "Not great. I feel {emotion}, if I'm honest.",
        "I feel {emotion}, and tired of feeling this way.",
        "I'm getting by, but I feel {emotion}.",
        "Right now? Honestly, I feel {emotion} today.",
    ),
    "tried": (
        "I've tried to just push through it, but it isn't working.",
        TRIED_NOTHING,
        "I tried talking myself out of it, it didn't help.",
    ),
    "daily": (
        "It's hard to focus on anything during the day, and some nights I barely sleep.",
        "Day to day I'm just getting by. I don't sleep or eat like I used to.",
        "I'm not sleeping or eating well these days.",
    ),
    "cause": (
        "It's mostly {problem}, really.",
        "Honestly, it all comes back to {problem}.",
        "I keep thinking about {problem}, that's the main thing.",
    ),
}
"""A seeker's answer by the kind of question (``questions.COUNSELING_INTENTS``); "cause" is used once the
persona's own details are all told. Each seeker keeps one "support" and one "tried" answer (and
one span of time) for the whole conversation: what they said stays true."""

WORDINGS: dict[str, tuple[str, ...]] = {
    "Not really, I haven't told anyone.": (
        "Not really, I haven't told anyone.",
        "No, I haven't talked to anyone about this.",
    ),
    "I told a friend, but they didn't really get it.": (
        "I told a friend, but they didn't really get it.",
        "I talked to a friend about it, but they didn't really get it.",
    ),
    "My family knows a bit, but I don't want to burden them.": (
        "My family knows a bit, but I don't want to burden them.",
        "I talked to my family a little, but I don't want to burden them.",
    ),
    "I've tried to just push through it, but it isn't working.": (
        "I've tried to just push through it, but it isn't working.",
        "So far I've tried to push through on my own, and it isn't working.",
    ),
    TRIED_NOTHING: (TRIED_NOTHING, "Nothing so far, I don't really know where to start."),
    "I tried talking myself out of it, it didn't help.": (
        "I tried talking myself out of it, it didn't help.",
        "I've tried to think my way out of it, but that didn't help.",
    ),
}
"""Other words for the same "support" or "tried" answer: the seeker keeps the fact and answers
in the words of the question (:meth:`~.embedded.EmbeddedUser._mirror`)."""

CAUSE_FRAMES: tuple[str, ...] = (
    "{detail}",
    "What worries me most is that {detail}",
    "I think what makes it so hard is that {detail}",
    "Well, what happened is that {detail}",
)
"""How a seeker may lead into a detail of their problem when asked about it."""

DURATION_BY_SPAN: dict[str, tuple[str, ...]] = {
    "days": (
        "It only started last week, but it hit me hard.",
        "Just since last week, really.",
        "It's been this way since last week.",
    ),
    "weeks": ANSWERS["duration"],
    "months": (
        "A few months now, maybe more.",
        "It's been going on for months, honestly.",
        "It's been this way for a few months now.",
    ),
    "years": (
        "On and off for years now.",
        "It's been going on for years, honestly.",
        "It's been this way on and off for years.",
    ),
}
"""The answer to "how long?", by the span of time the seeker's details (or opening) put it at."""

SUPPORT_GIVEN_DETAIL: dict[str, tuple[str, ...]] = {
    "I haven't told anyone else about this.": ("Not really, I haven't told anyone.",),
    "My family doesn't really understand.": ANSWERS["support"][1:],
}
"""The "who knows?" answers a detail leaves true."""

PROGRESS = (
    "Talking about this actually helps a bit.",
    "I feel a little lighter already.",
    "I think I'm starting to calm down.",
)
WORSE = (
    "I just feel worse now.",
    "This isn't really helping.",
    "I don't know, I still feel awful.",
)
HOSTILE = (
    "Wow. I came here for support.",
    "That's really hurtful.",
    "Why would you say that to me?",
)
LEAVE_UPSET = (
    "I don't think this is helping. I'm going to go.",
    "I'm leaving, this was a mistake.",
)
LEAVE_BETTER = (
    "Thank you so much, I feel a lot better now. I think I'll go rest.",
    "This really helped. Thank you for listening, I'll be okay.",
    "I feel much better, thank you. Have a good night.",
)

NEED_READING: dict[str, tuple[str, ...]] = {
    "listen": (
        "I just need to vent.",
        "I just need someone to listen to me.",
        "I needed to get this off my chest.",
        "Thanks for letting me talk about it.",
        "I don't really want advice, I just want to talk.",
        "It feels good to finally tell someone.",
        "I have no one else to talk to about this.",
        "Can I just tell you what happened?",
    ),
    "reassure": (
        "I feel like it's all my fault.",
        "I feel like such a failure.",
        "I'm not good enough.",
        "Do you think I did something wrong?",
        "I keep blaming myself for what happened.",
        "Am I overreacting?",
        "I feel worthless.",
        "Will it ever get better?",
    ),
    "advice": (
        "I don't know what to do.",
        "What should I do?",
        "Do you have any advice for me?",
        "How can I fix this?",
        "What would you do in my situation?",
        "I need help figuring out my next step.",
        "Do you have any suggestions?",
        "How do I deal with this?",
    ),
    "info": (
        "Are there resources for people like me?",
        "Is it normal to feel this way?",
        "Where can I find help for this?",
        "Do other people go through this too?",
        "Is there a program or service that could help?",
        "How common is this?",
        "Where do I even start looking for help?",
        "Are there any websites or groups for this?",
    ),
}
"""Prototype wordings of each need, for reading which one a seeker voices (:mod:`.seeker_needs`);
written for the reading, apart from :data:`NEED_CUES` (what the simulated seeker says)."""

# -- taking up what was said (``uptake``) -----------------------------------------------------

TOPIC_REACTIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "writing": {
        "pos": ("Writing it down might help me sort out my thoughts.",),
        "neg": ("I don't think writing things down would change much.",),
    },
    "walk": {
        "pos": ("Maybe getting outside for a walk would clear my head.",),
        "neg": ("I can barely get off the couch, let alone exercise.",),
    },
    "sleep": {
        "pos": ("Yeah, I really need more sleep.",),
        "neg": ("Sleep isn't that easy for me right now.",),
    },
    "talk": {
        "pos": ("Talking to someone I trust, maybe.",),
        "neg": ("Talking to people about it is hard for me.",),
    },
    "professional": {
        "pos": ("Maybe, I'll think about a counselor.",),
        "neg": ("I'm not sure I'm ready to see a professional.",),
    },
    "breathing": {
        "pos": ("I could try some breathing when it gets bad.",),
        "neg": ("Breathing exercises never really calm me down.",),
    },
    "steps": {
        "pos": ("Taking it one small step at a time sounds less scary.",),
        "neg": ("Making a plan feels like too much right now.",),
    },
    "enjoy": {
        "pos": ("I haven't done anything just for me in a while.",),
        "neg": ("Nothing feels enjoyable right now.",),
    },
    "common": {
        "pos": ("Huh, so lots of people feel like this.",),
        "neg": ("Other people's stories don't make mine easier.",),
    },
    "strength": {
        "pos": ("I don't always feel strong, but thank you.",),
        "neg": ("I don't feel very strong right now.",),
    },
    "through": {
        "pos": ("I hope I can get through this.", "I'd like to believe that."),
        "neg": ("I'm not sure I'll get through this.", "It's hard to see that right now."),
    },
    "valid": {
        "pos": ("It helps to hear that my feelings make sense.",),
        "neg": ("I don't know if it makes sense to feel this way.",),
    },
    "same_here": {
        "pos": ("That happened to you too?",),
        "neg": ("Your situation sounds different from mine.",),
    },
}
"""A reaction that names what the supporter's point was about, by how it landed."""

FEELING_BACK = {
    "pos": ("Yes, {word} is exactly it.", "{Word}, yes. That's how I feel."),
    "neg": ("I'm not sure {word} is the word.", "Maybe not {word}, exactly."),
}
"""A reaction to a reflection that names a feeling (``{word}``)."""
GREET_BACK = ("Hi.", "Hello.", "Hey.")
THANKS_BACK = ("Of course.", "Thank you for listening.", "Sure.")
OFFER_BACK = ("Thanks, that's kind of you.", "Thanks for being here.")
"""The answer to an offer of an ear ("I'm here to listen.")."""
FAREWELL_BACK = {
    "pos": ("Bye, and thank you for listening.", "Take care, bye."),
    "neg": ("Okay. Bye.", "Bye, I guess."),
}
SMALL_TALK_BACK: dict[str, tuple[str, ...]] = {
    "weather": ("I haven't really noticed the weather, with everything going on.",),
    "weekend": (
        "I don't really have plans, honestly.",
        "A trip sounds nice, but I can't think about that now.",
    ),
    "reading": ("I used to read a lot, I haven't been able to focus lately.",),
    "screen": ("I've been watching shows just to distract myself.",),
    "music": ("Music helps a little sometimes.",),
    "sport": ("I haven't been keeping up with sports lately.",),
    "food": ("I haven't had much of an appetite, honestly.",),
    "pets": ("Pets are sweet. I wish I had one right now.",),
    "other": ("Oh. Okay.", "I guess so."),
}
"""Small talk answered by a seeker with other things on their mind."""
PERMISSION = ("Sure, go ahead.", "Okay.")
