"""Offline datasets of strategy-level transitions, as torch tensors, with batch sampling."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..episode import Episode


@dataclass
class OfflineData:
    """Transitions (``observations``, ``actions``, ``rewards``, ``next_observations``,
    ``terminals``) and the episode each came from."""

    observations: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_observations: np.ndarray
    terminals: np.ndarray
    episode_index: np.ndarray

    @classmethod
    def from_episodes(
        cls, episodes: Sequence[Episode], n_hash: int = 256, last_k: int = 2
    ) -> OfflineData:
        """Featurize the usable episodes (see :func:`dialogue_gym.export.strategy_transitions`)."""
        from ..export import strategy_transitions

        return cls(**strategy_transitions(episodes, n_hash, last_k))

    def __len__(self) -> int:
        return len(self.actions)

    @property
    def returns(self) -> np.ndarray:
        """Each transition's episode return."""
        totals = np.zeros(self.episode_index.max() + 1)
        np.add.at(totals, self.episode_index, self.rewards)
        return totals[self.episode_index]

    def top_share(self, share: float) -> OfflineData:
        """Only the transitions of the episodes whose return is in the top ``share``."""
        if not 0 < share <= 1:
            raise ValueError(f"share must be in (0, 1], got {share}")
        totals = np.zeros(self.episode_index.max() + 1)
        np.add.at(totals, self.episode_index, self.rewards)
        threshold = np.quantile(totals, 1 - share)
        keep = totals[self.episode_index] >= threshold
        return OfflineData(*(getattr(self, f)[keep] for f in self.__dataclass_fields__))

    def tensors(self) -> dict[str, Any]:
        """The arrays as torch tensors."""
        import torch

        return {
            "obs": torch.from_numpy(self.observations),
            "act": torch.from_numpy(self.actions),
            "rew": torch.from_numpy(self.rewards),
            "next_obs": torch.from_numpy(self.next_observations),
            "done": torch.from_numpy(self.terminals.astype(np.float32)),
        }


def concat(*parts: OfflineData) -> OfflineData:
    """Transitions of several datasets (episode indices kept distinct)."""
    out: dict[str, list[np.ndarray]] = {f: [] for f in OfflineData.__dataclass_fields__}
    offset = 0
    for p in parts:
        for f in out:
            value = getattr(p, f)
            out[f].append(value + offset if f == "episode_index" else value)
        offset += int(p.episode_index.max()) + 1 if len(p) else 0
    return OfflineData(**{f: np.concatenate(v) for f, v in out.items()})
