"""The quote board: live quotes from the engine, a cursor that picks the traded instrument."""

from __future__ import annotations

import time

from tests.support.pilot import pane, until
from tmt_tui.tui.app import TmtApp
from tmt_tui.tui.screens.ticket import OrderTicketScreen
from tmt_tui.tui.widgets.quote_board import QuoteBoard


async def test_quotes_appear_and_tick(app: TmtApp, ready, visible) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        first = {name: row.quote for name, row in app.model.quotes.items()}

        await until(
            pilot,
            lambda: any(row.quote != first[name] for name, row in app.model.quotes.items()),
            "a newer quote for some instrument",
        )

        row = app.model.quotes["EUR_USD"]
        assert row.quote is not None
        await until(
            pilot,
            lambda: f"{row.quote.bid:.5f}" in visible(app),
            "the EUR_USD bid on screen",
        )


async def test_a_tick_re_renders_only_its_row(app: TmtApp, ready) -> None:
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(pilot)
        board = pane(app, "quotes", QuoteBoard)
        await pilot.pause()
        cached_before = set(board._strips)
        rendered_before = board.rows_rendered

        board.rows_changed(["GBP_USD"], time.monotonic())
        board.render_line(board._index["GBP_USD"] + 1)

        assert board.rows_rendered == rendered_before + 1
        assert set(board._strips) >= cached_before - {board._index["GBP_USD"]}


async def test_cursor_keys_choose_what_b_and_s_trade(app: TmtApp, ready) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        board = pane(app, "quotes", QuoteBoard)
        names = list(app.model.quotes)

        await pilot.press("j", "down")
        assert board.selected == names[2]
        await pilot.press("k")
        assert board.selected == names[1]
        await pilot.press("end")
        assert board.selected == names[-1]
        await pilot.press("home")
        assert board.selected == names[0]
        await pilot.press("pagedown")
        assert board.selected != names[0]
        await pilot.press("pageup")
        assert board.selected == names[0]

        await pilot.press("down", "s")
        await pilot.pause()
        ticket = app.screen
        assert isinstance(ticket, OrderTicketScreen)
        assert ticket.instrument.name == names[1]
        assert ticket.side == -1
