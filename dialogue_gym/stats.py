"""Confidence intervals and significance tests used in reports, evaluation and the benchmark.

- :func:`mean_ci`, :func:`proportion_ci`: one sample of independent values.
- :class:`MethodReturns`: one or several training runs per method, all evaluated on the same
  seeds. A difference's test and interval (:func:`difference_test`: a t statistic with
  Satterthwaite's degrees of freedom) come from the training runs' means and, paired by seed,
  the evaluation noise; a mean's interval (:func:`mean_estimate`) is the test against 0, and
  the normalized score's (:func:`normalized_estimate`, :func:`normalized_score`) is Fieller's,
  by inverting the same test. Size, coverage and power are checked by simulation (the tests,
  ``benchmarks/bench_test_size.py``, ``benchmarks/bench_power.py``). Pooling training runs x
  evaluation seeds as independent values would cover only the second source of variance.
- :func:`holm`: Holm's step-down correction of a family of p-values.
- :func:`signed_rank_test`, :func:`cohens_dz`, :func:`paired_sample_size`: within-participant
  comparisons (the user study's report).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .errors import InvalidInput


def mean_ci(x: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """Mean and its t-based confidence interval ``(mean, low, high)``; with one value the
    interval is undefined (``nan``), never zero-width."""
    from scipy import stats

    a = np.asarray(x, dtype=float)
    if a.size == 0:
        raise InvalidInput("mean_ci needs at least one value")
    m = float(a.mean())
    if a.size < 2:
        return m, math.nan, math.nan
    half = float(stats.t.ppf(0.5 + level / 2, a.size - 1) * a.std(ddof=1) / math.sqrt(a.size))
    return m, m - half, m + half


def proportion_ci(k: int, n: int, level: float = 0.95) -> tuple[float, float, float]:
    """Share ``k/n`` and its Wilson score interval ``(p, low, high)``."""
    from scipy import stats

    if n <= 0:
        raise InvalidInput("proportion_ci needs n > 0")
    z = float(stats.norm.ppf(0.5 + level / 2))
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return p, centre - half, centre + half


def welch_greater(a: Sequence[float], b: Sequence[float]) -> float:
    """One-sided Welch t-test p-value for H1: mean(a) > mean(b)."""
    from scipy import stats

    return float(stats.ttest_ind(a, b, equal_var=False, alternative="greater").pvalue)


def normalized_score(
    x: Sequence[float], random: Sequence[float], oracle: Sequence[float], level: float = 0.95
) -> tuple[float, float, float]:
    """``(mean(x) - mean(random)) / (mean(oracle) - mean(random))`` on the same seeds (the three
    arrays paired by seed; ``nan``: a failed episode) with its 95% interval
    (:func:`normalized_estimate`): 0 is random, 1 the oracle. ``nan`` when the oracle does not
    beat random on these seeds."""
    arrays = [np.asarray(v, dtype=float) for v in (x, random, oracle)]
    if len({a.size for a in arrays}) != 1 or arrays[0].size == 0:
        raise InvalidInput("normalized_score needs three non-empty arrays paired by seed")
    est = normalized_estimate(*(a[None, :] for a in arrays), level=level)
    return est.value, est.low, est.high


def _normalize(x: np.ndarray, random: np.ndarray, oracle: np.ndarray) -> np.ndarray:
    gap = np.asarray(oracle - random, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(gap > 0, (x - random) / np.where(gap > 0, gap, 1.0), np.nan)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (family-wise error control), in the input's order."""
    p = np.asarray(p_values, dtype=float)
    m = p.size
    order = np.argsort(p, kind="stable")
    adjusted = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adjusted[i] = running
    return adjusted.tolist()


@dataclass
class Estimate:
    """A point estimate with its 95% interval."""

    value: float
    low: float
    high: float

    def as_list(self) -> list[float]:
        """``[low, high]``."""
        return [self.low, self.high]


def _run_part(x: np.ndarray) -> tuple[float, int]:
    """A method with several training runs: the variance of its mean from the spread of its
    run means (which carries its evaluation noise too), and the degrees of freedom."""
    means = np.nanmean(x, axis=1)
    return float(means.var(ddof=1) / len(means)), len(means) - 1


def _seed_part(one: np.ndarray, other: np.ndarray) -> tuple[float, int]:
    """A method evaluated once (one row), against ``other``: the variance of its evaluation noise
    in the difference, from the per-seed differences to ``other``'s per-seed mean over runs,
    less what ``other``'s own evaluation noise adds to them when it is counted by its runs."""
    theirs = np.nanmean(other, axis=0)
    d = one[0] - theirs
    ok = np.isfinite(d)
    n = int(ok.sum())
    if n < 2:
        return math.nan, max(n - 1, 0)
    v = float(d[ok].var(ddof=1))
    if other.shape[0] >= 2:  # other's within-run noise is already in its run means' spread
        dev = other[:, ok] - theirs[ok]
        r = other.shape[0]
        within = float(np.nanmean(np.nanvar(dev, axis=1, ddof=1))) * r / (r - 1)
        v = max(v - within / r, 0.0)
    return v / n, n - 1


def difference_test(a: np.ndarray, b: np.ndarray, level: float = 0.95) -> tuple[Estimate, float]:
    """``mean(a) - mean(b)`` for two methods evaluated on the same seeds (``(runs, seeds)`` each;
    ``nan``: a failed episode), its interval and two-sided p-value from a t statistic with
    Satterthwaite's degrees of freedom. A method with several training runs contributes the
    spread of its run means (training and evaluation noise, ``runs - 1`` degrees of freedom);
    one evaluated once contributes its evaluation noise, paired by seed. The shared seed effects
    cancel. Its size under the null is checked by simulation (``benchmarks/bench_test_size.py``
    and the tests)."""
    from scipy import stats

    a, b = np.atleast_2d(a).astype(float), np.atleast_2d(b).astype(float)
    diff = float(np.nanmean(a) - np.nanmean(b))
    var, df = _difference_variance(a, b)
    if math.isnan(var):  # too few seeds or runs to estimate a variance
        return Estimate(diff, math.nan, math.nan), math.nan
    if var <= 0:
        return Estimate(diff, diff, diff), (1.0 if diff == 0 else 0.0)
    half = float(stats.t.ppf(0.5 + level / 2, df)) * math.sqrt(var)
    p = float(2 * stats.t.sf(abs(diff) / math.sqrt(var), df))
    return Estimate(diff, diff - half, diff + half), p


def _difference_variance(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """The variance of ``mean(a) - mean(b)`` and its degrees of freedom (see
    :func:`difference_test`); ``(0, nan)`` when there is no variance, ``(nan, nan)`` when there
    are too few seeds to tell."""
    if a.shape[0] == 1 and b.shape[0] == 1:
        d = (a - b)[0]
        d = d[np.isfinite(d)]
        if len(d) < 2:
            return math.nan, math.nan
        return _combine([(float(d.var(ddof=1)) / len(d), len(d) - 1)])
    parts = [_run_part(x) if x.shape[0] >= 2 else _seed_part(x, y) for x, y in ((a, b), (b, a))]
    against_one = None if min(a.shape[0], b.shape[0]) >= 2 else parts[int(a.shape[0] == 1)]
    return _combine(parts, against_one)


def _combine(
    parts: list[tuple[float, float]], runs_against_one: tuple[float, float] | None = None
) -> tuple[float, float]:
    """Sum the parts ``(variance, degrees of freedom)`` of a difference's variance, with
    Satterthwaite's degrees of freedom. ``runs_against_one``: the part of a method with several
    runs when the other was evaluated once. ``(nan, nan)`` where a part has no degrees of
    freedom (one seed, one run): no interval and no test."""
    if any(k < 1 or not math.isfinite(v) for v, k in parts):
        return math.nan, math.nan
    var = sum(v for v, _ in parts)
    if var <= 0:
        return 0.0, math.nan
    df = var**2 / sum(v**2 / k for v, k in parts if v > 0)  # Satterthwaite
    if runs_against_one is not None and runs_against_one[0] > 0:
        # where the runs' few degrees of freedom carry most of the variance, Satterthwaite's
        # estimate runs high and the test rejects too often; at most the runs' degrees of
        # freedom over their share of the variance (chosen by simulation)
        v_runs, k_runs = runs_against_one
        df = min(df, k_runs * var / v_runs)
    return var, df


def detectable_difference(
    a: np.ndarray, b: np.ndarray, power: float = 0.8, alpha: float = 0.05
) -> float:
    """The smallest true ``mean(a) - mean(b)`` that :func:`difference_test` would detect at
    level ``alpha`` (two-sided) with probability ``power``, at these runs and seeds and the
    variance they show: ``(t(1 - alpha/2) + t(power)) * SE`` with the test's degrees of freedom.
    ``nan`` when the returns show no variance."""
    a, b = np.atleast_2d(a).astype(float), np.atleast_2d(b).astype(float)
    return _detectable(*_difference_variance(a, b), power, alpha)


def _detectable(var: float, df: float, power: float, alpha: float) -> float:
    """``(t(1 - alpha/2) + t(power)) * sqrt(var)`` at ``df`` degrees of freedom; ``nan``
    without variance."""
    from scipy import stats

    if not var > 0:
        return math.nan
    return float((stats.t.ppf(1 - alpha / 2, df) + stats.t.ppf(power, df)) * math.sqrt(var))


def run_components(x: np.ndarray) -> tuple[float, float]:
    """A method with several training runs (``(runs, seeds)``): its between-run variance (the
    run means' spread less what the per-episode noise puts in it, at least 0) and its
    per-episode noise variance (the spread across runs on one seed)."""
    noise = float(np.nanmean(np.nanvar(x, axis=0, ddof=1)))
    return max(_run_part(x)[0] * len(x) - noise / x.shape[1], 0.0), noise


def projected_variance(a: np.ndarray, b: np.ndarray, runs: int, seeds: int) -> tuple[float, float]:
    """The variance of ``mean(a) - mean(b)`` and its degrees of freedom in
    :func:`difference_test` had every method with several training runs ``runs`` of them and
    every method ``seeds`` evaluation seeds, from the variance components ``a`` and ``b`` show:
    a trained method's between-run variance (its run means' spread less what the evaluation
    noise puts in it, at least 0) and its per-episode noise (the spread across runs on one
    seed); a method evaluated once, its per-seed noise against the other. At the observed sizes
    it is the test's own, unless a between-run estimate fell below 0 and was set to 0."""
    if runs < 2 or seeds < 2:
        raise InvalidInput(f"need runs >= 2 and seeds >= 2, got {runs} and {seeds}")
    a, b = np.atleast_2d(a).astype(float), np.atleast_2d(b).astype(float)
    if a.shape[0] == 1 and b.shape[0] == 1:
        d = (a - b)[0]
        return _combine([(float(np.nanvar(d, ddof=1)) / seeds, seeds - 1)])
    parts = []
    for x, y in ((a, b), (b, a)):
        if x.shape[0] >= 2:
            between, noise = run_components(x)
            parts.append(((between + noise / seeds) / runs, runs - 1))
        else:
            v, k = _seed_part(x, y)
            parts.append((v * (k + 1) / seeds, seeds - 1))
    one = min(a.shape[0], b.shape[0]) == 1
    return _combine(parts, parts[int(a.shape[0] == 1)] if one else None)


def projected_detectable(
    a: np.ndarray,
    b: np.ndarray,
    runs: int,
    seeds: int,
    power: float = 0.8,
    alpha: float = 0.05,
) -> float:
    """:func:`detectable_difference` at ``runs`` training runs and ``seeds`` evaluation seeds,
    with the variance :func:`projected_variance` projects from ``a`` and ``b``; ``nan``
    without variance."""
    return _detectable(*projected_variance(a, b, runs, seeds), power, alpha)


def mean_estimate(x: np.ndarray, level: float = 0.95) -> Estimate:
    """A method's mean over its runs and seeds (``(runs, seeds)``; ``nan``: a failed episode)
    with the interval of :func:`difference_test` against 0: the spread of its run means and,
    paired by seed, the variance the evaluation seeds add (its coverage is checked by
    simulation in the tests)."""
    x = np.atleast_2d(np.asarray(x, dtype=float))
    return difference_test(x, np.zeros((1, x.shape[1])), level)[0]


def normalized_estimate(
    x: np.ndarray, random: np.ndarray, oracle: np.ndarray, level: float = 0.95
) -> Estimate:
    """``(mean(x) - mean(random)) / (mean(oracle) - mean(random))`` (each ``(runs, seeds)`` on
    the same seeds) with Fieller's interval: every ``theta`` that :func:`difference_test` does
    not reject as ``mean(x) - mean((1 - theta) random + theta oracle) = 0``. So the ratio's
    interval carries the same variance parts and degrees of freedom as the tests, and it is
    asymmetric where the denominator is uncertain. ``nan`` bounds where the oracle is not
    clearly above random (the set is then not a bounded interval); its coverage is checked by
    simulation in the tests."""
    from scipy.optimize import brentq

    x, random, oracle = (np.atleast_2d(np.asarray(v, dtype=float)) for v in (x, random, oracle))
    if random.shape[0] != 1 or oracle.shape[0] != 1:
        raise InvalidInput("normalized_estimate needs one row each for random and the oracle")
    point = float(_normalize(np.nanmean(x), np.nanmean(random), np.nanmean(oracle)))
    if not math.isfinite(point):
        return Estimate(math.nan, math.nan, math.nan)
    alpha = 1 - level

    def excess(theta: float) -> float:  # > 0 where theta is not rejected
        return difference_test(x, (1 - theta) * random + theta * oracle, level)[1] - alpha

    first = excess(point)
    if math.isnan(first):  # too few seeds or runs for a test
        return Estimate(point, math.nan, math.nan)
    if first <= 0:  # no variance at all: the interval is the point
        return Estimate(point, point, point)
    bounds = []
    for sign in (-1.0, 1.0):
        step = max(abs(point), 1.0) * 0.1
        while excess(point + sign * step) > 0:
            step *= 2
            if step > 1e6:  # never rejected: the denominator may be 0
                return Estimate(point, math.nan, math.nan)
        bounds.append(brentq(excess, point, point + sign * step, xtol=1e-6))
    return Estimate(point, bounds[0], bounds[1])


class MethodReturns:
    """Every method's returns on the same evaluation seeds, with their means, intervals, tests
    and normalized scores.

    ``returns[name]`` is an array ``(training runs, evaluation seeds)`` (one row for an agent
    that is not trained); every method shares the same evaluation seeds, in the same column
    order. ``nan`` marks an episode that failed (left out of the means). The intervals and
    tests cover both the training runs and the evaluation seeds (:func:`difference_test`).
    """

    def __init__(self, returns: Mapping[str, np.ndarray]) -> None:
        if not returns:
            raise InvalidInput("MethodReturns needs at least one method")
        self.returns = {k: np.atleast_2d(np.asarray(v, dtype=float)) for k, v in returns.items()}
        widths = {v.shape[1] for v in self.returns.values()}
        if len(widths) != 1:
            raise InvalidInput(f"every method needs the same evaluation seeds; widths {widths}")

    def point(self, name: str) -> float:
        """The method's mean return over every run and seed (failed episodes left out)."""
        return float(np.nanmean(self.returns[name]))

    def mean(self, name: str) -> Estimate:
        """Mean return with its 95% interval (:func:`mean_estimate`)."""
        return mean_estimate(self.returns[name])

    def run_means(self, name: str) -> list[float]:
        """The mean return of each training run (its spread is the training-seed variance)."""
        return [float(np.nanmean(row)) for row in self.returns[name]]

    def diff(self, a: str, b: str) -> tuple[Estimate, float]:
        """``mean(a) - mean(b)`` with its 95% interval and two-sided p-value
        (:func:`difference_test`)."""
        return difference_test(self.returns[a], self.returns[b])

    def normalized(self, name: str, random: str = "random", oracle: str = "oracle") -> Estimate:
        """``(x - random) / (oracle - random)`` on the same seeds, with Fieller's interval from
        the difference test (:func:`normalized_estimate`)."""
        r = self.returns
        return normalized_estimate(r[name], r[random], r[oracle])


def spearman_gap(
    sim: np.ndarray, other: np.ndarray, real: np.ndarray, resamples: int = 2000, seed: int = 0
) -> dict[str, float]:
    """How much worse ``sim`` ranks ``real`` than ``other`` does (Spearman correlations, paired on
    the same items): the difference, its bootstrap standard error over ``resamples`` paired
    resamples of the items, and the share of resamples in which ``sim`` ranks them worse."""
    from scipy.stats import spearmanr

    rng = np.random.default_rng(seed)
    gaps = np.empty(resamples)
    for b in range(resamples):
        i = rng.integers(0, len(real), len(real))
        gaps[b] = spearmanr(sim[i], real[i]).statistic - spearmanr(other[i], real[i]).statistic
    diff = spearmanr(sim, real).statistic - spearmanr(other, real).statistic
    return {
        "spearman_gap": round(float(diff), 4),
        "spearman_gap_se": round(float(gaps.std()), 4),
        "share_worse": round(float(np.mean(gaps < 0)), 4),
    }


def signed_rank_test(d: Sequence[float]) -> tuple[float, float]:
    """Wilcoxon signed-rank test of paired differences ``d`` against 0 (two-sided; zero
    differences dropped, exact distribution for small samples as scipy chooses) and the
    matched-pairs rank-biserial correlation (effect size, -1..1). ``(p, r)``; with no non-zero
    difference ``(1.0, 0.0)``."""
    from scipy import stats

    x = np.asarray(d, dtype=float)
    x = x[x != 0]
    if x.size == 0:
        return 1.0, 0.0
    ranks = stats.rankdata(np.abs(x))
    r = float((ranks[x > 0].sum() - ranks[x < 0].sum()) / ranks.sum())
    p = float(stats.wilcoxon(x, alternative="two-sided").pvalue)
    return p, r


def cohens_dz(d: Sequence[float]) -> float:
    """Standardized mean of paired differences (``mean / sd``); ``nan`` when undefined."""
    x = np.asarray(d, dtype=float)
    if x.size < 2:
        return math.nan
    sd = float(x.std(ddof=1))
    if sd == 0:
        return math.inf if x.mean() != 0 else math.nan
    return float(x.mean()) / sd


def paired_sample_size(dz: float, power: float = 0.8, alpha: float = 0.05) -> int | None:
    """Pairs needed for a two-sided paired t-test at level ``alpha`` to reach ``power`` when the
    true standardized effect is ``dz`` (noncentral t). ``None`` when ``dz`` is 0 or undefined;
    2 for an infinite effect."""
    from scipy import stats

    if not math.isfinite(dz):
        return 2 if math.isinf(dz) else None
    if dz == 0:
        return None
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    start = max(2, int((z / abs(dz)) ** 2) - 3)  # the normal approximation, a little under
    for n in range(start, start + 10_000):
        df = n - 1
        t = stats.t.ppf(1 - alpha / 2, df)
        nc = abs(dz) * math.sqrt(n)
        achieved = stats.nct.sf(t, df, nc) + stats.nct.cdf(-t, df, nc)
        if achieved >= power:
            return n
    return None


def fmt_ci(m: float, lo: float, hi: float, digits: int = 3, signed: bool = False) -> str:
    """``"m [lo, hi]"`` with ``digits`` decimals (``signed``: with a sign, for differences)."""
    f = f"+.{digits}f" if signed else f".{digits}f"
    return f"{m:{f}} [{lo:{f}}, {hi:{f}}]"
