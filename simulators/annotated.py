"""Strategy-annotated real text and its fixed splits (for fitting and scoring the reader).

Persuasion: persuader sentences of ``p4g/corpus/annotated_300_dialog.csv``. Corpus labels map onto
the taxonomy: the 10 strategies as they are; ``proposition-of-donation``, ``ask-donation-amount``,
``ask-donate-more``, ``confirm-donation`` -> ``proposition-of-donation``; every other act
(greeting, thanks, acknowledgement, small talk...) -> ``non-strategy``. Dialogue ids sorted: the
first 160 fit, 161-200 tune, the last 100 are scored only (the held-out split).
Counseling: supporter turns of ``esconv/esconv_{train,valid,test}.jsonl`` with their strategy.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from ..errors import InvalidData
from .strategies import get_domain

ASK = {"proposition-of-donation", "ask-donation-amount", "ask-donate-more", "confirm-donation"}
P4G_FIT, P4G_TUNE = 160, 200  # sorted dialogue ids [0, 160) fit, [160, 200) tune, rest held out


def p4g_units(data: Path) -> list[dict]:
    """Persuader sentence units: ``{"dialogue", "turn", "text", "label", "act"}`` (``act``: the
    corpus's own label), file order."""
    strategies = set(get_domain("persuasion").strategies)
    out = []
    with open(Path(data) / "p4g/corpus/annotated_300_dialog.csv", newline="") as f:
        for r in csv.DictReader(f):
            if r["B4"] != "0" or not r["Unit"].strip():
                continue
            label = r["er_label_1"]
            if label in ASK:
                label = "proposition-of-donation"
            elif label not in strategies:
                label = "non-strategy"
            out.append(
                {
                    "dialogue": r["B2"],
                    "turn": r["Turn"],
                    "text": r["Unit"],
                    "label": label,
                    "act": r["er_label_1"],
                }
            )
    return out


def p4g_split(units: list[dict], split: str) -> list[dict]:
    """The units of ``split``: "fit" (first 160 ids), "tune" (161-200) or "held-out" (rest)."""
    ids = sorted({u["dialogue"] for u in units})
    bounds = {"fit": (0, P4G_FIT), "tune": (P4G_FIT, P4G_TUNE), "held-out": (P4G_TUNE, len(ids))}
    if split not in bounds:
        raise InvalidData(f"unknown P4G split {split!r}; allowed: {', '.join(bounds)}")
    lo, hi = bounds[split]
    keep = set(ids[lo:hi])
    return [u for u in units if u["dialogue"] in keep]


def esconv_turns(path: Path) -> list[tuple[str, str]]:
    """(supporter text, strategy) of every supporter turn in an ESConv .jsonl file."""
    out = []
    with open(path) as f:
        for line in f:
            for t in json.loads(line)["dialog"]:
                if t["speaker"] == "sys" and t.get("strategy") and t["text"].strip():
                    out.append((t["text"], t["strategy"]))
    return out
