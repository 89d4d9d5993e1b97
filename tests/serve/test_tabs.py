"""Each tab's app process, in-process and without a browser: one that ignores its quit (and
SIGTERM) is killed when its tab closes and when the server stops, and no more than
``max_tabs`` apps run at once."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest

from tests.serve.conftest import alive
from tests.support.waiting import eventually
from tmt_tui.domain.secret import Secret
from tmt_tui.serve import server as server_module
from tmt_tui.serve.gate import LINK_PARAMETER, TokenGate
from tmt_tui.serve.server import WorkstationServer

#: An app that says it is a Textual app, then ignores its stdin (so the quit), and SIGTERM.
HUNG_APP = """
import os, signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
with open(os.path.join(sys.argv[1], str(os.getpid())), "w"):
    pass
sys.stdout.write("__GANGLION__\\n")
sys.stdout.flush()
while True:
    time.sleep(60)
"""


@dataclass
class Running:
    server: WorkstationServer
    base: str
    pids: Path
    task: asyncio.Task[None]
    clients: list[aiohttp.ClientSession] = field(default_factory=list)

    def app_pids(self) -> list[int]:
        return sorted(int(path.name) for path in self.pids.iterdir())

    async def tab(self) -> aiohttp.ClientWebSocketResponse:
        """A signed-in browser's tab (one client per tab: the one-time link opens it)."""
        client = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.clients.append(client)
        link = self.server.gate.issue_link()
        async with client.get(f"{self.base}?{LINK_PARAMETER}={link}") as page:
            assert page.status == 200
        return await client.ws_connect(f"{self.base}ws?width=80&height=24")

    async def stop(self) -> None:
        self.server.stop()
        await self.task


@pytest.fixture
def pids(tmp_path: Path) -> Iterator[Path]:
    """Where each app writes its pid; any app still there at the end is killed."""
    directory = tmp_path / "pids"
    directory.mkdir()
    yield directory
    for path in directory.iterdir():
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(path.name), signal.SIGKILL)


@pytest.fixture
async def running(pids: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Running]:
    """A server whose tabs run ``HUNG_APP``, at most two at once; short grace periods, so a
    test spends little time waiting for the app that never quits."""
    monkeypatch.setattr(server_module, "APP_EXIT_S", 0.2)
    monkeypatch.setattr(server_module, "KILL_AFTER_S", 0.2, raising=False)
    command = "exec " + shlex.join([sys.executable, "-c", HUNG_APP, str(pids)])
    gate = TokenGate(Secret("the-api-token-0458"))

    async def engine_there() -> None:
        """As `tmt serve`'s: the engine asked on a thread, other tabs' handlers run meanwhile."""
        await asyncio.to_thread(lambda: None)

    server = WorkstationServer(
        command,
        host="127.0.0.1",
        port=0,
        gate=gate,
        title="tmt",
        preflight=engine_there,
        max_tabs=2,
    )
    bound: list[str] = []
    task = asyncio.create_task(server.run(lambda host, port: bound.append(f"{host}:{port}")))
    await eventually(lambda: bound or task.done(), "the server to listen")
    if task.done():
        task.result()
    run = Running(server, f"http://{bound[0]}/", pids, task)
    yield run
    if not task.done():
        await run.stop()
    for client in run.clients:
        await client.close()


async def test_an_app_that_ignores_its_quit_is_killed_when_the_server_stops(
    running: Running,
) -> None:
    await running.tab()
    await eventually(running.app_pids, "the tab's app to start")
    [pid] = running.app_pids()

    await running.stop()

    assert not alive(pid)


async def test_an_app_that_ignores_its_quit_is_killed_when_its_tab_closes(
    running: Running,
) -> None:
    tab = await running.tab()
    await eventually(running.app_pids, "the tab's app to start")
    [pid] = running.app_pids()

    await tab.close()

    await eventually(lambda: not alive(pid), "the tab's app to be killed")


async def test_beyond_max_tabs_a_tab_says_too_many_tabs_open(running: Running) -> None:
    for _ in range(2):
        await running.tab()
    await eventually(lambda: len(running.app_pids()) == 2, "two tabs' apps to start")

    third = await running.tab()
    message = await third.receive(timeout=30)

    assert message.type == aiohttp.WSMsgType.BINARY
    assert b"too many tabs open" in message.data
    assert len(running.app_pids()) == 2  # no third app was started


async def test_tabs_opened_at_once_get_no_more_than_max_tabs_apps(running: Running) -> None:
    tabs = await asyncio.gather(*(running.tab() for _ in range(3)))

    receiving = {asyncio.ensure_future(tab.receive()): tab for tab in tabs}
    done, pending = await asyncio.wait(receiving, timeout=30, return_when="FIRST_COMPLETED")
    for waiting in pending:
        waiting.cancel()

    [said] = done  # the hung apps never write: only the tab turned away says anything
    assert b"too many tabs open" in said.result().data
    await eventually(lambda: len(running.app_pids()) == 2, "the two admitted tabs' apps")
