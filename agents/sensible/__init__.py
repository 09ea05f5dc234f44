"""Plain, hand-written agents for a held-out check that sensible plans rank above random.

These agents were written apart from the simulators, by someone who did not read the simulator
code, its templates, its probe banks or its training data: only the README, the domain brief and
the ``Agent`` interface. Each follows one plan a researcher might write in a few minutes (ask once,
answer concerns, tell a story first, ...; empathy then advice, questions first, reflective
listening, ...), with lines written by hand in ordinary English. They read only the user's words
(``info["messages"]``) and their own per-episode memory.

They exist to check that the simulated users rank sensible agents above a random one, so they
must not be tuned to the simulators' scores: do not edit their plans or wording after looking at
how they score.
"""

from __future__ import annotations

from dialogue_gym.agents.base import Agent

from .persuaders import AnswerConcerns, AskOnce, QuestionsFirst, SelfModeling, SmallStep, StoryFirst
from .supporters import (
    EmpathyThenAdvice,
    QuestionsFirstSupporter,
    ReassureInform,
    ReflectiveListener,
    SelfDisclosure,
)

SENSIBLE_AGENTS: dict[str, tuple[type[Agent], ...]] = {
    "persuasion": (AskOnce, AnswerConcerns, StoryFirst, QuestionsFirst, SmallStep, SelfModeling),
    "counseling": (
        EmpathyThenAdvice,
        QuestionsFirstSupporter,
        ReflectiveListener,
        ReassureInform,
        SelfDisclosure,
    ),
}
