"""Write the README's "which model" table from LLM user reports (``sim-report --simulator llm``).

Each model's figures live in ``docs/llm_users/<model>.json``: a summary of its report, without the
corpora's per-dialogue outcomes or the persona cards (so it can be committed). This script adds a
report to them, or makes one, and rewrites the table in the README between its markers.

Usage:
    python scripts/which_model.py --llm SPEC [--limit 50] [--parts p4g,esconv,...]
        (run the report on SPEC, keep its summary, rewrite the table: the one command)
    python scripts/which_model.py --add REPORT.json [...]
        (keep the summaries of reports made with ``dialogue-gym sim-report --simulator llm --out``;
        reports of one model that ran different parts merge into one row)
    python scripts/which_model.py
        (rewrite the table from the kept summaries)
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from dialogue_gym.data_paths import require_data_dir
from dialogue_gym.files import atomic_write_text
from dialogue_gym.validation.llm_user_format import format_llm_user_report
from dialogue_gym.validation.llm_user_report import LIMIT, PARTS, llm_user_report
from dialogue_gym.validation.which_model import (
    merge,
    replace_block,
    summarize,
    which_model_table,
)

ROOT = Path(__file__).resolve().parents[1]
KEPT = ROOT / "docs" / "llm_users"
README = ROOT / "README.md"


def slug(llm: str) -> str:
    """A file name for a backend spec or description."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(llm)).strip("_") or "model"


def keep(report: dict) -> Path:
    """Store a report's summary, merged with the model's kept one (the new report's parts
    replace the kept ones'); returns its path."""
    summary = summarize(report)
    KEPT.mkdir(parents=True, exist_ok=True)
    path = KEPT / f"{slug(summary['llm'])}.json"
    if path.exists():
        summary = merge(json.loads(path.read_text()), summary)
    atomic_write_text(path, json.dumps(summary, indent=1) + "\n")
    return path


def rewrite_readme(readme: Path = README) -> int:
    """Rewrite the table from every kept summary; returns the number of rows."""
    summaries = [json.loads(p.read_text()) for p in sorted(KEPT.glob("*.json"))]
    atomic_write_text(readme, replace_block(readme.read_text(), which_model_table(summaries)))
    return len(summaries)


def main() -> None:
    """Parse the arguments, run or add the reports, rewrite the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--llm", default=None, help="run the report on this chat backend spec")
    parser.add_argument("--limit", type=int, default=LIMIT, help="test dialogues per replay")
    parser.add_argument("--parts", default=",".join(PARTS), help="comma-separated report parts")
    parser.add_argument("--data", type=Path, default=None, help="the corpora (../shared/data)")
    parser.add_argument("--add", type=Path, nargs="*", default=[], help="report JSON files")
    args = parser.parse_args()
    for path in args.add:
        print(f"kept {keep(json.loads(path.read_text()))}")
    if args.llm:
        parts = tuple(p.strip() for p in args.parts.split(","))
        report = llm_user_report(require_data_dir(args.data), args.llm, args.limit, parts=parts)
        print(format_llm_user_report(report), end="")
        print(f"kept {keep(report)}")
    print(f"README table: {rewrite_readme()} model(s)")


if __name__ == "__main__":
    main()
