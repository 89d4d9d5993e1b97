"""The engine's regime and signal per instrument on the quote board: shown when the board is
wide, the first columns to go when it is narrow. The real app on a real engine; the engine's
market state for EUR_USD is set on its own thread and published as it publishes any read."""

from __future__ import annotations

from typing import Any

from tests.support.pilot import pane, screen_text, until
from tmt_tui.domain.market import Regime, Signal
from tmt_tui.engine.local_client import LocalEngineClient
from tmt_tui.tui.app import TmtApp
from tmt_tui.tui.widgets.quote_board import QuoteBoard


def trending_up_with_a_buy(client: LocalEngineClient) -> None:
    """As if EUR_USD's M1 bar had just closed on a fresh cross in a climbing market."""
    runner: Any = client.runner

    def on_engine_thread() -> None:
        market = runner.market.instruments["EUR_USD"]
        market.regime, market.signal, market.changed = Regime.TRENDING_UP, Signal.BUY, True

    runner.loop.call_soon_threadsafe(on_engine_thread)


def eur_usd_line(app: TmtApp) -> str:
    return next((ln for ln in screen_text(app).splitlines() if "EUR_USD" in ln), "")


async def test_the_wide_layout_s_board_shows_regime_and_signal_as_a_glyph_and_a_letter(
    app: TmtApp, client: LocalEngineClient, ready: Any
) -> None:
    """At 200 columns the board has its 50-column grid cell: the prices, the change and then
    the regime (↗) and the signal (B) in four cells."""
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(pilot)
        trending_up_with_a_buy(client)
        row = app.model.quotes["EUR_USD"]
        await until(pilot, lambda: row.market and row.market.signal is Signal.BUY, "the read")

        await until(pilot, lambda: "↗ B" in eur_usd_line(app), "the regime on screen")
        assert "Chg" in screen_text(app) and "Mkt" in screen_text(app)


async def test_a_board_with_room_shows_regime_and_signal_in_words(
    app: TmtApp, client: LocalEngineClient, ready: Any
) -> None:
    """At 80 columns the layout is compact and the board takes the whole width (78 cells):
    room for the words."""
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        trending_up_with_a_buy(client)
        row = app.model.quotes["EUR_USD"]
        await until(pilot, lambda: row.market and row.market.signal is Signal.BUY, "the read")

        await until(pilot, lambda: "trend up" in eur_usd_line(app), "the regime on screen")
        assert "buy" in eur_usd_line(app)
        assert "Regime" in screen_text(app) and "Signal" in screen_text(app)


async def test_a_narrow_board_drops_regime_and_signal_before_the_change(
    app: TmtApp, client: LocalEngineClient, ready: Any
) -> None:
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(pilot)
        trending_up_with_a_buy(client)
        row = app.model.quotes["EUR_USD"]
        await until(pilot, lambda: row.market and row.market.signal is Signal.BUY, "the read")
        board = pane(app, "quotes", QuoteBoard)
        await until(pilot, lambda: "↗ B" in eur_usd_line(app), "the regime on screen")

        board.styles.width = 46 + 2  # room for the change (44 cells), not the regime (48)
        await until(pilot, lambda: board.size.width == 46, "the narrower board")
        await until(pilot, lambda: "↗" not in eur_usd_line(app), "the regime gone")

        text = screen_text(app)
        assert "Chg" in text and "Mkt" not in text and "Regime" not in text
