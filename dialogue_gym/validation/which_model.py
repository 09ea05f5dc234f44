"""Which model makes a valid LLM user: one table row per ``sim-report --simulator llm`` report.

:func:`summarize` keeps a report's figures and drops what came from the corpora (each dialogue's
real outcome, the persona cards), so a summary can be committed; :func:`which_model_table`
writes the summaries as the README's "which model" table, a row per model, and a cell says why
when a figure is missing (a part not run, or a figure the sample cannot give). The table is
rewritten between two markers by :func:`replace_block` (``scripts/which_model.py``).
"""

from __future__ import annotations

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
    if "over_cooperation" in report:
        out["small_talk_flagged"] = {
            k.split(" / ")[0]: v["flagged"]
            for k, v in report["over_cooperation"].items()
            if k.endswith("small talk")
        }
    if "discrimination" in report:
        out["same_order"] = {
            d: ("tied" if r["llm_tied"] else bool(r["same_order"]))
            for d, r in report["discrimination"].items()
        }
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


def _verdicts(s: dict[str, Any], key: str, yes: str, no: str) -> str:
    if key not in s:
        return "not run"
    words = {True: yes, False: no, "tied": "ties agents"}
    return "; ".join(f"{d}: {words[v]}" for d, v in s[key].items())


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


def row(s: dict[str, Any]) -> list[str]:
    """One model's cells, in :data:`COLUMNS` order."""
    names = {"p4g": "P4G", "esconv": "ESConv"}
    sizes = [f"{s[k]['dialogues']} {name}" for k, name in names.items() if k in s]
    if s.get("max_turns"):
        sizes.append(f"cut at {s['max_turns']} turns")
    return [
        f"`{s['llm']}`" if isinstance(s["llm"], str) else str(s["llm"]),
        ", ".join(sizes) or "-",
        *_p4g_cells(s),
        *_esconv_cells(s),
        _verdicts(s, "small_talk_flagged", "**yes (flagged)**", "no"),
        _verdicts(s, "same_order", "yes", "**no**"),
        _cost(s.get("cost", {})),
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
