"""``dialogue-gym hindsight``: regenerate a dataset with the hindsight pipeline."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .common import add_backend_args, backend_of


def run(args: argparse.Namespace) -> int:
    """Regenerate a dataset with the hindsight pipeline."""
    from ..hindsight.pipeline import run

    summary = run(
        args.inp,
        args.out,
        args.controller,
        args.forward,
        args.reward,
        args.select,
        args.per_episode,
        args.rounds,
        args.pairs,
        fit_on=args.fit_on,
        encoder=args.encoder,
        backend=backend_of(args),
        anchor_draws=args.anchor_draws,
    )
    print(
        f"{summary['written_now']} regenerated now, {summary['regenerated_in_file']} in "
        f"{args.out}, from {summary['selected']} selected of {summary['sources']} episodes; "
        f"{len(summary['errors'])} errors"
        + (f"; {summary['pairs']} preference pairs -> {args.pairs}" if args.pairs else "")
    )
    return 0


def add_parser(sub: Any) -> None:
    """Add the subcommand to ``sub`` (the CLI's subparsers)."""
    from ..hindsight.pipeline import CONTROLLERS, FORWARDS, REWARDS

    h = sub.add_parser("hindsight", help="regenerate a dataset (hindsight relabeling)")
    h.add_argument("--in", dest="inp", type=Path, required=True, help="episodes (JSONL)")
    h.add_argument("--out", type=Path, required=True, help="regenerated episodes (appended)")
    h.add_argument("--controller", default="critic", help=CONTROLLERS)
    h.add_argument("--forward", default="retrieval", help=FORWARDS)
    h.add_argument("--reward", default="learned", help=REWARDS)
    h.add_argument(
        "--fit-on",
        type=Path,
        default=None,
        help="episodes to fit the learned components on (default: --in)",
    )
    h.add_argument(
        "--encoder",
        default="minilm",
        help="sentence encoder of the learned components: minilm | hash:N",
    )
    h.add_argument(
        "--select",
        default="unsuccessful",
        choices=("unsuccessful", "all"),
        help="unsuccessful: the episodes with the lowest outcome (no donation; no relief)",
    )
    h.add_argument("--per-episode", type=int, default=1)
    h.add_argument("--rounds", type=int, default=1)
    h.add_argument(
        "--anchor-draws",
        type=int,
        default=0,
        help="anchor each rewrite's reward to its source's recorded outcome: the outcome plus "
        "the imagined effect of the change over N paired continuations, less the reward "
        "ensemble's penalty x its spread (0: not anchored; 4 in the benchmark)",
    )
    h.add_argument("--pairs", type=Path, default=None, help="also write DPO preference pairs")
    add_backend_args(h)
    h.set_defaults(func=run)
