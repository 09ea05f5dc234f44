"""The real-regime LM example (``examples/hindsight_lm.py``) end to end on a
tiny random model and 60 real P4G dialogues: hindsight, SFT, DPO, two critics, every
evaluation, the table; then a rerun that finds every stage's output and redoes nothing."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from tiny_lm import save_tiny

from dialogue_gym.errors import InvalidInput

pytestmark = pytest.mark.slow


def _example():
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
    try:
        import hindsight_lm
    finally:
        sys.path.pop(0)
    return hindsight_lm


def test_the_lm_example_learns_from_real_dialogues_and_resumes(tmp_path, shared_data):
    example = _example()
    save_tiny(tmp_path / "base")
    argv = ["--env", "Persuasion-v0", "--data", str(shared_data), "--dialogues", "60"]
    argv += ["--model", str(tmp_path / "base")]
    argv += ["--encoder", "hash", "--steps", "2", "--critic-steps", "5", "--eval-episodes", "3"]
    argv += ["--max-turns", "2", "--max-tokens", "4", "--out", str(tmp_path / "run")]
    out = example.main(argv)
    assert out["real_dialogues"] == 60 and 0 < out["pairs"] <= out["regenerated"] <= 60
    named = {*example.REFERENCES, "SmolLM2 (prompting)", *(x for p in example.PAIRS for x in p)}
    assert set(out["agents"]) == named
    assert all(a["shape"] == [1, 3] for a in out["agents"].values())
    diffs = out["differences"]
    assert len(diffs) == 3 and all(d["holm"] >= d["p"] for d in diffs.values())
    regen = [json.loads(x) for x in (tmp_path / "run" / "regenerated.jsonl").open()]
    assert all(r["provenance"]["source_id"].startswith("p4g:train:") for r in regen)
    dpo = json.loads((tmp_path / "run" / "seed-0" / "sft-dpo" / "training.json").read_text())
    assert dpo["algo"] == "dpo" and dpo["pairs"] == out["pairs"]
    again = example.main(argv)  # every stage's output is there: nothing is trained or played
    assert again["seconds"] == {}
    assert again["agents"] == out["agents"] and again["differences"] == out["differences"]
    with pytest.raises(InvalidInput, match=r"other options \(eval_episodes: \['3'\] there"):
        example.main([*argv, "--eval-episodes", "5"])  # would read 3-seed evaluations back


def test_two_training_runs_give_a_two_level_interval():
    example = _example()

    def Result(rewards):  # what ``returns`` reads of an EvaluationResult
        episodes = [
            SimpleNamespace(seed=example.HELD_OUT + i, reward=r, status="ok")
            for i, r in enumerate(rewards)
        ]
        return SimpleNamespace(episodes=episodes)

    rng = np.random.default_rng(0)
    seeds = rng.normal(size=40)
    runs = {
        label: [Result(seeds + shift + rng.normal(0, 0.1, 40)) for shift in (0.0, 1.0)]
        for pair in example.PAIRS
        for label in pair
    }
    one = {k: v[:1] for k, v in runs.items()}
    _, two_level = example.table(runs)
    _, single = example.table(one)
    width = {
        name: [d["ci95"][1] - d["ci95"][0] for d in f["differences"].values()]
        for name, f in (("two", two_level), ("one", single))
    }
    # the runs disagree by a whole point: an interval over them is far wider than over seeds
    assert all(w2 > 5 * w1 for w2, w1 in zip(width["two"], width["one"], strict=True))
    assert all(f["shape"] == [2, 40] for f in two_level["agents"].values())
