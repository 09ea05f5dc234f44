"""``corpus-mix``: a behaviour policy that makes the moves real people make, as often as they do.

At its t-th turn the agent draws a strategy from the share of each strategy among the t-th turns
of the real train dialogues (P4G persuaders, ESConv supporters) as the envs' reader reads them
(``simulators/params/corpus_strategy_mix.json``, written by ``scripts/fit_strategy_mix.py``;
turns past the table use its last row), and words it with the toolkit's realizer. It does not
react to what the user says. It is the ``narrow`` behaviour regime of the benchmark: a move people
rarely make at a point is rare there in its data too, so a rewrite can bring in a move the data
rarely show there.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..simulators.personas import load_params
from ..simulators.realizer import say
from ..simulators.strategies import get_domain
from .base import Agent


def strategy_mix(domain: str) -> tuple[tuple[str, ...], np.ndarray]:
    """The domain's strategies and the shipped per-turn shares (rows: agent turns)."""
    table = load_params("corpus_strategy_mix")[get_domain(domain).name]
    return tuple(table["strategies"]), np.asarray(table["by_turn"], dtype=float)


class CorpusMixAgent(Agent):
    """Draws each turn's strategy from the real corpora's shares at that turn, and words it."""

    name = "corpus-mix"

    def __init__(self, domain: str, seed: int | None = None) -> None:
        self.domain = get_domain(domain)
        self.strategies, self.shares = strategy_mix(domain)
        self.seed = seed
        self.reset(seed)

    def reset(self, seed: int | None = None) -> None:
        """Reseed the strategy and wording choices."""
        self.rng = np.random.default_rng(self.seed if seed is None else seed)

    def draw(self, turn: int) -> str:
        """A strategy for agent turn ``turn`` (from 0), drawn from that turn's real shares."""
        row = self.shares[min(turn, len(self.shares) - 1)]
        return self.strategies[int(self.rng.choice(len(row), p=row / row.sum()))]

    def act(self, observation: str, info: dict[str, Any]) -> str:
        """This turn's strategy (:meth:`draw`), realized as text."""
        turn = sum(m["role"] == "assistant" for m in info.get("messages", []))
        return say(self.domain.name, self.draw(turn), self.rng, info)

    def config(self) -> dict[str, Any]:
        """Name and domain."""
        return {"name": self.name, "domain": self.domain.name}
