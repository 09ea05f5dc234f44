"""A non-privileged reference: knows the simulator's dynamics, not the persona.

Labelled "model-based: knows the dynamics, not the persona". Each turn it draws ``samples`` personas
from a posterior given the transcript only (:mod:`dialogue_gym.simulators.persona_inference`: what
the user revealed — concerns, kind of persuadee, needs, problem, risk — fixes those traits; the rest
comes from the persona prior, with the agent's own seed; never ``info["privileged"]``), replays its
own past turns through each persona's dynamics, and picks the strategy whose greedy lookahead (the
oracle's, :func:`~.oracle.rollout_value`) has the best outcome averaged over the personas. Beside
the oracle (true persona) and the learned agents, its row in the benchmark separates the part of the
oracle's lead that is missing information from the part that is learning: oracle - model-based is
what knowing the persona is worth; model-based - a learned agent is what the learner has not learned
about the dynamics.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..episode import Turn
from ..errors import InvalidInput
from ..simulators.classifier import get_classifier
from ..simulators.realizer import say
from ..simulators.strategies import get_domain
from .base import Agent
from .oracle import rollout_value


class ModelBasedAgent(Agent):
    """Lookahead over strategies with the dynamics, averaged over inferred personas."""

    name = "model-based"

    def __init__(self, domain: str, samples: int = 6, seed: int | None = None) -> None:
        if samples < 1:
            raise InvalidInput(f"samples must be >= 1, got {samples}")
        self.domain = get_domain(domain)
        self.classifier = get_classifier(domain)
        self.samples = samples
        self.seed = seed
        self.reset(seed)

    def reset(self, seed: int | None = None) -> None:
        """Reseed the persona draws and the wording."""
        self.rng = np.random.default_rng(self.seed if seed is None else seed)

    def _particles(self, messages: list[dict[str, str]]) -> list[tuple[Any, Any]]:
        """(dynamics, tracked state) for personas drawn given the transcript."""
        from ..simulators.counseling import CounselingDynamics
        from ..simulators.persona_inference import (
            infer_counseling_persona,
            infer_persuasion_persona,
        )
        from ..simulators.persuasion import PersuasionDynamics

        turns = [Turn(m["role"], m["content"]) for m in messages]
        out = []
        for _ in range(self.samples):
            if self.domain.name == "persuasion":
                dyn: Any = PersuasionDynamics(infer_persuasion_persona(turns, self.rng))
            else:  # the initial intensity is hidden too: drawn from the prior
                dyn = CounselingDynamics(infer_counseling_persona(turns, self.rng, None))
            state = dyn.initial_state()
            heard: list[str] = []  # what the user had said before each agent turn
            for t in turns:
                if t.role != "assistant":
                    heard.append(t.text)
                    continue
                labels = self.classifier.classify(t.text)
                state, _ = dyn.step(state, labels, **dyn.cues(t.text, labels, list(heard)))
            out.append((dyn, state))
        return out

    def plan(self, messages: list[dict[str, str]], turns_left: int) -> str:
        """The strategy with the best lookahead outcome, averaged over inferred personas."""
        particles = self._particles(messages)
        best, best_score = self.domain.fallback, -np.inf
        for a in self.domain.strategies:
            score = 0.0
            for dyn, state in particles:
                nxt, _ = dyn.step(state, (a,))
                score += rollout_value(dyn, nxt, turns_left - 1, self.domain.strategies)
            if score > best_score:
                best, best_score = a, score
        return best

    def act(self, observation: str, info: dict[str, Any]) -> str:
        """Plan from the transcript alone and word the chosen strategy."""
        turns_left = max(int(info["max_turns"]) - int(info["turn"]), 1)
        strategy = self.plan(list(info.get("messages", [])), turns_left)
        return say(self.domain.name, strategy, self.rng, info)

    def config(self) -> dict[str, Any]:
        """Name, label, domain and the number of persona samples."""
        return {
            "name": self.name,
            "label": "model-based: knows the dynamics, not the persona",
            "domain": self.domain.name,
            "samples": self.samples,
        }
