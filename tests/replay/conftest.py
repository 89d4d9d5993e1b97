"""Fixtures for the replay tests: a recording on disk, and a private home for `tmt` processes."""

from __future__ import annotations

import inspect
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.replay.recordings import write_ticks
from tmt_tui.domain.quotes import Quote


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run every coroutine test here on asyncio."""
    for item in items:
        function = getattr(item, "function", None)
        if function is not None and inspect.iscoroutinefunction(function):
            item.add_marker(pytest.mark.asyncio)


@pytest.fixture
def recording(tmp_path: Path) -> tuple[Path, list[Quote]]:
    """A CSV of 1,200 lively ticks 20 ms apart (24 s of market), and its quotes in order."""
    path = tmp_path / "ticks.csv"
    return path, write_ticks(path)


@pytest.fixture
def home() -> Iterator[Path]:
    """A private home under /tmp for `tmt` processes (short: a socket path has a limit)."""
    path = Path(tempfile.mkdtemp(prefix="tmtr", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)
