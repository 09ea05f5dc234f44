"""``dialogue-gym data stats``: what a dataset file holds, and a histogram of its outcomes."""

from __future__ import annotations

import collections
from pathlib import Path
from typing import Any

import numpy as np

from .jsonl import describe_bad_lines, read_episodes, require_episodes


def dataset_stats(path: str | Path) -> dict[str, Any]:
    """Counts, failures, outcome distribution, turns and strategy frequencies of a JSONL file."""
    episodes, report = read_episodes(path)
    require_episodes(path, episodes, report)
    rewards = np.array([e.reward for e in episodes if e.status == "ok" and e.reward is not None])
    agent_turns = np.array([len(e.agent_turns) for e in episodes]) if episodes else np.array([0])
    strategies: collections.Counter[str] = collections.Counter()
    labelled = 0
    for e in episodes:
        for i in e.agent_turns:
            if e.turns[i].strategies:
                labelled += 1
            strategies.update(e.turns[i].strategies)
    out: dict[str, Any] = {
        "path": str(path),
        "episodes": len(episodes),
        "failed": sum(e.status == "failed" for e in episodes),
        "without_reward": sum(e.reward is None for e in episodes),
        "envs": dict(collections.Counter(e.env_id for e in episodes)),
        "torn_tail": report.torn_tail,
        "bad_lines": len(report.bad_lines),
        "bad_line_report": describe_bad_lines(path, report) if report.bad_lines else "",
        "agent_turns_mean": float(agent_turns.mean()),
        "agent_turns_max": int(agent_turns.max()),
        "labelled_agent_turns": labelled,
        "strategies": dict(strategies.most_common()),
    }
    if rewards.size:
        out["reward"] = {
            "mean": float(rewards.mean()),
            "std": float(rewards.std()),
            "share_zero": float((rewards == 0).mean()),
            "share_positive": float((rewards > 0).mean()),
            "quantiles": {
                str(q): float(np.quantile(rewards, q)) for q in (0.1, 0.25, 0.5, 0.75, 0.9)
            },
        }
    return out


def outcome_histogram(path: str | Path, png: str | Path, bins: int = 20) -> Path:
    """Save a PNG histogram of the outcomes in ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    episodes, _ = read_episodes(path)
    rewards = [e.reward for e in episodes if e.status == "ok" and e.reward is not None]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.hist(rewards, bins=bins, color="#4477aa", edgecolor="white")
    ax.set_xlabel("episode outcome (reward)")
    ax.set_ylabel("episodes")
    ax.set_title(f"{Path(path).name}: {len(rewards)} episodes")
    fig.tight_layout()
    png = Path(png)
    tmp = png.with_name(png.stem + ".tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    tmp.replace(png)
    return png


def format_stats(s: dict[str, Any]) -> str:
    """The stats as readable lines."""
    lines = [
        f"{s['path']}: {s['episodes']} episodes ({s['failed']} failed, "
        f"{s['without_reward']} without reward) in {s['envs']}",
    ]
    if s["bad_lines"]:
        lines.append(f"  skipped {s['bad_line_report']}")
    if s["torn_tail"]:
        lines.append("  the last line is incomplete (a killed writer?); skipped")
    if "reward" in s:
        r = s["reward"]
        q = ", ".join(f"q{k}={v:.2f}" for k, v in r["quantiles"].items())
        lines.append(
            f"  reward mean {r['mean']:.3f} (sd {r['std']:.3f}); share 0: {r['share_zero']:.3f}; "
            f"share > 0: {r['share_positive']:.3f}; {q}"
        )
    lines.append(
        f"  agent turns: mean {s['agent_turns_mean']:.1f}, max {s['agent_turns_max']}; "
        f"{s['labelled_agent_turns']} labelled with strategies"
    )
    if s["strategies"]:
        total = sum(s["strategies"].values())
        top = ", ".join(f"{k} {v / total:.1%}" for k, v in s["strategies"].items())
        lines.append(f"  strategies: {top}")
    return "\n".join(lines)
