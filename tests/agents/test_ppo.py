"""PPO through stable-baselines3: the example end to end."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.slow
def test_ppo_example_runs_end_to_end():
    sys.path.insert(0, str(EXAMPLES))
    try:
        import train_ppo
    finally:
        sys.path.pop(0)
    out = train_ppo.main(["--steps", "1024", "--episodes", "30"])
    assert out["ppo"]["n_episodes"] == 30 and "mean_return" in out["ppo"]
