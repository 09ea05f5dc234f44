"""Confidence intervals and significance tests used in reports and evaluation."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def mean_ci(x: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """Mean and its t-based confidence interval ``(mean, low, high)``."""
    from scipy import stats

    a = np.asarray(x, dtype=float)
    if a.size == 0:
        raise ValueError("mean_ci needs at least one value")
    m = float(a.mean())
    if a.size < 2:
        return m, m, m
    half = float(stats.t.ppf(0.5 + level / 2, a.size - 1) * a.std(ddof=1) / math.sqrt(a.size))
    return m, m - half, m + half


def proportion_ci(k: int, n: int, level: float = 0.95) -> tuple[float, float, float]:
    """Share ``k/n`` and its Wilson score interval ``(p, low, high)``."""
    from scipy import stats

    if n <= 0:
        raise ValueError("proportion_ci needs n > 0")
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


def paired_bootstrap(
    a: Sequence[float], b: Sequence[float], n_boot: int = 10_000, seed: int = 0
) -> tuple[float, tuple[float, float], float]:
    """Mean of ``a - b`` over pairs, its 95% bootstrap interval, and a two-sided p-value (twice
    the share of resampled means on the far side of 0, at least ``1 / n_boot``)."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if d.size == 0:
        raise ValueError("paired_bootstrap needs at least one pair")
    rng = np.random.default_rng(seed)
    boots = d[rng.integers(0, d.size, size=(n_boot, d.size))].mean(axis=1)
    lo, hi = np.percentile(boots, [2.5, 97.5])
    p = max(2 * min(float(np.mean(boots <= 0)), float(np.mean(boots >= 0))), 1.0 / n_boot)
    return float(d.mean()), (float(lo), float(hi)), min(1.0, p)


def fmt_ci(m: float, lo: float, hi: float, digits: int = 3) -> str:
    """``"m [lo, hi]"`` with ``digits`` decimals."""
    return f"{m:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"
