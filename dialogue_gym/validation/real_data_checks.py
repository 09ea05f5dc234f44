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
from ..domains import domain_named
from ..simulators.personas import load_params
from ..simulators.strategies import get_domain
from ..stats import fmt_ci, mean_ci
from .check import Check, play, rewards
from .llm_user_report import replay_dialogue

PERCEPTION_TARGETS = {"persuasion": (0.72, 0.62), "counseling": (0.60, 0.55)}
"""(accuracy, macro-F1) the env's label must reach on held-out human-labelled text."""
FALSE_ALARM_MAX = 0.03
TFIDF_FIGURES = {
    "persuasion": {"acc": 0.650, "f1": 0.573},
    "counseling": {"acc": 0.497, "f1": 0.448},
}
"""The TF-IDF classifier's figures on the same text, scoring ``classify()[0]``."""


REPLAY_TARGETS = {"auc_below_survey": 0.01, "mean_tolerance": 0.08, "zero_tolerance": 0.08}
REPLAY_DRAWS = 8
"""Replays of each P4G test dialogue (latent persona attributes drawn anew each time)."""
ESCONV_DROP_TOLERANCE = 0.3
ESCONV_SPEARMAN_AIM = 0.2
ESCONV_DRAWS = 4
"""Replays of each ESConv test dialogue (the seeker's latent attributes drawn anew each time)."""
WORDING_MIN = 0.8
WORDING_CANDIDATES = 8
"""Real texts with the turn's label among which the Counseling real-wording agent picks."""
"""Real held-out sentences must earn this share of the realizer wording's return (check h)."""


def replay_p4g(data_dir: Path, limit: int | None = None) -> Check:
    """Check e: replay P4G test persuader turns against each dialogue's own persuadee.

    Each dialogue is replayed :data:`REPLAY_DRAWS` times (the persuadee's survey answers fixed,
    the latent attributes the survey does not give drawn anew each time). The AUC scores the
    mean simulated donation per dialogue (the simulator's expected outcome, as a regression on
    the survey gives an expected outcome); the single-draw AUC is shown beside it. The mean and
    the $0 share pool every draw."""
    from scipy.stats import spearmanr
    from sklearn.metrics import roc_auc_score

    from ..simulators.corpus_personas import p4g_dialogues

    sim, real, survey = [], [], []
    for i, d in enumerate(p4g_dialogues(data_dir, "test")[:limit]):
        turns = d["conversation"][0::2]
        env = gym.make(
            domain_named("persuasion").env_id, max_turns=max(1, min(100, len(turns)))
        ).unwrapped
        seeds = range(700_000 + i * REPLAY_DRAWS, 700_000 + (i + 1) * REPLAY_DRAWS)
        played = [replay_dialogue(env, seed, d["persona"], turns) for seed in seeds]
        sim.append([r["reward"] for r in played])
        survey.append(float(np.mean([r["survey_odds"] for r in played])))
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
    """Check e (Counseling): ESConv test supporters replayed against their own seekers
    (``simulators.esconv_replay``: the real seeker's words between the turns, the need drawn from
    its posterior given them), :data:`ESCONV_DRAWS` draws of the latent attributes per dialogue."""
    from scipy.stats import spearmanr

    from ..simulators.esconv_replay import read_split, replay_drops

    replays = read_split(data_dir / "esconv" / "esconv_test.jsonl", limit)
    sim = replay_drops(replays, ESCONV_DRAWS, 800_000).mean(1)
    real = np.array([r.drop for r in replays])
    rho = float(spearmanr(sim, real).statistic)
    gap = float(sim.mean() - real.mean())
    harmed = _harmed_quotes(replays, 800_000)
    fit = load_params("counseling_outcome")
    quotes = "; ".join(f'"{q}"' for q in harmed[:3])
    return Check(
        "e. ESConv replay",
        f"{len(replays)} test dialogues, real supporters against their own seekers' words: "
        f"simulated mean drop {sim.mean():.2f} vs real "
        f"{real.mean():.2f} (target within {ESCONV_DROP_TOLERANCE}; old 1.03 vs 2.00); Spearman "
        f"with the real drop {rho:.3f} (aim >= {ESCONV_SPEARMAN_AIM}; old 0.01); ended harmed: "
        f"{len(harmed)} test, {fit.get('train_harmed', '?')} of {fit.get('dialogues', '?')} train "
        f"(old 8 of 300)" + (f"; harmful turns: {quotes}" if harmed else ""),
        abs(gap) <= ESCONV_DROP_TOLERANCE,
        {"gap": gap, "spearman": rho, "harmed": harmed},
    )


def _harmed_quotes(replays: list, first_seed: int) -> list[str]:
    """The turn that ended each replay "harmed" (first draw of each dialogue)."""
    quotes = []
    for i, r in enumerate(replays):
        _, state = r.play(first_seed + ESCONV_DRAWS * i)
        if state.ended == "harmed":
            quotes.append(r.texts[state.turn - 1][:160])
    return quotes


class RealWordingAgent(Agent):
    """Follows the expert flow, saying a real held-out corpus text with each step's label.

    With ``respond`` (Counseling), it draws :data:`WORDING_CANDIDATES` texts with the label and
    says the one closest in meaning to the user's last message, as the realizer's templates take
    their slots from it: the real texts answer other seekers, and a supporter picks the line that
    fits this one."""

    name = "real-wording"

    def __init__(
        self, sentences: dict[str, list[str]], domain: str = "persuasion", respond: bool = False
    ) -> None:
        self.sentences = sentences
        self.flow = FLOWS[domain]
        self.respond = respond
        self.rng = np.random.default_rng(0)
        self.turn = 0

    def reset(self, seed: int | None = None) -> None:
        """Restart the flow; ``seed`` picks the sentences."""
        self.rng = np.random.default_rng(seed)
        self.turn = 0

    def act(self, observation: str, info: dict[str, Any]) -> str:
        """A real text carrying the flow's strategy for this turn."""
        pool = self.sentences[self.flow[min(self.turn, len(self.flow) - 1)]]
        self.turn += 1
        user = [m["content"] for m in info.get("messages", []) if m["role"] == "user"]
        if not (self.respond and user):
            return pool[int(self.rng.integers(len(pool)))]
        from ..simulators.engagement import unit_embeddings

        picks = self.rng.choice(len(pool), size=min(WORDING_CANDIDATES, len(pool)), replace=False)
        texts = [pool[int(i)] for i in picks]
        rows = unit_embeddings([user[-1], *texts])
        return texts[int(np.argmax(rows[1:] @ rows[0]))]


def wording(
    env: gym.Env,
    pairs: list[tuple[str, str]],
    seeds: range,
    progress: bool,
    domain: str = "persuasion",
) -> Check:
    """Check h: the expert flow in real held-out texts (P4G sentences, ESConv test supporter
    utterances) vs in the realizer's wording, on the same seeds."""
    sentences: dict[str, list[str]] = {}
    for text, label in pairs:
        sentences.setdefault(label, []).append(text)
    flow = FLOWS[domain]
    realizer = rewards(play(env, ScriptedAgent(domain, reactive=False), seeds, progress))
    agent = RealWordingAgent(sentences, domain, respond=domain == "counseling")
    real = rewards(play(env, agent, seeds, progress))
    ratio = real.mean() / realizer.mean() if realizer.mean() > 0 else float("nan")
    persuasion = domain == "persuasion"
    corpus, old = ("P4G sentences", "old 0.40") if persuasion else ("ESConv turns", "new")
    return Check(
        "h. wording",
        f"expert flow ({len(flow)} turns): realizer wording {fmt_ci(*mean_ci(realizer))}, real "
        f"held-out {corpus} with the same labels {fmt_ci(*mean_ci(real))}: {ratio:.2f} of it "
        f"({old}, target >= {WORDING_MIN})",
        bool(ratio >= WORDING_MIN),
        {"ratio": ratio},
    )


def held_out_acts(domain: str, data_dir: Path) -> list[tuple[str, str, str]]:
    """(text, human label, corpus act) never used to fit the reader: P4G held-out units (with
    P4G's dialogue act), ESConv test turns (the act is the strategy)."""
    from ..simulators.annotated import esconv_turns, p4g_split, p4g_units

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

    from ..simulators.classifier import get_classifier

    clf = get_classifier(domain)
    gold = [lab for _, lab in pairs]
    pred = [clf.classify(t)[0] for t, _ in pairs]
    acc = float(accuracy_score(gold, pred))
    f1 = float(f1_score(gold, pred, average="macro", zero_division=0))
    labels = list(clf.labels)
    recall = recall_score(gold, pred, labels=labels, average=None, zero_division=0)
    per_class = {lab: round(float(r), 3) for lab, r in zip(labels, recall, strict=True)}
    want_acc, want_f1 = PERCEPTION_TARGETS[domain]
    tfidf = TFIDF_FIGURES[domain]
    by_act = ""
    if acts is not None:
        rows = [(t, lab, a) for (t, lab), a in zip(pairs, acts, strict=True)]
        by_act = f"; {clf.domain.fallback} recall by corpus act: " + _act_recall(domain, rows, pred)
    return Check(
        "f. perception",
        f"{len(pairs)} held-out texts: accuracy {acc:.3f} (TF-IDF {tfidf['acc']:.3f}, target >= "
        f"{want_acc}), macro-F1 {f1:.3f} (TF-IDF {tfidf['f1']:.3f}, target >= {want_f1}); recall "
        + ", ".join(f"{k} {v:.2f}" for k, v in per_class.items())
        + by_act,
        acc >= want_acc and f1 >= want_f1,
        {"accuracy": acc, "macro_f1": f1, "recall": per_class},
    )


def false_alarms(pairs: list[tuple[str, str]]) -> Check:
    """Check g: real supporter/persuader turns flagged as harmful."""
    from ..simulators.classifier import get_reader

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
