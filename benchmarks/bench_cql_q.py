"""How conservative is CQL here? Q of the logged actions against the data's returns.

Per env: a human-like behaviour dataset (seeds 0..N-1); discrete CQL trained with several
``alpha`` / TD-loss / discount settings, each over ``--seeds`` training seeds; for each setting
(means over the seeds): the mean Q of the logged actions against the data's mean return-to-go,
``V(start)`` = max_a Q at the episodes' first turn (the greedy policy's predicted return) against
that policy's mean return on held-out seeds (1,000,000+), and the range of those returns over the
seeds. CQL's regularizer bounds the learned *policy's* value, not each logged action's Q (see
``agents/cql.py``); a predicted return above the achieved one is over-estimation.

Usage: ``python benchmarks/bench_cql_q.py [--env Persuasion-v0] [--episodes 1500] [--steps 2000]
[--eval 200] [--seeds 3]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

import dialogue_gym
from dialogue_gym.agents.cql import CQLArgs, logged_q_vs_returns, train_cql
from dialogue_gym.agents.offline_data import OfflineData
from dialogue_gym.domains import env_domain
from dialogue_gym.generate import generate
from dialogue_gym.jsonl import read_episodes

SETTINGS = [
    ("old default: alpha 1, mse, gamma 0.99", {"alpha": 1.0, "gamma": 0.99}),
    ("alpha 1, mse, gamma 1", {"alpha": 1.0}),
    ("alpha 1, huber, gamma 1", {"alpha": 1.0, "td_loss": "huber"}),
    ("alpha 0.3, mse, gamma 1", {"alpha": 0.3}),
    ("alpha 0.1, huber, gamma 1", {"alpha": 0.1, "td_loss": "huber"}),
    ("alpha 0.1, mse, gamma 1", {"alpha": 0.1}),
    ("alpha 0 (double DQN), gamma 1", {"alpha": 0.0}),
]


def main() -> None:
    """Train each setting, print the table."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--env", action="append", default=None)
    p.add_argument("--episodes", type=int, default=1500)
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--eval", type=int, default=200)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--only", default=None, help="run the settings whose label contains this")
    args = p.parse_args()
    for env_id in args.env or ["Persuasion-v0", "Counseling-v0"]:
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "data.jsonl"
            generate(env_id, "human-like", args.episodes, path, progress=False)
            data = OfflineData.from_episodes(read_episodes(path)[0])
        print(f"== {env_id}: {data.n_episodes} episodes, {len(data)} transitions")
        print(
            f"{'setting':38s} {'Q(logged)':>9s} {'returns':>7s} {'V(start)':>8s} "
            f"{'achieved':>8s} {'achieved range':>15s} {'secs':>5s}"
        )
        for label, kw in SETTINGS:
            if args.only and args.only not in label:
                continue
            t = time.time()
            rows = []
            for seed in range(args.seeds):
                args_ = CQLArgs(steps=args.steps, seed=seed, **kw)
                agent = train_cql(data, env_domain(env_id), args_)
                q = logged_q_vs_returns(agent, data)
                r = dialogue_gym.evaluate(
                    agent, env_id, args.eval, seed=1_000_000, progress=False, oracle=False
                ).summary
                rows.append(
                    [
                        q["mean_q_logged"],
                        q["mean_return_to_go"],
                        q["mean_v_start"],
                        r["mean_return"],
                    ]
                )
            m = np.mean(rows, axis=0)
            achieved = [row[3] for row in rows]
            print(
                f"{label:38s} {m[0]:9.3f} {m[1]:7.3f} {m[2]:8.3f} {m[3]:8.3f} "
                f"{min(achieved):7.3f}-{max(achieved):.3f} {time.time() - t:5.0f}"
            )


if __name__ == "__main__":
    main()
