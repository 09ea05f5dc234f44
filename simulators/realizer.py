"""Strategy -> agent utterance: varied template text for each strategy of each domain.

Used by the random, scripted and oracle agents and by the hindsight controller to turn a chosen
strategy into words. Templates are written after the style of the corpora's own turns (P4G
persuaders, ESConv supporters). Some slots are filled from the last user message (an emotion word,
the topic), read with a small lexicon, never from the hidden persona.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from .strategies import get_domain

PERSUASION_TEMPLATES: dict[str, tuple[str, ...]] = {
    "logical-appeal": (
        "Even a small amount goes a long way in developing countries, where a dollar buys far more than it does here.",
        "If everyone who could spare a little did, the problem of child poverty would be much smaller.",
        "It makes sense to help at the point where the need is greatest and the cost of helping is lowest.",
        "Investing in children's health and education now pays off for whole communities later.",
        "A donation here is one of the most efficient ways to turn a small sum into real change for a child.",
        "Think about it: a couple of dollars to us is a week of meals for a child in need.",
        "Helping children early prevents much bigger and costlier problems down the road.",
        "The math is simple: small gifts from many people add up to vaccines, schools and clean water.",
        "Donating to an established organization is more effective than trying to help on your own.",
    ),
    "emotion-appeal": (
        "Imagine being a child who goes to sleep hungry every night, with no one to turn to.",
        "It breaks my heart to think of kids in war zones who have lost their homes and their families.",
        "These children are innocent, and they are suffering through no fault of their own.",
        "Picture a little girl walking miles every day just to get dirty water for her family.",
        "Millions of children are living in fear and hunger right now, and that is heartbreaking.",
        "Think how happy a child would be to finally have a warm meal and a safe place to sleep.",
        "Many of these kids have never known a day without hunger; it is truly devastating.",
        "How would you feel if it were your own child who had nothing to eat tonight?",
        "The children in Syria have seen things no child should ever see.",
    ),
    "credibility-appeal": (
        "Save the Children has been around for over 100 years and is one of the most trusted charities in the world.",
        "The organization is highly rated by charity watchdogs for its transparency and accountability.",
        "Most of every dollar donated to Save the Children goes directly to programs for children.",
        "They publish annual reports and audited financial statements, so you can see exactly where the money goes.",
        "Save the Children works in more than 100 countries, including the United States.",
        "They have a long track record of responding to disasters and helping kids get an education.",
        "It is an international non-governmental organization with a strong reputation for results.",
        "Save the Children has helped millions of children get health care, food and schooling.",
        "You can check their ratings yourself; they are a legitimate and well-respected organization.",
    ),
    "foot-in-the-door": (
        "Even just a few cents would make a difference; every little bit helps.",
        "You don't have to give much. Would you consider starting with something small, like ten cents?",
        "Maybe you could just take a minute to look at their website and see what they do?",
        "Any amount at all, even a penny, is better than nothing.",
        "How about starting small? A tiny part of your payment would already help.",
        "It doesn't have to be the whole amount; a small gift is a great first step.",
        "Would you at least be open to learning a bit more about their work?",
        "If a full donation is too much, even five cents would be appreciated.",
    ),
    "self-modeling": (
        "I'm going to donate part of my own earnings from this task.",
        "I have decided to give my whole payment to Save the Children.",
        "I donate to them myself every year, and I'm giving today as well.",
        "I'll be donating too, so we would be doing this together.",
        "Personally, I'm putting in a dollar of my payment for these kids.",
        "I already set aside some of my bonus to donate to this cause.",
        "I am going to match whatever I ask of you with my own donation.",
        "I give to this charity regularly, and I plan to give today too.",
    ),
    "personal-story": (
        "When I was young my family went through a hard time, and a charity like this helped us get back on our feet.",
        "A friend of mine volunteered with them overseas and told me how much the kids' lives changed.",
        "I once met a family who received help from Save the Children after a flood destroyed their home.",
        "My cousin grew up in a refugee camp, and groups like this one gave her a chance at school.",
        "Last year I sponsored a child and got letters about how she was finally able to attend school.",
        "My neighbor's son was treated at a clinic they funded after an earthquake.",
        "I remember seeing a village they helped with clean water; the kids were so healthy afterwards.",
        "My mother always told me about the people who helped her when she had nothing as a kid.",
    ),
    "donation-information": (
        "Your donation will be taken directly out of your task payment, so there's nothing else to do.",
        "You can choose any amount from $0 to your full $2 payment.",
        "The donation is deducted from your bonus at the end of the task, and the researchers send it to the charity.",
        "It's easy: just tell me how much of your payment you want to give and it will be sent for you.",
        "The money goes to their programs for health care, education and child protection.",
        "There's no form to fill in; whatever amount you pick is subtracted from your earnings.",
        "You can also donate directly on their website at URL if you want to give more later.",
        "Any donation you make today will be processed automatically after the task is done.",
    ),
    "source-related-inquiry": (
        "Have you ever heard of Save the Children before?",
        "Are you familiar with the organization Save the Children?",
        "Do you know what Save the Children does?",
        "Have you come across this charity at all?",
        "Did you know anything about Save the Children before today?",
        "Have you heard about the work they do for kids around the world?",
        "Do you know much about this organization?",
    ),
    "task-related-inquiry": (
        "What do you think about donating to charity in general?",
        "How do you feel about giving part of your payment to help children?",
        "Do you usually donate to charities?",
        "What would make you more comfortable about donating?",
        "Is there anything holding you back from donating today?",
        "What's your opinion on charities that help kids in other countries?",
        "Would you consider donating to a charity like this one?",
        "What matters most to you when you decide whether to give?",
    ),
    "personal-related-inquiry": (
        "Do you have any children of your own?",
        "Have you ever volunteered or helped a cause you care about?",
        "How are you doing today?",
        "Do you have kids or nieces and nephews?",
        "What kinds of causes are important to you personally?",
        "Have you ever been in a situation where you needed help from others?",
        "Where are you from, if you don't mind me asking?",
        "Do you remember what it was like to be a kid?",
    ),
    "proposition-of-donation": (
        "Would you like to donate some of your payment to Save the Children?",
        "How much would you like to donate today?",
        "Would you be willing to give $1 of your payment to help these kids?",
        "Could you donate part of your earnings to this cause?",
        "Will you make a donation to Save the Children?",
        "I'd like to ask you to donate to Save the Children. Would you?",
        "How about donating $0.50 to help the children?",
        "Would you consider giving your whole $2 payment?",
        "Can I count on you for a donation today?",
    ),
    "non-strategy": (
        "Hello! How are you?",
        "Hi there, nice to meet you.",
        "Thank you so much.",
        "Okay, I understand.",
        "That's great to hear!",
        "Thanks for chatting with me.",
        "Have a great day!",
        "Sure, no problem.",
        "I see what you mean.",
    ),
}

COUNSELING_TEMPLATES: dict[str, tuple[str, ...]] = {
    "Question": (
        "Can you tell me more about what happened?",
        "How long have you been feeling this way?",
        "What do you think is making this so hard for you right now?",
        "How has this been affecting your day-to-day life?",
        "Is there anyone in your life you have been able to talk to about this?",
        "What happened that made you feel {emotion}?",
        "When did you first notice things getting this difficult with {topic}?",
        "What worries you the most about {topic}?",
        "How are you sleeping and eating these days?",
    ),
    "Restatement or Paraphrasing": (
        "So if I understand you correctly, {topic} has been weighing on you a lot lately.",
        "It sounds like {topic} has left you unsure of what comes next.",
        "What I'm hearing is that you've been dealing with {topic} mostly on your own.",
        "So you're saying that things with {topic} have been building up for a while.",
        "If I've got it right, you've been trying hard, but {topic} keeps getting in the way.",
        "So basically, {topic} has turned your routine upside down.",
        "In other words, you feel stuck with {topic} and don't see a way out yet.",
    ),
    "Reflection of feelings": (
        "It sounds like you're feeling really {emotion} about all of this.",
        "I can hear how {emotion} and exhausted you are.",
        "That must feel so overwhelming and lonely.",
        "You seem really hurt by what happened.",
        "I can sense a lot of frustration and worry in what you're saying.",
        "It sounds like this has left you feeling {emotion} and drained.",
        "That sounds incredibly painful for you.",
        "I can tell how much this is weighing on your heart.",
    ),
    "Self-disclosure": (
        "I went through something similar a few years ago, and I remember how hard it was.",
        "I have been in a situation like that myself, so I know how heavy it can feel.",
        "When I lost my job once, I felt the same way for weeks.",
        "I also struggled with this kind of thing when I was in school.",
        "Something like that happened to me too, and it took me a while to feel okay again.",
        "I've had friendships fall apart as well, and it really hurt.",
        "I know from my own experience how lonely that can feel.",
    ),
    "Affirmation and Reassurance": (
        "You are clearly a strong person for reaching out and talking about this.",
        "It's completely understandable to feel this way, and you're not alone.",
        "You've been handling a very difficult situation as well as anyone could.",
        "I believe you have what it takes to get through this.",
        "It's okay to feel {emotion}; your feelings are valid.",
        "Things can and do get better, even if it doesn't feel like it right now.",
        "You should be proud of yourself for how much you've already coped with.",
        "Reaching out like this shows real courage.",
    ),
    "Providing Suggestions": (
        "Maybe you could try writing down your thoughts each evening to get them out of your head.",
        "Have you thought about talking to someone you trust about {topic}?",
        "It might help to break things into small steps and focus on one at a time.",
        "Perhaps you could set aside a little time each day for something you enjoy.",
        "You could try going for a short walk when things get overwhelming.",
        "It may be worth making a plan for the next week so it feels more manageable.",
        "I would suggest reaching out to a counselor or a support group.",
        "Why not try a simple breathing exercise when the feelings get intense?",
    ),
    "Information": (
        "Many people go through {topic} and research shows most recover with time and support.",
        "Regular exercise and sleep have been shown to reduce anxiety and low mood.",
        "There are free counseling services and hotlines available if you ever need them.",
        "Most colleges and workplaces offer confidential support services.",
        "It's common for stress to show up physically, like trouble sleeping or headaches.",
        "Studies show that talking about your feelings can reduce their intensity.",
        "If you ever feel unsafe, you can call or text a crisis line like 988 any time.",
    ),
    "Others": (
        "Hi there, how are you doing today?",
        "Hello, I'm here to listen.",
        "Thank you for sharing that with me.",
        "Okay.",
        "You're welcome, take care of yourself.",
        "I'm glad we could talk today.",
        "Good evening!",
    ),
}

GREETINGS: dict[str, tuple[str, ...]] = {
    "persuasion": PERSUASION_TEMPLATES["non-strategy"][:2],
    "counseling": COUNSELING_TEMPLATES["Others"][:2],
}
"""The non-strategic templates used for an opening turn."""

TEMPLATES: dict[str, dict[str, tuple[str, ...]]] = {
    "persuasion": PERSUASION_TEMPLATES,
    "counseling": COUNSELING_TEMPLATES,
}

# Small lexicons for reading the last user message (no access to the hidden persona).
EMOTION_WORDS: dict[str, str] = {
    "anxious": "anxious",
    "anxiety": "anxious",
    "worried": "worried",
    "nervous": "nervous",
    "sad": "sad",
    "down": "down",
    "depressed": "down",
    "hopeless": "hopeless",
    "angry": "angry",
    "mad": "angry",
    "furious": "angry",
    "scared": "scared",
    "afraid": "scared",
    "ashamed": "ashamed",
    "embarrassed": "ashamed",
    "lonely": "lonely",
    "stressed": "stressed",
    "overwhelmed": "overwhelmed",
    "hurt": "hurt",
    "disgusted": "disgusted",
    "guilty": "guilty",
}
TOPIC_WORDS: dict[str, str] = {
    "job": "your job",
    "work": "your work",
    "boss": "your work",
    "fired": "losing your job",
    "laid": "losing your job",
    "school": "school",
    "exam": "your exams",
    "grades": "school",
    "class": "school",
    "college": "school",
    "partner": "the breakup",
    "breakup": "the breakup",
    "girlfriend": "the breakup",
    "boyfriend": "the breakup",
    "ex": "the breakup",
    "friend": "your friends",
    "friends": "your friends",
    "family": "your family",
    "parents": "your parents",
    "sleep": "your sleep",
    "pandemic": "the pandemic",
    "depression": "how low you've been feeling",
    "money": "money",
}

_WORD = re.compile(r"[a-z']+")


def read_slots(last_user: str | None, last_agent: str | None = None) -> dict[str, str]:
    """Pick an emotion word and a topic phrase out of the user's last message (defaults if none);
    words the agent itself used in ``last_agent`` are skipped: a user who repeats them back
    ("I'm not sure stressed is the word") says nothing new with them."""
    slots = {"emotion": "upset", "topic": "everything that's going on"}
    echoed = set(_WORD.findall(last_agent.lower())) if last_agent else set()
    if last_user:
        for w in _WORD.findall(last_user.lower()):
            if w in echoed:
                continue
            if w in EMOTION_WORDS and slots["emotion"] == "upset":
                slots["emotion"] = EMOTION_WORDS[w]
            if w in TOPIC_WORDS and slots["topic"] == "everything that's going on":
                slots["topic"] = TOPIC_WORDS[w]
    return slots


def realize(
    domain: str,
    strategy: str,
    rng: np.random.Generator,
    last_user: str | None = None,
    history: Sequence[str] = (),
    opening: bool = False,
) -> str:
    """An utterance expressing ``strategy`` in ``domain``, chosen with ``rng``.

    ``last_user`` fills the emotion/topic slots; templates already said (``history``) are avoided
    while others remain; ``opening`` (the agent's first turn) makes the non-strategic move a
    greeting.
    """
    dom = get_domain(domain)
    dom.index(strategy)  # validates the name
    options = TEMPLATES[domain][strategy]
    if strategy == dom.fallback and (opening or not last_user):
        options = GREETINGS[domain]
    slots = read_slots(last_user, history[-1] if history else None)
    texts = [t.format(**slots) if "{" in t else t for t in options]
    said = set(history)
    fresh = [t for t in texts if t not in said] or texts
    return fresh[int(rng.integers(len(fresh)))]


def all_template_texts(domain: str) -> list[tuple[str, str]]:
    """Every (text, strategy) the realizer can produce, slots filled with a few values each."""
    out = []
    fills = [
        {"emotion": e, "topic": t}
        for e in ("upset", "anxious", "sad", "angry")
        for t in ("everything that's going on", "your job", "the breakup", "school")
    ]
    for strategy, options in TEMPLATES[domain].items():
        for text in options:
            if "{" in text:
                out.extend((text.format(**f), strategy) for f in fills)
            else:
                out.append((text, strategy))
    return out


def last_user_message(info: dict[str, Any]) -> str:
    """The user's most recent message in ``info["messages"]`` ("" if none)."""
    for m in reversed(info.get("messages", [])):
        if m["role"] == "user":
            return m["content"]
    return ""


def say(domain: str, strategy: str, rng: np.random.Generator, info: dict[str, Any]) -> str:
    """Realize ``strategy`` in the context of ``info``'s conversation (no repeated templates)."""
    messages = info.get("messages", [])
    return realize(
        domain,
        strategy,
        rng,
        last_user=last_user_message(info),
        history=[m["content"] for m in messages if m["role"] == "assistant"],
        opening=not any(m["role"] == "assistant" for m in messages),
    )
