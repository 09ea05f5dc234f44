"""Wrappers that give standard RL libraries (stable-baselines3) fixed-size spaces.

- :class:`StrategyActions`: ``Discrete(n)`` actions, one per strategy of the domain, worded by
  the realizer into an utterance.
- :class:`HistoryFeatures`: a ``Box`` observation computed from the conversation by
  :class:`HistoryFeaturizer`.
- :class:`FinalOutcomeIsTerminal`: the turn limit ends an episode as *terminated*: the outcome
  paid on the last turn is final, so an RL library must not bootstrap a value beyond it.
- :func:`make_vector_env`: all three, around ``gym.make(env_id)``.
"""

from __future__ import annotations

import re
import zlib
from functools import lru_cache
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from .errors import InvalidInput
from .simulators import cues
from .simulators.classifier import get_classifier
from .simulators.realizer import say
from .simulators.strategies import get_domain

_WORD = re.compile(r"[a-z']+")
PERSUASION_CUES = list(cues.CONCERN_PATTERNS) + list(cues.PERSUASION_TYPE_PATTERNS)
COUNSELING_CUES = list(cues.COUNSELING_NEED_PATTERNS) + ["risk"]


@lru_cache(maxsize=65536)
def _cues_of(domain: str, text: str) -> frozenset[str]:
    """What ``text`` reveals (cached: replies repeat across turns and episodes)."""
    if domain == "persuasion":
        return frozenset(cues.concerns_in(text)) | frozenset(cues.persuasion_types_in(text))
    found = set(cues.counseling_needs_in(text))
    if cues.mentions_risk(text):
        found.add("risk")
    return frozenset(found)


class HistoryFeaturizer:
    """Conversation -> fixed-size float32 vector.

    Blocks, in order: hashed bag of words (CRC32 buckets, L2-normalized) of the last ``last_k``
    user messages; the turn index over ``max_turns``; counts of each strategy in the agent's past
    turns (by the strategy classifier) over ``max_turns``; the strategies of the agent's last turn
    (0/1); what the user has revealed (the cue lexicons of :mod:`~dialogue_gym.simulators.cues`:
    ever, and in the last message).
    """

    def __init__(self, domain: str, n_hash: int = 256, last_k: int = 2) -> None:
        if n_hash < 8:
            raise InvalidInput(f"n_hash must be >= 8, got {n_hash}")
        if last_k < 1:
            raise InvalidInput(f"last_k must be >= 1, got {last_k}")
        self.domain = get_domain(domain)
        self.classifier = get_classifier(domain)
        self.n_hash, self.last_k = n_hash, last_k
        self.cue_names = PERSUASION_CUES if domain == "persuasion" else COUNSELING_CUES
        n = len(self.domain.strategies)
        self.size = n_hash + 1 + 2 * n + 2 * len(self.cue_names)

    def _cues(self, text: str) -> frozenset[str]:
        return _cues_of(self.domain.name, text)

    def __call__(self, messages: list[dict[str, str]], turn: int, max_turns: int) -> np.ndarray:
        """The feature vector of a conversation at ``turn`` of ``max_turns``."""
        x = np.zeros(self.size, dtype=np.float32)
        user = [m["content"] for m in messages if m["role"] == "user"]
        agent = [m["content"] for m in messages if m["role"] == "assistant"]
        for text in user[-self.last_k :]:
            for w in _WORD.findall(text.lower()):
                x[zlib.crc32(w.encode()) % self.n_hash] += 1.0
        norm = float(np.linalg.norm(x[: self.n_hash]))
        if norm > 0:
            x[: self.n_hash] /= norm
        o = self.n_hash
        x[o] = turn / max(max_turns, 1)
        o += 1
        n = len(self.domain.strategies)
        for i, text in enumerate(agent):
            for label in self.classifier.classify(text):
                j = self.domain.index(label)
                x[o + j] += 1.0 / max(max_turns, 1)
                if i == len(agent) - 1:
                    x[o + n + j] = 1.0
        o += 2 * n
        seen = set().union(*(self._cues(t) for t in user)) if user else set()
        last = self._cues(user[-1]) if user else set()
        for j, name in enumerate(self.cue_names):
            x[o + j] = float(name in seen)
            x[o + len(self.cue_names) + j] = float(name in last)
        return x


class StrategyActions(gym.Wrapper):
    """``Discrete(n)`` actions: action ``i`` says the domain's ``i``-th strategy, worded."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.domain = get_domain(env.unwrapped.domain.name)
        self.action_space = spaces.Discrete(len(self.domain.strategies))
        self._rng = np.random.default_rng(0)
        self._info: dict[str, Any] = {}

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        """Reset the env; the wording stream is seeded from the env's generator."""
        obs, info = self.env.reset(**kwargs)
        self._rng = np.random.default_rng(self.env.unwrapped.np_random.integers(2**63))
        self._info = info
        return obs, info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Word strategy ``action`` and say it."""
        a = int(action)
        if not 0 <= a < self.action_space.n:
            raise InvalidInput(f"action must be in [0, {self.action_space.n - 1}], got {action!r}")
        text = say(self.domain.name, self.domain.strategies[a], self._rng, self._info)
        obs, reward, terminated, truncated, info = self.env.step(text)
        info["utterance"] = text
        self._info = info
        return obs, reward, terminated, truncated, info


class HistoryFeatures(gym.Wrapper):
    """``Box`` observations: :class:`HistoryFeaturizer` of ``info["messages"]``."""

    def __init__(self, env: gym.Env, n_hash: int = 256, last_k: int = 2) -> None:
        super().__init__(env)
        self.featurizer = HistoryFeaturizer(env.unwrapped.domain.name, n_hash, last_k)
        self.observation_space = spaces.Box(
            low=0.0, high=np.inf, shape=(self.featurizer.size,), dtype=np.float32
        )

    def _features(self, info: dict[str, Any]) -> np.ndarray:
        return self.featurizer(info["messages"], info["turn"], info["max_turns"])

    def reset(self, **kwargs: Any) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset and featurize."""
        _, info = self.env.reset(**kwargs)
        return self._features(info), info

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Step and featurize."""
        _, reward, terminated, truncated, info = self.env.step(action)
        return self._features(info), reward, terminated, truncated, info


class FinalOutcomeIsTerminal(gym.Wrapper):
    """Report the step that reaches ``max_turns`` as ``terminated`` (and not ``truncated``).

    The dialogue envs truncate at the turn limit, but they pay the user's final outcome on that
    step: nothing follows it. Libraries that treat truncation as a time limit (stable-baselines3
    adds ``gamma * V(terminal observation)`` to the last reward of a truncated episode) would
    credit that outcome plus an extrapolated value. ``info["max_turns_reached"]`` keeps the
    distinction.
    """

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Step; a truncation becomes a termination."""
        obs, reward, terminated, truncated, info = self.env.step(action)
        if truncated and not terminated:
            info["max_turns_reached"] = True
            return obs, reward, True, False, info
        return obs, reward, terminated, truncated, info


def make_vector_env(env_id: str, n_hash: int = 256, last_k: int = 2, **kwargs: Any) -> gym.Env:
    """``gym.make(env_id, **kwargs)`` with strategy actions, feature observations, and the turn
    limit reported as termination (:class:`FinalOutcomeIsTerminal`)."""
    env = FinalOutcomeIsTerminal(gym.make(env_id, **kwargs))
    return HistoryFeatures(StrategyActions(env), n_hash, last_k)
