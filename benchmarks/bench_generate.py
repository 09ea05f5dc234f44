"""Episodes per second of ``generate`` (embedded Persuasion-v0, scripted agent), 1 vs 2 processes.

Includes writing each episode durably (flush + fsync per line). Usage:
``python benchmarks/bench_generate.py [--episodes 10000]``
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from dialogue_gym.generate import generate


def main() -> None:
    """Print episodes/s for each number of processes."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--episodes", type=int, default=10_000)
    p.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    args = p.parse_args()
    for k in args.processes:
        with tempfile.TemporaryDirectory() as d:
            s = generate(
                "Persuasion-v0",
                "scripted",
                args.episodes,
                Path(d) / "g.jsonl",
                concurrency=k,
                progress=False,
            )
        print(
            f"{k} process(es): {s.written} episodes in {s.elapsed_s:.1f} s = "
            f"{s.episodes_per_s:.0f} episodes/s"
        )


if __name__ == "__main__":
    main()
