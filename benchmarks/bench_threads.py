"""Time of one small-learner gradient step with 1 and 2 torch threads, alone and beside a busy
process (the situation of a shared 2-core machine).

A BC step on the default MLP (256-256) over a batch of 256 featurized histories, timed as the
median of ``--steps`` steps; "busy" runs a pure-Python loop in another process meanwhile.

Usage: ``python benchmarks/bench_threads.py [--steps 200]``
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import time

import numpy as np


def _spin(stop: mp.Event) -> None:  # type: ignore[valid-type]
    x = 0
    while not stop.is_set():
        x += 1


def step_ms(threads: int, steps: int) -> float:
    """Median milliseconds of a BC gradient step with ``threads`` torch threads."""
    import torch
    import torch.nn.functional as F

    from dialogue_gym.agents.learned import mlp, torch_threads
    from dialogue_gym.wrappers import HistoryFeaturizer

    dim = HistoryFeaturizer("persuasion").size
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.random((256, dim), dtype=np.float32))
    y = torch.from_numpy(rng.integers(0, 12, 256))
    with torch_threads(threads):
        net = mlp(dim, [256, 256], 12)
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        times = []
        for _ in range(steps):
            t = time.perf_counter()
            loss = F.cross_entropy(net(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            times.append(time.perf_counter() - t)
    return 1000 * float(np.median(times))


def main() -> None:
    """Print the table."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=200)
    args = p.parse_args()
    print(f"{'threads':>7s} {'alone (ms/step)':>16s} {'beside a busy core':>19s}")
    for threads in (1, 2):
        alone = step_ms(threads, args.steps)
        stop = mp.Event()
        busy = mp.Process(target=_spin, args=(stop,))
        busy.start()
        time.sleep(0.5)
        try:
            shared = step_ms(threads, args.steps)
        finally:
            stop.set()
            busy.join()
        print(f"{threads:7d} {alone:16.2f} {shared:19.2f}")


if __name__ == "__main__":
    main()
