"""The benchmark's bar chart (mean return per method with 95% intervals)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..domains import domain_of
from .config import BASELINES, HEADLINE_METHOD


def bar_chart(results: list[dict], path: Path) -> None:
    """Mean return per method with 95% CI error bars, one panel per env."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    fig, axes = plt.subplots(1, len(results), figsize=(6 * len(results), 5.2), squeeze=False)
    for ax, r in zip(axes[0], results, strict=True):
        names = [row["method"] for row in r["rows"]]
        means = np.array([row["mean_return"] for row in r["rows"]])
        err = np.array(
            [
                [m - row["ci95"][0], row["ci95"][1] - m]
                for m, row in zip(means, r["rows"], strict=True)
            ]
        ).T
        added = {row["method"] for row in r["rows"] if row.get("added")}
        colors = [
            "#bbbbbb"
            if n in BASELINES
            else "#228833"
            if n in added
            else ("#cc3311" if n == HEADLINE_METHOD else "#4477aa")
            for n in names
        ]
        ax.bar(range(len(names)), means, yerr=err, color=colors, capsize=3)
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(names, rotation=60, ha="right", fontsize=8)
        ax.set_ylabel(f"mean return: {domain_of(r['env_id']).units}")
        ax.set_title(r["env_id"])
    legend = [
        Patch(color="#bbbbbb", label="reference agents (not trained)"),
        Patch(color="#4477aa", label="trained (offline on the behaviour data; ppo online)"),
        Patch(color="#cc3311", label=HEADLINE_METHOD),
    ]
    if any(row.get("added") for r in results for row in r["rows"]):
        legend.append(Patch(color="#228833", label="added (--add-agent)"))
    fig.legend(
        handles=legend, fontsize=8, loc="lower center", ncol=len(legend), bbox_to_anchor=(0.5, 0.04)
    )
    fig.text(
        0.5,
        0.005,
        "error bars: 95% intervals over training runs and evaluation seeds",
        ha="center",
        fontsize=8,
    )
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    tmp = path.with_name(path.stem + ".tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, path)
