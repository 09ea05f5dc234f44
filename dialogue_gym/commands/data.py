"""``dialogue-gym data``: dataset tools (stats, export, convert)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..errors import InvalidData, InvalidInput


def run(args: argparse.Namespace) -> int:
    """``data stats`` / ``data export`` / ``data convert``."""
    if args.data_command == "stats":
        from ..data_stats import dataset_stats, format_stats, outcome_histogram

        print(format_stats(dataset_stats(args.file)))
        png = args.png or Path(str(args.file) + ".outcomes.png")
        try:
            outcome_histogram(args.file, png)
            print(f"  histogram: {png}")
        except ImportError:
            print("  (install matplotlib, e.g. the [data] extra, for the histogram)")
        return 0
    if args.data_command == "export":
        return _export(args)
    return _convert(args)


def _export(args: argparse.Namespace) -> int:
    import json

    import numpy as np

    from .. import export
    from ..files import atomic_write_text
    from ..jsonl import read_dataset

    episodes = read_dataset(args.file)
    out = Path(args.out)
    if args.to == "parquet":
        export.to_parquet(episodes, out)
        n = len(episodes)
    elif args.to == "transitions-strategy":
        arrays = export.strategy_transitions(episodes)
        n = len(arrays["actions"])
        _require_records(n, args)
        tmp = out.with_name(out.name + ".tmp")
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)
        tmp.replace(out)
    else:
        make = export.sft_records if args.to == "sft" else export.utterance_transitions
        rows = make(episodes)
        n = len(rows)
        _require_records(n, args)
        atomic_write_text(out, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    print(f"wrote {n} records to {out}")
    return 0


def _require_records(n: int, args: argparse.Namespace) -> None:
    if n == 0:
        raise InvalidInput(
            f"{args.file} gives no {args.to} records (its episodes have no usable agent turns "
            "or all failed); nothing written"
        )


def _convert(args: argparse.Namespace) -> int:
    from .. import loaders
    from ..jsonl import write_episodes

    load = {
        "p4g-json": loaders.load_p4g_json,
        "p4g-corpus": loaders.load_p4g_corpus,
        "esconv-jsonl": loaders.load_esconv_jsonl,
        "esconv-json": loaders.load_esconv_json,
    }[args.format]
    try:
        episodes = load(args.source)
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as e:
        raise InvalidData(f"{args.source} is not in the {args.format} form ({e!r})") from None
    if not episodes:
        raise InvalidInput(f"{args.source} holds no dialogue in the {args.format} form")
    n = write_episodes(args.out, episodes)
    print(f"wrote {n} episodes to {args.out}")
    return 0


def add_parser(sub: Any) -> None:
    """Add the subcommand to ``sub`` (the CLI's subparsers)."""
    data = sub.add_parser("data", help="dataset tools: stats, export, convert")
    dsub = data.add_subparsers(dest="data_command", required=True)
    st = dsub.add_parser("stats", help="counts, outcomes, turns, strategies, PNG histogram")
    st.add_argument("file", type=Path)
    st.add_argument(
        "--png", type=Path, default=None, help="histogram path (default FILE.outcomes.png)"
    )
    ex = dsub.add_parser("export", help="to Parquet, SFT records or offline-RL transitions")
    ex.add_argument("file", type=Path)
    ex.add_argument(
        "--to",
        required=True,
        choices=("parquet", "sft", "transitions-strategy", "transitions-utterance"),
    )
    ex.add_argument("--out", type=Path, required=True)
    cv = dsub.add_parser("convert", help="a real corpus to the Episode JSONL format")
    cv.add_argument("source", type=Path, help="corpus file (or the p4g/corpus folder)")
    cv.add_argument(
        "--format", required=True, choices=("p4g-json", "p4g-corpus", "esconv-jsonl", "esconv-json")
    )
    cv.add_argument("--out", type=Path, required=True)
    data.set_defaults(func=run)
