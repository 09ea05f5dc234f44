"""Held-out accuracy of the learned reward model (issue 15, point 1).

Simulated: fitted on ``--train`` human-like episodes per env (seeds 0...), scored on ``--test``
episodes from held-out seeds (1,000,000...). Real (where the data are found, see
``dialogue_gym.data_paths``): fitted on p4g/train.json, scored on p4g/test.json; ESConv train ->
test. Each row: AUC of the score for success (a donation; a drop of 2 or a final intensity of 2 or
less), MAE beside the MAE of a constant guess (the training mean), bias, Pearson correlation, and
for Persuasion the Brier score (beside the constant's) and the calibration error of
P(donation > 0); for ESConv the initial-intensity reader's MAE beside the constant's.

Usage: ``python benchmarks/bench_learned_reward.py [--encoder minilm] [--train 600 --test 300]``
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

from dialogue_gym.data_paths import missing_files, resolve_data_dir
from dialogue_gym.generate import generate
from dialogue_gym.hindsight.learned_reward import LearnedRewardModel
from dialogue_gym.jsonl import read_episodes
from dialogue_gym.loaders import load_esconv_jsonl, load_p4g_json

KEYS = (
    "n",
    "auc",
    "mae",
    "mae_constant",
    "bias",
    "corr",
    "brier",
    "brier_constant",
    "ece",
    "initial_intensity_mae",
    "initial_intensity_mae_constant",
)


def row(name: str, scores: dict[str, float], seconds: float) -> str:
    """One Markdown row."""
    cells = [f"{scores[k]:.3f}" if k in scores else "" for k in KEYS]
    return f"| {name} | " + " | ".join(cells) + f" | {seconds:.0f} |"


def main() -> None:
    """Fit and score on simulated and real data; print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--encoder", default="minilm")
    parser.add_argument("--train", type=int, default=600)
    parser.add_argument("--test", type=int, default=300)
    parser.add_argument("--data", default=None, help="real data folder (default: see data_paths)")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; encoder {args.encoder}")
    print("| data | " + " | ".join(KEYS) + " | s |")
    print("|" + " --- |" * (len(KEYS) + 2))
    with tempfile.TemporaryDirectory() as tmp:
        for env_id in ("Persuasion-v0", "Counseling-v0"):
            t = time.time()
            train, test = Path(tmp) / f"{env_id}.train", Path(tmp) / f"{env_id}.test"
            generate(env_id, "human-like", args.train, train, seed=0, progress=False)
            generate(env_id, "human-like", args.test, test, seed=1_000_000, progress=False)
            model = LearnedRewardModel.fit(read_episodes(train)[0], encoder=args.encoder)
            scores = model.evaluate(read_episodes(test)[0])
            print(row(f"{env_id} simulated (held-out seeds)", scores, time.time() - t), flush=True)
    data, _ = resolve_data_dir(args.data)
    if missing_files(data):
        print(f"real data not found at {data}: skipped (see the README's 'Real data')")
        return
    for name, loader, tr, te in (
        ("P4G train -> test", load_p4g_json, "p4g/train.json", "p4g/test.json"),
        (
            "ESConv train -> test",
            load_esconv_jsonl,
            "esconv/esconv_train.jsonl",
            "esconv/esconv_test.jsonl",
        ),
    ):
        t = time.time()
        model = LearnedRewardModel.fit(loader(data / tr), encoder=args.encoder)
        print(row(name, model.evaluate(loader(data / te)), time.time() - t), flush=True)


if __name__ == "__main__":
    main()
