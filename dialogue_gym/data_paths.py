"""Where the real corpora live, for the commands and scripts that read them.

One rule everywhere: ``--data DIR`` if given, else the environment variable
:data:`ENV_VAR` (``DIALOGUE_GYM_DATA``), else ``../shared/data`` beside this checkout (where this
repository's own development data sit). The layout under that folder (README, "Real data"):

- ``p4g/train.json``, ``p4g/test.json`` and ``p4g/corpus/*.csv`` (PersuasionForGood);
- ``esconv/esconv_{train,valid,test}.jsonl`` (ESConv, one dialogue a line).

The environments never need these: their fitted parameters ship in ``simulators/params/``.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import InvalidInput

ENV_VAR = "DIALOGUE_GYM_DATA"
CHECKOUT_DEFAULT = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CORPORA = {
    "p4g": ("p4g/train.json", "p4g/test.json", "p4g/corpus/full_info.csv"),
    "esconv": (
        "esconv/esconv_train.jsonl",
        "esconv/esconv_valid.jsonl",
        "esconv/esconv_test.jsonl",
    ),
}
"""The files each corpus needs, relative to the data folder."""


def resolve_data_dir(given: str | Path | None = None) -> tuple[Path, str]:
    """The data folder and where the choice came from (``--data``, the variable, the default)."""
    if given is not None:
        return Path(given), "--data"
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]), f"${ENV_VAR}"
    return CHECKOUT_DEFAULT, "the default"


def missing_files(data_dir: Path, corpora: tuple[str, ...] = ("p4g", "esconv")) -> list[str]:
    """The files of ``corpora`` absent from ``data_dir`` (relative paths)."""
    unknown = sorted(set(corpora) - set(CORPORA))
    if unknown:
        raise InvalidInput(f"unknown corpus {unknown}; allowed: {', '.join(CORPORA)}")
    return [f for c in corpora for f in CORPORA[c] if not (data_dir / f).is_file()]


def require_data_dir(
    given: str | Path | None = None, corpora: tuple[str, ...] = ("p4g", "esconv")
) -> Path:
    """The data folder holding every file of ``corpora``, or ``ValueError`` naming both ways to
    point at it and what is missing."""
    path, source = resolve_data_dir(given)
    missing = missing_files(path, corpora)
    if missing:
        shown = ", ".join(missing[:4]) + (
            f" and {len(missing) - 4} more" if len(missing) > 4 else ""
        )
        raise InvalidInput(
            f"the real corpora are not at {path} (from {source}): missing {shown}. Point at them "
            f"with --data DIR or the environment variable {ENV_VAR}=DIR; the README's 'Real "
            "data' section says where to get PersuasionForGood and ESConv and how to lay them out"
        )
    return path
