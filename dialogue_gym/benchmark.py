"""``dialogue-gym benchmark``: does offline RL on hindsight-regenerated data beat imitation?

Per environment and training seed ``s``:

1. generate a behaviour dataset with the human-like (noisy scripted) policy — a fresh one per
   training seed (seeds ``s * dataset_episodes ...``), so the intervals cover the variance of the
   data as well as of the network's initialization (``resample_data=False``: one dataset for
   every seed, whose intervals then cover the initialization only);
2. regenerate its unsuccessful episodes with hindsight pipelines that share one controller (the
   offline critic fitted on the data) and differ in the forward and reward models:
   ``learned`` (retrieval forward model and learned reward model: recorded data only — the
   headline), ``privileged`` (the simulator's own dynamics, persona inferred: a labelled
   ablation) and ``true-env`` (the evaluation env itself, "oracle forward model", which costs real
   environment episodes: every one it plays is counted); a second round of the learned pipeline
   regenerates its regenerations that are still unsuccessful. With ``llm`` (a chat backend), an
   LLM forward and reward pair rewrites a few unsuccessful episodes too (gap only). Every
   imagined regeneration is replayed in the true env, for the report only (the imagination gap
   of each pipeline);
3. train BC, filtered BC, CQL and IQL on the original data, CQL and IQL on original + learned
   regenerations, CQL on original + two learned rounds, on original + privileged and on
   original + true-env regenerations, and PPO online; with ``sweep_sizes``, CQL and CQL +
   hindsight(learned) again on the first N episodes of each dataset (the data-size sweep).

Then evaluate every method, and the random, scripted, human-like, model-based (knows the
dynamics, not the persona) and oracle agents, on the same held-out seeds, and write a Markdown and
JSON table and a PNG chart. Statistics (:class:`~dialogue_gym.stats.TwoLevelBootstrap`): each
mean's 95% interval resamples training seeds and evaluation seeds; so do the normalized score
``(x - random) / (oracle - random)`` and the tests of CQL + hindsight against every other method
(paired by evaluation seed), whose p-values are Holm-corrected as one family per env. The spread
of the per-training-seed means is shown beside each row.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .domains import domain_of, env_domain, env_ids
from .episode import ORACLE_REWARD
from .errors import InvalidInput
from .evaluation import evaluate
from .executor import LOCAL, Backend, map_ordered, worker_session
from .files import atomic_write_text
from .stats import TwoLevelBootstrap, holm

MAIN = "cql+hindsight"
EVAL_SEED = 1_000_000
BASELINES = ("random", "scripted", "human-like", "model-based", "oracle")
LABELS = {
    "model-based": "model-based (knows the dynamics, not the persona)",
    "oracle": "oracle (knows the persona: privileged)",
    MAIN: "cql+hindsight (learned from the data)",
    "cql+hindsight(privileged)": "cql+hindsight(privileged) [ablation: simulator dynamics]",
    "cql+hindsight(oracle-fwd)": "cql+hindsight(oracle-fwd) [ablation: true env]",
}
PIPELINES = ("learned", "privileged", "true-env")
"""Hindsight pipelines: one controller (the critic), three forward/reward pairs."""


@dataclass
class BenchmarkConfig:
    """Sizes and protocol of one benchmark run (``quick()`` for the short version)."""

    envs: tuple[str, ...] = field(default_factory=env_ids)
    """The env ids to benchmark (default: every registered one)."""
    dataset_episodes: int = 1500
    """Behaviour episodes per env and training seed (the offline methods' environment budget)."""
    eval_episodes: int = 200
    """Held-out evaluation episodes per method and training seed."""
    train_seeds: int = 3
    offline_steps: int = 2000
    """Gradient steps of BC, CQL and IQL."""
    ppo_steps: int = 10_000
    """PPO environment steps per training seed."""
    top_share: float = 0.25
    """Filtered BC keeps exactly this top share of episodes by return."""
    resample_data: bool = True
    """A new behaviour dataset (and its regenerations) per training seed; False: one for all."""
    imagined_weight: float = 1.0
    """Loss weight of transitions whose reward a hindsight model imagined (1: same as real)."""
    model_based_samples: int = 6
    """Personas the model-based reference plans over."""
    threads: int | None = 1
    """torch threads of the learners and of the learned agents' evaluation."""
    n_boot: int = 10_000
    """Bootstrap replicates of the intervals and tests."""
    added_agents: tuple[str, ...] = ()
    """A user's agents (any spec: a registered name or ``module:Object``) evaluated on the same
    seeds and put in the table, each with its own tests against every other row."""
    encoder: str = "minilm"
    """Sentence encoder of the learned hindsight models (``hash:N``: no model)."""
    sweep_sizes: tuple[int, ...] = (200, 500)
    """Smaller behaviour datasets (first N episodes of each run's) for the data-size sweep."""
    llm: str | None = None
    """A chat backend spec (``local:smollm2``, ``http://HOST:PORT/v1#MODEL``, ...): its forward
    and reward models (:mod:`~dialogue_gym.hindsight.llm`) join the imagination gap table as the
    ``llm`` pair, on the critic's rewrites of ``llm_episodes`` unsuccessful episodes per run.
    Gap only: no method trains on them (an LLM continuation per episode is costly)."""
    llm_episodes: int = 30
    """Unsuccessful episodes per run that the ``llm`` pair regenerates (the first ones)."""

    def __post_init__(self) -> None:
        for name in ("dataset_episodes", "eval_episodes", "train_seeds", "offline_steps"):
            if getattr(self, name) < 1:
                raise InvalidInput(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.ppo_steps < 2:
            raise InvalidInput(f"ppo_steps must be >= 2, got {self.ppo_steps}")
        if self.train_seeds * self.dataset_episodes > EVAL_SEED:
            raise InvalidInput(
                f"train_seeds * dataset_episodes must stay below the evaluation seeds "
                f"({EVAL_SEED}), got {self.train_seeds * self.dataset_episodes}"
            )
        if not 0 < self.top_share <= 1 or not 0 <= self.imagined_weight <= 1:
            raise InvalidInput("need 0 < top_share <= 1 and 0 <= imagined_weight <= 1")
        self.added_agents = tuple(self.added_agents)
        self.sweep_sizes = tuple(sorted(set(self.sweep_sizes)))
        if any(not 20 <= n < self.dataset_episodes for n in self.sweep_sizes):
            raise InvalidInput(
                f"sweep sizes must be >= 20 and below dataset_episodes ({self.dataset_episodes}), "
                f"got {list(self.sweep_sizes)}"
            )
        if self.llm_episodes < 1:
            raise InvalidInput(f"llm_episodes must be >= 1, got {self.llm_episodes}")
        if len(set(self.added_agents)) != len(self.added_agents):
            raise InvalidInput(f"added agents must differ, got {list(self.added_agents)}")

    @classmethod
    def quick(cls, envs: tuple[str, ...] | None = None) -> BenchmarkConfig:
        """Small sizes: a few minutes on 2 cores."""
        return cls(
            envs=envs or env_ids(),
            dataset_episodes=400,
            eval_episodes=60,
            train_seeds=3,
            offline_steps=500,
            ppo_steps=2048,
            model_based_samples=3,
            n_boot=2000,
            sweep_sizes=(100,),
        )


OFFLINE_METHODS: dict[str, tuple[str, str]] = {
    "bc": ("bc", "orig"),
    "filtered-bc": ("filtered-bc", "orig"),
    "cql": ("cql", "orig"),
    "iql": ("iql", "orig"),
    MAIN: ("cql", "learned"),
    "iql+hindsight": ("iql", "learned"),
    "cql+hindsight(2 rounds)": ("cql", "learned2"),
    "cql+hindsight(privileged)": ("cql", "privileged"),
    "cql+hindsight(oracle-fwd)": ("cql", "true-env"),
}
"""Each offline method: (algorithm, its dataset: the original, or the original plus the
regenerations of a pipeline; ``learned2``: two rounds of the learned pipeline)."""
METHOD_NAMES = {*BASELINES, *OFFLINE_METHODS, "ppo"}
"""Every row the benchmark makes itself (an added agent must not take one of these names)."""


def _train_offline(
    name: str, data: dict, domain: str, seed: int, cfg: BenchmarkConfig, part: str | None = None
) -> Any:
    """Train the offline method ``name`` (or the algorithm ``name`` on ``data[part]``) with
    training seed ``seed``."""
    from .agents.bc import BCArgs, train_bc
    from .agents.cql import CQLArgs, train_cql
    from .agents.iql import IQLArgs, train_iql

    algo, part = (name, part) if part is not None else OFFLINE_METHODS[name]
    common = {"steps": cfg.offline_steps, "imagined_weight": cfg.imagined_weight,
              "threads": cfg.threads, "seed": seed}  # fmt: skip
    if algo == "filtered-bc":
        return train_bc(data[part], domain, BCArgs(top_share=cfg.top_share, **common))
    train, args = {"bc": (train_bc, BCArgs), "cql": (train_cql, CQLArgs),
                   "iql": (train_iql, IQLArgs)}[algo]  # fmt: skip
    return train(data[part], domain, args(**common))


def _imagination_gap(regen: list, by_id: dict) -> dict[str, Any]:
    """Each regeneration's imagined reward beside the true reward of the same agent turns
    replayed in the true env (report only: the replays are not training data and are not
    charged to any method): bias, MAE, correlation, and the share of rewrites that truly improve
    on their original (true replay above the source's recorded outcome) beside the share the
    reward model believed improved (imagined above its own score of the source)."""
    from .hindsight import replay_in_true_env

    if not regen:
        return {"n": 0}
    imagined = np.array([float(r.reward) for r in regen])
    if all(r.reward_source == ORACLE_REWARD for r in regen):
        true = imagined  # the true env scored them already
    else:
        true = np.array([replay_in_true_env(by_id[r.provenance["root_id"]], r.turns)[0]
                         for r in regen])  # fmt: skip
    original = np.array([float(by_id[r.provenance["root_id"]].reward) for r in regen])
    believed = np.array([float(r.outcome.get("source_model_reward", np.nan)) for r in regen])
    corr = np.corrcoef(imagined, true)[0, 1] if imagined.std() > 0 and true.std() > 0 else np.nan
    return {
        "n": len(regen),
        "imagined": imagined.tolist(),
        "true": true.tolist(),
        "imagined_mean": float(imagined.mean()),
        "true_mean": float(true.mean()),
        "gap": float((imagined - true).mean()),
        "mae": float(np.abs(imagined - true).mean()),
        "corr": float(corr),
        "truly_improve": float(np.mean(true > original)),
        "believed_improve": float(np.nanmean(imagined > believed)),
    }


def _pooled_gap(gaps: list[dict[str, Any]]) -> dict[str, Any]:
    """One pipeline's gap over every training run (regenerations pooled)."""
    imagined = np.concatenate([g["imagined"] for g in gaps if g["n"]] or [np.zeros(0)])
    true = np.concatenate([g["true"] for g in gaps if g["n"]] or [np.zeros(0)])
    if not len(imagined):
        return {"n": 0}
    ok = imagined.std() > 0 and true.std() > 0
    n = np.array([g["n"] for g in gaps if g["n"]])
    return {
        "n": int(len(imagined)),
        "imagined_mean": float(imagined.mean()),
        "true_mean": float(true.mean()),
        "gap": float((imagined - true).mean()),
        "mae": float(np.abs(imagined - true).mean()),
        "corr": float(np.corrcoef(imagined, true)[0, 1]) if ok else float("nan"),
        "truly_improve": float(np.average([g["truly_improve"] for g in gaps if g["n"]], weights=n)),
        "believed_improve": float(
            np.average([g["believed_improve"] for g in gaps if g["n"]], weights=n)
        ),
    }


def _pipelines(episodes: list, cfg: BenchmarkConfig, which: tuple[str, ...]) -> dict[str, Any]:
    """The regenerations of each pipeline in ``which`` (``learned2``: the learned pipeline's
    second round), and the true-env episodes the oracle pipeline played."""
    from .hindsight import (
        CriticController,
        LearnedRewardModel,
        PrivilegedDynamicsForwardModel,
        PrivilegedDynamicsRewardModel,
        RetrievalForwardModel,
        TrueEnvForwardModel,
        TrueEnvRewardModel,
        regenerate,
    )
    from .hindsight.cli import intensity_reader
    from .hindsight.features import CachedEncoder

    enc = CachedEncoder(cfg.encoder)
    controller = CriticController(episodes, enc)
    out: dict[str, Any] = {"env_episodes": 0}
    if "learned" in which:
        pair = RetrievalForwardModel(episodes, enc), LearnedRewardModel.fit(episodes, cfg.encoder)
        both = regenerate(episodes, controller, *pair, rounds=2)
        out["learned"] = [r for r in both if r.provenance["round"] == 1]
        out["round 2"] = [r for r in both if r.provenance["round"] == 2]
        out["learned2"] = both
    if "privileged" in which:
        initial = intensity_reader(episodes, enc)
        pair = (PrivilegedDynamicsForwardModel(initial=initial),
                PrivilegedDynamicsRewardModel(initial=initial))  # fmt: skip
        out["privileged"] = regenerate(episodes, controller, *pair)
    if "true-env" in which:
        fwd, rwd = TrueEnvForwardModel(), TrueEnvRewardModel()
        out["true-env"] = regenerate(episodes, controller, fwd, rwd)
        out["env_episodes"] = fwd.env_episodes + rwd.env_episodes
    if "llm" in which and cfg.llm:
        out["llm"], out["llm_errors"] = _llm_pair(episodes, cfg, controller)
    return out


def _llm_pair(episodes: list, cfg: BenchmarkConfig, controller: Any) -> tuple[list, list[str]]:
    """The LLM pair's regenerations of the first ``cfg.llm_episodes`` unsuccessful episodes, and
    why each episode it could not regenerate failed (an unusable answer, a backend error)."""
    from .hindsight.llm import LLMForwardModel, LLMRewardModel
    from .hindsight.regenerate import is_unsuccessful, iter_regenerate

    chosen = [e for e in episodes if is_unsuccessful(e)][: cfg.llm_episodes]
    domain = env_domain(episodes[0].env_id)
    errors: list[str] = []
    regen = list(iter_regenerate(
        chosen, controller, LLMForwardModel(cfg.llm), LLMRewardModel(cfg.llm, domain),
        on_error=lambda e, err: errors.append(f"{type(err).__name__}: {err}"),
    ))  # fmt: skip
    return regen, errors


def _datasets(
    env_id: str, cfg: BenchmarkConfig, seed: int, out_dir: Path, log: Callable[[str], None]
) -> dict[str, Any]:
    """Behaviour data of one training seed, its regenerations, and their figures; and the
    smaller datasets of the sweep (the first N episodes) with their learned regenerations."""
    from .agents.offline_data import OfflineData, concat
    from .generate import generate
    from .hindsight import is_unsuccessful
    from .jsonl import read_episodes, write_episodes

    t0 = time.time()
    data_seed = seed * cfg.dataset_episodes
    path = out_dir / f"behaviour-seed{seed}.jsonl"
    generate(env_id, "human-like", cfg.dataset_episodes, path, seed=data_seed, progress=False)
    episodes, _ = read_episodes(path)
    regen = _pipelines(episodes, cfg, (*PIPELINES, "llm"))
    llm = ("llm",) if cfg.llm else ()
    for name in ("learned2", "privileged", "true-env", *llm):
        write_episodes(out_dir / f"regenerated-{name}-seed{seed}.jsonl", regen[name])
    gaps = (*PIPELINES, "round 2", *llm)
    by_id = {e.id: e for e in episodes}
    orig = OfflineData.from_episodes(episodes)
    figures = {
        "data_seed": data_seed,
        "episodes": len(episodes),
        "unsuccessful": sum(is_unsuccessful(e) for e in episodes),
        "regenerated": {k: len(regen[k]) for k in gaps},
        "oracle_env_episodes": regen["env_episodes"],
        "imagination_gap": {k: _imagination_gap(regen[k], by_id) for k in gaps},
        **({"llm_errors": regen["llm_errors"]} if cfg.llm else {}),
        "behaviour_mean": float(np.mean([e.reward for e in episodes if e.status == "ok"])),
    }
    log(
        f"{env_id} seed {seed}: {len(episodes)} behaviour episodes "
        f"({figures['unsuccessful']} unsuccessful), regenerated: "
        + ", ".join(f"{k} {v}" for k, v in figures["regenerated"].items())
        + f" [{time.time() - t0:.0f} s]"
    )
    out = {"orig": orig, "figures": figures}
    for k in (*PIPELINES, "learned2"):
        out[k] = concat(orig, OfflineData.from_episodes(regen[k])) if regen[k] else orig
    out["sweep"] = {}
    for n in cfg.sweep_sizes:
        small = episodes[:n]
        part = _pipelines(small, cfg, ("learned",))["learned"]
        small_data = OfflineData.from_episodes(small)
        out["sweep"][n] = {
            "orig": small_data,
            "learned": concat(small_data, OfflineData.from_episodes(part)) if part else small_data,
            "unsuccessful": sum(is_unsuccessful(e) for e in small),
            "gap": _imagination_gap(part, by_id),
        }
        log(f"{env_id} seed {seed}: sweep {n} episodes, {len(part)} regenerated "
            f"[{time.time() - t0:.0f} s]")  # fmt: skip
    return out


def _returns(result: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Returns (nan where the episode failed), successes and turns of an evaluation."""
    eps = result.episodes
    returns = np.array([e.reward if e.status == "ok" else np.nan for e in eps], dtype=float)
    return returns, np.array([float(e.success) for e in eps]), np.array([e.turns for e in eps])


def _seed_data(
    env_id: str,
    cfg: BenchmarkConfig,
    env_dir: Path | None,
    log: Callable[[str], None] | None,
    s: int,
) -> dict[str, Any]:
    """Training seed ``s``'s dataset and regenerations: one task of the executor. With
    ``env_dir`` None (a Ray worker) the artifact files are written to a temporary folder and
    returned (``files``) for the driver to write, and log lines are returned unless ``log``
    prints them as they come."""
    import tempfile

    lines: list[str] = []
    files: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory() as tmp:
        where = env_dir if env_dir is not None else Path(tmp)
        data = _datasets(env_id, cfg, s, where, log or lines.append)
        if env_dir is None:
            files = {p.name: p.read_bytes() for p in Path(tmp).iterdir() if p.is_file()}
    return {"data": data, "files": files, "log": lines}


def _method_items(cfg: BenchmarkConfig, datasets: dict[int, dict]) -> list[tuple]:
    """Every (training seed, kind, row name, detail) to train and evaluate, seed by seed: the
    offline methods, the sweep's two methods per size, PPO."""
    items: list[tuple] = []
    for s in range(cfg.train_seeds):
        data = datasets[s if cfg.resample_data else 0]
        items += [(s, "offline", name, None) for name in OFFLINE_METHODS]
        for size in data["sweep"]:
            items += [(s, "sweep", f"{name}@{size}", (size, part))
                      for name, part in (("cql", "orig"), (MAIN, "learned"))]  # fmt: skip
        items.append((s, "ppo", "ppo", None))
    return items


def _method_run(
    env_id: str, cfg: BenchmarkConfig, datasets: dict[int, dict], item: tuple
) -> tuple[Any, int | None]:
    """Train and evaluate one (seed, method) item of :func:`_method_items`: the evaluation and
    the environment episodes it used (``None`` for a sweep entry). One task of the executor;
    depends on nothing but the seed's data, the seed and ``cfg``."""
    from .agents.learned import torch_threads
    from .agents.ppo import PPOArgs, train_ppo

    s, kind, name, detail = item
    domain = env_domain(env_id)
    data = datasets[s if cfg.resample_data else 0]
    budget: int | None = data["figures"]["episodes"]
    if kind == "offline":
        agent = _train_offline(name, data, domain, s, cfg)
        if "oracle-fwd" in name:
            budget += data["figures"]["oracle_env_episodes"]
    elif kind == "sweep":
        size, part = detail
        agent = _train_offline("cql", data["sweep"][size], domain, s, cfg, part=part)
        budget = None
    else:
        agent, budget = train_ppo(env_id, PPOArgs(steps=cfg.ppo_steps, seed=s, threads=cfg.threads))
    with torch_threads(cfg.threads):
        result = evaluate(agent, env_id, cfg.eval_episodes, EVAL_SEED, progress=False,
                          oracle=False)  # fmt: skip
    return result, budget


def run_env(
    env_id: str,
    cfg: BenchmarkConfig,
    out_dir: Path,
    log: Callable[[str], None],
    backend: Backend = LOCAL,
) -> dict:
    """The whole benchmark for one environment. On Ray, the baselines' episodes, each training
    seed's data and each (training seed, method) run on workers; the figures are the same as on
    this machine."""
    from functools import partial

    from .agents.learned import torch_threads

    domain = env_domain(env_id)
    t0 = time.time()
    env_dir = out_dir / env_id
    env_dir.mkdir(parents=True, exist_ok=True)
    kw = {"progress": False, "oracle": False, "backend": backend}

    def evaluated(spec: str) -> Any:
        with torch_threads(cfg.threads):
            return evaluate(spec, env_id, cfg.eval_episodes, EVAL_SEED, **kw)

    runs: dict[str, list[Any]] = {}
    for name in BASELINES:
        spec = f"{name}:samples={cfg.model_based_samples}" if name == "model-based" else name
        runs[name] = [evaluated(spec)]
    log(f"{env_id}: baselines evaluated [{time.time() - t0:.0f} s]")
    added = _added_agents(cfg.added_agents, domain, METHOD_NAMES)
    for name, spec in added.items():
        runs[name] = [evaluated(spec)]
    if added:
        log(f"{env_id}: added agents evaluated: {', '.join(added)} [{time.time() - t0:.0f} s]")
    local = backend.name == "local"
    if cfg.resample_data:  # each training seed's data: one task per seed
        task = partial(_seed_data, env_id, cfg, env_dir if local else None, log if local else None)
        datasets = {}
        for s, done in enumerate(map_ordered(_call, range(cfg.train_seeds), lambda: task,
                                             backend=backend)):  # fmt: skip
            for name, content in done["files"].items():  # the driver writes every file
                (env_dir / name).write_bytes(content)
            for line in done["log"]:
                log(line)
            datasets[s] = done["data"]
    else:
        datasets = {0: _datasets(env_id, cfg, 0, env_dir, log)}
    budgets: dict[str, list[int]] = {}
    sweep: dict[str, list[Any]] = {}
    items = _method_items(cfg, datasets)
    results = map_ordered(partial(_method_run, env_id, cfg), items, lambda: datasets,
                          backend=backend)  # fmt: skip
    for k, ((s, kind, name, _), (result, budget)) in enumerate(zip(items, results, strict=True)):
        if kind == "sweep":
            sweep.setdefault(name, []).append(result)
        else:
            runs.setdefault(name, []).append(result)
            budgets.setdefault(name, []).append(budget)
        if k + 1 == len(items) or items[k + 1][0] != s:
            log(f"{env_id} seed {s}: every method trained and evaluated "
                f"[{time.time() - t0:.0f} s]")  # fmt: skip

    matrices = {name: [_returns(r) for r in rs] for name, rs in runs.items()}
    returns = {k: np.stack([m[0] for m in v]) for k, v in matrices.items()}
    boot = TwoLevelBootstrap(returns, cfg.n_boot, seed=0)
    success = TwoLevelBootstrap(
        {k: np.stack([m[1] for m in v]) for k, v in matrices.items()}, cfg.n_boot, seed=1
    )
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
                "success_ci95": succ.as_list(),
                "avg_turns": float(np.mean([m[2] for m in matrices[name]])),
                "env_episodes": int(np.mean(budgets[name])) if name in budgets else None,
                "n_runs": len(runs[name]),
                "n_episodes": int(np.isfinite(returns[name]).sum()),
                "n_failed": int((~np.isfinite(returns[name])).sum()),
            }
        )
    own = [name for name in runs if name not in added]
    data_figures = [d["figures"] for d in datasets.values()]
    gaps = {k: _pooled_gap([f["imagination_gap"][k] for f in data_figures])
            for k in data_figures[0]["imagination_gap"]}  # fmt: skip
    sizes = _sweep(sweep, matrices, datasets, cfg)
    for f in data_figures:  # the per-rewrite lists were for pooling; the JSON keeps summaries
        for g in f["imagination_gap"].values():
            g.pop("imagined", None), g.pop("true", None)
    return {
        "env_id": env_id,
        "rows": rows,
        "tests": _tests(boot, MAIN, own),  # the benchmark's own family: added agents stay out
        "added_tests": {name: _tests(boot, name, list(runs)) for name in added},
        "datasets": data_figures,
        "imagination_gap": gaps,
        "sweep": sizes,
        "seconds": time.time() - t0,
    }


def _call(task: Callable[[int], Any], item: int) -> Any:
    """The executor's task for a state that is itself the function to call."""
    return task(item)


def _sweep(
    sweep: dict[str, list[Any]], main: dict[str, list[Any]], datasets: dict, cfg: BenchmarkConfig
) -> list[dict[str, Any]]:
    """Per dataset size: CQL and CQL + hindsight(learned), their difference (two-level
    bootstrap, paired by evaluation seed) with Holm correction over the sizes, and the learned
    pipeline's gap at that size."""
    if not sweep:
        return []
    returns = {k: np.stack([_returns(r)[0] for r in v]) for k, v in sweep.items()}
    full = cfg.dataset_episodes
    returns[f"cql@{full}"] = np.stack([m[0] for m in main["cql"]])
    returns[f"{MAIN}@{full}"] = np.stack([m[0] for m in main[MAIN]])
    boot = TwoLevelBootstrap(returns, cfg.n_boot, seed=2)
    out = []
    runs = list(datasets.values())
    for n in (*cfg.sweep_sizes, full):
        diff, p = boot.diff(f"{MAIN}@{n}", f"cql@{n}")
        if n == full:
            gap = _pooled_gap([d["figures"]["imagination_gap"]["learned"] for d in runs])
            unsuccessful = [d["figures"]["unsuccessful"] for d in runs]
        else:
            gap = _pooled_gap([d["sweep"][n]["gap"] for d in runs])
            unsuccessful = [d["sweep"][n]["unsuccessful"] for d in runs]
        cql, hind = boot.mean(f"cql@{n}"), boot.mean(f"{MAIN}@{n}")
        out.append({
            "episodes": n, "unsuccessful": float(np.mean(unsuccessful)),
            "cql": cql.value, "cql_ci95": cql.as_list(),
            "hindsight": hind.value, "hindsight_ci95": hind.as_list(),
            "diff": diff.value, "diff_ci95": diff.as_list(), "p": p,
            "regenerated": gap["n"] / max(1, len(runs)), "gap": gap.get("gap"),
            "truly_improve": gap.get("truly_improve"),
        })  # fmt: skip
    for row, adjusted in zip(out, holm([r["p"] for r in out]), strict=True):
        row["p_holm"] = adjusted
    return out


def _tests(boot: TwoLevelBootstrap, method: str, names: list[str]) -> list[dict[str, Any]]:
    """``method`` minus every other name (two-level bootstrap), Holm-corrected as one family."""
    tests = []
    for name in names:
        if name == method:
            continue
        diff, p = boot.diff(method, name)
        tests.append({"versus": name, "diff": diff.value, "ci95": diff.as_list(), "p": p})
    for t, adjusted in zip(tests, holm([t["p"] for t in tests]), strict=True):
        t["p_holm"] = adjusted
    return tests


def _added_agents(specs: tuple[str, ...], domain: str, taken: set[str]) -> dict[str, str]:
    """The user's agents' specs by table name (their own name, else the spec); never
    privileged."""
    from .agents.registry import is_privileged, make_agent

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


def _fmt_ci(m: float, ci: list[float], digits: int = 3) -> str:
    return f"{m:.{digits}f} [{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]"


def markdown(results: list[dict], cfg: BenchmarkConfig) -> str:
    """The Markdown report."""
    lines = [
        "# dialogue-gym benchmark",
        "",
        f"Config: {json.dumps(asdict(cfg))}",
        "",
        "Intervals: 95%, two-level bootstrap (training seeds, then evaluation seeds shared by "
        "every method) — they cover both sources of variance. *runs*: the lowest and highest "
        "mean of the training runs (a fresh behaviour dataset per run"
        + ("" if cfg.resample_data else " — here one dataset for all runs")
        + "). *normalized*: (x - random) / (oracle - random) on the same seeds. *env "
        "episodes*: environment episodes a training run consumed (offline: its behaviour "
        "dataset, plus every true-env episode the oracle-forward ablation played). Tests: "
        f"{MAIN} minus each method, two-level bootstrap paired by evaluation seed, two-sided; "
        "*p (Holm)* corrects the table's family of tests for multiplicity. An added agent "
        "(--add-agent) is tested against every row in a family of its own.",
    ]
    for r in results:
        lines += ["", f"## {r['env_id']}", "", "Behaviour data and regenerations per training run:"]
        lines += [
            "",
            "| run | episodes (unsuccessful) | behaviour mean | regenerated: learned, round 2, "
            "privileged, true-env | true-env episodes played |",
            "| --- | --- | --- | --- | --- |",
        ]
        for i, d in enumerate(r["datasets"]):
            n = d["regenerated"]
            lines.append(
                f"| {i} | {d['episodes']} ({d['unsuccessful']}) | {d['behaviour_mean']:.3f} | "
                f"{n['learned']}, {n['round 2']}, {n['privileged']}, {n['true-env']} | "
                f"{d['oracle_env_episodes']} |"
            )
        lines += [
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
        if "llm" in r["imagination_gap"]:
            errors = [x for d in r["datasets"] for x in d.get("llm_errors", [])]
            tried = sum(min(cfg.llm_episodes, d["unsuccessful"]) for d in r["datasets"])
            lines += ["", (
                f"The llm pair ({cfg.llm}) regenerated {r['imagination_gap']['llm']['n']} of the "
                f"{tried} unsuccessful episodes it was given (gap only: no method trains on them)"
                + (f"; {len(errors)} got no usable answer, e.g. {errors[0][:160]!r}" if errors
                   else "") + "."
            )]  # fmt: skip
        lines += [
            "",
            "| method | mean return [95% CI] | runs | normalized [95% CI] | success | turns "
            "| env episodes |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for row in r["rows"]:
            spread = (
                f"{row['run_spread'][0]:.3f} – {row['run_spread'][1]:.3f}"
                if row["n_runs"] > 1
                else "-"
            )
            lines.append(
                f"| {row['label']} | {_fmt_ci(row['mean_return'], row['ci95'])} | {spread} | "
                f"{_fmt_ci(row['normalized_score'], row['normalized_ci95'], 2)} | "
                f"{row['success_rate']:.2f} | {row['avg_turns']:.1f} | "
                f"{row['env_episodes'] or '-'} |"
            )
        lines += ["", f"| {MAIN} vs | diff [95% CI] | p | p (Holm) |", "| --- | --- | --- | --- |"]
        lines += _test_rows(r["tests"])
        if r.get("sweep"):
            lines += [
                "",
                "Data-size sweep (the first N episodes of each run's dataset; Holm over sizes):",
                "",
                f"| episodes | unsuccessful | cql | {MAIN} | diff [95% CI] | p | p (Holm) "
                "| regenerated | gap | truly improve |",
                "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
            ]
            for w in r["sweep"]:
                gap = "-" if w["gap"] is None else f"{w['gap']:+.3f}"
                truly = "-" if w["truly_improve"] is None else f"{w['truly_improve']:.2f}"
                lines.append(
                    f"| {w['episodes']} | {w['unsuccessful']:.0f} | "
                    f"{_fmt_ci(w['cql'], w['cql_ci95'])} | "
                    f"{_fmt_ci(w['hindsight'], w['hindsight_ci95'])} | "
                    f"{w['diff']:+.3f} [{w['diff_ci95'][0]:+.3f}, {w['diff_ci95'][1]:+.3f}] | "
                    f"{w['p']:.3g} | {w['p_holm']:.3g} | {w['regenerated']:.0f} | {gap} | "
                    f"{truly} |"
                )
        for name, tests in r.get("added_tests", {}).items():
            lines += ["", f"| {name} (added) vs | diff [95% CI] | p | p (Holm) |",
                      "| --- | --- | --- | --- |", *_test_rows(tests)]  # fmt: skip
    return "\n".join(lines) + "\n"


def _test_rows(tests: list[dict[str, Any]]) -> list[str]:
    return [
        f"| {t['versus']} | {t['diff']:+.3f} [{t['ci95'][0]:+.3f}, {t['ci95'][1]:+.3f}] | "
        f"{t['p']:.3g} | {t['p_holm']:.3g} |"
        for t in tests
    ]


def bar_chart(results: list[dict], path: Path) -> None:
    """Mean return per method with 95% CI error bars, one panel per env."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    fig, axes = plt.subplots(1, len(results), figsize=(6 * len(results), 5.2), squeeze=False)
    for ax, r in zip(axes[0], results, strict=True):
        names = [row["method"] for row in r["rows"]]
        means = np.array([row["mean_return"] for row in r["rows"]])
        err = np.array(
            [
                [m - row["ci95"][0], row["ci95"][1] - m]
                for m, row in zip(means, r["rows"], strict=True)
            ]
        ).T
        added = {row["method"] for row in r["rows"] if row.get("added")}
        colors = [
            "#bbbbbb"
            if n in BASELINES
            else "#228833"
            if n in added
            else ("#cc3311" if n == MAIN else "#4477aa")
            for n in names
        ]
        ax.bar(range(len(names)), means, yerr=err, color=colors, capsize=3)
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(names, rotation=60, ha="right", fontsize=8)
        ax.set_ylabel(f"mean return: {domain_of(r['env_id']).units}")
        ax.set_title(r["env_id"])
    legend = [
        Patch(color="#bbbbbb", label="reference agents (not trained)"),
        Patch(color="#4477aa", label="trained (offline on the behaviour data; ppo online)"),
        Patch(color="#cc3311", label=MAIN),
    ]
    if any(row.get("added") for r in results for row in r["rows"]):
        legend.append(Patch(color="#228833", label="added (--add-agent)"))
    fig.legend(
        handles=legend, fontsize=8, loc="lower center", ncol=len(legend), bbox_to_anchor=(0.5, 0.04)
    )
    fig.text(0.5, 0.005, "error bars: 95% two-level bootstrap intervals (training seeds, then "
             "evaluation seeds)", ha="center", fontsize=8)  # fmt: skip
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    tmp = path.with_name(path.stem + ".tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, path)


def run_benchmark(
    cfg: BenchmarkConfig,
    out_dir: str | Path,
    log: Callable[[str], None] = print,
    backend: Backend = LOCAL,
):
    """Run every env; write ``benchmark.md``, ``benchmark.json`` and ``benchmark.png``.
    ``backend``: where the training seeds and the evaluation episodes run (this machine or a
    Ray cluster); the tables are the same."""
    out_dir = Path(out_dir)
    for env_id in cfg.envs:  # a bad --add-agent fails now, not after the baselines
        _added_agents(cfg.added_agents, env_domain(env_id), METHOD_NAMES)
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    with worker_session():  # one set of Ray workers for every step
        results = [run_env(env_id, cfg, out_dir, log, backend) for env_id in cfg.envs]
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
