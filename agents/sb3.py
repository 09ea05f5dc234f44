"""An agent around a trained stable-baselines3 policy over strategy actions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..simulators.realizer import say
from ..simulators.strategies import get_domain
from .base import Agent


class SB3Agent(Agent):
    """Acts with an SB3 model trained on :func:`dialogue_gym.wrappers.make_vector_env`.

    The conversation in ``info`` is featurized exactly as the wrapper did in training, the
    model picks a strategy, and the realizer words it.
    """

    name = "sb3"

    def __init__(
        self,
        model: Any,
        domain: str,
        n_hash: int = 256,
        last_k: int = 2,
        deterministic: bool = True,
        seed: int | None = None,
        label: str = "sb3",
    ) -> None:
        from ..wrappers import HistoryFeaturizer

        self.model = model
        self.domain = get_domain(domain)
        self.featurizer = HistoryFeaturizer(domain, n_hash, last_k)
        self.deterministic = deterministic
        self.seed = seed
        self.name = label
        self.rng = np.random.default_rng(seed)

    @classmethod
    def load(cls, path: str | Path, domain: str, algo: str = "PPO", **kwargs: Any) -> SB3Agent:
        """Load a saved SB3 model (``algo`` names its class in stable_baselines3)."""
        import stable_baselines3

        model = getattr(stable_baselines3, algo).load(str(path), device="cpu")
        return cls(model, domain, **kwargs)

    def reset(self, seed: int | None = None) -> None:
        """Reseed the wording."""
        self.rng = np.random.default_rng(self.seed if seed is None else seed)

    def act(self, observation: str, info: dict[str, Any]) -> str:
        """Featurize, pick a strategy with the policy, word it."""
        x = self.featurizer(info["messages"], info["turn"], info["max_turns"])
        action, _ = self.model.predict(x, deterministic=self.deterministic)
        return say(self.domain.name, self.domain.strategies[int(action)], self.rng, info)

    def config(self) -> dict[str, Any]:
        """Name, domain and the policy's class."""
        return {"name": self.name, "domain": self.domain.name, "model": type(self.model).__name__}
