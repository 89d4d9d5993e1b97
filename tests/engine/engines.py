"""Real engines for integration tests: an EngineRunner thread on a tmp journal, a fixed clock."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from tmt_tui.cli.embedded import start_embedded
from tmt_tui.config import Settings, load_settings
from tmt_tui.domain.client import Snapshot
from tmt_tui.engine.local_client import LocalEngineClient

from .harness import T0
from .waiting import eventually

INSTRUMENTS = ("EUR_USD", "GBP_USD", "USD_JPY")


def fixed_clock() -> float:
    """Wall time frozen on a quiet Wednesday: no rollover can happen in the middle of a test."""
    return T0


def engine_settings(journal: Path, **kill_switch: Any) -> Settings:
    base = load_settings()
    return dataclasses.replace(
        base,
        engine=dataclasses.replace(base.engine, journal_path=str(journal)),
        sim=dataclasses.replace(base.sim, instruments=INSTRUMENTS),
        kill_switch=dataclasses.replace(base.kill_switch, **kill_switch),
    )


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[LocalEngineClient]:
    """An embedded engine with a quote for every instrument; stopped cleanly on the way out."""
    client = start_embedded(settings, clock=fixed_clock)
    try:
        book = client.runner.core.quotes  # type: ignore[union-attr]
        await eventually(lambda: all(name in book.quotes for name in INSTRUMENTS))
        yield client
    finally:
        await client.close()


async def snapshot(client: LocalEngineClient) -> Snapshot:
    """The first item of a fresh subscription: the whole picture, taken on the engine thread."""
    stream = client.subscribe()
    try:
        item = await anext(stream)
    finally:
        await stream.aclose()  # type: ignore[attr-defined]  # an async generator underneath
    assert isinstance(item, Snapshot), item
    return item


def journal_rows(path: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Read the journal from a separate read-only connection, as another process would."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def events_of(path: Path, kind: str) -> list[tuple[int, dict[str, Any]]]:
    rows = journal_rows(path, "select seq, data from events where kind = ? order by seq", kind)
    return [(seq, json.loads(data)) for seq, data in rows]
