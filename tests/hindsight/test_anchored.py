"""Anchored relabelling (hindsight/anchored.py): a rewrite is worth its source's recorded outcome
plus the imagined effect of the change, less the ensemble's penalty x the effect's spread."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from dialogue_gym.episode import Turn
from dialogue_gym.errors import InvalidInput
from dialogue_gym.generate import generate
from dialogue_gym.hindsight import (
    CriticController,
    EnsembleRewardModel,
    LearnedRewardModel,
    RetrievalForwardModel,
    TrueEnvForwardModel,
    regenerate,
)
from dialogue_gym.hindsight.anchored import anchored_relabel, draw_seed, imagined_effects
from dialogue_gym.hindsight.base import Continuation, ForwardModel, RewardModel, clip_reward
from dialogue_gym.hindsight.features import CachedEncoder
from dialogue_gym.hindsight.pipeline import run
from dialogue_gym.jsonl import read_episodes, write_episodes

ENC = "hash:64"


@pytest.fixture(scope="module")
def counseling(tmp_path_factory):
    path = tmp_path_factory.mktemp("anchored") / "c.jsonl"
    generate("Counseling-v0", "human-like", 100, path, progress=False)
    return path, read_episodes(path)[0]


@pytest.fixture(scope="module")
def learned(counseling):
    _, eps = counseling
    enc = CachedEncoder(ENC)
    controller = CriticController(eps, enc)
    forward = RetrievalForwardModel(eps, enc)
    ensemble = EnsembleRewardModel.fit(eps, encoder=ENC)
    plain = regenerate(eps, controller, forward, LearnedRewardModel.fit(eps, ENC))
    return eps, controller, forward, ensemble, plain


class _Echo(ForwardModel):
    """Continues with one user turn that repeats the last agent turn (deterministic)."""

    def continue_dialogue(self, episode, prefix, seed):
        return Continuation([Turn("user", f"you said: {prefix[-1].text}")])


class _Members(RewardModel):
    """Two members that score 1 or 3 (member 0) and 2 or 6 (member 1) by whether the dialogue
    holds the word 'better'; penalty 0.5."""

    penalty = 0.5

    def member_scores(self, episode, turns, seed):
        better = any("better" in t.text for t in turns)
        return np.array([3.0, 6.0]) if better else np.array([1.0, 2.0])

    def score(self, episode, turns, seed):
        return float(self.member_scores(episode, turns, seed).mean())


def _rewrite(source, i, text):
    """A regeneration of ``source`` whose agent turn ``i`` says ``text`` (no continuation)."""
    out = copy.deepcopy(source)
    out.id = f"{source.id}~h1.0"
    out.turns = [copy.deepcopy(t) for t in source.turns[:i]] + [Turn("assistant", text)]
    out.outcome = {"imagined_reward": 9.0, "imagined_success": True}
    out.provenance = {"source_id": source.id, "root_id": source.id, "rewritten_turn": i}
    return out


def test_the_value_is_the_recorded_outcome_plus_the_effect_less_the_penalty(counseling):
    _, eps = counseling
    source = next(e for e in eps if e.reward is not None and e.reward < 1)
    i = next(k for k, t in enumerate(source.turns) if t.role == "assistant")
    rewrite = _rewrite(source, i, "this will feel better")
    new = anchored_relabel(rewrite, source, _Echo(), _Members())
    # effects: member 0: 3 - 1 = 2, member 1: 6 - 2 = 4, the same on each of the 4 draws, so
    # the error is the members' disagreement alone (sd of 2 and 4, ddof 1: sqrt(2))
    expected = clip_reward(source.env_id, source.reward + 3.0 - 0.5 * np.sqrt(2.0))
    assert new.reward == pytest.approx(expected)
    assert new.outcome["imagined_reward"] == new.reward
    assert new.outcome["source_model_reward"] == source.reward  # believed: effect - penalty > 0
    assert "imagined_success" not in new.outcome  # success is read from the anchored value
    assert new.outcome["anchored"]["effect"] == pytest.approx(3.0)
    assert new.outcome["anchored"]["members"] == 2 and new.outcome["anchored"]["draws"] == 4
    assert new.reward_source.startswith("imagined:") and "anchored" in new.reward_source


def test_a_rewrite_that_changes_nothing_is_worth_exactly_its_source(learned):
    # paired seeds: the same prefix is continued the same way on both sides, every member
    # scores the two alike, and the anchored value is the recorded outcome itself
    eps, _, forward, ensemble, plain = learned
    source = next(e for e in eps if e.reward is not None and e.reward < 1)
    i = next(k for k, t in enumerate(source.turns) if t.role == "assistant")
    same = _rewrite(source, i, source.turns[i].text)
    effects = imagined_effects(same, source, forward, ensemble, draws=3)
    assert effects.shape == (3, len(ensemble.members))
    assert np.all(effects == 0)
    assert anchored_relabel(same, source, forward, ensemble, 3).reward == source.reward


def test_anchoring_keeps_the_plain_regenerations_turns_and_its_own_arithmetic(learned):
    eps, controller, forward, ensemble, plain = learned
    by_id = {e.id: e for e in eps}
    anchored = regenerate(eps, controller, forward, ensemble, anchor_draws=2)
    assert [a.id for a in anchored] == [p.id for p in plain] and plain
    for a, p in zip(anchored, plain, strict=True):
        src = by_id[a.provenance["source_id"]]
        assert [t.text for t in a.turns] == [t.text for t in p.turns]  # draw 0 is its own
        effects = imagined_effects(a, src, forward, ensemble, draws=2)
        error = np.sqrt(effects.mean(axis=0).var(ddof=1) + effects.mean(axis=1).var(ddof=1) / 2)
        value = src.reward + effects.mean() - ensemble.penalty * error
        assert a.outcome["anchored"]["spread"] == pytest.approx(error)
        assert a.reward == pytest.approx(clip_reward(src.env_id, value))
        assert a.outcome["source_model_reward"] == src.reward
    assert draw_seed(plain[0].id, 0) != draw_seed(plain[0].id, 1)
    # the plain pipeline believes nearly every rewrite beats its failed source; anchored to the
    # recorded outcome and penalized, far fewer do
    believed_plain = np.mean([p.reward > p.outcome["source_model_reward"] for p in plain])
    believed = np.mean([a.reward > a.outcome["source_model_reward"] for a in anchored])
    assert believed < believed_plain - 0.2, (believed, believed_plain)


def test_anchoring_refuses_bad_draws_and_the_true_env(learned):
    eps, controller, forward, ensemble, _ = learned
    with pytest.raises(InvalidInput, match="anchor draws must be an integer >= 0"):
        regenerate(eps, controller, forward, ensemble, anchor_draws=-1)
    with pytest.raises(InvalidInput, match="not the true env"):
        regenerate(eps, controller, TrueEnvForwardModel(), ensemble, anchor_draws=2)


def test_the_pipeline_writes_anchored_regenerations(counseling, tmp_path):
    path, eps = counseling
    out = tmp_path / "anchored.jsonl"
    summary = run(path, out, reward="learned-ensemble", encoder=ENC, progress=False, anchor_draws=2)
    regenerated = read_episodes(out)[0]
    assert summary["written_now"] == len(regenerated) > 0
    by_id = {e.id: e for e in eps}
    for e in regenerated:
        assert e.outcome["anchored"]["draws"] == 2
        assert e.outcome["source_model_reward"] == by_id[e.provenance["source_id"]].reward
    with pytest.raises(InvalidInput, match="not the true env"):
        run(path, tmp_path / "x.jsonl", forward="true-env", encoder=ENC, anchor_draws=2)


def test_the_pipeline_anchors_with_both_ensembles(counseling, tmp_path):
    path = tmp_path / "small.jsonl"
    write_episodes(path, counseling[1][:30])
    out = tmp_path / "both.jsonl"
    kw = {"reward": "learned-ensemble", "encoder": ENC, "progress": False, "anchor_draws": 2}
    run(path, out, forward="retrieval-ensemble", **kw)
    regenerated = read_episodes(out)[0]
    assert regenerated and all(e.outcome["anchored"]["members"] == 25 for e in regenerated)
    forward = regenerated[0].provenance["anchored"]["forward_model"]
    assert forward["name"] == "retrieval-ensemble" and forward["members"] == 5
    with pytest.raises(InvalidInput, match="retrieval-ensemble"):
        run(path, tmp_path / "y.jsonl", forward="retrieval-ensembles", **kw)
