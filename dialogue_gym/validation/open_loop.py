"""The best open-loop script: a fixed sequence of moves that never reads the user.

A move is one strategy or a stack of two or three (one utterance). The search is the
cross-entropy method over one categorical distribution per turn: each iteration samples
``samples`` scripts, scores each by its mean outcome over the personas of the *training* seeds
(played on the simulator's dynamics, which is exact for a script: it never reads a reply; in
Counseling a hearing move is scored at the engagement of a line worded without reading the
seeker, ``simulators.engagement.UNREAD_ENGAGEMENT``), and
refits every turn's distribution to the ``elite`` best. ``starts`` (e.g. the hand-written expert
flow) join the first iteration's samples, so the search never ends below a known script. The
budget is ``iterations x samples`` scripts, each scored on ``len(train_seeds)`` personas. The
winner is then played as text through the environment on other seeds (see :class:`OpenLoopAgent`:
its wording does not read the user either, so no slot is filled from their words).

If adaptation is required, this script stays well below the oracle (``sim-report`` check b).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Any

import gymnasium as gym
import numpy as np

from ..agents.base import Agent
from ..errors import InvalidInput
from ..simulators import make_dynamics
from ..simulators.engagement import UNREAD_ENGAGEMENT
from ..simulators.realizer import realize
from ..simulators.strategies import get_domain


def moves(domain: str, max_stack: int = 3) -> list[tuple[str, ...]]:
    """Every single strategy and every stack of 2..``max_stack`` strategic ones."""
    d = get_domain(domain)
    strategic = [s for s in d.strategies if s != d.fallback]
    out: list[tuple[str, ...]] = [(s,) for s in d.strategies]
    for k in range(2, max_stack + 1):
        out += list(combinations(strategic, k))
    return out


@dataclass
class SearchResult:
    """The best script found, its training-seed score, and the search budget."""

    script: list[tuple[str, ...]]
    train_score: float
    budget: dict[str, int]


def _personas(env_id: str, seeds: range) -> list[dict[str, Any]]:
    env = gym.make(env_id, privileged_info=True)
    return [env.reset(seed=s)[1]["privileged"]["persona"] for s in seeds]


def _unread_cues(domain: str, move: tuple[str, ...]) -> dict[str, Any]:
    """What the dynamics read from a move worded without reading the user."""
    if domain != "counseling":
        return {}
    from ..simulators.counseling import HEARING

    return {"engagement": UNREAD_ENGAGEMENT} if any(m in HEARING for m in move) else {}


def score_script(domain: str, personas: list[dict[str, Any]], script) -> float:
    """Mean outcome of ``script`` (a list of moves) over ``personas``, on the dynamics."""
    total = 0.0
    for persona in personas:
        dyn = make_dynamics(domain, persona)
        total += dyn.outcome(dyn.play((move, _unread_cues(domain, move)) for move in script))
    return total / len(personas)


def search(
    env_id: str,
    domain: str,
    train_seeds: range,
    turns: int = 10,
    iterations: int = 12,
    samples: int = 200,
    elite: int = 20,
    smoothing: float = 0.7,
    seed: int = 0,
    starts: list[list[tuple[str, ...]]] | None = None,
) -> SearchResult:
    """Cross-entropy search for the best open-loop script on ``train_seeds``' personas."""
    rng = np.random.default_rng(seed)
    personas = _personas(env_id, train_seeds)
    options = moves(domain)
    index = {m: i for i, m in enumerate(options)}
    seeded = []
    for script in starts or []:
        if len(script) != turns or any(m not in index for m in script):
            raise InvalidInput(f"a start script must be {turns} moves from moves({domain!r})")
        seeded.append([index[m] for m in script])
    probs = np.full((turns, len(options)), 1.0 / len(options))
    best: tuple[float, list[int]] = (-np.inf, [])
    for _ in range(iterations):
        drawn = [
            [int(rng.choice(len(options), p=probs[t])) for t in range(turns)]
            for _ in range(samples)
        ]
        drawn, seeded = seeded + drawn, []
        scores = [score_script(domain, personas, [options[i] for i in x]) for x in drawn]
        order = np.argsort(scores)[::-1][:elite]
        if scores[order[0]] > best[0]:
            best = (float(scores[order[0]]), drawn[order[0]])
        counts = np.zeros_like(probs)
        for j in order:
            for t, i in enumerate(drawn[j]):
                counts[t, i] += 1
        probs = smoothing * counts / elite + (1 - smoothing) * probs
    budget = {"iterations": iterations, "samples": samples, "train_personas": len(personas)}
    return SearchResult([options[i] for i in best[1]], best[0], budget)


class OpenLoopAgent(Agent):
    """Says a fixed script of moves, whatever the user says (stacks realized as one utterance)."""

    name = "open-loop"

    def __init__(self, domain: str, script: list[tuple[str, ...]], seed: int | None = None):
        self.domain = get_domain(domain)
        self.script = list(script)
        self.seed = seed
        self.reset(seed)

    def reset(self, seed: int | None = None) -> None:
        """Restart the script; ``seed`` fixes the wording."""
        self.rng = np.random.default_rng(self.seed if seed is None else seed)
        self.turn = 0

    def act(self, observation: str, info: dict[str, Any]) -> str:
        """The script's move for this turn, realized as text without reading the user (no slot
        filled from their words; only the agent's own lines are looked at, not to repeat one)."""
        move = self.script[min(self.turn, len(self.script) - 1)]
        said = [m["content"] for m in info.get("messages", []) if m["role"] == "assistant"]
        opening, self.turn = self.turn == 0, self.turn + 1
        return " ".join(
            realize(self.domain.name, s, self.rng, history=said, opening=opening) for s in move
        )

    def config(self) -> dict[str, Any]:
        """Name, domain and the script."""
        return {
            "name": self.name,
            "domain": self.domain.name,
            "script": [list(m) for m in self.script],
        }
