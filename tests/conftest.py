"""Shared fixtures: the real data folder (tests using it skip when it is absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``, or skip the test."""
    if not (SHARED_DATA / "README.md").is_file():
        pytest.skip("../shared/data is absent")
    return SHARED_DATA
