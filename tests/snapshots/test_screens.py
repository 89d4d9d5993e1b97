"""What the workstation looks like, picture by picture, on a desk whose figures never change.

Each test's docstring says what a correct picture shows; a failing one has a report
(`--snapshot-report`) with the old and new pictures side by side.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from textual.css.query import NoMatches
from textual.pilot import Pilot
from textual.widgets import Input, Static

from tests.support.harness import STANDARD_QUOTES, Clock, Harness, default_settings
from tests.support.pilot import board_ready, main_screen, ticket_ready, until
from tests.support.scripted import HarnessClient
from tmt_tui.config import Settings
from tmt_tui.domain.commands import ClosePosition, EngageKillSwitch
from tmt_tui.domain.orders import OrderType
from tmt_tui.tui.app import TmtApp, create_app
from tmt_tui.tui.widgets.candles import CandleChart
from tmt_tui.tui.widgets.event_log import EventLog
from tmt_tui.tui.widgets.history import TradeBlotter
from tmt_tui.venues.sim.universe import instruments as sim_instruments

SnapCompare = Callable[..., bool]
THEMES = ("tmt-dark", "tmt-light", "tmt-high-contrast", "tmt-amber")


class Monotonic:
    """The UI's stopwatch, moved by hand: how long the engine was silent is in a picture."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def desk(settings: Settings | None = None) -> Harness:
    """Two accounts on the eight standard pairs: a long EUR_USD with a take-profit and a
    stop-loss, a short USD_JPY, a GBP_USD buy limit working below the market, and an AUD_USD
    trade closed at a profit ten minutes in."""
    names = set(STANDARD_QUOTES)
    harness = Harness(
        settings or default_settings(),
        [i for i in sim_instruments() if i.name in names],
        Clock(),
    )
    harness.standard_quotes()
    harness.submit("EUR_USD", 10_000, take_profit=Decimal("1.10500"), stop_loss=Decimal("1.09500"))
    harness.submit("USD_JPY", -25_000, account="SIM-EUR")
    harness.limit("GBP_USD", 5_000, "1.26500")
    harness.submit("AUD_USD", 20_000)
    harness.clock.advance(600)
    harness.quote("AUD_USD", "0.65600", "0.65610")
    harness.do(ClosePosition("SIM-USD", "AUD_USD"))
    harness.clock.advance(90)
    harness.quote("EUR_USD", "1.10040", "1.10050")
    harness.quote("USD_JPY", "149.900", "149.910")
    return harness


def app_on(
    harness: Harness,
    *,
    stops: bool = False,
    theme: str = "tmt-dark",
    monotonic: Monotonic | None = None,
) -> TmtApp:
    settings = harness.settings
    settings = dataclasses.replace(settings, ui=dataclasses.replace(settings.ui, theme=theme))
    client = HarnessClient(harness, stops_after_snapshot=stops)
    return create_app(settings, client, clock=harness.clock, monotonic=monotonic or Monotonic())


def shows_the_board(app: TmtApp) -> bool:
    """A quote on every row of the board (the board may not be composed yet)."""
    try:
        return board_ready(app)
    except NoMatches:
        return False


def settled(app: TmtApp) -> bool:
    """Every pane on screen that asks the engine has its answer (the chart its candles, the
    blotter its trade) and the log shows its newest line: a picture never catches one
    half-drawn."""
    screen = main_screen(app)
    for chart in screen.query(CandleChart):
        if chart.region.area and chart.candles is None:
            return False
    for log in screen.query(EventLog):
        if log.region.area and not log.is_vertical_scroll_end:
            return False  # the newest line drawn, not one scroll behind it
    return all(not b.region.area or b.row_count for b in screen.query(TradeBlotter))


async def board_shown(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, TmtApp)
    await until(pilot, lambda: shows_the_board(app), "a quote on every row of the board")
    await until(pilot, lambda: len(app.model.orders) > 0, "the working order on screen")
    await until(pilot, lambda: settled(app), "the panes that ask the engine answered")


def test_main_screen_at_80x24(snap_compare: SnapCompare) -> None:
    """80x24 over SSH: the header with both accounts' figures, the quote board with a price on
    each of the eight pairs, the EUR_USD long and USD_JPY short in positions, the GBP_USD limit
    and the EUR_USD take-profit and stop-loss among working orders; nothing cut mid-number."""
    assert snap_compare(app_on(desk()), terminal_size=(80, 24), run_before=board_shown)


def test_main_screen_at_160x50(snap_compare: SnapCompare) -> None:
    """A large terminal: every pane at once with its full columns (regime, signal, reasons)."""
    assert snap_compare(app_on(desk()), terminal_size=(160, 50), run_before=board_shown)


def test_ticket_with_a_failing_check(snap_compare: SnapCompare) -> None:
    """The buy ticket on EUR_USD for 50m units: the preview in its failing style says
    `✗ units:` and that the size exceeds the order limit, before anything is sent."""

    async def ticket_over_the_limit(pilot: Pilot[Any]) -> None:
        await board_shown(pilot)
        app = pilot.app
        await pilot.press("home", "b")
        await until(pilot, lambda: ticket_ready(app), "the ticket")
        for field in app.screen.query(Input):
            field.cursor_blink = False  # a blinking cursor is there in one picture of two
        app.screen.query_one("#units", Input).value = "50m"
        preview = app.screen.query_one("#ticket-preview", Static)
        await until(pilot, lambda: "✗ units:" in str(preview.render()), "the failing check")

    assert snap_compare(app_on(desk()), terminal_size=(100, 32), run_before=ticket_over_the_limit)


def test_halted(snap_compare: SnapCompare) -> None:
    """The kill switch engaged: HALTED in the header and on the banner with its reason, in the
    halted colours; positions still shown (the kill switch here does not flatten)."""
    harness = desk()
    harness.do(EngageKillSwitch("snapshot drill"))

    async def halted(pilot: Pilot[Any]) -> None:
        await board_shown(pilot)
        app = pilot.app
        assert isinstance(app, TmtApp)
        await until(pilot, lambda: app.trading.halted, "the halted state")

    assert snap_compare(app_on(harness), terminal_size=(100, 32), run_before=halted)


def test_stale_after_the_engine_stopped(snap_compare: SnapCompare) -> None:
    """The engine went away 42 s ago: the header says so once with the age of the last figures,
    the figures are dimmed, and the log has one line about it, not one per retry."""
    monotonic = Monotonic()

    async def engine_gone(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, TmtApp)
        await until(pilot, lambda: shows_the_board(app), "the last picture")
        await until(pilot, lambda: bool(app.model.engine_lost), "the engine lost")
        monotonic.now += 42
        await pilot.pause(1.2)  # one stream-watch tick: the header reads the age again

    app = app_on(desk(), stops=True, monotonic=monotonic)
    assert snap_compare(app, terminal_size=(100, 32), run_before=engine_gone)


@pytest.mark.parametrize("theme", THEMES)
def test_each_theme(snap_compare: SnapCompare, theme: str) -> None:
    """The same desk in each packaged theme: bid, ask, profit and loss in the theme's own
    colours, and a sign or arrow beside every coloured figure (colour is never the only signal)."""
    app = app_on(desk(), theme=theme)
    assert snap_compare(app, terminal_size=(100, 32), run_before=board_shown)


def test_the_desk_in_the_pictures() -> None:
    """The desk itself: what the pictures above are of (so a change to it is seen as one)."""
    harness = desk()
    working = harness.open_orders()
    assert {o.type for o in working} >= {OrderType.LIMIT}
    assert harness.units("EUR_USD") == 10_000
    assert harness.units("USD_JPY", "SIM-EUR") == -25_000
    assert harness.units("AUD_USD") == 0 and harness.core.state.closed_trades
