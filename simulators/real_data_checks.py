"""The simulator report's checks on real data (e-h): replays of real dialogues against their own
participants, the reader's perception of human-labelled text and its false alarms on it, and real
wording played through the expert flow. Each needs the corpora (``../shared/data``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from ..agents.base import Agent
from ..agents.scripted import FLOWS, ScriptedAgent
from ..stats import fmt_ci, mean_ci
from .check import Check, play, rewards
from .strategies import get_domain

PERCEPTION_TARGETS = {"persuasion": (0.72, 0.62), "counseling": (0.60, 0.55)}
"""(accuracy, macro-F1) the env's label must reach on held-out human-labelled text."""
FALSE_ALARM_MAX = 0.03
OLD = {
    "persuasion": {"acc": 0.650, "f1": 0.573},
    "counseling": {"acc": 0.497, "f1": 0.448},
}
"""The TF-IDF classifier's figures on the same text, scoring ``classify()[0]``."""


REPLAY_TARGETS = {"auc_below_survey": 0.01, "mean_tolerance": 0.08, "zero_tolerance": 0.08}
REPLAY_DRAWS = 8
"""Replays of each P4G test dialogue (latent persona attributes drawn anew each time)."""
ESCONV_DROP_TOLERANCE = 0.4
WORDING_MIN = 0.8
"""Real held-out sentences must earn this share of the realizer wording's return (check h)."""


def _replay(env: gym.Env, seed: int, persona: dict[str, Any], turns: list[str]) -> float:
    env.reset(seed=seed, options={"persona": persona})
    reward = 0.0
    for t in turns:
        _, reward, term, trunc, _ = env.step(t)
        if term or trunc:
            break
    return float(reward)


def _propensity(env: gym.Env) -> float:
    """The survey-only regression's log-odds of giving for the episode's persuadee."""
    return float(env.unwrapped.user.persona.propensity)


def replay_p4g(data_dir: Path, limit: int | None = None) -> Check:
    """Check e: replay P4G test persuader turns against each dialogue's own persuadee.

    Each dialogue is replayed :data:`REPLAY_DRAWS` times (the persuadee's survey answers fixed,
    the latent attributes the survey does not give drawn anew each time). The AUC scores the
    mean simulated donation per dialogue (the simulator's expected outcome, as a regression on
    the survey gives an expected outcome); the single-draw AUC is shown beside it. The mean and
    the $0 share pool every draw."""
    from scipy.stats import spearmanr
    from sklearn.metrics import roc_auc_score

    from .corpus_personas import p4g_dialogues

    sim, real, survey = [], [], []
    for i, d in enumerate(p4g_dialogues(data_dir, "test")[:limit]):
        turns = d["conversation"][0::2]
        env = gym.make("Persuasion-v0", max_turns=max(1, min(100, len(turns)))).unwrapped
        seeds = range(700_000 + i * REPLAY_DRAWS, 700_000 + (i + 1) * REPLAY_DRAWS)
        draws, odds = [], []
        for seed in seeds:
            draws.append(_replay(env, seed, d["persona"], turns))
            odds.append(_propensity(env))
        sim.append(draws)
        survey.append(float(np.mean(odds)))
        real.append(min(float(d["reward"]), 2.0))
    draws, real_a = np.array(sim), np.array(real)
    expected = draws.mean(axis=1)
    auc = float(roc_auc_score(real_a > 0, expected))
    survey_auc = float(roc_auc_score(real_a > 0, survey))
    auc_one = float(roc_auc_score(real_a > 0, draws[:, 0]))
    rho = float(spearmanr(expected, real_a).statistic)
    mean, zero = float(draws.mean()), float((draws == 0).mean())
    t = REPLAY_TARGETS
    ok = (
        auc >= survey_auc - t["auc_below_survey"]
        and abs(mean - real_a.mean()) <= t["mean_tolerance"]
        and abs(zero - (real_a == 0).mean()) <= t["zero_tolerance"]
    )
    return Check(
        "e. P4G replay",
        f"{len(sim)} test dialogues x {REPLAY_DRAWS} draws, each against its own persuadee's "
        f"survey: AUC(expected simulated donation -> real donated>0) {auc:.3f} (one draw "
        f"{auc_one:.3f}; the survey-only regression {survey_auc:.3f}, target >= it - "
        f"{t['auc_below_survey']}), Spearman {rho:.3f}; simulated mean "
        f"${mean:.3f} (old $0.103), share $0 {zero:.3f} (old 0.77); real ${real_a.mean():.3f}, "
        f"{(real_a == 0).mean():.3f} (targets: within {t['mean_tolerance']} and "
        f"{t['zero_tolerance']})",
        bool(ok),
        {
            "auc": auc,
            "auc_one_draw": auc_one,
            "survey_auc": survey_auc,
            "spearman": rho,
            "mean": mean,
            "share_zero": zero,
        },
    )


def replay_esconv(data_dir: Path, limit: int | None = None) -> Check:
    """Check e (Counseling): replay ESConv test supporter turns against each seeker."""
    from scipy.stats import spearmanr

    from .corpus_personas import esconv_seekers, supporter_turns

    sim, real = [], []
    for i, d in enumerate(esconv_seekers(data_dir / "esconv" / "esconv_test.jsonl")[:limit]):
        if d["drop"] is None:
            continue
        turns = supporter_turns(d["dialog"])
        env = gym.make("Counseling-v0", max_turns=max(1, min(100, len(turns)))).unwrapped
        sim.append(_replay(env, 800_000 + i, d["persona"], turns))
        real.append(float(d["drop"]))
    sim_a, real_a = np.array(sim), np.array(real)
    rho = float(spearmanr(sim_a, real_a).statistic)
    gap = float(sim_a.mean() - real_a.mean())
    return Check(
        "e. ESConv replay",
        f"{len(sim)} test dialogues against each seeker's problem, emotion and intensity: "
        f"simulated mean drop {sim_a.mean():.2f} vs real {real_a.mean():.2f} (target within "
        f"{ESCONV_DROP_TOLERANCE}); Spearman {rho:.3f}",
        abs(gap) <= ESCONV_DROP_TOLERANCE,
        {"gap": gap, "spearman": rho},
    )


class RealWordingAgent(Agent):
    """Follows the expert flow, saying a real held-out P4G sentence with each step's label."""

    name = "real-wording"

    def __init__(self, sentences: dict[str, list[str]]) -> None:
        self.sentences = sentences
        self.flow = FLOWS["persuasion"]
        self.rng = np.random.default_rng(0)
        self.turn = 0

    def reset(self, seed: int | None = None) -> None:
        """Restart the flow; ``seed`` picks the sentences."""
        self.rng = np.random.default_rng(seed)
        self.turn = 0

    def act(self, observation: str, info: dict[str, Any]) -> str:
        """A real sentence carrying the flow's strategy for this turn."""
        pool = self.sentences[self.flow[min(self.turn, len(self.flow) - 1)]]
        self.turn += 1
        return pool[int(self.rng.integers(len(pool)))]


def wording(env: gym.Env, pairs: list[tuple[str, str]], seeds: range, progress: bool) -> Check:
    """Check h: the expert flow in real held-out sentences vs in the realizer's wording."""
    sentences: dict[str, list[str]] = {}
    for text, label in pairs:
        sentences.setdefault(label, []).append(text)
    flow = FLOWS["persuasion"]
    realizer = rewards(play(env, ScriptedAgent("persuasion", reactive=False), seeds, progress))
    real = rewards(play(env, RealWordingAgent(sentences), seeds, progress))
    ratio = real.mean() / realizer.mean() if realizer.mean() > 0 else float("nan")
    return Check(
        "h. wording",
        f"expert flow ({len(flow)} turns): realizer wording {fmt_ci(*mean_ci(realizer))}, real "
        f"held-out P4G sentences with the same labels {fmt_ci(*mean_ci(real))}: {ratio:.2f} of "
        f"it (old 0.40, target >= {WORDING_MIN})",
        bool(ratio >= WORDING_MIN),
        {"ratio": ratio},
    )


def held_out_acts(domain: str, data_dir: Path) -> list[tuple[str, str, str]]:
    """(text, human label, corpus act) never used to fit the reader: P4G held-out units (with
    P4G's dialogue act), ESConv test turns (the act is the strategy)."""
    from .annotated import esconv_turns, p4g_split, p4g_units

    if domain == "persuasion":
        units = p4g_split(p4g_units(data_dir), "held-out")
        return [(u["text"], u["label"], u["act"]) for u in units]
    return [(t, s, s) for t, s in esconv_turns(data_dir / "esconv" / "esconv_test.jsonl")]


def _act_recall(domain: str, rows: list[tuple[str, str, str]], pred: list[str]) -> str:
    """Recall of the non-strategic label by the corpus's own act (P4G: greeting, off-task...)."""
    fallback = get_domain(domain).fallback
    by_act: dict[str, list[bool]] = {}
    for (_, lab, act), p in zip(rows, pred, strict=True):
        if lab == fallback:
            by_act.setdefault(act, []).append(p == lab)
    big = sorted(by_act.items(), key=lambda kv: -len(kv[1]))
    return ", ".join(f"{a} {np.mean(h):.2f} ({len(h)})" for a, h in big if len(h) >= 10)


def perception(domain: str, pairs: list[tuple[str, str]], acts: list[str] | None = None) -> Check:
    """Check f: the env's label (``classify()[0]``) against human labels; with ``acts`` (each
    text's own corpus label), also the non-strategic label's recall act by act."""
    from sklearn.metrics import accuracy_score, f1_score, recall_score

    from .classifier import get_classifier

    clf = get_classifier(domain)
    gold = [lab for _, lab in pairs]
    pred = [clf.classify(t)[0] for t, _ in pairs]
    acc = float(accuracy_score(gold, pred))
    f1 = float(f1_score(gold, pred, average="macro", zero_division=0))
    labels = list(clf.labels)
    recall = recall_score(gold, pred, labels=labels, average=None, zero_division=0)
    per_class = {lab: round(float(r), 3) for lab, r in zip(labels, recall, strict=True)}
    want_acc, want_f1 = PERCEPTION_TARGETS[domain]
    old = OLD[domain]
    by_act = ""
    if acts is not None:
        rows = [(t, lab, a) for (t, lab), a in zip(pairs, acts, strict=True)]
        by_act = f"; {clf.domain.fallback} recall by corpus act: " + _act_recall(domain, rows, pred)
    return Check(
        "f. perception",
        f"{len(pairs)} held-out texts: accuracy {acc:.3f} (old {old['acc']:.3f}, target >= "
        f"{want_acc}), macro-F1 {f1:.3f} (old {old['f1']:.3f}, target >= {want_f1}); recall "
        + ", ".join(f"{k} {v:.2f}" for k, v in per_class.items())
        + by_act,
        acc >= want_acc and f1 >= want_f1,
        {"accuracy": acc, "macro_f1": f1, "recall": per_class},
    )


def false_alarms(pairs: list[tuple[str, str]]) -> Check:
    """Check g: real supporter/persuader turns flagged as harmful."""
    from .classifier import get_reader

    reader = get_reader()
    flagged = [t for t, _ in pairs if reader.harm(t) is not None]
    rate = len(flagged) / max(1, len(pairs))
    return Check(
        "g. harm false alarms",
        f"{len(flagged)} of {len(pairs)} real held-out turns flagged ({rate:.2%}; target <= "
        f"{FALSE_ALARM_MAX:.0%})",
        rate <= FALSE_ALARM_MAX,
        {"rate": rate, "examples": flagged[:5]},
    )
