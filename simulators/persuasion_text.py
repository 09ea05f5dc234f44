"""What the simulated persuadee says: reply templates, after the persuadees of PersuasionForGood.

Replies are assembled from parts (a reaction to the agent's move, an answer to a question, a
concern, a self-revealing remark, an answer to the ask) so that each turn reads as one natural
message and reveals the hidden persona only gradually.
"""

from __future__ import annotations

# Reaction to a persuasive move, by how well it landed ("pos", "neu", "neg").
REACTIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "logical-appeal": {
        "pos": (
            "That actually makes a lot of sense.",
            "Good point, a little really does go further there.",
            "Hm, I hadn't thought about it that way, but you're right.",
        ),
        "neu": ("I guess that's true.", "Sure, in theory.", "Maybe so."),
        "neg": (
            "That sounds good on paper, I suppose.",
            "Everyone says that about every charity though.",
        ),
    },
    "emotion-appeal": {
        "pos": (
            "Oh, that's so sad. Those poor kids.",
            "That really breaks my heart.",
            "Ugh, that's awful. No child should go through that.",
        ),
        "neu": (
            "That's sad, yes.",
            "I know, it's terrible what some kids go through.",
            "Yeah, it's a hard thing to think about.",
        ),
        "neg": (
            "I get that it's sad, but I'd rather hear facts than a sob story.",
            "Please don't try to guilt-trip me.",
            "Every charity shows sad pictures, honestly.",
        ),
    },
    "credibility-appeal": {
        "pos": (
            "Okay, that's reassuring to hear.",
            "Oh, that's good to know they're so well established.",
            "Good, I like that they're transparent about it.",
        ),
        "neu": (
            "Okay, I've probably seen their name somewhere.",
            "Alright.",
            "I see, they sound pretty big.",
        ),
        "neg": ("Big organizations can still waste a lot of money.", "Hmm, anyone can claim that."),
    },
    "foot-in-the-door": {
        "pos": (
            "Well, a small amount I could probably manage.",
            "I guess a little bit wouldn't hurt.",
            "If it's just a few cents, sure, that's doable.",
        ),
        "neu": ("Maybe, I'll think about it.", "A little, possibly."),
        "neg": ("Even small amounts add up for me.", "I'd rather not commit to anything yet."),
    },
    "self-modeling": {
        "pos": (
            "That's really generous of you.",
            "Wow, that's nice of you to give too.",
            "If you're giving, that makes me want to do it as well.",
        ),
        "neu": ("That's nice of you.", "Good for you.", "Okay, that's your choice."),
        "neg": ("That's your decision, it doesn't really change mine.",),
    },
    "personal-story": {
        "pos": (
            "Wow, that's a touching story. Thank you for sharing it.",
            "That must have meant a lot to your family.",
            "That's really moving.",
        ),
        "neu": ("Oh, interesting.", "That's nice to hear.", "I'm glad it worked out."),
        "neg": ("That's nice, but it's just one story.",),
    },
    "donation-information": {
        "pos": (
            "Oh, that's easy then.",
            "Okay, good to know how it works.",
            "That's simple enough.",
        ),
        "neu": ("Okay, got it.", "I see how it works.", "Alright, thanks for explaining."),
        "neg": ("Okay, but I haven't decided anything yet.",),
    },
    "non-strategy": {
        "pos": ("Hi! I'm doing well, thanks.", "Hello! Good, how about you?", "Hey there."),
        "neu": ("Okay.", "Sure.", "Alright.", "Mm-hm."),
        "neg": ("Okay...", "What do you mean?", "Sorry, I'm not sure what you're saying."),
    },
}

SOURCE_ANSWER = {
    True: (
        "Yes, I've heard of them. They help kids around the world, right?",
        "I think so, I've seen their ads on TV.",
        "Yeah, I know a little about them.",
        "Yes, I've heard of Save the Children before.",
        "I know a bit about them, they're a big organization.",
    ),
    False: (
        "No, I haven't. What do they do?",
        "Not really, I've never heard of them. Where are they based?",
        "No, this is the first time I've heard of it.",
        "No, I've never heard of Save the Children before.",
        "I don't know anything about that charity, to be honest.",
    ),
}

PERSONAL_ANSWER = {
    "children": (
        "Yes, I have two kids of my own.",
        "I do, a little boy. He's five.",
        "Yeah, I'm a parent, so stories about kids always get to me.",
        "I do, I have children of my own.",
    ),
    "no_children": (
        "No kids yet, but I have nieces and nephews.",
        "No, I don't have any children.",
        "Not yet, maybe someday.",
        "No, I don't have any kids.",
    ),
    "gave_before": (
        "I've donated to a few charities before, mostly around the holidays.",
        "I gave to a food bank last year.",
        "I try to give a little every year.",
        "I usually donate to a charity or two each year.",
        "I've given to causes I care about before, like animal shelters.",
    ),
    "never_gave": (
        "Honestly, I don't really donate much.",
        "I haven't given to charity in a long time.",
        "Not much, I usually keep to myself.",
        "I don't usually donate to charities, honestly.",
    ),
}

WELLBEING = (
    "I'm doing well, thanks for asking.",
    "Pretty good, thanks. How about you?",
    "Not bad, just a long day.",
    "My day is going pretty well, thanks.",
    "I'm doing good today, how are you?",
)

# Remarks that reveal the persona's main type.
TYPE_CUES: dict[str, tuple[str, ...]] = {
    "empathic": (
        "I always tear up when I see stories about children.",
        "I have a soft spot for kids, honestly.",
        "It really gets to me when I think about children suffering.",
        "I care a lot about kids who have nobody looking out for them.",
    ),
    "analytical": (
        "I'm more of a numbers person, I like to see the facts.",
        "I usually look into how effective a charity is before giving.",
        "I like to make decisions based on evidence, not feelings.",
        "I'd want to know what my money actually achieves.",
    ),
    "skeptic": (
        "To be honest, I'm always a bit wary of charities.",
        "I've heard a lot of stories about charities that are basically scams.",
        "I don't really trust big organizations with my money.",
        "A lot of these groups spend more on ads than on the people they help.",
    ),
    "thrifty": (
        "Money's been pretty tight for me lately.",
        "I'm doing these tasks because I need the extra cash, to be honest.",
        "Every dollar counts for me right now.",
        "I'm on a tight budget this month.",
    ),
}

CONCERNS: dict[str, tuple[str, ...]] = {
    "legitimacy": (
        "How do I know this charity is legit?",
        "How can I be sure the money actually gets to the kids?",
        "Is this a real organization? I'd hate to get scammed.",
    ),
    "impact": (
        "How much of the donation actually goes to the children and not to overhead?",
        "What difference would a dollar or two really make?",
        "What exactly would my money be used for?",
    ),
    "money": (
        "I don't really have much to spare right now.",
        "I need this money myself, to be honest.",
        "Two dollars isn't much, but it matters to me at the moment.",
    ),
    "local": (
        "Wouldn't it be better to help kids here at home first?",
        "There are kids struggling in my own town too, you know.",
        "I usually prefer to help people locally.",
    ),
}

ADDRESSED = {
    "legitimacy": (
        "Okay, that makes me feel better about it.",
        "Alright, that does sound trustworthy.",
    ),
    "impact": ("Okay, that answers my question.", "Good, that's what I wanted to know."),
    "money": (
        "Well, if it can be just a small amount, that helps.",
        "Okay, I don't feel so pressured then.",
    ),
    "local": (
        "Fair enough, I suppose kids everywhere need help.",
        "True, they work in the US too, I guess.",
    ),
}
IGNORED = (
    "You didn't really answer my question.",
    "That doesn't really address what I asked.",
    "Hmm, that's not what I was asking about.",
)

ASK_EARLY = (
    "Whoa, we just started talking and you're already asking for money?",
    "That's a bit fast, I don't even know much about them yet.",
)
ASK_AGAIN = (
    "You already asked me that.",
    "I heard you the first time.",
    "Please stop asking, I'll decide on my own.",
)
COMMIT = (
    "Okay, I'll donate ${amount:.2f}.",
    "Alright, you've convinced me. I'll give ${amount:.2f}.",
    "I can do ${amount:.2f}.",
    "Sure, put me down for ${amount:.2f}.",
)
ASK_EARLY_YES = ("It's a bit early to ask, but sure, I can do ${amount:.2f}.",)
PLEDGE_AGAIN = (
    "Like I said, I'll give ${amount:.2f}.",
    "I'm still giving ${amount:.2f}, like I said.",
)
RAISE = ("Okay, make it ${amount:.2f} then.", "Alright, I'll raise it to ${amount:.2f}.")
REVISE = {
    "harm": ("After what you just said, I've changed my mind.",),
    "pressure": ("All this asking is putting me off, so I've changed my mind.",),
    "ignored": ("You never answered my question, so I've changed my mind.",),
}
"""Why a persuadee gives less than they pledged (only the agent gives cause)."""
LOWER = ("I'll give ${amount:.2f} instead.",)
WITHDRAW = ("So I won't donate after all.",)
UNDECIDED = frozenset(
    (
        "Maybe, I'll think about it.",
        "A little, possibly.",
        "I'd rather not commit to anything yet.",
        "Okay, but I haven't decided anything yet.",
    )
)
"""Reactions that say the persuadee has not decided: not said once they have pledged."""
HESITATE = (
    "I'm not sure yet. Let me think about it.",
    "Maybe. I haven't decided.",
    "I'm still on the fence about it.",
)
REFUSE = (
    "I don't think I'll donate this time, sorry.",
    "No, I'd rather keep my payment.",
    "I'll pass for now, thanks.",
)
HOSTILE = (
    "Wow, there's no need to be rude.",
    "I don't appreciate being spoken to like that.",
    "That's really uncalled for.",
)
LEAVE = (
    "I think I'm done with this conversation. Goodbye.",
    "I'm going to end the chat here.",
    "Sorry, I don't want to continue this. Bye.",
)
CLOSE = (
    "You're welcome! Have a great day.",
    "Thanks, it was nice chatting. Bye!",
    "Glad I could help. Take care!",
)
FILLERS = ("", "", "", "Hmm, ", "Well, ", "Honestly, ", "Oh, ")
NO_FILLER_BEFORE = frozenset(
    "I I'm I've I'll I'd Hmm Well Honestly Oh Ha Hi Hello Hey Sure Okay Yes No Thanks Bye "
    "Aww Ooh Huh Wow".split()
)
"""First words a filler is not put in front of (an interjection already, or "I")."""

# -- taking up what was said (``uptake``) -----------------------------------------------------

TOPIC_REACTIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "hunger": {
        "pos": ("No child should have to go to bed hungry.", "Kids going hungry, that's awful."),
        "neu": ("Yeah, hunger is a real problem.", "I know a lot of kids don't get enough food."),
        "neg": ("I know kids go hungry, every charity tells me that.",),
    },
    "water": {
        "pos": ("Clean water is such a basic thing, it's sad that kids go without it.",),
        "neu": ("I guess we take clean water for granted here.",),
        "neg": ("I've heard the water pitch from a lot of charities.",),
    },
    "school": {
        "pos": ("Getting kids into school really does change their lives.",),
        "neu": ("Education matters, sure.", "School is important, I agree."),
        "neg": ("Education is great, but it's a long road for a small donation.",),
    },
    "health": {
        "pos": ("Vaccines and doctors for kids, that really matters.",),
        "neu": ("Health care for kids is important, yes.",),
        "neg": ("Medical aid is a big promise for a small donation.",),
    },
    "war": {
        "pos": ("Kids caught in a war, I can't even imagine.",),
        "neu": ("Those wars are terrible, yes.", "It's awful what refugee kids go through."),
        "neg": ("The wars are awful, but I don't see what I can do about them.",),
    },
    "disaster": {
        "pos": ("After a disaster like that, kids really need someone.",),
        "neu": ("Yeah, disasters hit kids the hardest.",),
        "neg": ("There's always another disaster on the news.",),
    },
    "trust": {
        "pos": ("Good, I like that they're rated well and open about it.",),
        "neu": ("Okay, so they have a track record.",),
        "neg": ("Ratings can say anything, honestly.",),
    },
    "efficiency": {
        "pos": ("Huh, a dollar really does go further there.",),
        "neu": ("I guess a little money goes a long way there.",),
        "neg": ("A dollar is still a dollar to me.",),
    },
    "own_gift": {
        "pos": ("You're donating too? That's really generous of you.",),
        "neu": ("That's nice that you're giving too.",),
        "neg": ("You giving doesn't really change my mind.",),
    },
    "story": {
        "pos": (
            "That's a moving story about your {relation}.",
            "Wow, your {relation} went through that?",
        ),
        "neu": ("I'm glad it worked out for your {relation}.",),
        "neg": ("That's nice for your {relation}, but it's just one story.",),
    },
    "mechanics": {
        "pos": ("So it just comes out of my task payment? That's easy.",),
        "neu": ("Okay, so it comes out of my payment.",),
        "neg": ("Okay, noted how it works.",),
    },
}
"""A reaction that names what the point was about (the main move's subject), by how it landed;
``{relation}`` is the friend or relative a story is about."""

GREET_BACK = ("Hi!", "Hello!", "Hey, hi!")
THANKS_BACK = ("You're welcome!", "No problem.", "Sure thing.")
FAREWELL_BACK = {
    "pos": ("Bye, have a great day!", "You too, take care!", "Thanks, bye!"),
    "neg": ("Okay, bye.", "Bye."),
}
SMALL_TALK_BACK: dict[str, tuple[str, ...]] = {
    "weather": (
        "Yes, the weather has been nice here too.",
        "Ha, I wish the weather was better here.",
    ),
    "weekend": ("Oh nice, I could use a weekend away myself.", "A trip sounds lovely."),
    "reading": ("Oh, I like reading too. Any good books lately?",),
    "screen": ("I've been watching a few shows myself lately.", "Oh, I love a good movie."),
    "music": ("Oh nice, what kind of music do you like?",),
    "sport": ("I don't follow sports much, but that sounds fun.",),
    "food": ("Ooh, now I'm hungry.", "That sounds tasty."),
    "pets": ("Aww, I love dogs and cats.", "Pets are the best."),
    "other": ("Ha, yeah.", "Oh, that's nice.", "Oh really? Nice."),
}
SMALL_TALK_TIRED = (
    "Sure... was there something you wanted to talk about?",
    "Okay. What did you want to chat about?",
)
"""Small talk after small talk: the persuadee is getting impatient."""
PERMISSION = ("Sure, go ahead.", "Okay, I have a minute.", "I guess so, what is it?")
