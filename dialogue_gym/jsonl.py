"""Append-only JSONL episode files: one episode a line, flushed and fsynced.

A run killed mid-write leaves at most one torn (incomplete) last line. :func:`read_episodes`
reports it instead of failing; :class:`EpisodeWriter` repairs it (cuts it off) when it opens the
file for appending, so the next record starts on a fresh line.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .episode import Episode
from .errors import InvalidData
from .files import private_file


@dataclass
class ReadReport:
    """What reading a file found besides valid episodes."""

    torn_tail: bool = False
    """The last line was incomplete (a killed writer)."""
    bad_lines: list[tuple[int, str]] = field(default_factory=list)
    """(line number, error) of complete lines that are not valid episodes."""


def iter_episodes(path: str | Path, report: ReadReport | None = None) -> Iterator[Episode]:
    """Valid episodes of ``path`` in order; problems go into ``report`` (never raised)."""
    report = report if report is not None else ReadReport()
    with open(path, "rb") as f:
        data = f.read()
    lines = data.split(b"\n")
    last_complete = data.endswith(b"\n")
    for i, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        is_last = i == len(lines)
        try:
            yield Episode.from_dict(json.loads(raw))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            if is_last and not last_complete:
                report.torn_tail = True
            else:
                report.bad_lines.append((i, f"not JSON: {e}"))
        except (ValueError, TypeError) as e:
            report.bad_lines.append((i, str(e)))


def read_episodes(path: str | Path) -> tuple[list[Episode], ReadReport]:
    """All valid episodes of ``path`` and a report of torn or bad lines."""
    report = ReadReport()
    return list(iter_episodes(path, report)), report


def describe_bad_lines(path: str | Path, report: ReadReport, limit: int = 5) -> str:
    """One line naming the bad lines of ``path`` by number (the first ``limit``) and why."""
    shown = "; ".join(f"line {n}: {why[:120]}" for n, why in report.bad_lines[:limit])
    more = len(report.bad_lines) - limit
    return f"{path}: {len(report.bad_lines)} bad line(s): {shown}" + (
        f"; and {more} more" if more > 0 else ""
    )


def corpus_hint(path: str | Path) -> str:
    """A pointer to the converter when ``path`` looks like a corpus file in its own format (a
    JSON list, as P4G ships; lines with a ``dialog`` field, as ESConv does), else ``""``."""
    with open(path, "rb") as f:
        head = f.read(4096).lstrip()
    kind = None
    if head.startswith(b"["):
        kind = "p4g-json"
    elif head.startswith(b"{") and b'"dialog"' in head:
        kind = "esconv-jsonl"
    if kind is None:
        return ""
    return (
        f". It looks like a corpus in its own format ({kind}): convert it first with "
        f"`dialogue-gym data convert --format {kind} {path} --out episodes.jsonl` "
        "(or dialogue_gym.loaders)"
    )


def require_episodes(path: str | Path, episodes: list[Episode], report: ReadReport) -> None:
    """Raise ``ValueError`` when reading ``path`` gave no valid episode, saying why."""
    if episodes:
        return
    if report.bad_lines:
        raise InvalidData(
            f"no valid episode in {describe_bad_lines(path, report)}{corpus_hint(path)}"
        )
    if report.torn_tail:
        raise InvalidData(f"no valid episode in {path}: its only line is incomplete")
    raise InvalidData(f"no valid episode in {path}: the file is empty")


def read_dataset(
    path: str | Path,
    warn: Callable[[str], None] | None = None,
    report: ReadReport | None = None,
) -> list[Episode]:
    """The valid episodes of a user's dataset file, for commands that read one.

    Bad lines are reported through ``warn`` (by line number and reason) and skipped; a torn last
    line (a killed writer) is noted; ``report``, if given, receives both. Raises ``ValueError``
    when the file holds no valid episode, naming the bad lines if any (an empty file says so)."""
    warn = warn or (lambda msg: print(f"warning: {msg}", file=sys.stderr))
    report = report if report is not None else ReadReport()
    episodes = list(iter_episodes(path, report))
    require_episodes(path, episodes, report)
    if report.bad_lines:
        warn(f"skipped {describe_bad_lines(path, report)}")
    if report.torn_tail:
        warn(f"{path} ends with an incomplete line (a killed writer?); skipped")
    return episodes


def repair_torn_tail(path: str | Path) -> bool:
    """Cut an incomplete last line off ``path``; True if something was cut."""
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return False
    with open(path, "rb+") as f:
        data = f.read()
        if data.endswith(b"\n"):
            return False
        cut = data.rfind(b"\n") + 1
        f.truncate(cut)
        f.flush()
        os.fsync(f.fileno())
    return True


class EpisodeWriter:
    """Appends episodes to a JSONL file, one line each, flushed and fsynced per record."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.repaired = repair_torn_tail(self.path)
        self._f = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()

    def write(self, episode: Episode) -> None:
        """Append one episode and make it durable."""
        self._f.write(json.dumps(episode.to_dict(), ensure_ascii=False) + "\n")
        self._f.flush()
        os.fsync(self._f.fileno())

    def write_all(self, episodes: Iterable[Episode]) -> int:
        """Append several episodes; returns how many."""
        n = 0
        for e in episodes:
            self.write(e)
            n += 1
        return n

    def close(self) -> None:
        """Close the file."""
        self._f.close()

    def __enter__(self) -> EpisodeWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_episodes(path: str | Path, episodes: Iterable[Episode], private: bool = False) -> int:
    """Write a whole new file (temporary file, then moved into place); returns the count.
    ``private``: readable by its owner only (:func:`~dialogue_gym.files.private_file`)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    if tmp.exists():
        tmp.unlink()
    if private:
        private_file(tmp)
    with EpisodeWriter(tmp) as w:
        n = w.write_all(episodes)
    os.replace(tmp, path)
    return n
