"""One line of the simulator report, and the episode helpers its checks share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from ..agents.base import Agent
from ..rollout import EpisodeResult, play_episodes


@dataclass
class Check:
    """One report line: a name, the measured figures, and whether it passed (None: no threshold)."""

    name: str
    text: str
    passed: bool | None
    data: dict[str, Any]


def rewards(results: list[EpisodeResult]) -> np.ndarray:
    """The episodes' final rewards."""
    return np.array([r.reward for r in results], dtype=float)


def play(env: gym.Env, agent: Agent, seeds: range, progress: bool) -> list[EpisodeResult]:
    """``agent`` on ``env`` for ``seeds``, its progress bar named after both."""
    return play_episodes(env, agent, seeds, progress=progress, desc=f"{env.spec.id}:{agent.name}")
