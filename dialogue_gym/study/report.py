"""``dialogue-gym study report``: what a study found, with honest uncertainty.

- Per agent: the mean reward (the outcome on the env's scale) and each rating, with 95% t
  intervals over participants.
- Every pair of agents, on every measure, within participants (those who answered both): the
  mean difference with the t interval of the differences, the Wilcoxon signed-rank p-value, Holm's
  correction over the whole family (pairs x measures), the rank-biserial correlation and
  Cohen's d_z, and the participants a paired t-test would need to detect an effect of the
  observed d_z with 80% power at alpha 0.05.
- Order effects: the mean reward at each position (first partner met, second, ...) and a test of
  position within participants (Wilcoxon for two positions, Friedman for more).
- Implausibly fast participants: those whose median reply came less than ``fast_seconds`` (3)
  after the agent's message they answer (no one reads and types a reply that fast). They are
  counted and named; ``exclude_fast`` leaves them out of every figure.
- A chart (PNG) of the per-agent means with their intervals.
"""

from __future__ import annotations

import json
import math
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

from ..domains import env_domain
from ..errors import InvalidInput
from ..files import atomic_write_text
from ..stats import cohens_dz, holm, mean_ci, paired_sample_size, signed_rank_test
from .design import QUESTIONS
from .export import answer_rows
from .store import StudyStore


def _ci(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0, "mean": None, "low": None, "high": None}
    m, lo, hi = mean_ci(values)
    return {"n": len(values), "mean": m, "low": _num(lo), "high": _num(hi)}


def _num(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def analyse(rows: list[dict[str, Any]], agents: list[str], measures: list[str]) -> dict[str, Any]:
    """The report's numbers from answer rows (as :func:`~.export.answer_rows` gives them):
    ``per_agent``, ``pairs`` (Holm-corrected over the family), ``order`` and counts."""
    by = defaultdict(dict)  # (measure, agent) -> {participant: value}
    for r in rows:
        for m in measures:
            if r.get(m) is not None:
                by[m, r["agent_index"]][r["participant"]] = float(r[m])
    ended_early = defaultdict(int)
    for r in rows:
        ended_early[r["agent_index"]] += r.get("end_reason") == "ended by participant"
    per_agent = [
        {
            "agent": a,
            "index": i,
            "ended_early": ended_early[i],
            **{m: _ci(list(by[m, i].values())) for m in measures},
        }
        for i, a in enumerate(agents)
    ]
    pairs = []
    for i in range(len(agents)):
        for j in range(i + 1, len(agents)):
            for m in measures:
                common = sorted(set(by[m, i]) & set(by[m, j]))
                entry: dict[str, Any] = {
                    "a": agents[i],
                    "b": agents[j],
                    "measure": m,
                    "n": len(common),
                }
                if len(common) >= 2:
                    d = [by[m, j][p] - by[m, i][p] for p in common]
                    mean, lo, hi = mean_ci(d)  # t interval: honest at a handful of people
                    p, r = signed_rank_test(d)
                    dz = cohens_dz(d)
                    if not math.isfinite(dz):  # every difference the same: no spread to plan on
                        dz = math.nan
                    entry.update(
                        diff=mean,
                        low=lo,
                        high=hi,
                        p=p,
                        rank_biserial=r,
                        dz=_num(dz),
                        n_for_80_power=paired_sample_size(dz),
                    )
                pairs.append(entry)
    tested = [e for e in pairs if "p" in e]
    for e, adj in zip(tested, holm([e["p"] for e in tested]) if tested else [], strict=True):
        e["p_holm"] = adj
    return {
        "participants": len({r["participant"] for r in rows}),
        "conversations": len(rows),
        "per_agent": per_agent,
        "pairs": pairs,
        "order": order_effects(rows, len(agents)),
    }


def order_effects(rows: list[dict[str, Any]], n_positions: int) -> dict[str, Any]:
    """Mean reward by position met, and a within-participant test of position on the
    participants who answered every position."""
    from scipy import stats

    by_pos: dict[int, dict[int, float]] = defaultdict(dict)
    for r in rows:
        by_pos[r["position"]][r["participant"]] = float(r["reward"])
    out: dict[str, Any] = {
        "per_position": [_ci(list(by_pos[k].values())) for k in range(n_positions)]
    }
    complete = sorted(set.intersection(*(set(by_pos[k]) for k in range(n_positions))))
    out["complete_participants"] = len(complete)
    if n_positions < 2 or len(complete) < 2:
        out.update(test=None, p=None)
    elif n_positions == 2:
        p, r = signed_rank_test([by_pos[1][q] - by_pos[0][q] for q in complete])
        out.update(test="Wilcoxon signed-rank, second vs first", p=p, rank_biserial=r)
    else:
        columns = [[by_pos[k][q] for q in complete] for k in range(n_positions)]
        if all(len(set(row)) == 1 for row in zip(*columns, strict=True)):
            out.update(test="Friedman", p=1.0)
        else:
            out.update(test="Friedman", p=float(stats.friedmanchisquare(*columns).pvalue))
    return out


def _fmt(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def _fast_line(fast: dict[str, Any] | None) -> list[str]:
    if not fast:
        return []
    ids = fast["participants"]
    if not ids:
        return [f"No participant answered implausibly fast ({fast['rule']}).", ""]
    what = (
        "left out of every figure" if fast["excluded"] else "kept (--exclude-fast leaves them out)"
    )
    return [
        f"{len(ids)} participants answered implausibly fast ({fast['rule']}): "
        f"{', '.join(map(str, ids))}; {what}.",
        "",
    ]


def to_markdown(result: dict[str, Any], env_id: str, measures: list[str]) -> str:
    """The report as Markdown tables with a short guide to reading them."""
    lines = [
        f"# User study report: {env_id}",
        "",
        f"{result['participants']} participants, {result['conversations']} answered "
        "conversations. Reward: dollars given (persuasion) or intensity before minus after "
        "(counselling); ratings 1-5 (5 = strongly agree). Intervals are 95%.",
        "",
        *_fast_line(result.get("fast")),
        "## Per agent",
        "",
        "| agent | n | ended early | " + " | ".join(measures) + " |",
        "| --- | --- | --- | " + " | ".join("---" for _ in measures) + " |",
    ]
    for a in result["per_agent"]:
        cells = [
            f"{_fmt(a[m]['mean'])} [{_fmt(a[m]['low'])}, {_fmt(a[m]['high'])}]" for m in measures
        ]
        lines.append(
            f"| {a['agent']} | {a[measures[0]]['n']} | {a['ended_early']} | "
            + " | ".join(cells)
            + " |"
        )
    lines += [
        "",
        "## Pairwise, within participants (b - a)",
        "",
        "Interval: t interval of the paired differences. Wilcoxon signed-rank p, Holm-corrected "
        "over every row of this table; r: rank-biserial correlation; d_z: mean difference / its "
        "SD; n (80%): participants a paired t-test needs to detect an effect of this d_z with 80% "
        "power at alpha 0.05. *ended early*: conversations the participant ended before the last "
        "turn (counted in the means).",
        "",
        "| a | b | measure | n | b - a [95% CI] | p | p (Holm) | r | d_z | n (80%) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for e in result["pairs"]:
        if "p" not in e:
            lines.append(
                f"| {e['a']} | {e['b']} | {e['measure']} | {e['n']} | too few pairs "
                "| - | - | - | - | - |"
            )
            continue
        lines.append(
            f"| {e['a']} | {e['b']} | {e['measure']} | {e['n']} | {e['diff']:+.2f} "
            f"[{e['low']:+.2f}, {e['high']:+.2f}] | {e['p']:.3g} | {e['p_holm']:.3g} | "
            f"{e['rank_biserial']:+.2f} | {_fmt(e['dz'])} | {e['n_for_80_power'] or '-'} |"
        )
    o = result["order"]
    lines += [
        "",
        "## Order effects (reward by position met)",
        "",
        "| position | n | mean [95% CI] |",
        "| --- | --- | --- |",
    ]
    for k, c in enumerate(o["per_position"]):
        lines.append(
            f"| {k + 1} | {c['n']} | {_fmt(c['mean'])} [{_fmt(c['low'])}, {_fmt(c['high'])}] |"
        )
    if o["test"]:
        lines += [
            "",
            f"{o['test']} on {o['complete_participants']} participants who met every "
            f"partner: p = {o['p']:.3g}.",
        ]
    else:
        lines += ["", "Too few participants met every partner to test position."]
    return "\n".join(lines) + "\n"


def plot(result: dict[str, Any], measures: list[str], path: Path) -> None:
    """Bars of each agent's mean per measure with 95% intervals (reward on its own axis)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    agents = [a["agent"] for a in result["per_agent"]]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), gridspec_kw={"width_ratios": [1, 2]})
    for ax, group in ((axes[0], measures[:1]), (axes[1], measures[1:])):
        width = 0.8 / len(agents)
        for k, a in enumerate(result["per_agent"]):
            xs = [g + (k - (len(agents) - 1) / 2) * width for g in range(len(group))]
            means = [a[m]["mean"] if a[m]["mean"] is not None else math.nan for m in group]
            errs = [
                [
                    max(0.0, mu - (a[m]["low"] if a[m]["low"] is not None else mu))
                    for mu, m in zip(means, group, strict=True)
                ],
                [
                    max(0.0, (a[m]["high"] if a[m]["high"] is not None else mu) - mu)
                    for mu, m in zip(means, group, strict=True)
                ],
            ]
            ax.bar(xs, means, width, yerr=errs, capsize=3, label=agents[k])
        ax.set_xticks(range(len(group)))
        ax.set_xticklabels(group)
    axes[0].set_ylabel("reward (env scale)")
    axes[1].set_ylabel("rating (1-5)")
    axes[1].set_ylim(0, 5.5)
    axes[1].legend(fontsize=8)
    fig.suptitle("Mean per agent; bars are 95% intervals over participants")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


FAST_SECONDS = 3.0
"""A participant whose median reply came sooner than this after the agent's message is flagged."""


def reply_seconds(store: StudyStore) -> dict[int, float]:
    """Each participant's median seconds from an agent's message to their reply to it."""
    out = {}
    for p in store.participants():
        gaps = []
        for pos in range(len(store.config.agents)):
            messages = store.messages(p.id, pos)
            gaps += [
                b.ts - a.ts
                for a, b in zip(messages, messages[1:], strict=False)
                if a.role == "assistant" and b.role == "user"
            ]
        if gaps:
            out[p.id] = float(statistics.median(gaps))
    return out


def report_study(
    store: StudyStore,
    out: str | Path,
    exclude_fast: bool = False,
    fast_seconds: float = FAST_SECONDS,
) -> dict[str, Any]:
    """Write ``report.md``, ``report.json`` and ``report.png`` into ``out``; returns the
    numbers. Participants whose median reply took under ``fast_seconds`` are counted, and left
    out with ``exclude_fast``. ``ValueError`` when no conversation has been answered yet."""
    cfg = store.config
    q = QUESTIONS[env_domain(cfg.env_id)]
    rows = answer_rows(store)
    if not rows:
        raise InvalidInput(f"{store.path} has no answered conversation yet: nothing to report")
    answered = {r["participant"] for r in rows}
    medians = reply_seconds(store)
    fast = sorted(p for p, s in medians.items() if s < fast_seconds and p in answered)
    if exclude_fast:
        rows = [r for r in rows if r["participant"] not in fast]
        if not rows:
            raise InvalidInput("every participant who answered replied implausibly fast")
    measures = ["reward", *(f"rating_{r.key}" for r in q.ratings)]
    result = analyse(rows, list(cfg.agents), measures)
    result["fast"] = {
        "rule": f"median reply under {fast_seconds:g} s after the agent's message",
        "participants": fast,
        "excluded": exclude_fast,
    }
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "report.md", to_markdown(result, cfg.env_id, measures))
    atomic_write_text(out / "report.json", json.dumps(result, indent=1))
    tmp = out / "report.png.tmp.png"
    plot(result, measures, tmp)
    tmp.replace(out / "report.png")
    return result
