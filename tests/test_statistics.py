"""The statistics behind every reported number: intervals that cover training seeds, Holm,
the normalized score, and how ``evaluate`` and the benchmark use them."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import dialogue_gym
from dialogue_gym.agents.base import Agent
from dialogue_gym.agents.scripted import ScriptedAgent
from dialogue_gym.benchmark import returns_of
from dialogue_gym.evaluation import reference_returns
from dialogue_gym.llm.parsing import ParseFailure
from dialogue_gym.stats import (
    MethodReturns,
    detectable_difference,
    difference_test,
    holm,
    mean_ci,
    mean_estimate,
    normalized_estimate,
    normalized_score,
    projected_detectable,
    spearman_gap,
)


def _runs_with_seed_variance(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A baseline and a method whose 3 training runs differ a lot (+0.9, +0.1, -0.1: mean
    +0.3) while evaluation noise is small (sd 0.5 over 200 shared seeds)."""
    base = rng.normal(0.0, 0.5, 200)
    offsets = np.array([0.9, 0.1, -0.1])[:, None]
    method = base[None, :] + offsets + rng.normal(0.0, 0.5, (3, 200))
    return method, base[None, :]


def test_pooled_method_is_significant_where_the_test_over_runs_is_not():
    method, base = _runs_with_seed_variance(np.random.default_rng(0))
    # the old protocol: average the runs per evaluation seed, paired test over seeds
    p_pooled = float(stats.ttest_rel(method.mean(axis=0), base[0]).pvalue)
    _, lo_pooled, hi_pooled = mean_ci(method.ravel())  # n = 600 "independent" returns
    boot = MethodReturns({"method": method, "base": base})
    diff, p = boot.diff("method", "base")
    assert p_pooled < 0.001
    assert p > 0.05 and diff.low < 0 < diff.high
    ci = boot.mean("method")
    assert (ci.high - ci.low) > 3 * (hi_pooled - lo_pooled)
    assert boot.run_means("method") == pytest.approx([0.9, 0.1, -0.1], abs=0.1)


def test_one_run_each_is_the_paired_t_test():
    rng = np.random.default_rng(1)
    base = rng.normal(0.0, 1.0, 300)
    method = base + 0.3 + rng.normal(0.0, 0.5, 300)
    diff, p = MethodReturns({"m": method[None], "b": base[None]}).diff("m", "b")
    paired = stats.ttest_rel(method, base)
    ci = paired.confidence_interval(0.95)
    assert diff.value == pytest.approx((method - base).mean())
    assert (diff.low, diff.high) == pytest.approx((ci.low, ci.high))
    assert p == pytest.approx(paired.pvalue) and p < 0.001


@pytest.mark.parametrize("runs", [3, 5])
@pytest.mark.parametrize("between", [0.0, 0.14])  # 0 and 5x the within-run standard error
def test_difference_test_rejects_five_percent_of_true_nulls(runs, between):
    """Two trained methods, and a trained method against an agent evaluated once, drawn with the
    same mean: a shared seed effect, each run's own effect, per-episode noise (200 seeds)."""
    rng = np.random.default_rng(runs * 10 + int(between * 100))
    rejected = {"trained": 0, "against one": 0}
    sims = 600
    for _ in range(sims):
        seed = rng.normal(0, 0.3, 200)
        a, b = (
            seed + rng.normal(0, between, (runs, 1)) + rng.normal(0, 0.4, (runs, 200)) for _ in "ab"
        )
        one = (seed + rng.normal(0, 0.4, 200))[None]
        rejected["trained"] += difference_test(a, b)[1] < 0.05
        rejected["against one"] += difference_test(a, one)[1] < 0.05
    for share in rejected.values():  # 600 nulls: the standard error of a 5% share is 0.009
        assert 0.025 <= share / sims <= 0.08


def test_mean_interval_covers_the_mean_when_training_runs_differ():
    """3 runs, between-run sd 5x the within-run error: the interval covers the population mean
    (0) about 95% of the time; the bootstrap's percentiles covered 84%."""
    rng = np.random.default_rng(11)
    sims = 600
    covered = 0
    for _ in range(sims):
        x = rng.normal(0, 0.3, 200) + rng.normal(0, 0.14, (3, 1)) + rng.normal(0, 0.4, (3, 200))
        m = mean_estimate(x)
        covered += m.low <= 0.0 <= m.high
    assert 0.92 <= covered / sims <= 0.98  # 600 draws: the standard error of 95% is 0.009


def test_detectable_difference_is_found_about_as_often_as_promised():
    """At the median detectable difference of null draws (3 runs each), the test rejects about
    80% of the time (the formula with t quantiles: about 74% in simulation; without the power
    term it would be 50%)."""
    rng = np.random.default_rng(5)

    def draw(delta: float) -> tuple[np.ndarray, np.ndarray]:
        seed = rng.normal(0, 0.3, 200)
        a, b = (seed + rng.normal(0, 0.05, (3, 1)) + rng.normal(0, 0.4, (3, 200)) for _ in "ab")
        return a + delta, b

    mde = float(np.median([detectable_difference(*draw(0.0)) for _ in range(300)]))
    power = np.mean([difference_test(*draw(mde))[1] < 0.05 for _ in range(600)])
    assert 0.65 <= power <= 0.9


def test_difference_test_interval_matches_its_p_value():
    rng = np.random.default_rng(3)
    a = rng.normal(0.2, 0.5, (3, 100))
    b = rng.normal(0.0, 0.5, (3, 100))
    a[0, :5] = np.nan  # failed episodes are left out
    d, p = difference_test(a, b)
    assert d.value == pytest.approx(np.nanmean(a) - b.mean())
    assert (p < 0.05) == (d.low > 0 or d.high < 0)
    same, p_same = difference_test(b, b)
    assert p_same == 1.0 and same.value == 0.0 and same.low == -same.high


def test_method_returns_leave_failed_episodes_out():
    x = np.tile([[1.0, np.nan, 3.0], [2.0, 2.0, np.nan]], 20)
    boot = MethodReturns({"x": x, "y": np.zeros((1, 60))})
    assert boot.point("x") == pytest.approx(2.0)  # a failure is missing, not 0
    assert boot.run_means("x") == [2.0, 2.0]
    assert boot.mean("x").low < 2.0 < boot.mean("x").high


def test_holm_corrects_a_family():
    raw = [0.01, 0.02, 0.03, 0.04]
    assert holm(raw) == pytest.approx([0.04, 0.06, 0.06, 0.06])
    assert holm([0.04, 0.01]) == pytest.approx([0.04, 0.02])  # order kept, monotone
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])


def test_mean_ci_of_one_value_has_no_interval():
    m, lo, hi = mean_ci([0.7])
    assert m == 0.7 and math.isnan(lo) and math.isnan(hi)


def test_normalized_score_has_a_zero_point():
    rng = np.random.default_rng(2)
    random = rng.normal(-2.0, 0.3, 100)  # a Counseling-like scale, where ratios break
    oracle = rng.normal(2.0, 0.3, 100)
    x = rng.normal(-1.0, 0.3, 100)
    score, lo, hi = normalized_score(x, random, oracle)
    expected = (x.mean() - random.mean()) / (oracle.mean() - random.mean())
    assert score == pytest.approx(expected) and 0.2 < score < 0.3 and lo < score < hi
    assert x.mean() / oracle.mean() < 0  # what "fraction of oracle" would have said
    assert normalized_score(random, random, oracle)[0] == pytest.approx(0.0)
    assert normalized_score(oracle, random, oracle)[0] == pytest.approx(1.0)
    assert math.isnan(normalized_score(x, oracle, random)[0])  # oracle below random


class _FailsOnEvenSeeds(Agent):
    """Scripted, but its backend gives up on even seeds (the episode is "failed")."""

    name = "flaky"

    def __init__(self) -> None:
        self.inner = ScriptedAgent("counseling")
        self.seed = 0

    def reset(self, seed: int | None = None) -> None:
        self.seed = seed or 0
        self.inner.reset(seed)

    def act(self, observation, info):
        if self.seed % 2 == 0:
            raise ParseFailure("no valid strategy", "?", 3)  # the agent's model gave no answer
        return self.inner.act(observation, info)


def test_evaluate_normalizes_on_the_seeds_that_did_not_fail():
    r = dialogue_gym.evaluate(_FailsOnEvenSeeds(), "Counseling-v0", 20, seed=300, progress=False)
    s = r.summary
    assert s["n_failed"] == 10
    ok_seeds = [e.seed for e in r.episodes if e.status == "ok"]
    assert ok_seeds == list(range(301, 320, 2))
    oracle = reference_returns("oracle", "Counseling-v0", list(range(300, 320)), {})
    random = reference_returns("random", "Counseling-v0", list(range(300, 320)), {})
    assert s["oracle_mean_return"] == pytest.approx(oracle[1::2].mean())
    assert s["random_mean_return"] == pytest.approx(random[1::2].mean())
    assert s["normalized_score"] == pytest.approx(
        (s["mean_return"] - random[1::2].mean()) / (oracle[1::2].mean() - random[1::2].mean())
    )


def test_benchmark_counts_failed_episodes_as_missing_not_zero():
    r = dialogue_gym.evaluate(
        _FailsOnEvenSeeds(), "Counseling-v0", 6, seed=300, progress=False, oracle=False
    )
    returns, success, _ = returns_of(r)
    assert np.isnan(returns[::2]).all() and np.isfinite(returns[1::2]).all()
    assert success[::2].sum() == 0


@pytest.mark.parametrize(  # between-run sd 0 and 5x the within-run standard error
    ("runs", "between"), [(1, 0.0), (3, 0.0), (3, 0.14), (10, 0.0), (10, 0.14)]
)
def test_normalized_interval_covers_the_true_score(runs, between):
    """Random (mean 0) and the oracle (0.8) evaluated once, a method (0.6: a score of 0.75) with
    ``runs`` training runs, on 200 shared seeds: Fieller's interval covers 0.75 about 95% of the
    time (the two-level bootstrap's percentiles: ``benchmarks/bench_test_size.py``)."""
    rng = np.random.default_rng(runs * 7 + int(between * 100))
    sims, covered = 300, 0
    for _ in range(sims):
        seed = rng.normal(0, 0.3, 200)
        random, oracle = ((seed + m + rng.normal(0, 0.4, 200))[None] for m in (0.0, 0.8))
        x = seed + 0.6 + rng.normal(0, between, (runs, 1)) + rng.normal(0, 0.4, (runs, 200))
        est = normalized_estimate(x, random, oracle)
        covered += est.low <= 0.75 <= est.high
    assert 0.91 <= covered / sims <= 0.985  # 300 draws: the standard error of 95% is 0.013


def test_normalized_interval_is_the_set_the_difference_test_keeps():
    rng = np.random.default_rng(4)
    seed = rng.normal(0, 0.3, 150)
    random, oracle = ((seed + m + rng.normal(0, 0.4, 150))[None] for m in (0.0, 0.5))
    x = seed + 0.3 + rng.normal(0, 0.1, (3, 1)) + rng.normal(0, 0.4, (3, 150))
    est = normalized_estimate(x, random, oracle)
    assert est.value == pytest.approx((x.mean() - random.mean()) / (oracle.mean() - random.mean()))
    for theta, kept in ((est.low, 0.05), (est.high, 0.05), (est.value, 1.0)):
        p = difference_test(x, (1 - theta) * random + theta * oracle)[1]
        assert p == pytest.approx(kept, abs=1e-4)
    # the denominator's uncertainty makes it asymmetric: longer towards a smaller gap
    assert est.high - est.value > est.value - est.low
    # an oracle barely above random on noisy seeds: the ratio is unbounded, so no interval
    flat = normalized_estimate(x, random, random + 0.01 + rng.normal(0, 0.4, 150))
    assert math.isnan(flat.low) and math.isnan(flat.high)


def test_projected_detectable_difference_grows_with_runs_and_seeds_as_its_parts_say():
    rng = np.random.default_rng(8)
    seed = rng.normal(0, 0.3, 200)
    noisy = seed + rng.normal(0, 0.3, (3, 1)) + rng.normal(0, 0.4, (3, 200))  # runs differ
    steady = seed + rng.normal(0, 0.4, (3, 200))  # runs agree
    once = (seed + rng.normal(0, 0.4, 200))[None]
    other = (seed + rng.normal(0, 0.4, 200))[None]
    for a, b in ((noisy, once), (once, other)):  # at the observed sizes: the same
        at_same = projected_detectable(a, b, 3, 200)
        assert at_same == pytest.approx(detectable_difference(a, b), rel=1e-9)
    # runs that agree more than their noise implies: the between-run variance is set to 0,
    # not below, so the projection is a little larger
    assert projected_detectable(steady, once, 3, 200) >= detectable_difference(steady, once)
    # between-run variance dominates: more seeds barely help, more runs do
    base = projected_detectable(noisy, once, 3, 200)
    assert projected_detectable(noisy, once, 3, 800) > 0.9 * base
    assert projected_detectable(noisy, once, 12, 200) < 0.5 * base
    # runs that agree: four times the seeds halve it
    ratio = projected_detectable(steady, once, 3, 800) / projected_detectable(steady, once, 3, 200)
    assert ratio == pytest.approx(0.5, abs=0.05)


def test_one_seed_gives_no_interval_and_no_error():
    one = np.array([[1.0]])
    d, p = difference_test(one, np.array([[0.0]]))
    assert d.value == 1.0 and math.isnan(d.low) and math.isnan(d.high) and math.isnan(p)
    score, lo, hi = normalized_score([1.0], [0.0], [2.0])
    assert score == 0.5 and math.isnan(lo) and math.isnan(hi)
    assert math.isnan(detectable_difference(one, np.array([[0.0]])))
    d, p = difference_test(np.array([[1.0, np.nan]]), np.array([[0.0, 0.0]]))  # one seed left
    assert math.isnan(p)


def test_spearman_gap_tells_a_worse_ranking_from_noise():
    rng = np.random.default_rng(3)
    real = rng.normal(size=400)
    good = real + rng.normal(scale=1.0, size=400)
    bad = real + rng.normal(scale=3.0, size=400)
    worse = spearman_gap(bad, good, real, resamples=500)
    assert worse["spearman_gap"] < -0.2  # rho about 0.70 against 0.30
    assert worse["share_worse"] > 0.99
    assert 0.02 < worse["spearman_gap_se"] < 0.08
    same = spearman_gap(good, good.copy(), real, resamples=200)
    assert same == {"spearman_gap": 0.0, "spearman_gap_se": 0.0, "share_worse": 0.0}
