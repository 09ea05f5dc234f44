"""What a simulated user says stays true: the consistency checker, on made-up conversations
and on the simulators' own episodes."""

from __future__ import annotations

import json
from importlib import resources

import gymnasium as gym
import numpy as np
import pytest

import dialogue_gym  # noqa: F401  (registers the envs)
from dialogue_gym.agents.registry import make_agent
from dialogue_gym.rollout import play_episodes
from dialogue_gym.simulators import counseling_text
from dialogue_gym.simulators.classifier import split_sentences
from dialogue_gym.simulators.consistency import contradictions, facts
from dialogue_gym.simulators.personas import sample_counseling_persona

# Made up here (the held-out bank in probes/ is written apart and only measured): (domain, the
# user's messages, the fact they contradict or None).
MADE_UP = [
    (
        "counseling",
        ["Maybe 3 weeks? It feels longer.", "It's been like this on and off for years."],
        "duration",
    ),
    ("counseling", ["It started two days ago.", "I've felt this way for months."], "duration"),
    ("counseling", ["about a month now", "It's been four weeks or so."], None),
    ("counseling", ["It's been a while.", "Since about six weeks ago."], None),
    (
        "counseling",
        [
            "My family knows a bit, but I don't want to burden them.",
            "Not really, I haven't told anyone.",
        ],
        "support",
    ),
    ("counseling", ["Nobody knows about this.", "I told my sister last week."], "support"),
    (
        "counseling",
        ["I told a friend, but they didn't really get it.", "My family knows a bit too."],
        None,
    ),
    (
        "counseling",
        [
            "Not much, I don't really know where to start.",
            "I've tried to just push through it, but it isn't working.",
        ],
        "tried",
    ),
    (
        "counseling",
        ["I haven't tried anything yet.", "I tried meditating but it didn't help."],
        "tried",
    ),
    (
        "counseling",
        ["I tried talking myself out of it.", "I've been trying to exercise more."],
        None,
    ),
    ("persuasion", ["Sure, put me down for $0.50.", "A little, possibly."], "pledge"),
    ("persuasion", ["Okay, I'll donate $1.00.", "I'll pass for now, thanks."], "pledge"),
    ("persuasion", ["I can do $0.30.", "I'll give $0.50."], "pledge"),
    ("persuasion", ["I'll give a dollar.", "Yes, $1 is fine."], None),
    ("persuasion", ["I'll give $0.50.", "Okay, make it $1.00 then."], None),
    (
        "persuasion",
        ["No, I'd rather keep my payment.", "Alright, you've convinced me. I'll give $0.20."],
        None,
    ),
    (
        "persuasion",
        ["No, I don't have any children.", "My daughter loves that kind of story."],
        "children",
    ),
    (
        "persuasion",
        ["Yes, I have two kids of my own.", "No kids yet, but maybe someday."],
        "children",
    ),
    ("persuasion", ["No kids yet, but I have nieces and nephews.", "My niece is five."], None),
    (
        "persuasion",
        ["I've never donated to a charity.", "I usually give to the food bank."],
        "donated_before",
    ),
    ("persuasion", ["I donate to my church sometimes.", "I give to a few causes each year."], None),
    (
        "persuasion",
        [
            "Not really, I've never heard of them. Where are they based?",
            "Yes, I've heard of them. They help kids around the world, right?",
        ],
        "knows_charity",
    ),
    (
        "persuasion",
        ["I think so, I've seen their ads on TV.", "Yeah, I know a little about them."],
        None,
    ),
]


@pytest.mark.parametrize("domain,turns,fact", MADE_UP)
def test_made_up_contradictions_are_caught_and_paraphrases_are_not(domain, turns, fact):
    found = contradictions(domain, turns)
    assert [c.fact for c in found][:1] == ([fact] if fact else []), found


def test_the_held_out_bank_is_read_with_few_false_alarms():
    """Measured on 192 conversations written apart from the simulators and this checker: the
    checker reads only the wordings it knows, so it catches few of the bank's contradictions
    (0.26 of the 84 whose fact it reads) but raises few false alarms (2 of 96)."""
    ref = resources.files("dialogue_gym.simulators").joinpath("probes/contradictions.jsonl")
    rows = [json.loads(line) for line in ref.read_text().splitlines() if line.strip()]
    assert len(rows) >= 190
    alarms = [r for r in rows if not r["contradiction"] and contradictions(r["domain"], r["turns"])]
    caught = [r for r in rows if r["contradiction"] and contradictions(r["domain"], r["turns"])]
    assert len(alarms) <= 0.05 * sum(not r["contradiction"] for r in rows), alarms[:3]
    assert len(caught) >= 0.2 * sum(r["contradiction"] for r in rows)


def test_a_seekers_details_agree():
    rng = np.random.default_rng(0)
    for _ in range(2000):
        details = sample_counseling_persona(rng, counseling_text.DETAILS).details
        assert len(details) >= 2  # a fired seeker has one other detail that agrees
        assert not any(
            counseling_text.details_conflict(a, b) for a in details for b in details if a != b
        )


@pytest.mark.slow
@pytest.mark.parametrize("agent", ["random", "scripted", "human-like"])
def test_simulated_seekers_do_not_contradict_themselves(agent):
    env = gym.make("Counseling-v0")
    for r in play_episodes(env, make_agent(agent, "counseling"), range(630_000, 630_060)):
        user = [m["content"] for m in r.messages or [] if m["role"] == "user"]
        assert not contradictions("counseling", user), user


@pytest.mark.parametrize("agent", ["random", "scripted", "human-like"])
def test_simulated_persuadees_keep_their_word(agent):
    env = gym.make("Persuasion-v0")
    for r in play_episodes(env, make_agent(agent, "persuasion"), range(630_000, 630_100)):
        user = [m["content"] for m in r.messages or [] if m["role"] == "user"]
        assert not contradictions("persuasion", user), user
        # the outcome is the last pledge; a pledge withdrawn (with cause) gives nothing
        said = [facts("persuasion", x).get("pledge") for m in user for x in split_sentences(m)]
        said = [v for v in said if v not in (None, "hedge")]
        pledges = [v for v in said if v.startswith("$")]
        if said and said[-1].startswith("$"):
            assert r.reward == pytest.approx(float(said[-1][1:])), user
        elif pledges:
            assert r.reward == 0.0, user


def test_persuasion_info_reports_what_the_user_voiced():
    env = gym.make("Persuasion-v0")
    agent = make_agent("scripted", "persuasion")
    seen = {"concern": 0, "pledge": 0, "revealed": 0}
    for seed in range(630_200, 630_240):
        obs, info = env.reset(seed=seed)
        agent.reset(seed=seed)
        done = False
        while not done:
            obs, reward, terminated, truncated, info = env.step(agent.act(obs, info))
            done = terminated or truncated
            user, text = info["user"], info["messages"][-1]["content"]
            if user["pledge"]:
                seen["pledge"] += 1
                assert f"${user['pledge']:.2f}" in text
            if user["concern"]:
                seen["concern"] += 1
            for fact, value in user["revealed"].items():
                seen["revealed"] += 1
                read = facts("persuasion", text)
                if fact in read:  # what the checker reads of the words agrees with the info
                    assert read[fact] == ("yes" if value else "no"), (fact, text)
        last = [m["content"] for m in info["messages"] if m["role"] == "user"]
        assert last  # the episode ran
    assert all(n > 0 for n in seen.values()), seen
