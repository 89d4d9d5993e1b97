"""`EngineClient` over the control API, so `tmt attach` runs the very app `tmt` runs.

One WebSocket per client; one reader task routes replies to their request's future and stream
items to their `subscribe()` iterator. The connection opens on first use and again after a
drop: a `subscribe()` that ended with ConnectionError may simply be called again, which is what
the TUI's consumer loop does. `close()` closes the socket only; the engine keeps running.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import ssl as ssl_module
from collections import deque
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect, unix_connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from tmt_tui.api import protocol
from tmt_tui.api.paths import (
    TOKEN_ENV,
    check_socket_path,
    default_socket_path,
    read_token,
    token_path,
)
from tmt_tui.api.protocol import ApiError, AuthError, Close
from tmt_tui.domain.client import Reply, StreamItem
from tmt_tui.domain.codec import from_wire
from tmt_tui.domain.commands import (
    Command,
    command_to_wire,
)
from tmt_tui.domain.secret import Secret

log = logging.getLogger(__name__)
WIRE_LOG = protocol.QuietLogger(logging.getLogger("tmt_tui.api.wire"))

OPEN_TIMEOUT_S = 10.0
#: Stream items buffered for a slow `subscribe()` consumer before it resubscribes for a fresh
#: snapshot (dropping the backlog) rather than grow without bound.
MAX_BUFFERED_ITEMS = 1_000


class _Stream:
    """One subscription's items, read by its `subscribe()` iterator."""

    def __init__(self, rid: int, limit: int) -> None:
        self.rid = rid
        self.limit = limit
        self.items: deque[dict[str, Any]] = deque()
        self.wake = asyncio.Event()
        self.error: BaseException | None = None

    def push(self, message: dict[str, Any]) -> bool:
        """Queue an item; False (and the backlog dropped) when the consumer is too far behind."""
        if len(self.items) >= self.limit:
            self.items.clear()
            return False
        self.items.append(message)
        self.wake.set()
        return True

    def fail(self, error: BaseException) -> None:
        self.error = error
        self.wake.set()

    async def get(self) -> dict[str, Any]:
        while True:
            if self.items:
                return self.items.popleft()
            if self.error is not None:
                raise self.error
            self.wake.clear()
            await self.wake.wait()


class RemoteEngineClient:
    """Speaks to an engine's control API on ``socket_path`` (default: the standard one), or on
    ``tcp=(host, port)`` (TLS when ``ssl`` is given). ``token`` defaults to ``$TMT_API_TOKEN``
    or the token file. A ``read_only`` client can watch but every command is refused."""

    def __init__(
        self,
        socket_path: Path | None = None,
        *,
        token: Secret | str | None = None,
        read_only: bool = False,
        client_name: str = "tmt attach",
        tcp: tuple[str, int] | None = None,
        ssl: ssl_module.SSLContext | None = None,
        max_buffered: int = MAX_BUFFERED_ITEMS,
    ) -> None:
        self.tcp = tcp
        self.socket_path = None if tcp else check_socket_path(socket_path or default_socket_path())
        self._token = Secret(token) if isinstance(token, str) else token
        self.read_only = read_only
        self.client_name = client_name
        self.ssl = ssl
        self.max_buffered = max_buffered
        self.server_version: str | None = None
        self._ws: ClientConnection | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock: asyncio.Lock | None = None
        self._reader: asyncio.Task[None] | None = None
        self._pending: dict[int, asyncio.Future[Reply]] = {}
        self._streams: dict[int, _Stream] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._ids = itertools.count(1)
        self._closed = False

    def __repr__(self) -> str:
        state = "connected" if self.connected else "not connected"
        mode = ", read-only" if self.read_only else ""
        return f"RemoteEngineClient({self.where!r}{mode}, {state})"

    @property
    def where(self) -> str:
        if self.tcp is not None:
            host, port = self.tcp
            host = f"[{host}]" if ":" in host else host  # an IPv6 literal
            return f"{'wss' if self.ssl else 'ws'}://{host}:{port}/"
        return str(self.socket_path)

    @property
    def connected(self) -> bool:
        return self._ws is not None

    # connection ---------------------------------------------------------------------------------

    async def connect(self) -> None:
        """Open the connection now (it also opens on first use); raises ApiError saying why not:
        ``NOT_RUNNING``, ``UNREACHABLE``, ``AUTH_FAILED`` / ``NO_TOKEN`` (an AuthError), ..."""
        self._closed = False
        await self._ensure()

    async def _ensure(self) -> ClientConnection:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # first use, or a connection left on an earlier loop
            self._forget()
            self._loop, self._lock = loop, asyncio.Lock()
        ws = self._ws
        if ws is not None:
            return ws
        if self._closed:
            raise ApiError("CLOSED", "this client was closed")
        assert self._lock is not None
        async with self._lock:
            if self._ws is None:
                ws = await self._open()
                self._ws = ws
                self._reader = asyncio.create_task(self._read(ws), name="tmt-api-reader")
            return self._ws

    def _forget(self) -> None:
        """Drop a connection that belongs to another (finished) event loop."""
        self._ws, self._reader = None, None
        self._pending.clear()
        self._streams.clear()
        self._background.clear()

    async def _open(self) -> ClientConnection:
        token = self._token or read_token()
        if not token:
            raise AuthError(
                "NO_TOKEN", f"no API token: set {TOKEN_ENV} or start the engine ({token_path()})"
            )
        options: dict[str, Any] = {
            "max_size": protocol.MAX_SERVER_FRAME_BYTES,
            "compression": None,
            "logger": WIRE_LOG,
            "open_timeout": OPEN_TIMEOUT_S,
            "close_timeout": 5.0,
        }
        try:
            if self.tcp is not None:
                ws = await connect(self.where, ssl=self.ssl, **options)
            else:
                ws = await unix_connect(str(self.socket_path), **options)
        except (FileNotFoundError, ConnectionRefusedError):
            raise ApiError("NOT_RUNNING", f"no engine is listening on {self.where}") from None
        except (OSError, InvalidHandshake, InvalidURI, TimeoutError) as exc:
            detail = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise ApiError(
                "UNREACHABLE", f"cannot reach the engine at {self.where}: {detail}"
            ) from None
        try:
            await ws.send(
                protocol.hello(token.reveal(), read_only=self.read_only, client=self.client_name)
            )
            async with asyncio.timeout(OPEN_TIMEOUT_S):
                data = await ws.recv()
            message = json.loads(data)
        except ConnectionClosed as exc:
            raise _refusal(exc) from None
        except (TimeoutError, ValueError):
            await ws.close()
            raise ApiError("NO_WELCOME", f"the server at {self.where} did not welcome us") from None
        kind = message.get("type") if isinstance(message, dict) else None
        if kind != "welcome":
            await ws.close()
            if kind == "error":
                raise ApiError(str(message.get("code")), str(message.get("message")))
            raise ApiError("NO_WELCOME", f"the server at {self.where} did not welcome us")
        self.server_version = message.get("server")
        self.read_only = bool(message.get("read_only", self.read_only))
        return ws

    async def close(self) -> None:
        """Close the connection (never the engine); a later `connect()` opens it again."""
        self._closed = True
        ws, reader = self._ws, self._reader
        if ws is not None and self._loop is asyncio.get_running_loop():
            await ws.close()
            if reader is not None:
                await asyncio.gather(reader, return_exceptions=True)
        for task in list(self._background):
            task.cancel()

    # the reader ---------------------------------------------------------------------------------

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for data in ws:
                try:
                    self._route(json.loads(data))
                except Exception:
                    log.exception("api: a frame from the engine could not be handled")
        except ConnectionClosed:
            pass
        finally:
            if self._ws is ws:
                self._ws = None
            error = _lost(ws)
            pending, self._pending = self._pending, {}
            for future in pending.values():
                if not future.done():
                    future.set_exception(
                        ApiError(error.code, f"{error.message}; the command may have been applied")
                    )
            streams, self._streams = self._streams, {}
            for stream in streams.values():
                stream.fail(error)

    def _route(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        rid = message.get("id")
        if kind == "snapshot" or kind == "update":
            stream = self._streams.get(rid)  # type: ignore[arg-type]
            if stream is not None and not stream.push(message):
                self._resubscribe(stream)
        elif kind == "reply":
            future = self._pending.pop(rid, None)  # type: ignore[arg-type]
            if future is not None and not future.done():
                future.set_result(from_wire(Reply, message["reply"]))
        elif kind == "error":
            code, text = str(message.get("code")), str(message.get("message"))
            future = self._pending.pop(rid, None)  # type: ignore[arg-type]
            stream = self._streams.pop(rid, None)  # type: ignore[arg-type]
            if future is not None and not future.done():
                future.set_result(Reply(False, code, text))
            elif stream is not None:
                stream.fail(ApiError(code, text))
            else:
                log.warning("api: the engine says %s: %s", code, text)

    def _resubscribe(self, stream: _Stream) -> None:
        """The consumer fell ``max_buffered`` items behind: restart from a fresh snapshot."""
        old = stream.rid
        stream.rid = next(self._ids)
        self._streams.pop(old, None)
        self._streams[stream.rid] = stream
        log.info("api: stream consumer fell behind; resubscribing for a fresh snapshot")
        self._send_soon(
            protocol.subscribe_frame(old, "unsubscribe"), protocol.subscribe_frame(stream.rid)
        )

    def _send_soon(self, *frames: str) -> None:
        ws = self._ws
        if ws is None:
            return

        async def send() -> None:
            try:
                for frame in frames:
                    await ws.send(frame)
            except ConnectionClosed:
                pass

        task = asyncio.create_task(send())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # EngineClient -------------------------------------------------------------------------------

    async def execute(self, command: Command) -> Reply:
        ws = await self._ensure()
        rid = next(self._ids)
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._pending[rid] = future
        try:
            try:
                await ws.send(protocol.command_frame(rid, command_to_wire(command)))
            except ConnectionClosed:
                raise _lost(ws) from None
            return await future
        finally:
            self._pending.pop(rid, None)

    async def subscribe(self) -> AsyncIterator[StreamItem]:
        """A Snapshot, then Updates; ConnectionError (an ApiError) when the connection drops.

        Connects first if need be, so calling it again after a drop reconnects.
        """
        ws = await self._ensure()
        stream = _Stream(next(self._ids), self.max_buffered)
        self._streams[stream.rid] = stream
        try:
            try:
                await ws.send(protocol.subscribe_frame(stream.rid))
            except ConnectionClosed:
                raise _lost(ws) from None
            while True:
                yield protocol.stream_item(await stream.get())
        finally:
            if self._streams.get(stream.rid) is stream:
                del self._streams[stream.rid]
                if self._ws is ws:
                    self._send_soon(protocol.subscribe_frame(stream.rid, "unsubscribe"))


_CLOSE_CODES = {
    Close.AUTH_FAILED: "AUTH_FAILED",
    Close.TOO_SLOW: "TOO_SLOW",
    Close.BAD_HELLO: "BAD_HELLO",
    Close.MESSAGE_TOO_BIG: "MESSAGE_TOO_BIG",
    1001: "SERVER_STOPPED",
}


def _refusal(exc: ConnectionClosed) -> ApiError:
    """Why the server closed the connection during the hello."""
    frame = exc.rcvd
    if frame is None:
        return ApiError("DISCONNECTED", "the engine closed the connection during the hello")
    code = _CLOSE_CODES.get(frame.code, "DISCONNECTED")
    cls = AuthError if frame.code == Close.AUTH_FAILED else ApiError
    return cls(code, frame.reason or f"closed with code {frame.code}")


def _lost(ws: ClientConnection) -> ApiError:
    """Why an open connection ended, from its close frame when the server sent one."""
    frame = ws.protocol.close_rcvd
    if frame is None:
        return ApiError("DISCONNECTED", "the connection to the engine was lost")
    code = _CLOSE_CODES.get(frame.code, "DISCONNECTED")
    reason = frame.reason or f"code {frame.code}"
    return ApiError(code, f"the engine closed the connection: {reason}")
