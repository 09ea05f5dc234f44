"""The simulator report: is each embedded simulator a defensible model of a person?

Checks, over seeded episodes per environment, each with a 95% confidence interval:

a. calibration — outcomes under the human-like behaviour policy (reactive scripted agent with
   :data:`~dialogue_gym.agents.scripted.HUMAN_LIKE_NOISE`) beside the corpus's (P4G: share of $0
   in [0.35, 0.60], mean in [$0.30, $0.60]; ESConv: mean intensity drop within 0.3 of the
   train split's 1.99), and, for
   Persuasion, the Spearman correlation of each survey trait with the simulated donation beside
   the corpus's own (over :data:`TRAIT_EPISODES` more human-like episodes), whose signs must
   agree for every trait the corpus finds significant (p < 0.05);
b. adaptivity — the best open-loop script (several strategies per turn allowed; cross-entropy
   search on other seeds, :mod:`.open_loop`) must reach at most 70% of the way from random to
   the oracle, and never beat the oracle;
c. revelation — a bag-of-words logistic regression on the user's first 3 replies predicts the
   persona's main type (Persuasion: the dominant lever/barrier; Counseling: the latent need) at
   >= 2x chance (chance = the majority-class share), 5-fold cross-validated;
d. manipulation — an agent that only says manipulative things gets no higher mean reward than the
   random agent: one-sided Welch t-test of H1 "manipulation > random", passing when the
   manipulative mean is not above random's or p >= 0.05;
e. real-data replay — P4G train-split persuader utterances replayed in order (the simulator's own
   replies in between): AUC of simulated donation for "really donated > 0" and Spearman with the
   real donation (reported; no threshold). Skipped when ``../shared/data`` is absent.
f. perception — the label the env acts on (``classify(text)[0]``) against human labels on text
   never used to fit the reader: P4G held-out persuader sentences (accuracy >= 0.72, macro-F1 >=
   0.62) and ESConv test supporter turns (>= 0.60, >= 0.55), with every class's recall, beside
   the TF-IDF classifier this reader replaced (:data:`OLD`). Skipped without ``../shared/data``.
g. harm false alarms — share of those same real turns the reader flags as harmful (<= 3%).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from ..agents.base import Agent
from ..agents.oracle import OracleAgent
from ..agents.scripted import FLOWS, HUMAN_LIKE_NOISE, RandomAgent, ScriptedAgent
from ..files import atomic_write_text
from ..rollout import EpisodeResult, play_episodes
from ..stats import fmt_ci, mean_ci, proportion_ci, welch_greater
from .manipulation import ManipulativeAgent
from .personas import load_params

ENVS = {"persuasion": "Persuasion-v0", "counseling": "Counseling-v0"}
COUNSELING_TOLERANCE = 0.3
"""How far the human-like mean intensity drop may sit from ESConv's."""
TRAIT_EPISODES = 2000
"""Extra human-like episodes for the trait-correlation signs (small correlations need them)."""
P4G_DONATION = {"share_zero": 0.466, "mean": 0.409}
OPEN_LOOP_MAX = 0.7
OPEN_LOOP_SEEDS = 900_000
"""First seed of the personas the open-loop search trains on (apart from the report's seeds)."""
PERCEPTION_TARGETS = {"persuasion": (0.72, 0.62), "counseling": (0.60, 0.55)}
"""(accuracy, macro-F1) the env's label must reach on held-out human-labelled text."""
FALSE_ALARM_MAX = 0.03
OLD = {
    "persuasion": {"acc": 0.650, "f1": 0.573},
    "counseling": {"acc": 0.497, "f1": 0.448},
}
"""The TF-IDF classifier's figures on the same text, scoring ``classify()[0]`` (issue 13)."""


@dataclass
class Check:
    """One report line: a name, the measured figures, and whether it passed (None: no threshold)."""

    name: str
    text: str
    passed: bool | None
    data: dict[str, Any]


def _rewards(results: list[EpisodeResult]) -> np.ndarray:
    return np.array([r.reward for r in results], dtype=float)


def _play(env: gym.Env, agent: Agent, seeds: range, progress: bool) -> list[EpisodeResult]:
    return play_episodes(env, agent, seeds, progress=progress, desc=f"{env.spec.id}:{agent.name}")


def calibration(
    domain: str, human: list[EpisodeResult], human_extra: list[EpisodeResult] | None = None
) -> list[Check]:
    """Check a (and the trait correlations) from the human-like policy's episodes."""
    r = _rewards(human)
    checks = []
    if domain == "persuasion":
        k = int((r == 0).sum())
        p0 = proportion_ci(k, len(r))
        mean = mean_ci(r)
        ok = 0.35 <= p0[0] <= 0.60 and 0.30 <= mean[0] <= 0.60
        checks.append(
            Check(
                "a. calibration",
                f"share $0 {fmt_ci(*p0)} (P4G {P4G_DONATION['share_zero']}, target [0.35, 0.60]); "
                f"mean donation ${fmt_ci(*mean)} (P4G ${P4G_DONATION['mean']}, target "
                "[0.30, 0.60])",
                ok,
                {"share_zero": p0, "mean": mean, "n": len(r)},
            )
        )
        # Trait correlations are small; a larger (cheap) human-like sample keeps their signs stable.
        checks.append(trait_correlations(human_extra or human))
    else:
        mean = mean_ci(r)
        esconv = load_params("counseling_persona")["mean_intensity_drop"]
        checks.append(
            Check(
                "a. calibration",
                f"mean intensity drop {fmt_ci(*mean)} (ESConv train {esconv:.2f}, target "
                f"within +-{COUNSELING_TOLERANCE})",
                abs(mean[0] - esconv) <= COUNSELING_TOLERANCE,
                {"mean": mean, "esconv": esconv, "n": len(r)},
            )
        )
    return checks


def trait_correlations(human: list[EpisodeResult]) -> Check:
    """Spearman of each persona trait with the simulated donation, beside the corpus's."""
    from scipy.stats import spearmanr

    params = load_params("persuasion_persona")
    corpus = params["corpus_correlations"]
    r = _rewards(human)
    rows, agree, significant = [], 0, 0
    for trait in params["traits"]:
        x = [e.final_info["privileged"]["persona"]["traits"][trait] for e in human]
        rho = float(spearmanr(x, r).statistic)
        c = corpus[trait]
        sig = c["p"] < 0.05
        same = np.sign(rho) == np.sign(c["spearman"])
        if sig:
            significant += 1
            agree += int(same)
        rows.append({"trait": trait, "simulated": rho, "corpus": c["spearman"], "corpus_p": c["p"]})
    lines = ", ".join(
        f"{row['trait']} {row['simulated']:+.2f}/{row['corpus']:+.2f}"
        for row in rows
        if row["corpus_p"] < 0.05
    )
    return Check(
        "a. trait signs",
        f"{agree}/{significant} corpus-significant (p<0.05) traits agree in sign "
        f"(simulated/corpus Spearman): {lines}",
        agree == significant,
        {"rows": rows},
    )


def adaptivity(
    domain: str,
    env: gym.Env,
    seeds: range,
    progress: bool,
    search_budget: dict[str, int] | None = None,
) -> tuple[Check, dict[str, np.ndarray]]:
    """Check b: the oracle vs the best open-loop script (searched on other seeds) vs random."""
    from .open_loop import OpenLoopAgent, search

    out: dict[str, np.ndarray] = {}
    out["random"] = _rewards(_play(env, RandomAgent(domain), seeds, progress))
    out["oracle"] = _rewards(_play(env, OracleAgent(domain), seeds, progress))
    personas = (search_budget or {}).get("personas", min(200, len(seeds)))
    train = range(OPEN_LOOP_SEEDS, OPEN_LOOP_SEEDS + personas)
    budget = {k: v for k, v in (search_budget or {}).items() if k != "personas"}
    # the hand-written expert flow is a start: the search never ends below it
    flow = FLOWS[domain]
    expert = [(flow[min(t, len(flow) - 1)],) for t in range(budget.get("turns", 10))]
    found = search(ENVS[domain], domain, train, starts=[expert], **budget)
    out["open-loop"] = _rewards(_play(env, OpenLoopAgent(domain, found.script), seeds, progress))
    o, b, rnd = out["oracle"].mean(), out["open-loop"].mean(), out["random"].mean()
    share = (b - rnd) / (o - rnd) if o > rnd else float("nan")
    ok = share <= OPEN_LOOP_MAX and o >= b
    budget_text = ", ".join(f"{k} {v}" for k, v in found.budget.items())
    text = (
        f"oracle {fmt_ci(*mean_ci(out['oracle']))}, best open-loop script "
        f"{fmt_ci(*mean_ci(out['open-loop']))}, random {fmt_ci(*mean_ci(out['random']))}: the "
        f"script goes {share:.2f} of the way from random to the oracle (target <= "
        f"{OPEN_LOOP_MAX}; old: a hill-climbed script beat or matched the oracle). Cross-entropy "
        f"search started from the expert flow ({budget_text}) on seeds "
        f"{train.start}..{train.stop - 1}: " + " | ".join("+".join(m) for m in found.script)
    )
    data = {k: v.tolist() for k, v in out.items()} | {"share": share, "script": found.script}
    return Check("b. adaptivity", text, bool(ok), data), out


def revelation(domain: str, human: list[EpisodeResult]) -> Check:
    """Check c: predict the persona's main type from the user's first 3 replies."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score

    key = "main_type" if domain == "persuasion" else "need"
    texts, labels = [], []
    for e in human:
        msgs = e.messages
        # Counseling's user opens; its first 3 replies are the 3 user turns after the opening.
        user = [m["content"] for m in msgs if m["role"] == "user"]
        user = user[1:4] if domain == "counseling" else user[:3]
        texts.append(" ".join(user))
        labels.append(e.final_info["privileged"]["persona"][key])
    y = np.array(labels)
    chance = max(np.mean(y == c) for c in set(labels))
    model = LogisticRegression(max_iter=2000)
    x = CountVectorizer(ngram_range=(1, 2), min_df=2).fit_transform(texts)
    acc = float(cross_val_score(model, x, y, cv=5).mean())
    return Check(
        "c. revelation",
        f"persona {key} from the first 3 user replies: accuracy {acc:.3f} (5-fold CV) vs chance "
        f"{chance:.3f} = {acc / chance:.2f}x (target >= 2x)",
        acc >= 2 * chance,
        {"accuracy": acc, "chance": float(chance)},
    )


def manipulation(domain: str, env: gym.Env, seeds: range, random: np.ndarray, progress: bool):
    """Check d: manipulative talk vs the random agent."""
    m = _rewards(_play(env, ManipulativeAgent(domain), seeds, progress))
    p = welch_greater(m, random)
    ok = m.mean() <= random.mean() or p >= 0.05
    return Check(
        "d. manipulation",
        f"manipulative {fmt_ci(*mean_ci(m))} vs random {fmt_ci(*mean_ci(random))}; one-sided "
        f"Welch p(manipulative > random) = {p:.3g}",
        bool(ok),
        {"manipulative": m.tolist(), "p": p},
    )


REPLAY_TARGETS = {"auc": 0.62, "mean_tolerance": 0.08, "zero_tolerance": 0.08}
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

    sim, real = [], []
    for i, d in enumerate(p4g_dialogues(data_dir, "test")[:limit]):
        turns = d["conversation"][0::2]
        env = gym.make("Persuasion-v0", max_turns=max(1, min(100, len(turns)))).unwrapped
        seeds = range(700_000 + i * REPLAY_DRAWS, 700_000 + (i + 1) * REPLAY_DRAWS)
        sim.append([_replay(env, seed, d["persona"], turns) for seed in seeds])
        real.append(min(float(d["reward"]), 2.0))
    draws, real_a = np.array(sim), np.array(real)
    expected = draws.mean(axis=1)
    auc = float(roc_auc_score(real_a > 0, expected))
    auc_one = float(roc_auc_score(real_a > 0, draws[:, 0]))
    rho = float(spearmanr(expected, real_a).statistic)
    mean, zero = float(draws.mean()), float((draws == 0).mean())
    t = REPLAY_TARGETS
    ok = (
        auc >= t["auc"]
        and abs(mean - real_a.mean()) <= t["mean_tolerance"]
        and abs(zero - (real_a == 0).mean()) <= t["zero_tolerance"]
    )
    return Check(
        "e. P4G replay",
        f"{len(sim)} test dialogues x {REPLAY_DRAWS} draws, each against its own persuadee's "
        f"survey: AUC(expected simulated donation -> real donated>0) {auc:.3f} (one draw "
        f"{auc_one:.3f}; old 0.51, target >= {t['auc']}), Spearman {rho:.3f}; simulated mean "
        f"${mean:.3f} (old $0.103), share $0 {zero:.3f} (old 0.77); real ${real_a.mean():.3f}, "
        f"{(real_a == 0).mean():.3f} (targets: within {t['mean_tolerance']} and "
        f"{t['zero_tolerance']})",
        bool(ok),
        {"auc": auc, "auc_one_draw": auc_one, "spearman": rho, "mean": mean, "share_zero": zero},
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
    realizer = _rewards(_play(env, ScriptedAgent("persuasion", reactive=False), seeds, progress))
    real = _rewards(_play(env, RealWordingAgent(sentences), seeds, progress))
    ratio = real.mean() / realizer.mean() if realizer.mean() > 0 else float("nan")
    return Check(
        "h. wording",
        f"expert flow ({len(flow)} turns): realizer wording {fmt_ci(*mean_ci(realizer))}, real "
        f"held-out P4G sentences with the same labels {fmt_ci(*mean_ci(real))}: {ratio:.2f} of "
        f"it (old 0.40, target >= {WORDING_MIN})",
        bool(ratio >= WORDING_MIN),
        {"ratio": ratio},
    )


def held_out_text(domain: str, data_dir: Path) -> list[tuple[str, str]]:
    """(text, human label) never used to fit the reader: P4G held-out units, ESConv test."""
    from .annotated import esconv_turns, p4g_split, p4g_units

    if domain == "persuasion":
        return [(u["text"], u["label"]) for u in p4g_split(p4g_units(data_dir), "held-out")]
    return esconv_turns(data_dir / "esconv" / "esconv_test.jsonl")


def perception(domain: str, pairs: list[tuple[str, str]]) -> Check:
    """Check f: the env's label (``classify()[0]``) against human labels."""
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
    return Check(
        "f. perception",
        f"{len(pairs)} held-out texts: accuracy {acc:.3f} (old {old['acc']:.3f}, target >= "
        f"{want_acc}), macro-F1 {f1:.3f} (old {old['f1']:.3f}, target >= {want_f1}); recall "
        + ", ".join(f"{k} {v:.2f}" for k, v in per_class.items()),
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


def run_report(
    episodes: int = 500,
    seed: int = 100_000,
    data_dir: Path | None = None,
    progress: bool = True,
    domains: tuple[str, ...] = ("persuasion", "counseling"),
    data_limit: int | None = None,
    search_budget: dict[str, int] | None = None,
) -> dict[str, list[Check]]:
    """Run every check for each domain; returns the checks by domain. ``data_limit`` keeps
    only the first N real dialogues and texts in the real-data checks (a reduced run);
    ``search_budget`` overrides the open-loop search's (``iterations``, ``samples``, ``elite``,
    ``personas``: by default as many training personas as ``episodes``, at most 200)."""
    if episodes < 20:
        raise ValueError(f"episodes must be >= 20 for the report's statistics, got {episodes}")
    results: dict[str, list[Check]] = {}
    for domain in domains:
        # the report analyses the simulator itself: it reads the persona and runs the oracle
        env = gym.make(ENVS[domain], privileged_info=True).unwrapped
        seeds = range(seed, seed + episodes)
        human = _play(env, ScriptedAgent(domain, noise=HUMAN_LIKE_NOISE), seeds, progress)
        extra = None
        if domain == "persuasion":
            trait_seeds = range(seed + episodes, seed + episodes + TRAIT_EPISODES)
            agent = ScriptedAgent(domain, noise=HUMAN_LIKE_NOISE)
            extra = human + _play(env, agent, trait_seeds, progress)
        checks = calibration(domain, human, extra)
        check_b, rewards = adaptivity(domain, env, seeds, progress, search_budget)
        checks.append(check_b)
        checks.append(revelation(domain, human))
        checks.append(manipulation(domain, env, seeds, rewards["random"], progress))
        corpus = "p4g" if domain == "persuasion" else "esconv"
        if data_dir is not None and (data_dir / corpus).is_dir():
            every = held_out_text(domain, data_dir)
            pairs = every[:data_limit]
            replay = replay_p4g if domain == "persuasion" else replay_esconv
            checks += [replay(data_dir, data_limit), perception(domain, pairs), false_alarms(pairs)]
            if domain == "persuasion":
                checks.append(wording(env, every, seeds, progress))  # every label needs text
        results[domain] = checks
    return results


def format_report(results: dict[str, list[Check]]) -> str:
    """The report as text: one line per check with PASS/FAIL/INFO."""
    lines = []
    for domain, checks in results.items():
        lines.append(f"== {ENVS[domain]} ==")
        for c in checks:
            tag = "INFO" if c.passed is None else ("PASS" if c.passed else "FAIL")
            lines.append(f"[{tag}] {c.name}: {c.text}")
    return "\n".join(lines)


def save_report(results: dict[str, list[Check]], path: Path, elapsed: float) -> None:
    """Write the report as JSON (atomically)."""
    obj = {
        "elapsed_s": elapsed,
        "checks": {
            d: [
                {
                    "name": c.name,
                    "text": c.text,
                    "passed": None if c.passed is None else bool(c.passed),
                }
                for c in cs
            ]
            for d, cs in results.items()
        },
    }
    atomic_write_text(path, json.dumps(obj, indent=1))


def main(
    episodes: int,
    seed: int,
    data_dir: Path | None,
    out: Path | None,
    data_limit: int | None = None,
    search_budget: dict[str, int] | None = None,
) -> int:
    """CLI entry: print the report; exit status 1 if a thresholded check failed."""
    t = time.time()
    results = run_report(
        episodes, seed, data_dir, data_limit=data_limit, search_budget=search_budget
    )
    print(format_report(results))
    elapsed = time.time() - t
    print(f"({episodes} episodes per env and agent, {elapsed:.0f} s)")
    if out is not None:
        save_report(results, out, elapsed)
    failed = [c for cs in results.values() for c in cs if c.passed is False]
    return 1 if failed else 0
