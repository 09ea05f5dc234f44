"""Fit the corpus strategy mix: how often real persuaders and supporters make each move, by turn.

The shipped strategy reader (the one the envs read every agent turn with) reads the persuader
turns of the 817 ``p4g/train.json`` dialogues and the supporter turns of the ESConv train
dialogues (consecutive supporter utterances joined into one turn, as the replays do). A turn
read as k strategies adds 1/k to each. For each of the first :data:`TURNS` agent turns, the
share of each strategy is written to ``simulators/params/corpus_strategy_mix.json``, with the
overall shares, the entropy and the counts. No smoothing: a move real people never make at a
turn keeps probability 0 there (the ``corpus-mix`` behaviour policy is meant to under-use what
people under-use). Test splits are not read.

Usage: ``python scripts/fit_strategy_mix.py [--data DIR]`` (a few minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

from dialogue_gym.data_paths import require_data_dir
from dialogue_gym.simulators.classifier import get_classifier
from dialogue_gym.simulators.corpus_personas import esconv_seekers, supporter_turns
from dialogue_gym.simulators.strategies import get_domain

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "simulators" / "params" / "corpus_strategy_mix.json"
TURNS = 10
"""Agent turns with their own row (the envs' default ``max_turns``); later turns use the last."""


def agent_turns(data: Path, domain: str) -> list[list[str]]:
    """Each train dialogue's agent turns, in order."""
    if domain == "persuasion":
        dialogues = json.loads((data / "p4g" / "train.json").read_text())
        return [d["conversation"][0::2] for d in dialogues]
    rows = esconv_seekers(data / "esconv" / "esconv_train.jsonl")
    return [supporter_turns(d["dialog"]) for d in rows if d.get("dialog")]


def mix(domain: str, dialogues: list[list[str]]) -> dict:
    """Strategy shares per turn and overall, as the shipped reader reads the turns."""
    names = get_domain(domain).strategies
    clf = get_classifier(domain)
    counts = np.zeros((TURNS, len(names)))
    for turns in dialogues:
        for t, text in enumerate(turns):
            labels = clf.classify(text)
            for label in labels:
                counts[min(t, TURNS - 1), names.index(label)] += 1 / len(labels)
    shares = counts / counts.sum(1, keepdims=True)
    overall = counts.sum(0) / counts.sum()
    nz = overall[overall > 0]
    return {
        "strategies": list(names),
        "by_turn": np.round(shares, 5).tolist(),
        "overall": np.round(overall, 5).tolist(),
        "entropy_nats": round(float(-(nz * np.log(nz)).sum()), 4),
        "dialogues": len(dialogues),
        "turns_read": int(round(counts.sum())),
    }


def main() -> None:
    """Read both corpora's train turns and write the mix."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=None, help="the corpora (../shared/data)")
    data = require_data_dir(parser.parse_args().data)
    out = {"source": "p4g/train.json and esconv/esconv_train.jsonl, read by the shipped reader"}
    out["turns"] = TURNS
    for domain in ("persuasion", "counseling"):
        out[domain] = mix(domain, agent_turns(data, domain))
        print(domain, json.dumps({k: v for k, v in out[domain].items() if k != "by_turn"}))
    tmp = OUT.with_suffix(".tmp")
    tmp.write_text(json.dumps(out, indent=1) + "\n")
    os.replace(tmp, OUT)


if __name__ == "__main__":
    main()
