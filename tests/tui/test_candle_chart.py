"""The candle chart (pane 8): the real app on a real engine on the sim market, with a fresh
journal, so every candle on it at first start came from the start's backfill (the sim's own
past), and the last one is live. Bar sizes switch with `]` and `[`."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.support.pilot import pane, screen_text, until
from tmt_tui.config import Settings
from tmt_tui.domain.market import LiveBar
from tmt_tui.tui.app import TmtApp
from tmt_tui.tui.widgets.candles import DOWN_BODY, UP_BODY, CandleChart
from tmt_tui.tui.widgets.quote_board import QuoteBoard


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The UI tests' settings with the start's history backfill on, as a trader has it."""
    return dataclasses.replace(
        settings, engine=dataclasses.replace(settings.engine, backfill_bars=200)
    )


def candles_on_screen(app: TmtApp) -> int:
    return sum(screen_text(app).count(glyph) for glyph in (UP_BODY, DOWN_BODY))


async def a_chart_with_candles(pilot: Pilot[Any], ready: Any) -> CandleChart:
    app = pilot.app
    assert isinstance(app, TmtApp)
    await ready(pilot)
    await pilot.press("8")
    chart = pane(app, "chart", CandleChart)
    await until(pilot, lambda: chart.candles is not None and len(chart.candles) > 20, "candles")
    return chart


async def test_on_first_start_the_chart_shows_candles_of_the_selected_instrument(
    app: TmtApp, ready: Any
) -> None:
    """At 80x24 the chart is a tab (8) under the board: a fresh journal, and yet dozens of
    candles, the backfilled past of the instrument the board's cursor is on."""
    async with app.run_test(size=(80, 24)) as pilot:
        chart = await a_chart_with_candles(pilot, ready)
        selected = pane(app, "quotes", QuoteBoard).selected
        await until(pilot, lambda: candles_on_screen(app) > 20, "candles drawn")

        assert chart.candles is not None and chart.candles.instrument == selected
        assert chart.candles.size == "M1"
        assert f"{selected} M1" in screen_text(app)


async def test_brackets_switch_the_bar_size(app: TmtApp, ready: Any) -> None:
    """`]` asks for the next size up and `[` comes back: the caption and the candles follow."""
    async with app.run_test(size=(200, 60)) as pilot:
        chart = await a_chart_with_candles(pilot, ready)

        await pilot.press("right_square_bracket")
        await until(pilot, lambda: chart.candles and chart.candles.size == "M5", "M5 candles")
        m5_starts = chart.candles.starts if chart.candles else ()
        await pilot.press("left_square_bracket", "left_square_bracket")
        await until(pilot, lambda: chart.candles and chart.candles.size == "S5", "S5 candles")

        assert all(b - a == 300 for a, b in zip(m5_starts, m5_starts[1:], strict=False))
        assert f"{chart.candles.instrument} S5" in screen_text(app)  # the chart's first line
        assert candles_on_screen(app) > 20


async def test_a_live_tick_redraws_the_live_candle_and_not_the_closed_ones(
    app: TmtApp, ready: Any
) -> None:
    """A new live bar within the scale changes the last column only: the closed candles'
    cached rows are not laid out again."""
    async with app.run_test(size=(120, 40)) as pilot:
        chart = await a_chart_with_candles(pilot, ready)
        chart.schedule.interval = 3600.0  # the engine's answers stay out of the way
        await until(pilot, lambda: not chart.schedule.in_flight, "the last answer")
        candles = chart.candles
        assert candles is not None
        low, high = min(candles.lows[-10:]), max(candles.highs[-10:])  # on screen
        mid = (low + high) / 2
        laid_out = chart.layouts

        chart.show_live(LiveBar(candles.starts[-1] + 60, mid, mid, mid, mid, 1))
        await pilot.pause()
        first = screen_text(app)
        chart.show_live(LiveBar(candles.starts[-1] + 60, mid, high, low, high, 9))
        await pilot.pause()
        second = screen_text(app)

        assert chart.layouts == laid_out
        assert chart.candles is not None and chart.candles.live is not None
        assert chart.candles.live.ticks == 9
        assert first != second  # the live column grew from a dash to a full candle
