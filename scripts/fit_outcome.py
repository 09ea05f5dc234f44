"""Fit what decides the simulated outcomes on real train dialogues replayed (P4G and ESConv).

Each of the 817 ``p4g/train.json`` dialogues is replayed through :class:`PersuasionDynamics`
against its own persuadee (survey answers from ``full_info.csv``; latent attributes drawn), with
the persuader's real turns read by the shipped reader. Four constants are fitted:

- ``prior_weight``: how much the persona's survey propensity (the corpus's ridge logistic
  regression, which shrinks towards 0) counts against everything the conversation does;
- ``baseline``: the shift that reproduces the train share of $0 donations (46.6%);
- ``amount_scale``: how fast a donor's amount climbs the corpus amount quantiles, so that the
  train mean donation ($0.409) is reproduced;
- ``no_ask``: the margin a persuadee never asked loses, set so that over the replayed
  conversations giving when asked is :data:`ASK_RATIO` times giving had they never been asked
  (the causal size comes from a field experiment; the conversations from the corpus).

For each (prior weight, amount scale) on a grid, ``baseline`` is set by bisection on the $0 share.
Among the pairs whose mean is within $0.02 of the corpus's, the AUC of the simulated donations for
the real "donated > 0" grows with the prior weight (the survey predicts giving better than the
persuader's words do); the smallest prior weight within 0.01 of the best AUC wins, so that the
conversation keeps as much weight as the data allow. ``p4g/test.json`` is not read.

Counseling (:func:`fit_counseling`): calibrated on real people. The need-cue fidelity is fitted
on what ESConv train seekers voice; the train supporters are replayed against their own seekers'
words (``simulators/esconv_replay.py``) and, for each per-move structure and engagement floor on
a grid, the scale that reproduces the real mean drop is found by bisection; the highest floor
whose replays rank the dialogues within 0.01 of the best (train Spearman) ships. Then how much a
seeker explains unasked (``seeker_explains``: understanding the supporter gains per turn without
asking) is chosen on :data:`SEEKER_EXPLAINS` so that the replayed drops depend on the real
supporters' share of questions and of reassurance/information/suggestions as the real drops do
(least squares slopes, distance in the real slopes' standard errors), the scale refitted for each
value, among the values that rank the dialogues within 0.01 of the best. Last, advice before
exploration backfires (a rule of the design, from Hill 2009) at its written threshold unless the
replays veto it (:func:`fit_premature`: they rank the dialogues more than 0.01 worse with it), and
unwanted advice adds no distress (a size from an experiment, Batenburg & Das 2014) unless they
reject that in a paired bootstrap (:func:`fit_unwanted_cost`). The human-like
scripted supporter (noisy, reactive; seeds from 1,000,000, apart from every report seed) is
reported, with no target.
``esconv_test.jsonl`` is not read.
Writes ``simulators/params/persuasion_outcome.json`` and ``counseling_outcome.json``.
Usage: ``python scripts/fit_outcome.py [--data DIR]``
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

from dialogue_gym.data_paths import require_data_dir
from dialogue_gym.simulators import counseling as C
from dialogue_gym.simulators import persuasion as P
from dialogue_gym.simulators.classifier import get_classifier, get_reader
from dialogue_gym.simulators.corpus_personas import p4g_dialogues
from dialogue_gym.simulators.personas import sample_persuasion_persona
from dialogue_gym.stats import spearman_gap

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ROOT / "simulators" / "params"
PRIOR_WEIGHTS = (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 12.0, 16.0, 20.0)
AMOUNT_SCALES = (1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0)
CALIBRATION_SEEDS = range(1_000_000, 1_000_400)
REPLAY_DRAWS = 4
"""Replays of each ESConv train dialogue (the seeker's latent attributes drawn anew each time)."""
ENGAGEMENT_FLOORS = (0.0, 0.2, 0.35, 0.5, 0.6)
SEEKER_EXPLAINS = (0.0, 0.03, 0.06, 0.1, 0.15, 0.2, 0.3)
"""Values of ``seeker_explains`` tried (understanding reaches 1 within a few turns from 0.2 up)."""
ASKING = ("Question",)
TELLING = ("Affirmation and Reassurance", "Information", "Providing Suggestions")
"""The two strategy shares whose relation to the drop the ``seeker_explains`` fit matches."""
STRUCTURES: dict[str, dict[str, float]] = {
    # Shipped. Replayed at one scale, real supporters lose most of their relief to the penalties
    # below (modelling assumptions, no measured size): dropping them all lifts the train mean
    # drop 0.62 -> 2.12 at the old scale of 2.99. Calibrated with them, the scale must be about
    # 12 and a fixed script then nearly ties the oracle; without them it is about 3.3 and
    # adaptation is required. The replays rank the dialogues about as well either way (train
    # Spearman 0.24 vs 0.22). Dilution by 1/sqrt(k), not 0: with none a script stacks every move.
    "real-people": {
        "stack_dilution": 0.5,
        "impatience": 0.0,
        "ignored_feeling": 0.0,
        "premature_below": 0.0,  # while floors and seeker_explains are fitted; then fit_premature
        "unwanted_cost": 0.0,  # the experiment's size; fit_unwanted_cost checks the replays
        "heard_eases_mismatch": 0.0,
    },
    # The per-move penalties as written before the real-people calibration (recorded only).
    "assumed": {
        "stack_dilution": 1.0,
        "impatience": 0.1,
        "ignored_feeling": 0.1,
        "premature_below": 0.45,
        "unwanted_cost": 1.0,
        "heard_eases_mismatch": 0.0,
    },
}
"""Per-move structures compared on the train replays; the first ships."""
PREMATURE_AT = 0.45
"""Understanding below which a suggestion is premature: about two exploring moves (Hill 2009's
exploration before action), the threshold written before the real-people calibration."""
HEARD_EASES_AT = 0.4
"""Share of unwanted advice's cost that feeling fully heard takes away: the size the design gives
being heard for wanted advice (its effect grows as 0.6 + 0.4 heard), mirrored, so no new size."""
ASK_RATIO = 1.75
"""A verbal ask raised total giving by about 75% (Andreoni, Rao & Trachtman 2017, JPE)."""


def read_turns(dialogues: list[dict]) -> list[list[tuple]]:
    """(labels, cues) of each persuader turn, read once by the shipped reader."""
    clf = get_classifier("persuasion")
    get_reader()
    dyn = P.PersuasionDynamics(sample_persuasion_persona(np.random.default_rng(0)))
    return [[(clf.classify(t), dyn.cues(t)) for t in d["conversation"][0::2]] for d in dialogues]


def replay(
    personas: list, turns: list, prior_weight: float, baseline: float, amount_scale: float
) -> np.ndarray:
    """Simulated donation of every dialogue under the given constants."""
    P.PRIOR_WEIGHT, P.BASELINE, P.AMOUNT_SCALE = prior_weight, baseline, amount_scale
    out = []
    for persona, read in zip(personas, turns, strict=True):
        dyn = P.PersuasionDynamics(persona)
        out.append(dyn.outcome(dyn.play(read)))  # the last pledge, kept; else the inclination
    return np.array(out)


def ask_ratio(personas: list, turns: list) -> float:
    """Mean giving of the replayed conversations when asked (no amount named) over their
    giving had the persuadee never been asked, under the current constants."""
    asked, never = [], []
    for persona, read in zip(personas, turns, strict=True):
        dyn = P.PersuasionDynamics(persona)
        s = dyn.play(read)
        s.anchor = None
        asked.append(dyn.donation(s, assume_asked=True))
        s.asks = 0
        never.append(dyn.donation(s))
    return float(np.mean(asked) / max(np.mean(never), 1e-9))


def fit_no_ask(personas: list, turns: list) -> float:
    """Bisection on ``no_ask`` so that :func:`ask_ratio` equals :data:`ASK_RATIO`."""
    lo, hi = 0.0, 4.0
    for _ in range(14):
        P.NO_ASK = (lo + hi) / 2
        lo, hi = (P.NO_ASK, hi) if ask_ratio(personas, turns) < ASK_RATIO else (lo, P.NO_ASK)
    return round(P.NO_ASK, 3)


def fit_row(personas: list, turns: list, real: np.ndarray, w: float, a: float) -> dict:
    """For prior weight ``w`` and amount scale ``a``: the baseline that reproduces the corpus
    share of $0 (bisection), and the train figures it gives."""
    zero = float((real == 0).mean())
    lo, hi = -6.0, 6.0
    for _ in range(10):  # more zeros than the corpus: raise the baseline
        b = (lo + hi) / 2
        sim = replay(personas, turns, w, b, a)
        lo, hi = (b, hi) if (sim == 0).mean() > zero else (lo, b)
    row = {
        "prior_weight": w,
        "amount_scale": a,
        "baseline": round(b, 3),
        "train_auc": round(float(roc_auc_score(real > 0, sim)), 4),
        "train_mean": round(float(sim.mean()), 4),
        "train_share_zero": round(float((sim == 0).mean()), 4),
    }
    print(json.dumps(row), flush=True)
    return row


def _write(name: str, obj: dict) -> None:
    path = PARAMS / f"{name}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(obj, indent=1) + "\n")
    os.replace(tmp, path)


def fit_counseling(data: Path, limit: int | None = None, cache: Path | None = None) -> dict:
    """Fit the Counseling constants on real people.

    First the need-cue fidelity (maximum likelihood over the needs ESConv train seekers voice).
    Then, for each per-move structure in :data:`STRUCTURES` and each engagement floor on a grid,
    the scale that makes the train replays (real supporters against their own seekers)
    reproduce the real mean drop (bisection), and how well those replays rank the dialogues
    (Spearman with the real drops). Shipped: the first structure, with the highest floor within
    0.01 of its best Spearman; every row is recorded (``replay_grid``). At that floor,
    ``seeker_explains`` (:func:`fit_seeker_explains`, rows in ``seeker_explains_grid``), then
    premature advice (:func:`fit_premature`) and the distress unwanted advice adds
    (:func:`fit_unwanted_cost`), each with the scale that goes with it. The human-like scripted
    supporter's drop under the shipped constants is reported, with no target."""

    from dialogue_gym.simulators import esconv_replay
    from dialogue_gym.simulators.esconv_replay import read_split
    from dialogue_gym.simulators.seeker_needs import fit_fidelity

    if cache is not None and cache.exists():
        replays = pickle.loads(cache.read_bytes())[:limit]
    else:
        replays = read_split(data / "esconv/esconv_train.jsonl", limit)
        if cache is not None:
            cache.write_bytes(pickle.dumps(replays))
    real = np.array([r.drop for r in replays])
    fidelity = fit_fidelity([r.given["problem"] for r in replays], [r.voiced for r in replays])
    esconv_replay.REAL_CUE_FIDELITY = fidelity  # the replays read real seekers' words
    print(f"need-cue fidelity {fidelity}", flush=True)

    rows, best = fit_floors(replays, real)
    shipped = next(iter(STRUCTURES))
    for key, value in STRUCTURES[shipped].items():
        setattr(C, key.upper(), value)
    C.ENGAGEMENT_FLOOR = best["engagement_floor"]
    explains, explains_rows = fit_seeker_explains(replays, real)
    best |= {k: explains[k] for k in ("scale", "train_mean_drop", "train_spearman")}
    C.SCALE, C.SEEKER_EXPLAINS = explains["scale"], explains["seeker_explains"]
    premature, premature_rows = fit_premature(replays, real)
    best |= {k: premature[k] for k in ("scale", "train_mean_drop", "train_spearman")}
    C.SCALE, C.PREMATURE_BELOW = premature["scale"], premature["premature_below"]
    unwanted, unwanted_rows = fit_unwanted_cost(replays, real)
    best |= {k: unwanted[k] for k in ("scale", "train_mean_drop", "train_spearman")}
    C.SCALE, C.UNWANTED_COST = unwanted["scale"], unwanted["unwanted_cost"]
    C.HEARD_EASES_MISMATCH = unwanted["heard_eases_mismatch"]
    harmed = sum(r.play(REPLAY_DRAWS * i)[1].ended == "harmed" for i, r in enumerate(replays))
    return {
        "scale": best["scale"],
        "engagement_floor": best["engagement_floor"],
        "seeker_explains": C.SEEKER_EXPLAINS,
        "need_cue_fidelity": 1.0,
        **STRUCTURES[shipped],
        "premature_below": C.PREMATURE_BELOW,
        "unwanted_cost": C.UNWANTED_COST,
        "heard_eases_mismatch": C.HEARD_EASES_MISMATCH,
        "train_mean_drop": best["train_mean_drop"],
        "train_spearman": best["train_spearman"],
        "train_harmed": int(harmed),
        "human_like_mean_drop": human_like_drop(),
        "need_cue_fidelity_fit": fidelity,
        "voiced_share": round(float(np.mean([bool(r.voiced) for r in replays])), 4),
        "corpus_mean_drop": round(float(real.mean()), 4),
        "dialogues": len(replays),
        "replay_grid": rows,
        "seeker_explains_grid": explains_rows,
        "premature_grid": premature_rows,
        "unwanted_cost_grid": unwanted_rows,
    }


def fit_floors(replays: list, real: np.ndarray) -> tuple[list[dict], dict]:
    """For each per-move structure and engagement floor, the scale that reproduces the real mean
    drop and the train Spearman there (``seeker_explains`` 0); every row, and the shipped one:
    the first structure's highest floor within 0.01 of its best Spearman."""

    rows = []
    C.SEEKER_EXPLAINS = 0.0  # the floors are compared first, then it is fitted at the chosen one
    for name, structure in STRUCTURES.items():
        for key, value in structure.items():
            setattr(C, key.upper(), value)
        for floor in ENGAGEMENT_FLOORS:
            C.ENGAGEMENT_FLOOR = floor
            rows.append(fitted_row(replays, real, structure=name, engagement_floor=floor)[0])
    shipped = next(iter(STRUCTURES))
    mine = [r for r in rows if r["structure"] == shipped]
    top = max(r["train_spearman"] for r in mine)
    # the floors rank the dialogues alike (the data do not identify it): the highest floor within
    # 0.01 of the best, so that answering this seeker counts as much as the data allow
    best = dict(
        max(
            (r for r in mine if r["train_spearman"] >= top - 0.01),
            key=lambda r: r["engagement_floor"],
        )
    )  # a copy: the grid keeps its own row
    return rows, best


def fit_scale(replays: list, real: np.ndarray) -> tuple[float, np.ndarray]:
    """The scale at which the train replays reproduce the real mean drop (bisection), and each
    dialogue's simulated drop (mean of :data:`REPLAY_DRAWS` draws) there."""
    from dialogue_gym.simulators.esconv_replay import replay_drops

    lo, hi = 0.5, 20.0
    for _ in range(12):
        C.SCALE = (lo + hi) / 2
        sim = replay_drops(replays, REPLAY_DRAWS, 0).mean(1)
        lo, hi = (C.SCALE, hi) if sim.mean() < real.mean() else (lo, C.SCALE)
    return round(C.SCALE, 3), sim


def strategy_share(replay, strategies: tuple[str, ...]) -> float:
    """The share of a replay's supporter turns read as any of ``strategies``."""
    labels = [read[0] for read in replay.turns]
    return sum(any(m in strategies for m in lab) for lab in labels) / max(1, len(labels))


def fit_seeker_explains(replays: list, real: np.ndarray) -> tuple[dict, list[dict]]:
    """The ``seeker_explains`` of :data:`SEEKER_EXPLAINS` whose replays (scale refitted) give the
    drop the same dependence on the supporters' question share and reassurance/information share
    as the real drops: least-squares slopes, distance summed in squares of the real slopes'
    standard errors, among the values within 0.01 of the best train Spearman (ties: the smaller
    value). Returns the chosen row and every row."""
    from scipy.stats import linregress

    shares = {
        name: np.array([strategy_share(r, s) for r in replays])
        for name, s in (("questions", ASKING), ("telling", TELLING))
    }
    target = {name: linregress(x, real) for name, x in shares.items()}
    rows = []

    def distance(sim: np.ndarray) -> dict[str, float]:
        slopes = {name: float(linregress(x, sim).slope) for name, x in shares.items()}
        gap = sum(((slopes[k] - t.slope) / t.stderr) ** 2 for k, t in target.items())
        return {**{f"slope_{k}": round(v, 4) for k, v in slopes.items()}, "distance": round(gap, 4)}

    for value in SEEKER_EXPLAINS:
        C.SEEKER_EXPLAINS = value
        rows.append(fitted_row(replays, real, distance, seeker_explains=value)[0])
    top = max(r["train_spearman"] for r in rows)
    best = min(
        (r for r in rows if r["train_spearman"] >= top - 0.01),
        key=lambda r: (r["distance"], r["seeker_explains"]),
    )
    return best, [real_slopes(target), *rows]


def fit_premature(replays: list, real: np.ndarray) -> tuple[dict, list[dict]]:
    """Advice before exploration backfires (Hill 2009; a rule of the design): the threshold
    :data:`PREMATURE_AT` ships unless the replays veto it, that is unless, with the scale
    refitted, they rank the dialogues more than 0.01 worse (train Spearman) than without it.
    Each row also records how the replayed drop depends on the supporters' mean engagement and on
    the entropy of their strategies, beside the real slopes (measured, not targeted). Returns
    the chosen row and every row."""
    from scipy.stats import linregress

    signals = {"engagement": np.array([mean_engagement(r) for r in replays])}
    signals["entropy"] = np.array([strategy_entropy(r) for r in replays])
    target = {name: linregress(x, real) for name, x in signals.items()}
    rows = []

    def slopes(sim: np.ndarray) -> dict[str, float]:
        return {f"slope_{k}": round(float(linregress(x, sim).slope), 4) for k, x in signals.items()}

    for value in (0.0, PREMATURE_AT):
        C.PREMATURE_BELOW = value
        rows.append(fitted_row(replays, real, slopes, premature_below=value)[0])
    off, on = rows
    best = on if on["train_spearman"] >= off["train_spearman"] - 0.01 else off
    return best, [real_slopes(target), *rows]


def fit_unwanted_cost(replays: list, real: np.ndarray) -> tuple[dict, list[dict]]:
    """Advice or information the seeker did not want adds no distress (the one experiment we know
    that measured distress after such support against none, Batenburg & Das 2014, found none; its
    costs are in how advice is judged): a cost of 0 ships unless the replays reject it, that is
    unless, with the scale refitted, they rank the dialogues worse (train Spearman) than with the
    written cost (eased by feeling heard, :data:`HEARD_EASES_AT`) in at least 95% of paired
    resamples of the dialogues (:func:`~dialogue_gym.stats.spearman_gap`). A size from an
    experiment yields to evidence, not to a difference the replays cannot tell from noise (the
    0.01 margin of the other stages is about half the standard error of such a difference). The
    written cost without easing is recorded beside them, not a candidate. Each row also records
    the slope of the replayed drop on the supporters' reassurance/information/suggestion share,
    beside the real one (a correlation in the corpus, measured, not targeted). Returns the chosen
    row and every row."""
    from scipy.stats import linregress

    telling = np.array([strategy_share(r, TELLING) for r in replays])

    def slope(sim: np.ndarray) -> dict[str, float]:
        return {"slope_telling": round(float(linregress(telling, sim).slope), 4)}

    rows, sims = [], []
    for cost, eases in ((0.0, HEARD_EASES_AT), (1.0, HEARD_EASES_AT), (1.0, 0.0)):
        C.UNWANTED_COST, C.HEARD_EASES_MISMATCH = cost, eases
        row, sim = fitted_row(replays, real, slope, unwanted_cost=cost, heard_eases_mismatch=eases)
        rows.append(row)
        sims.append(sim)
    gap = spearman_gap(sims[0], sims[1], real)
    rows[0] |= gap
    best = rows[0] if gap["share_worse"] < 0.95 else rows[1]
    return best, [real_slopes({"telling": linregress(telling, real)}), *rows]


def fitted_row(
    replays: list, real: np.ndarray, extra: Any = None, **fields: Any
) -> tuple[dict, np.ndarray]:
    """Refit the scale under the constants as they are now set (:func:`fit_scale`) and the
    grid row that records it: ``fields``, the scale, the train mean drop and Spearman, and what
    ``extra(sim)`` adds; printed as it comes. Also each dialogue's simulated drop."""
    from scipy.stats import spearmanr

    scale, sim = fit_scale(replays, real)
    row = {
        **fields,
        "scale": scale,
        "train_mean_drop": round(float(sim.mean()), 4),
        "train_spearman": round(float(spearmanr(sim, real).statistic), 4),
        **(extra(sim) if extra else {}),
    }
    print(json.dumps(row), flush=True)
    return row, sim


def real_slopes(target: dict[str, Any]) -> dict[str, float]:
    """The real drops' least-squares slopes on each signal, with their standard errors."""
    row = {f"real_slope_{k}": round(float(t.slope), 4) for k, t in target.items()}
    return row | {f"real_slope_{k}_se": round(float(t.stderr), 4) for k, t in target.items()}


def mean_engagement(replay) -> float:
    """The mean engagement of a replay's read turns (the corpus median where none was read)."""
    values = [read[1]["engagement"] for read in replay.turns if "engagement" in read[1]]
    return float(np.mean(values)) if values else C.ENGAGEMENT_REF


def strategy_entropy(replay) -> float:
    """The entropy (nats) of the strategies a replay's supporter turns were read as."""
    moves = [m for read in replay.turns for m in read[0] if m != "Others"]
    if not moves:
        return 0.0
    p = np.unique(moves, return_counts=True)[1] / len(moves)
    return float(-(p * np.log(p)).sum())


def human_like_drop() -> float:
    """The human-like scripted supporter's mean drop under the current constants (reported)."""
    import gymnasium as gym

    from dialogue_gym.agents.scripted import HUMAN_LIKE_NOISE, ScriptedAgent
    from dialogue_gym.rollout import play_episodes

    env = gym.make("Counseling-v0")
    agent = ScriptedAgent("counseling", noise=HUMAN_LIKE_NOISE)
    return round(
        float(np.mean([e.reward for e in play_episodes(env, agent, CALIBRATION_SEEDS)])), 4
    )


def main() -> None:
    """Fit the constants of both simulators and write them with the train figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data", type=Path, default=None, help="default: $DIALOGUE_GYM_DATA, else ../shared/data"
    )
    parser.add_argument("--only", choices=("persuasion", "counseling"), default=None)
    parser.add_argument("--limit", type=int, default=None, help="ESConv train dialogues used")
    parser.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="pickle of the read ESConv replays: written on the first run, read after "
        "(refits of the dynamics skip the reading; delete it when the reader changes)",
    )
    args = parser.parse_args()
    args.data = require_data_dir(args.data)
    if args.only != "persuasion":
        counseling = fit_counseling(args.data, args.limit, args.cache)
        _write("counseling_outcome", counseling)
        print("counseling:", json.dumps(counseling), flush=True)
    if args.only == "counseling":
        return
    dialogues = p4g_dialogues(args.data, "train")
    real = np.array([min(2.0, float(d["reward"])) for d in dialogues])
    zero, mean = float((real == 0).mean()), float(real.mean())
    turns = read_turns(dialogues)
    # each dialogue's persuadee: its survey answers, latent attributes drawn (seed = its index)
    personas = [
        sample_persuasion_persona(np.random.default_rng(i), d["persona"])
        for i, d in enumerate(dialogues)
    ]
    # the ask effect first, under the shipped constants (it barely depends on them), then the grid
    no_ask = fit_no_ask(personas, turns)
    rows = [
        fit_row(personas, turns, real, w, a)
        for w, a in itertools.product(PRIOR_WEIGHTS, AMOUNT_SCALES)
    ]
    close = [r for r in rows if abs(r["train_mean"] - mean) <= 0.02] or rows
    top = max(r["train_auc"] for r in close)
    best = min(
        (r for r in close if r["train_auc"] >= top - 0.01),
        key=lambda r: (r["prior_weight"], abs(r["train_mean"] - mean)),
    )
    replay(personas, turns, best["prior_weight"], best["baseline"], best["amount_scale"])
    best["no_ask"] = no_ask
    best["train_ask_ratio"] = round(ask_ratio(personas, turns), 4)
    best |= {"corpus_share_zero": round(zero, 4), "corpus_mean": round(mean, 4)}
    _write("persuasion_outcome", best)
    print("persuasion:", json.dumps(best))


if __name__ == "__main__":
    main()
