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


def add_parser(sub: Any) -> None:
    """Add the subcommand to ``sub`` (the CLI's subparsers)."""
    r = sub.add_parser(
        "sim-report",
        help="calibration, adaptivity, revelation, manipulation, replay, perception, harm, "
        "ordinary language",
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
