"""A seeker answers a question with an answer of its kind (issue 14, point 7)."""

from __future__ import annotations

import gymnasium as gym
import pytest

import dialogue_gym  # noqa: F401  (registers the envs)
from dialogue_gym.simulators import counseling_text
from dialogue_gym.simulators.questions import question_kind

PARAPHRASES = [  # written apart from the prototypes in simulators/questions.py
    ("For how many weeks has this been happening?", "duration"),
    ("That sounds so hard. When did all of this begin?", "duration"),
    ("Who have you been able to talk to about it?", "support"),
    ("How are you doing with all of this emotionally?", "feeling"),
    ("Is there anything you have already tried to make it better?", "tried"),
    ("I am sorry you are going through this.", None),
]


def test_question_kind_reads_most_paraphrases():
    """A floor, not a target: 4 of these 6 read right when written (the misses: "who have you
    been able to talk to" reads as "tried", and the sympathy line as a feeling question)."""
    right = [question_kind(text) == kind for text, kind in PARAPHRASES]
    assert sum(right) >= 4, right


def _reply(seed: int, turns: list[str]) -> str:
    env = gym.make("Counseling-v0")
    env.reset(seed=seed)
    info = {}
    for t in turns:
        _, _, term, trunc, info = env.step(t)
        assert not (term or trunc)
    return info["messages"][-1]["content"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_questions_get_answers_of_their_kind(seed):
    # a stacked turn: the question comes second, and is still answered
    duration = _reply(seed, ["That sounds really hard. For how many weeks has this been going on?"])
    answers = [a.split("{")[0] for span in counseling_text.DURATION_BY_SPAN.values() for a in span]
    assert any(a in duration for a in answers), duration
    support = _reply(seed, ["Thank you for telling me.", "Does anyone close to you know about it?"])
    wordings = [w for a in counseling_text.ANSWERS["support"] for w in counseling_text.WORDINGS[a]]
    assert any(w.split(",")[0] in support for w in wordings), support


PERSUASION_PARAPHRASES = [  # written apart from the prototypes in simulators/questions.py
    ("Do you have any little ones at home?", "children"),
    ("Have you ever given money to a cause?", "giving"),
    ("Did you know about this organization before today?", "aware"),
    ("How is everything with you?", "wellbeing"),
    ("What is your view on giving to kids overseas?", "opinion"),
    ("Save the Children has been around for a hundred years.", None),
]


def test_persuasion_question_kind_reads_most_paraphrases():
    """A floor: 4 of these 6 (all 6 read right when written)."""
    right = [question_kind(text, "persuasion") == kind for text, kind in PERSUASION_PARAPHRASES]
    assert sum(right) >= 4, right


def test_unknown_task_is_named():
    with pytest.raises(ValueError, match="unknown task 'sales'"):
        question_kind("Hi?", "sales")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_persuadee_answers_the_question_asked(seed):
    from dialogue_gym.simulators import persuasion_text as P

    env = gym.make("Persuasion-v0")
    env.reset(seed=seed)
    _, _, _, _, info = env.step("Hi there! Do you have any little ones at home?")
    reply = info["messages"][-1]["content"].lower()
    answers = P.PERSONAL_ANSWER["children"] + P.PERSONAL_ANSWER["no_children"]
    assert any(a.lower().rstrip(".") in reply for a in answers), reply
