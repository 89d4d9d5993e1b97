"""An asyncio event loop on a thread of its own: how the engine, the control API server and the
local v20 server each run beside the caller's loop (a Textual app's, a test's, the CLI's).

``start(main)`` runs ``main(thread)`` there and returns once ``main`` says it is ready, or
raises what ``main`` raised before that (a journal held by another process, a socket in use):
a caller never holds a half-started service. ``stop()`` asks ``main`` to finish (it awaits
``until_stopped()``) and joins the thread. Imports nothing of ours: a bottom layer.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class LoopThread:
    """One daemon thread running one event loop and one main coroutine."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._stop: asyncio.Event | None = None

    # any thread -------------------------------------------------------------------------------

    def start(self, main: Callable[[LoopThread], Awaitable[None]]) -> None:
        """Run ``main(self)`` on a new loop and thread; return once it calls ``ready()``."""
        self._thread = threading.Thread(target=self._run, args=(main,), name=self.name, daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            self._thread.join()
            raise self._error

    def is_current(self) -> bool:
        """Whether the caller is on this thread."""
        return self._thread is not None and threading.current_thread() is self._thread

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> bool:
        """Schedule ``fn(*args)`` on the loop; False when the loop is gone or not running."""
        loop = self.loop
        if loop is None or loop.is_closed():
            return False
        try:
            loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:
            return False
        return True

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the loop and wait for its result (never from the loop's own thread)."""
        assert self.loop is not None and not self.is_current()
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        """Ask ``main`` to finish and wait for the thread to end. Idempotent."""
        stop = self._stop
        if stop is not None:
            self.call_soon(stop.set)
        self.join()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread to end; True if it has (or never started)."""
        thread = self._thread
        if thread is None or thread is threading.current_thread():
            return thread is None
        thread.join(timeout)
        return not thread.is_alive()

    # the loop's own thread --------------------------------------------------------------------

    def ready(self) -> None:
        """``main`` is up: let ``start()`` return."""
        self._ready.set()

    async def until_stopped(self) -> None:
        """Return when ``stop()`` (or ``request_stop()``) has been called."""
        assert self._stop is not None
        await self._stop.wait()

    def request_stop(self) -> None:
        """From the loop's thread: let ``main`` finish (a StopEngine command, a signal)."""
        if self._stop is not None:
            self._stop.set()

    def _run(self, main: Callable[[LoopThread], Awaitable[None]]) -> None:
        loop = asyncio.new_event_loop()
        self.loop = loop
        try:
            loop.run_until_complete(self._main(main))
        finally:
            with contextlib.suppress(Exception):
                loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            self._ready.set()  # never leave start() waiting

    async def _main(self, main: Callable[[LoopThread], Awaitable[None]]) -> None:
        self._stop = asyncio.Event()
        try:
            await main(self)
        except BaseException as exc:
            if self._ready.is_set():
                raise
            self._error = exc  # reported to the starting thread
