"""Comparing evaluations: a paired t-test over shared seeds (else Welch's t-test), and the
plain-text table the commands and examples print."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .evaluation import EvaluationResult


@dataclass
class Comparison:
    """The difference of mean returns of two results, with a stated significance test."""

    a: str
    b: str
    mean_a: float
    mean_b: float
    diff: float
    ci95: tuple[float, float]
    p_value: float
    test: str

    def __str__(self) -> str:
        lo, hi = self.ci95
        return (
            f"{self.a} - {self.b}: {self.diff:+.3f} [{lo:+.3f}, {hi:+.3f}] "
            f"({self.mean_a:.3f} vs {self.mean_b:.3f}), p = {self.p_value:.3g}; {self.test}"
        )


def compare(a: EvaluationResult, b: EvaluationResult) -> Comparison:
    """Compare ``a`` with ``b`` (``diff = mean(a) - mean(b)``).

    Same env and same seeds: a t-test on the per-seed differences
    (:func:`~dialogue_gym.stats.difference_test` with one run each, as the benchmark's tests).
    Otherwise: Welch's t-test.
    """
    from scipy import stats

    ra = {e.seed: e.reward for e in a.episodes if e.status == "ok"}
    rb = {e.seed: e.reward for e in b.episodes if e.status == "ok"}
    shared = sorted(set(ra) & set(rb))
    name_a, name_b = a.agent.get("name", "a"), b.agent.get("name", "b")
    if a.env_id == b.env_id and shared and len(shared) == len(ra) == len(rb):
        from .stats import difference_test

        d, p = difference_test(
            np.array([[ra[s] for s in shared]]), np.array([[rb[s] for s in shared]])
        )
        return Comparison(
            name_a,
            name_b,
            float(np.mean(list(ra.values()))),
            float(np.mean(list(rb.values()))),
            d.value,
            (d.low, d.high),
            p,
            f"paired t-test over {len(shared)} shared seeds",
        )
    xa, xb = np.array(list(ra.values())), np.array(list(rb.values()))
    t = stats.ttest_ind(xa, xb, equal_var=False)
    ci = t.confidence_interval(0.95)
    return Comparison(
        name_a,
        name_b,
        float(xa.mean()),
        float(xb.mean()),
        float(xa.mean() - xb.mean()),
        (float(ci.low), float(ci.high)),
        float(t.pvalue),
        "Welch's t-test (unpaired)",
    )


def format_table(results: list[EvaluationResult]) -> str:
    """A plain-text table of result summaries (agents by ``label`` when set, else ``name``)."""
    names = [str(r.agent.get("label", r.agent.get("name", "?"))) for r in results]
    w = max([11, *map(len, names)])
    head = (
        f"{'env':14s} {'agent':{w}s} {'mean return [95% CI]':27s} {'success':>8s} "
        f"{'turns':>6s} {'normalized [95% CI]':>21s} {'n':>5s} {'agent s':>7s} {'refs s':>6s}"
    )
    lines = [head, "-" * len(head)]
    for r, name in zip(results, names, strict=True):
        s = r.summary
        ci = s.get("ci95", [float("nan")] * 2)
        mean = f"{s.get('mean_return', float('nan')):.3f} [{ci[0]:.3f}, {ci[1]:.3f}]"
        norm = s.get("normalized_score")
        nci = s.get("normalized_ci95", [float("nan")] * 2)
        norm_s = "-" if norm is None else f"{norm:.2f} [{nci[0]:.2f}, {nci[1]:.2f}]"
        lines.append(
            f"{r.env_id:14s} {name:{w}s} {mean:27s} "
            f"{s['success_rate']:8.2f} {s['avg_turns']:6.1f} {norm_s:>21s} "
            f"{s['n_episodes']:5d} {s['wall_time_s']:7.1f} {s.get('reference_time_s', 0):6.1f}"
        )
    lines.append(
        "agent s: the agent's episodes; refs s: the random and oracle runs behind the normalized "
        "score (once per process; --no-oracle skips them)"
    )
    return "\n".join(lines)
