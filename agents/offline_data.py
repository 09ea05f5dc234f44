"""Offline datasets of strategy-level transitions, as torch tensors, with batch sampling.

Every transition says where its reward came from (``reward_sources``): ``"real"`` (an outcome
recorded in an environment or a corpus), ``"imagined:<model>"`` (a hindsight reward model's
estimate) or ``"true-env (oracle ablation)"`` (the evaluation env scored a regeneration). Learners
can down-weight imagined rewards (:meth:`OfflineData.weights`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..domains import env_domain
from ..episode import Episode, usable_episodes
from ..errors import InvalidInput
from ..simulators.classifier import get_classifier
from ..wrappers import HistoryFeaturizer

DEFAULT_MAX_TURNS = 10
"""The turn limit assumed for episodes that do not record one (loaded corpora)."""


def max_turns_of(e: Episode) -> int:
    """The turn limit the episode was played under (what ``info["max_turns"]`` said)."""
    return int(e.env_kwargs.get("max_turns", DEFAULT_MAX_TURNS))


def strategy_transitions(
    episodes: Sequence[Episode], n_hash: int = 256, last_k: int = 2
) -> dict[str, np.ndarray]:
    """Strategy-level transitions of the usable episodes (one domain at a time).

    Features are computed with the episode's own turn limit (:func:`max_turns_of`), as the env
    gives it to an agent at play time, never with the episode's length (which would leak how
    long it went on). The action is the classifier's first label of the text that was said —
    the same reading the env makes of any utterance — for recorded and rewritten turns alike.
    """
    usable = usable_episodes(episodes)
    domains = {env_domain(e.env_id) for e in usable}
    if len(domains) > 1:
        raise InvalidInput(f"episodes mix domains {sorted(domains)}; export one domain at a time")
    if not usable:
        raise InvalidInput("no usable episodes (status ok, with a reward) to export")
    domain = domains.pop()
    feat = HistoryFeaturizer(domain, n_hash, last_k)
    clf = get_classifier(domain)
    obs, acts, rews, nxt, terms, ep_index, sources = [], [], [], [], [], [], []
    for k, e in enumerate(usable):
        msgs = e.messages
        idx = e.agent_turns
        horizon = max_turns_of(e)
        for j, i in enumerate(idx):
            last = j == len(idx) - 1
            obs.append(feat(msgs[:i], j, horizon))
            nxt.append(feat(msgs[: i + 2], j + 1, horizon))
            acts.append(feat.domain.index(clf.classify(e.turns[i].text)[0]))
            rews.append(float(e.reward) if last else 0.0)
            terms.append(last)
            ep_index.append(k)
            sources.append(e.reward_source)
    return {
        "observations": np.asarray(obs, dtype=np.float32),
        "actions": np.asarray(acts, dtype=np.int64),
        "rewards": np.asarray(rews, dtype=np.float32),
        "next_observations": np.asarray(nxt, dtype=np.float32),
        "terminals": np.asarray(terms, dtype=bool),
        "episode_index": np.asarray(ep_index, dtype=np.int64),
        "reward_sources": np.asarray(sources, dtype=str),
    }


@dataclass
class OfflineData:
    """Transitions (``observations``, ``actions``, ``rewards``, ``next_observations``,
    ``terminals``), the episode each came from, and where its episode's reward came from."""

    observations: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_observations: np.ndarray
    terminals: np.ndarray
    episode_index: np.ndarray
    reward_sources: np.ndarray

    @classmethod
    def from_episodes(
        cls, episodes: Sequence[Episode], n_hash: int = 256, last_k: int = 2
    ) -> OfflineData:
        """Featurize the usable episodes (see :func:`strategy_transitions`)."""
        return cls(**strategy_transitions(episodes, n_hash, last_k))

    def __len__(self) -> int:
        return len(self.actions)

    def _episode_returns(self) -> tuple[np.ndarray, np.ndarray]:
        """The distinct episode indices and each one's return."""
        ids, inverse = np.unique(self.episode_index, return_inverse=True)
        totals = np.zeros(len(ids))
        np.add.at(totals, inverse, self.rewards)
        return ids, totals

    @property
    def returns(self) -> np.ndarray:
        """Each transition's episode return."""
        ids, totals = self._episode_returns()
        return totals[np.searchsorted(ids, self.episode_index)]

    @property
    def n_episodes(self) -> int:
        """How many episodes the transitions come from."""
        return len(np.unique(self.episode_index))

    def subset(self, keep: np.ndarray) -> OfflineData:
        """The transitions where the boolean mask ``keep`` is true."""
        return OfflineData(*(getattr(self, f)[keep] for f in self.__dataclass_fields__))

    def top_share(self, share: float, seed: int = 0) -> OfflineData:
        """The transitions of exactly ``round(share * episodes)`` episodes (at least one) with
        the highest returns; ties at the threshold are broken at random with ``seed`` (returns
        are discrete: a quantile threshold would keep every tied episode)."""
        if not 0 < share <= 1:
            raise InvalidInput(f"share must be in (0, 1], got {share}")
        ids, totals = self._episode_returns()
        n_keep = max(1, int(round(share * len(ids))))
        tie_break = np.random.default_rng(seed).random(len(ids))
        order = np.lexsort((tie_break, -totals))  # by return, descending; ties at random
        return self.subset(np.isin(self.episode_index, ids[order[:n_keep]]))

    def weights(self, imagined_weight: float = 1.0) -> np.ndarray:
        """Per-transition loss weights: ``imagined_weight`` where the reward was imagined by a
        model, 1 elsewhere (real outcomes and the true-env ablation)."""
        if not 0 <= imagined_weight <= 1:
            raise InvalidInput(f"imagined_weight must be in [0, 1], got {imagined_weight}")
        imagined = np.char.startswith(self.reward_sources.astype(str), "imagined:")
        return np.where(imagined, imagined_weight, 1.0).astype(np.float32)

    def source_counts(self) -> dict[str, int]:
        """Transitions per reward source."""
        names, counts = np.unique(self.reward_sources.astype(str), return_counts=True)
        return {str(n): int(c) for n, c in zip(names, counts, strict=True)}

    def tensors(self, imagined_weight: float = 1.0) -> dict[str, Any]:
        """The arrays as torch tensors, with the per-transition loss weights as ``"w"``."""
        import torch

        return {
            "obs": torch.from_numpy(self.observations),
            "act": torch.from_numpy(self.actions),
            "rew": torch.from_numpy(self.rewards),
            "next_obs": torch.from_numpy(self.next_observations),
            "done": torch.from_numpy(self.terminals.astype(np.float32)),
            "w": torch.from_numpy(self.weights(imagined_weight)),
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
