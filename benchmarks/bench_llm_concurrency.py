"""Throughput of evaluation with an LLM-played user at concurrency K vs 1.

A local fake chat endpoint (127.0.0.1) answers every request after an injected latency (default
200 ms); the cache is off, so every episode makes its requests. Target (LLM issue): K=16 gives
>= 10x the episodes/s of K=1.

Usage: ``python benchmarks/bench_llm_concurrency.py [--latency 0.2] [--episodes 32]``
"""

from __future__ import annotations

import argparse

import dialogue_gym
from dialogue_gym.llm.fake_server import FakeChatServer


def responder(body: dict) -> str:
    """Chat replies, and a valid answer to the final JSON question."""
    last = body["messages"][-1]["content"]
    return '{"donation": 0.5}' if "JSON" in last else "Okay, tell me more."


def main() -> None:
    """Print episodes/s at each concurrency."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--latency", type=float, default=0.2)
    p.add_argument("--episodes", type=int, default=32)
    p.add_argument("--max-turns", type=int, default=2)
    p.add_argument("--k", type=int, nargs="+", default=[1, 4, 16])
    args = p.parse_args()
    rates = {}
    with FakeChatServer(responder, latency=args.latency) as server:
        for k in args.k:
            before = server.requests
            r = dialogue_gym.evaluate(
                "scripted",
                "Persuasion-v0",
                args.episodes,
                seed=0,
                progress=False,
                concurrency=k,
                simulator="llm",
                llm=f"{server.url}#fake",
                llm_cache=False,
                max_turns=args.max_turns,
            )
            rates[k] = r.summary["throughput_eps"]
            print(
                f"K={k:3d}: {rates[k]:6.2f} episodes/s ({server.requests - before} requests, "
                f"{r.summary['wall_time_s']:.1f} s, latency {args.latency * 1000:.0f} ms)"
            )
    k_max = max(args.k)
    if 1 in rates:
        print(f"speed-up K={k_max} vs K=1: {rates[k_max] / rates[1]:.1f}x")


if __name__ == "__main__":
    main()
