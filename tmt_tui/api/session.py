"""One authenticated control API connection: commands run concurrently, subscriptions are
pumped from the engine as fast as the socket drains, and a socket that stops draining is closed.

Backpressure is the design: a send waits for the socket (``WRITE_LIMIT`` of buffer), and a
subscription pulls its next item from the engine's mailbox only after the previous one is on
its way, so a slow reader gets conflated quotes (latest per instrument) instead of a queue.
Commands stop being read at ``MAX_IN_FLIGHT`` running. A send that has not completed within
``max_lag_s`` means the reader has stalled: it is closed with 4002 "too slow".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Protocol

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from tmt_tui.api import protocol
from tmt_tui.api.protocol import Close, Code, ProtocolError
from tmt_tui.domain.client import EngineClient
from tmt_tui.domain.commands import (
    QUERIES,
    Origin,
)


class SessionHost(Protocol):
    """What a session needs of the server that accepted it (``ControlServer`` is one): the
    engine client, the timing limits, and the counters it keeps for /metrics."""

    client: EngineClient
    max_lag_s: float
    close_timeout_s: float
    push_interval_s: float
    bad_frames: int
    read_only_refusals: int
    slow_disconnects: int


log = logging.getLogger("tmt_tui.api.server")

MAX_IN_FLIGHT = 64  # commands running per connection; beyond it we stop reading its frames
MAX_SUBSCRIPTIONS = 4  # per connection


class Dropped(Exception):
    """This connection is being closed for being too slow: stop sending to it."""


class Session:
    """One authenticated connection: its commands, its subscriptions, its send discipline."""

    def __init__(
        self,
        server: SessionHost,
        ws: ServerConnection,
        name: str,
        *,
        read_only: bool,
        origin: Origin,
    ) -> None:
        self.server = server
        self.ws = ws
        self.name = name
        self.read_only = read_only
        self.origin = origin
        self.tasks: set[asyncio.Task[None]] = set()
        self.subscriptions: dict[int | str, asyncio.Task[None]] = {}
        self.in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
        self.dropped = False
        self.closer: asyncio.Task[None] | None = None

    async def run(self) -> None:
        """Read frames until the connection closes (a dropped one is read and ignored until its
        closing handshake is done), then cancel what is still running."""
        try:
            async for data in self.ws:
                with contextlib.suppress(Dropped):
                    await self._dispatch(data)
        except ConnectionClosed:
            pass
        finally:
            pending = [*self.tasks, *self.subscriptions.values()]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            if self.closer is not None:
                await self.closer

    async def send(self, frame: str) -> None:
        """Send, or raise Dropped once the socket has not drained for ``max_lag_s``."""
        if self.dropped:
            raise Dropped
        try:
            async with asyncio.timeout(self.server.max_lag_s):
                await self.ws.send(frame)
        except TimeoutError:
            self._drop_slow()
            raise Dropped from None

    def _drop_slow(self) -> None:
        if self.dropped:
            return
        self.dropped = True
        self.server.slow_disconnects += 1
        log.warning(
            "api: closing %s: too slow, its socket did not drain for %.1fs",
            self.name,
            self.server.max_lag_s,
        )
        self.closer = asyncio.create_task(
            close_within(
                self.ws,
                Close.TOO_SLOW,
                "too slow: the reader fell behind",
                self.server.close_timeout_s,
            )
        )

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _dispatch(self, data: str | bytes) -> None:
        try:
            message = protocol.decode(data)
            kind = message.get("type")
            rid = protocol.request_id(message)
            if kind in ("command", "subscribe", "unsubscribe") and rid is None:
                raise ProtocolError(Code.BAD_FRAME, f"a {kind} needs an id (int or short string)")
            if kind == "command":
                await self.in_flight.acquire()
                self._spawn(self._command(rid, message))  # type: ignore[arg-type]
            elif kind == "subscribe":
                self._subscribe(rid)  # type: ignore[arg-type]
            elif kind == "unsubscribe":
                task = self.subscriptions.pop(rid, None)  # type: ignore[arg-type]
                if task is not None:
                    task.cancel()
            elif kind == "hello":
                raise ProtocolError(Code.BAD_FRAME, "already authenticated: hello comes once", rid)
            else:
                raise ProtocolError(
                    Code.BAD_FRAME, f"unknown message type {protocol.brief(kind)}", rid
                )
        except ProtocolError as exc:
            self.server.bad_frames += 1
            await self.send(protocol.error_frame(exc.request_id, exc.code, exc.message))

    def _subscribe(self, rid: int | str) -> None:
        if rid in self.subscriptions:
            raise ProtocolError(Code.BAD_FRAME, f"subscription {rid!r} is already open", rid)
        if len(self.subscriptions) >= MAX_SUBSCRIPTIONS:
            raise ProtocolError(
                Code.TOO_MANY_SUBSCRIPTIONS,
                f"at most {MAX_SUBSCRIPTIONS} subscriptions per connection",
                rid,
            )
        self.subscriptions[rid] = asyncio.create_task(self._pump(rid))

    async def _pump(self, rid: int | str) -> None:
        """One engine subscription to the socket, pulled only as fast as the socket drains and
        at most every ``push_interval_s``: in between, the engine's mailbox conflates quotes."""
        stream = self.server.client.subscribe()
        interval = self.server.push_interval_s
        try:
            async for item in stream:
                await self.send(protocol.stream_frame(rid, item))
                if interval:
                    await asyncio.sleep(interval)
        except (ConnectionClosed, Dropped):
            pass
        except ConnectionError as exc:  # the engine stopped
            frame = protocol.error_frame(rid, Code.ENGINE_STOPPED, str(exc) or "engine stopped")
            await try_send(self.ws, frame)
        except Exception:
            log.exception("api: subscription of %s failed", self.name)
            frame = protocol.error_frame(rid, Code.SERVER_ERROR, "the subscription failed")
            await try_send(self.ws, frame)
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()
            if self.subscriptions.get(rid) is asyncio.current_task():
                del self.subscriptions[rid]

    async def _command(self, rid: int | str, message: dict[str, Any]) -> None:
        try:
            try:
                command = protocol.parse_command(message, self.origin)
                if self.read_only and type(command) not in QUERIES:
                    self.server.read_only_refusals += 1
                    raise ProtocolError(
                        Code.READ_ONLY,
                        f"this connection is read-only: {type(command).__name__} refused",
                        rid,
                    )
                reply = await self.server.client.execute(command)
                frame = protocol.reply_frame(rid, reply)
            except ProtocolError as exc:
                if exc.code is not Code.READ_ONLY:
                    self.server.bad_frames += 1
                frame = protocol.error_frame(rid, exc.code, exc.message)
            except Exception:
                log.exception("api: a command from %s failed", self.name)
                frame = protocol.error_frame(rid, Code.SERVER_ERROR, "the command failed")
            await self.send(frame)
        except (ConnectionClosed, Dropped):
            pass
        finally:
            self.in_flight.release()


async def close_within(ws: Any, code: int, reason: str, within_s: float) -> None:
    """Close with ``code`` and ``reason``; abort the socket if the peer does not drain in time."""
    try:
        async with asyncio.timeout(within_s):
            await ws.close(code, reason)
    except TimeoutError:
        ws.transport.abort()


async def try_send(ws: ServerConnection, frame: str) -> None:
    try:
        async with asyncio.timeout(1.0):
            await ws.send(frame)
    except (ConnectionClosed, TimeoutError):
        pass
