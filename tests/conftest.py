"""Fixtures every test shares: no test ever touches a real user's data directory."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point ``$XDG_DATA_HOME`` (where the default journal lives) into the test's tmp dir."""
    data_home = tmp_path / "xdg-data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data_home))
    return data_home


@pytest.fixture
def journal_path(tmp_path: Path) -> Path:
    """A fresh journal file location inside the test's tmp dir."""
    return tmp_path / "journal" / "journal.db"
