"""textual-serve's server with the token gate in front and URLs that follow the browser.

The parent class runs one command per browser tab and relays its terminal; this subclass adds
the gate (``gate.TokenGate``) as middleware on every route, serves a page that loads nothing
from beyond this box, builds the page's WebSocket URL from the address the browser used (so a
tunnel's ``localhost:8765`` and a proxy's name both work, and the session cookie goes with it),
binds before it says where it is (port 0 picks a free port: tests), and on a stop closes each
tab's app cleanly so every `tmt attach` it started detaches from the engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from textual_serve.server import Server

from tmt_tui.serve.gate import LOGIN_PATH, TokenGate, is_https

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parent / "templates"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
APP_EXIT_S = 10.0  # how long a stop waits for the tabs' apps to quit before leaving them


#: Why a tab's app could not start, or None when it can: asked before each tab starts one.
Preflight = Callable[[], Awaitable[str | None]]


class WorkstationServer(Server):
    """Serves ``command`` (a `tmt attach`) to each signed-in browser tab on ``host``:``port``.

    ``preflight`` (say, is the engine there?) runs before each tab's app: when it names a
    problem, the tab shows that instead of an app that would exit before its first frame,
    which textual-serve would leave as a blank page.
    """

    def __init__(
        self,
        command: str,
        *,
        host: str,
        port: int,
        gate: TokenGate,
        title: str,
        preflight: Preflight | None = None,
    ) -> None:
        super().__init__(command, host=host, port=port, title=title, templates_path=TEMPLATES)
        self.gate = gate
        self.preflight = preflight
        self._tabs: set[asyncio.Task[Any]] = set()
        self.bound: tuple[str, int] | None = None

    def initialize_logging(self) -> None:
        """The CLI has set up tmt's logging already; textual-serve's would replace it."""

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self.gate.middleware)
        app.router.add_route("*", LOGIN_PATH, self.gate.handle_login, name="login")
        return app

    async def on_startup(self, app: web.Application) -> None:
        """Quiet: `tmt serve` says where it listens once the socket is bound."""

    async def on_shutdown(self, app: web.Application) -> None:
        """Close every tab: each one's app gets its quit and detaches from the engine."""
        tabs = list(self._tabs)
        for task in tabs:
            task.cancel()
        if tabs:
            _, pending = await asyncio.wait(tabs, timeout=APP_EXIT_S)
            if pending:
                log.warning("serve: %d tab(s) did not close within %gs", len(pending), APP_EXIT_S)

    @aiohttp_jinja2.template("app_index.html")
    async def handle_index(self, request: web.Request) -> dict[str, Any]:
        """The workstation page, with its static and WebSocket URLs on the browser's own host."""
        secure = is_https(request)
        return {
            "font_size": _font_size(request.query.get("fontsize", "16")),
            "app_websocket_url": f"{'wss' if secure else 'ws'}://{request.host}/ws",
            "config": {"static": {"url": "/static/"}},
            "application": {"name": self.title},
        }

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """One tab: textual-serve's relay, tracked so a stop can close it."""
        task = asyncio.current_task()
        assert task is not None
        self._tabs.add(task)
        try:
            problem = await self.preflight() if self.preflight is not None else None
            if problem is not None:
                return await self._say(request, problem)
            return await super().handle_websocket(request)
        finally:
            self._tabs.discard(task)

    async def _say(self, request: web.Request, problem: str) -> web.WebSocketResponse:
        """Write ``problem`` on the tab's terminal and keep it there until the tab goes."""
        log.warning("serve: a tab's app not started: %s", problem)
        websocket = web.WebSocketResponse(heartbeat=15)
        await websocket.prepare(request)
        text = f"\r\n  tmt: {problem}\r\n\r\n  Reload this page once it is back.\r\n"
        await websocket.send_bytes(text.encode())
        async for _ in websocket:  # the tab's keys and resizes: nothing to send them to
            pass
        return websocket

    async def run(self, ready: Callable[[str, int], None]) -> None:
        """Listen until SIGINT, SIGTERM or SIGHUP; ``ready(host, port)`` once bound.

        Raises OSError when the address cannot be bound (in use, not this machine's)."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in STOP_SIGNALS:
            loop.add_signal_handler(signum, stop.set)
        runner = web.AppRunner(
            await self._make_app(), handle_signals=False, access_log=None, shutdown_timeout=5.0
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port)
            await site.start()
            server = site._server  # aiohttp keeps the listening sockets here, and only here
            sockets = getattr(server, "sockets", None) or ()
            host, port = sockets[0].getsockname()[:2] if sockets else (self.host, self.port)
            self.bound = (str(host), int(port))
            ready(str(host), int(port))
            await stop.wait()
            log.info("serve: stopping")
        finally:
            for signum in STOP_SIGNALS:
                with contextlib.suppress(Exception):
                    loop.remove_signal_handler(signum)
            await runner.cleanup()


def _font_size(text: str) -> int:
    try:
        return max(6, min(int(text), 48))
    except ValueError:
        return 16
