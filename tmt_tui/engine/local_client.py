"""The in-process EngineClient: a thread hop to the engine and back, nothing else."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from tmt_tui.domain.client import Reply, StreamItem
from tmt_tui.domain.commands import (
    Command,
)
from tmt_tui.domain.reasons import Reason
from tmt_tui.engine.bus import Mailbox
from tmt_tui.engine.runner import EngineRunner


def _resolve(future: asyncio.Future[Reply], reply: Reply) -> None:
    if not future.done():
        future.set_result(reply)


class LocalEngineClient:
    """Speaks to an EngineRunner in this process; replies come back via ``call_soon_threadsafe``."""

    read_only = False  # the engine's own process trades

    def __init__(self, runner: EngineRunner, owns_engine: bool = True) -> None:
        self.runner = runner
        self._owns_engine = owns_engine

    async def execute(self, command: Command) -> Reply:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Reply] = loop.create_future()

        def done(reply: Reply) -> None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_resolve, future, reply)

        self.runner.submit(command, done)
        return await future

    async def subscribe(self) -> AsyncIterator[StreamItem]:
        mailbox = Mailbox(asyncio.get_running_loop())
        if not self.runner.add_subscriber(mailbox):
            raise ConnectionError(f"{Reason.ENGINE_STOPPED.value}: the engine is not running")
        try:
            while True:
                yield await mailbox.get()
        finally:
            self.runner.remove_subscriber(mailbox)

    async def close(self) -> None:
        if self._owns_engine:
            await asyncio.to_thread(self.runner.stop)
