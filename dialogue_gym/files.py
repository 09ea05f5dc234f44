"""Whole-file and whole-folder outputs written atomically: a temporary one, then ``os.replace``."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import InvalidInput


def private_file(path: str | Path) -> Path:
    """Create ``path`` empty (or empty it), readable and writable by its owner only (0600), so
    what is written into it next is never readable by others, whatever the umask."""
    path = Path(path)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    os.chmod(path, 0o600)  # an existing file keeps its mode through O_CREAT
    return path


def atomic_write_text(path: str | Path, text: str, private: bool = False) -> Path:
    """Write ``text`` to ``path`` so a reader never sees a half-written file; ``private``: the
    file is readable by its owner only (:func:`private_file`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    if private:
        private_file(tmp)
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


@contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Fill a temporary folder beside ``path``; on success it replaces ``path`` in one rename, so
    a killed run leaves the previous folder (or none), never a half-written one."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if path.exists():
        shutil.rmtree(path)
    os.replace(tmp, path)


def check_writable(path: str | Path) -> None:
    """Raise ``ValueError`` unless ``path`` (a file or folder to be written) can be created:
    its nearest existing ancestor must be a writable folder. Checked before a command works, so
    a bad ``--out`` costs nothing."""
    path = Path(path)
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise InvalidInput(f"cannot write {path}: {ancestor} is a file, not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise InvalidInput(f"cannot write {path}: {ancestor} is not writable")
