"""Corpus dialogues as personas: P4G persuadees' surveys and ESConv seekers, matched exactly."""

from __future__ import annotations

import gymnasium as gym

import dialogue_gym  # noqa: F401
from dialogue_gym.simulators.corpus_personas import (
    esconv_seekers,
    p4g_dialogues,
    supporter_turns,
)


def test_p4g_dialogues_match_their_persuadees_one_to_one(shared_data):
    train, test = p4g_dialogues(shared_data, "train"), p4g_dialogues(shared_data, "test")
    assert (len(train), len(test)) == (817, 200)
    assert not {d["b2"] for d in train} & {d["b2"] for d in test}
    complete = [d for d in test if len(d["persona"]["traits"]) == 25]
    assert len(complete) >= 190
    env = gym.make("Persuasion-v0", privileged_info=True)
    _, info = env.reset(seed=0, options={"persona": test[0]["persona"]})
    got = info["privileged"]["persona"]["traits"]
    for name, value in test[0]["persona"]["traits"].items():
        assert got[name] == round(value, 3)


def test_esconv_seekers_and_supporter_turns(shared_data):
    seekers = esconv_seekers(shared_data / "esconv/esconv_test.jsonl")
    assert len(seekers) == 195
    d = seekers[0]
    assert set(d["persona"]) == {"problem", "emotion", "intensity"}
    env = gym.make("Counseling-v0", privileged_info=True)
    _, info = env.reset(seed=0, options={"persona": d["persona"]})
    assert info["privileged"]["persona"]["intensity"] == d["persona"]["intensity"]
    dialog = [
        {"speaker": "usr", "text": "hi"},
        {"speaker": "sys", "text": "Hello."},
        {"speaker": "sys", "text": "How are you?"},
        {"speaker": "usr", "text": "bad"},
        {"speaker": "sys", "text": "I'm sorry."},
    ]
    assert supporter_turns(dialog) == ["Hello. How are you?", "I'm sorry."]
