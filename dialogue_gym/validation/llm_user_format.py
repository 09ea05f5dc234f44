"""The LLM user report as Markdown (:func:`format_llm_user_report`): a table per part that was
run (:mod:`.llm_user_report`), and the cost."""

from __future__ import annotations

from typing import Any

from .llm_user_report import PARTS, PROBE_TURN


def _num(x: Any, digits: int = 3) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def _ci_cell(figures: dict[str, Any], key: str, digits: int = 3) -> str:
    """``figures[key]`` with its interval ``figures[key + "_ci95"]``, or ``-``."""
    if key not in figures:
        return "-"
    lo, hi = figures[f"{key}_ci95"]
    return f"{_num(figures[key], digits)} [{_num(lo, digits)}, {_num(hi, digits)}]"


def _esconv_lines(r: dict[str, Any]) -> list[str]:
    lines = [
        f"ESConv replay on {r['dialogues']} test dialogues: each real supporter's turns against a "
        "seeker with that dialogue's problem, emotion and initial intensity; the outcome is the "
        "drop in intensity (1-5) the seeker reports at the end.",
        "",
        "| seeker | dialogues (failed) | mean drop [95% CI] | Spearman with the real drop |",
        "| --- | --- | --- | --- |",
    ]
    for name, key in (("LLM user", "llm"), ("embedded simulator", "embedded")):
        f = r[key]
        mean = _ci_cell(f, "mean", 2)
        lines.append(f"| {name} | {f['n']} ({f['failed']}) | {mean} | {_num(f.get('spearman'))} |")
    lines += [f"| real people | {r['real']['n']} | {_num(r['real']['mean'], 2)} | - |", ""]
    return lines


def _on(episodes: int | None) -> str:
    return f" ({episodes} episodes per agent, user and env)" if episodes else ""


def _cooperation_lines(rows: dict[str, Any], episodes: int | None = None) -> list[str]:
    lines = [
        f"Over-cooperation{_on(episodes)}: the random agent and small talk (off-task lines, no "
        "strategy) on the same personas; outcome: donation $ (persuasion) or intensity drop "
        "(counseling). "
        "*flagged*: the LLM user rewards small talk more than the embedded user (p < 0.05).",
        "",
        "| env / agent | LLM user mean (success) | embedded mean (success) "
        "| LLM - embedded [95% CI] | p | flagged |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in rows.items():
        lo, hi = r["diff_ci95"]
        lines.append(
            f"| {name} | {_num(r['llm_mean'], 2)} ({_num(r['llm_success'], 2)}) | "
            f"{_num(r['embedded_mean'], 2)} ({_num(r['embedded_success'], 2)}) | "
            f"{r['diff']:+.2f} [{_num(lo, 2)}, {_num(hi, 2)}] | {_num(r['p'], 3)} | "
            f"{'**yes**' if r['flagged'] else 'no'} |"
        )
    return [*lines, ""]


def _discrimination_lines(by_domain: dict[str, Any], episodes: int | None = None) -> list[str]:
    lines = [
        f"Discrimination{_on(episodes)}: random, scripted and model-based on the same personas; "
        "each pair's difference paired by seed, Holm over the three pairs of each user and env.",
        "",
        "| env | user | means | pairs: diff [95% CI] (p Holm) |",
        "| --- | --- | --- | --- |",
    ]
    for domain, r in by_domain.items():
        for user in ("llm", "embedded"):
            u = r[user]
            means = ", ".join(f"{k} {v:.2f}" for k, v in u["means"].items())
            pairs = "; ".join(
                f"{p['pair']} {p['diff']:+.2f} [{_num(p['ci95'][0], 2)}, {_num(p['ci95'][1], 2)}]"
                f" ({_num(p['p_holm'], 3)})"
                for p in u["pairs"]
            )
            lines.append(f"| {domain} | {user} | {means} | {pairs} |")
        verdict = "the same" if r["same_order"] else "**not** the same"
        if r["llm_tied"]:
            verdict = "**not** the same (the LLM user ties agents)"
        lines.append(
            f"| {domain} | order | LLM {' < '.join(r['order']['llm'])}; embedded "
            f"{' < '.join(r['order']['embedded'])} | {verdict} |"
        )
    return [*lines, ""]


def _probe_lines(rows: dict[str, Any], episodes: int | None = None) -> list[str]:
    lines = [
        f"Manipulation, injection and harm{_on(episodes)}: the scripted flow with a probe as its "
        f"turn {PROBE_TURN}, minus the scripted flow (paired by seed); a valid user gains nothing "
        "from a spoofed system line or an injection, and loses from an insult or a harmful line.",
        "",
        "| env / probe | LLM user effect [95% CI] | embedded effect [95% CI] |",
        "| --- | --- | --- |",
    ]
    for name, r in rows.items():
        cells = [
            f"{r[u]['effect']:+.2f} [{_num(r[u]['ci95'][0], 2)}, {_num(r[u]['ci95'][1], 2)}]"
            for u in ("llm", "embedded")
        ]
        lines.append(f"| {name} | {cells[0]} | {cells[1]} |")
    return [*lines, ""]


def _p4g_lines(report: dict[str, Any]) -> list[str]:
    r = report["p4g_replay"]
    lines = [
        f"P4G replay on {report['dialogues']} test dialogues (sampled with seed "
        f"{report['sample']['seed']}): each real persuader's turns against that persuadee, whose "
        "card comes from their own survey; the outcome is the donation ($0-2).",
        "",
        "| persuadee | dialogues (failed) | AUC donated>0 | mean $ [95% CI] | share $0 [95% CI] "
        "| Spearman |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, key in (("LLM user", "llm"), ("embedded simulator", "embedded")):
        f = r[key]
        mean, zero = _ci_cell(f, "mean"), _ci_cell(f, "share_zero", 2)
        lines.append(
            f"| {name} | {f['n']} ({f['failed']}) | {_num(f.get('auc'))} | {mean} | {zero} | "
            f"{_num(f.get('spearman'))} |"
        )
    s, real = r["survey_regression"], r["real"]
    return [
        *lines,
        f"| survey-only regression | {s['n']} | {_num(s['auc'])} | - | - | - |",
        f"| real people | {real['n']} | - | {_num(real['mean'])} | "
        f"{_num(real['share_zero'], 2)} | - |",
        "",
    ]


def _cost_line(cost: dict[str, Any]) -> str:
    tokens = ""
    if cost.get("prompt_tokens") is not None:
        tokens = (
            f" ({cost['prompt_tokens']} prompt and {cost['completion_tokens']} completion tokens"
            + (
                f"; {cost['unmetered']} answers came without a token count)"
                if cost.get("unmetered")
                else ")"
            )
        )
    return (
        f"Cost: {cost['requests']} requests sent{tokens}, {cost['cached']} answers from the "
        f"cache; the whole report took {cost['seconds']} s."
    )


def format_llm_user_report(report: dict[str, Any]) -> str:
    """The report as Markdown: a table per part that was run, and the cost."""
    lines = [
        f"# LLM user report: {report['llm']}",
        "",
        f"Persona cards: wording version {report['card_version']} (the JSON holds every card "
        "the model read).",
        "",
    ]
    if report.get("max_turns"):
        lines += [
            f"**A smoke run**: every replay and episode stops after {report['max_turns']} agent "
            "turns, so the replays' outcomes follow fewer turns than the real people heard.",
            "",
        ]
    n = report.get("episodes")
    writers = {
        "p4g": lambda: _p4g_lines(report),
        "esconv": lambda: _esconv_lines(report["esconv_replay"]),
        "cooperation": lambda: _cooperation_lines(report["over_cooperation"], n),
        "discrimination": lambda: _discrimination_lines(report["discrimination"], n),
        "probes": lambda: _probe_lines(report["probes"], n),
    }
    for part in report.get("parts", PARTS):
        lines += writers[part]()
    lines.append(_cost_line(report["cost"]))
    return "\n".join(lines) + "\n"
