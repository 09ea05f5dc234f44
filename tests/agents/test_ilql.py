"""ILQL on a tiny GPT-2-style model: token marking, losses, value-shifted decoding, reload."""

from __future__ import annotations

import sys

import pytest
from cli_run import run_cli
from tiny_lm import play, save_tiny

from dialogue_gym.agents.ilql import ILQLArgs, encode_dialogue, shift_logits, train_ilql

pytestmark = pytest.mark.slow  # the fast subset (-m 'not slow') leaves this file out

CTX = [
    {"role": "system", "content": "hello"},
    {"role": "user", "content": "would you like to donate"},
]


def _toy_records(n: int = 4) -> list[dict]:
    """Same context; saying "yes" earns 1, "no" earns 0, each half of the data."""
    return [
        {"messages": CTX + [{"role": "assistant", "content": w}], "rewards": [r]}
        for w, r in [("yes", 1.0), ("no", 0.0)] * n
    ]


def test_encode_marks_agent_tokens_rewards_and_next_states():
    from tiny_lm import tiny_tokenizer

    tok = tiny_tokenizer()
    msgs = CTX + [
        {"role": "assistant", "content": "hi how are you"},
        {"role": "user", "content": "i am fine"},
        {"role": "assistant", "content": "please donate"},
    ]
    e = encode_dialogue(tok, msgs, [0.0, 2.0], 512)
    toks = tok.convert_ids_to_tokens(e["input_ids"])
    said = [t for t, a in zip(toks, e["is_action"], strict=True) if a]
    # each utterance's words, the template's end marker and the added EOS; no user or system words
    assert said == [
        "hi",
        "how",
        "are",
        "you",
        "<|end|>",
        "<eos>",
        "please",
        "donate",
        "<|end|>",
        "<eos>",
    ]
    ends = [i for i, t in enumerate(toks) if t == "<eos>"]
    assert [e["reward"][i] for i in ends] == [0.0, 2.0] and sum(e["reward"]) == 2.0
    first_of_second = toks.index("please")
    assert e["next_state"][ends[0]] == first_of_second - 1  # bootstraps where the agent next acts
    assert e["next_state"][ends[1]] == -1  # terminal
    assert e["next_state"][toks.index("how")] == toks.index("how")  # within an utterance
    short = encode_dialogue(tok, msgs, [0.0, 2.0], 8)  # keeps the end
    assert short["input_ids"] == e["input_ids"][-8:] and short["reward"][-1] == 2.0
    with pytest.raises(ValueError, match="rewards"):
        encode_dialogue(tok, msgs, [1.0], 512)


def test_shift_logits_adds_beta_times_advantage():
    import torch

    logits = torch.tensor([[0.0, 1.0, 2.0]])
    adv = torch.tensor([[1.0, 0.0, -1.0]])
    base = torch.log_softmax(logits, -1)
    assert torch.allclose(shift_logits(logits, adv, 0.0), base)
    assert torch.allclose(shift_logits(logits, adv, 2.0), base + 2.0 * adv)


def test_losses_finite_and_decrease_on_a_fixed_batch():
    from tiny_lm import tiny_model, tiny_tokenizer

    tok = tiny_tokenizer()
    model = tiny_model(tok, arch="gpt2")
    args = ILQLArgs(steps=80, batch_size=8, lr=1e-3, head_lr=1e-2, polyak=0.05)
    _, log = train_ilql(model, tok, _toy_records(), args)  # 8 dialogues: the same batch each step
    assert len(log["loss"]) == 80 and all(x == x and abs(x) < 1e6 for x in log["loss"])
    assert sum(log["loss"][-5:]) < 0.5 * sum(log["loss"][:5])
    assert log["nll"][-1] < log["nll"][0] and log["action_tokens"] == 8 * 3


def test_decoding_moves_toward_the_higher_q_and_reloads(tmp_path):
    """Behaviour data says yes/no half and half; only yes is rewarded. With beta > 0 the
    decoding must put more mass on yes than the behaviour policy (beta = 0) does."""
    import torch
    from tiny_lm import tiny_model, tiny_tokenizer

    from dialogue_gym.agents.ilql import load_ilql, save_ilql
    from dialogue_gym.agents.ilql_agent import ILQLBackend
    from dialogue_gym.agents.registry import make_agent
    from dialogue_gym.llm.base import SamplingParams

    tok = tiny_tokenizer()
    model = tiny_model(tok, arch="gpt2")
    # 600 steps with fast targets: p(yes | beta=4) was 0.88-0.99 over model seeds 0-3
    args = ILQLArgs(steps=600, batch_size=8, lr=1e-3, head_lr=1e-2, cql_weight=0.1, polyak=0.1)
    heads, log = train_ilql(model, tok, _toy_records(), args)
    yes, no = tok.convert_tokens_to_ids(["yes", "no"])
    h = model(
        **tok.apply_chat_template(
            CTX, add_generation_prompt=True, return_tensors="pt", return_dict=True
        ),
        output_hidden_states=True,
    )
    with torch.no_grad():
        adv = heads.advantage(h.hidden_states[-1][0, -1])
    assert adv[yes] > adv[no]  # the heads learned which answer pays
    p = {b: ILQLBackend(model, tok, heads, b).next_token_distribution(CTX) for b in (0, 1, 4)}
    assert abs(p[0][yes] - p[0][no]) < 0.2  # behaviour policy: about half and half
    assert p[0][yes] < p[1][yes] < p[4][yes] and p[4][yes] > 0.8
    said = [
        ILQLBackend(model, tok, heads, 4).chat(CTX, SamplingParams(1.0, 4), seed=s).text
        for s in range(10)
    ]
    assert said.count("yes") >= 8

    path = save_ilql(tmp_path / "ilql", model, tok, heads, args, log)
    m2, t2, h2 = load_ilql(path)
    again = ILQLBackend(m2, t2, h2, 4).next_token_distribution(CTX)
    assert torch.allclose(again, p[4], atol=1e-5)
    agent = make_agent(f"ilql:path={path},beta=4,max_tokens=4", "persuasion")
    r = play(agent, 1, max_turns=2)
    assert r.episodes[0].status == "ok" and r.episodes[0].messages[0]["role"] == "assistant"


def test_train_cli_ilql_and_lora(tmp_path):

    from dialogue_gym.generate import generate

    save_tiny(tmp_path / "base")
    data = tmp_path / "d.jsonl"
    generate("Counseling-v0", "human-like", 4, data, progress=False)
    for extra in ([], ["--lora-r", "4"]):
        out = tmp_path / f"ilql{len(extra)}"
        proc = run_cli(
            "train",
            "--algo",
            "ilql",
            "--data",
            str(data),
            "--model",
            str(tmp_path / "base"),
            "--out",
            str(out),
            "--steps",
            "2",
            *extra,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "ilql:path=" in proc.stdout and (out / "ilql_heads.pt").exists()
        assert not any("lora" in p.name for p in out.iterdir())  # adapters merged


def test_finetune_example_runs_end_to_end_on_a_tiny_model(tmp_path):
    """The SmolLM2 example's whole path (data, hindsight, SFT, ILQL, four evaluations)."""
    from pathlib import Path

    save_tiny(tmp_path / "base")
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
    try:
        import finetune_smollm2
    finally:
        sys.path.pop(0)
    out = finetune_smollm2.main(
        [
            "--model",
            str(tmp_path / "base"),
            "--episodes",
            "10",
            "--steps",
            "2",
            "--eval-episodes",
            "2",
            "--max-tokens",
            "4",
            "--out",
            str(tmp_path / "run"),
        ]
    )
    assert set(out["results"]) == {
        "human-like",
        "smollm2 (prompting)",
        "smollm2 + SFT",
        "smollm2 + ILQL",
    }
    assert all(r["n_episodes"] == 2 for r in out["results"].values()) and len(out["tests"]) == 3
    assert (tmp_path / "run" / "results.json").exists()
    assert (tmp_path / "run" / "ilql" / "ilql_heads.pt").exists()


def test_training_and_decoding_cut_long_dialogues_by_one_rule():
    """Both sides drop the oldest messages and keep the system prompt (training once cut tokens
    off the front, system prompt included, while decoding fed the whole prompt)."""
    from tiny_lm import tiny_model, tiny_tokenizer

    from dialogue_gym.agents.ilql import fit_dialogue, make_heads
    from dialogue_gym.agents.ilql_agent import ILQLBackend
    from dialogue_gym.agents.lm_loading import chat_ids

    tok = tiny_tokenizer()
    turns = []
    for k in range(12):
        turns += [
            {"role": "user", "content": "tell me more about your job and school"},
            {"role": "assistant", "content": "i feel sad" if k < 11 else "please donate"},
        ]
    msgs = [{"role": "system", "content": "hello"}, *turns]
    rewards = [0.0] * 11 + [2.0]
    kept, kept_rewards = fit_dialogue(tok, msgs, rewards, 60)
    assert kept[0] == msgs[0] and kept[-1] == msgs[-1] and len(kept) < len(msgs)
    assert len(chat_ids(tok, kept)) <= 60
    assert kept_rewards[-1] == 2.0
    assert len(kept_rewards) == sum(m["role"] == "assistant" for m in kept)
    encoded = encode_dialogue(tok, kept, kept_rewards, 60)
    system_ids = chat_ids(tok, msgs[:1])
    assert encoded["input_ids"][: len(system_ids)] == system_ids  # the system prompt stays

    model = tiny_model(tok, arch="gpt2")
    backend = ILQLBackend(model, tok, make_heads(model), 1.0, max_length=60)
    prompt = backend._prompt(msgs[:-1], reserve=8)[0].tolist()
    assert len(prompt) <= 60 - 8 and prompt[: len(system_ids)] == system_ids
    assert ILQLArgs().polyak == 0.1 and ILQLArgs().gamma == 1.0
