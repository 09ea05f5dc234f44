"""evaluate and compare: the summary, its references and intervals, the saved result."""

from __future__ import annotations

import json

import numpy as np
import pytest

import dialogue_gym
from dialogue_gym.comparison import compare
from dialogue_gym.evaluation import EvaluationResult


@pytest.mark.slow
def test_evaluate_summary_and_json_round_trip(tmp_path):
    out = tmp_path / "r.json"
    r = dialogue_gym.evaluate("scripted", "Persuasion-v0", 40, seed=5, out=out, progress=False)
    s = r.summary
    assert s["n_episodes"] == 40 and s["n_failed"] == 0 and s["env_episodes"] == 40
    assert s["ci95"][0] <= s["mean_return"] <= s["ci95"][1]
    assert 0 <= s["success_rate"] <= 1 and 1 <= s["avg_turns"] <= 10
    assert s["success_rate"] == np.mean([e.reward > 0 for e in r.episodes])
    rnd, orc = s["random_mean_return"], s["oracle_mean_return"]
    assert s["normalized_score"] == pytest.approx((s["mean_return"] - rnd) / (orc - rnd))
    assert s["normalized_ci95"][0] < s["normalized_score"] < s["normalized_ci95"][1]
    assert [e.seed for e in r.episodes] == list(range(5, 45))
    assert r.agent["name"] == "scripted" and r.env_id == "Persuasion-v0"
    loaded = EvaluationResult.load(out)
    assert loaded.summary == json.loads(json.dumps(s))
    assert [e.reward for e in loaded.episodes] == [e.reward for e in r.episodes]


def test_evaluate_is_reproducible():
    a = dialogue_gym.evaluate("human-like", "Counseling-v0", 20, seed=3, progress=False)
    b = dialogue_gym.evaluate("human-like", "Counseling-v0", 20, seed=3, progress=False)
    assert [e.reward for e in a.episodes] == [e.reward for e in b.episodes]


def test_evaluate_without_references_has_no_normalized_score():
    r = dialogue_gym.evaluate("scripted", "Counseling-v0", 30, seed=0, progress=False, oracle=False)
    assert "normalized_score" not in r.summary
    base = dialogue_gym.evaluate("random", "Counseling-v0", 30, progress=False, oracle=False)
    assert r.summary["success_rate"] > base.summary["success_rate"]  # the expert flow helps more


def test_compare_paired_and_unpaired():
    a = dialogue_gym.evaluate("scripted", "Persuasion-v0", 60, seed=0, progress=False, oracle=False)
    b = dialogue_gym.evaluate("random", "Persuasion-v0", 60, seed=0, progress=False, oracle=False)
    c = compare(a, b)
    assert c.test.startswith("paired t-test") and c.diff > 0 and c.p_value < 0.05
    assert c.ci95[0] < c.diff < c.ci95[1]
    b2 = dialogue_gym.evaluate(
        "random", "Persuasion-v0", 60, seed=500, progress=False, oracle=False
    )
    assert compare(a, b2).test.startswith("Welch")
