"""ABLATION ONLY: the true environment as forward model and reward model ("oracle forward model").

Continuing a dialogue in the evaluation environment itself (same seed as the source episode, so
the same hidden persona) turns offline RL into online data collection; the design allows it only
as a clearly labelled ablation. Both classes set ``oracle = True``, which provenance records,
and count the true-env episodes they play (``env_episodes``): a regeneration with both plays the
env twice (the continuation, then the scoring replay), and the benchmark charges both.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from ..agents.scripted import HUMAN_LIKE_NOISE, ScriptedAgent
from ..domains import env_domain, env_key
from ..episode import Episode, Turn
from ..errors import InvalidInput
from .base import Continuation, ForwardModel, RewardModel, clip_reward


def _env(episode: Episode) -> gym.Env:
    if episode.seed is None:
        raise InvalidInput(f"episode {episode.id} has no seed: the true env cannot replay it")
    kwargs = {k: v for k, v in episode.env_kwargs.items() if k in ("max_turns",)}
    return gym.make(env_key(episode.env_id), **kwargs)


class _CountsEpisodes:
    """Counts the true-env episodes an ablation component played."""

    env_episodes = 0

    def _played(self) -> None:
        self.env_episodes += 1


def replay_in_true_env(episode: Episode, turns: list[Turn]) -> tuple[float, bool]:
    """Replay the agent turns of ``turns`` in the true env (``episode.seed``); returns the true
    outcome and whether the user ended the dialogue before all turns were said."""
    env = _env(episode)
    env.reset(seed=episode.seed)
    agent_texts = [t.text for t in turns if t.role == "assistant"]
    reward, done = 0.0, False
    for n, text in enumerate(agent_texts):
        _, reward, term, trunc, _ = env.step(text)
        done = term or trunc
        if done:
            return float(reward), n < len(agent_texts) - 1
    return float(env.unwrapped.user.outcome()), False


class TrueEnvForwardModel(_CountsEpisodes, ForwardModel):
    """ABLATION: continue in the true env (source seed) with the behaviour policy."""

    name = "true-env (oracle ablation)"
    oracle = True

    def __init__(self, policy_noise: float = HUMAN_LIKE_NOISE) -> None:
        self.policy_noise = policy_noise

    def continue_dialogue(self, episode: Episode, prefix: list[Turn], seed: int) -> Continuation:
        """Replay the prefix's agent turns in the true env, then let the policy finish."""
        self._played()
        env = _env(episode)
        obs, info = env.reset(seed=episode.seed)
        agent_texts = [t.text for t in prefix if t.role == "assistant"]
        done = False
        for text in agent_texts:
            obs, reward, term, trunc, info = env.step(text)
            done = term or trunc
            if done:
                break
        new = [Turn("user", info["messages"][-1]["content"])]
        policy = ScriptedAgent(env_domain(episode.env_id), noise=self.policy_noise)
        policy.reset(seed=int(np.random.default_rng(seed).integers(2**31)), turn=len(agent_texts))
        while not done:
            text = policy.act(obs, info)
            obs, reward, term, trunc, info = env.step(text)
            new += [
                Turn("assistant", text, list(info["strategies"])),
                Turn("user", info["messages"][-1]["content"]),
            ]
            done = term or trunc
        return Continuation(new, {"true_outcome": float(reward)})


class TrueEnvRewardModel(_CountsEpisodes, RewardModel):
    """ABLATION: the true env's outcome of the dialogue's agent turns (source seed)."""

    name = "true-env (oracle ablation)"
    oracle = True

    def score(self, episode: Episode, turns: list[Turn], seed: int) -> float:
        """The true outcome, clipped."""
        self._played()
        return clip_reward(episode.env_id, replay_in_true_env(episode, turns)[0])
