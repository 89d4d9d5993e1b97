"""Fixtures for the CLI tests: a private home under /tmp and a `tmt engine` running in it."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli import Engine, start_engine, write_config


@pytest.fixture
def home() -> Iterator[Path]:
    # short: a Unix socket path must stay under 107 bytes
    path = Path(tempfile.mkdtemp(prefix="tmtc", dir="/tmp"))
    yield path


@pytest.fixture
def engine(home: Path) -> Iterator[Engine]:
    running = start_engine(home, write_config(home))
    yield running
    running.stop()
