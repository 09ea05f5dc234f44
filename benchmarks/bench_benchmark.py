"""Where the benchmark's time goes, stage by stage.

Runs ``benchmark --quick`` (or the full default with ``--full``) in a temporary folder, or reads
the ``benchmark.json`` of finished runs (``--from DIR [DIR ...]``), and prints one table per run:
each stage's seconds (summed over envs, training seeds and methods; the "(wall)" rows are the
elapsed time of the run's two phases, which the envs share and which overlap their parts) and its
share of the run. With two runs, the second table gives each stage's ratio to the first:
before/after figures from the same script.

Usage: ``python benchmarks/bench_benchmark.py [--full] [--env ENV] [--from DIR [DIR]]``
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

from dialogue_gym.benchmark import BenchmarkConfig, run_benchmark


def _phases(summary: dict) -> dict[str, float]:
    """The phases' wall times: shared by the envs since they share the workers; a run written
    before that has them per env (summed here)."""
    if "phase_seconds" in summary:
        return dict(summary["phase_seconds"])
    walls: dict[str, float] = {}
    for result in summary["results"]:
        for k, v in result.get("stage_seconds", {}).items():
            if k.endswith("(wall)"):
                walls[k] = walls.get(k, 0.0) + v
    return walls


def _stages(summary: dict) -> dict[str, float]:
    """Each stage's seconds summed over envs, the report's, and the phases' walls."""
    stages: dict[str, float] = {}
    for result in summary["results"]:
        for k, v in result.get("stage_seconds", {}).items():
            if not k.endswith("(wall)"):
                stages[k] = stages.get(k, 0.0) + v
    stages["report (markdown, chart)"] = summary.get("report_seconds", 0.0)
    return stages | _phases(summary)


def stage_table(summary: dict, before: dict | None = None) -> str:
    """Markdown rows: stage, seconds, share of the run (and the ratio to ``before``)."""
    total = summary["seconds"]
    stages = _stages(summary)
    old = _stages(before) if before is not None else {}
    head = "| stage | seconds | share |" + (" after/before |" if before else "")
    lines = [head, "| --- | --- | --- |" + (" --- |" if before else "")]
    for k, v in sorted(stages.items(), key=lambda kv: -kv[1]):
        ratio = f" {v / old[k]:.2f} |" if old.get(k) else (" - |" if before else "")
        lines.append(f"| {k} | {v:.1f} | {v / total:.1%} |{ratio}")
    lines.append(
        f"| **whole run** | {total:.1f} | 100% |"
        + (f" {total / before['seconds']:.2f} |" if before else "")
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--full", action="store_true", help="the full default, not --quick")
    parser.add_argument("--env", action="append", default=None, help="env id (repeatable)")
    parser.add_argument("--from", dest="dirs", nargs="+", type=Path, default=None)
    parser.add_argument("--processes", type=int, default=1, help="as benchmark --processes")
    parser.add_argument("--keep", type=Path, default=None, help="write the run here, not to a temp")
    args = parser.parse_args()
    print(
        f"python {platform.python_version()}, {platform.machine()}, "
        f"{__import__('os').cpu_count()} CPUs"
    )
    if args.dirs:
        summaries = [json.loads((d / "benchmark.json").read_text()) for d in args.dirs]
    else:
        envs = tuple(args.env) if args.env else None
        cfg = BenchmarkConfig(**({"envs": envs} if envs else {}))
        if not args.full:
            cfg = BenchmarkConfig.quick(envs)
        with tempfile.TemporaryDirectory() as tmp:
            where = args.keep or Path(tmp)
            t0 = time.time()
            run_benchmark(cfg, where, log=lambda m: print(m, flush=True), workers=args.processes)
            summaries = [json.loads((where / "benchmark.json").read_text())]
            print(f"wall {time.time() - t0:.0f} s ({args.processes} processes)")
    for i, summary in enumerate(summaries):
        print()
        print(stage_table(summary, summaries[0] if i else None))


if __name__ == "__main__":
    main()
