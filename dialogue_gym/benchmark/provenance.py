"""What reproduces a benchmark row: the package version, the git commit, the seeds, and the
source of every added agent (for a file, its SHA-256)."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from typing import Any

from .config import EVAL_SEED, BenchmarkConfig

PACKAGE_DIR = Path(__file__).resolve().parents[1]


def git_state(where: Path = PACKAGE_DIR) -> dict[str, Any] | None:
    """The checkout's commit and whether it has uncommitted changes; ``None`` outside git."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(where), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(where), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "uncommitted_changes": bool(dirty)}


def agent_source(spec: str) -> dict[str, Any]:
    """An added agent's spec and, for a file or an importable module, the file and its
    SHA-256 (a registered name needs nothing more: the package version fixes it)."""
    import importlib.util

    from ..agents.registry import is_import_spec, parse_spec

    out: dict[str, Any] = {"spec": spec}
    if not is_import_spec(spec):
        return out
    module = parse_spec(spec)[0].partition(":")[0].strip()
    path: Path | None = Path(module) if module.endswith(".py") else None
    if path is None:
        found = importlib.util.find_spec(module)
        path = Path(found.origin) if found is not None and found.origin else None
    if path is not None and path.is_file():
        out["file"] = str(path.resolve())
        out["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def provenance(cfg: BenchmarkConfig) -> dict[str, Any]:
    """Everything besides ``cfg`` that a row's figures depend on."""
    from .. import __version__

    return {
        "version": __version__,
        "git": git_state(),
        "eval_seeds": [EVAL_SEED, EVAL_SEED + cfg.eval_episodes - 1],
        "train_seeds": list(range(cfg.train_seeds)),
        "data_seeds": [s * cfg.dataset_episodes for s in range(cfg.train_seeds)]
        if cfg.resample_data
        else [0],
        "added_agents": [agent_source(spec) for spec in cfg.added_agents],
    }
