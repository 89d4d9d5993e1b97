"""Fixtures for the venue suites: a local v20 server on loopback (own thread) and our client
pointed at it, shared by the adapter's tests (`oanda/`) and the simulator's (`oanda_sim/`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from decimal import Decimal

import pytest

from tmt_tui.domain.orders import Order, OrderType, TimeInForce
from tmt_tui.venues.oanda.client import OandaClient, Token
from tmt_tui.venues.oanda_sim.server import V20ServerThread

TOKEN = "s3cr3t-token-0123456789abcdef"


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


_seq = iter(range(1, 1_000_000))


def make_order(
    units: int = 1000,
    kind: OrderType = OrderType.MARKET,
    price: str | None = None,
    *,
    instrument: str = "EUR_USD",
    tp: str | None = None,
    sl: str | None = None,
    tif: TimeInForce = TimeInForce.GTC,
) -> Order:
    """A domain order with a fresh id (the id becomes OANDA's client order id)."""
    return Order(
        id=f"tmt-{next(_seq)}",
        account="101-001-0000001-001",
        instrument=instrument,
        units=units,
        type=kind,
        price=None if price is None else Decimal(price),
        take_profit=None if tp is None else Decimal(tp),
        stop_loss=None if sl is None else Decimal(sl),
        time_in_force=tif,
    )
