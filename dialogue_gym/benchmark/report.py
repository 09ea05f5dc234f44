"""The benchmark's Markdown report."""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from typing import Any

from .config import HEADLINE_METHOD, BenchmarkConfig
from .regimes import MIN_SUPPORT


def fmt_ci(m: float, ci: list[float], digits: int = 3) -> str:
    return f"{m:.{digits}f} [{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]"


def markdown(results: list[dict], cfg: BenchmarkConfig) -> str:
    """The Markdown report: the protocol, then per env the data, the imagination gap, the
    results table, the tests, the data-size sweep and the added agents' tests."""
    lines = _preamble(cfg)
    lead = [line for r in results for line in lead_sentence(r, cfg.regime)]
    lines[1:1] = ["", *lead] if lead else []
    for r in results:
        lines += ["", f"## {r['env_id']}", ""]
        lines += _data_table(r) + _gap_table(r, cfg) + _results_table(r)
        lines += [
            "",
            f"| {HEADLINE_METHOD} vs | diff [95% CI] | p | p (Holm) | detectable (~80% power) |",
            "| --- | --- | --- | --- | --- |",
        ]
        lines += test_rows(r["tests"])
        lines += _hindsight_table(r)
        lines += _power_line(r)
        lines += _sweep_table(r)
        for name, tests in r.get("added_tests", {}).items():
            lines += [
                "",
                f"| {name} (added) vs | diff [95% CI] | p | p (Holm) | detectable (~80% power) |",
                "| --- | --- | --- | --- | --- |",
                *test_rows(tests),
            ]
    return "\n".join(lines) + "\n"


def _preamble(cfg: BenchmarkConfig) -> list[str]:
    return [
        "# dialogue-gym benchmark",
        "",
        f"Config: {json.dumps(asdict(cfg))}",
        "",
        "Intervals: 95%, from the training runs' means and the evaluation seeds shared by every "
        "method (a t interval with Satterthwaite's degrees of freedom; the normalized score's: "
        "Fieller's, by inverting the same test) — they cover both sources of variance. *runs*: "
        "the lowest and highest mean of the training runs (a fresh behaviour dataset per run"
        + ("" if cfg.resample_data else " — here one dataset for all runs")
        + "). *normalized*: (x - random) / (oracle - random) on the same seeds. *env "
        "episodes*: environment episodes a training run consumed (offline: its behaviour "
        "dataset, plus every true-env episode the oracle-forward ablation played). Tests: "
        f"{HEADLINE_METHOD} minus each method, two-sided t test on the training runs' means (a "
        "method evaluated once: paired by evaluation seed) with Satterthwaite's degrees of "
        "freedom, its size checked by simulation under the null; "
        "*p (Holm)* corrects the table's family of tests for multiplicity; *detectable*: the "
        "true difference the test would find with about 80% power at these runs and seeds "
        "(from the variance they show; simulated power at it: about 75%). An added agent "
        "(--add-agent) is tested against every row in a family of its own."
        + (
            ""
            if cfg.ablations
            else " This run leaves out the ablation rows (two rounds, the disagreement-penalized "
            "reward, the anchored relabelling, both ensembles, privileged dynamics, the true "
            "env as forward model) and their "
            "imagination-gap rows"
            + ("" if cfg.sweep_sizes else ", and the data-size sweep")
            + ": the full run (without --quick, or with --ablations) makes them."
        ),
    ]


def _data_table(r: dict) -> list[str]:
    kinds = [k for k in r["datasets"][0]["regenerated"] if k != "llm"]
    lines = [
        "Behaviour data and regenerations per training run (*coverage*: the share of (agent "
        f"turn, strategy) cells the data show at all / at least {MIN_SUPPORT} times, and the "
        "entropy of their strategies in nats, of the most there can be):",
        "",
        f"| run | episodes (unsuccessful) | behaviour mean | coverage | regenerated: "
        f"{', '.join(kinds)} | true-env episodes played |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for i, d in enumerate(r["datasets"]):
        n = d["regenerated"]
        lines.append(
            f"| {i} | {d['episodes']} ({d['unsuccessful']}) | {d['behaviour_mean']:.3f} | "
            f"{coverage_text(d.get('coverage'))} | {', '.join(str(n[k]) for k in kinds)} | "
            f"{d['oracle_env_episodes']} |"
        )
    return lines


def coverage_text(c: dict | None) -> str:
    """``seen / supported, entropy of max`` (``-`` for runs made before it was recorded)."""
    if not c:
        return "-"
    return (
        f"{c['cells_seen']:.2f} / {c['cells_supported']:.2f}, "
        f"{c['entropy_nats']:.2f} of {c['max_entropy_nats']:.2f}"
    )


def _gap_table(r: dict, cfg: BenchmarkConfig) -> list[str]:
    lines = [
        "",
        "Imagination gap, every run's regenerations pooled (each rewrite's imagined reward "
        "beside the true reward of its agent turns replayed in the true env; *truly "
        "improve*: the replay beats the source's recorded outcome; *believed*: the reward "
        "model scored the rewrite above its own score of the source):",
        "",
        "| forward/reward | regenerated | imagined | true | bias | MAE | corr "
        "| truly improve | believed improve |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, g in r["imagination_gap"].items():
        if not g["n"]:
            lines.append(f"| {name} | 0 | - | - | - | - | - | - | - |")
            continue
        lines.append(
            f"| {name} | {g['n']} | {g['imagined_mean']:.3f} | {g['true_mean']:.3f} | "
            f"{g['gap']:+.3f} | {g['mae']:.3f} | {g['corr']:.2f} | "
            f"{g['truly_improve']:.2f} | {g['believed_improve']:.2f} |"
        )
    runs = [d["penalized_reward"] for d in r["datasets"] if "penalized_reward" in d]
    if runs:
        lam = ", ".join(f"{c['penalty']:.2f}" for c in runs)
        cover = ", ".join(f"{c['oof_coverage']:.2f}" for c in runs if c.get("oof_coverage"))
        lines += [
            "",
            f"*learned (penalized)*: the learned pipeline's rewrites and sources scored by "
            f"{runs[0]['members']} reward heads on bootstrap resamples, mean - lambda x their "
            f"spread (MOPO-style); lambda per run {lam} ({runs[0]['penalty_rule']}: the 84th "
            f"percentile of out-of-fold standardized shortfalls; out-of-fold coverage {cover}).",
        ]
    anchored = [d["anchored_reward"] for d in r["datasets"] if "anchored_reward" in d]
    if anchored:
        lines += [
            "",
            "*learned (anchored)*: the same rewrites, each worth its source's recorded outcome "
            "plus the effect of the change the learned models imagine (the rewritten and the "
            f"original turn each continued {anchored[0]['draws']} times by the same retrieval "
            "with paired seeds and scored by every ensemble member), less lambda x the effect's "
            "spread over continuations and members (hindsight.anchored).",
        ]
    both = [d["imagination_ensembles"] for d in r["datasets"] if "imagination_ensembles" in d]
    if both:
        lam = ", ".join(f"{c['penalty']:.2f}" for c in both)
        lines += [
            "",
            "*learned (forward + reward ensembles)*: the same rewrites, each rewritten prefix "
            f"continued by {both[0]['members']} retrievals on bootstrap resamples of the data and "
            f"each continuation scored by {both[0]['members']} reward heads; mean - lambda x the "
            f"spread over every pair, the source scored by the reward heads alone; lambda per run "
            f"{lam} ({both[0]['penalty_rule']}: the 84th percentile of out-of-fold shortfalls of "
            "held-out dialogues imagined from a recorded cut; hindsight.forward_ensemble).",
        ]
    if "llm" in r["imagination_gap"]:
        errors = [x for d in r["datasets"] for x in d.get("llm_errors", [])]
        tried = sum(min(cfg.llm_episodes, d["unsuccessful"]) for d in r["datasets"])
        lines += [
            "",
            (
                f"The llm pair ({cfg.llm}) regenerated {r['imagination_gap']['llm']['n']} of the "
                f"{tried} unsuccessful episodes it was given (gap only: no method trains on them)"
                + (
                    f"; {len(errors)} got no usable answer, e.g. {errors[0][:160]!r}"
                    if errors
                    else ""
                )
                + "."
            ),
        ]
    return lines


def _results_table(r: dict) -> list[str]:
    lines = [
        "",
        "| method | mean return [95% CI] | runs | normalized [95% CI] | success | turns "
        "| env episodes |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in r["rows"]:
        spread = (
            f"{row['run_spread'][0]:.3f} – {row['run_spread'][1]:.3f}" if row["n_runs"] > 1 else "-"
        )
        lines.append(
            f"| {row['label']} | {fmt_ci(row['mean_return'], row['ci95'])} | {spread} | "
            f"{fmt_ci(row['normalized_score'], row['normalized_ci95'], 2)} | "
            f"{row['success_rate']:.2f} | {row['avg_turns']:.1f} | "
            f"{row['env_episodes'] or '-'} |"
        )
    return lines


def _sweep_table(r: dict) -> list[str]:
    if not r.get("sweep"):
        return []
    lines = [
        "",
        "Data-size sweep (the first N episodes of each run's dataset; Holm over sizes):",
        "",
        f"| episodes | unsuccessful | cql | {HEADLINE_METHOD} | diff [95% CI] | p | p (Holm) "
        "| regenerated | gap | truly improve |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for w in r["sweep"]:
        gap = "-" if w["gap"] is None else f"{w['gap']:+.3f}"
        truly = "-" if w["truly_improve"] is None else f"{w['truly_improve']:.2f}"
        lines.append(
            f"| {w['episodes']} | {w['unsuccessful']:.0f} | "
            f"{fmt_ci(w['cql'], w['cql_ci95'])} | "
            f"{fmt_ci(w['hindsight'], w['hindsight_ci95'])} | "
            f"{w['diff']:+.3f} [{w['diff_ci95'][0]:+.3f}, {w['diff_ci95'][1]:+.3f}] | "
            f"{w['p']:.3g} | {w['p_holm']:.3g} | {w['regenerated']:.0f} | {gap} | "
            f"{truly} |"
        )
    return lines


def variant_name(method: str) -> str:
    """A CQL + hindsight row's short name: ``learned`` for the headline, else its bracket."""
    return "learned" if method == HEADLINE_METHOD else method[len(HEADLINE_METHOD) + 1 : -1]


def lead_sentence(r: dict, regime: str) -> list[str]:
    """One line for the top of the report: whether hindsight helped on this env and where
    (every CQL + hindsight row against CQL, Holm over the rows, at 0.05); none for runs made
    before these tests were recorded."""
    tests = r.get("hindsight_tests") or []
    if not tests:
        return []
    helped = [t for t in tests if t["p_holm"] < 0.05 and t["diff"] > 0]
    hurt = [t for t in tests if t["p_holm"] < 0.05 and t["diff"] < 0]

    def names(found: list[dict]) -> str:
        return ", ".join(f"{variant_name(t['method'])} ({t['diff']:+.3f})" for t in found)

    verdict = f"hindsight helped: {names(helped)}" if helped else "hindsight did not help"
    if hurt:
        verdict += f"; it hurt: {names(hurt)}"
    each = "; ".join(
        f"{variant_name(t['method'])} {t['diff']:+.3f} ({t['p_holm']:.2g})" for t in tests
    )
    return [
        f"- **{r['env_id']}** ({regime} data): {verdict} (each CQL + hindsight row minus CQL, "
        f"Holm p over the rows: {each})."
    ]


def _hindsight_table(r: dict) -> list[str]:
    tests = r.get("hindsight_tests") or []
    if not tests:
        return []
    return [
        "",
        "| vs cql | diff [95% CI] | p | p (Holm) | detectable (~80% power) |",
        "| --- | --- | --- | --- | --- |",
        *test_rows([{**t, "versus": t["method"]} for t in tests]),
    ]


def test_rows(tests: list[dict[str, Any]]) -> list[str]:
    """One row per test: the difference, its interval, p, Holm's p and the difference it could
    detect with 80% power (``-`` for runs made before it was recorded)."""
    return [
        f"| {t['versus']} | {t['diff']:+.3f} [{t['ci95'][0]:+.3f}, {t['ci95'][1]:+.3f}] | "
        f"{t['p']:.3g} | {t['p_holm']:.3g} | {_mde(t.get('mde80'))} |"
        for t in tests
    ]


TARGET_NORMALIZED = 0.1
"""The normalized difference the benchmark's tests should detect with 80% power."""


def _power_line(r: dict) -> list[str]:
    """Whether the headline tests could detect a normalized difference of 0.1 (the oracle's gap
    over random on these seeds is 1) with 80% power, and the hardest test."""
    means = {row["method"]: row["mean_return"] for row in r["rows"]}
    found = [t for t in r["tests"] if t.get("mde80") is not None and not math.isnan(t["mde80"])]
    if not found or "random" not in means or "oracle" not in means:
        return []
    unit = means["oracle"] - means["random"]
    if unit <= 0:
        return []
    target = TARGET_NORMALIZED * unit
    enough = sum(t["mde80"] <= target for t in found)
    hardest = max(found, key=lambda t: t["mde80"])
    verdict = (
        "every test has the power for it."
        if enough == len(found)
        else "these tests are underpowered for it: `python benchmarks/bench_power.py` on this "
        "run's folder says how many training runs and evaluation seeds would do."
    )
    return [
        "",
        f"Power: a normalized difference of {TARGET_NORMALIZED} ({target:.3f} in return units) "
        f"is detectable with about 80% power in {enough} of {len(found)} tests; the hardest, "
        f"vs {hardest['versus']}, detects {hardest['mde80'] / unit:.2f} normalized; {verdict}",
    ]


def _mde(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.3f}"
