"""evaluate/compare, the agent registry, the SB3 wrappers and the command line."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import numpy as np
import pytest

import dialogue_gym
from dialogue_gym.agents.registry import agent_entries, make_agent, parse_spec
from dialogue_gym.evaluation import EvaluationResult, compare


@pytest.mark.slow
def test_evaluate_summary_and_json_round_trip(tmp_path):
    out = tmp_path / "r.json"
    r = dialogue_gym.evaluate("scripted", "Persuasion-v0", 40, seed=5, out=out, progress=False)
    s = r.summary
    assert s["n_episodes"] == 40 and s["n_failed"] == 0 and s["env_episodes"] == 40
    assert s["ci95"][0] <= s["mean_return"] <= s["ci95"][1]
    assert 0 <= s["success_rate"] <= 1 and 1 <= s["avg_turns"] <= 10
    assert s["success_rate"] == np.mean([e.reward > 0 for e in r.episodes])
    rnd, orc = s["random_mean_return"], s["oracle_mean_return"]
    assert s["normalized_score"] == pytest.approx((s["mean_return"] - rnd) / (orc - rnd))
    assert s["normalized_ci95"][0] < s["normalized_score"] < s["normalized_ci95"][1]
    assert [e.seed for e in r.episodes] == list(range(5, 45))
    assert r.agent["name"] == "scripted" and r.env_id == "Persuasion-v0"
    loaded = EvaluationResult.load(out)
    assert loaded.summary == json.loads(json.dumps(s))
    assert [e.reward for e in loaded.episodes] == [e.reward for e in r.episodes]


def test_evaluate_is_reproducible():
    a = dialogue_gym.evaluate("human-like", "Counseling-v0", 20, seed=3, progress=False)
    b = dialogue_gym.evaluate("human-like", "Counseling-v0", 20, seed=3, progress=False)
    assert [e.reward for e in a.episodes] == [e.reward for e in b.episodes]


def test_evaluate_without_references_has_no_normalized_score():
    r = dialogue_gym.evaluate("scripted", "Counseling-v0", 30, seed=0, progress=False, oracle=False)
    assert "normalized_score" not in r.summary
    base = dialogue_gym.evaluate("random", "Counseling-v0", 30, progress=False, oracle=False)
    assert r.summary["success_rate"] > base.summary["success_rate"]  # the expert flow helps more


def test_compare_paired_and_unpaired():
    a = dialogue_gym.evaluate("scripted", "Persuasion-v0", 60, seed=0, progress=False, oracle=False)
    b = dialogue_gym.evaluate("random", "Persuasion-v0", 60, seed=0, progress=False, oracle=False)
    c = compare(a, b)
    assert c.test.startswith("paired bootstrap") and c.diff > 0 and c.p_value < 0.05
    assert c.ci95[0] < c.diff < c.ci95[1]
    b2 = dialogue_gym.evaluate(
        "random", "Persuasion-v0", 60, seed=500, progress=False, oracle=False
    )
    assert compare(a, b2).test.startswith("Welch")


def test_registry_specs_and_errors():
    assert parse_spec("scripted:noise=0.3,reactive=false") == (
        "scripted", {"noise": 0.3, "reactive": False}
    )  # fmt: skip
    agent = make_agent("scripted:noise=0.3,reactive=false", "persuasion")
    assert agent.noise == 0.3 and agent.reactive is False
    assert {e.name for e in agent_entries()} >= {"random", "scripted", "oracle", "human"}
    with pytest.raises(ValueError, match="registered: random"):
        make_agent("nope", "persuasion")
    with pytest.raises(ValueError, match="bad options"):
        make_agent("random:temperature=2", "persuasion")
    with pytest.raises(ValueError, match="noise must be in"):
        make_agent("scripted:noise=3", "persuasion")


def test_act_batch_defaults_to_a_loop():
    agent = make_agent("scripted", "persuasion", seed=1)
    info = {"messages": [], "turn": 0, "max_turns": 10}
    out = agent.act_batch(["", ""], [info, info])
    assert len(out) == 2 and all(isinstance(t, str) and t for t in out)


@pytest.mark.parametrize("env_id", ["Persuasion-v0", "Counseling-v0"])
def test_sb3_check_env_passes_on_wrapped_envs(env_id):
    from stable_baselines3.common.env_checker import check_env

    from dialogue_gym.wrappers import make_vector_env

    env = make_vector_env(env_id)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env)
    assert [str(w.message) for w in caught] == []
    obs, info = env.reset(seed=0)
    assert obs.shape == env.observation_space.shape and obs.dtype == np.float32
    obs2, reward, term, trunc, info = env.step(0)
    assert isinstance(info["utterance"], str) and not np.array_equal(obs, obs2)


def test_featurizer_sees_revealed_concerns():
    from dialogue_gym.wrappers import HistoryFeaturizer

    f = HistoryFeaturizer("persuasion")
    msgs = [
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "How do I know this charity is legit?"},
    ]
    x = f(msgs, 1, 10)
    j = f.size - 2 * len(f.cue_names) + f.cue_names.index("legitimacy")
    assert x[j] == 1.0 and x[f.n_hash] == pytest.approx(0.1)


@pytest.mark.slow
def test_ppo_example_runs_end_to_end():
    sys.path.insert(0, "examples")
    try:
        import train_ppo
    finally:
        sys.path.pop(0)
    out = train_ppo.main(["--steps", "1024", "--episodes", "30"])
    assert out["ppo"]["n_episodes"] == 30 and "mean_return" in out["ppo"]


def _cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dialogue_gym.cli", *args],
        input=stdin, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@pytest.mark.slow
def test_cli_list_and_evaluate(tmp_path):
    out = _cli("list")
    assert out.returncode == 0 and "oracle" in out.stdout and "embedded" in out.stdout
    path = tmp_path / "result.json"
    out = _cli("evaluate", "--env", "Counseling-v0", "--agent", "scripted:noise=0.1",
               "--episodes", "12", "--seed", "4", "--out", str(path))  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "Counseling-v0" in out.stdout and "scripted" in out.stdout
    assert json.loads(path.read_text())["summary"]["n_episodes"] == 12
    bad = _cli("evaluate", "--env", "Counseling-v0", "--agent", "nope", "--episodes", "2")
    assert bad.returncode == 2 and "registered:" in bad.stderr


def test_cli_play_as_agent_through_stdin(tmp_path):
    path = tmp_path / "t.json"
    lines = ["Hello! How are you?", "Have you heard of Save the Children?"] * 5
    out = _cli("play", "--env", "Persuasion-v0", "--as", "agent", "--out", str(path),
               stdin="\n".join(lines) + "\n")  # fmt: skip
    assert out.returncode == 0, out.stderr
    rec = json.loads(path.read_text())
    assert rec["status"] == "ok" and 0 <= rec["reward"] <= 2
    assert [m["content"] for m in rec["messages"] if m["role"] == "assistant"] == lines[
        : len([m for m in rec["messages"] if m["role"] == "assistant"])
    ]


def test_cli_play_as_user_through_stdin(tmp_path):
    path = tmp_path / "t.json"
    stdin = "4\nI lost my job and I feel awful.\nIt happened last week.\n/end\n7\n2\n"
    out = _cli("play", "--env", "Counseling-v0", "--as", "user", "--agent", "scripted",
               "--out", str(path), stdin=stdin)  # fmt: skip
    assert out.returncode == 0, out.stderr
    rec = json.loads(path.read_text())
    assert rec["status"] == "ok" and rec["initial_intensity"] == 4 and rec["final_intensity"] == 2
    assert rec["reward"] == 2 and "out of range" in out.stdout
    assert rec["messages"][0] == {"role": "user", "content": "I lost my job and I feel awful."}


def test_cli_play_interrupted_keeps_the_transcript(tmp_path):
    path = tmp_path / "t.json"
    out = _cli("play", "--env", "Persuasion-v0", "--as", "agent", "--out", str(path),
               stdin="Hi there!\n")  # fmt: skip
    assert out.returncode == 130
    rec = json.loads(path.read_text())
    assert rec["status"] == "interrupted" and rec["messages"][0]["content"] == "Hi there!"


def test_cli_play_refuses_the_oracle_as_partner(tmp_path):
    out = _cli("play", "--env", "Persuasion-v0", "--as", "user", "--agent", "oracle",
               "--out", str(tmp_path / "t.json"), stdin="")  # fmt: skip
    assert out.returncode == 2 and "persona" in out.stderr
