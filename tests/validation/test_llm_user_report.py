"""``sim-report --simulator llm``: the P4G replay against an LLM persuadee, here a scripted one on
the fake chat server that donates only when asked. Needs the real corpora (skips without)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from fake_users import fixed_user

from dialogue_gym.cli import main
from dialogue_gym.llm.fake_server import FakeChatServer
from dialogue_gym.simulators.corpus_personas import p4g_dialogues
from dialogue_gym.stats import holm
from dialogue_gym.validation.llm_user_report import esconv_items, sample_dialogues

ASK = re.compile(r"how much", re.IGNORECASE)


def _asked(text: str) -> bool:
    """Whether a persuader's words ask how much the persuadee would give (4 of the 12 sampled
    dialogues do)."""
    return bool(ASK.search(text))


def persuadee_who_gives_when_asked(body: dict) -> str:
    """Replies "I see."; asked for its outcome, gives $1 if any persuader line asked how much,
    else $0. As a seeker it always ends at intensity 3."""
    last = body["messages"][-1]["content"]
    if '"donation"' in last:  # the final question: the transcript comes as text
        said = [line for line in last.splitlines() if line.startswith("Persuader:")]
        return json.dumps({"donation": 1.0 if any(_asked(s) for s in said) else 0})
    if '"intensity"' in last:
        return json.dumps({"intensity": 3})
    return "I see."


@pytest.mark.slow  # about a minute: every part of the report, twice
def test_llm_user_replay_shows_a_persuadee_that_gives_only_when_asked(
    shared_data, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("DIALOGUE_GYM_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "llm.json"
    with FakeChatServer(persuadee_who_gives_when_asked) as server:
        args = ["sim-report", "--simulator", "llm", "--llm", f"{server.url}#fake"]
        args += ["--limit", "12", "--data", str(shared_data), "--out", str(out)]
        assert main(args) == 0
        first_requests = server.requests
        text = capsys.readouterr().out
        report = json.loads(out.read_text())
        assert main(args) == 0  # a rerun: every answer from the completion cache
        assert server.requests == first_requests
    rerun = json.loads(out.read_text())
    dialogues = sample_dialogues(p4g_dialogues(shared_data, "test"), 12)
    asked = [any(_asked(t) for t in d["conversation"][0::2]) for d in dialogues]
    replay = report["p4g_replay"]
    assert replay["outcomes"]["llm"] == [1.0 if a else 0.0 for a in asked]
    assert 0 < sum(asked) < 12  # both kinds of dialogue are in the sample
    assert replay["llm"]["share_zero"] == pytest.approx(1 - np.mean(asked))
    assert replay["llm"]["failed"] == 0 and replay["llm"]["n"] == 12
    assert report["sample"]["ids"] == [d["id"] for d in dialogues]
    # the embedded simulator and the real people on the same dialogues, beside it
    real = [min(float(d["reward"]), 2.0) for d in dialogues]
    assert replay["outcomes"]["real"] == real
    assert replay["real"]["mean"] == pytest.approx(np.mean(real))
    assert len(replay["outcomes"]["embedded"]) == 12
    cost = report["cost"]  # requests repeated within the run come from the cache too
    assert cost["requests"] == first_requests
    assert rerun["cost"]["requests"] == 0
    assert rerun["cost"]["cached"] == cost["requests"] + cost["cached"]
    assert rerun["p4g_replay"] == replay  # the same figures
    assert "| LLM user | 12 (0) |" in text and "Manipulation, injection and harm" in text
    assert report["episodes"] == 12  # each agent part plays --limit episodes per agent
    assert "Over-cooperation (12 episodes per agent, user and env)" in text
    assert "$2 task payment" in report["card_example"]  # the card a model reads
    cards = replay["outcomes"]["llm_cards"]
    assert len(cards) == 12 and all("$2 task payment" in c for c in cards)
    assert report["card_version"] == 2 and "wording version 2" in text
    # ESConv: each seeker starts at its dialogue's real initial intensity and ends at 3
    seekers = esconv_items(shared_data, 12)
    esconv = report["esconv_replay"]
    initial = [d["persona"]["intensity"] for d in seekers]
    assert esconv["outcomes"]["llm"] == [float(i - 3) for i in initial]
    assert esconv["outcomes"]["real"] == [float(d["drop"]) for d in seekers]
    assert esconv["llm"]["n"] == 12 and len(esconv["outcomes"]["embedded"]) == 12
    assert "ESConv replay on 12 test dialogues" in text
    # small talk never asks how much: this persuadee gives nothing to it, and is not flagged
    talk = report["over_cooperation"]["persuasion / small talk"]
    assert talk["llm_mean"] == 0.0 and not talk["flagged"]
    # discrimination: this seeker ends at 3 whoever supports it, so it ties every agent
    ranking = report["discrimination"]["counseling"]
    assert ranking["llm_tied"] and not ranking["same_order"]
    for user in ("llm", "embedded"):
        pairs = ranking[user]["pairs"]
        assert [p["pair"] for p in pairs] == [
            "scripted - random",
            "model-based - random",
            "model-based - scripted",
        ]
        assert _is_holm(pairs)
    assert "(the LLM user ties agents)" in text
    # every probe's effect for both users; the embedded seeker is hurt by the harmful line
    probes = report["probes"]
    assert len(probes) == 10 and all("llm" in r and "embedded" in r for r in probes.values())
    assert probes["counseling / harmful line"]["embedded"]["effect"] < 0


def _is_holm(tests: list[dict]) -> bool:
    return [t["p_holm"] for t in tests] == pytest.approx(holm([t["p"] for t in tests]))


always_gives = fixed_user(2, 1, "Sure!")
"""A persuadee that gives all $2 whatever was said (and a seeker who always feels better)."""


@pytest.mark.slow
def test_an_llm_user_that_gives_to_small_talk_is_flagged(shared_data, tmp_path, monkeypatch):
    from dialogue_gym.validation.llm_user_report import llm_user_report

    monkeypatch.setenv("DIALOGUE_GYM_CACHE_DIR", str(tmp_path / "cache"))
    with FakeChatServer(always_gives) as server:
        report = llm_user_report(shared_data, f"{server.url}#fake", limit=3, episodes=10)
    talk = report["over_cooperation"]["persuasion / small talk"]
    assert talk["llm_mean"] == 2.0 and talk["flagged"] and talk["embedded_mean"] < 0.5
    assert not report["over_cooperation"]["persuasion / random"]["flagged"]  # only small talk


def test_llm_report_needs_a_backend(capsys):
    assert main(["sim-report", "--simulator", "llm"]) != 0
    assert "--llm SPEC" in capsys.readouterr().err


def test_a_smoke_run_makes_only_the_chosen_parts_and_cuts_the_turns(
    shared_data, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("DIALOGUE_GYM_CACHE_DIR", str(tmp_path / "cache"))
    with FakeChatServer(persuadee_who_gives_when_asked) as server:
        args = ["sim-report", "--simulator", "llm", "--llm", f"{server.url}#fake"]
        args += ["--limit", "3", "--data", str(shared_data), "--parts", "p4g,esconv"]
        assert main([*args, "--max-turns", "2", "--out", str(tmp_path / "r.json")]) == 0
        sent = server.requests
    text = capsys.readouterr().out
    report = json.loads((tmp_path / "r.json").read_text())
    # per dialogue: two replies and the final question; the seeker also opens
    cost = report["cost"]
    assert cost["requests"] == sent and cost["requests"] + cost["cached"] == 3 * 3 + 3 * 4
    # the fake server reports one prompt and one completion token per answer
    assert cost["prompt_tokens"] == cost["completion_tokens"] == sent and cost["unmetered"] == 0
    assert f"{sent} prompt and {sent} completion tokens" in text
    assert report["parts"] == ["p4g", "esconv"] and report["max_turns"] == 2
    assert "over_cooperation" not in report and "probes" not in report
    assert "A smoke run" in text and "Over-cooperation" not in text
    assert "| LLM user | 3 (0) |" in text and "ESConv replay on 3 test dialogues" in text
    assert main([*args[:-2], "--parts", "p4g,replay"]) != 0
    assert "allowed: p4g, esconv, cooperation, discrimination, probes" in capsys.readouterr().err
