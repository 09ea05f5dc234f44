"""Strategy-level offline learners (BC, filtered BC, CQL, IQL) end to end, their checkpoints and
the train CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from cli_run import run_cli

import dialogue_gym
from dialogue_gym.agents.bc import BCArgs, train_bc
from dialogue_gym.agents.cql import CQLArgs, train_cql
from dialogue_gym.agents.iql import IQLArgs, train_iql
from dialogue_gym.agents.learned import load_agent, save_checkpoint
from dialogue_gym.agents.offline_data import OfflineData
from dialogue_gym.agents.registry import make_agent
from dialogue_gym.generate import generate
from dialogue_gym.jsonl import read_episodes

EVAL = dict(episodes=60, seed=777_000, progress=False, oracle=False)


@pytest.fixture(scope="module")
def counseling_data(tmp_path_factory):
    path = tmp_path_factory.mktemp("learn") / "c.jsonl"
    generate("Counseling-v0", "human-like", 250, path, progress=False)
    return path, OfflineData.from_episodes(read_episodes(path)[0])


@pytest.mark.slow
def test_learned_agents_beat_random_far_outside_noise(counseling_data):
    _, data = counseling_data
    rnd = dialogue_gym.evaluate("random", "Counseling-v0", **EVAL)
    lo_random = rnd.summary["ci95"][1]
    for agent in (
        train_bc(data, "counseling", BCArgs(steps=400)),
        train_cql(data, "counseling", CQLArgs(steps=400)),
        train_iql(data, "counseling", IQLArgs(steps=400)),
    ):
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
    info = {
        "messages": [{"role": "user", "content": "I lost my job and I feel awful."}],
        "turn": 0,
        "max_turns": 10,
    }
    assert np.allclose(agent.scores(info), again.scores(info))
    by_name = make_agent(f"learned:path={ckpt}", "counseling")
    a = dialogue_gym.evaluate(
        agent, "Counseling-v0", episodes=5, seed=1, progress=False, oracle=False
    )
    b = dialogue_gym.evaluate(
        by_name, "Counseling-v0", episodes=5, seed=1, progress=False, oracle=False
    )
    assert [e.reward for e in a.episodes] == [e.reward for e in b.episodes]
    with pytest.raises(ValueError, match="not 'persuasion'"):
        load_agent(ckpt, "persuasion")


@pytest.mark.slow
def test_train_cli(counseling_data, tmp_path):
    path, _ = counseling_data
    out = tmp_path / "cql"
    proc = run_cli(
        "train", "--algo", "cql", "--data", str(path), "--out", str(out), "--steps", "50"
    )
    assert proc.returncode == 0, proc.stderr
    assert (out / "model.pt").exists() and "learned:path=" in proc.stdout
    assert make_agent(f"learned:path={out}", "counseling").name == "cql"
    # a checkpoint is labelled by how it was trained: with regenerated episodes, "+hindsight"
    both = tmp_path / "cql_h"
    proc = run_cli(
        "train",
        "--algo",
        "cql",
        "--data",
        str(path),
        "--regenerated",
        str(path),
        "--out",
        str(both),
        "--steps",
        "5",
    )
    assert proc.returncode == 0, proc.stderr
    assert make_agent(f"learned:path={both}", "counseling").name == "cql+hindsight"
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
