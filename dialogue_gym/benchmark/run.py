"""Running the benchmark: train every method per training seed, evaluate, test, write."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from ..domains import env_domain
from ..errors import InvalidInput
from ..evaluation import evaluate
from ..executor import LOCAL, Backend, map_ordered, worker_session
from ..files import atomic_write_text
from ..progress import progress_bar
from ..stats import MethodReturns
from .chart import bar_chart
from .config import (
    BASELINES,
    EVAL_SEED,
    HEADLINE_METHOD,
    METHOD_NAMES,
    OFFLINE_METHODS,
    BenchmarkConfig,
)
from .data import pooled_gap, seed_data
from .provenance import provenance
from .report import markdown
from .returns import episode_arrays, returns_of
from .tables import hindsight_tests, method_rows, sweep_rows, tests_against


def train_offline(
    name: str, data: dict, domain: str, seed: int, cfg: BenchmarkConfig, part: str | None = None
) -> Any:
    """Train the offline method ``name`` (or the algorithm ``name`` on ``data[part]``) with
    training seed ``seed``."""
    from ..agents.bc import BCArgs, train_bc
    from ..agents.cql import CQLArgs, train_cql
    from ..agents.iql import IQLArgs, train_iql

    algo, part = (name, part) if part is not None else OFFLINE_METHODS[name]
    common = {
        "steps": cfg.offline_steps,
        "imagined_weight": cfg.imagined_weight,
        "threads": cfg.threads,
        "seed": seed,
    }
    if algo == "filtered-bc":
        return train_bc(data[part], domain, BCArgs(top_share=cfg.top_share, **common))
    train, args = {
        "bc": (train_bc, BCArgs),
        "cql": (train_cql, CQLArgs),
        "iql": (train_iql, IQLArgs),
    }[algo]
    return train(data[part], domain, args(**common))


def _bar(results: Any, total: int, desc: str, progress: bool) -> Any:
    """``results`` as they come, counted by a progress bar with an ETA (none unless
    ``progress``)."""
    return progress_bar(results, total=total, desc=desc, unit="task", disable=not progress)


def _method_items(cfg: BenchmarkConfig, datasets: dict[int, dict]) -> list[tuple]:
    """Every (training seed, kind, row name, detail) to train and evaluate, seed by seed: the
    offline methods, the sweep's two methods per size, PPO."""
    items: list[tuple] = []
    for s in range(cfg.train_seeds):
        data = datasets[s if cfg.resample_data else 0]
        items += [(s, "offline", name, None) for name in cfg.offline_methods()]
        for size in data["sweep"]:
            items += [
                (s, "sweep", f"{name}@{size}", (size, part))
                for name, part in (("cql", "orig"), (HEADLINE_METHOD, "learned"))
            ]
        items.append((s, "ppo", "ppo", None))
    return items


def _method_run(
    env_id: str, cfg: BenchmarkConfig, datasets: dict[int, dict], item: tuple
) -> tuple[Any, int | None, dict[str, float]]:
    """Train and evaluate one (seed, method) item of :func:`_method_items`: the evaluation, the
    environment episodes it used (``None`` for a sweep entry) and the seconds of each part. One
    task of the executor; depends on nothing but the seed's data, the seed and ``cfg``."""
    from ..agents.learned import torch_threads
    from ..agents.ppo import PPOArgs, train_ppo

    s, kind, name, detail = item
    t0 = time.time()
    domain = env_domain(env_id)
    data = datasets[s if cfg.resample_data else 0]
    budget: int | None = data["figures"]["episodes"]
    if kind == "offline":
        agent = train_offline(name, data, domain, s, cfg)
        if "oracle-fwd" in name:
            budget += data["figures"]["oracle_env_episodes"]
    elif kind == "sweep":
        size, part = detail
        agent = train_offline("cql", data["sweep"][size], domain, s, cfg, part=part)
        budget = None
    else:
        agent, budget = train_ppo(env_id, PPOArgs(steps=cfg.ppo_steps, seed=s, threads=cfg.threads))
    t1 = time.time()
    with torch_threads(cfg.threads):
        result = evaluate(agent, env_id, cfg.eval_episodes, EVAL_SEED, progress=False, oracle=False)
    return result, budget, {"train": t1 - t0, "evaluate": time.time() - t1}


@dataclass
class _EnvRun:
    """One env's share of a run, filled in as its tasks finish."""

    env_id: str
    env_dir: Path
    specs: dict[str, str]
    """The baselines' and added agents' specs by row name, in table order."""
    added: dict[str, str]
    seconds: dict[str, float] = field(default_factory=dict)
    baselines: dict[str, Any] = field(default_factory=dict)
    datasets: dict[int, dict] = field(default_factory=dict)
    done_at: float = 0.0

    @classmethod
    def start(cls, env_id: str, cfg: BenchmarkConfig, out_dir: Path) -> _EnvRun:
        """The env's rows to evaluate first (baselines, added agents) and its folder, made."""
        added = added_agents(cfg.added_agents, env_domain(env_id), METHOD_NAMES)
        specs = {
            name: f"{name}:samples={cfg.model_based_samples}" if name == "model-based" else name
            for name in BASELINES
        } | added
        run = cls(env_id, out_dir / env_id, specs, added)
        run.env_dir.mkdir(parents=True, exist_ok=True)
        return run

    def add_seconds(self, parts: dict[str, float]) -> None:
        """Add each stage's seconds to this env's totals."""
        for k, v in parts.items():
            self.seconds[k] = self.seconds.get(k, 0.0) + v


def _first_task(
    cfg: BenchmarkConfig, here: dict[str, Path] | None, log: Any, _state: None, item: tuple
) -> Any:
    """Phase 1's task: a baseline's evaluation, or a training seed's data and regenerations
    (written and logged here when ``here`` maps env ids to their folders; else returned)."""
    env_id, kind, what = item
    if kind == "baseline":
        return _evaluate_spec(env_id, cfg, LOCAL, None, what)
    folder = here[env_id] if here else None
    return seed_data(env_id, cfg, folder, log if here else None, what)


def _second_task(cfg: BenchmarkConfig, datasets: dict[str, dict], item: tuple) -> Any:
    """Phase 2's task: train and evaluate one (env, training seed, method)."""
    env_id, method_item = item
    return _method_run(env_id, cfg, datasets[env_id], method_item)


def _run_envs(
    cfg: BenchmarkConfig,
    out_dir: Path,
    log: Callable[[str], None],
    backend: Backend = LOCAL,
    workers: int = 1,
    progress: bool = False,
) -> tuple[list[dict], dict[str, float]]:
    """Every env of ``cfg`` in two phases whose tasks all envs share, so no worker waits while
    another env's tasks are left: (1) the baselines and each training seed's data and
    regenerations, longest first; (2) every (env, training seed, method), PPO first. On Ray the
    tasks run on its workers, here on ``workers`` processes; each task depends only on its
    inputs, so the figures are the same either way. Returns each env's result and the phases'
    wall times."""
    t0 = time.time()
    envs = {env_id: _EnvRun.start(env_id, cfg, out_dir) for env_id in cfg.envs}
    where = {"workers": workers if backend.name == "local" else 1, "backend": backend}
    here = backend.name == "local" and workers == 1
    seeds = range(cfg.train_seeds if cfg.resample_data else 1)
    first = [(e, "data", s) for e in envs for s in seeds]
    first += [(e, "baseline", spec) for e, run in envs.items() for spec in run.specs.items()]
    dirs = {e: r.env_dir for e, r in envs.items()}
    task = partial(_first_task, cfg, dirs if here else None, log if here else None)
    done = _bar(
        map_ordered(task, first, _no_state, **where),
        len(first),
        "baselines, data and hindsight",
        progress,
    )
    for (env_id, kind, what), out in zip(first, done, strict=True):
        run = envs[env_id]
        if kind == "baseline":
            name = what[0]
            run.baselines[name], secs = out
            run.seconds[f"evaluate {name}" + (" (added)" if name in run.added else "")] = secs
            continue
        for name, content in out["files"].items():  # the driver writes every file
            (run.env_dir / name).write_bytes(content)
        for line in out["log"]:
            log(line)
        run.datasets[what] = out["data"]
        run.add_seconds(out["data"]["figures"].pop("seconds"))
    phases = {"baselines, data and hindsight (wall)": time.time() - t0}
    t = time.time()
    items = {e: _method_items(cfg, run.datasets) for e, run in envs.items()}
    second = [(e, item) for e in envs for item in items[e]]
    second.sort(key=lambda ei: ei[1][1] != "ppo")  # the longest tasks first (a stable sort)
    state = partial(_same, {e: run.datasets for e, run in envs.items()})
    done = _bar(
        map_ordered(partial(_second_task, cfg), second, state, **where),
        len(second),
        "train and evaluate",
        progress,
    )
    outcomes: dict[tuple, Any] = {}
    left = {e: Counter(i[0] for i in items[e]) for e in envs}  # tasks left per training seed
    for (env_id, item), (result, budget, parts) in zip(second, done, strict=True):
        s, kind, name, _ = item
        outcomes[env_id, item] = result, budget
        stage = name if kind != "sweep" else "sweep " + name.split("@")[0]
        envs[env_id].add_seconds({f"{part} {stage}": secs for part, secs in parts.items()})
        left[env_id][s] -= 1
        if not left[env_id][s]:
            log(f"{env_id} seed {s}: every method trained and evaluated [{time.time() - t0:.0f} s]")
        envs[env_id].done_at = time.time() - t0
    phases["train and evaluate (wall)"] = time.time() - t
    results = [_env_result(run, cfg, items[e], outcomes) for e, run in envs.items()]
    return results, {k: round(v, 3) for k, v in phases.items()}


def _env_result(run: _EnvRun, cfg: BenchmarkConfig, items: list[tuple], outcomes: dict) -> dict:
    """One env's rows, tests, gaps and sweep from its finished tasks (in the items' order, so
    the tables do not depend on which task finished first)."""
    t = time.time()
    runs: dict[str, list[Any]] = {name: [run.baselines[name]] for name in run.specs}
    budgets: dict[str, list[int]] = {}
    sweep: dict[str, list[Any]] = {}
    for item in items:
        _, kind, name, _ = item
        result, budget = outcomes[run.env_id, item]
        if kind == "sweep":
            sweep.setdefault(name, []).append(result)
        else:
            runs.setdefault(name, []).append(result)
            budgets.setdefault(name, []).append(budget)
    matrices = {name: [returns_of(r) for r in rs] for name, rs in runs.items()}
    returns = {k: np.stack([m[0] for m in v]) for k, v in matrices.items()}
    boot = MethodReturns(returns)
    rows = method_rows(runs, matrices, returns, boot, budgets, run.added, cfg)
    own = [name for name in runs if name not in run.added]  # added agents stay out of the family
    data_figures = [d["figures"] for d in run.datasets.values()]
    gaps = {
        k: pooled_gap([f["imagination_gap"][k] for f in data_figures])
        for k in data_figures[0]["imagination_gap"]
    }
    sizes = sweep_rows(sweep, matrices, run.datasets, cfg)
    for f in data_figures:  # the per-rewrite lists were for pooling; the JSON keeps summaries
        for g in f["imagination_gap"].values():
            g.pop("imagined", None), g.pop("true", None)
    run.seconds["intervals and tests"] = time.time() - t
    return {
        "env_id": run.env_id,
        "rows": rows,
        "tests": tests_against(boot, HEADLINE_METHOD, own),
        "hindsight_tests": hindsight_tests(boot, own),
        "added_tests": {name: tests_against(boot, name, list(runs)) for name in run.added},
        "datasets": data_figures,
        "imagination_gap": gaps,
        "sweep": sizes,
        "episodes": {name: episode_arrays(m) for name, m in matrices.items()},
        "seconds": run.done_at,
        "stage_seconds": {k: round(v, 3) for k, v in run.seconds.items()},
    }


def run_env(
    env_id: str,
    cfg: BenchmarkConfig,
    out_dir: Path,
    log: Callable[[str], None],
    backend: Backend = LOCAL,
    workers: int = 1,
    progress: bool = False,
) -> dict:
    """The whole benchmark for one environment (:func:`_run_envs` with ``cfg.envs`` set to it)."""
    return _run_envs(replace(cfg, envs=(env_id,)), out_dir, log, backend, workers, progress)[0][0]


def _no_state() -> None:
    """The per-worker state of tasks that need none."""
    return None


def _evaluate_spec(
    env_id: str, cfg: BenchmarkConfig, backend: Backend, _state: None, item: tuple[str, str]
) -> tuple[Any, float]:
    """One baseline or added agent evaluated on the run's seeds, and its seconds (a task)."""
    from ..agents.learned import torch_threads

    t = time.time()
    with torch_threads(cfg.threads):
        result = evaluate(
            item[1],
            env_id,
            cfg.eval_episodes,
            EVAL_SEED,
            progress=False,
            oracle=False,
            backend=backend,
        )
    return result, time.time() - t


def _same(value: Any) -> Any:
    """A worker's state that is ``value`` itself (a picklable ``make_state``)."""
    return value


def added_agents(specs: tuple[str, ...], domain: str, taken: set[str]) -> dict[str, str]:
    """The user's agents' specs by table name (their own name, else the spec); never
    privileged."""
    from ..agents.registry import is_privileged, make_agent

    out: dict[str, Any] = {}
    for spec in specs:
        if is_privileged(spec):
            raise InvalidInput(
                f"added agent {spec!r} reads the hidden persona; add agents that do not"
            )
        agent = make_agent(spec, domain)
        name = agent.name if agent.name not in taken | set(out) | {"agent"} else spec
        if name in taken or name in out:
            raise InvalidInput(f"added agent {spec!r}: the table already has a row {name!r}")
        out[name] = spec
    return out


def run_benchmark(
    cfg: BenchmarkConfig,
    out_dir: str | Path,
    log: Callable[[str], None] = print,
    backend: Backend = LOCAL,
    workers: int = 1,
    progress: bool = False,
):
    """Run every env; write ``benchmark.md``, ``benchmark.json`` and ``benchmark.png``.
    ``backend``: where the training seeds and the evaluation episodes run (this machine or a
    Ray cluster); ``workers``: on this machine, how many processes share the independent tasks.
    The tables are the same either way. ``progress``: progress bars over each phase's tasks."""
    if workers < 1:
        raise InvalidInput(f"workers must be >= 1, got {workers}")
    out_dir = Path(out_dir)
    for env_id in cfg.envs:  # a bad --add-agent fails now, not after the baselines
        added_agents(cfg.added_agents, env_domain(env_id), METHOD_NAMES)
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    with worker_session():  # one set of Ray workers for every step
        results, phases = _run_envs(cfg, out_dir, log, backend, workers, progress)
    t = time.time()
    md = markdown(results, cfg)
    summary = {
        "config": asdict(cfg),
        "provenance": provenance(cfg),
        "results": results,
        "seconds": time.time() - t0,
        "phase_seconds": phases,
    }
    atomic_write_text(out_dir / "benchmark.md", md)
    try:
        bar_chart(results, out_dir / "benchmark.png")
    except ImportError:
        log("(matplotlib missing: no bar chart)")
    summary["report_seconds"] = round(time.time() - t, 3)
    atomic_write_text(out_dir / "benchmark.json", json.dumps(summary, indent=1))
    log(f"benchmark done in {time.time() - t0:.0f} s -> {out_dir}")
    return results, md
