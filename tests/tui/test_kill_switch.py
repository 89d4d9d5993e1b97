"""Kill switch, reset and reduce-only: one key halts from anywhere; getting out stays possible."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from tests.support.pilot import (
    log_lines,
    main_screen,
    on_main_screen,
    select_position,
    until,
)
from tmt_tui.domain.commands import SubmitOrder
from tmt_tui.domain.positions import TradingState
from tmt_tui.tui.app import TmtApp
from tmt_tui.tui.screens.dialogs import ConfirmScreen
from tmt_tui.tui.screens.ticket import OrderTicketScreen
from tmt_tui.tui.widgets.header import TradingBanner


def banner_shows(app: TmtApp, word: str) -> bool:
    """The banner on the screen in front is displayed and says `word`."""
    banner = app.screen.query_one(TradingBanner)
    return banner.display and banner.region.height > 0 and word in str(banner.render())


@pytest.mark.parametrize("key", ["ctrl+k", "f12"])
async def test_kill_key_halts_even_while_typing_in_the_ticket(
    key: str, app: TmtApp, ready, visible
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("b", "1")
        ticket = app.screen
        assert isinstance(ticket, OrderTicketScreen)
        units = ticket.query_one("#units", Input)
        assert units.has_focus

        await pilot.press(key)

        await until(pilot, lambda: banner_shows(app, "HALTED"), "the HALTED banner")
        assert "HALTED" in visible(app)
        assert "kill switch (UI)" in str(ticket.query_one(TradingBanner).render())
        assert app.has_class("-halted") and ticket.has_class("-halted")
        assert all(a.trading_state is TradingState.HALTED for a in app.model.accounts.values())
        assert app.screen is ticket and units.value == "1"


async def test_close_position_works_while_halted(app: TmtApp, client, ready) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        reply = await client.execute(SubmitOrder("SIM-EUR", "EUR_USD", -20_000))
        assert reply.ok, reply
        await until(pilot, lambda: "SIM-EUR:EUR_USD" in app.model.positions, "the position")
        await pilot.press("ctrl+k")
        await until(pilot, lambda: app.model.halted, "HALTED")

        await select_position(pilot, "SIM-EUR:EUR_USD")
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "close, sure?")
        await pilot.press("y")

        await until(pilot, lambda: "SIM-EUR:EUR_USD" not in app.model.positions, "flat")
        await until(
            pilot,
            lambda: any("close SIM-EUR EUR_USD: filled" in t for t in log_lines(app)),
            "the close reply in the log",
        )
        assert app.model.halted


async def test_reset_after_confirmation_re_arms_trading(app: TmtApp, ready) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+k")
        await until(pilot, lambda: banner_shows(app, "HALTED"), "the HALTED banner")

        await pilot.press("ctrl+r")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "a confirmation")
        assert banner_shows(app, "HALTED")  # the dialog shows the banner too
        await pilot.press("y")

        await until(pilot, lambda: not app.model.halted, "trading re-armed")
        await until(pilot, lambda: not main_screen(app).query_one(TradingBanner).display, "")
        assert not app.has_class("-halted")


async def test_declining_the_reset_keeps_the_halt(app: TmtApp, ready) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+k")
        await until(pilot, lambda: app.model.halted, "HALTED")

        await pilot.press("ctrl+r")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "a confirmation")
        await pilot.press("escape")

        await until(pilot, lambda: on_main_screen(app), "the dialog closed")
        assert app.model.halted
        assert banner_shows(app, "HALTED")


async def test_reset_refused_when_not_halted_shows_the_reason(app: TmtApp, ready) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+r", "y")

        await until(
            pilot,
            lambda: any(
                t.startswith("> reset kill switch: ") and "OK" not in t for t in log_lines(app)
            ),
            "the refusal with its code in the log",
        )


async def test_reduce_only_toggles_the_reducing_banner(app: TmtApp, ready) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+d")
        await until(pilot, lambda: banner_shows(app, "REDUCING"), "the REDUCING banner")
        assert app.has_class("-reducing") and not app.has_class("-halted")

        await pilot.press("ctrl+d")
        await until(pilot, lambda: not app.model.reducing, "ACTIVE again")
        await until(pilot, lambda: not app.has_class("-reducing"), "no banner")
