"""The list, evaluate and play commands as a user runs them, in a subprocess."""

from __future__ import annotations

import json
import re

import pytest
from cli_run import run_cli


@pytest.mark.slow
def test_cli_list_and_evaluate(tmp_path):
    out = run_cli("list")
    assert out.returncode == 0 and "oracle" in out.stdout and "embedded" in out.stdout
    path = tmp_path / "result.json"
    out = run_cli(
        "evaluate",
        "--env",
        "Counseling-v0",
        "--agent",
        "scripted:noise=0.1",
        "--episodes",
        "12",
        "--seed",
        "4",
        "--out",
        str(path),
    )
    assert out.returncode == 0, out.stderr
    assert "Counseling-v0" in out.stdout and "scripted" in out.stdout
    # the wall time of the whole command, the reference runs shown apart from the agent's
    assert "refs s" in out.stdout and re.search(
        r"wall time [0-9.]+ s: the agent.s episodes", out.stdout
    )
    assert "oracle (reference)" in out.stderr
    assert json.loads(path.read_text())["summary"]["n_episodes"] == 12
    bad = run_cli("evaluate", "--env", "Counseling-v0", "--agent", "nope", "--episodes", "2")
    assert bad.returncode == 2 and "registered:" in bad.stderr


def test_cli_play_as_agent_through_stdin(tmp_path):
    path = tmp_path / "t.json"
    lines = ["Hello! How are you?", "Have you heard of Save the Children?"] * 5
    out = run_cli(
        "play",
        "--env",
        "Persuasion-v0",
        "--as",
        "agent",
        "--out",
        str(path),
        stdin="\n".join(lines) + "\n",
    )
    assert out.returncode == 0, out.stderr
    rec = json.loads(path.read_text())
    assert rec["status"] == "ok" and 0 <= rec["reward"] <= 2
    assert [m["content"] for m in rec["messages"] if m["role"] == "assistant"] == lines[
        : len([m for m in rec["messages"] if m["role"] == "assistant"])
    ]


def test_cli_play_as_user_through_stdin(tmp_path):
    path = tmp_path / "t.json"
    stdin = "4\nI lost my job and I feel awful.\nIt happened last week.\n/end\n7\n2\n"
    out = run_cli(
        "play",
        "--env",
        "Counseling-v0",
        "--as",
        "user",
        "--agent",
        "scripted",
        "--out",
        str(path),
        stdin=stdin,
    )
    assert out.returncode == 0, out.stderr
    rec = json.loads(path.read_text())
    assert rec["status"] == "ok" and rec["initial_intensity"] == 4 and rec["final_intensity"] == 2
    assert rec["reward"] == 2 and "out of range" in out.stdout
    assert rec["messages"][0] == {"role": "user", "content": "I lost my job and I feel awful."}


def test_cli_play_interrupted_keeps_the_transcript(tmp_path):
    path = tmp_path / "t.json"
    out = run_cli(
        "play", "--env", "Persuasion-v0", "--as", "agent", "--out", str(path), stdin="Hi there!\n"
    )
    assert out.returncode == 130
    rec = json.loads(path.read_text())
    assert rec["status"] == "interrupted" and rec["messages"][0]["content"] == "Hi there!"


def test_cli_play_refuses_the_oracle_as_partner(tmp_path):
    out = run_cli(
        "play",
        "--env",
        "Persuasion-v0",
        "--as",
        "user",
        "--agent",
        "oracle",
        "--out",
        str(tmp_path / "t.json"),
        stdin="",
    )
    assert out.returncode == 2 and "persona" in out.stderr
