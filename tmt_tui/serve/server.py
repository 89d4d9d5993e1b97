"""textual-serve's server with the token gate in front and URLs that follow the browser.

The parent class runs one command per browser tab and relays its terminal; this subclass adds
the gate (``gate.TokenGate``) as middleware on every route, serves a page that loads nothing
from beyond this box, builds the page's WebSocket URL from the address the browser used (so a
tunnel's ``localhost:8765`` and a proxy's name both work, and the session cookie goes with it),
binds before it says where it is (port 0 picks a free port: tests), and on a stop closes each
tab's app cleanly so every `tmt attach` it started detaches from the engine.

textual-serve asks a tab's app to quit and then waits for it without limit, so one hung app
would outlive the server (and keep its engine connection). Here each tab keeps its process:
an app that has not quit ``APP_EXIT_S`` after it was asked is terminated, and killed
``KILL_AFTER_S`` later; and no more than ``max_tabs`` apps run at once.
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
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

from tmt_tui.serve.gate import LOGIN_PATH, TokenGate, is_https

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parent / "templates"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
APP_EXIT_S = 10.0  # how long a tab's app has to quit once asked, before it is terminated
KILL_AFTER_S = 5.0  # how long a terminated app has to exit before it is killed
MAX_TABS = 8  # [serve] max_tabs: one `tmt attach` process and engine connection each


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
        max_tabs: int = MAX_TABS,
    ) -> None:
        super().__init__(command, host=host, port=port, title=title, templates_path=TEMPLATES)
        self.gate = gate
        self.preflight = preflight
        self.max_tabs = max_tabs
        self._tabs: set[asyncio.Task[Any]] = set()  # every tab's handler: a stop cancels them
        self._admitted: set[asyncio.Task[Any]] = set()  # those within max_tabs: one app each
        self._apps: set[TabApp] = set()  # every tab's app service whose process may still run
        self._stop: asyncio.Event | None = None
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
        """Close every tab: each one's app gets its quit and detaches from the engine; one
        that does not is terminated, then killed (``TabApp.stop``)."""
        tabs = list(self._tabs)
        for task in tabs:
            task.cancel()
        if tabs:
            _, pending = await asyncio.wait(tabs, timeout=APP_EXIT_S + 2 * KILL_AFTER_S)
            if pending:
                log.warning("serve: %d tab(s) did not close", len(pending))
        for service in list(self._apps):  # whatever a stuck tab left running: never outlive us
            await end_process(service.process)

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
        """One tab: textual-serve's relay, tracked so a stop can close it, with no more than
        ``max_tabs`` apps at once."""
        task = asyncio.current_task()
        assert task is not None
        self._tabs.add(task)
        try:
            if len(self._admitted) >= self.max_tabs:  # counted before any await: no race
                return await self._say(
                    request,
                    f"too many tabs open (at most {self.max_tabs}, [serve] max_tabs)",
                    "Close another tab, then reload this page.",
                )
            self._admitted.add(task)
            problem = await self.preflight() if self.preflight is not None else None
            if problem is not None:
                return await self._say(request, problem)
            return await self._relay(request)
        finally:
            self._tabs.discard(task)
            self._admitted.discard(task)

    async def _relay(self, request: web.Request) -> web.WebSocketResponse:
        """textual-serve's ``handle_websocket``, with a ``TabApp`` kept in ``_apps`` until its
        process has exited, so neither a tab's close nor a stop can leave it running."""
        websocket = web.WebSocketResponse(heartbeat=15)
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        service: TabApp | None = None
        try:
            await websocket.prepare(request)
            service = TabApp(
                self.command,
                write_bytes=websocket.send_bytes,
                write_str=websocket.send_str,
                close=websocket.close,  # type: ignore[arg-type]  # returns a bool, unread
                download_manager=self.download_manager,
                debug=self.debug,
            )
            self._apps.add(service)
            await service.start(width, height)
            try:
                await self._process_messages(websocket, service)
            finally:
                await service.stop()
        except asyncio.CancelledError:
            await websocket.close()
        except Exception as error:
            log.exception(error)
        finally:
            if service is not None:
                await service.stop()
                await end_process(service.process)  # one that never got as far as its relay
                self._apps.discard(service)
        return websocket

    async def _say(
        self, request: web.Request, problem: str, hint: str = "Reload this page once it is back."
    ) -> web.WebSocketResponse:
        """Write ``problem`` on the tab's terminal and keep it there until the tab goes."""
        log.warning("serve: a tab's app not started: %s", problem)
        websocket = web.WebSocketResponse(heartbeat=15)
        await websocket.prepare(request)
        text = f"\r\n  tmt: {problem}\r\n\r\n  {hint}\r\n"
        await websocket.send_bytes(text.encode())
        async for _ in websocket:  # the tab's keys and resizes: nothing to send them to
            pass
        return websocket

    async def run(self, ready: Callable[[str, int], None]) -> None:
        """Listen until SIGINT, SIGTERM or SIGHUP; ``ready(host, port)`` once bound.

        Raises OSError when the address cannot be bound (in use, not this machine's)."""
        self._stop = stop = asyncio.Event()
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

    def stop(self) -> None:
        """Stop as a signal would (from the server's own loop): tests."""
        if self._stop is not None:
            self._stop.set()


class TabApp(AppService):
    """textual-serve's app service for one tab, whose ``stop`` is bounded: the app is asked to
    quit, terminated after ``APP_EXIT_S``, killed ``KILL_AFTER_S`` later."""

    @property
    def process(self) -> asyncio.subprocess.Process | None:
        return self._process

    async def stop(self) -> None:
        if self._task is None:
            return
        process = self._process
        # Waited on, never cancelled: a cancel of the relay it awaits is swallowed by the relay
        # (textual-serve's ``run``), which would leave it waiting on the process for good.
        quitting = asyncio.ensure_future(self._quit(process))
        try:
            done, _ = await asyncio.wait({quitting}, timeout=APP_EXIT_S)
            if not done:
                pid = process.pid if process is not None else None
                log.warning("serve: a tab's app (pid %s) did not quit in %gs", pid, APP_EXIT_S)
        finally:
            await end_process(process)
            await asyncio.wait({quitting}, timeout=KILL_AFTER_S)  # its relay sees the end
            self._task = None

    async def _quit(self, process: asyncio.subprocess.Process | None) -> None:
        """textual-serve's stop (the quit, then the end of the relay), then the app's exit
        (its detach from the engine)."""
        await AppService.stop(self)
        if process is not None:
            await process.wait()


async def end_process(process: asyncio.subprocess.Process | None) -> None:
    """Terminate ``process`` unless it has exited; kill it if it is still there after
    ``KILL_AFTER_S`` (a stopped or hung process never acts on the terminate)."""
    if process is None or process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.terminate()
    try:
        await asyncio.wait_for(process.wait(), KILL_AFTER_S)
    except TimeoutError:
        log.warning("serve: a tab's app (pid %d) killed: it ignored SIGTERM", process.pid)
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()


def _font_size(text: str) -> int:
    try:
        return max(6, min(int(text), 48))
    except ValueError:
        return 16
