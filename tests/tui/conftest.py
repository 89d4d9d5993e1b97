"""Fixtures for UI tests: the real app on a real embedded engine, with its journal in tmp_path.

Tests wait for conditions with `tests.support.pilot.until` (polling `pilot.pause`), never
with fixed sleeps.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from textual.pilot import Pilot

from tests.support.pilot import board_ready, screen_text, until
from tmt_tui.cli.embedded import start_embedded
from tmt_tui.config import Settings, load_settings
from tmt_tui.engine.local_client import LocalEngineClient
from tmt_tui.tui.app import TmtApp, create_app


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run every coroutine test here on asyncio, whatever the project's `asyncio_mode`."""
    for item in items:
        function = getattr(item, "function", None)
        if function is not None and inspect.iscoroutinefunction(function):
            item.add_marker(pytest.mark.asyncio)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The packaged default config (two accounts, the sim), journaling under `tmp_path`, with
    no history backfill (~10 MB of bars at a first start; the chart's tests turn it on) and
    20 frames a second: Pilot waits for an idle app after each key, and at the default 100 the
    sim's ticks kept it busy, so each key waited about two seconds (frames driven by data are
    tested at any rate in test_frames.py)."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    base = load_settings()
    engine = dataclasses.replace(base.engine, journal_path=str(tmp_path / "j.db"), backfill_bars=0)
    return dataclasses.replace(base, engine=engine, ui=dataclasses.replace(base.ui, fps=20))


@pytest_asyncio.fixture
async def client(settings: Settings) -> AsyncIterator[LocalEngineClient]:
    """A running embedded engine on the sim market, stopped after the test."""
    engine = start_embedded(settings)
    try:
        yield engine
    finally:
        await engine.close()


@pytest.fixture
def app(settings: Settings, client: LocalEngineClient) -> TmtApp:
    return create_app(settings, client)


@pytest.fixture
def visible() -> Callable[[TmtApp], str]:
    return screen_text


@pytest.fixture
def ready() -> Callable[[Pilot[Any]], Awaitable[None]]:
    """`await ready(pilot)`: until the board shows a quote for every instrument of the snapshot."""

    async def wait(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, TmtApp)
        await until(pilot, lambda: board_ready(app), "a quote for every instrument")

    return wait
