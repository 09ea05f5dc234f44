"""The size of the benchmark's difference tests under the null, by simulation.

Two methods drawn from the same distribution, ``R`` training runs each, evaluated on the same
``n`` evaluation seeds: an episode's return is a shared seed effect (sd 0.3) plus the run's own
effect (sd ``between``) plus per-episode noise (sd 0.4). The within-run standard error of a run's
mean is then 0.4 / sqrt(n) (0.028 for 200 seeds). For each number of runs and between-run sd,
the share of simulated nulls with p < 0.05 is printed for each test:

- ``bootstrap``: the two-level bootstrap's replicates of the difference (what the benchmark used
  before :func:`dialogue_gym.stats.difference_test`: each replicate resamples the evaluation
  seeds, shared by every method, then each method's training runs);
- ``welch``: Welch's t-test on the two methods' run means (the shared seed effect is common to
  every run mean, so it cancels in the difference);
- ``paired-runs``: a one-sample t-test, ``R - 1`` degrees of freedom, on the per-training-seed
  differences of run means (the benchmark trains run ``s`` of every method on dataset ``s``);
- ``t (ours)``: :func:`dialogue_gym.stats.difference_test` (Satterthwaite's degrees of freedom);
- ``... vs one``: the trained method against an agent evaluated once (a baseline: one row, no
  training effect), by the bootstrap and by ``difference_test``.

A test whose size is right rejects 5% of the time; the issue's band is [0.03, 0.07].

A second table gives the coverage of the normalized score's 95% interval,
``(x - random) / (oracle - random)`` with random and the oracle evaluated once and ``x`` trained
``R`` times (true value 0.75): Fieller's interval by inverting the difference test
(:func:`dialogue_gym.stats.normalized_estimate`, what the benchmark prints) against the two-level
bootstrap's percentiles (what it printed before), and the mean width of each.

With ``--run DIR`` it instead reads a finished benchmark run and prints, per env, every test of
the headline method under both (p and Holm's p), marking the tests whose conclusion at 0.05
(Holm) differs: which of the run's conclusions the calibrated test changes.

Usage: ``python benchmarks/bench_test_size.py [--sims 300] [--runs 3 5 10] [--n-boot 2000]``
or ``python benchmarks/bench_test_size.py --run RUN_DIR [--n-boot 10000]``
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from scipy import stats as sps

from dialogue_gym.benchmark.add import read_run
from dialogue_gym.benchmark.config import HEADLINE_METHOD
from dialogue_gym.benchmark.returns import saved_returns
from dialogue_gym.stats import difference_test, holm, normalized_estimate

SEED_SD, NOISE_SD = 0.3, 0.4


def simulate(rng: np.random.Generator, runs: int, n: int, between: float) -> dict[str, np.ndarray]:
    """Returns ``(runs, n)`` per trained method under the null (same distribution for both),
    and ``c``: an agent evaluated once (one row, no training effect) with the same mean."""
    seed_effect = rng.normal(0, SEED_SD, n)
    out = {
        m: seed_effect + rng.normal(0, between, (runs, 1)) + rng.normal(0, NOISE_SD, (runs, n))
        for m in ("a", "b")
    }
    out["c"] = (seed_effect + rng.normal(0, NOISE_SD, n))[None, :]
    return out


def bootstrap_replicates(
    returns: dict[str, np.ndarray], n_boot: int, seed: int
) -> dict[str, np.ndarray]:
    """The two-level bootstrap the benchmark used before: each of ``n_boot`` replicates draws one
    resample of the evaluation seeds for every method and, per method, a resample of its rows
    (training runs); a method's replicate is its mean over the drawn rows and columns."""
    rng = np.random.default_rng(seed)
    n_eval = next(iter(returns.values())).shape[1]
    weights = np.zeros((n_boot, n_eval))  # how often each evaluation seed was drawn
    np.add.at(weights, (np.arange(n_boot)[:, None], rng.integers(0, n_eval, (n_boot, n_eval))), 1)
    out = {}
    for name, x in returns.items():
        row_sums = x @ weights.T  # (runs, n_boot)
        rows = rng.integers(0, x.shape[0], size=(n_boot, x.shape[0]))
        out[name] = row_sums[rows, np.arange(n_boot)[:, None]].sum(axis=1) / (x.shape[0] * n_eval)
    return out


def resampled_p(boots: dict[str, np.ndarray], a: str, b: str) -> float:
    """The p-value the benchmark used before: twice the share of two-level bootstrap replicates
    of ``a - b`` on the far side of 0."""
    d = boots[a] - boots[b]
    return min(1.0, max(2 * min(float(np.mean(d <= 0)), float(np.mean(d >= 0))), 1 / len(d)))


TESTS = ("bootstrap", "welch", "paired-runs", "t (ours)", "bootstrap vs one", "t (ours) vs one")


def p_values(returns: dict[str, np.ndarray], n_boot: int, seed: int) -> dict[str, float]:
    """Each test's two-sided p-value for a - b (two trained methods) and a - c (a trained
    method against one evaluated once)."""
    boots = bootstrap_replicates(returns, n_boot, seed)
    ma, mb = returns["a"].mean(axis=1), returns["b"].mean(axis=1)
    return {
        "bootstrap": resampled_p(boots, "a", "b"),
        "welch": float(sps.ttest_ind(ma, mb, equal_var=False).pvalue),
        "paired-runs": float(sps.ttest_1samp(ma - mb, 0.0).pvalue),
        "t (ours)": difference_test(returns["a"], returns["b"])[1],
        "bootstrap vs one": resampled_p(boots, "a", "c"),
        "t (ours) vs one": difference_test(returns["a"], returns["c"])[1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sims", type=int, default=300)
    parser.add_argument("--runs", type=int, nargs="+", default=[3, 5, 10])
    parser.add_argument("--seeds", type=int, default=200, help="evaluation seeds")
    parser.add_argument("--n-boot", type=int, default=2000)
    parser.add_argument("--run", type=Path, help="a finished run: its tests under both")
    args = parser.parse_args()
    if args.run:
        run_conclusions(args.run, args.n_boot)
        return
    se = NOISE_SD / np.sqrt(args.seeds)
    multiples = (0.0, 1.0, 2.0, 5.0)
    print(f"within-run SE {se:.4f}; between-run sd k x SE, k in {multiples}; {args.sims} nulls")
    print("| runs | between sd (x SE) | " + " | ".join(TESTS) + " |")
    print("| --- | --- |" + " --- |" * len(TESTS))
    rng = np.random.default_rng(0)
    t0 = time.time()
    for runs in args.runs:
        for k in multiples:
            hits = dict.fromkeys(TESTS, 0)
            for i in range(args.sims):
                p = p_values(simulate(rng, runs, args.seeds, k * se), args.n_boot, seed=i)
                for name, value in p.items():
                    hits[name] += value < 0.05
            shares = " | ".join(f"{hits[h] / args.sims:.3f}" for h in hits)
            print(f"| {runs} | {k * se:.3f} ({k:g}x) | {shares} |", flush=True)
    print(f"{time.time() - t0:.0f} s")
    normalized_coverage(args, rng, se, multiples)


def run_conclusions(run_dir: Path, n_boot: int) -> None:
    """A finished run's headline tests under the two-level bootstrap and under
    :func:`difference_test`, Holm over each env's family, and where the conclusion differs."""
    for result in read_run(run_dir)["results"]:
        returns = saved_returns(result)
        others = [m for m in returns if m != HEADLINE_METHOD]
        boots = bootstrap_replicates(returns, n_boot, seed=0)
        old = [resampled_p(boots, HEADLINE_METHOD, m) for m in others]
        tests = [difference_test(returns[HEADLINE_METHOD], returns[m]) for m in others]
        new = [p for _, p in tests]
        print(f"\n## {result['env_id']}: {HEADLINE_METHOD} minus each method\n")
        print("| versus | diff | bootstrap p (Holm) | t p (Holm) | conclusion at 0.05 (Holm) |")
        print("| --- | --- | --- | --- | --- |")
        rows = zip(others, tests, old, holm(old), new, holm(new), strict=True)
        for name, (est, _), p_old, h_old, p_new, h_new in rows:
            verdict = "same" if (h_old < 0.05) == (h_new < 0.05) else "**changes**"
            print(
                f"| {name} | {est.value:+.3f} | {p_old:.3g} ({h_old:.3g}) | "
                f"{p_new:.3g} ({h_new:.3g}) | {verdict} |"
            )


TRUE_SCORE = 0.75


def normalized_coverage(
    args: argparse.Namespace, rng: np.random.Generator, se: float, multiples: tuple[float, ...]
) -> None:
    """Coverage and mean width of the normalized score's interval: random (mean 0) and the
    oracle (mean 0.8) evaluated once, ``x`` (mean 0.6, so 0.75) trained ``R`` times."""
    print("\nnormalized score (true 0.75): coverage of the 95% interval (mean width)")
    print("| runs | between sd (x SE) | Fieller (ours) | two-level bootstrap |")
    print("| --- | --- | --- | --- |")
    t0 = time.time()
    for runs in args.runs:
        for k in multiples:
            hits, widths = np.zeros(2), np.zeros(2)
            for i in range(args.sims):
                seed_effect = rng.normal(0, SEED_SD, args.seeds)
                r, o = (
                    (seed_effect + mean + rng.normal(0, NOISE_SD, args.seeds))[None]
                    for mean in (0.0, 0.8)
                )
                x = (
                    seed_effect
                    + 0.6
                    + rng.normal(0, k * se, (runs, 1))
                    + rng.normal(0, NOISE_SD, (runs, args.seeds))
                )
                est = normalized_estimate(x, r, o)
                b = bootstrap_replicates({"x": x, "r": r, "o": o}, args.n_boot, seed=i)
                ratio = (b["x"] - b["r"]) / (b["o"] - b["r"])
                lo, hi = np.percentile(ratio, [2.5, 97.5])
                for j, (low, high) in enumerate(((est.low, est.high), (lo, hi))):
                    hits[j] += low <= TRUE_SCORE <= high
                    widths[j] += high - low
            cells = [
                f"{h / args.sims:.3f} ({w / args.sims:.2f})"
                for h, w in zip(hits, widths, strict=True)
            ]
            print(f"| {runs} | {k * se:.3f} ({k:g}x) | {' | '.join(cells)} |", flush=True)
    print(f"{time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
