"""``dialogue-gym sim-report --simulator llm``: is a chat model a valid persuadee?

The P4G replay the embedded persuadee faces (check e of the simulator report), with an LLM
playing each test dialogue's own persuadee: the real persuader's turns go to the model, whose
persona card is drawn from that person's survey, and after the last turn the model gives its
donation. Beside its figures: the embedded simulator's on the same dialogues, the survey-only
regression's, and the real people's. Every request goes through the completion cache, so a rerun
of the same command sends none and prints the same figures; a backend outage stops the report
(it is not a result).

The ESConv replay does the same with each test dialogue's real supporter turns against an LLM
seeker with that dialogue's problem, emotion and initial intensity (outcome: the drop in
intensity), beside the embedded seeker on the same turns and the real drop. Over-cooperation:
the random agent and small talk against both users on the same personas, the LLM user flagged
where it rewards small talk more than the embedded user. Discrimination: random, scripted and
model-based on the same personas, paired differences with Holm, and whether the LLM user orders
them as the embedded user does. Probes: the scripted flow with a spoofed system line, an
injection, a spoofed user line, an insult, guilt or a harmful counselling line as its second
turn, each probe's effect on the outcome beside the embedded user's.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from ..agents.base import Agent
from ..domains import domain_named
from ..errors import InvalidInput
from ..stats import mean_ci, proportion_ci

LIMIT = 50
"""Test dialogues replayed by default (sampled with a fixed seed)."""
SAMPLE_SEED = 2411
"""Seed of the dialogue sample (fixed, so reports with the same ``--limit`` compare)."""
FIRST_EPISODE_SEED = 900_000
"""Episode seed of the first sampled dialogue (the persona's latent parts and the model's
sampling seed come from it)."""


def sample_dialogues(dialogues: list[dict], limit: int | None, seed: int = SAMPLE_SEED) -> list:
    """``limit`` dialogues drawn without replacement with ``seed`` (all when ``limit`` is None or
    not smaller), in corpus order."""
    if limit is None or limit >= len(dialogues):
        return list(dialogues)
    picked = np.random.default_rng(seed).choice(len(dialogues), size=limit, replace=False)
    return [dialogues[i] for i in sorted(picked)]


def replay_dialogue(env: gym.Env, seed: int, persona: dict[str, Any], turns: list[str]) -> dict:
    """One real dialogue's agent turns (persuader or supporter) against the env's user with that
    persona: its outcome, whether the user failed (no valid outcome), the survey-only log-odds of
    giving (persuasion; else None), and the turns played."""
    env.reset(seed=seed, options={"persona": persona})
    reward, info, played = 0.0, {}, 0
    for t in turns:
        _, reward, term, trunc, info = env.step(t)
        played += 1
        if term or trunc:
            break
    user = env.unwrapped.user
    failed = info.get("end_reason") == "failed" or bool(getattr(user, "failure", None))
    return {
        "reward": float(reward),
        "card": getattr(user, "card", None),  # an LLM user's persona card (None: embedded)
        "failed": failed,
        "survey_odds": getattr(user.persona, "propensity", None),
        "turns": played,
    }


def replay_all(
    domain: str,
    dialogues: list[tuple[dict[str, Any], list[str]]],
    env_kwargs: dict[str, Any],
    first_seed: int = FIRST_EPISODE_SEED,
    max_turns: int | None = None,
) -> list[dict]:
    """Each (persona, agent turns) replayed once in ``gym.make(<domain's env>, **env_kwargs)``
    (``max_turns``: the dialogue's agent turns, so the outcome is asked after the last; a given
    ``max_turns`` cuts each dialogue there)."""
    out = []
    for i, (persona, turns) in enumerate(dialogues):
        turns = turns[:max_turns] if max_turns else turns
        env = gym.make(
            domain_named(domain).env_id, max_turns=max(1, min(100, len(turns))), **env_kwargs
        )
        out.append(replay_dialogue(env, first_seed + i, persona, turns))
    return out


def p4g_replays(
    dialogues: list[dict],
    env_kwargs: dict[str, Any],
    first_seed: int = FIRST_EPISODE_SEED,
    max_turns: int | None = None,
) -> list[dict]:
    """Each P4G dialogue's persuader turns against its own persuadee (:func:`replay_all`)."""
    items = [(d["persona"], d["conversation"][0::2]) for d in dialogues]
    return replay_all("persuasion", items, env_kwargs, first_seed, max_turns)


def esconv_items(data_dir: Path, limit: int | None) -> list[dict]:
    """ESConv test dialogues with a real drop (sampled as :func:`sample_dialogues`), each with
    its seeker's persona (problem, emotion, initial intensity) and supporter turns."""
    from ..simulators.corpus_personas import esconv_seekers, supporter_turns

    rows = esconv_seekers(data_dir / "esconv" / "esconv_test.jsonl")
    rows = [d for d in rows if d["drop"] is not None]
    rows = [d | {"turns": supporter_turns(d["dialog"])} for d in rows if d.get("dialog")]
    return sample_dialogues([d for d in rows if d["turns"]], limit)


def drop_figures(replays: list[dict], real: np.ndarray) -> dict[str, Any]:
    """Mean intensity drop with its interval and the Spearman with the real drop, on the
    replays that did not fail."""
    from scipy.stats import spearmanr

    ok = np.array([not r["failed"] for r in replays], dtype=bool)
    sim = np.array([r["reward"] for r in replays])[ok]
    figures: dict[str, Any] = {"n": int(ok.sum()), "failed": int((~ok).sum())}
    if ok.sum() < 2:
        return figures
    mean, lo, hi = mean_ci(sim.tolist())
    figures |= {"mean": mean, "mean_ci95": [lo, hi]}
    varied = np.ptp(sim) > 0 and np.ptp(real[ok]) > 0  # else no rank correlation is defined
    figures["spearman"] = float(spearmanr(sim, real[ok]).statistic) if varied else None
    return figures


def replay_figures(replays: list[dict], real: np.ndarray) -> dict[str, Any]:
    """AUC against real donated > 0, mean, share of $0 and Spearman with the real amount, on the
    replays that did not fail (with their intervals where the count allows)."""
    from scipy.stats import spearmanr
    from sklearn.metrics import roc_auc_score

    ok = np.array([not r["failed"] for r in replays])
    sim = np.array([r["reward"] for r in replays])[ok]
    truth = real[ok]
    figures: dict[str, Any] = {"n": int(ok.sum()), "failed": int((~ok).sum())}
    if ok.sum() < 2:
        return figures
    mean, lo, hi = mean_ci(sim.tolist())
    zero, zlo, zhi = proportion_ci(int((sim == 0).sum()), len(sim))
    figures |= {"mean": mean, "mean_ci95": [lo, hi]}
    figures |= {"share_zero": zero, "share_zero_ci95": [zlo, zhi]}
    both = len(set((truth > 0).tolist())) == 2
    figures["auc"] = float(roc_auc_score(truth > 0, sim)) if both and np.ptp(sim) > 0 else None
    varied = np.ptp(sim) > 0 and np.ptp(truth) > 0
    figures["spearman"] = float(spearmanr(sim, truth).statistic) if varied else None
    return figures


def _survey_figures(replays: list[dict], real: np.ndarray) -> dict[str, Any]:
    from sklearn.metrics import roc_auc_score

    odds = np.array([r["survey_odds"] for r in replays])
    both = len(set((real > 0).tolist())) == 2
    return {"n": len(real), "auc": float(roc_auc_score(real > 0, odds)) if both else None}


OVER_COOPERATION_SEED = 950_000
"""First episode seed of the over-cooperation episodes (the same personas for both users)."""


DISCRIMINATION_AGENTS = ("random", "scripted", "model-based:samples=3")
"""The agents the discrimination part ranks (the embedded users rank them in this order)."""


def _play(
    agent: Any, env_id: str, episodes: int, seed: int = OVER_COOPERATION_SEED, **env_kwargs: Any
) -> tuple[np.ndarray, ...]:
    """Outcomes (nan: failed) and successes of ``episodes`` episodes from ``seed``."""
    from ..evaluation import evaluate

    result = evaluate(agent, env_id, episodes, seed, oracle=False, progress=False, **env_kwargs)
    ok = [e.status == "ok" for e in result.episodes]
    rewards = np.array(
        [e.reward if k else np.nan for e, k in zip(result.episodes, ok, strict=True)]
    )
    return rewards, np.array([float(e.success) for e in result.episodes])


def over_cooperation(backend: Any, episodes: int, **env_kwargs: Any) -> dict[str, Any]:
    """The random agent and small talk (four off-task lines, no strategy) against the LLM user
    and the embedded user on the same personas, in both envs: mean outcome, success share and
    the LLM user minus the embedded one (paired by seed). ``flagged``: the LLM user rewards
    small talk more than the embedded user does (p < 0.05), i.e. it gives to, or feels better
    after, a chat that never tried. ``env_kwargs`` go to both users' envs."""
    from ..stats import difference_test
    from .ordinary_language import LinesAgent, probes

    chat = tuple(r["text"] for r in probes("offtask"))
    out: dict[str, Any] = {}
    for domain in ("persuasion", "counseling"):
        env_id = domain_named(domain).env_id
        for name, agent in (("random", "random"), ("small talk", LinesAgent(pool=chat))):
            llm_r, llm_s = _play(
                agent, env_id, episodes, simulator="llm", llm=backend, **env_kwargs
            )
            emb_r, emb_s = _play(agent, env_id, episodes, **env_kwargs)
            diff, p = difference_test(llm_r[None], emb_r[None])
            out[f"{domain} / {name}"] = {
                "llm_mean": float(np.nanmean(llm_r)),
                "llm_success": float(llm_s.mean()),
                "embedded_mean": float(np.nanmean(emb_r)),
                "embedded_success": float(emb_s.mean()),
                "diff": diff.value,
                "diff_ci95": diff.as_list(),
                "p": p,
                "failed": int(np.isnan(llm_r).sum()),
                "flagged": name == "small talk" and diff.value > 0 and p < 0.05,
            }
    return out


def discrimination(
    backend: Any, episodes: int, seed: int = 960_000, **env_kwargs: Any
) -> dict[str, Any]:
    """Random, scripted and the model-based agent against the LLM user and the embedded user on
    the same personas, in both envs: each agent's mean outcome, every pair's difference (paired
    by seed) with Holm over the three pairs of each user and env, and whether the LLM user
    orders the agents as the embedded user does. ``env_kwargs`` go to both users' envs."""
    from ..stats import difference_test, holm

    out: dict[str, Any] = {}
    for domain in ("persuasion", "counseling"):
        env_id = domain_named(domain).env_id
        by_user: dict[str, Any] = {}
        for user, kwargs in (("llm", {"simulator": "llm", "llm": backend}), ("embedded", {})):
            kwargs |= env_kwargs
            returns = {
                a.split(":")[0]: _play(a, env_id, episodes, seed, **kwargs)[0]
                for a in DISCRIMINATION_AGENTS
            }
            names = list(returns)
            pairs = [(b, a) for i, a in enumerate(names) for b in names[i + 1 :]]
            tests = [difference_test(returns[b][None], returns[a][None]) for b, a in pairs]
            adjusted = holm([p for _, p in tests]) if tests else []
            by_user[user] = {
                "means": {k: float(np.nanmean(v)) for k, v in returns.items()},
                "pairs": [
                    {
                        "pair": f"{b} - {a}",
                        "diff": d.value,
                        "ci95": d.as_list(),
                        "p": p,
                        "p_holm": h,
                    }
                    for (b, a), (d, p), h in zip(pairs, tests, adjusted, strict=True)
                ],
            }
        order = {u: sorted(v["means"], key=v["means"].get) for u, v in by_user.items()}
        tied = len(set(by_user["llm"]["means"].values())) < len(DISCRIMINATION_AGENTS)
        out[domain] = by_user | {
            "order": order,
            "llm_tied": tied,  # an LLM user that cannot tell agents apart orders nothing
            "same_order": not tied and order["llm"] == order["embedded"],
        }
    return out


PROBE_KINDS = {
    "persuasion": ("fake-system", "injection", "user-spoof", "insult", "extreme-guilt"),
    "counseling": ("fake-system-outcome", "injection", "user-spoof", "shaming", "harmful line"),
}
"""The probes the LLM user meets (kinds of :data:`~.manipulation.MANIPULATIONS`; "harmful
line": the first counselling line of the harm bank)."""
PROBE_TURN = 2
"""The scripted turn the probe replaces."""


def _probe_texts(domain: str) -> dict[str, str]:
    from .manipulation import MANIPULATIONS
    from .ordinary_language import probes

    texts = dict(MANIPULATIONS[domain])
    harm = next(r["text"] for r in probes("harm") if r["domain"] == "counseling")
    return {k: harm if k == "harmful line" else texts[k] for k in PROBE_KINDS[domain]}


class ProbeAgent(Agent):
    """The scripted agent, but its :data:`PROBE_TURN`-th turn is ``text``."""

    name = "probe"

    def __init__(self, domain: str, text: str) -> None:
        from ..agents.scripted import ScriptedAgent

        self.inner, self.text, self.turn = ScriptedAgent(domain), text, 0

    def reset(self, seed: int | None = None) -> None:
        """Reset the scripted flow."""
        self.inner.reset(seed)
        self.turn = 0

    def act(self, observation: str, info: dict[str, Any]) -> str:
        """The scripted turn, or the probe at its turn (the flow still advances)."""
        self.turn += 1
        said = self.inner.act(observation, info)
        return self.text if self.turn == PROBE_TURN else said


def probe_effects(
    backend: Any, episodes: int, seed: int = 970_000, **env_kwargs: Any
) -> dict[str, Any]:
    """Each probe's effect on the outcome, for the LLM user and the embedded user: the scripted
    flow with the probe in place of its second turn, minus the scripted flow, paired by seed.
    ``env_kwargs`` go to both users' envs."""
    from ..stats import difference_test

    out: dict[str, Any] = {}
    for domain in ("persuasion", "counseling"):
        env_id = domain_named(domain).env_id
        for user, kwargs in (("llm", {"simulator": "llm", "llm": backend}), ("embedded", {})):
            kwargs |= env_kwargs
            base = _play("scripted", env_id, episodes, seed, **kwargs)[0]
            for kind, text in _probe_texts(domain).items():
                probed = _play(ProbeAgent(domain, text), env_id, episodes, seed, **kwargs)[0]
                d, p = difference_test(probed[None], base[None])
                row = out.setdefault(f"{domain} / {kind}", {"text": text})
                row[user] = {"effect": d.value, "ci95": d.as_list(), "p": p}
    return out


def _outcomes(llm: list[dict], embedded: list[dict], real: np.ndarray) -> dict[str, list]:
    """Every replay's outcome, the LLM user's failures and cards, and the real outcomes."""
    return {
        "llm": [r["reward"] for r in llm],
        "llm_failed": [r["failed"] for r in llm],
        "llm_cards": [r["card"] for r in llm],
        "embedded": [r["reward"] for r in embedded],
        "real": real.tolist(),
    }


PARTS = ("p4g", "esconv", "cooperation", "discrimination", "probes")
"""The report's parts, in order: the two replays against real people, over-cooperation,
discrimination and the probes."""


def llm_user_report(
    data_dir: Path,
    llm: Any,
    limit: int | None = LIMIT,
    llm_cache: bool = True,
    episodes: int | None = None,
    parts: Sequence[str] = PARTS,
    max_turns: int | None = None,
) -> dict[str, Any]:
    """The P4G replay with the chat backend ``llm`` as every persuadee, beside the embedded
    simulator, the survey-only regression and the real people, on the same sampled test
    dialogues; the ESConv replay likewise; the over-cooperation, discrimination and probe
    episodes (``episodes`` per agent and env, default ``limit``); with the cost (requests sent,
    answers from the cache, seconds). ``parts`` chooses among :data:`PARTS`; ``max_turns`` cuts
    every replay and episode after that many agent turns (a smoke run: the replays' outcomes
    then follow fewer turns than the real people heard)."""
    from ..llm.spec import make_backend
    from ..simulators.persona_cards import CARD_VERSION

    unknown = sorted(set(parts) - set(PARTS))
    if unknown or not parts:
        raise InvalidInput(
            f"unknown or no report parts {unknown or '(none)'}; allowed: {', '.join(PARTS)}"
        )
    if max_turns is not None and max_turns < 1:
        raise InvalidInput(f"max_turns must be >= 1, got {max_turns}")
    backend = make_backend(llm, cache=llm_cache)  # one model load, one cache, for every part
    t0 = time.time()
    report: dict[str, Any] = {
        "llm": llm if isinstance(llm, str) else backend.describe(),
        "parts": [p for p in PARTS if p in parts],
        "max_turns": max_turns,
    }
    if "p4g" in parts:
        report |= _p4g_part(data_dir, backend, limit, max_turns)
    if "esconv" in parts:
        report["esconv_replay"] = _esconv_part(data_dir, backend, limit, max_turns)
    n = episodes or limit or LIMIT
    turns = {"max_turns": max_turns} if max_turns else {}
    if set(parts) & {"cooperation", "discrimination", "probes"}:
        report["episodes"] = n  # per agent, user and env in each agent part
    if "cooperation" in parts:
        report["over_cooperation"] = over_cooperation(backend, n, **turns)
    if "discrimination" in parts:
        report["discrimination"] = discrimination(backend, n, **turns)
    if "probes" in parts:
        report["probes"] = probe_effects(backend, n, **turns)
    report["cost"] = {  # a CachedBackend counts; without the cache nothing is counted
        "requests": getattr(backend, "misses", None),
        "cached": getattr(backend, "hits", None),
        "prompt_tokens": getattr(backend, "prompt_tokens", None),
        "completion_tokens": getattr(backend, "completion_tokens", None),
        "unmetered": getattr(backend, "unmetered", None),
        "seconds": round(time.time() - t0, 1),
    }
    report["card_version"] = CARD_VERSION
    return report


def _p4g_part(data_dir: Path, backend: Any, limit: int | None, max_turns: int | None) -> dict:
    """The P4G replay's figures and outcomes, the sample, and an example card."""
    from ..simulators.corpus_personas import p4g_dialogues
    from ..simulators.persona_cards import persuasion_card
    from ..simulators.personas import sample_persuasion_persona

    dialogues = sample_dialogues(p4g_dialogues(data_dir, "test"), limit)
    real = np.array([min(float(d["reward"]), 2.0) for d in dialogues])
    llm_replays = p4g_replays(dialogues, {"simulator": "llm", "llm": backend}, max_turns=max_turns)
    embedded = p4g_replays(dialogues, {}, max_turns=max_turns)
    first = dialogues[0]["persona"] if dialogues else {}
    return {
        "dialogues": len(dialogues),
        "sample": {"limit": limit, "seed": SAMPLE_SEED, "ids": [d["id"] for d in dialogues]},
        "p4g_replay": {
            "llm": replay_figures(llm_replays, real),
            "embedded": replay_figures(embedded, real),
            "survey_regression": _survey_figures(embedded, real),
            "real": {
                "n": len(real),
                "mean": float(real.mean()) if len(real) else None,
                "share_zero": float((real == 0).mean()) if len(real) else None,
            },
            "outcomes": _outcomes(llm_replays, embedded, real),
        },
        "card_example": persuasion_card(sample_persuasion_persona(np.random.default_rng(0), first)),
    }


def _esconv_part(data_dir: Path, backend: Any, limit: int | None, max_turns: int | None) -> dict:
    """The ESConv replay's figures and outcomes."""
    seekers = esconv_items(data_dir, limit)
    items = [(d["persona"], d["turns"]) for d in seekers]
    llm_kwargs = {"simulator": "llm", "llm": backend}
    llm_seekers = replay_all("counseling", items, llm_kwargs, max_turns=max_turns)
    embedded = replay_all("counseling", items, {}, max_turns=max_turns)
    drops = np.array([float(d["drop"]) for d in seekers])
    return {
        "dialogues": len(seekers),
        "llm": drop_figures(llm_seekers, drops),
        "embedded": drop_figures(embedded, drops),
        "real": {"n": len(drops), "mean": float(drops.mean()) if len(drops) else None},
        "outcomes": _outcomes(llm_seekers, embedded, drops),
    }
