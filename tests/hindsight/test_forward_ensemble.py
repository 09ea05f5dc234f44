"""The forward ensemble and the imagination penalized by the disagreement of both ensembles
(hindsight/forward_ensemble.py), and anchoring with a forward ensemble."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

from dialogue_gym.episode import Turn
from dialogue_gym.errors import InvalidInput
from dialogue_gym.generate import generate
from dialogue_gym.hindsight import EnsembleRewardModel, RetrievalForwardModel
from dialogue_gym.hindsight.anchored import draw_seed, imagined_effects
from dialogue_gym.hindsight.features import CachedEncoder
from dialogue_gym.hindsight.forward_ensemble import (
    PENALTY_RULE,
    EnsembleForwardModel,
    PenalizedImagination,
    imagined_matrix,
)
from dialogue_gym.hindsight.reward_ensemble import COVERAGE
from dialogue_gym.hindsight.support import SupportCheck
from dialogue_gym.jsonl import read_episodes

ENC = "hash:64"


@pytest.fixture(scope="module")
def counseling(tmp_path_factory):
    path = tmp_path_factory.mktemp("fwd") / "c.jsonl"
    generate("Counseling-v0", "human-like", 150, path, progress=False)
    return read_episodes(path)[0]


@pytest.fixture(scope="module")
def imagination(counseling):
    return PenalizedImagination.fit(counseling[:110], encoder=ENC)


def _sources(continuation):
    return {s.split(":")[1] for s in continuation.info["retrieved_from"]}


def test_a_member_never_retrieves_any_copy_of_the_episode_it_continues(counseling):
    # a bootstrap resample repeats episodes: every copy of the source must be excluded
    first = counseling[0]
    model = RetrievalForwardModel([first, first, *counseling[1:40], first], ENC, top_k=50)
    for seed in range(20):
        cont = model.continue_dialogue(first, first.turns[:1], seed)
        assert "0" not in _sources(cont)  # position 0 is the one shared by all three copies
    other = counseling[1]
    seen = set()
    for seed in range(20):
        seen |= _sources(model.continue_dialogue(other, other.turns[:1], seed))
    assert "0" in seen  # the source's copies are retrievable for every other episode


def test_members_index_different_resamples_and_the_seed_picks_one(counseling):
    fwd = EnsembleForwardModel(counseling[:60], ENC, members=4, seed=3)
    cfg = fwd.config()
    assert cfg["name"] == "retrieval-ensemble" and cfg["members"] == 4
    assert len(set(cfg["user_replies"])) > 1  # resamples of different sizes in rows
    e = counseling[100]
    prefix = e.turns[:3]
    conts = fwd.member_continuations(e, prefix, 11)
    assert len({tuple(t.text for t in c.turns) for c in conts}) > 1
    for seed in (8, 9, 10, 11):
        plain = fwd.continue_dialogue(e, prefix, seed)
        assert plain.info["member"] == seed % 4
        member = fwd.members[seed % 4].continue_dialogue(e, prefix, seed)
        assert [t.text for t in plain.turns] == [t.text for t in member.turns]


def test_value_is_the_clipped_mean_less_lambda_sd_over_every_pair(imagination, counseling):
    e = counseling[120]
    prefix = e.turns[:3]
    grid = imagined_matrix(imagination.forward, imagination.reward, e, prefix, 5)
    assert grid.shape == (5, 5)
    value, mean, sd = imagination.value(e, prefix, 5)
    assert mean == pytest.approx(grid.mean()) and sd == pytest.approx(grid.std(ddof=1))
    assert sd > 0
    lo, hi = -4.0, 4.0  # Counseling's reward range (intensity change)
    assert value == pytest.approx(min(hi, max(lo, mean - imagination.penalty * sd)))
    preds = imagination.reward.member_scores(e, e.turns, 0)
    expected = preds.mean() - imagination.penalty * preds.std(ddof=1)
    assert imagination.recorded_value(e)[0] == pytest.approx(min(hi, max(lo, expected)))


def test_penalty_rule_bounds_held_out_dialogues_imagined_from_a_cut(imagination, counseling):
    cfg = imagination.config()
    assert cfg["penalty_rule"] == PENALTY_RULE and cfg["penalty"] == imagination.penalty > 0
    assert cfg["oof_n"] == 110 and abs(cfg["oof_coverage"] - COVERAGE) < 1 / 110
    # on 40 episodes it never saw, each cut after one agent turn and imagined from there, the
    # penalized value is at or below the recorded outcome about 84% of the time (within three
    # binomial standard errors), and far more often than the plain mean is
    rng = np.random.default_rng(0)
    held, plain = [], []
    for e in counseling[110:]:
        cut = int(rng.choice([i for i, t in enumerate(e.turns[:-1]) if t.role == "assistant"]))
        value, mean, _ = imagination.value(e, e.turns[: cut + 1], 7)
        held.append(value <= e.reward)
        plain.append(mean <= e.reward)
    assert abs(np.mean(held) - COVERAGE) <= 3 * math.sqrt(COVERAGE * (1 - COVERAGE) / 40)
    assert np.mean(held) > np.mean(plain) + 0.15


def test_relabel_keeps_the_turns_and_records_value_and_source(imagination, counseling):
    source = counseling[130]
    regen, i = _rewrite(source, "How are you feeling about it now?")
    regen.turns += source.turns[i + 1 :]
    out = imagination.relabel(regen, source)
    assert [t.text for t in out.turns] == [t.text for t in regen.turns]
    value, mean, sd = imagination.recorded_value(source)
    assert out.outcome["source_model_reward"] == value
    fig = out.outcome["imagination"]
    assert (fig["source_mean"], fig["source_sd"]) == (mean, sd)
    assert out.reward == pytest.approx(max(-4.0, fig["mean"] - fig["penalty"] * fig["sd"]))
    assert out.provenance["reward_source"] == "imagined:penalized-imagination"
    assert regen.reward == source.reward  # the input is not modified


def test_anchoring_with_a_forward_ensemble_has_a_column_per_pair(imagination, counseling):
    source = counseling[140]
    regen, i = _rewrite(source, "That sounds really hard.")
    fwd, rwd = imagination.forward, imagination.reward
    delta = imagined_effects(regen, source, fwd, rwd, draws=3)
    assert delta.shape == (3, 25)
    # column f * 5 + j of draw d: reward member j's score of forward member f's continuation of
    # the rewrite, minus its score of the same member's continuation of the original turn
    seed = draw_seed(regen.id, 2)
    new, orig = regen.turns[: i + 1], source.turns[: i + 1]
    for f in (0, 3):
        a = new + fwd.members[f].continue_dialogue(source, new, seed).turns
        b = orig + fwd.members[f].continue_dialogue(source, orig, seed).turns
        want = rwd.member_scores(source, a, seed) - rwd.member_scores(source, b, seed)
        assert delta[2, f * 5 : f * 5 + 5] == pytest.approx(want)
    assert np.abs(delta).max() > 0


def test_the_rule_never_imagines_an_episode_with_models_that_saw_it(counseling, monkeypatch):
    from dialogue_gym.hindsight import forward_ensemble

    built, scored = [], []
    real_init, real_fit = EnsembleForwardModel.__init__, forward_ensemble.fit_members
    real_matrix = forward_ensemble.imagined_matrix

    def init(self, episodes, *a, **k):
        built.append({e.id for e in episodes})
        real_init(self, episodes, *a, **k)

    def fit(env, enc, rows, *a, **k):
        built[-1] = (built[-1], {tuple(np.round(x[:4], 6)) for x in rows.x})
        return real_fit(env, enc, rows, *a, **k)

    def matrix(fwd, rwd, episode, prefix, seed):
        scored.append((len(built) - 1, episode))
        return real_matrix(fwd, rwd, episode, prefix, seed)

    monkeypatch.setattr(EnsembleForwardModel, "__init__", init)
    monkeypatch.setattr(forward_ensemble, "fit_members", fit)
    monkeypatch.setattr(forward_ensemble, "imagined_matrix", matrix)
    eps = counseling[:50]
    forward_ensemble.out_of_fold_imagination(eps, ENC, 2, 0)
    assert len(built) == 5 and len(scored) == 50
    rows = forward_ensemble.training_rows(CachedEncoder(ENC), eps, "counseling")
    key = {e.id: tuple(np.round(x[:4], 6)) for e, x in zip(eps, rows.x, strict=True)}
    for fold, episode in scored:
        ids, reward_rows = built[fold]
        assert episode.id not in ids and key[episode.id] not in reward_rows


def test_the_rule_cuts_a_seeded_sample_of_at_most_max_cuts_episodes(counseling, monkeypatch):
    from dialogue_gym.hindsight import forward_ensemble

    monkeypatch.setattr(forward_ensemble, "MAX_CUTS", 30)
    first = forward_ensemble.out_of_fold_imagination(counseling[:60], ENC, 2, 0)
    assert all(len(a) == 30 for a in first)
    again = forward_ensemble.out_of_fold_imagination(counseling[:60], ENC, 2, 0)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))


def test_bad_input_is_refused_naming_it(counseling, tmp_path):
    with pytest.raises(InvalidInput, match="members"):
        EnsembleForwardModel(counseling[:30], ENC, members=1)
    with pytest.raises(InvalidInput, match="need at least 10"):
        EnsembleForwardModel(counseling[:3] * 5, ENC)  # 15 episodes, 3 distinct
    regen = copy.deepcopy(counseling[0])
    with pytest.raises(InvalidInput, match="rewritten_turn"):
        PenalizedImagination(*_ensembles(counseling), 1.0).relabel(regen, counseling[0])
    with pytest.raises(InvalidInput, match="at least"):
        PenalizedImagination.fit(counseling[:10], encoder=ENC)
    with pytest.raises(InvalidInput, match="penalty"):
        PenalizedImagination.fit(counseling[:30], encoder=ENC, penalty=-1.0)
    path = tmp_path / "p.jsonl"
    generate("Persuasion-v0", "human-like", 30, path, progress=False)
    fwd = EnsembleForwardModel(read_episodes(path)[0], ENC, members=2)
    rwd = EnsembleRewardModel.fit(counseling[:30], encoder=ENC, members=2, penalty=0.0)
    with pytest.raises(InvalidInput, match="share one env"):
        PenalizedImagination(fwd, rwd, 1.0)


def test_support_threshold_is_the_data_own_first_percentile(counseling):
    check = SupportCheck(counseling[:110], ENC)
    texts = sorted({t.text for e in counseling[:110] for t in e.turns if t.role == "assistant"})
    assert check.turns == len(texts) and check.config()["rule"] == "loo-1st-percentile"
    sims = check.keys @ check.keys.T
    np.fill_diagonal(sims, -np.inf)
    nearest = sims.max(axis=1)
    assert check.threshold == pytest.approx(np.quantile(nearest, 0.01))
    assert np.all(check.similarity(texts) == pytest.approx(1.0, abs=1e-5))  # each is itself


def test_an_off_task_rewrite_is_flagged_and_worth_no_more_than_its_source(imagination, counseling):
    assert imagination.config()["support"]["rule"] == "loo-1st-percentile"
    # a sentence encoder tells an off-task line from the data's (a 64-bucket hash cannot)
    check = SupportCheck(counseling[:110], "minilm")
    sharp = PenalizedImagination(imagination.forward, imagination.reward, 1.0, support=check)
    source = counseling[131]
    off = "Quarterly dividend yields on municipal bonds outpaced treasury notes."
    regen, i = _rewrite(source, off)
    assert not check.in_support(off)
    out = sharp.relabel(regen, source)
    assert out.outcome["imagination"]["in_support"] is False
    assert out.reward <= out.outcome["source_model_reward"]
    assert check.in_support(source.turns[i].text)  # the recorded turn it replaced
    kept = sharp.relabel(_rewrite(source, source.turns[i].text)[0], source)
    assert kept.outcome["imagination"]["in_support"] is True


def _rewrite(source, text):
    """A regeneration of ``source`` whose first agent turn after the opening says ``text`` (no
    continuation), and that turn's index."""
    i = next(j for j, t in enumerate(source.turns) if t.role == "assistant" and j > 0)
    regen = copy.deepcopy(source)
    regen.id = f"{source.id}~h1.0"
    regen.turns = source.turns[:i] + [Turn("assistant", text)]
    regen.provenance = {"source_id": source.id, "root_id": source.id, "rewritten_turn": i}
    return regen, i


def _ensembles(counseling):
    fwd = EnsembleForwardModel(counseling[:30], ENC, members=2)
    return fwd, EnsembleRewardModel.fit(counseling[:30], encoder=ENC, members=2, penalty=0.0)
