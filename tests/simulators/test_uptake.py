"""Replies that answer the turn: the readings of :mod:`uptake`, the examples a new user
reported played on the envs, and the relevance measure itself."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import dialogue_gym  # noqa: F401
from dialogue_gym.simulators import counseling_text as C
from dialogue_gym.simulators import persuasion_text as P
from dialogue_gym.simulators.relevance import relevance
from dialogue_gym.simulators.uptake import acts, mirrors, small_talk_topic, topics


def test_social_acts_are_read_per_sentence():
    assert acts("Hi! How are you doing today?") == {"greeting"}
    assert acts("Thanks so much! Have a great rest of your day!") == {"thanks", "farewell"}
    assert acts("Take care, goodbye!") == {"farewell"}
    assert acts("Hello, I'm here to listen.") == {"greeting", "offer"}
    # a "hi" that does not open its sentence, and ordinary points, are no social act
    assert acts("Kids there say hi to the volunteers every morning.") == frozenset()
    assert acts("Many children in Syria go to bed hungry every night.") == frozenset()


def test_topics_and_small_talk_are_read_in_order():
    assert topics("Many children in Syria go to bed hungry every night.", "persuasion") == [
        "war",
        "hunger",
    ]
    assert topics("Maybe try a short walk after work.", "counseling") == ["walk"]
    assert small_talk_topic("The weather has been lovely this week.") == "weather"
    assert small_talk_topic("I finally finished my report.") is None
    with pytest.raises(ValueError, match="unknown task 'sales'"):
        topics("hi", "sales")


def test_mirrors_pick_the_options_in_the_question_words():
    options = ("It's been about 5 weeks now.", "I've been feeling this way for about 5 weeks.")
    assert mirrors(options, "How long have you been feeling this way?") == [1]
    assert mirrors(options, "Hmm?") == [0, 1]  # no shared word: all stay


def _replies(env_id: str, turns: list[str], seed: int) -> list[str]:
    env = gym.make(env_id)
    obs, _ = env.reset(seed=seed)
    out = []
    for turn in turns:
        obs, _, term, trunc, info = env.step(turn)
        out.append(obs.strip().split("\n")[-1].split(": ", 1)[1])
        if term or trunc:
            break
    return out


@pytest.mark.parametrize("seed", range(6))
def test_persuadee_answers_the_issue_examples(seed):
    turns = [
        "Hi! How are you doing today?",
        "The weather has been lovely this week.",
        "Do you have a minute to hear about a children's charity?",
        "Thanks so much! Have a great rest of your day!",
    ]
    greet, small, minute, bye = _replies("Persuasion-v0", turns, seed)
    concerns = [c for cs in P.CONCERNS.values() for c in cs]
    assert any(g in greet for g in P.GREET_BACK) and not any(c in greet for c in concerns)
    assert not any(c in small for c in concerns), small  # the charity has not come up
    assert any(x in small for x in P.SMALL_TALK_BACK["weather"]), small
    assert any(x in minute for x in P.PERMISSION), minute
    assert any(x in bye for x in (*P.FAREWELL_BACK["pos"], *P.FAREWELL_BACK["neg"], *P.CLOSE))


@pytest.mark.parametrize("seed", range(6))
def test_seeker_answers_the_issue_examples(seed):
    turns = ["Hello, I'm here to listen.", "When did this start?", "Take care, goodbye!"]
    hello, when, bye = _replies("Counseling-v0", turns, seed)
    assert any(g in hello for g in C.GREET_BACK) and any(o in hello for o in C.OFFER_BACK)
    spans = [a.split("{")[0] for answers in C.DURATION_BY_SPAN.values() for a in answers]
    assert any(a in when for a in spans), when
    assert any(x in bye for x in (*C.FAREWELL_BACK["pos"], *C.FAREWELL_BACK["neg"])), bye


def test_an_early_ask_is_not_objected_to_and_accepted_in_one_breath():
    for seed in range(20):
        (reply,) = _replies("Persuasion-v0", ["Would you donate a dollar to this charity?"], seed)
        assert not ("already asking for money" in reply and "$" in reply), reply


def test_relevance_measure_reads_related_and_unrelated_replies():
    turns = [
        "Have you heard of Save the Children?",
        "Children in war zones need food and safety.",
        "Do you have kids of your own?",
        "Your donation comes out of your task payment.",
        "How was your weekend?",
        "They are rated highly for transparency.",
    ] * 3
    answers = [
        "Yes, I've heard of Save the Children.",
        "Kids in a war zone, that's awful.",
        "Yes, I have two kids.",
        "So it comes out of my payment? Easy.",
        "My weekend was relaxing, thanks.",
        "Good that they're transparent.",
    ] * 3
    pairs = [(i, 0, t, a) for i, (t, a) in enumerate(zip(turns, answers, strict=True))]
    assert relevance(pairs, "persuasion").overall > 0.9
    shuffled = np.roll(answers, 1)
    pairs = [(i, 0, t, a) for i, (t, a) in enumerate(zip(turns, shuffled, strict=True))]
    assert relevance(pairs, "persuasion").overall < 0.45  # the right replies beat them


def test_echoes_voice_no_need():
    """What a seeker says to take up a turn must not read as a need (only their need cues do):
    agents that read needs, the model-based reference among them, would be misled."""
    from dialogue_gym.simulators.seeker_needs import voiced_needs

    slots = {"word": "sad", "Word": "Sad", "detail": "x", "weeks": "5", "emotion": "sad"}
    texts = [*C.OFFER_BACK, *C.THANKS_BACK, *C.GREET_BACK, *C.CAUSE_FRAMES, *C.ANSWERS["feeling"]]
    texts += [x for v in C.FAREWELL_BACK.values() for x in v]
    texts += [x for v in C.SMALL_TALK_BACK.values() for x in v]
    texts += [x for t in C.TOPIC_REACTIONS.values() for m in t.values() for x in m]
    texts += [x for v in C.FEELING_BACK.values() for x in v]
    texts += [x for v in (*C.WORDINGS.values(), *C.DURATION_BY_SPAN.values()) for x in v]
    voicing = [t for t in texts if voiced_needs(t.format(**slots))]
    assert not voicing, voicing
