"""Strategy-level learners end to end, checkpoints, the train CLI and the benchmark's quick path."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import dialogue_gym
from dialogue_gym.agents.bc import BCArgs, train_bc
from dialogue_gym.agents.cql import CQLArgs, train_cql
from dialogue_gym.agents.iql import IQLArgs, train_iql
from dialogue_gym.agents.learned import load_agent, save_checkpoint
from dialogue_gym.agents.offline_data import OfflineData
from dialogue_gym.agents.registry import make_agent
from dialogue_gym.benchmark import MAIN, BenchmarkConfig, run_benchmark
from dialogue_gym.generate import generate
from dialogue_gym.jsonl import read_episodes
from dialogue_gym.llm.fake_server import FakeChatServer

EVAL = dict(episodes=60, seed=777_000, progress=False, oracle=False)


@pytest.fixture(scope="module")
def counseling_data(tmp_path_factory):
    path = tmp_path_factory.mktemp("learn") / "c.jsonl"
    generate("Counseling-v0", "human-like", 250, path, progress=False)
    return path, OfflineData.from_episodes(read_episodes(path)[0])


def _is_holm_family(tests: list[dict]) -> bool:
    """Each adjusted p is Holm's over exactly this family: the k-th smallest p times (m - k),
    made monotone and capped at 1 (written out here, apart from ``stats.holm``)."""
    ps = sorted((t["p"], i) for i, t in enumerate(tests))
    expected, running = {}, 0.0
    for k, (p, i) in enumerate(ps):
        running = max(running, min(1.0, (len(ps) - k) * p))
        expected[i] = running
    return all(abs(t["p_holm"] - expected[i]) < 1e-12 for i, t in enumerate(tests))


@pytest.mark.slow
def test_learned_agents_beat_random_far_outside_noise(counseling_data):
    _, data = counseling_data
    rnd = dialogue_gym.evaluate("random", "Counseling-v0", **EVAL)
    lo_random = rnd.summary["ci95"][1]
    for agent in (train_bc(data, "counseling", BCArgs(steps=400)),
                  train_cql(data, "counseling", CQLArgs(steps=400)),
                  train_iql(data, "counseling", IQLArgs(steps=400))):  # fmt: skip
        r = dialogue_gym.evaluate(agent, "Counseling-v0", **EVAL)
        # the learned agent's CI lies entirely above random's, by more than a quarter point
        # (measured with consistent seekers: BC's lower bound 1.75 vs random's upper 1.32; 2.01
        # vs 1.27 before the seekers' facts were fixed per episode)
        assert r.summary["ci95"][0] > lo_random + 0.25, (agent.name, r.summary, rnd.summary)


def test_filtered_bc_uses_the_top_episodes(counseling_data):
    _, data = counseling_data
    top = data.top_share(0.25)
    assert len(top) < len(data) and top.returns.min() >= np.quantile(data.returns, 0.7)
    agent = train_bc(data, "counseling", BCArgs(steps=50, top_share=0.25))
    assert agent.name == "filtered-bc" and agent.cfg.train["transitions"] == len(top)
    assert agent.cfg.train["kept_share"] == pytest.approx(0.25, abs=0.01)


@pytest.mark.parametrize(
    "trainer, args", [(train_bc, BCArgs), (train_cql, CQLArgs), (train_iql, IQLArgs)]
)
@pytest.mark.slow
def test_checkpoint_round_trip(trainer, args, counseling_data, tmp_path):
    _, data = counseling_data
    agent = trainer(data, "counseling", args(steps=300))
    ckpt = save_checkpoint(tmp_path / "ckpt", agent.net, agent.cfg)
    assert json.loads((ckpt / "config.json").read_text())["algo"] == agent.name
    again = load_agent(ckpt)
    info = {"messages": [{"role": "user", "content": "I lost my job and I feel awful."}],
            "turn": 0, "max_turns": 10}  # fmt: skip
    assert np.allclose(agent.scores(info), again.scores(info))
    by_name = make_agent(f"policy:path={ckpt}", "counseling")
    a = dialogue_gym.evaluate(agent, "Counseling-v0", episodes=5, seed=1, progress=False,
                              oracle=False)  # fmt: skip
    b = dialogue_gym.evaluate(by_name, "Counseling-v0", episodes=5, seed=1, progress=False,
                              oracle=False)  # fmt: skip
    assert [e.reward for e in a.episodes] == [e.reward for e in b.episodes]
    with pytest.raises(ValueError, match="not 'persuasion'"):
        load_agent(ckpt, "persuasion")


@pytest.mark.slow
def test_train_cli(counseling_data, tmp_path):
    path, _ = counseling_data
    out = tmp_path / "cql"
    proc = subprocess.run(
        [sys.executable, "-m", "dialogue_gym.cli", "train", "--algo", "cql", "--data", str(path),
         "--out", str(out), "--steps", "50"], capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert (out / "model.pt").exists() and "policy:path=" in proc.stdout
    assert make_agent(f"policy:path={out}", "counseling").name == "cql"
    # a checkpoint is labelled by how it was trained: with regenerated episodes, "+hindsight"
    both = tmp_path / "cql_h"
    proc = subprocess.run(
        [sys.executable, "-m", "dialogue_gym.cli", "train", "--algo", "cql", "--data", str(path),
         "--regenerated", str(path), "--out", str(both), "--steps", "5"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert make_agent(f"policy:path={both}", "counseling").name == "cql+hindsight"
    cmd = [
        sys.executable,
        "-m",
        "dialogue_gym.cli",
        "train",
        "--algo",
        "bc",
        "--out",
        str(tmp_path),
    ]
    bad = subprocess.run(cmd, capture_output=True, text=True)
    assert bad.returncode == 2 and "--data" in bad.stderr


def _llm_pair_responder(body: dict) -> str:
    """A fake chat model for the hindsight LLM pair: a fixed continuation and judgement."""
    last = body["messages"][-1]["content"]
    if "Continue this conversation" in last:
        return json.dumps({"turns": [{"role": "user", "text": "I guess that helps a little."},
                                     {"role": "agent", "text": "What would help most now?"},
                                     {"role": "user", "text": "Talking, I think."}]})  # fmt: skip
    return '{"reduction": 1.5}'


def test_llm_pair_records_unusable_answers(counseling_data):
    from dialogue_gym.benchmark import llm_pair
    from dialogue_gym.hindsight import CriticController

    episodes = read_episodes(counseling_data[0])[0][:60]
    cfg = BenchmarkConfig(encoder="hash:512", llm_episodes=2)
    with FakeChatServer(lambda body: "I cannot answer in JSON.") as server:
        cfg.llm = f"{server.url}#fake"
        regen, errors = llm_pair(episodes, cfg, CriticController(episodes, "hash:512"))
    assert regen == [] and len(errors) == 2
    assert all(e.startswith("ParseFailure: ") for e in errors)


@pytest.mark.slow
def test_benchmark_quick_path_reduced(tmp_path, monkeypatch):
    from dialogue_gym.agents.learned import LearnedAgent
    from dialogue_gym.agents.sb3 import SB3Agent

    seen: list[bool] = []  # did a learned agent ever get the hidden persona?
    for cls in (LearnedAgent, SB3Agent):
        original = cls.act
        monkeypatch.setattr(cls, "act", lambda self, o, info, f=original: (
            seen.append("privileged" in info), f(self, o, info))[1])  # fmt: skip
    # a user's own agent, by file path, that records whether it was ever given the hidden persona
    mine = tmp_path / "mine.py"
    mine.write_text(
        "from dialogue_gym.agents.base import Agent\n"
        "SEEN = []\n"
        "class Mine(Agent):\n"
        "    name = 'mine'\n"
        "    def __init__(self, domain):\n"
        "        self.domain = domain\n"
        "    def act(self, observation, info):\n"
        "        SEEN.append('privileged' in info)\n"
        "        return 'That sounds really hard. How are you feeling about it?'\n"
    )
    with FakeChatServer(_llm_pair_responder) as server:  # the LLM forward/reward pair
        cfg = BenchmarkConfig(envs=("Counseling-v0",), dataset_episodes=80, eval_episodes=15,
                              train_seeds=2, offline_steps=60, ppo_steps=256,
                              model_based_samples=2, n_boot=500, added_agents=(f"{mine}:Mine",),
                              encoder="hash:512", sweep_sizes=(40,), llm=f"{server.url}#fake",
                              llm_episodes=3)  # fmt: skip
        results, md = run_benchmark(cfg, tmp_path, log=lambda m: None)
    assert seen and not any(seen)
    import sys

    user_module = next(m for n, m in sys.modules.items() if n.startswith("dialogue_gym_user_mine"))
    assert user_module.SEEN and not any(user_module.SEEN)
    rows = {r["method"]: r for r in results[0]["rows"]}
    assert rows["mine"]["added"] and rows["mine"]["n_episodes"] == 15
    added_tests = results[0]["added_tests"]["mine"]
    assert {t["versus"] for t in added_tests} == set(rows) - {"mine"}
    assert _is_holm_family(added_tests) and "| mine (added) vs |" in md
    assert {"random", "oracle", "model-based", "bc", "filtered-bc", "cql", MAIN, "ppo",
            "cql+hindsight(oracle-fwd)", "cql+hindsight(privileged)",
            "cql+hindsight(2 rounds)"} <= set(rows)  # fmt: skip
    bc = rows["bc"]
    assert bc["n_episodes"] == 30 and len(bc["run_means"]) == 2 and bc["n_runs"] == 2
    assert bc["ci95"][0] <= bc["mean_return"] <= bc["ci95"][1]
    rand, orc = rows["random"]["mean_return"], rows["oracle"]["mean_return"]
    expected = (bc["mean_return"] - rand) / (orc - rand)  # bc's place between random and oracle
    assert bc["normalized_score"] == pytest.approx(expected, abs=1e-9)
    assert bc["env_episodes"] == 80 and rows["ppo"]["env_episodes"] > 0
    # a fresh behaviour dataset per training seed; the ablation pays for every true-env episode
    data = results[0]["datasets"]
    assert [d["data_seed"] for d in data] == [0, 80]
    oracle_cost = np.mean([80 + d["oracle_env_episodes"] for d in data])
    assert rows["cql+hindsight(oracle-fwd)"]["env_episodes"] == int(oracle_cost)
    assert all(d["oracle_env_episodes"] == 2 * d["regenerated"]["true-env"] for d in data)
    gap = data[0]["imagination_gap"]["learned"]
    assert gap["n"] == data[0]["regenerated"]["learned"] and "true_mean" in gap
    pooled = results[0]["imagination_gap"]
    assert set(pooled) == {"learned", "round 2", "privileged", "true-env", "llm"}
    # the LLM pair: 3 rewrites per run, each judged 1.5 and replayed in the true env
    assert pooled["llm"]["n"] == 6 and pooled["llm"]["imagined_mean"] == 1.5
    assert all(d["llm_errors"] == [] for d in data)
    assert "The llm pair (" in md and "regenerated 6 of the 6 unsuccessful episodes" in md
    if pooled["true-env"]["n"]:
        assert pooled["true-env"]["gap"] == 0.0  # the true env scored its own regenerations
    sweep = results[0]["sweep"]
    assert [w["episodes"] for w in sweep] == [40, 80]
    assert _is_holm_family(sweep)
    tests = results[0]["tests"]
    assert {t["versus"] for t in tests} == set(rows) - {MAIN, "mine"}  # its own family only
    assert _is_holm_family(tests)
    for name in ("benchmark.md", "benchmark.json", "benchmark.png"):
        assert (tmp_path / name).exists()
    assert "| cql+hindsight (learned from the data) |" in md and "p (Holm)" in md
    assert "Imagination gap" in md and "Data-size sweep" in md


@pytest.mark.slow
def test_benchmark_can_keep_one_dataset_for_every_seed(tmp_path):
    cfg = BenchmarkConfig(envs=("Counseling-v0",), dataset_episodes=40, eval_episodes=5,
                          train_seeds=2, offline_steps=10, ppo_steps=64, model_based_samples=1,
                          n_boot=200, resample_data=False, encoder="hash:512",
                          sweep_sizes=())  # fmt: skip
    results, md = run_benchmark(cfg, tmp_path, log=lambda m: None)
    assert [d["data_seed"] for d in results[0]["datasets"]] == [0]
    assert "one dataset for all runs" in md
    with pytest.raises(ValueError, match="below the evaluation seeds"):
        BenchmarkConfig(dataset_episodes=600_000, train_seeds=2)


@pytest.mark.slow
def test_cql_does_not_predict_more_than_the_task_can_pay(tmp_path):
    """With alpha 1 (the paper's Atari value) the greedy policy's predicted return at the first
    turn was ~2.2 here — above the largest possible donation, $2 — and the logged actions' Q
    ~1.1 above the data's returns; the default must stay well inside."""
    from dialogue_gym.agents.cql import logged_q_vs_returns

    path = tmp_path / "p.jsonl"
    generate("Persuasion-v0", "human-like", 400, path, progress=False)
    data = OfflineData.from_episodes(read_episodes(path)[0])
    q = logged_q_vs_returns(train_cql(data, "persuasion", CQLArgs(steps=1500)), data)
    assert q["mean_v_start"] < 1.5 and q["over_estimate"] < 0.6, q
