"""Imagination that knows what it does not know: an ensemble of forward models beside the
ensemble of reward models, an imagined dialogue penalized by the disagreement of both (MOPO,
Yu et al. 2020, penalizes model rollouts by the disagreement of an ensemble of *dynamics* models).

:class:`EnsembleForwardModel` indexes K bootstrap resamples of the recorded episodes (with
replacement, seeded), one :class:`~.retrieval.RetrievalForwardModel` each. A member continues a
dialogue only with replies its own resample holds, so the members agree where the data are dense
and part where a context rests on a few dialogues. As a plain forward model it continues with
one member drawn by the seed (a draw from the bootstrap mixture).

:class:`PenalizedImagination` values a completed prefix (the source's turns up to and with the
rewritten agent turn) by the F x J matrix of every forward member's continuation scored by every
reward member (:class:`~.reward_ensemble.EnsembleRewardModel`, unpenalized predictions):

    value = clip(mean - penalty * sd)        (sd over the F x J entries, ddof=1)

A recorded dialogue needs no forward model: its value is the reward members' mean less the same
penalty times their spread, so a rewrite looks better than its source only where both ensembles
agree that it is. Both ensembles are fitted on every episode, the source included (as every
learned component of the pipeline is), while lambda is chosen out of fold: a source is scored
in-sample, with less spread than an unseen dialogue would have.

The penalty (lambda) is chosen on the training data by the rule ``oof-imagination-84th-percentile``,
the reward ensemble's rule applied to the whole imagination:

1. split the usable training episodes into 5 folds (seeded; stratified by donation > 0 for
   Persuasion);
2. for each fold, fit both ensembles on the other four folds; cut every held-out episode after
   one of its agent turns (drawn with a seed; never the last turn of the episode), continue that
   recorded prefix with each forward member and score each continuation with each reward member,
   and compute the standardized shortfall ``(mean - y) / sd`` against the recorded reward ``y``
   (cuts whose sd is exactly 0 are skipped; at most ``MAX_CUTS`` episodes, a seeded sample, are
   cut);
3. lambda is the 84th percentile of these out-of-fold shortfalls, floored at 0.

So ``mean - lambda * sd`` is a lower bound that held-out recorded dialogues, imagined from a
recorded point on, met about 84% of the time. Lambda, its rule, the coverage reached and the
number of cuts are in :meth:`PenalizedImagination.config`.

The disagreement does not grow for a rewritten turn unlike any in the data (retrieval continues
with recorded replies whatever the turn; a reward head dilutes one turn among many), so a rewrite
is also checked against the data's support (:class:`~.support.SupportCheck`): one outside it is
worth no more than its source, ``min(value, source value)``: it teaches no improvement.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..domains import env_domain, env_key
from ..episode import Episode, Turn
from ..errors import InvalidInput
from .base import Continuation, ForwardModel, clip_reward
from .features import CachedEncoder, as_encoder
from .learned_reward import MIN_EPISODES, training_rows, usable_episodes
from .regenerate import regeneration_seed
from .retrieval import RetrievalForwardModel
from .reward_ensemble import (
    FOLDS,
    MEMBERS,
    MIN_RULE_EPISODES,
    EnsembleRewardModel,
    check_members,
    check_penalty,
    fit_members,
    fold_index,
    penalty_rule,
    strata,
)
from .support import SupportCheck

PENALTY_RULE = "oof-imagination-84th-percentile"
MAX_CUTS = 400
"""At most this many held-out episodes are cut and imagined for the rule (a seeded sample): the
84th percentile of 400 shortfalls is known to about +-2 percentile points, and every cut costs
F continuations and F x J scores."""


MIN_FORWARD_EPISODES = 10
"""Distinct usable episodes a forward ensemble needs: a bootstrap resample of n holds one
episode only with probability n^(1-n), negligible from 10 on."""


class EnsembleForwardModel(ForwardModel):
    """K retrieval forward models, each indexing a bootstrap resample of the episodes."""

    name = "retrieval-ensemble"

    def __init__(
        self,
        episodes: Sequence[Episode],
        encoder: str | CachedEncoder = "minilm",
        members: int = MEMBERS,
        seed: int = 0,
        **retrieval: Any,
    ) -> None:
        k = check_members(members)
        usable = [e for e in episodes if e.status == "ok" and len(e.turns) >= 2]
        if len({e.id for e in usable}) < MIN_FORWARD_EPISODES:
            raise InvalidInput(
                "a forward ensemble resamples recorded episodes; got "
                f"{len({e.id for e in usable})} distinct usable ones (status ok, at least 2 "
                f"turns), need at least {MIN_FORWARD_EPISODES} (a resample of fewer may hold "
                "only the episode it continues)"
            )
        self.encoder = as_encoder(encoder)
        self.seed = seed
        self.members: list[RetrievalForwardModel] = []
        for m in range(k):
            index = np.random.default_rng([seed, m]).choice(len(usable), size=len(usable))
            resample = [usable[i] for i in index]
            self.members.append(RetrievalForwardModel(resample, self.encoder, **retrieval))
        self.env_id = self.members[0].env_id

    def member_continuations(
        self, episode: Episode, prefix: list[Turn], seed: int
    ) -> list[Continuation]:
        """Every member's continuation of ``prefix`` with the same ``seed``."""
        return [m.continue_dialogue(episode, prefix, seed) for m in self.members]

    def continue_dialogue(self, episode: Episode, prefix: list[Turn], seed: int) -> Continuation:
        """The continuation of the member the seed picks (``seed % K``)."""
        m = seed % len(self.members)
        out = self.members[m].continue_dialogue(episode, prefix, seed)
        out.info["member"] = m
        return out

    def config(self) -> dict[str, Any]:
        """Name, K, the seed of the resamples and the members' retrieval settings."""
        first = self.members[0].config()
        return {
            **first,
            "name": self.name,
            "members": len(self.members),
            "seed": self.seed,
            "user_replies": [m.config()["user_replies"] for m in self.members],
            "agent_turns": [m.config()["agent_turns"] for m in self.members],
        }


def imagined_matrix(
    forward: EnsembleForwardModel,
    reward: EnsembleRewardModel,
    episode: Episode,
    prefix: list[Turn],
    seed: int,
) -> np.ndarray:
    """``prefix`` continued by each forward member (rows) and scored by each reward member
    (columns): their unpenalized predictions, shape (F, J)."""
    rows = []
    for c in forward.member_continuations(episode, prefix, seed):
        rows.append(reward.member_scores(episode, list(prefix) + c.turns, seed))
    return np.array(rows, dtype=float)


def _cut(episode: Episode, rng: np.random.Generator) -> int | None:
    """An agent turn of ``episode`` with a turn after it, drawn with ``rng`` (None if none)."""
    turns = [i for i, t in enumerate(episode.turns[:-1]) if t.role == "assistant"]
    return int(rng.choice(turns)) if turns else None


def out_of_fold_imagination(
    episodes: Sequence[Episode],
    encoder: str,
    members: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each cut episode's imagined mean and sd from its recorded cut (step 2 of the module's
    rule; at most ``MAX_CUTS`` usable episodes are cut), with its recorded reward:
    ``(mean, sd, y)`` over the cuts made."""
    env, usable = usable_episodes(episodes, "an imagination ensemble", MIN_RULE_EPISODES)
    rows = training_rows(CachedEncoder(encoder), usable, env_domain(env))
    fold = fold_index(strata(env_domain(env), rows.y), FOLDS, np.random.default_rng([seed, 99]))
    cut_rng = np.random.default_rng([seed, 98])
    cuts = [_cut(e, cut_rng) for e in usable]
    if len(usable) > MAX_CUTS:  # a seeded sample of the episodes is cut: the rest are not
        chosen = set(np.random.default_rng([seed, 97]).choice(len(usable), MAX_CUTS, False))
        cuts = [c if i in chosen else None for i, c in enumerate(cuts)]
    mean, sd, y = [], [], []
    for f in range(FOLDS):
        train = np.flatnonzero(fold != f)
        fwd = EnsembleForwardModel([usable[i] for i in train], encoder, members, seed + f + 1)
        rwd = EnsembleRewardModel(
            fit_members(env, encoder, rows.take(train), members, seed, stage=50 + f), penalty=0.0
        )
        for i in np.flatnonzero(fold == f):
            if cuts[i] is None:
                continue
            e = usable[i]
            grid = imagined_matrix(fwd, rwd, e, e.turns[: cuts[i] + 1], seed + int(i))
            mean.append(grid.mean())
            sd.append(grid.std(ddof=1))
            y.append(float(e.reward))
    return np.array(mean), np.array(sd), np.array(y)


class PenalizedImagination:
    """A forward ensemble and a reward ensemble whose imagined values are penalized by the
    disagreement of both (see module)."""

    name = "penalized-imagination"

    def __init__(
        self,
        forward: EnsembleForwardModel,
        reward: EnsembleRewardModel,
        penalty: float,
        meta: dict[str, Any] | None = None,
        support: SupportCheck | None = None,
    ) -> None:
        if forward.env_id != reward.env_id:
            raise InvalidInput(
                f"the forward ensemble indexes {forward.env_id}, the reward ensemble was "
                f"fitted on {reward.env_id}: they must share one env"
            )
        self.forward, self.reward = forward, reward
        self.penalty = check_penalty(penalty)
        self.env_id = forward.env_id
        self.meta = meta or {}
        self.support = support

    @classmethod
    def fit(
        cls,
        episodes: Sequence[Episode],
        encoder: str = "minilm",
        members: int = MEMBERS,
        penalty: float | None = None,
        seed: int = 0,
    ) -> PenalizedImagination:
        """Both ensembles (``members`` each) and the support check on ``episodes``; ``penalty``
        None chooses lambda by the module's rule, a number >= 0 fixes it."""
        check_members(members)
        what, minimum = "an imagination ensemble", MIN_EPISODES
        if penalty is None:
            what += f" whose penalty is chosen on {FOLDS} folds"
            minimum = MIN_RULE_EPISODES
        env, usable = usable_episodes(episodes, what, minimum)
        meta: dict[str, Any] = {"members": members, "seed": seed}
        if penalty is None:
            mean, sd, y = out_of_fold_imagination(usable, encoder, members, seed)
            lam, coverage, used = penalty_rule(mean, sd, y)  # the same percentile rule
            meta.update(penalty_rule=PENALTY_RULE, folds=FOLDS, oof_coverage=coverage, oof_n=used)
        else:
            lam = check_penalty(penalty)
            meta.update(penalty_rule="given", folds=None, oof_coverage=None, oof_n=None)
        meta["penalty"] = lam
        forward = EnsembleForwardModel(usable, encoder, members, seed)
        reward = EnsembleRewardModel.fit(usable, encoder, members, penalty=0.0, seed=seed)
        return cls(forward, reward, lam, meta, SupportCheck(usable, forward.encoder))

    def value(self, episode: Episode, prefix: list[Turn], seed: int) -> tuple[float, float, float]:
        """``(value, mean, sd)`` of ``prefix`` continued and scored by both ensembles."""
        grid = imagined_matrix(self.forward, self.reward, episode, prefix, seed)
        mean, sd = float(grid.mean()), float(grid.std(ddof=1))
        return clip_reward(self.env_id, mean - self.penalty * sd), mean, sd

    def recorded_value(self, episode: Episode) -> tuple[float, float, float]:
        """``(value, mean, sd)`` of a recorded dialogue: the reward members' mean less the
        penalty x their sd."""
        preds = self.reward.member_scores(episode, episode.turns, 0)
        mean, sd = float(preds.mean()), float(preds.std(ddof=1))
        return clip_reward(self.env_id, mean - self.penalty * sd), mean, sd

    def relabel(self, regenerated: Episode, source: Episode) -> Episode:
        """``regenerated`` (a regeneration of ``source``) with the same turns, its reward the
        penalized imagined value of its rewritten prefix (no more than the source's, where the
        rewritten turn lies outside the data's support) and ``source_model_reward`` the
        source's recorded value (a copy; the means and sds of both are in
        ``outcome["imagination"]``)."""
        if env_key(source.env_id) != self.env_id:
            raise InvalidInput(f"this imagination was fitted on {self.env_id}; got {source.env_id}")
        i = (regenerated.provenance or {}).get("rewritten_turn")
        if not isinstance(i, int) or not 0 <= i < len(regenerated.turns):
            raise InvalidInput(
                f"{regenerated.id} is not a regeneration: its provenance needs the index of "
                f"its rewritten turn (rewritten_turn), got {i!r}"
            )
        prefix = [copy.deepcopy(t) for t in regenerated.turns[: i + 1]]
        value, mean, sd = self.value(source, prefix, regeneration_seed(regenerated.id))
        source_value, source_mean, source_sd = self.recorded_value(source)
        support = None if self.support is None else self.support.similarity([prefix[-1].text])[0]
        inside = bool(support is None or support >= self.support.threshold)
        if not inside:  # outside the data's support: worth no more than its source
            value = min(value, source_value)
        out = copy.deepcopy(regenerated)
        out.reward = value
        out.outcome.pop("imagined_success", None)  # success is read from the value
        out.outcome.update(
            imagined_reward=value,
            source_model_reward=source_value,
            imagination={
                "mean": mean,
                "sd": sd,
                "penalty": self.penalty,
                "source_mean": source_mean,
                "source_sd": source_sd,
                "support": None if support is None else float(support),
                "in_support": inside,
            },
        )
        out.provenance["reward_model"] = self.config()
        out.provenance["reward_source"] = f"imagined:{self.name}"
        return out

    def config(self) -> dict[str, Any]:
        """Both ensembles, lambda, its rule and the coverage it reached (saved in provenance)."""
        return {
            "name": self.name,
            "oracle": False,
            **self.meta,
            "forward_model": self.forward.config(),
            "reward_model": self.reward.config(),
            "support": None if self.support is None else self.support.config(),
        }
