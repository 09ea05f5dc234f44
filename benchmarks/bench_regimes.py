"""How much of the moves each behaviour regime covers, beside what the oracle relies on.

For each env: ``--episodes`` episodes of the ``human-like`` and ``narrow`` (``corpus-mix``)
behaviour policies and of the oracle (seeds from 2,000,000, apart from the benchmark's), and the
``real`` train dialogues when the corpora are present (cut at 10 agent turns, as the benchmark
cuts them). Printed per regime: the mean return, the
share of (agent turn, strategy) cells seen and supported (``regimes.MIN_SUPPORT`` uses), the
strategy entropy, and the share of the oracle's three most used strategies in the data.

Usage: ``python benchmarks/bench_regimes.py [--episodes 300] [--data DIR]``
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

import dialogue_gym  # noqa: F401  (registers the envs)
from dialogue_gym.agents.offline_data import DEFAULT_MAX_TURNS
from dialogue_gym.agents.registry import make_agent
from dialogue_gym.benchmark.regimes import REGIME_AGENTS, coverage, real_episodes
from dialogue_gym.data_paths import missing_files, resolve_data_dir
from dialogue_gym.domains import env_domain, env_ids
from dialogue_gym.rollout import play_episodes

SEEDS = 2_000_000


def main() -> None:
    """Print the coverage table of every env."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--episodes", type=int, default=300)
    parser.add_argument("--data", type=Path, default=None, help="the corpora (../shared/data)")
    args = parser.parse_args()
    data, _ = resolve_data_dir(args.data)
    have_real = not missing_files(data)
    seeds = range(SEEDS, SEEDS + args.episodes)
    for env_id in env_ids():
        domain = env_domain(env_id)
        env = gym.make(env_id)
        t = time.time()
        seen = gym.make(env_id, privileged_info=True)  # the oracle reads the hidden persona
        played = list(play_episodes(seen, make_agent("oracle", domain), seeds))
        oracle = coverage(played, domain)
        top = sorted(oracle["shares"], key=oracle["shares"].get, reverse=True)[:3]
        print(f"\n## {env_id} (oracle's most used: {', '.join(top)}; {time.time() - t:.0f} s)\n")
        print(
            "| regime | episodes | mean return | cells seen | cells supported | entropy (nats) "
            "| share of the oracle's top 3 | seconds |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        best = float(np.mean([e.reward for e in played]))
        rows = {"oracle (reference)": (oracle, best, args.episodes, time.time() - t)}
        for regime, agent in REGIME_AGENTS.items():
            t = time.time()
            episodes = list(play_episodes(env, make_agent(agent, domain), seeds))
            mean = float(np.mean([e.reward for e in episodes]))
            rows[regime] = (coverage(episodes, domain), mean, len(episodes), time.time() - t)
        if have_real:
            t = time.time()
            episodes = real_episodes(env_id, data, DEFAULT_MAX_TURNS)  # as the benchmark cuts them
            mean = float(np.mean([e.reward for e in episodes]))
            rows["real"] = (coverage(episodes, domain), mean, len(episodes), time.time() - t)
        for name, (c, mean, n, seconds) in rows.items():
            print(
                f"| {name} | {n} | {mean:.3f} | "
                f"{c['cells_seen']:.2f} | {c['cells_supported']:.2f} | {c['entropy_nats']:.2f} "
                f"of {c['max_entropy_nats']:.2f} | {sum(c['shares'][s] for s in top):.2f} | "
                f"{seconds:.0f} |",
                flush=True,
            )
        if not have_real:
            print(f"\n(no corpora at {data}: the real regime is left out)")


if __name__ == "__main__":
    main()
