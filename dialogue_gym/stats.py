"""Confidence intervals and significance tests used in reports, evaluation and the benchmark.

- :func:`mean_ci`, :func:`proportion_ci`: one sample of independent values.
- :func:`paired_bootstrap`, :func:`normalized_score`: one run per method, paired by evaluation
  seed.
- :class:`TwoLevelBootstrap`: several training runs per method, all evaluated on the same seeds.
  Each replicate resamples the evaluation seeds (shared by every method, so comparisons stay
  paired) and, independently per method, its training runs; the normalized score's interval
  comes from the replicates. A mean's interval (:func:`mean_estimate`) and a difference's test
  and interval (:func:`difference_test`: a t statistic with Satterthwaite's degrees of freedom)
  come from the training runs' means and the seeds (resampling a few runs understates their
  variance), with coverage and size checked by simulation. All cover both sources of
  variance; pooling training runs x evaluation seeds as independent values covers only the
  second.
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


def _two_sided_p(boots: np.ndarray) -> float:
    """Twice the share of bootstrap values on the far side of 0 (at least ``1 / len``)."""
    p = 2 * min(float(np.mean(boots <= 0)), float(np.mean(boots >= 0)))
    return min(1.0, max(p, 1.0 / len(boots)))


def paired_bootstrap(
    a: Sequence[float], b: Sequence[float], n_boot: int = 10_000, seed: int = 0
) -> tuple[float, tuple[float, float], float]:
    """Mean of ``a - b`` over pairs, its 95% bootstrap interval, and a two-sided p-value (twice
    the share of resampled means on the far side of 0, at least ``1 / n_boot``)."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if d.size == 0:
        raise InvalidInput("paired_bootstrap needs at least one pair")
    rng = np.random.default_rng(seed)
    boots = d[rng.integers(0, d.size, size=(n_boot, d.size))].mean(axis=1)
    lo, hi = np.percentile(boots, [2.5, 97.5])
    return float(d.mean()), (float(lo), float(hi)), _two_sided_p(boots)


def normalized_score(
    x: Sequence[float],
    random: Sequence[float],
    oracle: Sequence[float],
    n_boot: int = 10_000,
    seed: int = 0,
) -> tuple[float, float, float]:
    """``(mean(x) - mean(random)) / (mean(oracle) - mean(random))`` on the same seeds (the three
    arrays paired by seed), with a 95% bootstrap interval over seeds: 0 is random, 1 the oracle.
    ``nan`` when the oracle does not beat random on these seeds."""
    arrays = [np.asarray(v, dtype=float) for v in (x, random, oracle)]
    if len({a.size for a in arrays}) != 1 or arrays[0].size == 0:
        raise InvalidInput("normalized_score needs three non-empty arrays paired by seed")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, arrays[0].size, size=(n_boot, arrays[0].size))
    point = _normalize(*(a.mean() for a in arrays))
    boots = _normalize(*(a[idx].mean(axis=1) for a in arrays))
    return float(point), *_percentiles(boots)


def _normalize(x: np.ndarray, random: np.ndarray, oracle: np.ndarray) -> np.ndarray:
    gap = np.asarray(oracle - random, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(gap > 0, (x - random) / np.where(gap > 0, gap, 1.0), np.nan)


def _percentiles(boots: np.ndarray) -> tuple[float, float]:
    finite = boots[np.isfinite(boots)]
    if finite.size < 0.99 * boots.size:  # the denominator crossed 0 too often: no interval
        return math.nan, math.nan
    lo, hi = np.percentile(finite, [2.5, 97.5])
    return float(lo), float(hi)


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
    if var <= 0:
        return Estimate(diff, diff, diff), (1.0 if diff == 0 else 0.0)
    half = float(stats.t.ppf(0.5 + level / 2, df)) * math.sqrt(var)
    p = float(2 * stats.t.sf(abs(diff) / math.sqrt(var), df))
    return Estimate(diff, diff - half, diff + half), p


def _difference_variance(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """The variance of ``mean(a) - mean(b)`` and its degrees of freedom (see
    :func:`difference_test`); ``(0, nan)`` when there is no variance."""
    if a.shape[0] == 1 and b.shape[0] == 1:
        d = (a - b)[0]
        d = d[np.isfinite(d)]
        parts = [(float(d.var(ddof=1)) / len(d), len(d) - 1)]
    else:
        parts = [_run_part(x) if x.shape[0] >= 2 else _seed_part(x, y) for x, y in ((a, b), (b, a))]
    var = sum(v for v, _ in parts)
    if var <= 0:
        return 0.0, math.nan
    df = var**2 / sum(v**2 / k for v, k in parts if v > 0)  # Satterthwaite
    if a.shape[0] != b.shape[0] and min(a.shape[0], b.shape[0]) == 1:
        # runs against one row: where the runs' few degrees of freedom carry most of the
        # variance, Satterthwaite's estimate runs high and the test rejects too often; at most
        # the runs' degrees of freedom over their share of the variance (chosen by simulation)
        v_runs, k_runs = parts[0] if a.shape[0] > 1 else parts[1]
        if v_runs > 0:
            df = min(df, k_runs * var / v_runs)
    return var, df


def detectable_difference(
    a: np.ndarray, b: np.ndarray, power: float = 0.8, alpha: float = 0.05
) -> float:
    """The smallest true ``mean(a) - mean(b)`` that :func:`difference_test` would detect at
    level ``alpha`` (two-sided) with probability ``power``, at these runs and seeds and the
    variance they show: ``(t(1 - alpha/2) + t(power)) * SE`` with the test's degrees of freedom.
    ``nan`` when the returns show no variance."""
    from scipy import stats

    a, b = np.atleast_2d(a).astype(float), np.atleast_2d(b).astype(float)
    var, df = _difference_variance(a, b)
    if var <= 0:
        return math.nan
    return float((stats.t.ppf(1 - alpha / 2, df) + stats.t.ppf(power, df)) * math.sqrt(var))


def mean_estimate(x: np.ndarray, level: float = 0.95) -> Estimate:
    """A method's mean over its runs and seeds (``(runs, seeds)``; ``nan``: a failed episode)
    with the interval of :func:`difference_test` against 0: the spread of its run means and,
    paired by seed, the variance the evaluation seeds add (its coverage is checked by
    simulation in the tests)."""
    x = np.atleast_2d(np.asarray(x, dtype=float))
    return difference_test(x, np.zeros((1, x.shape[1])), level)[0]


class TwoLevelBootstrap:
    """A hierarchical bootstrap over training runs and evaluation seeds.

    ``returns[name]`` is an array ``(training runs, evaluation seeds)`` (one row for an agent
    that is not trained); every method shares the same evaluation seeds, in the same column
    order. ``nan`` marks an episode that failed (left out of the means). Each of ``n_boot``
    replicates draws one resample of the evaluation seeds for all methods and, per method, a
    resample of its rows; a method's replicate is its mean over the drawn rows and columns.
    """

    def __init__(
        self, returns: Mapping[str, np.ndarray], n_boot: int = 10_000, seed: int = 0
    ) -> None:
        if not returns:
            raise InvalidInput("TwoLevelBootstrap needs at least one method")
        self.returns = {k: np.atleast_2d(np.asarray(v, dtype=float)) for k, v in returns.items()}
        widths = {v.shape[1] for v in self.returns.values()}
        if len(widths) != 1:
            raise InvalidInput(f"every method needs the same evaluation seeds; widths {widths}")
        n_eval = widths.pop()
        rng = np.random.default_rng(seed)
        cols = rng.integers(0, n_eval, size=(n_boot, n_eval))
        # column weights of each replicate: how often each evaluation seed was drawn
        weights = np.zeros((n_boot, n_eval))
        np.add.at(weights, (np.arange(n_boot)[:, None], cols), 1.0)
        self.boots: dict[str, np.ndarray] = {}
        for name, x in self.returns.items():
            ok = np.isfinite(x)
            row_sums = np.where(ok, x, 0.0) @ weights.T  # (runs, n_boot)
            row_counts = ok.astype(float) @ weights.T
            rows = rng.integers(0, x.shape[0], size=(n_boot, x.shape[0]))
            picked = np.arange(n_boot)[:, None]
            total = row_sums[rows, picked].sum(axis=1)
            count = row_counts[rows, picked].sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                self.boots[name] = total / count

    def point(self, name: str) -> float:
        """The method's mean return over every run and seed (failed episodes left out)."""
        return float(np.nanmean(self.returns[name]))

    def mean(self, name: str) -> Estimate:
        """Mean return with its 95% interval (:func:`mean_estimate`: resampling a few training
        runs understates their variance)."""
        return mean_estimate(self.returns[name])

    def run_means(self, name: str) -> list[float]:
        """The mean return of each training run (its spread is the training-seed variance)."""
        return [float(np.nanmean(row)) for row in self.returns[name]]

    def diff(self, a: str, b: str) -> tuple[Estimate, float]:
        """``mean(a) - mean(b)`` with its 95% interval and two-sided p-value: the
        :func:`difference_test` on the same returns (resampling a few training runs misstates
        their variance, so the tests and their intervals do not come from the replicates)."""
        return difference_test(self.returns[a], self.returns[b])

    def normalized(self, name: str, random: str = "random", oracle: str = "oracle") -> Estimate:
        """``(x - random) / (oracle - random)`` on the same seeds, with its interval."""
        point = _normalize(
            np.float64(self.point(name)),
            np.float64(self.point(random)),
            np.float64(self.point(oracle)),
        )
        boots = _normalize(self.boots[name], self.boots[random], self.boots[oracle])
        return Estimate(float(point), *_percentiles(boots))


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
