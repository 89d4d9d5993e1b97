"""A small HTTP/1.1 keep-alive connection pool for the OANDA REST calls, built on ``h11``.

Why not httpx here: on the order path httpx (and httpcore under it) spend ~0.5-1 ms of Python
per request on things an OANDA client never uses (URL objects, cookie jars, auth flows, event
hooks, a generic pool with HTTP/2 support). Measured on bench/oanda_roundtrip.py (submit to
fill on loopback, 2-core VM, the v20 server on a thread of the same process): over httpx our
p50/p95 were 2.13/2.98 ms against OANDA's own sync ``v20`` client's p50 1.98 ms (ratio 0.93,
earlier runs 0.81-0.90, p95 up to 3.75 ms); over this pool, three runs gave p50 0.83-0.92 ms
and p95 1.11-1.15 ms against ``v20``'s p50 1.81-1.92 ms (ratio 2.1-2.2).

What it keeps from httpx: h11 (httpcore's own HTTP/1.1 state machine) does the framing, so
Content-Length and chunked bodies, keep-alive and ``Connection: close`` are handled to the
letter; TLS via ``ssl.create_default_context()`` with SNI for https URLs (real OANDA is https).

The errors say whether the request can have reached the server, because order submission
depends on it (a resend could double a position):

* ``NotSent``: the connection could not be made (refused, DNS, connect timeout). Safe to resend.
* ``SentUnknown``: something failed after the request was written (reset, EOF before a full
  response, timeout waiting). The caller must look the request up before resending.

At most ``max_connections`` requests are in flight: the rest queue for a connection rather
than open new ones (OANDA refuses more than 2 new connections a second).

A pooled connection the server closed while it sat idle is noticed before reuse (EOF already
seen) and replaced by a fresh one; if the close races the send, that is ``SentUnknown``.
Error messages carry the method, path and error type only: never headers (the token lives in
``Authorization``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

import h11

Json = dict[str, Any]
_READ = 65536


class HttpError(Exception):
    """A transport failure (never carries headers or the token)."""


class NotSent(HttpError):
    """The request never left this process: resending it is safe."""


class SentUnknown(HttpError):
    """The request may have reached the server: look it up before resending."""


class RequestTimeout(SentUnknown):
    """No complete response within the timeout."""


class Response:
    """A complete HTTP response: status, lower-case headers, body bytes."""

    __slots__ = ("status", "headers", "body")

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def status_code(self) -> int:  # the name httpx uses, so callers read either
        return self.status

    def json(self) -> Any:
        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"Response(status={self.status}, {len(self.body)} bytes)"


class _Connection:
    """One keep-alive connection: a stream pair and its h11 state machine."""

    __slots__ = ("reader", "writer", "h11")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.h11 = h11.Connection(h11.CLIENT)

    def reusable(self) -> bool:
        """Idle, still open, and the server has not closed its end meanwhile."""
        return (
            self.h11.our_state is h11.IDLE
            and self.h11.their_state is h11.IDLE
            and not self.reader.at_eof()
            and not self.writer.transport.is_closing()
        )

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.transport.abort()


class HttpPool:
    """Keep-alive HTTP/1.1 connections to one origin; ``request`` borrows one per call."""

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],
        *,
        timeout: float = 10.0,
        connect_timeout: float | None = None,
        max_connections: int = 4,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self._prefix = parts.path.rstrip("/")
        host_header = self.host if parts.port is None else f"{self.host}:{self.port}"
        self._headers: list[tuple[bytes, bytes]] = [
            (b"host", host_header.encode("ascii")),
            *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()),
        ]
        self.timeout = timeout
        self.connect_timeout = connect_timeout if connect_timeout is not None else timeout
        self._ssl: ssl.SSLContext | None = (
            ssl.create_default_context() if parts.scheme == "https" else None
        )
        self._idle: list[_Connection] = []
        self._slots = asyncio.Semaphore(max_connections)
        self._closed = False
        self.connects = 0  # new connections made (a metric, and what tests look at)

    def __repr__(self) -> str:
        return f"HttpPool({self.scheme}://{self.host}:{self.port}, idle={len(self._idle)})"

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}{self._prefix}"

    async def aclose(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    async def _connect(self) -> _Connection:
        try:
            async with asyncio.timeout(self.connect_timeout):
                reader, writer = await asyncio.open_connection(
                    self.host,
                    self.port,
                    ssl=self._ssl,
                    server_hostname=self.host if self._ssl is not None else None,
                    limit=_READ,
                )
        except TimeoutError:
            raise NotSent(f"connect to {self.host}:{self.port}: timed out") from None
        except (OSError, ssl.SSLError) as exc:
            raise NotSent(f"connect to {self.host}:{self.port}: {type(exc).__name__}") from None
        self.connects += 1
        return _Connection(reader, writer)

    async def _acquire(self) -> _Connection:
        while self._idle:
            conn = self._idle.pop()
            if conn.reusable():
                return conn
            conn.close()
        return await self._connect()

    def _release(self, conn: _Connection) -> None:
        if not self._closed and conn.h11.our_state is h11.DONE and conn.h11.their_state is h11.DONE:
            try:
                conn.h11.start_next_cycle()
            except h11.LocalProtocolError:
                conn.close()
                return
            self._idle.append(conn)  # at most max_connections exist: the slots bound them
            return
        conn.close()

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        params: Mapping[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (a per-request deadline, applied inside)
    ) -> Response:
        """Send one request and read the whole response (see the module docstring for errors)."""
        if self._closed:
            raise NotSent("the connection pool is closed")
        async with self._slots:
            return await self._exchange(method, path, body, params, timeout)

    async def _exchange(
        self,
        method: str,
        path: str,
        body: bytes | None,
        params: Mapping[str, str] | None,
        timeout: float | None,  # noqa: ASYNC109 (see request)
    ) -> Response:
        target = self._prefix + path
        if params:
            target += "?" + urlencode(params)
        what = f"{method} {path}"
        conn = await self._acquire()
        headers = list(self._headers)
        if body is not None:
            headers.append((b"content-length", str(len(body)).encode("ascii")))
        elif method in ("POST", "PUT", "PATCH"):
            headers.append((b"content-length", b"0"))
        try:
            wire = conn.h11.send(h11.Request(method=method, target=target, headers=headers))
            if body:
                wire = (wire or b"") + (conn.h11.send(h11.Data(data=body)) or b"")
            wire = (wire or b"") + (conn.h11.send(h11.EndOfMessage()) or b"")
        except h11.LocalProtocolError as exc:  # its message quotes the headers: the token
            conn.close()
            raise NotSent(
                f"{what}: the request could not be encoded ({type(exc).__name__})"
            ) from None
        try:
            async with asyncio.timeout(self.timeout if timeout is None else timeout):
                conn.writer.write(wire)
                response = await self._receive(conn)
        except TimeoutError:
            conn.close()
            raise RequestTimeout(f"{what}: no answer within the timeout") from None
        except (OSError, h11.ProtocolError, asyncio.IncompleteReadError) as exc:
            conn.close()
            raise SentUnknown(f"{what}: {type(exc).__name__}") from None
        except BaseException:  # cancelled mid-request: the connection's state is unknown
            conn.close()
            raise
        self._release(conn)
        return response

    async def _receive(self, conn: _Connection) -> Response:
        status = 0
        headers: dict[str, str] = {}
        chunks: list[bytes] = []
        machine = conn.h11
        while True:
            event = machine.next_event()
            if event is h11.NEED_DATA:
                data = await conn.reader.read(_READ)
                if not data and machine.their_state is h11.SEND_RESPONSE:
                    raise ConnectionResetError("the server closed before answering")
                machine.receive_data(data)
                continue
            if isinstance(event, h11.Response):
                status = event.status_code
                headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in event.headers}
            elif isinstance(event, h11.Data):
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                return Response(status, headers, b"".join(chunks))
            elif isinstance(event, h11.ConnectionClosed):
                raise ConnectionResetError("the connection closed mid-response")
            # h11.InformationalResponse (1xx) and PAUSED are not expected here; loop on
