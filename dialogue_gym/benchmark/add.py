"""Add agents to a finished benchmark run: evaluate only them, on the run's own evaluation seeds,
and write its tables and chart again with their rows and their tests.

Every other figure is kept as the run wrote it (read back from its ``benchmark.json``), so the
rest of the table stays byte-identical. The new rows' intervals and tests come from the stored
per-episode returns and the new ones (:class:`~dialogue_gym.stats.MethodReturns`, which draws
nothing), so they are what a fresh run with the same agents would print.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import numpy as np

from ..domains import env_domain
from ..errors import InvalidData, InvalidInput
from ..files import atomic_write_text
from ..stats import MethodReturns
from .chart import bar_chart
from .config import EVAL_SEED, BenchmarkConfig
from .provenance import agent_source
from .report import markdown
from .returns import episode_arrays, episode_matrices, returns_of
from .run import added_agents
from .tables import method_rows, tests_against


def read_run(run_dir: str | Path) -> dict[str, Any]:
    """A finished run's ``benchmark.json``, or an error naming the folder."""
    path = Path(run_dir) / "benchmark.json"
    if not path.is_file():
        raise InvalidInput(f"no finished benchmark in {run_dir}: {path.name} is missing")
    return json.loads(path.read_text())


def load_run(run_dir: Path) -> dict[str, Any]:
    """A finished run's ``benchmark.json``, or a clear error when it cannot take new rows."""
    path = Path(run_dir) / "benchmark.json"
    summary = read_run(run_dir)
    if any("episodes" not in r for r in summary.get("results", [])):
        raise InvalidData(
            f"{path} has no per-episode returns (a run from an older version): run it again "
            "to add agents to it"
        )
    return summary


def config_of(summary: dict[str, Any]) -> BenchmarkConfig:
    """The run's :class:`BenchmarkConfig` as it was saved."""
    saved = summary["config"]
    known = {f.name for f in fields(BenchmarkConfig)}
    return BenchmarkConfig(
        **{k: tuple(v) if isinstance(v, list) else v for k, v in saved.items() if k in known}
    )


def refuse_other_run(summary: dict[str, Any], cfg: BenchmarkConfig | None) -> None:
    """Refuse, in one line naming the difference, a run made by another version, or with
    another config than ``cfg`` (the added agents aside)."""
    from .. import __version__

    version = summary.get("provenance", {}).get("version")
    if version != __version__:
        raise InvalidInput(
            f"the run was made with dialogue-gym {version}, this is {__version__}: run the "
            "benchmark again"
        )
    if cfg is None:
        return
    mine, theirs = asdict(cfg), asdict(config_of(summary))
    for key in mine:
        if key != "added_agents" and mine[key] != theirs[key]:
            raise InvalidInput(
                f"the run used {key}={theirs[key]!r}, this command asks {key}={mine[key]!r}: "
                "add agents with the run's own options"
            )


def add_agents(
    run_dir: str | Path,
    specs: tuple[str, ...],
    cfg: BenchmarkConfig | None = None,
    log: Callable[[str], None] = print,
) -> tuple[list[dict[str, Any]], str]:
    """Evaluate the agents ``specs`` on the run in ``run_dir`` and rewrite its
    ``benchmark.md``, ``benchmark.json`` and ``benchmark.png`` with their rows. ``cfg``: the
    config the caller expects the run to have (refused when it differs). Returns the results
    and the Markdown, as :func:`~.run.run_benchmark` does."""
    from ..agents.learned import torch_threads
    from ..evaluation import evaluate

    run_dir = Path(run_dir)
    summary = load_run(run_dir)
    refuse_other_run(summary, cfg)
    cfg = config_of(summary)
    if not specs:
        raise InvalidInput("name at least one agent to add")
    t0 = time.time()
    for result in summary["results"]:
        env_id = result["env_id"]
        taken = {r["method"] for r in result["rows"]}
        new = added_agents(tuple(specs), env_domain(env_id), taken)
        matrices = {name: episode_matrices(a) for name, a in result["episodes"].items()}
        runs: dict[str, list[Any]] = {}
        for name, spec in new.items():
            with torch_threads(cfg.threads):
                runs[name] = [
                    evaluate(
                        spec, env_id, cfg.eval_episodes, EVAL_SEED, progress=True, oracle=False
                    )
                ]
            matrices[name] = [returns_of(r) for r in runs[name]]
            log(f"{env_id}: {name} evaluated [{time.time() - t0:.0f} s]")
        returns = {k: np.stack([m[0] for m in v]) for k, v in matrices.items()}
        boot = MethodReturns(returns)
        rows = method_rows(runs, matrices, returns, boot, {}, new, cfg)
        first_trained = next(
            (i for i, r in enumerate(result["rows"]) if r["trained"]), len(result["rows"])
        )
        result["rows"][first_trained:first_trained] = rows  # where a fresh run puts them
        for name in new:
            result["added_tests"][name] = tests_against(boot, name, list(returns))
            result["episodes"][name] = episode_arrays(matrices[name])
    cfg.added_agents = (*cfg.added_agents, *specs)
    summary["config"] = asdict(cfg)
    summary["provenance"]["added_agents"] += [agent_source(spec) for spec in specs]
    md = markdown(summary["results"], cfg)
    atomic_write_text(run_dir / "benchmark.md", md)
    try:
        bar_chart(summary["results"], run_dir / "benchmark.png")
    except ImportError:
        log("(matplotlib missing: no bar chart)")
    atomic_write_text(run_dir / "benchmark.json", json.dumps(summary, indent=1))
    log(f"added {', '.join(specs)} in {time.time() - t0:.0f} s -> {run_dir}")
    return summary["results"], md
