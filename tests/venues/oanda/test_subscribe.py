"""The watchlist on OANDA: adding an instrument reconnects the pricing stream with it (OANDA
takes the instruments in the URL), the others' prices carry on, and removing one drops it;
against `tmt oanda-sim`, a server that speaks the v20 wire."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.oanda import TOKEN, Engine, engine_on
from tests.support.waiting import wait_for
from tmt_tui.domain.commands import Unwatch, Watch
from tmt_tui.venues.oanda.broker import OandaFeed
from tmt_tui.venues.oanda_sim.server import V20ServerThread


@pytest.fixture
def server() -> Iterator[V20ServerThread]:
    with V20ServerThread(token=TOKEN, tick_interval=0.02, heartbeat_interval=0.2) as running:
        yield running


@pytest.fixture
def engine(server: V20ServerThread, tmp_path: Path, token_env: None) -> Iterator[Engine]:
    ready = lambda e: e.trading("EUR_USD", "USD_JPY", "GBP_USD")  # noqa: E731
    with engine_on(server, tmp_path / "journal.db", ready) as running:
        yield running


def feed(engine: Engine) -> OandaFeed:
    venue_feed = engine.runner.venue.feed
    assert isinstance(venue_feed, OandaFeed)
    return venue_feed


def test_a_watched_instrument_is_streamed_and_the_others_keep_streaming(engine: Engine) -> None:
    assert "AUD_USD" not in engine.core.quotes.quotes
    connects = feed(engine).connects

    reply = engine.ask(Watch("aud/usd"))

    assert reply.ok, reply
    assert reply.message == "AUD_USD on the watchlist"
    wait_for(lambda: engine.core.quotes.get("AUD_USD"), "AUD_USD's prices from the new stream")
    assert "AUD_USD" in {i.name for i in feed(engine).instruments()}
    assert feed(engine).subscriptions >= 1 and feed(engine).connects > connects
    last = engine.core.quotes.get("EUR_USD").ts
    wait_for(lambda: engine.core.quotes.get("EUR_USD").ts > last, "EUR_USD still streaming")
    assert "venue.prices" not in engine.core.alerts  # a new subscription is not a drop


def test_an_unwatched_instrument_leaves_the_stream_unless_it_converts(engine: Engine) -> None:
    assert engine.ask(Unwatch("GBP_USD")).ok
    wait_for(
        lambda: "GBP_USD" not in {i.name for i in feed(engine).instruments()}, "GBP_USD dropped"
    )
    reply = engine.ask(Unwatch("USD_JPY"))  # a USD account needs no JPY rate without JPY pairs
    assert reply.ok and "still quoted" not in reply.message, reply
    assert {i.name for i in feed(engine).instruments()} == {"EUR_USD"}
    last = engine.core.quotes.get("EUR_USD").ts
    wait_for(lambda: engine.core.quotes.get("EUR_USD").ts > last, "EUR_USD still streaming")


def test_an_instrument_the_account_cannot_trade_is_refused_by_name(engine: Engine) -> None:
    reply = engine.ask(Watch("EUR_UDS"))

    assert not reply.ok
    assert reply.code == "UNKNOWN_INSTRUMENT"
    assert "EUR_UDS" in reply.message and "EUR_USD" in reply.message
