"""Hindsight regeneration: honesty rules, provenance, the wrapper, pairs, CLI, LLM components."""

from __future__ import annotations

import copy
import dataclasses
import json
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest

from dialogue_gym.episode import Episode, Turn
from dialogue_gym.errors import InvalidInput
from dialogue_gym.generate import generate
from dialogue_gym.hindsight import (
    HindsightRelabel,
    PrivilegedDynamicsForwardModel,
    PrivilegedDynamicsRewardModel,
    TranscriptController,
    TrueEnvForwardModel,
    TrueEnvRewardModel,
    is_unsuccessful,
    preference_pairs,
    regenerate,
    replay_in_true_env,
)
from dialogue_gym.hindsight.base import RewardModel
from dialogue_gym.hindsight.regenerate import rescore
from dialogue_gym.jsonl import read_episodes
from dialogue_gym.llm.fake_server import FakeChatServer


@pytest.fixture(scope="module")
def persuasion_eps(tmp_path_factory):
    path = tmp_path_factory.mktemp("h") / "p.jsonl"
    generate("Persuasion-v0", "human-like", 120, path, progress=False)
    return read_episodes(path)[0]


@pytest.fixture(scope="module")
def counseling_eps(tmp_path_factory):
    path = tmp_path_factory.mktemp("h") / "c.jsonl"
    generate("Counseling-v0", "human-like", 120, path, progress=False)
    return read_episodes(path)[0]


def test_controller_sees_only_the_transcript(persuasion_eps):
    """Same transcript and outcome, different hidden personas (seeds) -> same proposal."""
    e = next(x for x in persuasion_eps if is_unsuccessful(x))
    twin = dataclasses.replace(copy.deepcopy(e), id=e.id, seed=e.seed + 12345)
    env = gym.make("Persuasion-v0", privileged_info=True)
    p1 = env.reset(seed=e.seed)[1]["privileged"]["persona"]
    p2 = env.reset(seed=twin.seed)[1]["privileged"]["persona"]
    assert p1 != p2
    c = TranscriptController()
    assert c.propose(e, 2) == c.propose(twin, 2)
    f = PrivilegedDynamicsForwardModel()
    prefix = e.turns[:3]
    assert f.continue_dialogue(e, prefix, 7).turns == f.continue_dialogue(twin, prefix, 7).turns
    r = PrivilegedDynamicsRewardModel()
    assert r.score(e, e.turns, 3) == r.score(twin, e.turns, 3)


def test_controller_answers_an_ignored_concern():
    turns = [
        Turn("assistant", "Hello! How are you?"),
        Turn("user", "Fine. How do I know this charity is legit?"),
        Turn("assistant", "I am going to donate part of my own earnings from this task."),
        Turn("user", "Okay."),
        Turn("assistant", "Would you like to donate some of your payment to Save the Children?"),
        Turn("user", "No, I'd rather keep my payment."),
    ]
    e = Episode(id="x", env_id="Persuasion-v0", turns=turns, reward=0.0)
    p = TranscriptController().propose(e)[0]
    assert p.turn_index == 2 and p.strategy == "credibility-appeal" and "legitimacy" in p.rationale
    assert p.text != turns[2].text


def test_controller_catches_premature_advice_and_missed_risk():
    turns = [
        Turn("user", "Honestly, I've had thoughts of hurting myself."),
        Turn("assistant", "You could try going for a short walk when things get overwhelming."),
        Turn("user", "That's easier said than done."),
    ]
    e = Episode(id="c", env_id="Counseling-v0", turns=turns, reward=0.0)
    props = TranscriptController().propose(e, 2)
    assert props[0].turn_index == 1 and "988" in props[0].text


@pytest.mark.slow
@pytest.mark.parametrize("fixture", ["persuasion_eps", "counseling_eps"])
def test_regenerate_provenance_originals_and_clipping(fixture, request):
    eps = request.getfixturevalue(fixture)
    before = copy.deepcopy(eps)
    regen = regenerate(
        eps,
        TranscriptController(),
        PrivilegedDynamicsForwardModel(),
        PrivilegedDynamicsRewardModel(),
        per_episode=2,
    )
    assert eps == before  # originals untouched
    failed = [e for e in eps if is_unsuccessful(e)]
    assert failed and len(regen) >= len(failed) * 0.8
    low, high = (0, 2) if fixture == "persuasion_eps" else (-4, 4)
    by_id = {e.id: e for e in eps}
    for r in regen:
        prov = r.provenance
        assert {
            "source_id",
            "rewritten_turn",
            "controller",
            "forward_model",
            "reward_model",
            "round",
        } <= set(prov)
        assert prov["forward_model"]["oracle"] is False and prov["round"] == 1
        src = by_id[prov["source_id"]]
        i = prov["rewritten_turn"]
        assert r.turns[:i] == src.turns[:i] and r.turns[i].role == "assistant"
        assert low <= r.reward <= high
    pairs_of = {}
    for r in regen:
        pairs_of.setdefault(r.provenance["source_id"], set()).add(r.provenance["rewritten_turn"])
    assert any(len(v) == 2 for v in pairs_of.values())  # per_episode=2 gives distinct turns
    imagined = np.mean([r.reward for r in regen])
    original = np.mean([by_id[r.provenance["source_id"]].reward for r in regen])
    assert imagined > original


class _Length(RewardModel):
    """Scores a dialogue by its number of turns (a stand-in imagining reward model)."""

    oracle = False

    def score(self, episode, turns, seed):
        return float(len(turns)) / 10

    def succeeds(self, episode, turns):
        return len(turns) > 10

    def config(self):
        return {"name": "length", "oracle": False}


def test_rescore_relabels_a_regeneration_with_another_reward_model(persuasion_eps):
    regen = regenerate(
        persuasion_eps[:40],
        TranscriptController(),
        PrivilegedDynamicsForwardModel(),
        PrivilegedDynamicsRewardModel(),
    )
    by_id = {e.id: e for e in persuasion_eps}
    r = regen[0]
    before = copy.deepcopy(r)
    source = by_id[r.provenance["source_id"]]
    out = rescore(r, source, _Length())
    assert r == before  # a copy
    assert out.id == r.id and out.turns == r.turns  # the same rewrite and continuation
    assert out.reward == len(r.turns) / 10 == out.outcome["imagined_reward"]
    assert out.outcome["source_model_reward"] == len(source.turns) / 10
    assert out.outcome["imagined_success"] == (len(r.turns) > 10)
    assert (
        out.reward_source == "imagined:length"
        and out.provenance["reward_model"]["name"] == "length"
    )
    with pytest.raises(InvalidInput, match="not the true env"):
        rescore(r, source, TrueEnvRewardModel())


def test_rounds_and_oracle_ablation_label(counseling_eps):
    regen = regenerate(
        counseling_eps[:60],
        TranscriptController(),
        TrueEnvForwardModel(),
        TrueEnvRewardModel(),
        rounds=2,
    )
    assert {r.provenance["round"] for r in regen} <= {1, 2}
    assert all(r.provenance["forward_model"]["oracle"] for r in regen)
    r = regen[0]
    src = next(e for e in counseling_eps if e.id == r.provenance["source_id"])
    assert replay_in_true_env(src, r.turns)[0] == r.reward


def test_preference_pairs(persuasion_eps):
    regen = regenerate(
        persuasion_eps,
        TranscriptController(),
        PrivilegedDynamicsForwardModel(),
        PrivilegedDynamicsRewardModel(),
    )
    pairs = preference_pairs(regen, {e.id: e for e in persuasion_eps})
    assert pairs and all(p["gain"] > 0 for p in pairs)
    p = pairs[0]
    assert (
        p["prompt"][0]["role"] == "system"
        and p["chosen"][0]["content"] != p["rejected"][0]["content"]
    )


def test_hindsight_relabel_wrapper():
    from dialogue_gym.agents.scripted import ScriptedAgent

    env = HindsightRelabel(gym.make("Persuasion-v0"), encoder="hash:512")
    agent = ScriptedAgent("persuasion", noise=0.5)
    for seed in range(30):
        obs, info = env.reset(seed=seed)
        agent.reset(seed=seed)
        done = False
        while not done:
            obs, r, term, trunc, info = env.step(agent.act(obs, info))
            done = term or trunc
    assert len(env.episodes) == 30 and env.episodes[0].seed == 0
    improved = env.relabel()
    assert improved and all(r.provenance["source_id"].startswith("recorded-") for r in improved)


def test_llm_components_with_a_fake_endpoint(persuasion_eps):
    from dialogue_gym.hindsight.llm import LLMController, LLMForwardModel, LLMRewardModel

    def respond(body):
        last = body["messages"][-1]["content"]
        if "which numbered agent turn" in last:
            return (
                '{"turn": 2, "utterance": "They are rated highly by watchdogs.", "rationale": "x"}'
            )
        if "Continue this conversation" in last:
            return json.dumps(
                {
                    "turns": [
                        {"role": "user", "text": "Oh, good to know."},
                        {"role": "agent", "text": "Would you give $1?"},
                        {"role": "user", "text": "Sure."},
                    ]
                }
            )
        return '{"donation": 7}'

    e = next(x for x in persuasion_eps if is_unsuccessful(x))
    with FakeChatServer(respond) as s:
        spec = f"{s.url}#fake"
        regen = regenerate(
            [e],
            LLMController(spec, cache=False),
            LLMForwardModel(spec, cache=False),
            LLMRewardModel(spec, "persuasion", cache=False),
        )
    assert len(regen) == 1
    r = regen[0]
    assert r.provenance["rewritten_turn"] == e.agent_turns[1]
    assert r.turns[r.provenance["rewritten_turn"]].text == "They are rated highly by watchdogs."
    assert r.reward == 2.0  # clipped


@pytest.mark.slow
def test_cli_hindsight_is_resumable(tmp_path):
    data = tmp_path / "d.jsonl"
    generate("Counseling-v0", "human-like", 80, data, progress=False)
    out = tmp_path / "r.jsonl"
    cmd = [
        sys.executable,
        "-m",
        "dialogue_gym.cli",
        "hindsight",
        "--in",
        str(data),
        "--out",
        str(out),
        "--pairs",
        str(tmp_path / "pairs.jsonl"),
        "--encoder",
        "hash:512",
    ]
    first = subprocess.run(cmd, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    n = len(read_episodes(out)[0])
    assert n > 0
    second = subprocess.run(cmd, capture_output=True, text=True)
    assert second.returncode == 0 and "0 regenerated now" in second.stdout
    assert len(read_episodes(out)[0]) == n
    ids = [e.id for e in read_episodes(out)[0]]
    assert len(ids) == len(set(ids))
