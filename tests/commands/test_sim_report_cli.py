"""``dialogue-gym sim-report`` as a user runs it: the real-data checks on a few dialogues, and
the JSON file (its own file so that pytest-xdist runs it beside the report's other slow test)."""

from __future__ import annotations

import json

import pytest
from cli_run import run_cli


@pytest.mark.slow
def test_sim_report_cli_writes_json(tmp_path, shared_data):
    out = tmp_path / "report.json"
    proc = run_cli(
        "sim-report",
        "--episodes",
        "20",
        "--data",
        str(shared_data),
        "--out",
        str(out),
        "--data-limit",
        "10",
        "--search-iterations",
        "1",
        "--search-samples",
        "10",
    )
    for name in ("e. P4G replay", "e. ESConv replay", "f. perception", "g. harm", "h. wording"):
        assert name in proc.stdout, proc.stdout + proc.stderr
    report = json.loads(out.read_text())
    assert set(report["checks"]) == {"persuasion", "counseling"}
