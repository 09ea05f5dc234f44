"""``dialogue-gym sim-report``: the simulators' checks against the corpora and probes."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..errors import InvalidInput


def run(args: argparse.Namespace) -> int:
    """Run the simulator report."""
    from ..data_paths import ENV_VAR, missing_files, require_data_dir, resolve_data_dir
    from ..validation.report import main

    if args.data_limit is not None and args.data_limit < 1:
        raise InvalidInput(f"--data-limit must be >= 1, got {args.data_limit}")
    if args.simulator == "llm":
        return _llm_report(args)
    if args.llm is not None:
        raise InvalidInput("--llm needs --simulator llm")
    data, source = resolve_data_dir(args.data)
    if source == "the default" and missing_files(data):
        print(
            f"(no corpora at {data}: the real-data checks are skipped; point at them with "
            f"--data DIR or {ENV_VAR}=DIR)",
            file=sys.stderr,
        )
        data = None
    else:
        data = require_data_dir(args.data)  # given on purpose: missing files are an error
    budget = {
        k: v
        for k, v in (("iterations", args.search_iterations), ("samples", args.search_samples))
        if v is not None
    }
    for k, v in budget.items():
        if v < 1:
            raise InvalidInput(f"--search-{k} must be >= 1, got {v}")
    if "samples" in budget:
        budget["elite"] = max(1, min(20, budget["samples"] // 10))
    return main(args.episodes, args.seed, data, args.out, args.data_limit, budget or None)


def _llm_report(args: argparse.Namespace) -> int:
    """``--simulator llm``: the LLM user's checks against the real people (needs the corpora)."""
    import json

    from ..data_paths import require_data_dir
    from ..files import atomic_write_text
    from ..validation.llm_user_format import format_llm_user_report
    from ..validation.llm_user_report import PARTS, llm_user_report

    if not args.llm:
        raise InvalidInput("--simulator llm needs --llm SPEC (e.g. local:smollm2)")
    if args.limit is not None and args.limit < 2:
        raise InvalidInput(f"--limit must be >= 2 dialogues, got {args.limit}")
    parts = tuple(x.strip() for x in args.parts.split(",")) if args.parts else PARTS
    report = llm_user_report(
        require_data_dir(args.data), args.llm, args.limit, parts=parts, max_turns=args.max_turns
    )
    print(format_llm_user_report(report), end="")
    if args.out:
        atomic_write_text(args.out, json.dumps(report, indent=1))
    return 0


def add_parser(sub: Any) -> None:
    """Add the subcommand to ``sub`` (the CLI's subparsers)."""
    r = sub.add_parser(
        "sim-report",
        help="calibration, adaptivity, revelation, manipulation, replay, perception, harm, "
        "ordinary language",
    )
    r.add_argument(
        "--simulator",
        choices=("embedded", "llm"),
        default="embedded",
        help="whose report: the embedded users (default) or an LLM user (--llm)",
    )
    r.add_argument("--llm", default=None, help="with --simulator llm: the chat backend spec")
    r.add_argument(
        "--limit",
        type=int,
        default=50,
        help="with --simulator llm: test dialogues per replay (a fixed-seed sample; default 50)",
    )
    r.add_argument(
        "--parts",
        default=None,
        help="with --simulator llm: comma-separated parts to run, of p4g, esconv, cooperation, "
        "discrimination, probes (default: all)",
    )
    r.add_argument(
        "--max-turns",
        type=int,
        default=None,
        help="with --simulator llm: stop every replay and episode after this many agent turns "
        "(a smoke run; default: each real dialogue's length and the env's)",
    )
    r.add_argument("--episodes", type=int, default=500, help="episodes per env and agent")
    r.add_argument("--seed", type=int, default=100_000, help="first episode seed")
    r.add_argument(
        "--data", type=Path, default=None, help="corpora ($DIALOGUE_GYM_DATA or ../shared/data)"
    )
    r.add_argument("--out", type=Path, default=None, help="also write the report as JSON")
    r.add_argument(
        "--search-iterations",
        type=int,
        default=None,
        help="open-loop search iterations (default 12)",
    )
    r.add_argument(
        "--search-samples",
        type=int,
        default=None,
        help="scripts per search iteration (default 200; elite a tenth)",
    )
    r.add_argument(
        "--data-limit",
        type=int,
        default=None,
        help="use only the first N real dialogues and texts in the real-data checks (a quick run)",
    )
    r.set_defaults(func=run)
