"""Throughput of ``generate`` on this machine and on Ray, and what Ray costs per episode.

Plays the same episodes (``--agent`` on ``--env``, seeds 0..N-1) with the local backend (one
process, then ``--local-workers`` processes) and with Ray (a Ray instance started on this machine,
then 1 and 2 workers), checks that every run wrote the same episodes, and prints episodes/s. Ray's
cost is split into a fixed part (a 1-episode run: actors start and import the toolkit) and a
per-episode part (the slope between the N-episode and 1-episode runs, against the local one
process's). ``--ray-address`` measures an existing cluster instead.

Usage: ``python benchmarks/bench_ray.py [--episodes 400] [--env Persuasion-v0]
[--agent human-like] [--ray-address HOST:PORT]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from dialogue_gym.executor import Backend, ray_init
from dialogue_gym.generate import generate


def _run(path: Path, n: int, args: argparse.Namespace, backend: Backend, workers: int = 1) -> float:
    if path.exists():
        path.unlink()
    t = time.perf_counter()
    generate(args.env, args.agent, n, path, progress=False, concurrency=workers, backend=backend)
    return time.perf_counter() - t


def _content(path: Path) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    for r in rows:
        for turn in r["turns"]:
            turn.pop("timestamp")
    return rows


def main() -> None:
    """Print the table."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--episodes", type=int, default=400)
    p.add_argument("--env", default="Persuasion-v0")
    p.add_argument("--agent", default="human-like")
    p.add_argument("--local-workers", type=int, default=2)
    p.add_argument("--ray-address", default=None)
    args = p.parse_args()
    n = args.episodes
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f};"
        f" {n} episodes of {args.agent} on {args.env}"
    )
    tmp = Path(tempfile.mkdtemp())
    rows = []
    _run(tmp / "warm.jsonl", 2, args, Backend())  # load the reader's model in this process first
    local_fixed = _run(tmp / "one-local.jsonl", 1, args, Backend())
    base = _run(tmp / "local1.jsonl", n, args, Backend())
    rows.append(("local, 1 process", base, "local1"))
    t = _run(tmp / "localN.jsonl", n, args, Backend(), args.local_workers)
    rows.append((f"local, {args.local_workers} processes", t, "localN"))
    t0 = time.perf_counter()
    ray_init(Backend("ray", args.ray_address, workers=2))
    start = time.perf_counter() - t0
    fixed = {}
    for workers in (1, 2):
        backend = Backend("ray", args.ray_address, workers=workers)
        fixed[workers] = _run(tmp / f"one{workers}.jsonl", 1, args, backend)
        t = _run(tmp / f"ray{workers}.jsonl", n, args, backend)
        rows.append((f"ray, {workers} worker{'s' if workers > 1 else ''}", t, f"ray{workers}"))
    reference = _content(tmp / "local1.jsonl")
    print(f"\nRay start (ray.init): {start:.1f} s\n")
    print("| backend | seconds | episodes/s | same episodes as local |")
    print("| --- | --- | --- | --- |")
    for name, seconds, stem in rows:
        same = _content(tmp / f"{stem}.jsonl") == reference
        print(f"| {name} | {seconds:.1f} | {n / seconds:.1f} | {same} |")
    per_local = (base - local_fixed) / max(1, n - 1)
    print(
        f"\nlocal, 1 process: {local_fixed:.2f} s for a 1-episode run; "
        f"{per_local * 1000:.1f} ms an episode after it"
    )
    for workers in (1, 2):
        ray_t = dict((r[2], r[1]) for r in rows)[f"ray{workers}"]
        per_ray = (ray_t - fixed[workers]) / max(1, n - 1)
        print(
            f"ray, {workers} worker(s): {fixed[workers]:.2f} s for a 1-episode run (actors "
            f"start, import the toolkit, build env and agent); {per_ray * 1000:.1f} ms an "
            f"episode after it (wall), {per_ray * workers * 1000:.1f} ms of worker time: "
            f"{(per_ray * workers - per_local) * 1000:+.1f} ms an episode against local"
        )


if __name__ == "__main__":
    main()
