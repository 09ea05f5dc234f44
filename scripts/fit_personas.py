"""Fit the persona samplers' parameters from the real corpora (fitting splits only).

Writes ``persuasion_persona.json`` and ``counseling_persona.json`` in ``simulators/params/``.
The data stay in ``../shared/data``; only fitted summary parameters are shipped.

Persuasion (PersuasionForGood, ``p4g/corpus/full_info.csv``): persuadees (role ``B4 == 1``) of the
817 dialogues of ``p4g/train.json`` only. ``train.json`` carries its own ids, so each of its
dialogues is matched to a corpus dialogue id (``B2``) by its normalized full text (an exact,
one-to-one match for all 817). Donations above $2 (26 rows, up to 700) are clipped to $2, as in
``train.json``'s own rewards. Saved: the mean, covariance and range of the survey scales (MVN
sampler, clipped to each scale's range), category frequencies of the demographics, the donation
amounts of donors, the Spearman correlation of each trait with the donation, and a ridge logistic
regression of "donated > 0" on the standardized traits and one-hot demographics (the persona's
prior inclination; its ridge strength is the one with the best 5-fold cross-validated AUC on the
train persuadees: 0.675 with demographics against 0.655 with the traits alone).

Counseling (ESConv, ``esconv/esconv_train.jsonl`` only): the joint counts of problem type, emotion
type and initial emotion intensity, and the observed intensity drops.

Usage: ``python scripts/fit_personas.py [--data DIR]``
"""

from __future__ import annotations

import argparse
import collections
import csv
import json
import os
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score

from dialogue_gym.data_paths import require_data_dir
from dialogue_gym.simulators.corpus_personas import CATEGORIES, SCALES, p4g_dialogues

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "simulators" / "params"
RIDGE_GRID = (0.003, 0.01, 0.02, 0.05, 0.1, 0.3, 1.0)  # inverse ridge strengths tried (C)


def train_dialogue_ids(data: Path) -> set[str]:
    """Corpus ids (B2) of the dialogues in ``p4g/train.json``, matched by normalized text."""
    return {d["b2"] for d in p4g_dialogues(data, "train")}


def fit_persuasion(data: Path) -> dict:
    """Fit the persuadee persona sampler on the train split's persuadees."""
    ids = train_dialogue_ids(data)
    with open(data / "p4g/corpus/full_info.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["B4"] == "1" and r["B2"] in ids]
    donation = np.array([min(float(r["B6"]), 2.0) for r in rows])
    clipped = int(sum(float(r["B6"]) > 2.0 for r in rows))

    def num(r: dict, c: str) -> float:
        return float(r[c]) if r[c] not in ("", "NA") else np.nan

    x = np.array([[num(r, c) for c in SCALES] for r in rows])
    complete = ~np.isnan(x).any(axis=1)
    xc, dc = x[complete], donation[complete]
    names = [SCALES[c][0] for c in SCALES]
    mean, std = xc.mean(axis=0), xc.std(axis=0)
    cov = np.cov(xc, rowvar=False)

    correlations = {}
    for j, name in enumerate(names):
        rho, p = spearmanr(xc[:, j], dc)
        correlations[name] = {"spearman": round(float(rho), 4), "p": round(float(p), 5)}

    categories = {}
    for col, name in CATEGORIES.items():
        counts = collections.Counter(r[col] for r in rows if r[col] not in ("", "NA"))
        total = sum(counts.values())
        categories[name] = {k: round(v / total, 4) for k, v in counts.most_common()}
    # one-hot demographics (a missing answer is all zeros) beside the standardized traits
    onehot = [(col, name, v) for col, name in CATEGORIES.items() for v in categories[name]]
    complete_rows = [r for r, ok in zip(rows, complete, strict=True) if ok]
    d1 = np.array([[float(r[col] == v) for col, _, v in onehot] for r in complete_rows])
    z = np.hstack([(xc - mean) / std, d1])
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    cv = {
        c: float(
            cross_val_score(
                LogisticRegression(C=c, max_iter=3000), z, dc > 0, cv=folds, scoring="roc_auc"
            ).mean()
        )
        for c in RIDGE_GRID
    }
    ridge_c = max(cv, key=cv.get)
    lr = LogisticRegression(C=ridge_c, max_iter=3000).fit(z, dc > 0)
    trait_coef = lr.coef_[0][: len(names)]
    demo_coef: dict[str, dict[str, float]] = {name: {} for name in CATEGORIES.values()}
    for (_, name, v), c in zip(onehot, lr.coef_[0][len(names) :], strict=True):
        demo_coef[name][v] = round(float(c), 5)
    amounts = collections.Counter(round(float(d), 2) for d in donation if d > 0)
    return {
        "source": "PersuasionForGood full_info.csv, persuadees of the 817 train.json dialogues",
        "n_participants": len(rows),
        "n_complete": int(complete.sum()),
        "donations_clipped_to_2": clipped,
        "share_zero": round(float((donation == 0).mean()), 4),
        "mean_donation": round(float(donation.mean()), 4),
        "traits": names,
        "low": [SCALES[c][1] for c in SCALES],
        "high": [SCALES[c][2] for c in SCALES],
        "mean": mean.round(5).tolist(),
        "std": std.round(5).tolist(),
        "cov": cov.round(6).tolist(),
        "categories": categories,
        "donor_amounts": {str(k): v for k, v in sorted(amounts.items())},
        "corpus_correlations": correlations,
        "propensity": {
            "intercept": round(float(lr.intercept_[0]), 5),
            "coef": dict(zip(names, trait_coef.round(5).tolist(), strict=True)),
            "demographics": demo_coef,
            "ridge_C": ridge_c,
            "cv_auc": round(cv[ridge_c], 4),
        },
    }


def fit_counseling(data: Path) -> dict:
    """Fit the help-seeker persona sampler on ESConv's train split."""
    rows = [json.loads(line) for line in open(data / "esconv/esconv_train.jsonl")]
    joint = collections.Counter()
    drops = collections.Counter()
    for r in rows:
        seeker = r["survey_score"]["seeker"]
        initial = int(seeker["initial_emotion_intensity"])
        joint[(r["problem_type"], r["emotion_type"], initial)] += 1
        if seeker.get("final_emotion_intensity"):
            drops[initial - int(seeker["final_emotion_intensity"])] += 1
    n_drop = sum(drops.values())
    return {
        "source": "ESConv esconv_train.jsonl (910 dialogues)",
        "n_dialogues": len(rows),
        "joint": [[p, e, i, c] for (p, e, i), c in sorted(joint.items())],
        "intensity_drop": {str(k): v for k, v in sorted(drops.items())},
        "mean_intensity_drop": round(sum(k * v for k, v in drops.items()) / n_drop, 4),
    }


def _write(path: Path, obj: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(obj, indent=1) + "\n")
    os.replace(tmp, path)


def main() -> None:
    """Fit both samplers and write their parameter files."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data", type=Path, default=None, help="default: $DIALOGUE_GYM_DATA, else ../shared/data"
    )
    args = parser.parse_args()
    args.data = require_data_dir(args.data)
    OUT.mkdir(parents=True, exist_ok=True)
    p = fit_persuasion(args.data)
    _write(OUT / "persuasion_persona.json", p)
    c = fit_counseling(args.data)
    _write(OUT / "counseling_persona.json", c)
    print(
        f"persuasion: {p['n_participants']} persuadees, share $0 {p['share_zero']}, "
        f"mean ${p['mean_donation']}; counseling: {c['n_dialogues']} dialogues, "
        f"mean drop {c['mean_intensity_drop']}"
    )


if __name__ == "__main__":
    main()
