"""``dialogue-gym benchmark``: does offline RL on hindsight-regenerated data beat imitation?

Per environment:

1. generate a behaviour dataset with the human-like (noisy scripted) policy;
2. regenerate its failed episodes with the embedded hindsight pipeline (transcript controller,
   imagination forward and reward models), and — as a labelled ablation — with the true env as
   forward and reward model ("oracle forward model", which costs real environment episodes);
3. train, over several training seeds: BC, filtered BC, CQL and IQL on the original data, CQL and
   IQL on original + regenerated data, CQL on original + oracle-regenerated data, and PPO online;
4. evaluate every method, and the random, scripted, human-like and oracle agents, on held-out
   seeds; write a Markdown and JSON table (mean return with 95% CI over episodes and training
   seeds, success rate, average turns, fraction of oracle, environment episodes consumed),
   paired-bootstrap tests of CQL + hindsight against every other method (paired by evaluation
   seed, the learned methods' returns averaged over training seeds), and a PNG bar chart.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .evaluation import env_domain, evaluate
from .files import atomic_write_text
from .stats import mean_ci, paired_bootstrap, proportion_ci

MAIN = "cql+hindsight"
EVAL_SEED = 1_000_000


@dataclass
class BenchmarkConfig:
    """Sizes of one benchmark run (``quick()`` for the 3-minute version)."""

    envs: tuple[str, ...] = ("Persuasion-v0", "Counseling-v0")
    dataset_episodes: int = 1500
    """Behaviour episodes per env (the offline methods' environment budget)."""
    eval_episodes: int = 200
    """Held-out evaluation episodes per method and training seed."""
    train_seeds: int = 3
    offline_steps: int = 2000
    """Gradient steps of BC, CQL and IQL."""
    ppo_steps: int = 10_000
    """PPO environment steps per training seed."""
    top_share: float = 0.25
    """Filtered BC keeps this top share of episodes by return."""

    @classmethod
    def quick(cls, envs: tuple[str, ...] = ("Persuasion-v0", "Counseling-v0")) -> BenchmarkConfig:
        """Small sizes: finishes in about 3 minutes on 2 cores."""
        return cls(
            envs=envs,
            dataset_episodes=400,
            eval_episodes=60,
            train_seeds=3,
            offline_steps=500,
            ppo_steps=2048,
        )


def _methods(cfg: BenchmarkConfig) -> dict[str, Callable[..., Any]]:
    from .agents.bc import BCArgs, train_bc
    from .agents.cql import CQLArgs, train_cql
    from .agents.iql import IQLArgs, train_iql

    steps = cfg.offline_steps
    return {
        "bc": lambda d, dom, s: train_bc(d["orig"], dom, BCArgs(steps=steps, seed=s)),
        "filtered-bc": lambda d, dom, s: train_bc(
            d["orig"], dom, BCArgs(steps=steps, seed=s, top_share=cfg.top_share)
        ),
        "cql": lambda d, dom, s: train_cql(d["orig"], dom, CQLArgs(steps=steps, seed=s)),
        "iql": lambda d, dom, s: train_iql(d["orig"], dom, IQLArgs(steps=steps, seed=s)),
        MAIN: lambda d, dom, s: train_cql(d["hind"], dom, CQLArgs(steps=steps, seed=s)),
        "iql+hindsight": lambda d, dom, s: train_iql(d["hind"], dom, IQLArgs(steps=steps, seed=s)),
        "cql+hindsight(oracle-fwd)": lambda d, dom, s: train_cql(
            d["oracle"], dom, CQLArgs(steps=steps, seed=s)
        ),
    }


def _row(
    name: str,
    returns: np.ndarray,
    successes: list[bool],
    turns: list[int],
    oracle_mean: float,
    env_episodes: int | None,
    per_seed: list[float],
) -> dict[str, Any]:
    m, lo, hi = mean_ci(returns)
    p, plo, phi = proportion_ci(int(sum(successes)), len(successes))
    return {
        "method": name,
        "mean_return": m,
        "ci95": [lo, hi],
        "success_rate": p,
        "success_ci95": [plo, phi],
        "avg_turns": float(np.mean(turns)),
        "fraction_of_oracle": m / oracle_mean if oracle_mean else None,
        "env_episodes": env_episodes,
        "per_seed_means": per_seed,
        "n_episodes": int(len(returns)),
    }


def run_env(env_id: str, cfg: BenchmarkConfig, out_dir: Path, log: Callable[[str], None]) -> dict:
    """The whole benchmark for one environment."""
    from .agents.offline_data import OfflineData, concat
    from .agents.ppo import PPOArgs, train_ppo
    from .generate import generate
    from .hindsight import (
        ImaginationForwardModel,
        ImaginationRewardModel,
        TranscriptController,
        TrueEnvForwardModel,
        TrueEnvRewardModel,
        is_failed,
        regenerate,
    )
    from .jsonl import read_episodes, write_episodes

    domain = env_domain(env_id)
    t0 = time.time()
    env_dir = out_dir / env_id
    env_dir.mkdir(parents=True, exist_ok=True)
    data_path = env_dir / "behaviour.jsonl"
    generate(env_id, "human-like", cfg.dataset_episodes, data_path, seed=0, progress=False)
    episodes, _ = read_episodes(data_path)
    failed = [e for e in episodes if is_failed(e)]
    regen = regenerate(
        episodes, TranscriptController(), ImaginationForwardModel(), ImaginationRewardModel()
    )
    oracle_regen = regenerate(
        episodes, TranscriptController(), TrueEnvForwardModel(), TrueEnvRewardModel()
    )
    write_episodes(env_dir / "regenerated.jsonl", regen)
    write_episodes(env_dir / "regenerated_oracle_forward.jsonl", oracle_regen)
    log(
        f"{env_id}: {len(episodes)} behaviour episodes ({len(failed)} failed), "
        f"{len(regen)} regenerated, {len(oracle_regen)} oracle-regenerated "
        f"[{time.time() - t0:.0f} s]"
    )
    orig = OfflineData.from_episodes(episodes)
    data = {
        "orig": orig,
        "hind": concat(orig, OfflineData.from_episodes(regen)) if regen else orig,
        "oracle": concat(orig, OfflineData.from_episodes(oracle_regen)) if oracle_regen else orig,
    }
    kw = {"progress": False, "oracle": False}

    def returns_of(agent: Any) -> Any:
        return evaluate(agent, env_id, cfg.eval_episodes, EVAL_SEED, **kw)

    baselines = {name: returns_of(name) for name in ("random", "scripted", "human-like", "oracle")}
    oracle_mean = baselines["oracle"].summary["mean_return"]
    rows, per_eval_seed = [], {}
    for name, r in baselines.items():
        rets = np.array([e.reward for e in r.episodes])
        per_eval_seed[name] = rets
        rows.append(
            _row(
                name,
                rets,
                [e.success for e in r.episodes],
                [e.turns for e in r.episodes],
                oracle_mean,
                None,
                [float(rets.mean())],
            )
        )
    budgets = {
        "bc": len(episodes),
        "filtered-bc": len(episodes),
        "cql": len(episodes),
        "iql": len(episodes),
        MAIN: len(episodes),
        "iql+hindsight": len(episodes),
        "cql+hindsight(oracle-fwd)": len(episodes) + len(oracle_regen),
    }
    trained = {name: [] for name in [*_methods(cfg), "ppo"]}
    for name, fn in _methods(cfg).items():
        t = time.time()
        for s in range(cfg.train_seeds):
            trained[name].append(returns_of(fn(data, domain, s)))
        log(f"{env_id}: {name} trained and evaluated x{cfg.train_seeds} [{time.time() - t:.0f} s]")
    t = time.time()
    ppo_episodes = 0
    for s in range(cfg.train_seeds):
        agent, n = train_ppo(env_id, PPOArgs(steps=cfg.ppo_steps, seed=s))
        ppo_episodes += n
        trained["ppo"].append(returns_of(agent))
    budgets["ppo"] = ppo_episodes // cfg.train_seeds
    log(f"{env_id}: ppo trained and evaluated x{cfg.train_seeds} [{time.time() - t:.0f} s]")
    for name, results in trained.items():
        stacked = np.array([[e.reward for e in r.episodes] for r in results])
        per_eval_seed[name] = stacked.mean(axis=0)
        rows.append(
            _row(
                name,
                stacked.ravel(),
                [e.success for r in results for e in r.episodes],
                [e.turns for r in results for e in r.episodes],
                oracle_mean,
                budgets[name],
                [float(x) for x in stacked.mean(axis=1)],
            )
        )
    tests = []
    for name, rets in per_eval_seed.items():
        if name == MAIN:
            continue
        diff, ci, p = paired_bootstrap(per_eval_seed[MAIN], rets)
        tests.append({"versus": name, "diff": diff, "ci95": list(ci), "p": p})
    return {
        "env_id": env_id,
        "rows": rows,
        "tests": tests,
        "dataset": {
            "episodes": len(episodes),
            "failed": len(failed),
            "regenerated": len(regen),
            "oracle_regenerated": len(oracle_regen),
        },
        "seconds": time.time() - t0,
    }


def markdown(results: list[dict], cfg: BenchmarkConfig) -> str:
    """The Markdown report."""
    lines = [
        "# dialogue-gym benchmark",
        "",
        f"Config: {json.dumps(asdict(cfg))}",
        "",
        "Mean return with 95% t-interval over evaluation episodes (and training seeds for learned "
        "methods); *env episodes*: environment episodes the method consumed (offline: the "
        "behaviour dataset, plus the true-env continuations of the oracle-forward ablation). "
        f"Tests: paired bootstrap of {MAIN} minus each method, paired by evaluation seed "
        "(learned methods averaged over training seeds), two-sided p.",
    ]
    for r in results:
        d = r["dataset"]
        lines += [
            "",
            f"## {r['env_id']}",
            "",
            f"Behaviour data: {d['episodes']} episodes, {d['failed']} failed; regenerated "
            f"{d['regenerated']} (imagination), {d['oracle_regenerated']} (oracle forward).",
            "",
            "| method | mean return [95% CI] | success | turns | of oracle | env episodes |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for row in r["rows"]:
            frac = row["fraction_of_oracle"]
            lines.append(
                f"| {row['method']} | {row['mean_return']:.3f} [{row['ci95'][0]:.3f}, "
                f"{row['ci95'][1]:.3f}] | {row['success_rate']:.2f} | {row['avg_turns']:.1f} | "
                f"{'' if frac is None else f'{frac:.2f}'} | {row['env_episodes'] or '-'} |"
            )
        lines += ["", f"| {MAIN} vs | diff [95% CI] | p |", "| --- | --- | --- |"]
        for t in r["tests"]:
            lines.append(
                f"| {t['versus']} | {t['diff']:+.3f} [{t['ci95'][0]:+.3f}, "
                f"{t['ci95'][1]:+.3f}] | {t['p']:.3g} |"
            )
    return "\n".join(lines) + "\n"


def bar_chart(results: list[dict], path: Path) -> None:
    """Mean return per method with 95% CI error bars, one panel per env."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(6 * len(results), 4.5), squeeze=False)
    for ax, r in zip(axes[0], results, strict=True):
        names = [row["method"] for row in r["rows"]]
        means = np.array([row["mean_return"] for row in r["rows"]])
        err = np.array(
            [
                [m - row["ci95"][0], row["ci95"][1] - m]
                for m, row in zip(means, r["rows"], strict=True)
            ]
        ).T
        colors = [
            "#bbbbbb"
            if n in ("random", "scripted", "human-like", "oracle")
            else ("#cc3311" if n == MAIN else "#4477aa")
            for n in names
        ]
        ax.bar(range(len(names)), means, yerr=err, color=colors, capsize=3)
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(names, rotation=60, ha="right", fontsize=8)
        ax.set_ylabel("mean return")
        ax.set_title(r["env_id"])
    fig.tight_layout()
    tmp = path.with_name(path.stem + ".tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, path)


def run_benchmark(cfg: BenchmarkConfig, out_dir: str | Path, log: Callable[[str], None] = print):
    """Run every env; write ``benchmark.md``, ``benchmark.json`` and ``benchmark.png``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    results = [run_env(env_id, cfg, out_dir, log) for env_id in cfg.envs]
    md = markdown(results, cfg)
    summary = {"config": asdict(cfg), "results": results, "seconds": time.time() - t0}
    atomic_write_text(out_dir / "benchmark.md", md)
    atomic_write_text(out_dir / "benchmark.json", json.dumps(summary, indent=1))
    try:
        bar_chart(results, out_dir / "benchmark.png")
    except ImportError:
        log("(matplotlib missing: no bar chart)")
    log(f"benchmark done in {time.time() - t0:.0f} s -> {out_dir}")
    return results, md
