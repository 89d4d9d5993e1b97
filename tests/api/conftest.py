"""Fixtures for control API tests: a real embedded engine served by a real ServerThread on a
Unix socket under a short tmp dir (``sun_path`` holds 107 bytes), and clients that connect to it.

Every XDG dir points into that tmp dir, so no test touches a real user's socket, token or
journal. Tests wait for conditions with `eventually`, never with fixed sleeps.
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from websockets.asyncio.client import ClientConnection, unix_connect
from websockets.protocol import State

from tests.support.api import make_settings
from tests.support.engines import INSTRUMENTS
from tests.support.waiting import eventually
from tmt_tui.api.paths import Secret, default_socket_path
from tmt_tui.api.remote import RemoteEngineClient
from tmt_tui.api.server import ServerThread
from tmt_tui.cli.embedded import start_embedded
from tmt_tui.config import Settings
from tmt_tui.engine.local_client import LocalEngineClient


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="tmt", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(autouse=True)
def xdg(short_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Data, state and runtime dirs inside ``short_tmp``; no token in the environment."""
    monkeypatch.setenv("XDG_DATA_HOME", str(short_tmp / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(short_tmp / "state"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(short_tmp / "run"))
    monkeypatch.delenv("TMT_API_TOKEN", raising=False)
    return short_tmp


@pytest.fixture
def journal(short_tmp: Path) -> Path:
    return short_tmp / "j.db"


@pytest.fixture
def settings(journal: Path) -> Settings:
    return make_settings(journal)


@pytest.fixture
def token() -> Secret:
    return Secret("tok-" + secrets.token_urlsafe(24))


@pytest_asyncio.fixture
async def engine(settings: Settings) -> AsyncIterator[LocalEngineClient]:
    """A running embedded engine with a quote for every instrument."""
    client = start_embedded(settings)
    try:
        book = client.runner.core.quotes  # type: ignore[union-attr]
        await eventually(lambda: all(n in book.quotes for n in INSTRUMENTS), "first quotes")
        yield client
    finally:
        await client.close()


@pytest_asyncio.fixture
async def server(engine: LocalEngineClient, token: Secret) -> AsyncIterator[ServerThread]:
    """The control API on the default socket path (under ``$XDG_RUNTIME_DIR``)."""
    thread = ServerThread(engine, token, default_socket_path(), max_lag_s=1.0)
    thread.start()
    try:
        yield thread
    finally:
        await asyncio.to_thread(thread.stop)


@pytest_asyncio.fixture
async def remote(server: ServerThread, token: Secret) -> AsyncIterator[RemoteEngineClient]:
    """A read-write remote client, connected."""
    client = RemoteEngineClient(server.socket_path, token=token)
    await client.connect()
    try:
        yield client
    finally:
        await client.close()


@pytest_asyncio.fixture
async def raw(server: ServerThread) -> AsyncIterator[Callable[..., Any]]:
    """``await raw()``: a bare WebSocket to the server, for frames no proper client sends."""
    opened: list[ClientConnection] = []

    async def connect(**options: Any) -> ClientConnection:
        ws = await unix_connect(str(server.socket_path), compression=None, **options)
        opened.append(ws)
        return ws

    yield connect
    for ws in opened:
        if ws.state is not State.CLOSED:
            await ws.close()
