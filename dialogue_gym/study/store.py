"""The study's SQLite store (WAL mode): participants, messages and answers.

Every write is its own committed transaction (``synchronous=FULL``) before the web app answers,
so a reload, a lost connection or a killed server loses nothing that a participant saw
confirmed. Messages are keyed by (participant, position, index): a form sent twice (a double
click, a reload that re-posts) stores its message once. Participant tokens are kept only as
SHA-256 hashes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import InvalidInput
from ..files import private_file

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS participants (
    id INTEGER PRIMARY KEY,
    token_hash TEXT UNIQUE NOT NULL,
    seed INTEGER NOT NULL,
    card TEXT NOT NULL,
    created REAL NOT NULL,
    consented REAL,
    block_index INTEGER UNIQUE,
    agent_order TEXT
);
CREATE TABLE IF NOT EXISTS conversations (
    participant INTEGER NOT NULL REFERENCES participants(id),
    position INTEGER NOT NULL,
    ended REAL NOT NULL,
    end_reason TEXT NOT NULL,
    PRIMARY KEY (participant, position)
);
CREATE TABLE IF NOT EXISTS messages (
    participant INTEGER NOT NULL REFERENCES participants(id),
    position INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('assistant', 'user')),
    text TEXT NOT NULL,
    ts REAL NOT NULL,
    PRIMARY KEY (participant, position, idx)
);
CREATE TABLE IF NOT EXISTS invites (
    code_hash TEXT PRIMARY KEY,
    created REAL NOT NULL,
    used_by INTEGER REFERENCES participants(id)
);
CREATE TABLE IF NOT EXISTS answers (
    participant INTEGER NOT NULL REFERENCES participants(id),
    position INTEGER NOT NULL,
    outcome REAL NOT NULL,
    ratings TEXT NOT NULL,
    comment TEXT NOT NULL,
    ts REAL NOT NULL,
    PRIMARY KEY (participant, position)
);
"""


@dataclass(frozen=True)
class StudyConfig:
    """What a study is: the env, the agents (specs, in the order given), turns, base seed."""

    env_id: str
    agents: tuple[str, ...]
    max_turns: int
    seed: int = 0

    def to_json(self) -> str:
        """JSON text (stored in the database's ``meta`` table)."""
        return json.dumps({**asdict(self), "agents": list(self.agents)}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> StudyConfig:
        """Rebuild from :meth:`to_json`."""
        d = json.loads(text)
        return cls(d["env_id"], tuple(d["agents"]), int(d["max_turns"]), int(d["seed"]))


@dataclass(frozen=True)
class Participant:
    """One participant: index (order of joining), persona seed, agent order (empty until
    consent) and card."""

    id: int
    seed: int
    order: list[int]
    card: dict[str, Any]
    created: float
    consented: float | None


@dataclass(frozen=True)
class Message:
    """One stored message of a conversation."""

    idx: int
    role: str
    text: str
    ts: float


HOLD_SECONDS = 3600.0
"""How long a visit that has not finished its first chat holds a Latin-square row and a place."""


def _check_is_study(path: Path) -> None:
    """``ValueError`` unless ``path`` is a dialogue-gym study database (opened read-only)."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = db.execute("SELECT value FROM meta WHERE key='config'").fetchone()
        finally:
            db.close()
    except sqlite3.DatabaseError as e:
        raise InvalidInput(f"{path} is not a dialogue-gym study database ({e})") from None
    if row is None:
        raise InvalidInput(f"{path} is not a dialogue-gym study database (no study config)")


def hash_token(token: str) -> str:
    """The SHA-256 hex digest under which a participant token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


class StudyStore:
    """A study's database. Opening a new path creates it for ``config``; opening an existing one
    checks that ``config`` (when given) is the one it was created for."""

    def __init__(self, path: str | Path, config: StudyConfig | None = None) -> None:
        self.path = Path(path)
        existed = self.path.exists()
        if config is None and not existed:
            raise FileNotFoundError(f"no study database at {self.path}")
        if existed:
            _check_is_study(self.path)  # read-only: never change someone else's file
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # every message and the secret behind the CSRF tokens and admin sessions: owner only
        # (SQLite gives the -wal and -shm files the database file's mode)
        if not existed:
            private_file(self.path)
        for part in ("", "-wal", "-shm"):
            side = self.path.with_name(self.path.name + part)
            if side.exists():
                side.chmod(0o600)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
        with self._tx() as db:
            row = db.execute("SELECT value FROM meta WHERE key='config'").fetchone()
            if row is None:
                if config is None:
                    raise InvalidInput(f"{self.path} is not a dialogue-gym study database")
                db.execute("INSERT INTO meta VALUES ('config', ?)", (config.to_json(),))
                db.execute("INSERT INTO meta VALUES ('secret', ?)", (secrets.token_hex(32),))
                db.execute("INSERT INTO meta VALUES ('created', ?)", (repr(time.time()),))
                stored = config
            else:
                stored = StudyConfig.from_json(row[0])
            if config is not None and config != stored:
                raise InvalidInput(
                    f"{self.path} holds a study of {stored.env_id} with agents "
                    f"{', '.join(stored.agents)} and {stored.max_turns} turns (seed "
                    f"{stored.seed}); it cannot be reused for {config.env_id} with "
                    f"{', '.join(config.agents)} and {config.max_turns} turns (seed "
                    f"{config.seed}): name a new --db"
                )
            self.config = stored
            self.secret = bytes.fromhex(
                db.execute("SELECT value FROM meta WHERE key='secret'").fetchone()[0]
            )

    # -- connections -----------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA foreign_keys=ON")
        return db

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``), committed on leaving."""
        db = self._connect()
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        finally:
            db.close()

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        db = self._connect()
        try:
            yield db
        finally:
            db.close()

    # -- participants ----------------------------------------------------------------------------

    def add_participant(
        self, card_for: Any, invite: str | None = None, places: int | None = None
    ) -> tuple[str, Participant] | None:
        """A new participant with a fresh unguessable token; ``card_for(seed)`` gives the
        persona card. Returns the token (shown once, in the link) and the participant. The
        agent order is assigned at consent (:meth:`consent`). ``None`` (and nothing stored)
        when ``invite`` is given but not an open invite (it is used up otherwise), or when
        ``places`` are all taken (:meth:`places_taken`)."""
        token = secrets.token_urlsafe(24)
        with self._tx() as db:
            index = db.execute("SELECT COUNT(*) FROM participants").fetchone()[0]
            if places is not None and self._places_taken(db) >= places:
                return None
            if invite is not None:  # one write transaction: two visits cannot both use it
                row = db.execute(
                    "SELECT used_by FROM invites WHERE code_hash=?", (hash_token(invite),)
                ).fetchone()
                if row is None or row[0] is not None:
                    return None
            seed = self.config.seed + index
            card = card_for(seed)
            now = time.time()
            db.execute(
                "INSERT INTO participants (id, token_hash, seed, card, created) "
                "VALUES (?, ?, ?, ?, ?)",
                (index, hash_token(token), seed, json.dumps(card), now),
            )
            if invite is not None:
                db.execute(
                    "UPDATE invites SET used_by=? WHERE code_hash=?", (index, hash_token(invite))
                )
        return token, Participant(index, seed, [], card, now, None)

    def participant(self, token: str) -> Participant | None:
        """The participant holding ``token`` (``None`` for an unknown token)."""
        with self._read() as db:
            row = db.execute(
                "SELECT id, seed, agent_order, card, created, consented FROM participants "
                "WHERE token_hash=?",
                (hash_token(token),),
            ).fetchone()
        return _participant(row) if row else None

    def participants(self, offset: int = 0, limit: int = -1) -> list[Participant]:
        """Every participant (``limit`` of them from the ``offset``-th; -1: all), in order of
        joining."""
        with self._read() as db:
            rows = db.execute(
                "SELECT id, seed, agent_order, card, created, consented FROM participants "
                "ORDER BY id LIMIT ? OFFSET ?",
                (limit, offset),
            ).fetchall()  # agent_order is NULL until consent
        return [_participant(r) for r in rows]

    def consent(self, participant: int, rows: list[list[int]], hold: float = HOLD_SECONDS) -> None:
        """Record consent (the first time only) and give the participant an agent order: the
        Latin-square row (of ``rows``) held by the fewest participants, counting those who
        finished their first chat (for good: their block index is set then,
        :meth:`end_conversation`) and those still in it who consented within ``hold`` seconds;
        ties go to the row fewer finishers hold, then the first. So people who consent and
        leave hold a row for ``hold`` seconds at most, and participants who overlap still
        spread over the rows."""
        now = time.time()
        with self._tx() as db:
            done = db.execute(
                "SELECT consented FROM participants WHERE id=?", (participant,)
            ).fetchone()
            if done is None or done[0] is not None:
                return
            held = db.execute(
                "SELECT agent_order, block_index IS NOT NULL FROM participants "
                "WHERE agent_order IS NOT NULL AND (block_index IS NOT NULL OR consented > ?)",
                (now - hold,),
            ).fetchall()
            finished = [sum(o == json.dumps(r) and f for o, f in held) for r in rows]
            waiting = [sum(o == json.dumps(r) and not f for o, f in held) for r in rows]
            pick = min(range(len(rows)), key=lambda i: (finished[i] + waiting[i], finished[i], i))
            db.execute(
                "UPDATE participants SET consented=?, agent_order=? WHERE id=?",
                (now, json.dumps(list(rows[pick])), participant),
            )

    # -- conversations ---------------------------------------------------------------------------

    def messages(self, participant: int, position: int) -> list[Message]:
        """The messages of one conversation, in order."""
        with self._read() as db:
            rows = db.execute(
                "SELECT idx, role, text, ts FROM messages WHERE participant=? AND position=? "
                "ORDER BY idx",
                (participant, position),
            ).fetchall()
        return [Message(*r) for r in rows]

    def add_message(self, participant: int, position: int, idx: int, role: str, text: str) -> bool:
        """Store message ``idx`` of a conversation unless it is already there (then ``False``:
        a repeated form, nothing changes). Refuses a gap (``idx`` past the next free index)."""
        with self._tx() as db:
            count = db.execute(
                "SELECT COUNT(*) FROM messages WHERE participant=? AND position=?",
                (participant, position),
            ).fetchone()[0]
            if idx < count:
                return False
            if idx > count:
                raise InvalidInput(f"message {idx} of a conversation with {count} messages")
            db.execute(
                "INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?)",
                (participant, position, idx, role, text, time.time()),
            )
        return True

    def end_conversation(self, participant: int, position: int, reason: str) -> None:
        """Mark a conversation ended (the first reason given is kept); the end of a first chat
        gives the participant the next block index (their Latin-square row now counts)."""
        with self._tx() as db:
            db.execute(
                "INSERT OR IGNORE INTO conversations VALUES (?, ?, ?, ?)",
                (participant, position, time.time(), reason),
            )
            if position == 0:
                db.execute(
                    "UPDATE participants SET block_index = (SELECT COALESCE(MAX(block_index), "
                    "-1) + 1 FROM participants) WHERE id=? AND block_index IS NULL",
                    (participant,),
                )

    def places_taken(self) -> int:
        """Participants who finished a chat, plus those who joined within
        :data:`HOLD_SECONDS` and have not yet (the ``--max-participants`` count: abandoned
        visits free their place)."""
        with self._read() as db:
            return self._places_taken(db)

    def keep_place(self, participant: int, places: int) -> bool:
        """Whether ``participant`` still has a place: they finished a chat, or joined (or last
        took a place) within :data:`HOLD_SECONDS`; otherwise they take a free place now if one
        is left (``False``: the study filled up while they were away)."""
        now = time.time()
        with self._tx() as db:
            row = db.execute(
                "SELECT block_index IS NOT NULL, created FROM participants WHERE id=?",
                (participant,),
            ).fetchone()
            if row is None:
                return False
            if row[0] or row[1] > now - HOLD_SECONDS:
                return True
            if self._places_taken(db) >= places:
                return False
            db.execute("UPDATE participants SET created=? WHERE id=?", (now, participant))
        return True

    @staticmethod
    def _places_taken(db: sqlite3.Connection) -> int:
        return db.execute(
            "SELECT COUNT(*) FROM participants WHERE block_index IS NOT NULL OR created > ?",
            (time.time() - HOLD_SECONDS,),
        ).fetchone()[0]

    # -- invites ---------------------------------------------------------------------------------

    def add_invites(self, n: int) -> list[str]:
        """``n`` new single-use invite codes (returned once; only their hashes are stored)."""
        if n < 1:
            raise InvalidInput(f"the number of invites must be at least 1, got {n}")
        codes = [secrets.token_urlsafe(24) for _ in range(n)]  # token-shaped: logs redact them
        now = time.time()
        with self._tx() as db:
            db.executemany(
                "INSERT INTO invites VALUES (?, ?, NULL)", [(hash_token(c), now) for c in codes]
            )
        return codes

    def invite_open(self, code: str) -> bool:
        """Whether ``code`` is an invite that no one has used."""
        with self._read() as db:
            row = db.execute(
                "SELECT used_by FROM invites WHERE code_hash=?", (hash_token(code),)
            ).fetchone()
        return row is not None and row[0] is None

    def ended(self, participant: int) -> dict[int, str]:
        """Positions of this participant's ended conversations, with why each ended."""
        with self._read() as db:
            rows = db.execute(
                "SELECT position, end_reason FROM conversations WHERE participant=?",
                (participant,),
            ).fetchall()
        return dict(rows)

    # -- answers ---------------------------------------------------------------------------------

    def save_answer(
        self,
        participant: int,
        position: int,
        outcome: float,
        ratings: dict[str, int],
        comment: str,
    ) -> bool:
        """Store the answers after one conversation, once (``False`` if already stored)."""
        with self._tx() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO answers VALUES (?, ?, ?, ?, ?, ?)",
                (participant, position, outcome, json.dumps(ratings), comment, time.time()),
            )
        return cur.rowcount == 1

    def answered(self, participant: int) -> set[int]:
        """Positions this participant has answered the questions for."""
        with self._read() as db:
            rows = db.execute(
                "SELECT position FROM answers WHERE participant=?", (participant,)
            ).fetchall()
        return {r[0] for r in rows}

    def answers(self) -> list[dict[str, Any]]:
        """Every stored answer with its participant, position and agent index."""
        with self._read() as db:
            rows = db.execute(
                "SELECT a.participant, a.position, p.agent_order, a.outcome, a.ratings, "
                "a.comment, a.ts FROM answers a JOIN participants p ON p.id = a.participant "
                "ORDER BY a.participant, a.position"
            ).fetchall()
        return [
            {
                "participant": pid,
                "position": pos,
                "agent": json.loads(order)[pos],
                "outcome": outcome,
                "ratings": json.loads(ratings),
                "comment": comment,
                "ts": ts,
            }
            for pid, pos, order, outcome, ratings, comment, ts in rows
        ]

    def counts(self) -> dict[str, int]:
        """Rows per table (the admin progress page, tests)."""
        with self._read() as db:
            return {
                t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in ("participants", "conversations", "messages", "answers")
            }


def _participant(row: tuple) -> Participant:
    pid, seed, order, card, created, consented = row
    order_list = json.loads(order) if order else []
    return Participant(pid, seed, order_list, json.loads(card), created, consented)
