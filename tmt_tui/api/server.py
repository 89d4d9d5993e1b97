"""The control API server: any `EngineClient`, served over a WebSocket on a Unix socket (and
optionally TCP), to `tmt attach`, the CLI and scripts.

It runs on its own thread and event loop (`ServerThread`), so encoding JSON for N clients
never costs the engine thread or the UI loop a microsecond. Each connection must open with a
hello carrying the token (compared in constant time); then its commands run concurrently (a
slow command never holds up its stream) and each subscription is one `client.subscribe()`.

A slow reader never slows the engine: its subscription is pulled from the engine's mailbox
only as fast as the socket drains, so quotes conflate to the latest per instrument and events
queue in the mailbox's bounded list. A reader that stops draining altogether for
``max_lag_s`` is closed with 4002 "too slow".
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl as ssl_module
import stat
from pathlib import Path
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve, unix_serve
from websockets.exceptions import ConnectionClosed

import tmt_tui
from tmt_tui.api import protocol
from tmt_tui.api.paths import (
    check_socket_path,
    default_socket_path,
    load_or_create_token,
    private_dir,
    state_dir,
)
from tmt_tui.api.protocol import ApiError, Close, Code, ProtocolError
from tmt_tui.api.session import Dropped, Session, close_within, try_send
from tmt_tui.config import Settings, is_loopback
from tmt_tui.domain.client import EngineClient
from tmt_tui.domain.commands import Origin
from tmt_tui.domain.secret import Secret
from tmt_tui.loop_thread import LoopThread

log = logging.getLogger(__name__)
#: websockets logs through this, with DEBUG (frame dumps, the hello's token) disabled for good.
WIRE_LOG = protocol.QuietLogger(logging.getLogger("tmt_tui.api.wire"))

HELLO_TIMEOUT_S = 10.0  # a connection that says nothing is closed with 4003
MAX_LAG_S = 5.0  # a reader whose socket has not drained for this long is closed with 4002
CLOSE_TIMEOUT_S = 5.0  # then the socket is aborted
PUSH_INTERVAL_S = 0.01  # stream items per client at most every 10 ms; quotes conflate between
WRITE_LIMIT = 256 << 10  # bytes in the transport buffer before a send waits for the socket
MAX_REASON_BYTES = 123  # a close frame's reason, after its two-byte code


class ControlServer:
    """Serves ``client`` on ``socket_path`` (and ``tcp_host:tcp_port`` when given).

    ``auth_failures``, ``clients`` (authenticated connections now), ``slow_disconnects``,
    ``bad_frames`` and ``read_only_refusals`` are plain counters for monitoring to read.
    """

    def __init__(
        self,
        client: EngineClient,
        token: Secret,
        socket_path: Path | None = None,
        *,
        tcp_port: int | None = None,
        tcp_host: str = "127.0.0.1",
        allow_remote: bool = False,
        ssl: ssl_module.SSLContext | None = None,
        version: str = tmt_tui.__version__,
        max_lag_s: float = MAX_LAG_S,
        hello_timeout_s: float = HELLO_TIMEOUT_S,
        close_timeout_s: float = CLOSE_TIMEOUT_S,
        push_interval_s: float = PUSH_INTERVAL_S,
    ) -> None:
        if not isinstance(token, Secret) or not token:
            raise TypeError("the API token must be a non-empty Secret")
        if tcp_port is not None and not is_loopback(tcp_host):
            if not allow_remote:
                raise ValueError(
                    f"refusing to listen on {tcp_host}: not loopback (set api.allow_remote = true)"
                )
            if ssl is None:
                raise ValueError(f"refusing to listen on {tcp_host} without TLS")
        self.client = client
        self.token = token
        self.socket_path = check_socket_path(socket_path or default_socket_path())
        self.tcp_port = tcp_port
        self.tcp_host = tcp_host
        self.ssl = ssl
        self.version = version
        self.max_lag_s = max_lag_s
        self.hello_timeout_s = hello_timeout_s
        self.close_timeout_s = close_timeout_s
        self.push_interval_s = push_interval_s
        self.tcp_address: tuple[str, int] | None = None
        self.auth_failures = 0
        self.clients = 0
        self.slow_disconnects = 0
        self.bad_frames = 0
        self.read_only_refusals = 0
        self._servers: list[Server] = []
        self._socket_id: tuple[int, int] | None = None

    def __repr__(self) -> str:
        return f"ControlServer({str(self.socket_path)!r}, clients={self.clients})"

    # lifecycle ----------------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen; raises ApiError ``ADDRESS_IN_USE`` if a live server already has the socket."""
        path = self.socket_path
        self._private_parent(path.parent)
        await _claim(path)
        options: dict[str, Any] = {
            "max_size": protocol.MAX_FRAME_BYTES,
            "compression": None,
            "write_limit": WRITE_LIMIT,
            "close_timeout": self.close_timeout_s,
            "logger": WIRE_LOG,
        }
        self._servers.append(await unix_serve(self._handle, str(path), **options))
        os.chmod(path, 0o600)
        st = os.stat(path)
        self._socket_id = (st.st_dev, st.st_ino)
        if self.tcp_port is not None:
            server = await serve(
                self._handle, self.tcp_host, self.tcp_port, ssl=self.ssl, **options
            )
            self._servers.append(server)
            host, port = server.sockets[0].getsockname()[:2]
            self.tcp_address = (host, port)
        log.info("control API listening on %s%s", path, self._tcp_text())

    def _tcp_text(self) -> str:
        if self.tcp_address is None:
            return ""
        scheme = "wss" if self.ssl else "ws"
        return f" and {scheme}://{self.tcp_address[0]}:{self.tcp_address[1]}"

    def _private_parent(self, directory: Path) -> None:
        """Our own directories become 0700; a directory the user chose is created 0700 if missing
        but never re-moded (think ``/tmp``): the socket's own 0600 guards it there."""
        ours = {default_socket_path().parent, state_dir()}
        if directory in ours or not directory.exists():
            private_dir(directory)
        elif stat.S_IMODE(directory.stat().st_mode) & 0o077:
            log.warning("control API socket directory %s is open to others", directory)

    async def stop(self) -> None:
        """Close every connection (1001) and stop listening; remove our socket file."""
        servers, self._servers = self._servers, []
        for server in servers:
            server.close()  # a reader that never drains is aborted after close_timeout
        await asyncio.gather(*(s.wait_closed() for s in servers), return_exceptions=True)
        try:
            st = os.lstat(self.socket_path)
        except FileNotFoundError:
            return
        if (st.st_dev, st.st_ino) == self._socket_id:
            self.socket_path.unlink(missing_ok=True)

    # one connection -----------------------------------------------------------------------------

    async def _handle(self, ws: ServerConnection) -> None:
        session = await self._greet(ws)
        if session is None:
            return
        self.clients += 1
        try:
            await session.run()
        finally:
            self.clients -= 1
            log.info("api: %s disconnected", session.name)

    async def _greet(self, ws: ServerConnection) -> Session | None:
        """Read and check the hello; a session if it passes, else the connection is closed."""
        try:
            async with asyncio.timeout(self.hello_timeout_s):
                data = await ws.recv()
        except TimeoutError:
            await self._refuse(ws, Close.BAD_HELLO, "bad hello: none received in time")
            return None
        except ConnectionClosed:
            return None
        try:
            message = protocol.decode(data)
        except ProtocolError as exc:
            if exc.code is Code.UNSUPPORTED_VERSION:
                await try_send(ws, protocol.error_frame(None, exc.code, exc.message))
            await self._refuse(ws, Close.BAD_HELLO, f"bad hello: {exc.message}")
            return None
        if message.get("type") != "hello":
            await self._refuse(ws, Close.BAD_HELLO, "bad hello: the first frame must be a hello")
            return None
        token = message.get("token")
        if not isinstance(token, str) or not token:
            await self._auth_failed(ws, "token required (TMT_API_TOKEN or the api.token file)")
            return None
        if not self.token.matches(token):
            await self._auth_failed(ws, "token rejected")
            return None
        read_only = message.get("read_only", False)
        if not isinstance(read_only, bool):
            await self._refuse(ws, Close.BAD_HELLO, "bad hello: read_only must be true or false")
            return None
        name = message.get("client")
        if isinstance(name, str) and name:
            name = "".join(c if c.isprintable() else "?" for c in name[:64])
        else:
            name = "unnamed client"
        origin = Origin.CLI if name == "tmt cli" else Origin.API
        session = Session(self, ws, name, read_only=read_only, origin=origin)
        try:
            await session.send(protocol.welcome(read_only=read_only, server=f"tmt {self.version}"))
        except (ConnectionClosed, Dropped):
            return None
        log.info("api: %s connected%s", name, " (read-only)" if read_only else "")
        return session

    async def _auth_failed(self, ws: ServerConnection, reason: str) -> None:
        self.auth_failures += 1
        count = self.auth_failures
        if count <= 10 or count % 100 == 0:  # a flood of bad tokens must not flood the log
            log.warning("api: %s from %s; %d auth failure(s) so far", reason, _peer(ws), count)
        await self._refuse(ws, Close.AUTH_FAILED, reason)

    async def _refuse(self, ws: ServerConnection, code: Close, reason: str) -> None:
        reason = reason.encode()[:MAX_REASON_BYTES].decode(errors="ignore")
        await close_within(ws, code, reason, self.close_timeout_s)


async def _claim(path: Path) -> None:
    """Make ``path`` free to bind: remove a stale socket, refuse a live one or a non-socket."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(st.st_mode):
        raise ApiError("ADDRESS_IN_USE", f"{path} exists and is not a socket")
    try:
        _, writer = await asyncio.open_unix_connection(str(path))
    except (ConnectionRefusedError, FileNotFoundError):
        os.unlink(path)
        log.info("removed a stale control API socket %s", path)
        return
    writer.close()
    raise ApiError("ADDRESS_IN_USE", f"another engine is already serving {path}")


def _peer(ws: ServerConnection) -> str:
    address = ws.remote_address
    if isinstance(address, tuple) and len(address) >= 2:
        return f"{address[0]}:{address[1]}"
    return "the unix socket"


class ServerThread:
    """A ControlServer on its own thread and event loop.

    ``start()`` returns once it listens (or raises why not: the socket is in use, the path is
    too long); ``stop()`` closes every connection and joins the thread.
    """

    def __init__(
        self,
        client: EngineClient,
        token: Secret,
        socket_path: Path | None = None,
        **options: Any,
    ) -> None:
        self.server = ControlServer(client, token, socket_path, **options)
        self._thread = LoopThread("tmt-api")

    @classmethod
    def from_settings(cls, settings: Settings, client: EngineClient) -> ServerThread:
        """The server ``[api]`` describes, with the token from the environment or the state dir."""
        api = settings.api
        context = None
        if api.tls_cert:
            context = ssl_module.SSLContext(ssl_module.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(api.tls_cert, api.tls_key or None)
        return cls(
            client,
            load_or_create_token(),
            Path(os.path.expanduser(api.socket_path)) if api.socket_path else None,
            tcp_port=api.tcp_port or None,
            tcp_host=api.tcp_host,
            allow_remote=api.allow_remote,
            ssl=context,
        )

    def __repr__(self) -> str:
        return f"ServerThread({self.server!r})"

    @property
    def socket_path(self) -> Path:
        return self.server.socket_path

    @property
    def auth_failures(self) -> int:
        return self.server.auth_failures

    @property
    def clients(self) -> int:
        return self.server.clients

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        return self._thread.loop

    def start(self) -> None:
        """Listen; returns once listening, or raises why it could not."""
        self._thread.start(self._serve)

    async def _serve(self, thread: LoopThread) -> None:
        try:
            await self.server.start()
        except BaseException:
            await self.server.stop()
            raise
        thread.ready()
        await thread.until_stopped()
        await self.server.stop()

    def stop(self) -> None:
        """Close connections, stop listening, join the thread. Idempotent."""
        self._thread.stop()
