"""The README's "which model" table, written from LLM user reports."""

from __future__ import annotations

import json

import pytest
from fake_users import fixed_user

from dialogue_gym.errors import InvalidInput
from dialogue_gym.llm.fake_server import FakeChatServer
from dialogue_gym.validation.llm_user_report import llm_user_report
from dialogue_gym.validation.which_model import (
    COLUMNS,
    END,
    START,
    merge,
    replace_block,
    summarize,
    which_model_table,
)

gives_one = fixed_user(1, 2, "Okay.")
"""A persuadee that gives $1 and a seeker who ends at intensity 2, whatever was said."""


def test_a_report_becomes_a_row_that_says_why_a_figure_is_missing(
    shared_data, tmp_path, monkeypatch
):
    monkeypatch.setenv("DIALOGUE_GYM_CACHE_DIR", str(tmp_path / "cache"))
    with FakeChatServer(gives_one) as server:
        spec = f"{server.url}#fake"
        report = llm_user_report(shared_data, spec, limit=3, parts=("p4g", "esconv"), max_turns=2)
    summary = summarize(report)
    # the corpora's per-dialogue outcomes and the cards stay out of the summary
    text = json.dumps(summary)
    assert "outcomes" not in text and "card_example" not in text and "Stay in this role" not in text
    table = which_model_table([summary]).splitlines()
    assert table[0] == "| " + " | ".join(COLUMNS) + " |"
    cells = [c.strip() for c in table[2].strip("|").split("|")]
    assert len(cells) == len(COLUMNS) and cells[0] == f"`{spec}`"
    assert cells[1] == "3 P4G, 3 ESConv, cut at 2 turns"
    # every persuadee gives $1: no AUC or Spearman can be computed, and the row says so
    assert cells[2] == "undefined: one outcome for all" and cells[5] == cells[2]
    real = report["p4g_replay"]["real"]
    assert cells[3] == f"1.00 [1.00, 1.00] ({real['mean']:.2f})"
    assert cells[4] == f"0.00 ({real['share_zero']:.2f})"
    assert cells[8] == cells[9] == cells[10] == "not run"  # no agent part was run
    assert cells[11].startswith(f"{report['cost']['requests']} requests sent")
    assert table[-1].startswith("| your model |")


def test_the_block_between_the_markers_is_replaced_and_nothing_else():
    readme = f"intro\n{START}\nold table\n{END}\noutro\n"
    assert replace_block(readme, "new\n") == f"intro\n{START}\nnew\n{END}\noutro\n"
    with pytest.raises(InvalidInput, match="markers"):
        replace_block("no markers here", "new\n")


def _cells(summary: dict) -> list[str]:
    line = which_model_table([summary]).splitlines()[2]
    return [c.strip() for c in line.strip("|").split("|")]


def test_reports_of_one_model_that_ran_different_parts_merge_into_one_row(
    shared_data, tmp_path, monkeypatch
):
    monkeypatch.setenv("DIALOGUE_GYM_CACHE_DIR", str(tmp_path / "cache"))
    with FakeChatServer(gives_one) as server:
        spec = f"{server.url}#fake"
        replays = llm_user_report(shared_data, spec, limit=3, parts=("p4g",), max_turns=2)
        parts = ("cooperation", "probes")
        agents = llm_user_report(shared_data, spec, limit=4, parts=parts, max_turns=2)
        again = llm_user_report(shared_data, spec, limit=5, parts=("p4g",), max_turns=2)
    assert "episodes" not in replays and agents["episodes"] == 4
    merged = merge(summarize(replays), summarize(agents))
    assert merged["parts"] == ["p4g", "cooperation", "probes"] and merged["p4g"]["dialogues"] == 3
    cells = _cells(merged)
    assert cells[1] == "3 P4G, 4 episodes per agent, cut at 2 turns"
    # the small-talk verdict carries its figures: LLM user minus embedded, interval, p
    talk = agents["over_cooperation"]["persuasion / small talk"]
    lo, hi = talk["diff_ci95"]
    assert cells[8].startswith("persuasion: ") and (
        f"({talk['diff']:+.2f} [{lo:.2f}, {hi:.2f}], p {talk['p']:.3f})" in cells[8]
    )
    assert cells[9] == "not run" and cells[6] == "not run"  # discrimination, ESConv
    # this user answers the same whatever is said: no probe moves it
    assert cells[10] == "none of 10"
    moved = merged["probes"]["persuasion / injection"]["llm"] | {"effect": 0.5, "p": 0.01}
    probes = merged["probes"] | {
        "persuasion / injection": {"llm": moved, "embedded": {"effect": 0}}
    }
    assert _cells(merged | {"probes": probes})[10] == "persuasion / injection +0.50 (+0.00)"
    untested = probes | {"persuasion / injection": {"llm": moved | {"p": float("nan")}}}
    assert _cells(merged | {"probes": untested})[10] == (
        "none of 10; 1 untestable (too few valid episodes)"
    )
    # the cost names each run by its parts
    assert cells[11].startswith(f"p4g: {replays['cost']['requests']} requests sent")
    assert f"; cooperation+probes: {agents['cost']['requests']} requests sent" in cells[11]
    # a new report of a part replaces the kept one, and the run it came from
    remerged = merge(merged, summarize(again))
    assert remerged["p4g"]["dialogues"] == 5 and "over_cooperation" in remerged
    assert [r["parts"] for r in remerged["runs"]] == [["cooperation", "probes"], ["p4g"]]
    # a report of every kept part replaces the row, its cost too
    replaced = merge(summarize(replays), summarize(again))
    assert [r["parts"] for r in replaced["runs"]] == [["p4g"]] and "cost" not in replaced
    assert _cells(replaced)[11].startswith(f"{again['cost']['requests']} requests sent")
    # reports that cannot share a row are refused
    with pytest.raises(InvalidInput, match="max_turns"):
        merge(merged, summarize(replays) | {"max_turns": 3})
    with pytest.raises(InvalidInput, match="4 and 6 episodes per agent"):
        merge(merged, summarize(agents) | {"parts": ["discrimination"], "episodes": 6})
