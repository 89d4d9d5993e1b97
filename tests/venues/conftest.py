"""Fixtures for the venue suites: a local v20 server on loopback (own thread) and our client
pointed at it, shared by the adapter's tests (`oanda/`) and the simulator's (`oanda_sim/`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.support.oanda import TOKEN
from tmt_tui.venues.oanda.client import OandaClient, Token
from tmt_tui.venues.oanda_sim.server import V20ServerThread


@pytest.fixture
def server() -> Iterator[V20ServerThread]:
    """A v20 server with fast ticks and heartbeats so stream tests finish quickly."""
    with V20ServerThread(token=TOKEN, tick_interval=0.01, heartbeat_interval=0.05) as running:
        yield running


@pytest.fixture
async def client(server: V20ServerThread) -> AsyncIterator[OandaClient]:
    async with OandaClient(
        account_id=server.account_id,
        token=Token(TOKEN),
        rest_url=server.url,
        timeout=2.0,
        backoff=0.001,
    ) as c:
        yield c


@pytest.fixture
def still() -> Iterator[V20ServerThread]:
    """A server whose market does not move by itself: tests set prices with set_price."""
    with V20ServerThread(token=TOKEN, tick_interval=3600, heartbeat_interval=0.05) as running:
        running.call(lambda s: s.set_price("EUR_USD", "1.10000", "1.10010"))
        yield running


@pytest.fixture
async def calm(still: V20ServerThread) -> AsyncIterator[OandaClient]:
    """Our client on the ``still`` server."""
    async with OandaClient(
        account_id=still.account_id, token=Token(TOKEN), rest_url=still.url, backoff=0.001
    ) as c:
        yield c


@pytest.fixture
def token_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The local server's token where the OANDA venue reads it."""
    monkeypatch.setenv("OANDA_TOKEN", TOKEN)
