"""Play an agent in an environment: one episode, or many over a list of seeds."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym

from .agents.base import Agent


@dataclass
class EpisodeResult:
    """The outcome of one played episode."""

    seed: int
    reward: float
    turns: int
    end_reason: str
    messages: list[dict[str, str]]
    final_info: dict[str, Any] = field(repr=False, default_factory=dict)
    harmful_turns: int = 0
    """Agent turns the simulated user flagged as harmful (``info["user"]["harm"]``)."""


def play_episode(env: gym.Env, agent: Agent, seed: int) -> EpisodeResult:
    """Reset ``env`` and ``agent`` with ``seed`` and play until the episode ends."""
    obs, info = env.reset(seed=seed)
    agent.reset(seed=seed)
    total, done, harmful = 0.0, False, 0
    while not done:
        obs, reward, terminated, truncated, info = env.step(agent.act(obs, info))
        total += float(reward)
        harmful += bool(info.get("user", {}).get("harm"))
        done = terminated or truncated
    return EpisodeResult(
        seed=seed,
        reward=total,
        turns=int(info["turn"]),
        end_reason=str(info.get("end_reason", "")),
        messages=info["messages"],
        final_info=info,
        harmful_turns=harmful,
    )


def play_episodes(
    env: gym.Env, agent: Agent, seeds: Iterable[int], progress: bool = False, desc: str = ""
) -> list[EpisodeResult]:
    """Play one episode per seed (with an optional tqdm progress bar)."""
    seeds = list(seeds)
    if progress:
        from .progress import progress_bar

        seeds = progress_bar(seeds, desc=desc or agent.name, leave=False)
    return [play_episode(env, agent, s) for s in seeds]
