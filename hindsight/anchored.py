"""Anchored relabelling: a rewrite is worth its source's *recorded* outcome plus the difference
the imagination says the rewrite makes.

The plain pipeline scores a rewrite by the reward model's reading of an imagined continuation.
Its sources were chosen because they failed, and the imagined continuation forgets why: the
retrieved replies come from the whole data, so the imagined outcome regresses toward the data's
mean and nearly every rewrite looks like an improvement (the benchmark's imagination gap).
Anchoring keeps what the recorded episode tells about this user (the abduction step of
counterfactual reasoning, as in Buesing et al. 2019, "Woulda, Coulda, Shoulda") and asks the
models only for the *effect* of the change:

    value = clip(recorded outcome + mean(delta) - penalty x se)

where ``delta[d, j] = r_j(F_d(prefix + new turn)) - r_j(F_d(prefix + original turn))``: the same
forward model continues both the rewritten and the original prefix, ``draws`` times each with
paired seeds (``d``), and every member ``j`` of the reward model scores both (one member for a
single model; with a forward ensemble, :mod:`.forward_ensemble`, every pair of a forward and a
reward member, so ``j`` runs over F x J). The value estimates the rewrite's *expected* outcome
for this user, so ``se`` is the standard error of the mean effect, what is not known about that
expectation:

    se = sqrt(sd_j(mean_d delta)^2 + sd_d(mean_j delta)^2 / draws)

the members' disagreement about the effect (the epistemic part, as in MOPO, Yu et al. 2020) and
the Monte Carlo error of averaging ``draws`` continuations. The spread of single continuations
is not in it: an expected value averages it out, and the ensemble's penalty was calibrated on
its members' disagreement, not on outcome noise. ``penalty`` is the reward model's own (the
ensemble's lambda, chosen on the training data by its out-of-fold rule; 0 for a single model).
The first draw is the regeneration's own continuation, so an anchored regeneration keeps the
turns of the plain one.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from ..episode import Episode
from ..errors import InvalidInput
from .base import ForwardModel, RewardModel, clip_reward, stable_seed
from .regenerate import check_anchor, regeneration_seed

DRAWS = 4
"""Paired continuations per rewrite (each side), by default."""


def draw_seed(regenerated_id: str, d: int) -> int:
    """The seed of draw ``d`` of a rewrite: draw 0 is the regeneration's own continuation."""
    if d == 0:
        return regeneration_seed(regenerated_id)
    return stable_seed("anchor", regenerated_id, d)


def imagined_effects(
    regenerated: Episode,
    source: Episode,
    forward: ForwardModel,
    reward: RewardModel,
    draws: int = DRAWS,
) -> np.ndarray:
    """``delta[d, j]`` (draws x members): member ``j``'s score of the rewritten prefix continued
    by draw ``d``, minus its score of the original prefix continued with the same seed. With a
    forward ensemble, the members are every (forward member, reward member) pair."""
    if draws < 1:
        raise InvalidInput(f"draws must be >= 1, got {draws}")
    i = regenerated.provenance["rewritten_turn"]
    new = [copy.deepcopy(t) for t in regenerated.turns[: i + 1]]
    orig = [copy.deepcopy(t) for t in source.turns[: i + 1]]
    rows = []
    for d in range(draws):
        seed = draw_seed(regenerated.id, d)
        row = []
        pairs = zip(
            _continued(forward, source, new, seed),
            _continued(forward, source, orig, seed),
            strict=True,
        )
        for a, b in pairs:
            row.append(
                reward.member_scores(source, a, seed) - reward.member_scores(source, b, seed)
            )
        rows.append(np.concatenate(row))
    return np.array(rows, dtype=float)


def _continued(forward: ForwardModel, source: Episode, prefix: list, seed: int) -> list[list]:
    """``prefix`` completed by the forward model, or by each member of a forward ensemble
    (:class:`~.forward_ensemble.EnsembleForwardModel`), with ``seed``."""
    if hasattr(forward, "member_continuations"):
        return [prefix + c.turns for c in forward.member_continuations(source, prefix, seed)]
    return [prefix + forward.continue_dialogue(source, prefix, seed).turns]


def effect_error(delta: np.ndarray) -> float:
    """The standard error of ``delta.mean()`` (draws x members, see module): the members'
    disagreement about the draw-averaged effect and the Monte Carlo error over the draws; a
    part with a single row or column is 0."""
    draws, members = delta.shape
    epistemic = delta.mean(axis=0).std(ddof=1) if members > 1 else 0.0
    monte_carlo = delta.mean(axis=1).std(ddof=1) / np.sqrt(draws) if draws > 1 else 0.0
    return float(np.sqrt(epistemic**2 + monte_carlo**2))


def anchored_relabel(
    regenerated: Episode,
    source: Episode,
    forward: ForwardModel,
    reward: RewardModel,
    draws: int = DRAWS,
) -> Episode:
    """``regenerated`` (a regeneration of ``source``, which must have a recorded reward)
    relabelled by anchoring (see module): a copy with the same turns, its reward the anchored
    value, ``source_model_reward`` the recorded outcome it is anchored to, and the effect's mean,
    standard error (``spread``) and penalty in ``outcome["anchored"]``."""
    check_anchor(draws, forward, reward)
    if source.reward is None:
        raise InvalidInput(f"anchoring needs the source's recorded outcome; {source.id} has none")
    delta = imagined_effects(regenerated, source, forward, reward, draws)
    spread = effect_error(delta)
    penalty = float(reward.penalty)
    value = clip_reward(
        source.env_id, float(source.reward) + float(delta.mean()) - penalty * spread
    )
    out = copy.deepcopy(regenerated)
    out.reward = value
    out.outcome.pop("imagined_success", None)  # success is read from the anchored value
    out.outcome.update(
        imagined_reward=value,
        source_model_reward=float(source.reward),
        anchored={
            "effect": float(delta.mean()),
            "spread": spread,
            "penalty": penalty,
            "draws": draws,
            "members": int(delta.shape[1]),
        },
    )
    out.provenance["reward_model"] = reward.config()
    out.provenance["reward_source"] = f"imagined:{reward.config()['name']} (anchored)"
    out.provenance["anchored"] = {"draws": draws, "forward_model": forward.config()}
    return out


def anchored_config(reward: RewardModel, draws: int) -> dict[str, Any]:
    """What an anchored relabelling used (for reports): draws, penalty and the reward model."""
    return {"draws": draws, "penalty": float(reward.penalty), "reward_model": reward.config()}
