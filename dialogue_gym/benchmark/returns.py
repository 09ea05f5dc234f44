"""Per-episode returns of a benchmark run: from evaluations, and to and from
``benchmark.json`` (where the tests of agents added later, and comparisons of runs, read them)."""

from __future__ import annotations

from typing import Any

import numpy as np


def returns_of(result: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Returns (nan where the episode failed), successes and turns of an evaluation."""
    eps = result.episodes
    returns = np.array([e.reward if e.status == "ok" else np.nan for e in eps], dtype=float)
    return returns, np.array([float(e.success) for e in eps]), np.array([e.turns for e in eps])


def episode_arrays(matrices: list) -> dict[str, list]:
    """A method's per-episode returns (``None`` where an episode failed), successes and turns,
    one list per training run: what the tests need to compare a row added later
    (:mod:`.add`)."""
    return {
        key: [[None if np.isnan(x) else float(x) for x in m[i]] for m in matrices]
        for i, key in enumerate(("returns", "success", "turns"))
    }


def episode_matrices(arrays: dict[str, list]) -> list:
    """The inverse of :func:`episode_arrays`: ``(returns, successes, turns)`` per run."""
    return [
        tuple(
            np.array([np.nan if x is None else x for x in arrays[key][run]], dtype=float)
            for key in ("returns", "success", "turns")
        )
        for run in range(len(arrays["returns"]))
    ]


def saved_returns(result: dict[str, Any]) -> dict[str, np.ndarray]:
    """Each method's ``(runs, seeds)`` returns (``nan``: a failed episode) from one env's result
    as ``benchmark.json`` saves it."""
    return {
        name: np.stack([m[0] for m in episode_matrices(arrays)])
        for name, arrays in result.get("episodes", {}).items()
    }
