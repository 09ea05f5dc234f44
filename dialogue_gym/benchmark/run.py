"""Running the benchmark: train every method per training seed, evaluate, test, write."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict
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
from ..stats import MethodReturns, detectable_difference, holm
from .chart import bar_chart
from .config import (
    BASELINES,
    EVAL_SEED,
    HEADLINE_METHOD,
    LABELS,
    METHOD_NAMES,
    OFFLINE_METHODS,
    BenchmarkConfig,
)
from .data import behaviour_datasets, pooled_gap, seed_data
from .provenance import provenance
from .report import markdown
from .returns import episode_arrays, returns_of


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


def run_env(
    env_id: str,
    cfg: BenchmarkConfig,
    out_dir: Path,
    log: Callable[[str], None],
    backend: Backend = LOCAL,
    workers: int = 1,
    progress: bool = False,
) -> dict:
    """The whole benchmark for one environment. The baselines, each training seed's data and
    each (training seed, method) are independent tasks: on Ray they run on its workers, and on
    this machine on ``workers`` processes; the figures are the same either way. ``progress``:
    a bar with a count and an ETA over each phase's tasks."""
    domain = env_domain(env_id)
    t0 = time.time()
    env_dir = out_dir / env_id
    env_dir.mkdir(parents=True, exist_ok=True)
    seconds: dict[str, float] = {}
    added = added_agents(cfg.added_agents, domain, METHOD_NAMES)
    specs = {
        name: f"{name}:samples={cfg.model_based_samples}" if name == "model-based" else name
        for name in BASELINES
    } | added
    runs: dict[str, list[Any]] = {}
    timed = map_ordered(
        partial(_evaluate_spec, env_id, cfg, backend if workers == 1 else LOCAL),
        list(specs.items()),
        _no_state,
        workers=workers if backend.name == "local" else 1,
    )
    timed = _bar(timed, len(specs), f"{env_id} baselines", progress)
    for (name, _), (result, secs) in zip(specs.items(), timed, strict=True):
        runs[name] = [result]
        seconds[f"evaluate {name}" + (" (added)" if name in added else "")] = secs
    log(f"{env_id}: baselines evaluated [{time.time() - t0:.0f} s]")
    if added:
        log(f"{env_id}: added agents evaluated: {', '.join(added)} [{time.time() - t0:.0f} s]")
    t = time.time()
    datasets = _training_data(env_id, cfg, env_dir, log, backend, workers, progress)
    seconds["data and hindsight (wall)"] = time.time() - t
    for d in datasets.values():
        for k, v in d["figures"].pop("seconds").items():
            seconds[k] = seconds.get(k, 0.0) + v
    t = time.time()
    budgets, sweep = _train_and_evaluate(
        env_id, cfg, datasets, runs, log, backend, t0, seconds, workers, progress
    )
    seconds["train and evaluate (wall)"] = time.time() - t
    t = time.time()
    matrices = {name: [returns_of(r) for r in rs] for name, rs in runs.items()}
    returns = {k: np.stack([m[0] for m in v]) for k, v in matrices.items()}
    boot = MethodReturns(returns)
    rows = method_rows(runs, matrices, returns, boot, budgets, added, cfg)
    own = [name for name in runs if name not in added]  # the table's family: added agents stay out
    data_figures = [d["figures"] for d in datasets.values()]
    gaps = {
        k: pooled_gap([f["imagination_gap"][k] for f in data_figures])
        for k in data_figures[0]["imagination_gap"]
    }
    sizes = _sweep(sweep, matrices, datasets, cfg)
    for f in data_figures:  # the per-rewrite lists were for pooling; the JSON keeps summaries
        for g in f["imagination_gap"].values():
            g.pop("imagined", None), g.pop("true", None)
    seconds["intervals and tests"] = time.time() - t
    return {
        "env_id": env_id,
        "rows": rows,
        "tests": tests_against(boot, HEADLINE_METHOD, own),
        "added_tests": {name: tests_against(boot, name, list(runs)) for name in added},
        "datasets": data_figures,
        "imagination_gap": gaps,
        "sweep": sizes,
        "episodes": {name: episode_arrays(m) for name, m in matrices.items()},
        "seconds": time.time() - t0,
        "stage_seconds": {k: round(v, 3) for k, v in seconds.items()},
    }


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


def _training_data(
    env_id: str,
    cfg: BenchmarkConfig,
    env_dir: Path,
    log: Callable[[str], None],
    backend: Backend,
    workers: int = 1,
    progress: bool = False,
) -> dict[int, dict]:
    """Each training seed's behaviour data and regenerations (one task per seed), or one
    dataset for every seed (``resample_data=False``). Tasks in this process write their files
    and log as they go; on other processes or Ray workers they return both to this one."""
    if not cfg.resample_data:
        return {0: behaviour_datasets(env_id, cfg, 0, env_dir, log)}
    here = backend.name == "local" and workers == 1
    task = partial(seed_data, env_id, cfg, env_dir if here else None, log if here else None)
    datasets = {}
    done_seeds = map_ordered(
        _call,
        range(cfg.train_seeds),
        partial(_same, task),
        workers=workers if backend.name == "local" else 1,
        backend=backend,
    )
    desc = f"{env_id} data and hindsight"
    for s, done in enumerate(_bar(done_seeds, cfg.train_seeds, desc, progress)):
        for name, content in done["files"].items():  # the driver writes every file
            (env_dir / name).write_bytes(content)
        for line in done["log"]:
            log(line)
        datasets[s] = done["data"]
    return datasets


def _train_and_evaluate(
    env_id: str,
    cfg: BenchmarkConfig,
    datasets: dict[int, dict],
    runs: dict[str, list[Any]],
    log: Callable[[str], None],
    backend: Backend,
    t0: float,
    seconds: dict[str, float],
    workers: int = 1,
    progress: bool = False,
) -> tuple[dict[str, list[int]], dict[str, list[Any]]]:
    """Train and evaluate every (training seed, method); adds each evaluation to ``runs`` and
    each part's time to ``seconds``; returns each method's environment budgets and the data-size
    sweep's evaluations."""
    budgets: dict[str, list[int]] = {}
    sweep: dict[str, list[Any]] = {}
    items = _method_items(cfg, datasets)
    results = map_ordered(
        partial(_method_run, env_id, cfg),
        items,
        partial(_same, datasets),
        workers=workers if backend.name == "local" else 1,
        backend=backend,
    )
    results = _bar(results, len(items), f"{env_id} train and evaluate", progress)
    for k, (item, (result, budget, parts)) in enumerate(zip(items, results, strict=True)):
        s, kind, name, _ = item
        stage = name if kind != "sweep" else "sweep " + name.split("@")[0]
        for part, secs in parts.items():
            key = f"{part} {stage}"
            seconds[key] = seconds.get(key, 0.0) + secs
        if kind == "sweep":
            sweep.setdefault(name, []).append(result)
        else:
            runs.setdefault(name, []).append(result)
            budgets.setdefault(name, []).append(budget)
        if k + 1 == len(items) or items[k + 1][0] != s:
            log(f"{env_id} seed {s}: every method trained and evaluated [{time.time() - t0:.0f} s]")
    return budgets, sweep


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


def _same(value: Any) -> Any:
    """A worker's state that is ``value`` itself (a picklable ``make_state``)."""
    return value


def _call(task: Callable[[int], Any], item: int) -> Any:
    """The executor's task for a state that is itself the function to call."""
    return task(item)


def _sweep(
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


def tests_against(boot: MethodReturns, method: str, names: list[str]) -> list[dict[str, Any]]:
    """``method`` minus every other name (:func:`~dialogue_gym.stats.difference_test`),
    Holm-corrected as one family, each with the difference it could detect with 80% power
    (``mde80``, :func:`~dialogue_gym.stats.detectable_difference`)."""
    tests = []
    for name in names:
        if name == method:
            continue
        diff, p = boot.diff(method, name)
        mde = detectable_difference(boot.returns[method], boot.returns[name])
        tests.append(
            {"versus": name, "diff": diff.value, "ci95": diff.as_list(), "p": p, "mde80": mde}
        )
    for t, adjusted in zip(tests, holm([t["p"] for t in tests]), strict=True):
        t["p_holm"] = adjusted
    return tests


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
        results = [
            run_env(env_id, cfg, out_dir, log, backend, workers, progress) for env_id in cfg.envs
        ]
    t = time.time()
    md = markdown(results, cfg)
    summary = {
        "config": asdict(cfg),
        "provenance": provenance(cfg),
        "results": results,
        "seconds": time.time() - t0,
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
