"""Hindsight pipeline measurements (hindsight issue, point 5), embedded components only.

Per env: 1,000 episodes of the noisy scripted behaviour policy (human-like); regenerate the failed
ones (transcript controller, privileged-dynamics forward and reward models) and report:
a. the share of failed episodes that got a regeneration;
b. the imagined reward of the regenerations vs their originals;
c. the imagination gap: each regeneration's agent turns replayed in the true env (same seed as
   its source) — mean absolute error and Pearson correlation between true and imagined reward,
   and the share whose true reward beats the original's;
d. the same pipeline on ../shared/data/p4g/train.json (real human dialogues): how many were
   regenerated, and the distribution of their (clipped) rewards.

Usage: ``python benchmarks/bench_hindsight.py [--episodes 1000] [--data ../shared/data]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from dialogue_gym.generate import generate
from dialogue_gym.hindsight import (
    PrivilegedDynamicsForwardModel,
    PrivilegedDynamicsRewardModel,
    TranscriptController,
    is_unsuccessful,
    regenerate,
    replay_in_true_env,
)
from dialogue_gym.jsonl import read_episodes
from dialogue_gym.loaders import load_p4g_json
from dialogue_gym.stats import fmt_ci, mean_ci


def components():
    """The offline, non-oracle defaults."""
    return TranscriptController(), PrivilegedDynamicsForwardModel(), PrivilegedDynamicsRewardModel()


def simulated(env_id: str, episodes: int) -> None:
    """Checks a-c on one env."""
    t = time.time()
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "data.jsonl"
        generate(env_id, "human-like", episodes, path, seed=50_000, progress=False)
        eps, _ = read_episodes(path)
    failed = [e for e in eps if is_unsuccessful(e)]
    regen = regenerate(eps, *components())
    by_id = {e.id: e for e in eps}
    covered = {r.provenance["source_id"] for r in regen}
    imagined = np.array([r.reward for r in regen])
    original = np.array([by_id[r.provenance["source_id"]].reward for r in regen])
    true = np.array(
        [replay_in_true_env(by_id[r.provenance["source_id"]], r.turns)[0] for r in regen]
    )
    print(f"== {env_id}: {len(eps)} episodes, {len(failed)} failed ({time.time() - t:.0f} s)")
    print(
        f"a. regenerated {len(covered)}/{len(failed)} failed episodes "
        f"({len(covered) / max(len(failed), 1):.1%})"
    )
    print(
        f"b. imagined reward {fmt_ci(*mean_ci(imagined))} vs original {fmt_ci(*mean_ci(original))}"
    )
    corr = (
        float(np.corrcoef(imagined, true)[0, 1]) if imagined.std() and true.std() else float("nan")
    )
    print(
        f"c. true reward on replay {fmt_ci(*mean_ci(true))}; |imagined - true| "
        f"{np.abs(imagined - true).mean():.3f}; Pearson r {corr:.3f}; true beats original in "
        f"{(true > original).mean():.1%} (ties {(true == original).mean():.1%})"
    )


def real_p4g(data: Path) -> None:
    """Check d on P4G train.json."""
    t = time.time()
    eps = load_p4g_json(data / "p4g/train.json")
    failed = [e for e in eps if is_unsuccessful(e)]
    regen = regenerate(eps, *components())
    r = np.array([x.reward for x in regen])
    q = np.quantile(r, [0.1, 0.25, 0.5, 0.75, 0.9]) if r.size else []
    print(
        f"== P4G train.json: {len(eps)} dialogues, {len(failed)} with $0 ({time.time() - t:.0f} s)"
    )
    print(
        f"d. regenerated {len({x.provenance['source_id'] for x in regen})}/{len(failed)}; "
        f"imagined reward {fmt_ci(*mean_ci(r))}, share $0 {(r == 0).mean():.1%}, "
        f"quantiles 10/25/50/75/90% {np.round(q, 2).tolist()}, max {r.max():.2f} (clipped to 2)"
    )


def main() -> None:
    """Run a-c on both envs and d on P4G."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--episodes", type=int, default=1000)
    p.add_argument("--data", type=Path, default=Path("../shared/data"))
    args = p.parse_args()
    for env_id in ("Persuasion-v0", "Counseling-v0"):
        simulated(env_id, args.episodes)
    if (args.data / "p4g/train.json").exists():
        real_p4g(args.data)
    else:
        print(f"(no {args.data}/p4g/train.json: check d skipped)")


if __name__ == "__main__":
    main()
