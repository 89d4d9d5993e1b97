"""Helpers the control API tests share: waiting, raw frames, reading the journal."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from websockets.asyncio.client import ClientConnection

from tmt_tui.api import protocol
from tmt_tui.api.paths import Secret
from tmt_tui.config import Settings, load_settings

T = TypeVar("T")
INSTRUMENTS = ("EUR_USD", "GBP_USD", "USD_JPY")
TIMEOUT_S = 15.0  # reached only when something is broken


async def eventually(predicate: Callable[[], T], what: str = "", within: float = TIMEOUT_S) -> T:
    """``predicate()``'s first truthy value, polling without blocking the loop."""
    deadline = time.monotonic() + within
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within:.0f}s: {what or predicate}")
        await asyncio.sleep(0.01)


def make_settings(journal: Path, *, ticks_per_second: float = 20.0) -> Settings:
    base = load_settings()
    return dataclasses.replace(
        base,
        engine=dataclasses.replace(base.engine, journal_path=str(journal)),
        sim=dataclasses.replace(
            base.sim, instruments=INSTRUMENTS, ticks_per_second=ticks_per_second
        ),
    )


async def hello(ws: ClientConnection, token: Secret, *, read_only: bool = False) -> dict[str, Any]:
    """Authenticate a raw socket; returns the welcome."""
    await ws.send(protocol.hello(token.reveal(), read_only=read_only, client="test"))
    welcome = json.loads(await ws.recv())
    assert welcome["type"] == "welcome", welcome
    return welcome


async def answer(ws: ClientConnection) -> dict[str, Any]:
    """The next frame that is not a stream item."""
    while True:
        message = json.loads(await ws.recv())
        if message["type"] not in ("snapshot", "update"):
            return message


def journal_rows(path: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Read the journal on a separate read-only connection, as another process would."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def journal_events(path: Path, kind: str) -> list[dict[str, Any]]:
    rows = journal_rows(path, "select origin, data from events where kind = ? order by seq", kind)
    return [{"origin": origin, **json.loads(data)} for origin, data in rows]
