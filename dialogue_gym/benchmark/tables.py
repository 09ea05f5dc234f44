"""One env's tables from its evaluations: the method rows, the tests against a method, and the
data-size sweep."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..stats import MethodReturns, detectable_difference, holm
from .config import BASELINES, HEADLINE_METHOD, LABELS, BenchmarkConfig
from .data import pooled_gap
from .returns import returns_of


def method_rows(
    runs: dict[str, list[Any]],
    matrices: dict[str, list],
    returns: dict[str, np.ndarray],
    boot: MethodReturns,
    budgets: dict[str, list[int]],
    added: dict[str, str],
    cfg: BenchmarkConfig,
) -> list[dict[str, Any]]:
    """One table row per method: mean, normalized score and success with their intervals."""
    success = MethodReturns({k: np.stack([m[1] for m in v]) for k, v in matrices.items()})
    rows = []
    for name in runs:
        mean, norm, succ = boot.mean(name), boot.normalized(name), success.mean(name)
        run_means = boot.run_means(name)
        rows.append(
            {
                "method": name,
                "label": LABELS.get(name, name) + (" (added)" if name in added else ""),
                "trained": name not in BASELINES and name not in added,
                "added": name in added,
                "mean_return": mean.value,
                "ci95": mean.as_list(),
                "run_means": run_means,
                "run_spread": [min(run_means), max(run_means)],
                "normalized_score": norm.value,
                "normalized_ci95": norm.as_list(),
                "success_rate": succ.value,
                "success_ci95": [max(0.0, succ.low), min(1.0, succ.high)],  # a share
                "avg_turns": float(np.mean([m[2] for m in matrices[name]])),
                "env_episodes": int(np.mean(budgets[name])) if name in budgets else None,
                "n_runs": len(runs[name]),
                "n_episodes": int(np.isfinite(returns[name]).sum()),
                "n_failed": int((~np.isfinite(returns[name])).sum()),
            }
        )
    return rows


def _test(boot: MethodReturns, a: str, b: str) -> dict[str, Any]:
    """``a`` minus ``b``: the difference, its interval, p and the difference the test could
    detect with 80% power (``mde80``, :func:`~dialogue_gym.stats.detectable_difference`)."""
    diff, p = boot.diff(a, b)
    mde = detectable_difference(boot.returns[a], boot.returns[b])
    return {"diff": diff.value, "ci95": diff.as_list(), "p": p, "mde80": mde}


def _holm_family(tests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``tests`` with Holm's adjusted p (``p_holm``) over exactly them."""
    for t, adjusted in zip(tests, holm([t["p"] for t in tests]), strict=True):
        t["p_holm"] = adjusted
    return tests


def tests_against(boot: MethodReturns, method: str, names: list[str]) -> list[dict[str, Any]]:
    """``method`` minus every other name (:func:`~dialogue_gym.stats.difference_test`),
    Holm-corrected as one family, each with the difference it could detect with 80% power."""
    return _holm_family(
        [{"versus": name, **_test(boot, method, name)} for name in names if name != method]
    )


def hindsight_tests(boot: MethodReturns, names: list[str]) -> list[dict[str, Any]]:
    """Every CQL + hindsight row minus CQL (the question the benchmark asks of hindsight: did
    the regenerations improve on the data alone?), Holm-corrected as one family, in the order
    of ``names``; empty without a CQL row."""
    if "cql" not in names:
        return []
    variants = [n for n in names if n.startswith(HEADLINE_METHOD)]
    return _holm_family([{"method": n, **_test(boot, n, "cql")} for n in variants])


def sweep_rows(
    sweep: dict[str, list[Any]], main: dict[str, list[Any]], datasets: dict, cfg: BenchmarkConfig
) -> list[dict[str, Any]]:
    """Per dataset size: CQL and CQL + hindsight(learned), their difference (the intervals of the
    means and the difference from :func:`~dialogue_gym.stats.difference_test`) with Holm
    correction over the sizes, and the learned pipeline's gap at that size."""
    if not sweep:
        return []
    returns = {k: np.stack([returns_of(r)[0] for r in v]) for k, v in sweep.items()}
    full = cfg.dataset_episodes
    returns[f"cql@{full}"] = np.stack([m[0] for m in main["cql"]])
    returns[f"{HEADLINE_METHOD}@{full}"] = np.stack([m[0] for m in main[HEADLINE_METHOD]])
    boot = MethodReturns(returns)
    out = []
    runs = list(datasets.values())
    for n in (*cfg.sweep_sizes, full):
        diff, p = boot.diff(f"{HEADLINE_METHOD}@{n}", f"cql@{n}")
        if n == full:
            gap = pooled_gap([d["figures"]["imagination_gap"]["learned"] for d in runs])
            unsuccessful = [d["figures"]["unsuccessful"] for d in runs]
        else:
            gap = pooled_gap([d["sweep"][n]["gap"] for d in runs])
            unsuccessful = [d["sweep"][n]["unsuccessful"] for d in runs]
        cql, hind = boot.mean(f"cql@{n}"), boot.mean(f"{HEADLINE_METHOD}@{n}")
        out.append(
            {
                "episodes": n,
                "unsuccessful": float(np.mean(unsuccessful)),
                "cql": cql.value,
                "cql_ci95": cql.as_list(),
                "hindsight": hind.value,
                "hindsight_ci95": hind.as_list(),
                "diff": diff.value,
                "diff_ci95": diff.as_list(),
                "p": p,
                "regenerated": gap["n"] / max(1, len(runs)),
                "gap": gap.get("gap"),
                "truly_improve": gap.get("truly_improve"),
            }
        )
    for row, adjusted in zip(out, holm([r["p"] for r in out]), strict=True):
        row["p_holm"] = adjusted
    return out
