"""Load the real corpora into :class:`~dialogue_gym.episode.Episode` objects.

- PersuasionForGood, as the JSON lists (``{"id", "conversation", "reward"}``; persuader at even
  indices) and as the corpus release's CSVs (``full_dialog.csv`` sentences grouped into turns;
  the donation from ``full_info.csv``, clipped to $2; strategy labels from
  ``annotated_300_dialog.csv`` where the dialogue has them, mapped onto the taxonomy).
- ESConv, in the per-line form (``text``/``speaker: usr|sys``/``strategy``) and in the original
  single-file ``ESConv.json`` form (``content``/``speaker: seeker|supporter``/
  ``annotation.strategy``). The reward is the intensity drop; ``None`` where the survey has no
  final intensity.

Loaded episodes have ``env_id`` Persuasion-v0 / Counseling-v0 and ``provenance`` naming the file
and the corpus's own id.
"""

from __future__ import annotations

import collections
import csv
import json
from pathlib import Path
from typing import Any

from .domains import domain_named
from .episode import Episode, Turn

P4G_ASK = {"proposition-of-donation", "ask-donation-amount", "ask-donate-more", "confirm-donation"}


def _p4g_label(label: str) -> str | None:
    from .simulators.strategies import PERSUASION_STRATEGIES

    if not label:
        return None
    if label in P4G_ASK:
        return "proposition-of-donation"
    return label if label in PERSUASION_STRATEGIES else "non-strategy"


def load_p4g_json(path: str | Path) -> list[Episode]:
    """PersuasionForGood in the JSON-list form (e.g. ``p4g/train.json``)."""
    path = Path(path)
    episodes = []
    for i, d in enumerate(json.loads(path.read_text())):
        turns = [
            Turn("assistant" if j % 2 == 0 else "user", str(text))
            for j, text in enumerate(d["conversation"])
        ]
        source_id = str(d.get("id", i))
        raw = float(d["reward"])
        episodes.append(
            Episode(
                id=f"p4g:{path.stem}:{source_id}",
                env_id=domain_named("persuasion").env_id,
                turns=turns,
                reward=min(max(raw, 0.0), 2.0),
                outcome={"donation": min(max(raw, 0.0), 2.0), "raw_reward": raw},
                provenance={"source": str(path.name), "source_id": source_id},
            )
        )
    return episodes


def load_p4g_corpus(folder: str | Path) -> list[Episode]:
    """PersuasionForGood from the release's CSVs in ``folder`` (``p4g/corpus``)."""
    folder = Path(folder)
    sentences: dict[str, list[tuple[int, int, str]]] = collections.defaultdict(list)
    with open(folder / "full_dialog.csv", newline="") as f:
        for r in csv.DictReader(f):
            sentences[r["B2"]].append((int(r["Turn"]), int(r["B4"]), r["Unit"]))
    donation = {}
    with open(folder / "full_info.csv", newline="") as f:
        for r in csv.DictReader(f):
            if r["B4"] == "1":
                donation[r["B2"]] = float(r["B6"])
    labels: dict[str, dict[int, list[str]]] = collections.defaultdict(dict)
    annotated = folder / "annotated_300_dialog.csv"
    if annotated.exists():
        with open(annotated, newline="") as f:
            for r in csv.DictReader(f):
                label = _p4g_label(r["er_label_1"]) if r["B4"] == "0" else None
                if label:
                    turn_labels = labels[r["B2"]].setdefault(int(r["Turn"]), [])
                    if label not in turn_labels:
                        turn_labels.append(label)
    episodes = []
    for b2 in sorted(sentences):
        turns: list[Turn] = []
        key: tuple[int, int] | None = None
        for turn_no, role_no, text in sentences[b2]:
            role = "assistant" if role_no == 0 else "user"
            if key == (turn_no, role_no):
                turns[-1].text += " " + text
            else:
                turns.append(Turn(role, text))
                key = (turn_no, role_no)
            if role == "assistant":
                turns[-1].strategies = list(labels.get(b2, {}).get(turn_no, []))
        raw = donation.get(b2)
        reward = None if raw is None else min(max(raw, 0.0), 2.0)
        episodes.append(
            Episode(
                id=f"p4g:{b2}",
                env_id=domain_named("persuasion").env_id,
                turns=turns,
                reward=reward,
                outcome={"donation": reward, "raw_reward": raw, "annotated": b2 in labels},
                provenance={"source": "p4g corpus CSV", "source_id": b2},
            )
        )
    return episodes


def _esconv_episode(d: dict[str, Any], source: str, index: int) -> Episode:
    turns = []
    for t in d["dialog"]:
        speaker = t["speaker"]
        role = "assistant" if speaker in ("sys", "supporter") else "user"
        text = t.get("text", t.get("content", ""))
        strategy = t.get("strategy") or (t.get("annotation") or {}).get("strategy")
        turns.append(
            Turn(role, str(text).strip(), [strategy] if role == "assistant" and strategy else [])
        )
    seeker = d.get("survey_score", {}).get("seeker", {})
    initial = seeker.get("initial_emotion_intensity")
    final = seeker.get("final_emotion_intensity")
    initial_i = int(initial) if initial not in (None, "") else None
    final_i = int(final) if final not in (None, "") else None
    reward = float(initial_i - final_i) if initial_i is not None and final_i is not None else None
    return Episode(
        id=f"esconv:{source}:{index}",
        env_id=domain_named("counseling").env_id,
        turns=turns,
        reward=reward,
        outcome={
            "initial_intensity": initial_i,
            "final_intensity": final_i,
            "problem_type": d.get("problem_type"),
            "emotion_type": d.get("emotion_type"),
            "situation": d.get("situation"),
        },
        provenance={"source": source, "source_id": str(index)},
    )


def load_esconv_jsonl(path: str | Path) -> list[Episode]:
    """ESConv in the per-line form (e.g. ``esconv/esconv_train.jsonl``)."""
    path = Path(path)
    with open(path) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return [_esconv_episode(d, path.stem, i) for i, d in enumerate(rows)]


def load_esconv_json(path: str | Path) -> list[Episode]:
    """ESConv in the original single-file ``ESConv.json`` form (a JSON list)."""
    path = Path(path)
    return [_esconv_episode(d, path.stem, i) for i, d in enumerate(json.loads(path.read_text()))]


def load_all(data_dir: str | Path) -> dict[str, list[Episode]]:
    """Every dialogue of ``data_dir`` (``../shared/data``): P4G (train + test) and ESConv."""
    data_dir = Path(data_dir)
    p4g = load_p4g_json(data_dir / "p4g/train.json") + load_p4g_json(data_dir / "p4g/test.json")
    esconv = []
    for split in ("train", "valid", "test"):
        esconv += load_esconv_jsonl(data_dir / f"esconv/esconv_{split}.jsonl")
    return {"p4g": p4g, "esconv": esconv}
