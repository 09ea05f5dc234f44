"""Episode schema and JSONL I/O, resumable generation (kill -9), loaders, exports, stats."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from dialogue_gym.episode import SCHEMA_VERSION, Episode, Turn
from dialogue_gym.export import (
    sft_records,
    strategy_transitions,
    to_hf_dataset,
    to_parquet,
    utterance_transitions,
)
from dialogue_gym.generate import generate
from dialogue_gym.jsonl import EpisodeWriter, read_episodes
from dialogue_gym.loaders import load_all, load_esconv_json, load_p4g_corpus

DATA = Path(__file__).parent / "data"


def _episode(i: int, reward: float | None = 1.0) -> Episode:
    turns = [Turn("assistant", f"hello {i}", ["non-strategy"]), Turn("user", "hi")]
    return Episode(id=f"e{i}", env_id="Persuasion-v0", turns=turns, reward=reward, seed=i)


def test_episode_round_trip_and_validation():
    e = _episode(1)
    assert Episode.from_dict(json.loads(json.dumps(e.to_dict()))) == e
    assert e.to_dict()["schema_version"] == SCHEMA_VERSION
    with pytest.raises(ValueError, match="schema_version"):
        Episode.from_dict({**e.to_dict(), "schema_version": 99})
    with pytest.raises(ValueError, match="missing"):
        Episode.from_dict({"schema_version": SCHEMA_VERSION, "id": "x"})
    with pytest.raises(ValueError, match="role"):
        Turn("narrator", "x")
    with pytest.raises(ValueError, match="status"):
        Episode(id="x", env_id="Persuasion-v0", turns=[], reward=0.0, status="weird")


def test_torn_last_line_is_reported_then_repaired(tmp_path):
    path = tmp_path / "d.jsonl"
    with EpisodeWriter(path) as w:
        w.write(_episode(1))
        w.write(_episode(2))
    with open(path, "ab") as f:
        f.write(b'{"id": "e3", "env_id": "Pers')  # a killed writer
    episodes, report = read_episodes(path)
    assert [e.id for e in episodes] == ["e1", "e2"] and report.torn_tail
    with EpisodeWriter(path) as w:
        assert w.repaired
        w.write(_episode(3))
    episodes, report = read_episodes(path)
    assert [e.id for e in episodes] == ["e1", "e2", "e3"] and not report.torn_tail
    path.write_text(path.read_text() + "not json\n")
    _, report = read_episodes(path)
    assert report.bad_lines and report.bad_lines[0][0] == 4


def _content(path):
    episodes, report = read_episodes(path)
    assert not report.bad_lines
    return {
        e.id: (e.seed, e.reward, [(t.role, t.text, tuple(t.strategies)) for t in e.turns])
        for e in episodes
    }, len(episodes)


@pytest.mark.slow
def test_generate_resumes_after_kill_9_with_identical_content(tmp_path):
    n = 400
    ref = tmp_path / "ref.jsonl"
    generate("Persuasion-v0", "human-like", n, ref, seed=7, progress=False)
    out = tmp_path / "killed.jsonl"
    cmd = [
        sys.executable,
        "-m",
        "dialogue_gym.cli",
        "generate",
        "--env",
        "Persuasion-v0",
        "--agent",
        "human-like",
        "--episodes",
        str(n),
        "--seed",
        "7",
        "--out",
        str(out),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        if out.exists() and out.stat().st_size > 20_000:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partial, count = _content(out)
    assert 0 < count < n, "the kill should land mid-run"
    rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{count} already there" in rerun.stdout
    got, total = _content(out)
    want, _ = _content(ref)
    assert total == n and len(got) == n
    assert got == want


def test_generate_refuses_a_file_of_another_configuration(tmp_path):
    out = tmp_path / "d.jsonl"
    generate("Counseling-v0", "scripted", 3, out, progress=False)
    again = generate("Counseling-v0", "scripted", 3, out, progress=False)
    assert again.written == 0 and again.already_done == 3
    with pytest.raises(ValueError, match="another configuration"):
        generate("Counseling-v0", "random", 3, out, progress=False)


@pytest.mark.slow
def test_generate_with_two_processes_matches_one(tmp_path):
    a = generate("Counseling-v0", "human-like", 60, tmp_path / "a.jsonl", progress=False)
    b = generate(
        "Counseling-v0", "human-like", 60, tmp_path / "b.jsonl", concurrency=2, progress=False
    )
    assert a.written == b.written == 60
    assert _content(tmp_path / "a.jsonl") == _content(tmp_path / "b.jsonl")


def test_generated_episodes_carry_labels_outcome_and_config(tmp_path):
    out = tmp_path / "d.jsonl"
    generate("Counseling-v0", "scripted:noise=0.1", 5, out, seed=3, progress=False)
    episodes, _ = read_episodes(out)
    e = episodes[0]
    assert e.seed == 3 and e.agent["spec"] == "scripted:noise=0.1" and e.agent["noise"] == 0.1
    assert e.turns[0].role == "user"  # the seeker opens
    assert all(t.strategies for t in e.turns if t.role == "assistant")
    assert e.outcome["initial_intensity"] - e.outcome["final_intensity"] == e.reward
    assert all(t.timestamp for t in e.turns)


def test_loaders_count_the_real_corpora(shared_data):
    corpora = load_all(shared_data)
    assert len(corpora["p4g"]) == 1017 and len(corpora["esconv"]) == 1300
    p4g = corpora["p4g"]
    assert all(0 <= e.reward <= 2 for e in p4g)
    assert abs(np.mean([e.reward for e in p4g]) - 0.409) < 0.01
    assert p4g[0].turns[0].role == "assistant"
    esconv = corpora["esconv"]
    assert sum(e.reward is None for e in esconv) == 150  # no final intensity in the survey
    csv_eps = load_p4g_corpus(shared_data / "p4g/corpus")
    assert len(csv_eps) == 1017
    assert sum(e.outcome["annotated"] for e in csv_eps) == 300
    assert max(e.reward for e in csv_eps) == 2.0  # the $700 donation is clipped
    labelled = [e for e in csv_eps if e.outcome["annotated"]][0]
    assert any(t.strategies for t in labelled.turns if t.role == "assistant")


def test_esconv_original_json_form():
    eps = load_esconv_json(DATA / "esconv_original_small.json")
    assert len(eps) == 2
    e = eps[0]
    assert e.reward == 3.0 and e.outcome["problem_type"] == "job crisis"
    assert [t.role for t in e.turns] == [
        "user",
        "assistant",
        "user",
        "assistant",
        "assistant",
        "user",
    ]
    assert e.turns[1].strategies == ["Question"] and e.turns[0].strategies == []
    assert eps[1].reward is None


def test_exports(tmp_path):
    out = tmp_path / "d.jsonl"
    generate("Persuasion-v0", "human-like", 20, out, progress=False)
    episodes, _ = read_episodes(out)
    ds = to_hf_dataset(episodes)
    assert len(ds) == 20 and ds[0]["messages"][0]["role"] == "assistant"
    to_parquet(episodes, tmp_path / "d.parquet")
    import pyarrow.parquet as pq

    assert pq.read_table(tmp_path / "d.parquet").num_rows == 20
    sft = sft_records(episodes)
    assert len(sft) == sum(len(e.agent_turns) for e in episodes)
    first = sft[0]
    assert first["prompt"][0]["role"] == "system" and first["completion"][0]["role"] == "assistant"
    assert all(m["role"] != "assistant" for m in first["prompt"][1:])  # nothing said before
    tr = strategy_transitions(episodes)
    n = len(tr["actions"])
    assert n == len(sft) and tr["observations"].shape == tr["next_observations"].shape
    assert tr["terminals"].sum() == 20
    assert np.isclose(tr["rewards"].sum(), sum(e.reward for e in episodes))
    assert (tr["rewards"][~tr["terminals"]] == 0).all()
    ut = utterance_transitions(episodes)
    assert len(ut) == n and ut[0]["action"] == episodes[0].turns[0].text
    failed = Episode(
        id="f", env_id="Persuasion-v0", turns=episodes[0].turns, reward=None, status="failed"
    )
    assert len(sft_records([failed])) == 0


def test_cli_data_stats_and_export(tmp_path):
    out = tmp_path / "d.jsonl"
    generate("Counseling-v0", "human-like", 30, out, progress=False)
    cli = [sys.executable, "-m", "dialogue_gym.cli", "data"]
    s = subprocess.run(
        [*cli, "stats", str(out), "--png", str(tmp_path / "h.png")], capture_output=True, text=True
    )
    assert s.returncode == 0 and "30 episodes" in s.stdout and "strategies:" in s.stdout
    assert (tmp_path / "h.png").read_bytes()[:4] == b"\x89PNG"
    e = subprocess.run(
        [
            *cli,
            "export",
            str(out),
            "--to",
            "transitions-strategy",
            "--out",
            str(tmp_path / "t.npz"),
        ],
        capture_output=True,
        text=True,
    )
    assert e.returncode == 0, e.stderr
    assert set(np.load(tmp_path / "t.npz")) >= {"observations", "actions", "rewards"}
