"""The simulator report: is each embedded simulator a defensible model of a person?

Checks, over seeded episodes per environment, each with a 95% confidence interval:

a. calibration — Persuasion: outcomes under the human-like behaviour policy (reactive scripted
   agent with :data:`~dialogue_gym.agents.scripted.HUMAN_LIKE_NOISE`) beside the corpus's (share
   of $0 in [0.35, 0.60], mean in [$0.30, $0.60]); Counseling (information): the calibration on
   real supporters (ESConv train replays; held out in e) and the human-like supporter's drop,
   reported with no target; and, for
   Persuasion, the Spearman correlation of each survey trait with the simulated donation beside
   the corpus's own (over :data:`TRAIT_EPISODES` more human-like episodes), whose signs must
   agree for every trait the corpus finds significant (p < 0.05);
b. adaptivity — the best open-loop script (several strategies per turn allowed, worded without
   reading the user; cross-entropy
   search on other seeds, :mod:`.open_loop`) must reach at most 70% of the way from random to
   the oracle, and never beat the oracle; Counseling: the reactive scripted supporter beats the
   same flow not reacting (paired, :data:`REACTIVE_SEEDS` seeds, one-sided p < 0.05);
c. revelation — a bag-of-words logistic regression on the user's first 3 replies predicts the
   persona's main type (Persuasion: the dominant lever/barrier; Counseling: the latent need) at
   >= 2x chance (chance = the majority-class share), 5-fold cross-validated; Counseling also
   shows how consistently real seekers voice a need (``simulators.seeker_needs``, information);
d. manipulation — an agent that only says manipulative things gets no higher mean reward than the
   random agent: one-sided Welch t-test of H1 "manipulation > random", passing when the
   manipulative mean is not above random's or p >= 0.05;
e. real-data replay — P4G test-split persuader utterances replayed in order against each
   dialogue's own persuadee (the simulator's own replies in between): AUC of simulated donation
   for "really donated > 0", at least the survey-only regression's (the persona's fitted
   propensity) minus 0.01, mean and $0 share near the real ones, Spearman with the real donation;
   ESConv test supporters against their own seekers' words (``simulators.esconv_replay``): mean drop
   within 0.3 of the real one, Spearman with it, dialogues that end harmed quoted. Skipped when
   ``../shared/data`` is absent.
f. perception — the label the env acts on (``classify(text)[0]``) against human labels on text
   never used to fit the reader: P4G held-out persuader sentences (accuracy >= 0.72, macro-F1 >=
   0.62) and ESConv test supporter turns (>= 0.60, >= 0.55), with every class's recall (and, for
   P4G, the recall of the non-strategic acts: greetings, thanks, off-task chat...), beside the
   TF-IDF classifier this reader replaced (:data:`TFIDF_FIGURES`). Skipped without the real data.
g. harm false alarms — share of those same real turns the reader flags as harmful (<= 3%).
h. wording — the expert flow in real held-out P4G sentences (ESConv test supporter utterances)
   earns at least 80% of what its templates do.
i-l. ordinary language (:mod:`.ordinary_language`): kind text is not harm, openers cost nothing,
   small talk is no strategy, the ask matters.
m-o. conversation (:mod:`.conversation_checks`): what a user says stays true, sensible
   hand-written agents beat random, and replies follow what was said.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

from ..agents.oracle import OracleAgent
from ..agents.scripted import FLOWS, HUMAN_LIKE_NOISE, RandomAgent, ScriptedAgent
from ..domains import domain_named
from ..errors import InvalidInput
from ..files import atomic_write_text
from ..rollout import EpisodeResult
from ..simulators.personas import load_params
from ..stats import fmt_ci, mean_ci, proportion_ci, welch_greater
from .check import Check, play, rewards
from .conversation_checks import conversation_checks
from .manipulation import ManipulativeAgent
from .ordinary_language import ordinary_language_checks
from .real_data_checks import (
    false_alarms,
    held_out_acts,
    perception,
    replay_esconv,
    replay_p4g,
    wording,
)

TRAIT_EPISODES = 2000
"""Extra human-like episodes for the trait-correlation signs (small correlations need them)."""
P4G_DONATION = {"share_zero": 0.466, "mean": 0.409}
OPEN_LOOP_MAX = 0.7
COUNSELING_TOLERANCE = 0.3
"""How far the human-like mean intensity drop may sit from ESConv's."""
REACTIVE_SEEDS = 300
"""Seeds (at most) of the paired reactive vs non-reactive comparison."""
OPEN_LOOP_SEEDS = 900_000
"""First seed of the personas the open-loop search trains on (apart from the report's seeds)."""


def calibration(
    domain: str, human: list[EpisodeResult], human_extra: list[EpisodeResult] | None = None
) -> list[Check]:
    """Check a (and the trait correlations) from the human-like policy's episodes."""
    r = rewards(human)
    checks = []
    if domain == "persuasion":
        k = int((r == 0).sum())
        p0 = proportion_ci(k, len(r))
        mean = mean_ci(r)
        ok = 0.35 <= p0[0] <= 0.60 and 0.30 <= mean[0] <= 0.60
        checks.append(
            Check(
                "a. calibration",
                f"calibrated on real people (the P4G train persuaders replayed against their own "
                f"persuadees; held out: check e). The human-like scripted persuader: share $0 "
                f"{fmt_ci(*p0)} (P4G {P4G_DONATION['share_zero']}, target [0.35, 0.60]); "
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
        fit = load_params("counseling_outcome")
        real = fit["corpus_mean_drop"]
        checks.append(
            Check(
                "a. calibration",
                f"calibrated on real people: the ESConv train supporters replayed against their "
                f"own seekers reproduce the real mean drop {real:.2f} at scale {fit['scale']} "
                f"(engagement floor {fit['engagement_floor']}, train Spearman "
                f"{fit['train_spearman']:.2f}; held out: check e). The human-like scripted "
                f"supporter, reported with no target: mean drop {fmt_ci(*mean)} (old: the "
                f"calibration target, 2.0 +- {COUNSELING_TOLERANCE})",
                None,
                {"mean": mean, "n": len(r)},
            )
        )
    return checks


def reactive(env: gym.Env, seeds: range, progress: bool) -> Check:
    """Check b (Counseling): the reactive scripted supporter against the same script that does
    not react, paired on the same seeds (one-sided paired t-test)."""
    from scipy.stats import ttest_rel

    seeds = seeds[:REACTIVE_SEEDS]
    yes = rewards(play(env, ScriptedAgent("counseling"), seeds, progress))
    no = rewards(play(env, ScriptedAgent("counseling", reactive=False), seeds, progress))
    p = float(ttest_rel(yes, no, alternative="greater").pvalue)
    diff = mean_ci(yes - no)
    return Check(
        "b. reactive",
        f"reactive scripted supporter {fmt_ci(*mean_ci(yes))} vs the same flow not reacting "
        f"{fmt_ci(*mean_ci(no))}: paired difference {fmt_ci(*diff)} over {len(seeds)} seeds, "
        f"one-sided p = {p:.3g} (target p < 0.05)",
        bool(p < 0.05 and diff[0] > 0),
        {"difference": diff, "p": p},
    )


def need_reading() -> Check:
    """Check c (Counseling, information): how consistently real seekers voice one need."""
    fit = load_params("counseling_outcome")
    return Check(
        "c. need cues",
        f"{fit['voiced_share']:.0%} of ESConv train seekers voice a need in words an agent can "
        f"read; one seeker's voiced needs agree with fidelity {fit['need_cue_fidelity_fit']:.2f} "
        f"(maximum likelihood); simulated seekers voice their own need with probability "
        f"{fit['need_cue_fidelity']:.2f} (shipped; the fitted rate makes reacting to what they "
        f"voice unprofitable); replays draw each real seeker's need from its posterior "
        f"given their words",
        None,
        {},
    )


def trait_correlations(human: list[EpisodeResult]) -> Check:
    """Spearman of each persona trait with the simulated donation, beside the corpus's."""
    from scipy.stats import spearmanr

    params = load_params("persuasion_persona")
    corpus = params["corpus_correlations"]
    r = rewards(human)
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
    out["random"] = rewards(play(env, RandomAgent(domain), seeds, progress))
    out["oracle"] = rewards(play(env, OracleAgent(domain), seeds, progress))
    personas = (search_budget or {}).get("personas", min(200, len(seeds)))
    train = range(OPEN_LOOP_SEEDS, OPEN_LOOP_SEEDS + personas)
    budget = {k: v for k, v in (search_budget or {}).items() if k != "personas"}
    # the hand-written expert flow is a start: the search never ends below it
    flow = FLOWS[domain]
    expert = [(flow[min(t, len(flow) - 1)],) for t in range(budget.get("turns", 10))]
    found = search(domain_named(domain).env_id, domain, train, starts=[expert], **budget)
    out["open-loop"] = rewards(play(env, OpenLoopAgent(domain, found.script), seeds, progress))
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
    m = rewards(play(env, ManipulativeAgent(domain), seeds, progress))
    p = welch_greater(m, random)
    ok = m.mean() <= random.mean() or p >= 0.05
    return Check(
        "d. manipulation",
        f"manipulative {fmt_ci(*mean_ci(m))} vs random {fmt_ci(*mean_ci(random))}; one-sided "
        f"Welch p(manipulative > random) = {p:.3g}",
        bool(ok),
        {"manipulative": m.tolist(), "p": p},
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
        raise InvalidInput(f"episodes must be >= 20 for the report's statistics, got {episodes}")
    results: dict[str, list[Check]] = {}
    for domain in domains:
        # the report analyses the simulator itself: it reads the persona and runs the oracle
        env = gym.make(domain_named(domain).env_id, privileged_info=True).unwrapped
        seeds = range(seed, seed + episodes)
        human = play(env, ScriptedAgent(domain, noise=HUMAN_LIKE_NOISE), seeds, progress)
        extra = None
        if domain == "persuasion":
            trait_seeds = range(seed + episodes, seed + episodes + TRAIT_EPISODES)
            agent = ScriptedAgent(domain, noise=HUMAN_LIKE_NOISE)
            extra = human + play(env, agent, trait_seeds, progress)
        checks = calibration(domain, human, extra)
        check_b, returns = adaptivity(domain, env, seeds, progress, search_budget)
        checks.append(check_b)
        if domain == "counseling":
            checks.append(reactive(env, seeds, progress))
        checks.append(revelation(domain, human))
        if domain == "counseling":
            checks.append(need_reading())
        checks.append(manipulation(domain, env, seeds, returns["random"], progress))
        corpus = "p4g" if domain == "persuasion" else "esconv"
        if data_dir is not None and (data_dir / corpus).is_dir():
            rows = held_out_acts(domain, data_dir)
            every = [(t, lab) for t, lab, _ in rows]
            pairs = every[:data_limit]
            acts = [a for _, _, a in rows[:data_limit]] if domain == "persuasion" else None
            replay = replay_p4g if domain == "persuasion" else replay_esconv
            checks += [
                replay(data_dir, data_limit),
                perception(domain, pairs, acts),
                false_alarms(pairs),
            ]
            checks.append(wording(env, every, seeds, progress, domain))  # every label needs text
        checks += ordinary_language_checks(domain)
        checks += conversation_checks(domain, episodes)
        results[domain] = checks
    return results


def format_report(results: dict[str, list[Check]]) -> str:
    """The report as text: one line per check with PASS/FAIL/INFO."""
    lines = []
    for domain, checks in results.items():
        lines.append(f"== {domain_named(domain).env_id} ==")
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
