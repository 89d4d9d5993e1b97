"""The in-process EngineClient: a thread hop to the engine and back, nothing else."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from tmt_tui.domain.client import Reply, StreamItem
from tmt_tui.domain.commands import (
    CancelAll,
    CancelOrder,
    ClosePosition,
    Command,
    EngageKillSwitch,
    ModifyOrder,
    ResetKillSwitch,
    SetReducing,
    StopEngine,
    SubmitOrder,
)
from tmt_tui.domain.reasons import Reason
from tmt_tui.engine.bus import Mailbox
from tmt_tui.engine.runner import EngineRunner


def _resolve(future: asyncio.Future[Reply], reply: Reply) -> None:
    if not future.done():
        future.set_result(reply)


class LocalEngineClient:
    """Speaks to an EngineRunner in this process; replies come back via ``call_soon_threadsafe``."""

    def __init__(self, runner: EngineRunner, owns_engine: bool = True) -> None:
        self.runner = runner
        self._owns_engine = owns_engine

    async def _call(self, command: Command) -> Reply:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Reply] = loop.create_future()

        def done(reply: Reply) -> None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_resolve, future, reply)

        self.runner.submit(command, done)
        return await future

    async def submit(self, command: SubmitOrder) -> Reply:
        return await self._call(command)

    async def modify(self, command: ModifyOrder) -> Reply:
        return await self._call(command)

    async def cancel(self, command: CancelOrder) -> Reply:
        return await self._call(command)

    async def close_position(self, command: ClosePosition) -> Reply:
        return await self._call(command)

    async def cancel_all(self, command: CancelAll) -> Reply:
        return await self._call(command)

    async def engage_kill_switch(self, command: EngageKillSwitch) -> Reply:
        return await self._call(command)

    async def reset_kill_switch(self, command: ResetKillSwitch) -> Reply:
        return await self._call(command)

    async def set_reducing(self, command: SetReducing) -> Reply:
        return await self._call(command)

    async def stop_engine(self, command: StopEngine) -> Reply:
        return await self._call(command)

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
