"""A bare Polygon / Massive WebSocket server for tests that set each price themselves: it greets,
takes any key, reads the subscription, then sends whatever frames the test puts, and keeps every
action the client sends after that (a `subscribe` or `unsubscribe` while it runs)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from websockets.asyncio.server import ServerConnection, serve


class Tape:
    """The frames to send, and whether a client has subscribed yet."""

    def __init__(self) -> None:
        self.frames: asyncio.Queue[list[dict[str, Any]]] = asyncio.Queue()
        self.subscribed = asyncio.Event()
        self.url = ""
        self.actions: list[dict[str, Any]] = []  # every action, the first subscribe included

    async def _listen(self, ws: ServerConnection) -> None:
        with contextlib.suppress(Exception):  # the client went: nothing more to hear
            async for raw in ws:
                self.actions.append(json.loads(raw))

    async def handler(self, ws: ServerConnection) -> None:
        await ws.send(json.dumps([{"ev": "status", "status": "connected", "message": "hi"}]))
        await ws.recv()  # auth
        await ws.send(json.dumps([{"ev": "status", "status": "auth_success", "message": "ok"}]))
        self.actions.append(json.loads(await ws.recv()))  # subscribe
        self.subscribed.set()
        closed = asyncio.ensure_future(ws.wait_closed())
        listening = asyncio.ensure_future(self._listen(ws))
        try:
            while True:
                frame = asyncio.ensure_future(self.frames.get())
                await asyncio.wait({frame, closed}, return_when=asyncio.FIRST_COMPLETED)
                if not frame.done():
                    frame.cancel()
                    return  # the client went: so does this handler (the server can close)
                await ws.send(json.dumps(frame.result()))
        finally:
            closed.cancel()
            listening.cancel()

    def fx(self, symbol: str, bid: float, ask: float) -> None:
        """A forex quote (``C``): ``symbol`` as Polygon spells it, ``EUR/USD``."""
        self.frames.put_nowait([{"ev": "C", "p": symbol, "b": bid, "a": ask, "t": 17e11}])

    def stock(self, symbol: str, bid: float, ask: float) -> None:
        """A stock quote (``Q``)."""
        self.frames.put_nowait([{"ev": "Q", "sym": symbol, "bp": bid, "ap": ask, "t": 17e11}])


@contextlib.asynccontextmanager
async def tape_server() -> AsyncIterator[Tape]:
    """A ``Tape`` listening on a free loopback port (``tape.url``)."""
    tape = Tape()
    async with serve(tape.handler, "127.0.0.1", 0) as server:
        tape.url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        yield tape
