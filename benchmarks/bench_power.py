"""How the power of the benchmark's tests grows with training runs and evaluation seeds.

Reads a finished benchmark run (its ``benchmark.json`` keeps every episode's return) and, per
env, takes the variance components its returns show: each trained method's between-run
variance and per-episode noise, and each method evaluated once its per-seed noise
(:func:`dialogue_gym.stats.projected_variance`). For the headline method's tests against every
other row it prints, in normalized units (the run's oracle minus random is 1):

- the smallest difference each test would detect with 80% power at each number of training runs
  and evaluation seeds of the grid (:func:`dialogue_gym.stats.projected_detectable`);
- the power at a normalized difference of ``--target`` (0.1) for the hardest test (the one with
  the largest detectable difference), from the noncentral t;
- the smallest grid point where every test detects ``--target`` with 80% power;
- a check by simulation: returns drawn from the fitted components with a true difference of
  ``--target`` at that grid point, tested by :func:`dialogue_gym.stats.difference_test`.

The components come from the run's own sizes (its offline steps, its evaluation seeds); a run
with other training sizes has other between-run variances. Unadjusted level 0.05: Holm over the
family asks for more.

Usage: ``python benchmarks/bench_power.py RUN_DIR [--runs 3 5 8 10] [--seeds 60 200 400]
[--target 0.1] [--sims 400]``
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
from scipy import stats as sps

from dialogue_gym.benchmark.add import read_run
from dialogue_gym.benchmark.config import HEADLINE_METHOD
from dialogue_gym.benchmark.returns import saved_returns
from dialogue_gym.stats import (
    difference_test,
    projected_detectable,
    projected_variance,
    run_components,
)


def power_at(delta: float, var: float, df: float, alpha: float = 0.05) -> float:
    """The two-sided t test's power at a true difference ``delta`` (noncentral t)."""
    if var <= 0:
        return 1.0
    crit = sps.t.ppf(1 - alpha / 2, df)
    shift = delta / math.sqrt(var)
    return float(sps.nct.sf(crit, df, shift) + sps.nct.cdf(-crit, df, shift))


def components(x: np.ndarray) -> tuple[float, float]:
    """A trained method's between-run sd and per-episode noise sd (:func:`run_components`)."""
    between, noise = run_components(x)
    return math.sqrt(between), math.sqrt(noise)


def simulate_power(
    rng: np.random.Generator,
    a: np.ndarray,
    b: np.ndarray,
    delta: float,
    runs: int,
    seeds: int,
    sims: int,
) -> float:
    """The share of ``sims`` draws in which :func:`difference_test` rejects at 0.05: each method
    drawn with its fitted components (a shared seed effect from ``b``'s per-seed means; a trained
    method: its between-run and noise sds; one evaluated once: its per-seed noise against ``b``)
    and a true difference ``delta``."""
    seed_sd = float(np.nanstd(np.nanmean(b, axis=0), ddof=1))
    hits = 0
    for _ in range(sims):
        shared = rng.normal(0, seed_sd, seeds)
        drawn = []
        for x, shift in ((a, delta), (b, 0.0)):
            if x.shape[0] >= 2:
                (between, noise), rows = components(x), runs
            else:  # its per-seed spread against the other (a little more than its own noise)
                other = b if x is a else a
                between, rows = 0.0, 1
                noise = float(np.nanstd(x[0] - np.nanmean(other, axis=0), ddof=1))
            drawn.append(
                shared
                + shift
                + rng.normal(0, between, (rows, 1))
                + rng.normal(0, noise, (rows, seeds))
            )
        hits += difference_test(*drawn)[1] < 0.05
    return hits / sims


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path, help="a finished benchmark run's output folder")
    parser.add_argument("--runs", type=int, nargs="+", default=[3, 5, 8, 10])
    parser.add_argument("--seeds", type=int, nargs="+", default=[60, 200, 400])
    parser.add_argument("--target", type=float, default=0.1, help="normalized difference")
    parser.add_argument("--sims", type=int, default=400)
    args = parser.parse_args()
    summary = read_run(args.run)
    cfg = summary["config"]
    print(
        f"{args.run}: {cfg['train_seeds']} training runs, {cfg['eval_episodes']} evaluation "
        f"seeds, {cfg['offline_steps']} offline steps, {cfg['ppo_steps']} PPO steps"
    )
    grid = [(r, n) for r in args.runs for n in args.seeds]
    enough: dict[str, set[tuple[int, int]]] = {}
    rng = np.random.default_rng(0)
    for result in summary["results"]:
        env_id = result["env_id"]
        returns = saved_returns(result)
        gap = float(np.nanmean(returns["oracle"]) - np.nanmean(returns["random"]))
        head = returns[HEADLINE_METHOD]
        others = [m for m in returns if m != HEADLINE_METHOD]
        print(f"\n## {env_id} (oracle - random = {gap:.3f}, the normalized unit)\n")
        print("trained methods' between-run sd and per-episode noise sd (return units):")
        for name, x in returns.items():
            if x.shape[0] >= 2:
                between, noise = components(x)
                print(f"- {name}: between {between:.3f}, noise {noise:.3f}")
        print(
            f"\n{HEADLINE_METHOD} minus each method: normalized difference detectable with 80% "
            "power (runs x evaluation seeds)\n"
        )
        print("| versus | " + " | ".join(f"{r} x {n}" for r, n in grid) + " |")
        print("| --- |" + " --- |" * len(grid))
        worst = dict.fromkeys(grid, (0.0, ""))
        for name in others:
            cells = []
            for r, n in grid:
                mde = projected_detectable(head, returns[name], r, n) / gap
                cells.append(f"{mde:.3f}")
                if mde > worst[(r, n)][0]:
                    worst[(r, n)] = (mde, name)
            print(f"| {name} | " + " | ".join(cells) + " |")
        print(f"\npower at a normalized difference of {args.target} for the hardest test:\n")
        print("| runs x seeds | hardest test | detectable | power |")
        print("| --- | --- | --- | --- |")
        for r, n in grid:
            mde, name = worst[(r, n)]
            var, df = projected_variance(head, returns[name], r, n)
            power = power_at(args.target * gap, var, df)
            print(f"| {r} x {n} | vs {name} | {mde:.3f} | {power:.2f} |")
        enough[env_id] = {g for g in grid if worst[g][0] <= args.target}
    both = set.intersection(*enough.values()) if enough else set()
    print()
    if not both:
        print(f"no grid point detects {args.target} with 80% power in every test on every env")
        return
    r, n = min(both, key=lambda g: (g[0], g[1]))  # training runs cost most
    print(f"fewest training runs (then seeds) that detect {args.target} in every test: {r} x {n}")
    for result in summary["results"]:
        returns = saved_returns(result)
        gap = float(np.nanmean(returns["oracle"]) - np.nanmean(returns["random"]))
        head = returns[HEADLINE_METHOD]
        name = max(
            (m for m in returns if m != HEADLINE_METHOD),
            key=lambda m: projected_detectable(head, returns[m], r, n),
        )
        sim = simulate_power(rng, head, returns[name], args.target * gap, r, n, args.sims)
        print(
            f"- {result['env_id']}: simulated power vs {name} at {args.target} normalized: "
            f"{sim:.2f} ({args.sims} draws)"
        )


if __name__ == "__main__":
    main()
