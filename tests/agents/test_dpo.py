"""DPO (trl) of a tiny chat LM on preference pairs, LoRA, and the CLI on hindsight pairs."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from tiny_lm import save_tiny

from dialogue_gym.agents.dpo import DPOArgs, train_dpo

pytestmark = pytest.mark.slow  # the fast subset (-m 'not slow') leaves this file out

CTX = [
    {"role": "system", "content": "hello"},
    {"role": "user", "content": "would you like to donate"},
]
PAIRS = [
    {
        "prompt": CTX,
        "chosen": [{"role": "assistant", "content": "yes i will give some money today"}],
        "rejected": [{"role": "assistant", "content": "no maybe"}],
    }
] * 8


def _margin(model, tok) -> float:
    """log p(chosen) - log p(rejected) under ``model`` (summed over the answer tokens)."""
    import torch

    from dialogue_gym.agents.sft import encode

    out = []
    for key in ("chosen", "rejected"):
        enc = encode(tok, {"prompt": CTX, "completion": PAIRS[0][key]}, 512)
        ids, labels = torch.tensor([enc["input_ids"]]), torch.tensor(enc["labels"])
        with torch.no_grad():
            logp = torch.log_softmax(model(input_ids=ids).logits[0, :-1], -1)
        keep = labels[1:] != -100
        out.append(float(logp[keep].gather(1, labels[1:][keep][:, None]).sum()))
    return out[0] - out[1]


def test_dpo_raises_the_chosen_answer_and_reloads(tmp_path):
    from tiny_lm import tiny_model, tiny_tokenizer

    import dialogue_gym
    from dialogue_gym.agents.lm_loading import save_lm
    from dialogue_gym.agents.registry import make_agent

    tok = tiny_tokenizer()
    model = tiny_model(tok)
    before = _margin(model, tok)
    out = train_dpo(model, tok, PAIRS, DPOArgs(max_steps=30, lr=1e-3), output_dir=tmp_path / "r")
    losses = out["losses"]
    assert len(losses) == 30 and all(x == x for x in losses)
    assert losses[0] == pytest.approx(0.6931, abs=1e-3)  # log 2: policy == reference at step 0
    assert losses[-1] < 0.5 * losses[0] and out["accuracies"][-1] == 1.0
    assert _margin(model, tok) > before + 1.0
    path = save_lm(model, tok, tmp_path / "dpo")
    agent = make_agent(f"lm:path={path},max_tokens=4", "persuasion")
    r = dialogue_gym.evaluate(
        agent, "Persuasion-v0", 1, seed=0, progress=False, oracle=False, max_turns=1
    )
    assert r.episodes[0].status == "ok"


def test_dpo_with_lora_trains_adapters_only(tmp_path):
    from tiny_lm import tiny_model, tiny_tokenizer
    from transformers import AutoModelForCausalLM

    from dialogue_gym.agents.lm_loading import LMOptions, save_lm, with_lora

    tok = tiny_tokenizer()
    base = tiny_model(tok)
    frozen = {k: v.clone() for k, v in base.state_dict().items()}
    model = with_lora(base, LMOptions(lora_r=4))
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert 0 < trainable < 0.5 * sum(p.numel() for p in model.parameters())
    out = train_dpo(model, tok, PAIRS, DPOArgs(max_steps=10, lr=1e-2), output_dir=tmp_path / "r")
    assert out["losses"][-1] < out["losses"][0]
    path = save_lm(model, tok, tmp_path / "lora")
    merged = AutoModelForCausalLM.from_pretrained(path)
    assert set(merged.state_dict()) == set(frozen)  # a plain model: adapters merged in
    assert _margin(merged, tok) > _margin(tiny_model(tok), tok)


def test_lm_options_reject_bad_values():
    from dialogue_gym.agents.lm_loading import LMOptions, load_lm

    with pytest.raises(ValueError, match="dtype"):
        LMOptions(dtype="float8")
    with pytest.raises(ValueError, match="device"):
        LMOptions(device="tpu")
    with pytest.raises(ValueError, match="lora_r"):
        LMOptions(lora_r=-1)
    with pytest.raises(ValueError, match="no such folder"):
        load_lm("/nonexistent/model")
    with pytest.raises(ValueError, match="no preference pairs"):
        train_dpo(None, None, [])


def test_train_cli_dpo_on_hindsight_pairs(tmp_path):

    from dialogue_gym.generate import generate

    save_tiny(tmp_path / "base")
    data, regen = tmp_path / "d.jsonl", tmp_path / "r.jsonl"
    generate("Persuasion-v0", "random", 30, data, progress=False)
    cli = [sys.executable, "-m", "dialogue_gym.cli"]
    # --select all rewrites every episode in round 1; round 2 rewrites round 1's unsuccessful
    # regenerations (random episodes: 2 of 30 rewrites still raise nothing; of human-like ones
    # none, so round 2 would have no source). The privileged components: on 30 episodes the
    # learned critic rightly proposes nothing.
    hs = subprocess.run(
        [
            *cli,
            "hindsight",
            "--in",
            str(data),
            "--out",
            str(regen),
            "--rounds",
            "2",
            "--select",
            "all",
            "--controller",
            "transcript",
            "--forward",
            "privileged-dynamics",
            "--reward",
            "privileged-dynamics",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert hs.returncode == 0, hs.stderr[-2000:]
    from dialogue_gym.hindsight import preference_pairs
    from dialogue_gym.jsonl import read_episodes

    originals, regenerated = read_episodes(data)[0], read_episodes(regen)[0]
    every = preference_pairs(regenerated, {e.id: e for e in originals + regenerated})
    round_one = preference_pairs(regenerated, {e.id: e for e in originals})
    assert len(every) > len(round_one)  # round-2 rewrites have round-1 regenerations as sources
    proc = subprocess.run(
        [
            *cli,
            "train",
            "--algo",
            "dpo",
            "--data",
            str(data),
            "--regenerated",
            str(regen),
            "--model",
            str(tmp_path / "base"),
            "--out",
            str(tmp_path / "dpo"),
            "--steps",
            "2",
            "--batch-size",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "pairs" in proc.stdout and (tmp_path / "dpo" / "config.json").exists()
    training = json.loads((tmp_path / "dpo" / "training.json").read_text())
    assert training["algo"] == "dpo" and training["pairs"] == len(every)
    assert len(training["losses"]) == 2
    missing = subprocess.run(
        [
            *cli,
            "train",
            "--algo",
            "dpo",
            "--data",
            str(data),
            "--model",
            str(tmp_path / "base"),
            "--out",
            str(tmp_path / "x"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert missing.returncode == 2 and "--regenerated" in missing.stderr


def test_fit_prompt_drops_oldest_turns_but_keeps_the_system_prompt():
    from tiny_lm import tiny_tokenizer

    from dialogue_gym.agents.dpo import fit_prompt

    tok = tiny_tokenizer()
    turns = [{"role": r, "content": "hello how are you"} for r in ["user", "assistant"] * 10]
    prompt = [CTX[0], *turns]
    answer = [[{"role": "assistant", "content": "yes"}]]
    assert fit_prompt(tok, prompt, answer, 10_000) == prompt
    short = fit_prompt(tok, prompt, answer, 40)
    assert short[0] == CTX[0] and 1 < len(short) < len(prompt) and short[-1] == prompt[-1]
