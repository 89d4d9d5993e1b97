"""The watchlist on Polygon / Massive: the feed sends `subscribe` for an instrument added while it
runs and `unsubscribe` for one removed, on the connection it has (the others' quotes never
pause), and the engine gets the new instrument's quotes. Against a bare tape server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest_asyncio

from tests.support.polygon_tape import Tape, tape_server
from tests.support.waiting import eventually
from tmt_tui.domain.quotes import Quote
from tmt_tui.domain.secret import Secret
from tmt_tui.venues.polygon.feed import PolygonFeed
from tmt_tui.venues.sim.universe import instruments


@pytest_asyncio.fixture
async def tape() -> AsyncIterator[Tape]:
    async with tape_server() as running:
        yield running


def feed_on(tape: Tape) -> PolygonFeed:
    host = tape.url.removeprefix("ws://")
    return PolygonFeed(
        Secret("pk-test"), instruments(("EUR_USD",)), host=host, secure=False,
        universe=instruments(), backoff=(0.05, 0.2),
    )  # fmt: skip


async def test_a_pair_added_while_running_is_subscribed_on_the_same_connection(
    tape: Tape,
) -> None:
    feed = feed_on(tape)
    quotes: list[Quote] = []
    task = asyncio.create_task(feed.run(quotes.append))
    try:
        await eventually(lambda: tape.subscribed.is_set(), "the first subscription")
        assert tape.actions[-1] == {"action": "subscribe", "params": "C.EUR/USD"}

        feed.subscribe(["EUR_USD", "GBP_USD"])

        await eventually(
            lambda: {"action": "subscribe", "params": "C.GBP/USD"} in tape.actions,
            "a subscribe for the new pair",
        )
        tape.fx("GBP/USD", 1.27001, 1.27012)
        tape.fx("EUR/USD", 1.08501, 1.08509)
        await eventually(lambda: {q.instrument for q in quotes} == {"GBP_USD", "EUR_USD"}, "both")
        assert feed.stats.connects == 1  # no reconnect: the same connection
        assert "GBP_USD" in {i.name for i in feed.instruments()}
    finally:
        feed.stop()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_pair_removed_is_unsubscribed_and_its_quotes_are_no_longer_taken(
    tape: Tape,
) -> None:
    feed = feed_on(tape)
    quotes: list[Quote] = []
    task = asyncio.create_task(feed.run(quotes.append))
    try:
        await eventually(lambda: tape.subscribed.is_set(), "the first subscription")
        feed.subscribe(["GBP_USD"])

        await eventually(
            lambda: {"action": "unsubscribe", "params": "C.EUR/USD"} in tape.actions,
            "an unsubscribe for the pair that went",
        )
        tape.fx("EUR/USD", 1.08501, 1.08509)  # a late frame for it: not taken
        tape.fx("GBP/USD", 1.27001, 1.27012)
        await eventually(lambda: quotes, "the quote of what stays")
        assert [q.instrument for q in quotes] == ["GBP_USD"]
    finally:
        feed.stop()
        await asyncio.gather(task, return_exceptions=True)
