"""``dialogue-gym study export``: conversations as Episode JSONL, answers as CSV (or XLSX).

Only conversations whose questions were answered are exported (they have an outcome); the
summary counts those left out (in progress, or ended without answers). Participants typed the
comments, and a spreadsheet that opens the answers must never run one: the CSV quotes every
field and marks with ``'`` every piece of a cell that could start a formula under any separator
(:func:`csv_safe`); the XLSX stores every cell as a string. The JSONL keeps the exact text.
Every file is readable by its owner only.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..domains import env_domain
from ..episode import Episode, Turn
from ..errors import InvalidInput
from ..files import atomic_write_text, private_file
from ..jsonl import write_episodes
from .design import QUESTIONS, partner_label, reward_of
from .store import StudyStore


def _answered(store: StudyStore) -> Iterator[tuple[dict[str, Any], Any]]:
    """Each answered conversation's answers with its participant."""
    participants = {p.id: p for p in store.participants()}
    for a in store.answers():
        yield a, participants[a["participant"]]


def answer_rows(store: StudyStore) -> list[dict[str, Any]]:
    """One flat row per answered conversation (the CSV's rows)."""
    cfg = store.config
    domain = env_domain(cfg.env_id)
    q = QUESTIONS[domain]
    rows = []
    for a, p in _answered(store):
        ended = store.ended(p.id)
        row = {
            "participant": p.id,
            "position": a["position"],
            "label": partner_label(a["position"]),
            "agent_index": a["agent"],
            "agent": cfg.agents[a["agent"]],
            "order": "-".join(str(i) for i in p.order),
            "seed": p.seed,
            q.outcome_key: a["outcome"],
        }
        if domain == "counseling":
            row["intensity_before"] = p.card["intensity"]
        row["reward"] = reward_of(domain, a["outcome"], p.card)
        row.update({f"rating_{r.key}": a["ratings"].get(r.key) for r in q.ratings})
        row.update(
            end_reason=ended.get(a["position"], ""),
            messages=len(store.messages(p.id, a["position"])),
            comment=a["comment"],
        )
        rows.append(row)
    return rows


# A piece of a cell that a spreadsheet may read as a formula: the cell's start, or what follows a
# line break or a character some locale splits fields on (, ; Tab), then spaces, then one of
# = + - @ (or a Tab or CR at the very start). LibreOffice 7.4 runs "fine;=2*21" opened with ";"
# as separator, and "line1\n=3*14" with ";" or Tab, even when the field is quoted.
_FORMULA_START = re.compile(r"(^|[\r\n,;\t])( *)(?=[=+\-@])|^(?=[\t\r])")


def csv_safe(value: Any) -> Any:
    """A cell that a spreadsheet shows as text whatever separator it splits on: every piece that
    could start a formula gets a leading ``'`` (the JSONL export keeps the exact text)."""
    if isinstance(value, str):
        return _FORMULA_START.sub(lambda m: (m.group(1) or "") + (m.group(2) or "") + "'", value)
    return value


def answers_csv_text(store: StudyStore) -> str:
    """The answers as CSV text (a header and one row per answered conversation)."""
    rows = answer_rows(store)
    buf = io.StringIO()
    if rows:
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]), quoting=csv.QUOTE_ALL)
        writer.writeheader()
        writer.writerows({k: csv_safe(v) for k, v in row.items()} for row in rows)
    return buf.getvalue()


def answers_xlsx(store: StudyStore, path: Path) -> None:
    """The answers as an XLSX workbook at ``path``, every cell a string (never a formula)."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    rows = answer_rows(store)
    book = Workbook()
    sheet = book.active
    sheet.title = "answers"
    table = [list(rows[0])] + [list(r.values()) for r in rows] if rows else []
    for i, values in enumerate(table, start=1):
        for j, value in enumerate(values, start=1):
            cell = sheet.cell(row=i, column=j)
            # control characters a participant typed cannot go into XML: shown as U+FFFD
            cell.value = "" if value is None else ILLEGAL_CHARACTERS_RE.sub("\ufffd", str(value))
            cell.data_type = "s"  # openpyxl reads a string starting with "=" as a formula
    book.save(private_file(path))


EXPORT_FORMATS = ("csv", "xlsx")


def study_episodes(store: StudyStore) -> list[Episode]:
    """The answered conversations as Episodes (agent = ``assistant``, participant = ``user``);
    ``outcome`` holds the answers, ``provenance`` the participant and position."""
    cfg = store.config
    domain = env_domain(cfg.env_id)
    q = QUESTIONS[domain]
    episodes = []
    for a, p in _answered(store):
        pos = a["position"]
        turns = [Turn(m.role, m.text, timestamp=m.ts) for m in store.messages(p.id, pos)]
        outcome: dict[str, Any] = {q.outcome_key: a["outcome"], "ratings": a["ratings"]}
        if domain == "counseling":
            outcome["intensity_before"] = p.card["intensity"]
        episodes.append(
            Episode(
                id=f"study-p{p.id:04d}-{pos}",
                env_id=cfg.env_id,
                turns=turns,
                reward=reward_of(domain, a["outcome"], p.card),
                env_kwargs={"max_turns": cfg.max_turns},
                seed=p.seed,
                agent={"spec": cfg.agents[a["agent"]], "label": partner_label(pos)},
                outcome=outcome,
                reason=store.ended(p.id).get(pos, ""),
                provenance={
                    "source": "dialogue-gym study",
                    "reward_source": "real",
                    "participant": p.id,
                    "position": pos,
                    "order": p.order,
                    "card": p.card,
                },
            )
        )
    return episodes


def export_study(store: StudyStore, out: str | Path, fmt: str = "csv") -> dict[str, Any]:
    """Write ``episodes.jsonl`` and ``answers.csv`` (``fmt="xlsx"``: ``answers.xlsx``) into the
    folder ``out``, each written whole, then moved into place, readable by its owner only;
    returns what was written and what was left out."""
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput(f"unknown export format {fmt!r}; allowed: {', '.join(EXPORT_FORMATS)}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    episodes = study_episodes(store)
    write_episodes(out / "episodes.jsonl", episodes, private=True)
    answers = out / f"answers.{fmt}"
    if fmt == "csv":
        atomic_write_text(answers, answers_csv_text(store), private=True)
    else:
        tmp = answers.with_name(answers.name + ".tmp")
        answers_xlsx(store, tmp)
        os.replace(tmp, answers)
    started = {
        (p.id, pos)
        for p in store.participants()
        for pos in range(len(store.config.agents))
        if pos in store.ended(p.id) or store.messages(p.id, pos)
    }
    return {
        "episodes": len(episodes),
        "answers": len(episodes),
        "participants": store.counts()["participants"],
        "left_out": len(started) - len(episodes),
        "out": str(out),
        "answers_file": str(answers),
    }
