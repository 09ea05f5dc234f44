"""What real ESConv supporters' strategy profiles go with: the real intensity drop by profile.

The simulated seekers rank a plan that reassures and informs without exploring below a random mix
of strategies. This script asks what the corpus says of real supporters with such profiles:
dialogues grouped by the share of reassurance, information and suggestions, by the share of
questions, by how varied the strategies are, by advice in the first four turns, and by how much
one strategy dominates the second half. It prints each group's size and mean real drop with a
bootstrap 95% interval, and each profile measure's correlation with the drop. Observational: a
profile that goes with a larger drop is not shown to cause it.

Usage: ``python benchmarks/bench_esconv_support_profiles.py [--data DIR]``
"""

from __future__ import annotations

import argparse
import json
import math
from collections import Counter
from pathlib import Path

import numpy as np

from dialogue_gym.data_paths import require_data_dir

SPLITS = ("train", "valid", "test")
ADVICE = ("Information", "Providing Suggestions")
REASSURE_INFORM = ("Affirmation and Reassurance", *ADVICE)


def profiles(data: Path) -> list[dict[str, float]]:
    """One row per dialogue with at least 6 labelled supporter turns and a survey."""
    rows = []
    for split in SPLITS:
        for line in (data / "esconv" / f"esconv_{split}.jsonl").open():
            d = json.loads(line)
            survey = d["survey_score"]["seeker"]
            try:
                drop = int(survey["initial_emotion_intensity"]) - int(
                    survey["final_emotion_intensity"]
                )
            except (KeyError, ValueError):
                continue
            moves = [
                t["strategy"] for t in d["dialog"] if t["speaker"] == "sys" and t.get("strategy")
            ]
            if len(moves) < 6:
                continue
            n, counts = len(moves), Counter(moves)
            late = Counter(moves[n // 2 :])
            rows.append(
                {
                    "drop": drop,
                    "reassure_inform": sum(counts[m] for m in REASSURE_INFORM) / n,
                    "questions": counts["Question"] / n,
                    "entropy": -sum(c / n * math.log(c / n) for c in counts.values()),
                    "early_advice": sum(m in ADVICE for m in moves[:4]),
                    "late_repetition": max(late.values()) / (n - n // 2),
                }
            )
    return rows


def mean_ci(
    x: np.ndarray, rng: np.random.Generator, draws: int = 2000
) -> tuple[float, float, float]:
    """Mean and percentile-bootstrap 95% interval."""
    boots = rng.choice(x, size=(draws, len(x))).mean(axis=1)
    return float(x.mean()), float(np.quantile(boots, 0.025)), float(np.quantile(boots, 0.975))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=None)
    args = parser.parse_args()
    rows = profiles(require_data_dir(args.data))
    drop = np.array([r["drop"] for r in rows], dtype=float)
    rng = np.random.default_rng(0)
    print(
        f"{len(rows)} ESConv dialogues (>= 6 labelled supporter turns), mean real drop "
        f"{drop.mean():.3f}\n"
    )
    print("| measure | correlation with the drop |\n| --- | --- |")
    for key in ("reassure_inform", "questions", "entropy", "early_advice", "late_repetition"):
        x = np.array([r[key] for r in rows], dtype=float)
        print(f"| {key} | {np.corrcoef(x, drop)[0, 1]:+.3f} |")
    median_entropy = float(np.median([r["entropy"] for r in rows]))
    groups = {
        "reassure/inform >= 0.6 and questions <= 0.15": lambda r: (
            r["reassure_inform"] >= 0.6 and r["questions"] <= 0.15
        ),
        "reassure/inform < 0.3": lambda r: r["reassure_inform"] < 0.3,
        "questions <= 0.1": lambda r: r["questions"] <= 0.1,
        "questions >= 0.3": lambda r: r["questions"] >= 0.3,
        "entropy below the median": lambda r: r["entropy"] < median_entropy,
        "entropy at or above the median": lambda r: r["entropy"] >= median_entropy,
        "no advice in the first 4 turns": lambda r: r["early_advice"] == 0,
        "advice in 1+ of the first 4 turns": lambda r: r["early_advice"] >= 1,
        "one strategy < 40% of the second half": lambda r: r["late_repetition"] < 0.4,
        "one strategy >= 60% of the second half": lambda r: r["late_repetition"] >= 0.6,
    }
    print("\n| group | dialogues | mean real drop [95% CI] |\n| --- | --- | --- |")
    for name, keep in groups.items():
        x = np.array([r["drop"] for r in rows if keep(r)], dtype=float)
        m, lo, hi = mean_ci(x, rng)
        print(f"| {name} | {len(x)} | {m:.3f} [{lo:.3f}, {hi:.3f}] |")


if __name__ == "__main__":
    main()
