"""``HindsightRelabel``: a Gymnasium wrapper that records the episodes an agent plays and, on
``relabel()``, returns improved (hindsight-regenerated) trajectories."""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from ..episode import Episode, Turn
from .base import ForwardModel, HindsightController, RewardModel
from .critic import CriticController
from .features import CachedEncoder
from .learned_reward import LearnedRewardModel
from .regenerate import regenerate
from .retrieval import RetrievalForwardModel


class HindsightRelabel(gym.Wrapper):
    """Records every finished episode (text env); ``relabel()`` regenerates them.

    By default ``relabel()`` fits the learned components (critic controller, retrieval forward
    model, learned reward model; ``encoder`` embeds the text) on the recorded episodes
    themselves, which needs at least 20 of them; pass any components to use others (e.g. the
    privileged ablations of :mod:`.embedded`).
    """

    def __init__(
        self,
        env: gym.Env,
        controller: HindsightController | None = None,
        forward_model: ForwardModel | None = None,
        reward_model: RewardModel | None = None,
        encoder: str = "minilm",
    ) -> None:
        super().__init__(env)
        self.controller = controller
        self.forward_model = forward_model
        self.reward_model = reward_model
        self.encoder = encoder
        self.episodes: list[Episode] = []
        self._seed: int | None = None
        self._turns: list[Turn] = []

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Reset and start recording."""
        obs, info = self.env.reset(seed=seed, options=options)
        self._seed = seed
        self._turns = [Turn("user", m["content"]) for m in info["messages"]]
        return obs, info

    def step(self, action: str):
        """Step; on the episode's end, store it."""
        obs, reward, terminated, truncated, info = self.env.step(action)
        msgs = info["messages"]
        self._turns += [
            Turn("assistant", msgs[-2]["content"], list(info.get("strategies", []))),
            Turn("user", msgs[-1]["content"]),
        ]
        if terminated or truncated:
            spec_id = self.env.spec.id if self.env.spec else type(self.env.unwrapped).__name__
            failed = info.get("status") == "failed"
            self.episodes.append(
                Episode(
                    id=f"recorded-{len(self.episodes)}",
                    env_id=spec_id,
                    env_kwargs={"max_turns": info["max_turns"]},
                    seed=self._seed,
                    turns=list(self._turns),
                    reward=None if failed else float(reward),
                    outcome={
                        k: info[k]
                        for k in ("donation", "initial_intensity", "final_intensity")
                        if k in info
                    },
                    status="failed" if failed else "ok",
                )
            )
        return obs, reward, terminated, truncated, info

    def relabel(self, select: str = "unsuccessful", per_episode: int = 1, rounds: int = 1):
        """Regenerations of the recorded episodes (the recordings stay as they are)."""
        data = [e for e in self.episodes if e.status == "ok"]
        enc = CachedEncoder(self.encoder)
        controller = self.controller or CriticController(data, enc)
        forward = self.forward_model or RetrievalForwardModel(data, enc)
        reward = self.reward_model or LearnedRewardModel.fit(data, encoder=self.encoder)
        return regenerate(self.episodes, controller, forward, reward, select, per_episode, rounds)
