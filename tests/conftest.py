"""Fixtures every test shares: no test ever touches a real user's data directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.tally import add


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


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Count every test run and failed into the soak tally (no-op unless ``TMT_TALLY`` is set)."""
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        if report.outcome == "skipped":
            return
        suite = report.nodeid.split("::")[0].removeprefix("tests/").removesuffix(".py")
        add(suite.split("/")[0], tests=1, failures=int(report.outcome == "failed"))
