"""A benchmark configuration small enough for a test."""

from __future__ import annotations

from dialogue_gym.benchmark import BenchmarkConfig


def tiny(**changes) -> BenchmarkConfig:
    """Two training seeds, a few steps, no encoder model; ``changes`` override any field."""
    base = dict(
        envs=("Counseling-v0",),
        dataset_episodes=40,
        eval_episodes=5,
        train_seeds=2,
        offline_steps=10,
        ppo_steps=64,
        model_based_samples=1,
        encoder="hash:512",
        sweep_sizes=(),
    )
    return BenchmarkConfig(**{**base, **changes})
