"""Behaviour data per training seed, its hindsight regenerations, and their imagination gap."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..domains import env_domain
from ..episode import ORACLE_REWARD
from .config import BenchmarkConfig
from .regimes import REGIME_AGENTS, real_episodes


def imagination_gap(regen: list, by_id: dict) -> dict[str, Any]:
    """Each regeneration's imagined reward beside the true reward of the same agent turns
    replayed in the true env (report only: the replays are not training data and are not
    charged to any method): bias, MAE, correlation, and the share of rewrites that truly improve
    on their original (true replay above the source's recorded outcome) beside the share the
    reward model believed improved (imagined above its own score of the source)."""
    from ..hindsight import replay_in_true_env

    if not regen:
        return {"n": 0}
    imagined = np.array([float(r.reward) for r in regen])
    if all(r.reward_source == ORACLE_REWARD for r in regen):
        true = imagined  # the true env scored them already
    else:
        true = np.array(
            [replay_in_true_env(by_id[r.provenance["root_id"]], r.turns)[0] for r in regen]
        )
    believed = np.array([float(r.outcome.get("source_model_reward", np.nan)) for r in regen])
    return _gap(regen, by_id, imagined, true, believed)


def _gap(
    regen: list, by_id: dict, imagined: np.ndarray, true: np.ndarray, believed: np.ndarray
) -> dict[str, Any]:
    original = np.array([float(by_id[r.provenance["root_id"]].reward) for r in regen])
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


def pooled_gap(gaps: list[dict[str, Any]]) -> dict[str, Any]:
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


def regenerate_pipelines(
    episodes: list,
    cfg: BenchmarkConfig,
    which: tuple[str, ...],
    seconds: dict[str, float] | None = None,
) -> dict[str, Any]:
    """The regenerations of each pipeline in ``which`` (``learned2`` with ``learned``: a second
    round of the learned pipeline; ``penalized`` with ``learned``: its rewrites relabelled by the
    disagreement-penalized reward ensemble, whose config is ``penalized_config``; ``anchored``
    with ``learned``: its rewrites anchored to their sources' recorded outcomes, the effect
    imagined by the same retrieval and penalized by that ensemble), and the
    true-env episodes the oracle pipeline played; each pipeline's time goes into ``seconds``
    (``hindsight <name>``)."""
    from ..hindsight import (
        CriticController,
        LearnedRewardModel,
        PrivilegedDynamicsForwardModel,
        PrivilegedDynamicsRewardModel,
        RetrievalForwardModel,
        TrueEnvForwardModel,
        TrueEnvRewardModel,
        regenerate,
    )
    from ..hindsight.features import CachedEncoder
    from ..hindsight.pipeline import intensity_reader

    seconds = {} if seconds is None else seconds
    t = time.time()
    enc = CachedEncoder(cfg.encoder)
    controller = CriticController(episodes, enc)
    seconds["hindsight critic"] = time.time() - t
    out: dict[str, Any] = {"env_episodes": 0}
    t = time.time()
    if "learned" in which:
        pair = RetrievalForwardModel(episodes, enc), LearnedRewardModel.fit(episodes, cfg.encoder)
        rounds = 2 if "learned2" in which else 1
        both = regenerate(episodes, controller, *pair, rounds=rounds)
        out["learned"] = [r for r in both if r.provenance["round"] == 1]
        if rounds == 2:
            out["round 2"] = [r for r in both if r.provenance["round"] == 2]
            out["learned2"] = both
        seconds[f"hindsight learned ({rounds} round{'s' if rounds > 1 else ''})"] = time.time() - t
    if {"penalized", "anchored", "imagination"} & set(which):
        out.update(relabel_learned(episodes, out["learned"], pair[0], cfg, which, seconds))
    t = time.time()
    if "privileged" in which:
        initial = intensity_reader(episodes, enc)
        pair = (
            PrivilegedDynamicsForwardModel(initial=initial),
            PrivilegedDynamicsRewardModel(initial=initial),
        )
        out["privileged"] = regenerate(episodes, controller, *pair)
        seconds["hindsight privileged"] = time.time() - t
    t = time.time()
    if "true-env" in which:
        fwd, rwd = TrueEnvForwardModel(), TrueEnvRewardModel()
        out["true-env"] = regenerate(episodes, controller, fwd, rwd)
        out["env_episodes"] = fwd.env_episodes + rwd.env_episodes
        seconds["hindsight true-env"] = time.time() - t
    t = time.time()
    if "llm" in which and cfg.llm:
        out["llm"], out["llm_errors"] = llm_pair(episodes, cfg, controller)
        seconds["hindsight llm"] = time.time() - t
    return out


def relabel_learned(
    episodes: list,
    learned: list,
    forward: Any,
    cfg: BenchmarkConfig,
    which: tuple[str, ...],
    seconds: dict[str, float],
) -> dict[str, Any]:
    """The learned rewrites relabelled by the disagreement-penalized reward ensemble fitted on
    ``episodes`` (``penalized``, with ``penalized_config``), and anchored to their sources'
    recorded outcomes, the effect imagined by ``forward`` and penalized by that ensemble
    (``anchored``, with ``anchored_config``), and valued by a forward and a reward ensemble
    penalized by the disagreement of both (``imagination``, with ``imagination_config``,
    :mod:`hindsight.forward_ensemble`): those of the three in ``which``."""
    from ..hindsight import EnsembleRewardModel
    from ..hindsight.anchored import DRAWS, anchored_config, anchored_relabel
    from ..hindsight.forward_ensemble import PenalizedImagination
    from ..hindsight.regenerate import rescore

    by_id = {e.id: e for e in episodes}
    t = time.time()
    ensemble = EnsembleRewardModel.fit(episodes, encoder=cfg.encoder)
    out: dict[str, Any] = {"penalized_config": ensemble.config()}
    seconds["hindsight reward ensemble (fit)"] = time.time() - t
    if "penalized" in which:  # scored by the penalized ensemble
        t = time.time()
        out["penalized"] = [rescore(r, by_id[r.provenance["source_id"]], ensemble) for r in learned]
        seconds["hindsight penalized (rescoring)"] = time.time() - t
    if "anchored" in which:
        t = time.time()
        out["anchored"] = [
            anchored_relabel(r, by_id[r.provenance["source_id"]], forward, ensemble, DRAWS)
            for r in learned
        ]
        out["anchored_config"] = anchored_config(ensemble, DRAWS)
        seconds["hindsight anchored (relabelling)"] = time.time() - t
    if "imagination" in which:  # both ensembles, penalized by the disagreement of both
        t = time.time()
        imagination = PenalizedImagination.fit(episodes, encoder=cfg.encoder)
        out["imagination"] = [
            imagination.relabel(r, by_id[r.provenance["source_id"]]) for r in learned
        ]
        out["imagination_config"] = imagination.config()
        seconds["hindsight imagination ensembles (fit and relabelling)"] = time.time() - t
    return out


PENALIZED = "learned (penalized)"
"""The gap table's row for the learned pipeline's rewrites scored by the penalized ensemble."""
ANCHORED = "learned (anchored)"
"""The gap table's row for the learned pipeline's rewrites relabelled by anchoring."""
IMAGINATION = "learned (forward + reward ensembles)"
"""The gap table's row for the learned rewrites valued by both ensembles, penalized."""
RELABELLED = {"penalized": PENALIZED, "anchored": ANCHORED, "imagination": IMAGINATION}
"""The relabellings of the learned rewrites and their gap rows."""


def llm_pair(episodes: list, cfg: BenchmarkConfig, controller: Any) -> tuple[list, list[str]]:
    """The LLM pair's regenerations of the first ``cfg.llm_episodes`` unsuccessful episodes, and
    why each episode it could not regenerate failed (an unusable answer, a backend error)."""
    from ..hindsight.llm import LLMForwardModel, LLMRewardModel
    from ..hindsight.regenerate import is_unsuccessful, iter_regenerate

    chosen = [e for e in episodes if is_unsuccessful(e)][: cfg.llm_episodes]
    domain = env_domain(episodes[0].env_id)
    errors: list[str] = []
    regen = list(
        iter_regenerate(
            chosen,
            controller,
            LLMForwardModel(cfg.llm),
            LLMRewardModel(cfg.llm, domain),
            on_error=lambda e, err: errors.append(f"{type(err).__name__}: {err}"),
        )
    )
    return regen, errors


def gap_table(regen: dict, gaps: tuple[str, ...], by_id: dict, regime: str) -> dict[str, Any]:
    """The imagination gap of each pipeline in ``gaps`` (none in the ``real`` regime: no true env
    holds a real person), and of each relabelling of the learned rewrites where there is one
    (penalized, anchored: the same rewrites, so their true replays are the learned row's)."""
    if regime == "real":
        return {k: {"n": 0} for k in gaps}
    out = {k: imagination_gap(regen[k], by_id) for k in gaps}
    for key, row in RELABELLED.items():
        if key not in regen:
            continue
        if not out["learned"]["n"]:
            out[row] = {"n": 0}
            continue
        relabelled, true = regen[key], np.array(out["learned"]["true"])
        imagined = np.array([float(r.reward) for r in relabelled])
        believed = np.array([float(r.outcome["source_model_reward"]) for r in relabelled])
        out[row] = _gap(relabelled, by_id, imagined, true, believed)
    return out


def behaviour_datasets(
    env_id: str, cfg: BenchmarkConfig, seed: int, out_dir: Path, log: Callable[[str], None]
) -> dict[str, Any]:
    """Behaviour data of one training seed, its regenerations, and their figures; and the
    smaller datasets of the sweep (the first N episodes) with their learned regenerations.
    Each seed starts from an empty embedding cache and runs torch, BLAS and OpenMP on
    ``cfg.threads`` threads, as in training: float sums differ in their last bits with the
    thread count and the batch a text is embedded in, and rewrites chosen by a margin follow
    them, so this is what keeps every figure the same however many processes share the run
    and whichever seeds ran before in the same one."""
    from threadpoolctl import threadpool_limits

    from ..agents.learned import torch_threads
    from ..hindsight.features import clear_text_caches

    clear_text_caches()
    with torch_threads(cfg.threads), threadpool_limits(limits=cfg.threads):
        return _behaviour_datasets(env_id, cfg, seed, out_dir, log)


def _behaviour_datasets(
    env_id: str, cfg: BenchmarkConfig, seed: int, out_dir: Path, log: Callable[[str], None]
) -> dict[str, Any]:
    from ..agents.offline_data import DEFAULT_MAX_TURNS, OfflineData, concat
    from ..generate import generate
    from ..hindsight import is_unsuccessful
    from ..jsonl import read_episodes, write_episodes

    t0 = time.time()
    data_seed = seed * cfg.dataset_episodes
    path = out_dir / f"behaviour-seed{seed}.jsonl"
    if cfg.regime == "real":  # the corpus itself, the same for every run
        real = real_episodes(env_id, cfg.data_dir or "", DEFAULT_MAX_TURNS)
        write_episodes(path, real[: cfg.dataset_episodes])
    else:
        agent = REGIME_AGENTS[cfg.regime]
        generate(env_id, agent, cfg.dataset_episodes, path, seed=data_seed, progress=False)
    episodes, _ = read_episodes(path)
    seconds = {"behaviour data": time.time() - t0}
    rounds = cfg.relabellings()
    regen = regenerate_pipelines(episodes, cfg, (*cfg.pipelines(), *rounds, "llm"), seconds)
    llm = ("llm",) if cfg.llm else ()
    written = (*rounds, *cfg.pipelines()[1:]) if rounds else ("learned",)
    for name in (*written, *llm):
        write_episodes(out_dir / f"regenerated-{name}-seed{seed}.jsonl", regen[name])
    gaps = (*cfg.pipelines(), *(("round 2",) if cfg.ablations else ()), *llm)
    by_id = {e.id: e for e in episodes}
    t = time.time()
    orig = OfflineData.from_episodes(episodes)
    seconds["featurize"] = time.time() - t
    t = time.time()
    gap_figures = gap_table(regen, gaps, by_id, cfg.regime)
    penalty = {"penalized_reward": regen["penalized_config"]} if "penalized" in regen else {}
    if "anchored" in regen:
        penalty["anchored_reward"] = regen["anchored_config"]
    if "imagination" in regen:
        penalty["imagination_ensembles"] = regen["imagination_config"]
    seconds["imagination gap replays"] = time.time() - t
    figures = {
        "data_seed": data_seed,
        "episodes": len(episodes),
        "unsuccessful": sum(is_unsuccessful(e) for e in episodes),
        "regenerated": {k: len(regen[k]) for k in gaps},
        "oracle_env_episodes": regen["env_episodes"],
        "imagination_gap": gap_figures,
        **({"llm_errors": regen["llm_errors"]} if cfg.llm else {}),
        **penalty,
        "behaviour_mean": float(np.mean([e.reward for e in episodes if e.status == "ok"])),
        "coverage": _coverage(episodes, env_id),
    }
    log(
        f"{env_id} seed {seed}: {len(episodes)} behaviour episodes "
        f"({figures['unsuccessful']} unsuccessful), regenerated: "
        + ", ".join(f"{k} {v}" for k, v in figures["regenerated"].items())
        + f" [{time.time() - t0:.0f} s]"
    )
    out = {"orig": orig, "figures": figures}
    t = time.time()
    for k in (*cfg.pipelines(), *rounds):
        out[k] = concat(orig, OfflineData.from_episodes(regen[k])) if regen[k] else orig
    seconds["featurize"] += time.time() - t
    out["sweep"] = {}
    for n in cfg.sweep_sizes:
        t = time.time()
        small = episodes[:n]
        part = regenerate_pipelines(small, cfg, ("learned",))["learned"]
        small_data = OfflineData.from_episodes(small)
        out["sweep"][n] = {
            "orig": small_data,
            "learned": concat(small_data, OfflineData.from_episodes(part)) if part else small_data,
            "unsuccessful": sum(is_unsuccessful(e) for e in small),
            "gap": {"n": 0} if cfg.regime == "real" else imagination_gap(part, by_id),
        }
        seconds[f"sweep {n} (hindsight + featurize)"] = time.time() - t
        log(
            f"{env_id} seed {seed}: sweep {n} episodes, {len(part)} regenerated "
            f"[{time.time() - t0:.0f} s]"
        )
    figures["seconds"] = {k: round(v, 3) for k, v in seconds.items()}
    return out


def _coverage(episodes: list, env_id: str) -> dict[str, float]:
    """The behaviour data's strategy coverage (:func:`.regimes.coverage`) without the shares."""
    from ..domains import env_domain
    from .regimes import coverage

    figures = coverage(episodes, env_domain(env_id))
    return {k: v for k, v in figures.items() if k != "shares"}


def seed_data(
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
        data = behaviour_datasets(env_id, cfg, s, where, log or lines.append)
        if env_dir is None:
            files = {p.name: p.read_bytes() for p in Path(tmp).iterdir() if p.is_file()}
    return {"data": data, "files": files, "log": lines}
