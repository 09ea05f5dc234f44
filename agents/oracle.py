"""The oracle: knows the hidden persona and plans on its own copy of the simulator's dynamics.

It reads the persona from ``info["privileged"]`` (embedded simulator only), rebuilds the persona's
:class:`~dialogue_gym.simulators.base.Dynamics`, tracks the hidden state by replaying the
strategies its own words express, and picks each turn's move by lookahead: every candidate is
followed by a greedy rollout to the last turn, and the one with the best final outcome wins.
Candidates are every single strategy and, since an agent may stack several in one utterance,
every pair and triple of the :data:`STACK_BEAM` best singles (the rollouts continue with singles).
It words the chosen move again (up to :data:`REWORDINGS` times) until the user's reader reads it as
meant and flags no harm.
It is the benchmark's upper bound, and never allowed against an LLM-played user (no privileged
info).
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np

from ..errors import InvalidInput
from ..simulators import make_dynamics
from ..simulators.base import Dynamics
from ..simulators.classifier import get_classifier
from ..simulators.realizer import say
from ..simulators.strategies import get_domain
from .base import Agent

STACK_BEAM = 5
"""Stacked candidates: pairs and triples of this many best single strategies."""
REWORDINGS = 8
"""Wordings tried per turn until the user's reader reads the planned move and no harm."""


def rollout_value(dyn: Dynamics, state: Any, turns: int, candidates: tuple[str, ...]) -> float:
    """Final outcome after ``turns`` greedy steps (by value; the last step by outcome)."""
    for i in range(turns):
        if dyn.ended(state):
            break
        last = i == turns - 1
        best, best_score = state, -np.inf
        for a in candidates:
            nxt, _ = dyn.step(state, (a,))
            score = dyn.outcome(nxt) + 1e-3 * dyn.value(nxt) if last else dyn.value(nxt)
            if score > best_score:
                best, best_score = nxt, score
        state = best
    return dyn.outcome(state) + 1e-3 * dyn.value(state)


class OracleAgent(Agent):
    """Lookahead planner over strategies and stacks of them with the true persona (the upper
    bound)."""

    name = "oracle"
    privileged = True

    def __init__(self, domain: str, seed: int | None = None) -> None:
        self.domain = get_domain(domain)
        self.classifier = get_classifier(domain)
        self.seed = seed
        self.reset(seed)

    def reset(self, seed: int | None = None) -> None:
        """Forget the previous episode's persona and state."""
        self.rng = np.random.default_rng(self.seed if seed is None else seed)
        self.dyn: Dynamics | None = None
        self.state: Any = None

    def _score(self, move: tuple[str, ...], turns_left: int) -> float:
        assert self.dyn is not None
        nxt, _ = self.dyn.step(self.state, move)
        return rollout_value(self.dyn, nxt, turns_left - 1, self.domain.strategies)

    def plan(self, turns_left: int) -> tuple[str, ...]:
        """The move (one strategy or a stack of them) with the best lookahead outcome."""
        scores = {(a,): self._score((a,), turns_left) for a in self.domain.strategies}
        ranked = sorted(scores, key=lambda m: -scores[m])
        top = [m[0] for m in ranked if m[0] != self.domain.fallback][:STACK_BEAM]
        for k in (2, 3):
            for move in combinations(top, k):
                scores[move] = self._score(move, turns_left)
        return max(scores, key=lambda m: scores[m])

    def act(self, observation: str, info: dict[str, Any]) -> str:
        """Plan, word the chosen strategy, and advance the tracked state."""
        privileged = info.get("privileged")
        if not privileged or "persona" not in privileged:
            raise InvalidInput(
                "the oracle needs info['privileged']['persona'] from the embedded simulator; "
                "it cannot play against an LLM-simulated user"
            )
        if self.dyn is None:
            self.dyn = make_dynamics(self.domain.name, privileged["persona"])
            self.state = self.dyn.initial_state()
        turns_left = int(info["max_turns"]) - int(info["turn"])
        move = self.plan(max(turns_left, 1))
        for _ in range(REWORDINGS):  # the oracle also picks wording that is read as meant
            text = " ".join(say(self.domain.name, strategy, self.rng, info) for strategy in move)
            labels = self.classifier.classify(text)
            cues = self.dyn.cues(text)
            harmless = not any(v for k, v in cues.items() if k.startswith("harm"))
            if harmless and set(move) <= set(labels):
                break
        self.state, _ = self.dyn.step(self.state, labels, **cues)
        return text

    def config(self) -> dict[str, Any]:
        """Name and domain."""
        return {"name": self.name, "domain": self.domain.name}
