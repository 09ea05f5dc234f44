"""The learned reward ensemble (hindsight/reward_ensemble.py): bootstrap members, the score
penalized by their disagreement, the out-of-fold rule that chooses the penalty, saving, and the
pipeline's ``learned-ensemble`` reward spec."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from dialogue_gym.episode import Turn
from dialogue_gym.errors import InvalidInput
from dialogue_gym.generate import generate
from dialogue_gym.hindsight import EnsembleRewardModel, LearnedRewardModel
from dialogue_gym.hindsight.base import clip_reward
from dialogue_gym.hindsight.features import CachedEncoder
from dialogue_gym.hindsight.learned_reward import training_rows
from dialogue_gym.hindsight.pipeline import check_spec, make_reward, run
from dialogue_gym.hindsight.reward_ensemble import COVERAGE, out_of_fold, penalty_rule
from dialogue_gym.jsonl import read_episodes, write_episodes

ENC = "hash:64"  # no model, and small: the penalty rule fits six ensembles of five members

FAR = [  # a dialogue unlike any recorded one: other words, and longer than any (at most 21)
    Turn("user" if i % 2 == 0 else "assistant", "Quantum lattice gauge zebra xylophone kumquat.")
    for i in range(30)
]


@pytest.fixture(scope="module")
def counseling(tmp_path_factory):
    path = tmp_path_factory.mktemp("ensemble") / "c.jsonl"
    generate("Counseling-v0", "human-like", 100, path, progress=False)
    return read_episodes(path)[0]


@pytest.fixture(scope="module")
def ensemble(counseling):
    return EnsembleRewardModel.fit(counseling[:70], encoder=ENC)


def _members(model, turns):
    """The members' own predictions, each through LearnedRewardModel.predict."""
    return np.array([m.predict(turns) for m in model.members])


def test_bootstrap_members_differ_and_disagree_most_far_from_the_data(ensemble, counseling):
    coefs = [m.heads["value"].coef for m in ensemble.members]
    assert len(coefs) == 5
    assert all(not np.allclose(a, b) for i, a in enumerate(coefs) for b in coefs[i + 1 :])
    train = np.array([ensemble.spread(e.turns) for e in counseling[:70]])
    assert train.min() > 0
    for e in counseling[:5]:
        assert ensemble.spread(e.turns) == pytest.approx(
            np.std(_members(ensemble, e.turns), ddof=1)
        )
        assert ensemble.predict(e.turns) == pytest.approx(np.mean(_members(ensemble, e.turns)))
    assert ensemble.spread(FAR) > 2 * train.mean(), (ensemble.spread(FAR), train.mean())


def test_score_is_the_clipped_mean_less_lambda_spreads(ensemble, counseling):
    lam = ensemble.penalty
    assert lam > 0
    plain = EnsembleRewardModel.fit(counseling[:70], encoder=ENC, penalty=0)  # same members
    assert plain.config()["penalty_rule"] == "given" and plain.penalty == 0.0
    lower = 0
    for e in counseling[60:] + [replace(counseling[0], turns=FAR)]:
        preds = _members(ensemble, e.turns)
        want = clip_reward("Counseling-v0", preds.mean() - lam * preds.std(ddof=1))
        score = ensemble.score(e, e.turns, seed=0)
        assert score == pytest.approx(want)
        assert plain.score(e, e.turns, seed=0) == pytest.approx(
            clip_reward("Counseling-v0", preds.mean())
        )
        assert score <= plain.score(e, e.turns, seed=0)
        lower += score < plain.score(e, e.turns, seed=0)
    assert lower >= 10  # the penalty moves scores that are not clipped at the bottom


def test_penalty_rule_reaches_its_coverage_out_of_fold(ensemble, counseling):
    cfg = ensemble.config()
    assert cfg["name"] == "learned-ensemble" and cfg["members"] == 5
    assert cfg["penalty_rule"] == "oof-84th-percentile" and cfg["penalty"] == ensemble.penalty
    rows = training_rows(CachedEncoder(ENC), counseling[:70], "counseling")
    rows_y = rows.y
    mean, spread = out_of_fold("Counseling-v0", ENC, rows, 5, 0)
    lam, coverage, n = penalty_rule(mean, spread, rows_y)
    assert (lam, coverage, n) == (ensemble.penalty, cfg["oof_coverage"], cfg["oof_n"])
    assert n == 70 and lam > 0  # no spread was 0, and the floor at 0 did not bind
    assert coverage == np.mean(mean - lam * spread <= rows_y + 1e-12)
    # the 84th percentile of n distinct values (linear interpolation) has floor(0.84 (n-1)) + 1
    # of them at or below it: the coverage is within 1/n of 0.84 (here exactly 58/70)
    assert coverage == (math.floor(COVERAGE * (n - 1)) + 1) / n
    assert abs(coverage - COVERAGE) < 1 / n
    # on 30 episodes it never saw, the penalized score is a lower bound about as often: within
    # three binomial standard errors of 0.84, and far more often than the plain mean is
    test = counseling[70:]
    y = np.array([e.reward for e in test])
    mu = np.array([ensemble.predict(e.turns) for e in test])
    held = np.array([ensemble.score(e, e.turns, 0) for e in test]) <= y
    assert abs(held.mean() - COVERAGE) <= 3 * math.sqrt(COVERAGE * (1 - COVERAGE) / len(test))
    assert held.mean() > np.mean(mu <= y) + 0.15


def test_evaluate_adds_spread_and_penalized_bias_to_the_single_model_keys(ensemble, counseling):
    single = LearnedRewardModel.fit(counseling[:70], encoder=ENC).evaluate(counseling[70:])
    scores = ensemble.evaluate(counseling[70:])
    assert set(scores) == set(single) | {"mean_spread", "penalized_bias"}
    assert "initial_intensity_mae" in scores
    assert 1.0 <= ensemble.initial_intensity(counseling[0].turns) <= 5.0
    assert scores["mae"] < scores["mae_constant"], scores
    test = counseling[70:]
    assert scores["mean_spread"] == pytest.approx(np.mean([ensemble.spread(e.turns) for e in test]))
    assert scores["penalized_bias"] < scores["bias"] - 0.3  # lambda * spread is about 1 here


def test_persuasion_ensemble_is_a_hurdle_model_of_its_members(tmp_path):
    path = tmp_path / "p.jsonl"
    generate("Persuasion-v0", "human-like", 60, path, progress=False)
    eps = read_episodes(path)[0]
    model = EnsembleRewardModel.fit(eps[:40], encoder=ENC, members=3, penalty=1.0)
    assert model.initial_intensity(eps[0].turns) is None
    for e in eps[40:50]:
        p = np.array([m.p_success(e.turns) for m in model.members])
        preds = _members(model, e.turns)  # each member's P(donation > 0) x amount
        assert model.p_success(e.turns) == pytest.approx(p.mean())
        assert model.succeeds(e, e.turns) == (p.mean() >= 0.5)
        assert model.spread(e.turns) == pytest.approx(preds.std(ddof=1))
        want = min(2.0, max(0.0, preds.mean() - preds.std(ddof=1)))
        assert model.score(e, e.turns, 0) == pytest.approx(want)
    assert {"brier", "ece", "mean_spread"} <= set(model.evaluate(eps[40:]))


def test_save_load_round_trip_and_clear_errors(ensemble, counseling, tmp_path):
    ensemble.save(tmp_path / "ens")
    again = EnsembleRewardModel.load(tmp_path / "ens")
    assert again.config() == ensemble.config()
    for e in counseling[60:80] + [replace(counseling[0], turns=FAR)]:
        assert again.score(e, e.turns, 0) == ensemble.score(e, e.turns, 0)
        assert again.initial_intensity(e.turns) == ensemble.initial_intensity(e.turns)
    with pytest.raises(InvalidInput, match="not a learned reward ensemble"):
        EnsembleRewardModel.load(tmp_path)
    LearnedRewardModel.fit(counseling[:30], encoder=ENC).save(tmp_path / "single")
    with pytest.raises(InvalidInput, match="single learned reward model.*learned:DIR"):
        EnsembleRewardModel.load(tmp_path / "single")
    with pytest.raises(InvalidInput, match="fitted on Counseling-v0"):
        other = replace(counseling[0], env_id="Persuasion-v0")
        ensemble.score(other, other.turns, 0)


def test_penalty_rule_floors_at_zero_and_skips_agreement():
    y = np.zeros(5)
    mean = np.array([-1.0, -2.0, -3.0, -4.0, 9.0])  # shortfalls -1 -2 -3 -4 and one skipped
    spread = np.array([1.0, 1.0, 1.0, 1.0, 0.0])
    assert penalty_rule(mean, spread, y) == (0.0, 1.0, 4)  # the 84th percentile is -1.48
    mean[:4] = [1.0, 2.0, 3.0, 4.0]
    lam, coverage, n = penalty_rule(mean, spread, y)
    assert (lam, coverage, n) == (pytest.approx(np.percentile([1, 2, 3, 4], 84)), 0.75, 4)
    with pytest.raises(InvalidInput, match="never disagree.*give penalty= explicitly"):
        penalty_rule(mean, np.zeros(5), y)


@pytest.mark.parametrize("members", [1, 0, 2.5, True])
def test_bad_ensemble_size_is_refused_naming_it(counseling, members):
    with pytest.raises(InvalidInput, match=r"members \(K.*integer >= 2"):
        EnsembleRewardModel.fit(counseling[:30], encoder=ENC, members=members)


@pytest.mark.parametrize("penalty", [-0.5, math.nan, math.inf, "1"])
def test_bad_penalty_is_refused_naming_it(counseling, penalty):
    with pytest.raises(InvalidInput, match=r"penalty \(lambda\) must be a finite number >= 0"):
        EnsembleRewardModel.fit(counseling[:30], encoder=ENC, penalty=penalty)


def test_too_few_episodes_are_refused(counseling):
    with pytest.raises(
        InvalidInput, match="chosen on 5 folds needs at least 25 episodes .*; got 24"
    ):
        EnsembleRewardModel.fit(counseling[:24], encoder=ENC)
    with pytest.raises(InvalidInput, match="needs at least 20 episodes .*; got 19"):
        EnsembleRewardModel.fit(counseling[:19], encoder=ENC, penalty=1.0)
    assert EnsembleRewardModel.fit(counseling[:24], encoder=ENC, penalty=1.0).penalty == 1.0


def test_pipeline_fits_loads_and_names_the_ensemble(ensemble, counseling, tmp_path):
    fitted = make_reward("learned-ensemble", "counseling", counseling[:70], CachedEncoder(ENC))
    assert isinstance(fitted, EnsembleRewardModel)
    assert fitted.config() == ensemble.config()
    ensemble.save(tmp_path / "ens")
    loaded = make_reward(f"learned-ensemble:{tmp_path / 'ens'}", "counseling")
    assert loaded.score(counseling[80], counseling[80].turns, 0) == ensemble.score(
        counseling[80], counseling[80].turns, 0
    )
    with pytest.raises(InvalidInput, match="unknown reward model 'learned-ensembles'") as err:
        check_spec("learned-ensembles", "reward model")
    assert "learned-ensemble:DIR" in str(err.value) and "privileged-dynamics" in str(err.value)
    # the whole pipeline, with the reward ensemble the only component fitted on the data: it is
    # fitted with the chosen encoder, and scores every rewrite
    data = tmp_path / "d.jsonl"
    write_episodes(data, counseling[:30])
    out = tmp_path / "r.jsonl"
    summary = run(
        data,
        out,
        controller="transcript",
        forward="true-env",
        reward="learned-ensemble",
        encoder=ENC,
        progress=False,
    )
    regen = read_episodes(out)[0]
    assert summary["written_now"] == len(regen) > 0
    for r in regen:
        assert r.reward_source == "imagined:learned-ensemble"
        assert r.provenance["reward_model"]["encoder"] == ENC
        assert r.provenance["reward_model"]["penalty"] > 0
        assert -4.0 <= r.reward <= 4.0
