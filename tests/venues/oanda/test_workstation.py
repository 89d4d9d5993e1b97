"""The workstation trading an OANDA account: the real Textual app on an embedded engine whose
venue is the local v20 server on loopback, driven with Pilot the way a trader drives it.

Most tests build the app with the settings the engine runs with (the `[[accounts]]` table's
empty id filled in with the OANDA account's); one builds it from the config as loaded, as
`tmt --config` and `tmt attach` do.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from textual.widgets import Static

from tests.support.oanda import (
    TOKEN,
    answer_account_reads,
    ledger_units,
    oanda_settings,
    stall_account_reads,
)
from tests.support.pilot import board_ready, on_main_screen, pane, screen_text, ticket_ready, until
from tmt_tui.cli.embedded import start_embedded
from tmt_tui.config import Settings
from tmt_tui.domain.commands import SubmitOrder
from tmt_tui.engine.local_client import LocalEngineClient
from tmt_tui.tui.app import TmtApp, create_app
from tmt_tui.tui.screens.ticket import OrderTicketScreen
from tmt_tui.tui.widgets.quote_board import QuoteBoard
from tmt_tui.venues.oanda_sim import views
from tmt_tui.venues.oanda_sim.server import V20ServerThread

INSTRUMENTS = ("EUR_USD", "GBP_USD", "USD_JPY")


@pytest.fixture
def server() -> Iterator[V20ServerThread]:
    """Ticks slow enough that Pilot's key presses (which wait for an idle CPU) stay quick."""
    with V20ServerThread(token=TOKEN, tick_interval=0.05, heartbeat_interval=0.5) as running:
        yield running


@pytest.fixture
def settings(server: V20ServerThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("OANDA_TOKEN", TOKEN)
    return oanda_settings(server, tmp_path / "journal.db")


@pytest_asyncio.fixture
async def client(settings: Settings) -> AsyncIterator[LocalEngineClient]:
    """The embedded engine on the OANDA venue (start() returns once the account is read)."""
    engine = start_embedded(settings)
    try:
        yield engine
    finally:
        await engine.close()


@pytest.fixture
def app(client: LocalEngineClient) -> TmtApp:
    return create_app(client.runner.settings, client)


def position_units(app: TmtApp, instrument: str) -> int:
    return sum(p.units for p in app.model.positions.values() if p.instrument == instrument)


async def test_quotes_from_the_oanda_stream_fill_the_quote_board(app: TmtApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: board_ready(app), "a quote for every instrument")

        assert sorted(app.model.quotes) == sorted(INSTRUMENTS)
        first = app.model.quotes["EUR_USD"].quote
        assert first is not None
        await until(
            pilot,
            lambda: app.model.quotes["EUR_USD"].quote.ts > first.ts,  # type: ignore[union-attr]
            "the next EUR_USD tick",
        )
        board = screen_text(app)
        assert all(re.search(rf"{name}\s+\d+\.\d+\s+\d+\.\d+", board) for name in INSTRUMENTS)


async def test_a_market_order_from_the_ticket_fills_at_oanda(
    app: TmtApp, server: V20ServerThread
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: board_ready(app), "a quote for every instrument")
        await until(pilot, lambda: "venue.reconciling" not in app.model.alerts, "reconciled")
        pane(app, "quotes", QuoteBoard).select("EUR_USD")
        await pilot.press("b")
        await until(pilot, lambda: ticket_ready(app), "the ticket")

        await pilot.press("2", "k", "enter")

        await until(pilot, lambda: on_main_screen(app), "the ticket to close")
        await until(pilot, lambda: position_units(app, "EUR_USD") == 2000, "the position")
        assert ledger_units(server, "EUR_USD") == 2000
        trades = server.call(lambda s: views.open_trades(s.ledger))
        assert [(t["instrument"], t["currentUnits"]) for t in trades] == [("EUR_USD", "2000")]


async def test_a_fill_made_outside_tmt_shows_in_the_positions_pane(
    app: TmtApp, server: V20ServerThread
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: board_ready(app), "a quote for every instrument")
        await until(pilot, lambda: "venue.reconciling" not in app.model.alerts, "reconciled")

        server.call(lambda s: s.outside_market_order("GBP_USD", -700))

        await until(pilot, lambda: position_units(app, "GBP_USD") == -700, "the position")
        await until(
            pilot,
            lambda: re.search(r"GBP_USD\s+-700\b", screen_text(app)),
            "the GBP_USD row in the positions pane",
        )


async def test_the_reconciling_alert_shows_while_the_venue_book_is_read_then_clears(
    server: V20ServerThread, settings: Settings
) -> None:
    stall_account_reads(server)  # reconciling lasts until the venue answers
    client = start_embedded(settings)
    try:
        app = create_app(client.runner.settings, client)
        async with app.run_test(size=(200, 50)) as pilot:
            await until(
                pilot, lambda: "reconciling with venue" in screen_text(app), "the header says so"
            )
            assert "venue.reconciling" in app.model.alerts
            assert "ALERTS (1)" in screen_text(app)  # the risk pane lists it

            answer_account_reads(server)
            await until(pilot, lambda: "venue.reconciling" not in app.model.alerts, "cleared")
            await until(
                pilot, lambda: "reconciling with venue" not in screen_text(app), "header clear"
            )
            assert "ALERTS" not in screen_text(app)
            assert not client.runner.core.flags.reconciling
    finally:
        answer_account_reads(server)
        await client.close()


async def test_the_workstation_runs_at_80x24_without_crashing(
    app: TmtApp, server: V20ServerThread
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: board_ready(app), "a quote for every instrument")
        server.call(lambda s: s.outside_market_order("USD_JPY", 300))
        await until(pilot, lambda: position_units(app, "USD_JPY") == 300, "the position")

        await pilot.press("b")
        await until(pilot, lambda: ticket_ready(app), "the ticket")
        await pilot.press("escape", "question_mark")
        await until(pilot, lambda: not on_main_screen(app), "the help screen")
        await pilot.press("escape")
        await until(pilot, lambda: on_main_screen(app), "back on the board")

        assert app.is_running and app.return_code is None
        assert "USD_JPY" in screen_text(app)


async def test_the_ticket_trades_the_oanda_account_when_built_from_the_config_as_loaded(
    settings: Settings, client: LocalEngineClient, server: V20ServerThread
) -> None:
    app = create_app(settings, client)  # what `tmt --config` and `tmt attach` do
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: board_ready(app), "a quote for every instrument")
        await until(pilot, lambda: "venue.reconciling" not in app.model.alerts, "reconciled")
        await pilot.press("b")
        await until(pilot, lambda: ticket_ready(app), "the ticket")
        ticket = app.screen
        assert isinstance(ticket, OrderTicketScreen)
        message = ticket.query_one("#ticket-message", Static)

        await pilot.press("1", "k", "enter")

        await until(
            pilot,
            lambda: on_main_screen(app) or message.has_class("-error"),
            "the ticket to close or show a refusal",
        )
        assert on_main_screen(app), str(message.render())
        await until(pilot, lambda: ledger_units(server, ticket.instrument.name) == 1000, "the fill")


async def test_the_orders_pane_keeps_updating_after_an_order_for_an_unknown_account(
    app: TmtApp, client: LocalEngineClient, server: V20ServerThread
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: board_ready(app), "a quote for every instrument")
        await until(pilot, lambda: "venue.reconciling" not in app.model.alerts, "reconciled")
        refused = await client.execute(SubmitOrder("101-typo", "EUR_USD", 1000))  # `--account`
        assert (refused.ok, refused.code) == (False, "UNKNOWN_ACCOUNT")

        placed = await client.execute(SubmitOrder(server.account_id, "EUR_USD", 1000))

        assert placed.ok, placed
        await until(
            pilot, lambda: placed.order_id in app.model.orders, "the order's row", within=3.0
        )
