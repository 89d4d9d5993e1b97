"""The engine on Polygon / Massive quotes: the paper broker fills at them, a cluster going down
and coming back is an alert raised and cleared, a refused key is said once and the engine goes
on, and the key is nowhere it should not be. Against `tmt polygon-sim` on loopback."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.support.engines import journal_events, journal_rows
from tests.support.waiting import eventually
from tmt_tui.cli.embedded import start_embedded
from tmt_tui.config import Settings, load_settings
from tmt_tui.domain.commands import SubmitOrder
from tmt_tui.domain.secret import Secret
from tmt_tui.engine.local_client import LocalEngineClient
from tmt_tui.venues.base import VenueRefused
from tmt_tui.venues.polygon_sim.server import Faults, PolygonSim, PolygonSimServer, start

KEY = "pk-engine-7d0c2e914ab35f68"
CONFIG = Path(__file__).resolve().parents[3] / "config" / "polygon-local.toml"


def settings_for(port: int, journal: Path) -> Settings:
    base = load_settings(str(CONFIG))
    return dataclasses.replace(
        base,
        engine=dataclasses.replace(base.engine, journal_path=str(journal)),
        polygon=dataclasses.replace(
            base.polygon,
            url=f"ws://127.0.0.1:{port}",
            instruments=("EUR_USD", "USD_JPY"),
            reconnect_backoff_s=0.05,
            max_backoff_s=0.2,
        ),
    )


@pytest.fixture
async def polygon_sim() -> AsyncIterator[Callable[..., Any]]:
    servers: list[PolygonSimServer] = []

    async def make(faults: Faults | None = None) -> PolygonSimServer:
        server = await start(PolygonSim(Secret(KEY), ticks_per_second=20, faults=faults))
        servers.append(server)
        return server

    yield make
    for server in servers:
        await server.close()


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("MASSIVE_API_KEY", KEY)
    monkeypatch.delenv("POLYGON_API_KEY", raising=False)
    return KEY


def alert_keys(journal: Path, kind: str = "alert.raised") -> set[str]:
    return {str(e["key"]) for e in journal_events(journal, kind)}


async def started(settings: Settings) -> LocalEngineClient:
    client = start_embedded(settings)
    book = client.runner.core.quotes  # type: ignore[union-attr]
    try:
        await eventually(lambda: {"EUR_USD", "USD_JPY"} <= set(book.quotes), "polygon quotes")
    except BaseException:
        await client.close()
        raise
    return client


async def test_the_paper_broker_fills_at_a_polygon_price(
    polygon_sim: Callable[..., Any], key: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server = await polygon_sim()
    journal = tmp_path / "journal.db"
    client = await started(settings_for(server.port, journal))
    try:
        reply = await client.execute(SubmitOrder("PAPER-USD", "EUR_USD", 10_000))
        assert reply.ok, reply
        (fill,) = journal_events(journal, "order.filled")
        price = fill["price"]
        await eventually(
            lambda: journal_rows(
                journal, "select 1 from ticks where instrument = 'EUR_USD' and ask = ?", price
            ),
            "the quote the order filled at, journaled as a tick",
        )
    finally:
        await client.close()

    assert Decimal(price) > 0
    assert KEY not in caplog.text
    assert KEY.encode() not in journal.read_bytes()


async def test_a_cluster_going_down_is_an_alert_raised_then_cleared_when_live_again(
    polygon_sim: Callable[..., Any], key: str, tmp_path: Path
) -> None:
    server = await polygon_sim(Faults(drop_every=0.5))
    journal = tmp_path / "journal.db"
    client = await started(settings_for(server.port, journal))
    try:
        await eventually(
            lambda: "polygon-down:forex" in alert_keys(journal, "alert.cleared"),
            "polygon-down raised, then cleared",
        )
        quotes_before = client.runner.core.quotes.quotes["EUR_USD"]  # type: ignore[union-attr]
        await eventually(
            lambda: client.runner.core.quotes.quotes["EUR_USD"] is not quotes_before,  # type: ignore[union-attr]
            "quotes again after the drop",
        )
    finally:
        await client.close()

    raised = [e for e in journal_events(journal, "alert.raised") if e["key"].startswith("polygon")]
    assert "reconnecting" in raised[0]["message"]


async def test_a_refused_key_is_said_once_and_the_engine_goes_on(
    polygon_sim: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MASSIVE_API_KEY", "not-our-key-5b1e")
    server = await polygon_sim()
    journal = tmp_path / "journal.db"
    client = start_embedded(settings_for(server.port, journal))
    try:
        await eventually(
            lambda: "polygon-auth:forex" in alert_keys(journal),
            "the refusal, journaled as an alert",
        )
        reply = await client.execute(SubmitOrder("PAPER-USD", "EUR_USD", 10_000))
    finally:
        await client.close()

    assert server.sim.connections == 1  # no reconnect storm
    assert (reply.ok, reply.code) == (False, "NO_QUOTE")  # no price: refused, not a crash
    assert b"not-our-key-5b1e" not in journal.read_bytes()


async def test_without_a_key_the_engine_says_which_variable_to_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MASSIVE_API_KEY", raising=False)
    monkeypatch.delenv("POLYGON_API_KEY", raising=False)

    with pytest.raises(VenueRefused, match="MASSIVE_API_KEY is not set"):
        start_embedded(settings_for(8091, tmp_path / "journal.db"))


async def test_stocks_and_crypto_show_as_watch_only_and_the_ticket_refuses_them_saying_why(
    polygon_sim: Callable[..., Any], key: str, tmp_path: Path
) -> None:
    server = await polygon_sim()
    settings = settings_for(server.port, tmp_path / "journal.db")
    settings = dataclasses.replace(
        settings,
        polygon=dataclasses.replace(
            settings.polygon, instruments=("EUR_USD", "USD_JPY", "AAPL", "BTC_USD")
        ),
    )
    client = await started(settings)
    core: Any = client.runner.core
    try:
        await eventually(lambda: {"AAPL", "BTC_USD"} <= set(core.quotes.quotes), "stock quotes")
        stock = await client.execute(SubmitOrder("PAPER-USD", "AAPL", 10))
        coin = await client.execute(SubmitOrder("PAPER-USD", "BTC_USD", 1))
        pair = await client.execute(SubmitOrder("PAPER-USD", "EUR_USD", 1000))
    finally:
        await client.close()

    assert (stock.ok, stock.code) == (False, "INSTRUMENT_NOT_TRADEABLE")
    assert stock.message == (
        "AAPL is watch-only: no account's broker here trades stocks (a data feed quotes it "
        "for the board)"
    )
    assert (coin.ok, coin.code) == (False, "INSTRUMENT_NOT_TRADEABLE")
    assert "trades crypto" in coin.message
    assert pair.ok, pair
    assert not core.quotes.convertible("BTC", "USD")  # a coin is never a currency rate
    assert core.quotes.instruments["AAPL"].tradeable is False
