"""Your own agent against the benchmark: a 20-line persuader, evaluated and compared.

    python examples/evaluate_my_agent.py [--episodes 200]

The same agent works from the command line with no registration, by import path:

    dialogue-gym evaluate --env Persuasion-v0 --agent examples/evaluate_my_agent.py:AskEarly
    dialogue-gym benchmark --quick --env Persuasion-v0 \
        --add-agent examples/evaluate_my_agent.py:AskEarly
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

import dialogue_gym
from dialogue_gym.agents.base import Agent
from dialogue_gym.agents.registry import make_agent
from dialogue_gym.comparison import format_table
from dialogue_gym.simulators.realizer import say


class AskEarly(Agent):
    """Build credibility, tell a story, ask at turn 3; after that, answer and ask again."""

    name = "ask-early"
    PLAN = ("credibility-appeal", "personal-story", "proposition-of-donation")

    def __init__(self, domain: str = "persuasion") -> None:
        self.domain, self.turn, self.rng = domain, 0, np.random.default_rng(0)

    def reset(self, seed: int | None = None) -> None:
        """Start a new conversation (``seed`` picks the wording)."""
        self.turn, self.rng = 0, np.random.default_rng(seed)

    def act(self, observation: str, info: dict[str, Any]) -> str:
        """Say the next step of the plan, worded by the toolkit's realizer."""
        strategy = self.PLAN[self.turn] if self.turn < len(self.PLAN) else "logical-appeal"
        if self.turn >= len(self.PLAN) and self.turn % 2 == 0:
            strategy = "proposition-of-donation"
        self.turn += 1
        return say(self.domain, strategy, self.rng, info)


def main() -> None:
    """Evaluate AskEarly and the scripted expert flow on the same seeds; compare them."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--episodes", type=int, default=200)
    args = parser.parse_args()
    mine = dialogue_gym.evaluate(AskEarly(), "Persuasion-v0", episodes=args.episodes, seed=0)
    expert = dialogue_gym.evaluate(
        make_agent("scripted", "persuasion"), "Persuasion-v0", episodes=args.episodes, seed=0
    )
    print(format_table([mine, expert]))
    print(dialogue_gym.compare(mine, expert))


if __name__ == "__main__":
    main()
