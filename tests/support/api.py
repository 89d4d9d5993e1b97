"""What the control API tests share: an engine's settings for them and raw WebSocket frames."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection

from tmt_tui.api import protocol
from tmt_tui.config import Settings
from tmt_tui.domain.secret import Secret

from .engines import engine_settings


def make_settings(journal: Path, *, ticks_per_second: float = 20.0) -> Settings:
    """The sim engine of ``engine_settings``, ticking ``ticks_per_second`` per instrument."""
    base = engine_settings(journal)
    return dataclasses.replace(
        base, sim=dataclasses.replace(base.sim, ticks_per_second=ticks_per_second)
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
