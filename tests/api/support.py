"""Helpers the control API tests share: waiting, raw frames, reading the journal."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection

from tests.engine.engines import journal_rows as journal_rows  # shared with the engine suites
from tests.engine.waiting import eventually as eventually
from tmt_tui.api import protocol
from tmt_tui.config import Settings, load_settings
from tmt_tui.domain.secret import Secret

INSTRUMENTS = ("EUR_USD", "GBP_USD", "USD_JPY")


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


def journal_events(path: Path, kind: str) -> list[dict[str, Any]]:
    rows = journal_rows(path, "select origin, data from events where kind = ? order by seq", kind)
    return [{"origin": origin, **json.loads(data)} for origin, data in rows]
