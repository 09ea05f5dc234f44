"""``dialogue-gym study export``: conversations as Episode JSONL, answers as CSV.

Only conversations whose questions were answered are exported (they have an outcome); the
summary counts those left out (in progress, or ended without answers).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from ..domains import env_domain
from ..episode import Episode, Turn
from ..files import atomic_write_text
from ..jsonl import write_episodes
from .design import QUESTIONS, partner_label, reward_of
from .store import StudyStore


def answer_rows(store: StudyStore) -> list[dict[str, Any]]:
    """One flat row per answered conversation (the CSV's rows)."""
    cfg = store.config
    domain = env_domain(cfg.env_id)
    q = QUESTIONS[domain]
    cards = {p.id: p for p in store.participants()}
    rows = []
    for a in store.answers():
        p = cards[a["participant"]]
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


def csv_safe(value: Any) -> Any:
    """A cell that a spreadsheet shows as text: a string starting with ``= + - @`` or a tab or
    carriage return gets a leading ``'`` (so a participant's comment is never run as a
    formula)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def answers_csv_text(store: StudyStore) -> str:
    """The answers as CSV text (a header and one row per answered conversation)."""
    rows = answer_rows(store)
    buf = io.StringIO()
    if rows:
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({k: csv_safe(v) for k, v in row.items()} for row in rows)
    return buf.getvalue()


def study_episodes(store: StudyStore) -> list[Episode]:
    """The answered conversations as Episodes (agent = ``assistant``, participant = ``user``);
    ``outcome`` holds the answers, ``provenance`` the participant and position."""
    cfg = store.config
    domain = env_domain(cfg.env_id)
    q = QUESTIONS[domain]
    participants = {p.id: p for p in store.participants()}
    episodes = []
    for a in store.answers():
        p = participants[a["participant"]]
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


def export_study(store: StudyStore, out: str | Path) -> dict[str, Any]:
    """Write ``episodes.jsonl`` and ``answers.csv`` into the folder ``out`` (each file written
    whole, then moved into place); returns what was written and what was left out."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    episodes = study_episodes(store)
    write_episodes(out / "episodes.jsonl", episodes)
    atomic_write_text(out / "answers.csv", answers_csv_text(store))
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
    }
