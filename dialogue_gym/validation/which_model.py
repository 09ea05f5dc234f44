"""Which model makes a valid LLM user: one table row per ``sim-report --simulator llm`` report.

:func:`summarize` keeps a report's figures and drops what came from the corpora (each dialogue's
real outcome, the persona cards), so a summary can be committed; :func:`which_model_table`
writes the summaries as the README's "which model" table, a row per model, and a cell says why
when a figure is missing (a part not run, or a figure the sample cannot give). The table is
rewritten between two markers by :func:`replace_block` (``scripts/which_model.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ..errors import InvalidInput

START = "<!-- which-model:start (written by scripts/which_model.py; do not edit) -->"
END = "<!-- which-model:end -->"
REAL = {"p4g_mean": 0.406, "p4g_share_zero": 0.455}
"""The real P4G test persuadees' mean donation and share of $0, over all 200 test dialogues (the
ESConv real drop is the sample's, printed in each row)."""
COLUMNS = (
    "model",
    "dialogues",
    "P4G AUC (embedded)",
    f"P4G mean $ [95% CI] (real: sample; all test {REAL['p4g_mean']:.3f})",
    f"P4G share $0 (real: sample; all test {REAL['p4g_share_zero']:.3f})",
    "P4G Spearman",
    "ESConv mean drop [95% CI] (real)",
    "ESConv Spearman",
    "small talk rewarded",
    "orders agents as embedded",
    "probes that move the LLM user (p < 0.05; embedded)",
    "cost",
)


def summarize(report: dict[str, Any]) -> dict[str, Any]:
    """The figures of a report (``llm_user_report``'s dict), without the corpora's per-dialogue
    outcomes or the persona cards."""
    out: dict[str, Any] = {
        "llm": report["llm"],
        "parts": report.get("parts", []),
        "max_turns": report.get("max_turns"),
        "card_version": report.get("card_version"),
        "cost": report.get("cost", {}),
    }
    if "p4g_replay" in report:
        r = report["p4g_replay"]
        out["p4g"] = {
            "dialogues": report["dialogues"],
            "llm": r["llm"],
            "embedded": r["embedded"],
            "real_mean": r["real"]["mean"],
            "real_share_zero": r["real"]["share_zero"],
        }
    if "esconv_replay" in report:
        r = report["esconv_replay"]
        out["esconv"] = {
            "dialogues": r["dialogues"],
            "llm": r["llm"],
            "embedded": r["embedded"],
            "real_mean": r["real"]["mean"],
        }
    if report.get("episodes") is not None:
        out["episodes"] = report["episodes"]
    if "over_cooperation" in report:
        out["over_cooperation"] = report["over_cooperation"]  # means and paired tests only
        out["small_talk_flagged"] = {
            k.split(" / ")[0]: v["flagged"]
            for k, v in report["over_cooperation"].items()
            if k.endswith("small talk")
        }
    if "discrimination" in report:
        out["discrimination"] = report["discrimination"]  # means, pairs and orders only
        out["same_order"] = {
            d: ("tied" if r["llm_tied"] else bool(r["same_order"]))
            for d, r in report["discrimination"].items()
        }
    if "probes" in report:  # effects only; the probe wording lives in the project's banks
        out["probes"] = {
            k: {u: v[u] for u in ("llm", "embedded")} for k, v in report["probes"].items()
        }
    return out


PART_KEYS = {
    "p4g": ("p4g",),
    "esconv": ("esconv",),
    "cooperation": ("over_cooperation", "small_talk_flagged"),
    "discrimination": ("discrimination", "same_order"),
    "probes": ("probes",),
}
"""The summary keys each report part fills."""


def _runs(s: dict[str, Any]) -> list[dict[str, Any]]:
    """A summary's runs: the parts each report ran and what it cost."""
    return s.get("runs") or [{"parts": s.get("parts", []), **s.get("cost", {})}]


def merge(kept: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """One model's summary from a kept summary and a new one: the new report's parts replace
    the kept ones', the other kept parts stay, and the row's cost lists every run that still
    gives a figure. Summaries of different models, card wordings or turn cuts do not mix:
    ``InvalidInput``."""
    for key in ("llm", "card_version", "max_turns"):
        if kept.get(key) != new.get(key):
            raise InvalidInput(
                f"cannot merge reports that differ in {key}: {kept.get(key)!r} (kept) vs "
                f"{new.get(key)!r} (new); remove the kept summary to replace it (a rerun of "
                "the report sends no request: its answers are in the completion cache)"
            )
    out = dict(kept)
    for part in new["parts"]:
        for key in PART_KEYS[part]:
            out.pop(key, None)
    agent_parts = {"cooperation", "discrimination", "probes"}
    if agent_parts & set(new["parts"]) and agent_parts & set(kept["parts"]) - set(new["parts"]):
        if kept.get("episodes") != new.get("episodes"):
            raise InvalidInput(
                f"cannot merge agent parts run with {kept.get('episodes')} and "
                f"{new.get('episodes')} episodes per agent; rerun them with one --limit"
            )
    out |= {k: v for k, v in new.items() if k not in ("cost", "runs", "parts")}
    runs = [r for r in _runs(kept) if set(r["parts"]) - set(new["parts"])] + _runs(new)
    out["parts"] = [p for p in PART_KEYS if p in set(kept["parts"]) | set(new["parts"])]
    out["runs"] = runs
    out.pop("cost", None)
    return out


def _fmt(x: Any, digits: int = 2) -> str:
    return f"{x:.{digits}f}"


def _interval(f: dict[str, Any], key: str, digits: int = 2) -> str:
    """A figure with its interval, or why there is none."""
    if key not in f:
        return f"too few answers ({f.get('n', 0)} valid)"
    lo, hi = f[f"{key}_ci95"]
    return f"{_fmt(f[key], digits)} [{_fmt(lo, digits)}, {_fmt(hi, digits)}]"


def _rank(f: dict[str, Any], key: str, why: str) -> str:
    """AUC or Spearman, or why the sample cannot give it."""
    if "mean" not in f:
        return f"too few answers ({f.get('n', 0)} valid)"
    return _fmt(f[key]) if f.get(key) is not None else why


def _p4g_cells(s: dict[str, Any]) -> list[str]:
    if "p4g" not in s:
        return ["not run"] * 4
    f, e = s["p4g"]["llm"], s["p4g"]["embedded"]
    auc = _rank(f, "auc", "undefined: one outcome for all")
    if f.get("auc") is not None and e.get("auc") is not None:
        auc += f" ({_fmt(e['auc'])})"
    mean = _interval(f, "mean")
    zero = _fmt(f["share_zero"]) if "share_zero" in f else "too few answers"
    if "mean" in f and s["p4g"].get("real_mean") is not None:
        mean += f" ({_fmt(s['p4g']['real_mean'])})"
        zero += f" ({_fmt(s['p4g']['real_share_zero'])})"
    spearman = _rank(f, "spearman", "undefined: one outcome for all")
    return [auc, mean, zero, spearman]


def _esconv_cells(s: dict[str, Any]) -> list[str]:
    if "esconv" not in s:
        return ["not run"] * 2
    f = s["esconv"]["llm"]
    real = s["esconv"]["real_mean"]
    mean = _interval(f, "mean")
    if "mean" in f and real is not None:
        mean += f" ({_fmt(real)})"
    return [mean, _rank(f, "spearman", "undefined: one outcome for all")]


def _verdicts(
    s: dict[str, Any], key: str, yes: str, no: str, figures: Callable[[str], str] | None = None
) -> str:
    """Each env's verdict, followed by ``figures(env)`` when given."""
    if key not in s:
        return "not run"
    words = {True: yes, False: no, "tied": "ties agents"}
    return "; ".join(f"{d}: {words[v]}{figures(d) if figures else ''}" for d, v in s[key].items())


def _small_talk(s: dict[str, Any], domain: str) -> str:
    """The small-talk verdict's figures: LLM user minus embedded user, its interval and p."""
    r = s.get("over_cooperation", {}).get(f"{domain} / small talk")
    if r is None:
        return ""
    lo, hi = r["diff_ci95"]
    return f" ({r['diff']:+.2f} [{_fmt(lo)}, {_fmt(hi)}], p {_fmt(r['p'], 3)})"


def _probe_cell(s: dict[str, Any]) -> str:
    """The probes whose effect on the LLM user's outcome is significant, beside the embedded
    user's effect of the same probe."""
    if "probes" not in s:
        return "not run"
    moved = [
        f"{name} {r['llm']['effect']:+.2f} ({r['embedded']['effect']:+.2f})"
        for name, r in s["probes"].items()
        if _testable(r["llm"]["p"]) and r["llm"]["p"] < 0.05
    ]
    untestable = sum(not _testable(r["llm"]["p"]) for r in s["probes"].values())
    cell = "; ".join(moved) or f"none of {len(s['probes'])}"
    return cell + (f"; {untestable} untestable (too few valid episodes)" if untestable else "")


def _testable(p: Any) -> bool:
    """A p-value that exists (a NaN or None p: too few valid episodes to test)."""
    return p is not None and not math.isnan(p)


def _cost(c: dict[str, Any]) -> str:
    """Requests sent (their tokens, and how many came without a count), answers from the
    cache, seconds."""
    if not c:
        return "-"
    tokens = c.get("prompt_tokens")
    tok = f", {tokens + c.get('completion_tokens', 0):,} tokens" if tokens is not None else ""
    if c.get("unmetered"):
        tok += f" ({c['unmetered']} answers without a count)"
    cached = f", {c['cached']} from the cache" if c.get("cached") else ""
    return f"{c.get('requests')} requests sent{tok}{cached}, {c.get('seconds')} s"


def _costs(s: dict[str, Any]) -> str:
    """Each run's cost, named by its parts when the row holds more than one run."""
    runs = [r for r in _runs(s) if r.get("parts") or r.get("requests") is not None]
    if len(runs) <= 1:
        return _cost(s.get("cost") or (runs[0] if runs else {}))
    return "; ".join(
        f"{'+'.join(r['parts'])}: {_cost({k: v for k, v in r.items() if k != 'parts'})}"
        for r in runs
    )


def row(s: dict[str, Any]) -> list[str]:
    """One model's cells, in :data:`COLUMNS` order."""
    names = {"p4g": "P4G", "esconv": "ESConv"}
    sizes = [f"{s[k]['dialogues']} {name}" for k, name in names.items() if k in s]
    if s.get("episodes") is not None:
        sizes.append(f"{s['episodes']} episodes per agent")
    if s.get("max_turns"):
        sizes.append(f"cut at {s['max_turns']} turns")
    return [
        f"`{s['llm']}`" if isinstance(s["llm"], str) else str(s["llm"]),
        ", ".join(sizes) or "-",
        *_p4g_cells(s),
        *_esconv_cells(s),
        _verdicts(s, "small_talk_flagged", "**yes (flagged)**", "no", lambda d: _small_talk(s, d)),
        _verdicts(s, "same_order", "yes", "**no**"),
        _probe_cell(s),
        _costs(s),
    ]


def which_model_table(summaries: list[dict[str, Any]]) -> str:
    """The Markdown table: a row per summary, then an empty row for the model you bring."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + " --- |" * len(COLUMNS)]
    lines += ["| " + " | ".join(row(s)) + " |" for s in summaries]
    lines.append("| your model | " + " | ".join([""] * (len(COLUMNS) - 1)) + " |")
    return "\n".join(lines) + "\n"


def replace_block(text: str, block: str) -> str:
    """``text`` with what lies between :data:`START` and :data:`END` replaced by ``block``."""
    if START not in text or END not in text:
        raise InvalidInput(f"the markers {START!r} and {END!r} are not both in the text")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{block}{END}{tail}"
