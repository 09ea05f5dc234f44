"""The benchmark over several behaviour-data regimes (``dialogue-gym benchmark --regimes``): one
whole run per regime in ``OUT/<regime>/``, and one page, ``OUT/benchmark.md``, that leads with
each regime's line per env (did hindsight help, where) and sets the regimes side by side: the
data's coverage, CQL, and each CQL + hindsight row's difference from CQL."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidInput
from ..files import atomic_write_text
from .config import BenchmarkConfig
from .regimes import REGIMES, check_regime
from .report import coverage_text, lead_sentence, variant_name


def parse_regimes(text: str) -> tuple[str, ...]:
    """``human-like,narrow`` -> the regimes, checked, in the order given; ``all``: every one."""
    if text.strip() == "all":
        return REGIMES
    names = tuple(x.strip() for x in text.split(",") if x.strip())
    if not names:
        raise InvalidInput(f"--regimes wants names like human-like,narrow or all; got {text!r}")
    if len(set(names)) != len(names):
        raise InvalidInput(f"--regimes names a regime twice: {text!r}")
    return tuple(check_regime(n) for n in names)


def default_regimes(quick: bool, corpora_found: bool) -> tuple[tuple[str, ...], str | None]:
    """The regimes a run makes when none is named, and a note on any left out. The quick run:
    ``human-like`` only (it stays quick). The full run: ``human-like`` (the setting of the
    earlier tables), ``narrow`` (behaviour data that under-use the moves that work: where
    hindsight is meant to help) and, where the corpora are found, ``real`` (the paper's
    setting: learn from people)."""
    if quick:
        return ("human-like",), None
    if corpora_found:
        return ("human-like", "narrow", "real"), None
    return ("human-like", "narrow"), (
        "the real regime is left out: the corpora were not found (--data DIR or "
        "$DIALOGUE_GYM_DATA; see the README's 'Real data')"
    )


def run_regimes(
    cfg: BenchmarkConfig,
    regimes: tuple[str, ...],
    out_dir: str | Path,
    log: Callable[[str], None] = print,
    **run_kwargs: Any,
) -> tuple[dict[str, list[dict]], str]:
    """One :func:`~.run.run_benchmark` per regime (``cfg`` with that regime) into
    ``out_dir/<regime>``; writes ``out_dir/benchmark.md`` and ``regimes.json`` (each regime's
    summary figures); returns every regime's results and the page."""
    from .run import run_benchmark

    out_dir = Path(out_dir)
    configs = {r: dataclasses.replace(cfg, regime=r) for r in regimes}  # all checked first
    results: dict[str, list[dict]] = {}
    for regime, c in configs.items():
        log(f"regime {regime}: {out_dir / regime}")
        results[regime], _ = run_benchmark(c, out_dir / regime, log=log, **run_kwargs)
    md = regimes_markdown(results)
    atomic_write_text(out_dir / "benchmark.md", md)
    summary = {regime: [_summary(r) for r in res] for regime, res in results.items()}
    atomic_write_text(out_dir / "regimes.json", json.dumps(summary, indent=1))
    return results, md


def _summary(r: dict) -> dict[str, Any]:
    """One env's figures for the side-by-side table."""
    rows = {row["method"]: row for row in r["rows"]}
    covs = [d["coverage"] for d in r["datasets"] if d.get("coverage")]
    coverage = {k: float(np.mean([c[k] for c in covs])) for k in covs[0]} if covs else None
    cql = rows.get("cql", {})
    return {
        "env_id": r["env_id"],
        "coverage": coverage,
        "behaviour_mean": float(np.mean([d["behaviour_mean"] for d in r["datasets"]])),
        "cql": cql.get("mean_return"),
        "cql_ci95": cql.get("ci95"),
        "hindsight_tests": [
            {k: t[k] for k in ("method", "diff", "ci95", "p_holm")}
            for t in r.get("hindsight_tests") or []
        ],
    }


def regimes_markdown(results: dict[str, list[dict]]) -> str:
    """The page over the regimes: the lead lines, then one row per (regime, env)."""
    lines = ["# dialogue-gym benchmark over behaviour regimes", ""]
    for regime, res in results.items():
        lines += [line for r in res for line in lead_sentence(r, regime)]
    lines += [
        "",
        "Each regime's whole report (protocol, every method, the imagination gap, the tests) is "
        "`REGIME/benchmark.md`. *coverage*: the (agent turn, strategy) cells the behaviour data "
        "show at all / often enough to learn from, and their strategies' entropy (mean over the "
        "training runs). *vs cql*: each CQL + hindsight row minus CQL, Holm's p over the rows.",
        "",
        "| regime | env | coverage | behaviour mean | cql [95% CI] | vs cql |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for regime, res in results.items():
        for r in res:
            s = _summary(r)
            cql = "-" if s["cql"] is None else f"{s['cql']:.3f} {_ci(s['cql_ci95'])}"
            versus = "; ".join(
                f"{variant_name(t['method'])} {t['diff']:+.3f} ({t['p_holm']:.2g})"
                for t in s["hindsight_tests"]
            )
            lines.append(
                f"| {regime} | {s['env_id']} | {coverage_text(s['coverage'])} | "
                f"{s['behaviour_mean']:.3f} | {cql} | {versus or '-'} |"
            )
    return "\n".join(lines) + "\n"


def _ci(ci: list[float] | None) -> str:
    return "" if not ci else f"[{ci[0]:.3f}, {ci[1]:.3f}]"
