"""OandaBroker and OandaFeed (the venues/base.py protocols) against the local v20 server."""

from __future__ import annotations

import asyncio
from typing import TypeVar

from tests.support.oanda import make_order
from tests.support.waiting import eventually
from tmt_tui.domain.orders import OrderType
from tmt_tui.domain.quotes import Quote
from tmt_tui.venues.base import (
    Broker,
    MarketDataFeed,
    VenueAccepted,
    VenueCancelled,
    VenueEvent,
    VenueFilled,
    VenueRejected,
)
from tmt_tui.venues.oanda.broker import OandaBroker, OandaFeed
from tmt_tui.venues.oanda.client import OandaClient
from tmt_tui.venues.oanda_sim.server import V20ServerThread

T = TypeVar("T")


async def _broker(client: OandaClient) -> tuple[OandaBroker, list[VenueEvent]]:
    events: list[VenueEvent] = []
    broker = OandaBroker(client, asyncio.get_running_loop(), await client.instruments())
    broker.connect(events.append)
    return broker, events


async def test_broker_and_feed_satisfy_the_venue_protocols(client: OandaClient) -> None:
    broker, _ = await _broker(client)
    feed = OandaFeed(client, await client.instruments())

    assert isinstance(broker, OandaBroker) and isinstance(feed, OandaFeed)
    _b: Broker = broker
    _f: MarketDataFeed = feed


async def test_a_market_order_reports_its_fill_at_once(
    client: OandaClient,
) -> None:
    """The take-profit / stop-loss OANDA attaches arrive later, on the transaction stream (see
    test_engine.py): the request's own answer carries only the fill."""
    broker, events = await _broker(client)
    order = make_order(1000, tp="1.20000", sl="1.00000")

    broker.submit(order)
    await broker.drain()

    (fill,) = events  # the balance after it comes in order, with the transaction stream
    assert isinstance(fill, VenueFilled) and fill.order_id == order.id and fill.units == 1000
    (trade,) = await client.open_trades()
    assert trade["id"] == fill.fill_id
    assert trade["takeProfitOrder"]["price"] == "1.20000"


async def test_limit_order_is_accepted_then_cancelled(client: OandaClient) -> None:
    broker, events = await _broker(client)
    order = make_order(1000, OrderType.LIMIT, "1.00000")

    broker.submit(order)
    await broker.drain()
    broker.cancel(order)
    await broker.drain()

    accepted, cancelled = events
    assert isinstance(accepted, VenueAccepted) and accepted.order_id == order.id
    assert isinstance(cancelled, VenueCancelled)
    assert (cancelled.order_id, cancelled.reason) == (order.id, "CLIENT_REQUEST")
    assert cancelled.seen  # the cancel transaction, so a restart's backfill skips it


async def test_reject_reaches_the_sink_with_oandas_reason(client: OandaClient) -> None:
    broker, events = await _broker(client)

    broker.submit(make_order(1000, instrument="XAU_XAG"))
    await broker.drain()

    (event,) = events
    assert isinstance(event, VenueRejected) and event.code == "INSTRUMENT_UNKNOWN"


async def test_feed_delivers_quotes_and_reconnects_after_a_dropped_stream(
    client: OandaClient, server: V20ServerThread
) -> None:
    server.call(lambda s: setattr(s.faults, "drop_streams_after", 0.05))
    feed = OandaFeed(client, [i for i in await client.instruments() if i.name == "EUR_USD"],
                     reconnect_backoff=0.001)  # fmt: skip
    quotes: list[Quote] = []
    task = asyncio.create_task(feed.run(quotes.append))

    await eventually(lambda: feed.connects >= 3 and len(quotes) >= 3)
    feed.stop()
    await task

    assert {q.instrument for q in quotes} == {"EUR_USD"}
