"""An ensemble of learned reward models whose score is penalized by its disagreement (MOPO-style:
Yu et al. 2020, "MOPO: Model-based Offline Policy Optimization").

A learned reward model (:mod:`.learned_reward`) is trusted least where it knows least: on
imagined dialogues unlike any it was fitted on. The ensemble fits K members (default 5), each the
heads of a :class:`~.learned_reward.LearnedRewardModel` on a bootstrap resample (with
replacement, seeded; Persuasion resamples donors and non-donors separately, so every member has
both) of the training episodes. The dialogues are embedded once; only the heads are refitted.
For a dialogue, ``mean`` is the members' mean prediction and ``spread`` their standard deviation
(ddof=1; for Persuasion, of P(donation > 0) x amount). The score is

    clip(mean - penalty * spread)

a pessimistic reward: a rewrite can only look better than its source where the members agree.

The penalty (lambda) is chosen on the training data by this rule (``oof-84th-percentile``):

1. split the usable training episodes into 5 folds (seeded; stratified by donation > 0 for
   Persuasion);
2. for each fold, fit an ensemble of K members on the other four folds and, for every held-out
   episode, compute its standardized shortfall ``(mean - y) / spread`` (``y`` the recorded
   reward; episodes whose spread is exactly 0 are skipped);
3. lambda is the 84th percentile (numpy's linear interpolation) of these out-of-fold
   shortfalls, floored at 0.

``mean - lambda * spread`` is then a lower bound that held-out recorded dialogues met about 84%
of the time (one standard deviation of a normal; clipping to the task's range keeps the bound,
both sides of it being in range). The coverage actually reached (the share of out-of-fold
shortfalls <= lambda: above 0.84 where the floor binds), the number of shortfalls it rests on,
lambda, K and the rule's name are kept in :meth:`EnsembleRewardModel.config`. ``penalty=`` may
be given instead (a float >= 0; 0 scores the plain ensemble mean; rule ``given``).

Saved as a folder (``reward_ensemble.json`` + ``members.npz``, no pickle).
``dialogue-gym hindsight --reward learned-ensemble`` fits one; ``learned-ensemble:DIR`` loads one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Real
from pathlib import Path
from typing import Any

import numpy as np

from ..domains import env_domain
from ..episode import Episode, Turn
from ..errors import InvalidInput
from .base import RewardModel, clip_reward
from .features import CachedEncoder, dialogue_features
from .learned_reward import (
    MIN_EPISODES,
    LearnedRewardModel,
    TrainingRows,
    accuracy,
    check_episode_env,
    evaluable,
    heads_from_arrays,
    read_model_meta,
    training_meta,
    training_rows,
    usable_episodes,
    write_model_folder,
)

FORMAT = "dialogue-gym learned reward ensemble v1"
MEMBERS = 5
FOLDS = 5
COVERAGE = 0.84
PENALTY_RULE = "oof-84th-percentile"
MIN_RULE_EPISODES = math.ceil(MIN_EPISODES * FOLDS / (FOLDS - 1))
"""With the penalty rule, each fold's ensemble is fitted on 4/5 of the episodes: at least
``MIN_EPISODES`` of them."""


def check_members(members: Any) -> int:
    """``members`` (K) as an int, or ``InvalidInput`` unless it is an integer >= 2."""
    if isinstance(members, bool) or not isinstance(members, int | np.integer) or members < 2:
        raise InvalidInput(
            f"members (K, the ensemble size) must be an integer >= 2 (a spread needs two); "
            f"got {members!r}"
        )
    return int(members)


def check_penalty(penalty: Any) -> float:
    """``penalty`` (lambda) as a float, or ``InvalidInput`` unless it is finite and >= 0."""
    ok = isinstance(penalty, Real) and not isinstance(penalty, bool)
    if not ok or not math.isfinite(float(penalty)) or float(penalty) < 0:
        raise InvalidInput(
            f"penalty (lambda) must be a finite number >= 0 (0: the plain ensemble mean), or "
            f"None to choose it by the {PENALTY_RULE} rule; got {penalty!r}"
        )
    return float(penalty)


def strata(domain: str, y: np.ndarray) -> np.ndarray:
    """The groups resampled separately: donors and non-donors (Persuasion); one (Counseling)."""
    return (y > 0).astype(int) if domain == "persuasion" else np.zeros(len(y), dtype=int)


def bootstrap_index(groups: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A bootstrap resample (with replacement) of the rows, each group keeping its size."""
    return np.concatenate(
        [
            rng.choice(np.flatnonzero(groups == g), size=int((groups == g).sum()))
            for g in np.unique(groups)
        ]
    )


def fold_index(groups: np.ndarray, folds: int, rng: np.random.Generator) -> np.ndarray:
    """Each row's fold in ``0..folds-1``: shuffled within each group, then dealt in turn."""
    order = np.concatenate(
        [rng.permutation(np.flatnonzero(groups == g)) for g in np.unique(groups)]
    )
    fold = np.empty(len(groups), dtype=int)
    fold[order] = np.arange(len(groups)) % folds
    return fold


def fit_members(
    env_id: str, encoder: str, rows: TrainingRows, members: int, seed: int, stage: int = 0
) -> list[LearnedRewardModel]:
    """``members`` models, each fitted on a bootstrap resample of ``rows`` (the resample of
    member k is seeded by ``(seed, stage, k)``)."""
    groups = strata(env_domain(env_id), rows.y)
    out = []
    for k in range(members):
        index = bootstrap_index(groups, np.random.default_rng([seed, stage, k]))
        out.append(LearnedRewardModel.from_rows(env_id, encoder, rows.take(index), seed))
    return out


def member_predictions(members: Sequence[LearnedRewardModel], x: np.ndarray) -> np.ndarray:
    """The members' predictions (not clipped) from dialogue features: shape (K,) or (K, n)."""
    return np.stack([np.asarray(m.predict_features(x), dtype=float) for m in members])


def out_of_fold(
    env_id: str, encoder: str, rows: TrainingRows, members: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Every training episode's ensemble mean and spread from an ensemble of ``members`` fitted
    on the other folds (``FOLDS`` folds, split by a generator seeded ``(seed, FOLDS + 1)``)."""
    groups = strata(env_domain(env_id), rows.y)
    fold = fold_index(groups, FOLDS, np.random.default_rng([seed, FOLDS + 1]))
    mean, spread = np.empty(len(rows.y)), np.empty(len(rows.y))
    for f in range(FOLDS):
        held = fold == f
        train = TrainingRows(rows.x[~held], rows.y[~held])  # no intensity head: not scored
        fitted = fit_members(env_id, encoder, train, members, seed, stage=f + 1)
        preds = member_predictions(fitted, rows.x[held])
        mean[held], spread[held] = preds.mean(axis=0), preds.std(axis=0, ddof=1)
    return mean, spread


def penalty_rule(mean: np.ndarray, spread: np.ndarray, y: np.ndarray) -> tuple[float, float, int]:
    """Lambda by the ``oof-84th-percentile`` rule (module docstring) from out-of-fold means and
    spreads and recorded rewards ``y``: ``(lambda, coverage reached, shortfalls used)``."""
    keep = spread > 0
    if not keep.any():
        raise InvalidInput(
            "the ensemble's members never disagree out of fold (every spread is 0): the penalty "
            "cannot be chosen from the data; give penalty= explicitly"
        )
    shortfall = (mean[keep] - y[keep]) / spread[keep]
    lam = max(0.0, float(np.percentile(shortfall, 100 * COVERAGE)))
    return lam, float(np.mean(shortfall <= lam)), int(keep.sum())


class EnsembleRewardModel(RewardModel):
    """K learned reward models on bootstrap resamples, scored ``clip(mean - penalty * spread)``."""

    name = "learned-ensemble"

    def __init__(
        self,
        members: Sequence[LearnedRewardModel],
        penalty: float,
        meta: dict[str, Any] | None = None,
    ) -> None:
        check_members(len(members))
        self.members = list(members)
        first = self.members[0]
        if any((m.env_id, m.encoder_spec) != (first.env_id, first.encoder_spec) for m in members):
            raise InvalidInput("an ensemble's members must share one env and one encoder")
        self.penalty = check_penalty(penalty)
        self.env_id, self.domain = first.env_id, first.domain
        self.encoder_spec = first.encoder_spec
        self.encoder = CachedEncoder(first.encoder_spec)
        self.meta = meta or {}

    @classmethod
    def fit(
        cls,
        episodes: Sequence[Episode],
        encoder: str = "minilm",
        members: int = MEMBERS,
        penalty: float | None = None,
        seed: int = 0,
    ) -> EnsembleRewardModel:
        """Fit ``members`` (K) bootstrap members on the episodes' text and recorded rewards (one
        env; imagined rewards are not used); ``penalty`` None chooses lambda by the
        ``oof-84th-percentile`` rule, a number >= 0 fixes it."""
        k = check_members(members)
        lam = None if penalty is None else check_penalty(penalty)
        what, minimum = "a learned reward ensemble", MIN_EPISODES
        if lam is None:
            what += f" whose penalty is chosen on {FOLDS} folds"
            minimum = MIN_RULE_EPISODES
        env, usable = usable_episodes(episodes, what, minimum)
        rows = training_rows(CachedEncoder(encoder), usable, env_domain(env))
        meta: dict[str, Any] = {**training_meta(env_domain(env), rows), "members": k, "seed": seed}
        if lam is None:
            mean, spread = out_of_fold(env, encoder, rows, k, seed)
            lam, coverage, used = penalty_rule(mean, spread, rows.y)
            meta.update(penalty_rule=PENALTY_RULE, folds=FOLDS, oof_coverage=coverage, oof_n=used)
        else:
            meta.update(penalty_rule="given", folds=None, oof_coverage=None, oof_n=None)
        meta["penalty"] = lam
        return cls(fit_members(env, encoder, rows, k, seed), lam, meta)

    # -- scoring -------------------------------------------------------------------------------

    def _predictions(self, turns: Sequence[Turn]) -> np.ndarray:
        return member_predictions(self.members, dialogue_features(self.encoder, turns))

    def predict(self, turns: Sequence[Turn]) -> float:
        """The members' mean predicted outcome of ``turns`` (not clipped, not penalized)."""
        return float(self._predictions(turns).mean())

    def spread(self, turns: Sequence[Turn]) -> float:
        """The members' disagreement on ``turns``: the standard deviation (ddof=1) of their
        predictions (Persuasion: of P(donation > 0) x amount)."""
        return float(self._predictions(turns).std(ddof=1))

    def penalized(self, turns: Sequence[Turn]) -> float:
        """``clip(mean - penalty * spread)``: the score, without the env check."""
        preds = self._predictions(turns)
        return clip_reward(self.env_id, float(preds.mean() - self.penalty * preds.std(ddof=1)))

    def p_success(self, turns: Sequence[Turn]) -> float:
        """Persuasion: the members' mean probability that the persuadee donates anything."""
        x = dialogue_features(self.encoder, turns)
        return float(np.mean([m.p_success_features(x) for m in self.members]))

    def initial_intensity(self, turns: Sequence[Turn]) -> float | None:
        """Counseling: the mean over the members that have the head of their reading of the
        seeker's initial distress (1-5); None where no member has one."""
        reads = [m.initial_intensity(turns) for m in self.members]
        reads = [r for r in reads if r is not None]
        return float(np.mean(reads)) if reads else None

    def score(self, episode: Episode, turns: list[Turn], seed: int) -> float:
        """``clip(mean - penalty * spread)`` of ``turns`` (``seed`` unused)."""
        check_episode_env(self.env_id, episode)
        return self.penalized(turns)

    def member_scores(self, episode: Episode, turns: list[Turn], seed: int) -> np.ndarray:
        """The members' predictions of ``turns`` (shape (K,): not clipped, not penalized)."""
        check_episode_env(self.env_id, episode)
        return self._predictions(turns)

    def succeeds(self, episode: Episode, turns: list[Turn]) -> bool | None:
        """Persuasion: the members' mean P(donation > 0) is at least 0.5; Counseling: None."""
        return self.p_success(turns) >= 0.5 if self.domain == "persuasion" else None

    def config(self) -> dict[str, Any]:
        """Name, encoder, K, lambda, its rule and coverage, training size (saved in provenance)."""
        return {"name": self.name, "oracle": False, "encoder": self.encoder_spec, **self.meta}

    def evaluate(self, episodes: Sequence[Episode]) -> dict[str, float]:
        """:func:`~.learned_reward.accuracy` of the mean prediction, plus ``mean_spread`` and
        ``penalized_bias`` (the mean of the score minus the recorded reward)."""
        out = accuracy(self, episodes)
        usable = evaluable(episodes)
        y = np.array([float(e.reward) for e in usable])
        out["mean_spread"] = float(np.mean([self.spread(e.turns) for e in usable]))
        penalized = np.array([self.penalized(e.turns) for e in usable])
        out["penalized_bias"] = float(np.mean(penalized - y))
        return out

    # -- saving --------------------------------------------------------------------------------

    def save(self, path: str | Path) -> Path:
        """Write the ensemble to the folder ``path`` (atomically)."""
        arrays: dict[str, np.ndarray] = {}
        for i, m in enumerate(self.members):
            arrays.update(m.head_arrays(f"m{i}."))
        meta = {
            "format": FORMAT,
            "env_id": self.env_id,
            "encoder": self.encoder_spec,
            "penalty": self.penalty,
            "members": [{"heads": sorted(m.heads), "meta": m.meta} for m in self.members],
            "meta": self.meta,
        }
        return write_model_folder(path, "reward_ensemble.json", meta, "members.npz", arrays)

    @classmethod
    def load(cls, path: str | Path) -> EnsembleRewardModel:
        """Load a folder written by :meth:`save` (a clear error if it is not one)."""
        path = Path(path)
        hint = ""
        if (path / "reward_model.json").is_file():
            hint = "; it holds a single learned reward model: load it with learned:DIR"
        what = "a learned reward ensemble"
        meta = read_model_meta(path, "reward_ensemble.json", FORMAT, what, hint)
        env, encoder = meta["env_id"], meta["encoder"]
        with np.load(path / "members.npz") as arrays:
            members = [
                LearnedRewardModel(
                    env, encoder, heads_from_arrays(arrays, m["heads"], f"m{i}."), m["meta"]
                )
                for i, m in enumerate(meta["members"])
            ]
        return cls(members, meta["penalty"], meta.get("meta"))
