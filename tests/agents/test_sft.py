"""SFT of a tiny chat LM on dialogue records: loss on agent turns only, loss falls, reload."""

from __future__ import annotations

import json

import pytest
from cli_run import run_cli
from tiny_lm import play, save_tiny

from dialogue_gym.agents.lm_loading import save_lm
from dialogue_gym.agents.sft import SFTArgs, encode, filter_top, train_sft

pytestmark = pytest.mark.slow  # the fast subset (-m 'not slow') leaves this file out


def _records():
    msgs = [{"role": "system", "content": "hello"}, {"role": "user", "content": "how are you"}]
    said = [{"role": "assistant", "content": "would you like to donate to save the children"}]
    return [
        {"prompt": msgs, "completion": said, "episode_id": f"e{i}", "reward": float(i)}
        for i in range(8)
    ]


def test_labels_mask_the_prompt():
    from tiny_lm import tiny_tokenizer

    tok = tiny_tokenizer()
    enc = encode(tok, _records()[0], 512)
    n_masked = sum(x == -100 for x in enc["labels"])
    prompt_len = len(
        tok.apply_chat_template(_records()[0]["prompt"], tokenize=True, add_generation_prompt=True)[
            "input_ids"
        ]
    )
    assert n_masked == prompt_len and len(enc["labels"]) == len(enc["input_ids"])
    target = tok.decode([x for x in enc["labels"] if x != -100], skip_special_tokens=True)
    assert "donate" in target and "how are you" not in target


def test_filter_top_share():
    assert {r["episode_id"] for r in filter_top(_records(), 0.25)} == {"e6", "e7"}
    with pytest.raises(ValueError, match="top_share"):
        SFTArgs(top_share=0)


def test_sft_loss_falls_and_the_model_reloads(tmp_path):
    from tiny_lm import tiny_model, tiny_tokenizer
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from dialogue_gym.agents.registry import make_agent

    tok = tiny_tokenizer()
    model = tiny_model(tok)
    out = train_sft(
        model,
        tok,
        _records(),
        SFTArgs(max_steps=30, lr=5e-3, batch_size=4),
        output_dir=tmp_path / "run",
    )
    losses = out["losses"]
    assert len(losses) == 30 and all(loss == loss for loss in losses)  # finite
    assert sum(losses[-5:]) / 5 < 0.5 * sum(losses[:5]) / 5
    path = save_lm(model, tok, tmp_path / "sft")
    again = AutoModelForCausalLM.from_pretrained(path)
    assert again.config.vocab_size == model.config.vocab_size
    assert AutoTokenizer.from_pretrained(path).chat_template
    agent = make_agent(f"lm:path={path},max_tokens=8,temperature=0", "persuasion")
    r = play(agent, 1, max_turns=1)
    said = r.episodes[0].messages[0]["content"]
    assert "donate" in said or "children" in said  # it learned the agent turn


def test_train_cli_sft(tmp_path):

    from dialogue_gym.generate import generate

    save_tiny(tmp_path / "base")
    data = tmp_path / "d.jsonl"
    generate("Persuasion-v0", "human-like", 6, data, progress=False)
    proc = run_cli(
        "train",
        "--algo",
        "filtered-sft",
        "--data",
        str(data),
        "--model",
        str(tmp_path / "base"),
        "--out",
        str(tmp_path / "sft"),
        "--steps",
        "3",
        "--sft-unit",
        "dialogue",
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "lm:path=" in proc.stdout and (tmp_path / "sft" / "config.json").exists()
    training = json.loads((tmp_path / "sft" / "training.json").read_text())
    assert training["algo"] == "sft" and training["args"]["max_steps"] == 3
    assert training["args"]["top_share"] == 0.25 and len(training["losses"]) == 3
    assert training["args"]["unit"] == "dialogue" and training["examples"] < training["records"]


def test_dialogue_unit_labels_every_agent_turn_once_and_learns(tmp_path):
    from tiny_lm import tiny_model, tiny_tokenizer

    from dialogue_gym.agents.sft import encode_whole, whole_dialogues

    tok = tiny_tokenizer()
    msgs = [
        {"role": "system", "content": "hello"},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "how are you"},
        {"role": "user", "content": "sad"},
        {"role": "assistant", "content": "tell me more"},
    ]
    turns = [
        {"prompt": msgs[:i], "completion": [msgs[i]], "episode_id": "e", "reward": 1.0}
        for i in (2, 4)
    ]
    assert whole_dialogues(turns) == [msgs]
    whole = encode_whole(tok, msgs, 512)
    per_turn = [x for r in turns for x in encode(tok, r, 512)["labels"] if x != -100]
    assert [x for x in whole["labels"] if x != -100] == per_turn  # the same targets, read once
    records = [dict(r, episode_id=f"e{k}") for k in range(4) for r in turns]
    model = tiny_model(tok)
    out = train_sft(
        model,
        tok,
        records,
        SFTArgs(max_steps=30, lr=5e-3, unit="dialogue"),
        output_dir=tmp_path / "run",
    )
    assert out["examples"] == 4 and sum(out["losses"][-5:]) < 0.5 * sum(out["losses"][:5])
    with pytest.raises(ValueError, match="unit"):
        SFTArgs(unit="token")
