"""Real people behind the corpus dialogues, as personas the environments accept.

PersuasionForGood: each dialogue of ``p4g/train.json`` / ``test.json`` is matched to its corpus
dialogue id (``B2``) by its normalized full text (exact and one-to-one), and its persuadee's
pre-task survey (``p4g/corpus/full_info.csv``, role ``B4 == 1``) becomes
``{"traits": {...}, "demographics": {...}}`` for ``env.reset(options={"persona": ...})``; answers
the survey left blank are simply not given (the sampler draws them conditioned on the rest).
Donations above $2 are clipped to $2, as in the JSON files' own rewards.

ESConv: each dialogue's seeker gives ``problem``, ``emotion`` and ``intensity`` (the initial
emotion intensity); the real drop is initial minus final intensity.
"""

from __future__ import annotations

import collections
import csv
import json
import re
from pathlib import Path
from typing import Any

from ..errors import InvalidData

SCALES = {
    # corpus column: (trait name, low, high)
    "extrovert.x": ("extraversion", 1, 5),
    "agreeable.x": ("agreeableness", 1, 5),
    "conscientious.x": ("conscientiousness", 1, 5),
    "neurotic.x": ("neuroticism", 1, 5),
    "open.x": ("openness", 1, 5),
    "care.x": ("care", 1, 6),
    "fairness.x": ("fairness", 1, 6),
    "loyalty.x": ("loyalty", 1, 6),
    "authority.x": ("authority", 1, 6),
    "purity.x": ("purity", 1, 6),
    "freedom.x": ("freedom", 1, 6),
    "conform.x": ("conformity", 1, 6),
    "tradition.x": ("tradition", 1, 6),
    "benevolence.x": ("benevolence", 1, 6),
    "universalism.x": ("universalism", 1, 6),
    "self_direction.x": ("self_direction", 1, 6),
    "stimulation.x": ("stimulation", 1, 6),
    "hedonism.x": ("hedonism", 1, 6),
    "achievement.x": ("achievement", 1, 6),
    "power.x": ("power", 1, 6),
    "security.x": ("security", 1, 6),
    "rational.x": ("rational", 1, 5),
    "intuitive.x": ("intuitive", 1, 5),
    "age.x": ("age", 18, 80),
    "income.x": ("income", 1, 12),
}
CATEGORIES = {
    "sex.x": "sex",
    "edu.x": "education",
    "marital.x": "marital",
    "employment.x": "employment",
    "religion.x": "religion",
    "ideology.x": "ideology",
    "race.x": "race",
}


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())[:300]


def _corpus_ids_by_text(data: Path) -> dict[str, str]:
    units: dict[str, list[str]] = collections.defaultdict(list)
    with open(data / "p4g/corpus/full_dialog.csv", newline="") as f:
        for row in csv.DictReader(f):
            units[row["B2"]].append(row["Unit"])
    return {_norm(" ".join(s)): b2 for b2, s in units.items()}


def survey_rows(data: Path) -> dict[str, dict[str, str]]:
    """The persuadee's ``full_info.csv`` row for every corpus dialogue id."""
    with open(data / "p4g/corpus/full_info.csv", newline="") as f:
        return {r["B2"]: r for r in csv.DictReader(f) if r["B4"] == "1"}


def survey_persona(row: dict[str, str]) -> dict[str, Any]:
    """A persona fragment from one persuadee's survey answers (blank answers left out)."""
    traits = {
        name: float(row[col]) for col, (name, _, _) in SCALES.items() if row[col] not in ("", "NA")
    }
    demographics = {
        name: row[col] for col, name in CATEGORIES.items() if row[col] not in ("", "NA")
    }
    return {"traits": traits, "demographics": demographics}


def p4g_dialogues(data: Path, split: str) -> list[dict[str, Any]]:
    """``p4g/{split}.json`` dialogues with ``b2`` (corpus id) and ``persona`` (the persuadee's
    survey, for ``reset(options={"persona": ...})``) added."""
    if split not in ("train", "test"):
        raise InvalidData(f"unknown P4G split {split!r}; allowed: train, test")
    data = Path(data)
    by_text = _corpus_ids_by_text(data)
    rows = survey_rows(data)
    out = []
    for d in json.loads((data / "p4g" / f"{split}.json").read_text()):
        b2 = by_text.get(_norm(" ".join(d["conversation"])))
        if b2 is None or b2 not in rows:
            raise InvalidData(f"P4G {split} dialogue {d['id']} has no corpus match")
        out.append(d | {"b2": b2, "persona": survey_persona(rows[b2])})
    if len({d["b2"] for d in out}) != len(out):
        raise InvalidData(f"P4G {split} dialogues do not match corpus ids one-to-one")
    return out


def esconv_seekers(path: Path) -> list[dict[str, Any]]:
    """ESConv dialogues with ``persona`` (problem, emotion, initial intensity) and ``drop``."""
    out = []
    with open(path) as f:
        for line in f:
            d = json.loads(line)
            seeker = d["survey_score"]["seeker"]
            initial = int(seeker["initial_emotion_intensity"])
            final = seeker.get("final_emotion_intensity")
            persona = {"problem": d["problem_type"], "emotion": d["emotion_type"]}
            out.append(
                d
                | {
                    "persona": persona | {"intensity": initial},
                    "drop": initial - int(final) if final else None,
                }
            )
    return out


def supporter_turns(dialog: list[dict]) -> list[str]:
    """An ESConv dialogue's supporter utterances, consecutive ones joined into one agent turn."""
    turns: list[str] = []
    last = None
    for t in dialog:
        if t["speaker"] == "sys":
            if last == "sys":
                turns[-1] += " " + t["text"]
            else:
                turns.append(t["text"])
        last = t["speaker"]
    return turns


def esconv_exchanges(dialog: list[dict]) -> list[tuple[list[str], str]]:
    """Each supporter turn (consecutive utterances joined, as in :func:`supporter_turns`) with
    everything the seeker had said before it (consecutive seeker utterances joined likewise)."""
    blocks: list[tuple[str, list[str]]] = []
    for t in dialog:
        if blocks and blocks[-1][0] == t["speaker"]:
            blocks[-1][1].append(t["text"])
        else:
            blocks.append((t["speaker"], [t["text"]]))
    seeker: list[str] = []
    out: list[tuple[list[str], str]] = []
    for speaker, texts in blocks:
        if speaker == "sys":
            out.append((list(seeker), " ".join(texts)))
        else:
            seeker.append(" ".join(texts))
    return out
