"""The ticket's risk-based sizing and good-till-date expiry: units worked out from what the
trader is willing to lose, and an order that leaves with the expiry the ticket echoed."""

from __future__ import annotations

import re
import time
from decimal import ROUND_DOWN, Decimal

from textual.widgets import Input, Select, Static

from tests.support.pilot import on_main_screen, screen_text, ticket_ready, until
from tmt_tui.domain.orders import OrderType, TimeInForce
from tmt_tui.tui.app import TmtApp
from tmt_tui.tui.screens.ticket import OrderTicketScreen


async def open_ticket(pilot, app: TmtApp, key: str = "b") -> OrderTicketScreen:
    await pilot.press("home", key)
    await until(pilot, lambda: ticket_ready(app), "the ticket")
    ticket = app.screen
    assert isinstance(ticket, OrderTicketScreen)
    return ticket


def note(ticket: OrderTicketScreen, which: str) -> str:
    return str(ticket.query_one(f"#ticket-{which}", Static).render())


async def test_a_share_of_equity_over_a_pip_stop_fills_the_units_and_says_why(
    app: TmtApp, ready
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        ticket = await open_ticket(pilot, app)
        assert ticket.instrument.name == "EUR_USD"  # quoted in USD, the first account's currency
        equity = app.model.accounts["SIM-USD"].equity

        ticket.query_one("#risk", Input).value = "0.5% 20p"
        await pilot.pause()

        expected = (equity * Decimal("0.005") / Decimal("0.0020")).to_integral_value(ROUND_DOWN)
        units = ticket.query_one("#units", Input)
        await until(pilot, lambda: units.value == str(expected), "units from the risk")
        assert note(ticket, "sizing") == (
            f"risk 0.5% of {equity:,.2f} = {equity / 200:,.2f} USD / 20.0 pips → {expected:,} units"
        )
        await pilot.press("enter")
        await until(pilot, lambda: ticket.sent, "the order")
        assert ticket.sent[0].units == expected


async def test_an_amount_at_risk_measures_the_stop_from_the_stop_loss_price(
    app: TmtApp, ready
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        ticket = await open_ticket(pilot, app)
        ticket.query_one("#type", Select).value = OrderType.LIMIT.value
        await pilot.pause()
        entry = Decimal(ticket.query_one("#price", Input).value)  # pre-filled from the ask
        stop = entry - Decimal("0.00300")

        ticket.query_one("#stop-loss", Input).value = str(stop)
        ticket.query_one("#risk", Input).value = "300"
        await pilot.pause()

        await until(pilot, lambda: "30.0 pips" in note(ticket, "sizing"), "the sizing line")
        assert ticket.query_one("#units", Input).value == "100000"
        assert note(ticket, "sizing") == "risk 300.00 USD / 30.0 pips → 100,000 units"


async def test_a_risk_with_no_stop_says_what_is_missing_and_leaves_units_alone(
    app: TmtApp, ready
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        ticket = await open_ticket(pilot, app)
        await pilot.press(*"1000")

        ticket.query_one("#risk", Input).value = "1%"
        await pilot.pause()

        assert "Risk: give a stop" in note(ticket, "sizing")
        assert ticket.query_one("#ticket-sizing", Static).has_class("-error")
        assert ticket.query_one("#units", Input).value == "1000"


async def test_a_gtd_limit_leaves_with_the_expiry_the_ticket_echoed(app: TmtApp, ready) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        ticket = await open_ticket(pilot, app)
        ticket.query_one("#type", Select).value = OrderType.LIMIT.value
        await pilot.pause()
        quote = app.model.quotes[ticket.instrument.name].quote
        assert quote is not None
        below = quote.bid * Decimal("0.99")
        ticket.query_one("#price", Input).value = f"{below:.{ticket.instrument.display_precision}f}"
        ticket.query_one("#time-in-force", Select).value = TimeInForce.GTD.value
        await pilot.pause()
        expiry = ticket.query_one("#expiry", Input)
        assert not expiry.disabled

        typed_at = time.time()
        expiry.value = "+2h"
        await pilot.pause()
        assert re.fullmatch(
            r"expires \d{4}-\d\d-\d\d \d\d:\d\d UTC( \(.+ local\))? · in (1h59|2h00)",
            note(ticket, "expiry"),
        ), note(ticket, "expiry")
        ticket.query_one("#units", Input).value = "1000"
        ticket.query_one("#units", Input).focus()
        await pilot.press("enter")

        await until(pilot, lambda: on_main_screen(app), "the ticket to close")
        (sent,) = ticket.sent
        assert sent.time_in_force is TimeInForce.GTD and sent.gtd_time is not None
        assert typed_at + 7200 - 1 <= sent.gtd_time <= time.time() + 7200 + 1
        await until(pilot, lambda: any(o.gtd_time for o in app.model.orders.values()), "it")
        (order,) = app.model.orders.values()
        assert (order.time_in_force, order.gtd_time) == (TimeInForce.GTD, sent.gtd_time)


async def test_a_past_or_unreadable_expiry_is_refused_before_anything_is_sent(
    app: TmtApp, ready
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        ticket = await open_ticket(pilot, app)
        ticket.query_one("#type", Select).value = OrderType.LIMIT.value
        await pilot.pause()
        ticket.query_one("#time-in-force", Select).value = TimeInForce.GTD.value
        ticket.query_one("#units", Input).value = "1000"
        message = ticket.query_one("#ticket-message", Static)

        for typed, why in (
            ("2020-01-01 00:00", "Expiry: '2020-01-01 00:00' is in the past"),
            ("tomorrow", "Expiry: 'tomorrow' is not a time"),
            ("", "Expiry: GTD needs an expiry"),
        ):
            ticket.query_one("#expiry", Input).value = typed
            await pilot.pause()
            assert note(ticket, "expiry").startswith(why)
            ticket.query_one("#units", Input).focus()
            await pilot.press("enter")
            await until(pilot, lambda w=why: str(message.render()).startswith(w), why)

        assert ticket.sent == [] and app.model.orders == {}


async def test_the_whole_ticket_fits_80x24_with_risk_and_expiry(app: TmtApp, ready) -> None:
    """Every field, the preview and the buttons are on screen at 80x24."""
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await open_ticket(pilot, app)
        await pilot.press(*"1000")
        await until(pilot, lambda: "pre-trade check" in screen_text(app), "the preview")

        shown = screen_text(app)
        for label in ("Units", "Time in force", "Stop loss", "Risk", "BUY", "Cancel"):
            assert label in shown, label
