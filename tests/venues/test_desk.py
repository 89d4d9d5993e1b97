"""Accounts on different venues in one engine, and feeds compared: a paper account beside an
OANDA account (against the local v20 server on loopback), and Polygon / Massive quotes beside
OANDA's (a bare WebSocket server written here, so the test sets each price)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.support.engines import journal_events
from tests.support.oanda import Engine, ledger_units, oanda_table
from tests.support.polygon_tape import Tape, tape_server
from tests.support.waiting import eventually, wait_for
from tmt_tui.cli.embedded import start_embedded
from tmt_tui.config import Settings, parse_settings
from tmt_tui.domain.commands import EngageKillSwitch, SubmitOrder
from tmt_tui.domain.events import EventKind
from tmt_tui.domain.orders import OrderType
from tmt_tui.venues.oanda_sim.server import V20ServerThread

PAPER = "PAPER-USD"
KEY = "pk-desk-61f0c9a2e4b7d853"


def desk_settings(
    server: V20ServerThread, journal: Path, feeds: str = '["oanda"]', polygon_url: str = ""
) -> Settings:
    """An OANDA account and a paper account in one engine, priced by OANDA."""
    text = f"""
[engine]
journal_path = "{journal}"
market_data = {feeds}
feeds_apart_pips = 5.0
feeds_apart_for_s = 0.3
{oanda_table(server, instruments='["EUR_USD", "USD_JPY"]')}[polygon]
url = "{polygon_url or "ws://127.0.0.1:9"}"
instruments = ["EUR_USD", "AAPL"]
reconnect_backoff_s = 0.05
max_backoff_s = 0.2
[[accounts]]
id = ""
broker = "oanda"
[[accounts]]
id = "{PAPER}"
broker = "sim"
currency = "USD"
balance = "50000"
"""
    return parse_settings(text, "desk-test.toml")


@pytest.fixture
def desk(still: V20ServerThread, tmp_path: Path, token_env: None) -> Iterator[Engine]:
    engine = Engine(desk_settings(still, tmp_path / "journal.db"))
    try:
        wait_for(lambda: engine.trading("EUR_USD"), "the desk reconciled and priced")
        yield engine
    finally:
        engine.stop()


def units(engine: Engine, account: str, instrument: str = "EUR_USD") -> int:
    return int(engine.core.portfolio.units(account, instrument))


def test_orders_route_by_account_paper_fills_at_oanda_prices_and_never_reach_oanda(
    desk: Engine, still: V20ServerThread
) -> None:
    assert [a.id for a in desk.runner.settings.accounts] == [still.account_id, PAPER]

    paper = desk.ask(SubmitOrder(PAPER, "EUR_USD", 1000))
    live = desk.ask(SubmitOrder(desk.account, "EUR_USD", 2000))

    assert paper.ok and live.ok, (paper, live)
    wait_for(lambda: units(desk, desk.account) == 2000)
    assert units(desk, PAPER) == 1000
    assert ledger_units(still, "EUR_USD") == 2000  # OANDA holds only its own account's trade
    journal = desk.runner.settings.journal_path()
    fills = {f["order_id"]: f for f in journal_events(journal, "order.filled")}
    assert fills[paper.order_id]["price"] == "1.10010"  # OANDA's ask, set by the fixture
    balance = desk.core.portfolio.accounts[PAPER].balance
    assert balance == Decimal("50000")  # the paper account keeps the config's balance


def test_the_kill_switch_halts_both_accounts(desk: Engine, still: V20ServerThread) -> None:
    for account in (desk.account, PAPER):
        working = desk.ask(SubmitOrder(account, "EUR_USD", 1000, OrderType.LIMIT, Decimal("1.09")))
        assert working.ok, working
    wait_for(lambda: len(desk.open_orders(OrderType.LIMIT)) == 2)

    assert desk.ask(EngageKillSwitch(reason="test")).ok

    wait_for(lambda: not desk.open_orders(OrderType.LIMIT))
    for account in (desk.account, PAPER):
        refused = desk.ask(SubmitOrder(account, "EUR_USD", 1000))
        assert (refused.ok, refused.code) == (False, "TRADING_HALTED"), refused
    assert still.call(lambda s: len(s.ledger.transactions)) > 0


def test_a_restart_reconciles_the_oanda_account_and_leaves_the_paper_one_as_journaled(
    still: V20ServerThread, tmp_path: Path, token_env: None
) -> None:
    journal = tmp_path / "journal.db"
    first = Engine(desk_settings(still, journal))
    try:
        wait_for(lambda: first.trading("EUR_USD"))
        assert first.ask(SubmitOrder(PAPER, "EUR_USD", 3000)).ok
        assert first.ask(SubmitOrder(first.account, "EUR_USD", 1000)).ok
        wait_for(lambda: units(first, first.account) == 1000)
    finally:
        first.stop()

    still.call(lambda s: s.outside_market_order("USD_JPY", 400))  # at OANDA, while tmt is down

    second = Engine(desk_settings(still, journal))
    try:
        wait_for(second.reconciled)
        wait_for(lambda: units(second, second.account, "USD_JPY") == 400)
        assert units(second, second.account) == 1000
        assert units(second, PAPER) == 3000
    finally:
        second.stop()
    synced = journal_events(journal, EventKind.POSITION_SYNCED)
    assert all(e["account"] != PAPER for e in synced)
    reconciled = journal_events(journal, EventKind.VENUE_RECONCILED)
    assert reconciled and all(e["venue"] == "oanda" for e in reconciled)


# Polygon beside OANDA ----------------------------------------------------------------------------


@pytest.fixture
async def tape() -> AsyncIterator[Tape]:
    async with tape_server() as player:
        yield player


async def test_polygon_beside_oanda_is_compared_and_an_alert_fires_while_they_disagree(
    still: V20ServerThread,
    tmp_path: Path,
    token_env: None,
    tape: Tape,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MASSIVE_API_KEY", KEY)
    player, url = tape, tape.url
    journal = tmp_path / "journal.db"
    client = start_embedded(desk_settings(still, journal, '["oanda", "polygon"]', url))
    runner: Any = client.runner
    compared: list[Any] = []
    try:
        await eventually(lambda: runner.core.quotes.get("EUR_USD"), "OANDA's price")
        await asyncio.wait_for(player.subscribed.wait(), 10)
        player.fx("EUR/USD", 1.1050, 1.1051)  # ~50 pips above OANDA's 1.10005 mid
        player.stock("AAPL", 232.49, 232.51)  # only Polygon quotes it: watch-only

        def seen() -> bool:
            compared[:] = list(runner._gaps.latest.values())
            return bool(compared) and "AAPL" in runner.core.quotes.quotes

        await eventually(seen, "the Polygon quotes compared and the stock on the board")
        await eventually(
            lambda: any(k.startswith("feeds.apart:EUR_USD") for k in runner.core.alerts),
            "the disagreement alert",
        )
        trading = runner.core.quotes.get("EUR_USD")
        player.fx("EUR/USD", 1.10001, 1.10011)  # together again
        await eventually(lambda: not any(k.startswith("feeds.apart") for k in runner.core.alerts))
        paper = await client.execute(SubmitOrder(PAPER, "EUR_USD", 1000))
        stock = await client.execute(SubmitOrder(PAPER, "AAPL", 10))
    finally:
        await client.close()

    (first,) = compared
    assert (first.feed, first.quote.instrument, first.apart) == ("polygon", "EUR_USD", True)
    assert first.gap_pips == pytest.approx(50.0, abs=0.1)
    assert trading.bid == Decimal("1.10000")  # the trading price stayed OANDA's
    assert paper.ok and paper.message.endswith("1.10010"), paper  # filled at OANDA's ask
    assert (stock.ok, stock.code) == (False, "INSTRUMENT_NOT_TRADEABLE")
    raised = [e for e in journal_events(journal, "alert.raised") if "feeds.apart" in e["key"]]
    assert raised[0]["message"].startswith(
        "EUR_USD: polygon mid 1.10505 is 50.0 pips above the trading mid 1.10005"
    )
    assert [e["key"] for e in journal_events(journal, "alert.cleared")].count(
        "feeds.apart:EUR_USD:polygon"
    ) == 1
    assert KEY.encode() not in journal.read_bytes()
