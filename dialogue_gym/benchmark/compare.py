"""Two benchmark runs side by side: each method's row in both, and where the runs share their
evaluation seeds, a test of the difference (:func:`~dialogue_gym.stats.difference_test`, Holm
over the methods)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..stats import MethodReturns, holm
from .add import read_run
from .returns import saved_returns


def _cell(row: dict[str, Any] | None) -> str:
    if row is None:
        return "-"
    lo, hi = row["ci95"]
    return f"{row['mean_return']:.3f} [{lo:.3f}, {hi:.3f}]"


def compare_runs(a_dir: str | Path, b_dir: str | Path) -> str:
    """A Markdown report: what differs between the runs' setups, then per env a table of every
    method's mean return in A and in B and, when both runs used the same evaluation seeds, A
    minus B with its interval and p-value (paired by evaluation seed; Holm over the methods)."""
    a, b = read_run(a_dir), read_run(b_dir)
    lines = [f"# {a_dir} (A) vs {b_dir} (B)", ""]
    prov_a, prov_b = a.get("provenance", {}), b.get("provenance", {})
    for key in ("version", "git"):
        if prov_a.get(key) != prov_b.get(key):
            lines.append(f"- {key}: A {prov_a.get(key)}, B {prov_b.get(key)}")
    for key in sorted(set(a["config"]) | set(b["config"])):
        if a["config"].get(key) != b["config"].get(key):
            lines.append(f"- {key}: A {a['config'].get(key)!r}, B {b['config'].get(key)!r}")
    paired = prov_a.get("eval_seeds") is not None and prov_a.get("eval_seeds") == prov_b.get(
        "eval_seeds"
    )
    lines.append(
        "- the same evaluation seeds: paired tests below"
        if paired
        else "- different (or unrecorded) evaluation seeds: no paired test"
    )
    results_b = {r["env_id"]: r for r in b["results"]}
    for ra in a["results"]:
        rb = results_b.get(ra["env_id"])
        if rb is None:
            continue
        rows_a = {r["method"]: r for r in ra["rows"]}
        rows_b = {r["method"]: r for r in rb["rows"]}
        methods = list(rows_a) + [m for m in rows_b if m not in rows_a]
        tests: dict[str, tuple[Any, float]] = {}
        saved_a, saved_b = saved_returns(ra), saved_returns(rb)
        for m in methods:
            xa, xb = saved_a.get(m), saved_b.get(m)
            if paired and xa is not None and xb is not None:
                boot = MethodReturns({"A": xa, "B": xb})
                tests[m] = boot.diff("A", "B")
        adjusted = dict(zip(tests, holm([p for _, p in tests.values()]), strict=True))
        lines += [
            "",
            f"## {ra['env_id']}",
            "",
            "| method | A | B | A - B [95% CI] | p | p (Holm) |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for m in methods:
            test = "- | - | -"
            if m in tests:
                d, p = tests[m]
                test = f"{d.value:+.3f} [{d.low:+.3f}, {d.high:+.3f}] | {p:.2g} | {adjusted[m]:.2g}"
            lines.append(f"| {m} | {_cell(rows_a.get(m))} | {_cell(rows_b.get(m))} | {test} |")
    return "\n".join(lines) + "\n"
