"""The order ticket: what it sends, what it refuses to send, and how it shows the engine's reply."""

from __future__ import annotations

import re
from decimal import Decimal

from textual import events
from textual.widgets import Input, Select, Static

from tests.support.pilot import burst, on_main_screen, ticket_ready, until
from tmt_tui.domain.commands import QueryTrades
from tmt_tui.domain.orders import Order, OrderType
from tmt_tui.tui.app import TmtApp
from tmt_tui.tui.screens.ticket import OrderTicketScreen


async def test_buy_from_ticket_opens_position_and_updates_header(
    app: TmtApp, ready, visible
) -> None:
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(pilot)
        await pilot.press("home", "b")
        await until(pilot, lambda: ticket_ready(app), "the ticket")
        instrument = app.screen.instrument.name

        await pilot.press(*"10000", "enter")

        await until(pilot, lambda: on_main_screen(app), "the ticket to close")
        key = f"SIM-USD:{instrument}"
        await until(pilot, lambda: key in app.model.positions, "the position")
        assert app.model.positions[key].units == 10_000
        await until(
            pilot,
            lambda: re.search(rf"SIM-USD\s.*{instrument}\s+\+10,000", visible(app)),
            "the position row on screen",
        )
        await until(
            pilot,
            lambda: re.search(r"SIM-USD .*Margin (?!0\.00/)[\d,.]+/", visible(app)),
            "margin used in the SIM-USD header line",
        )


async def test_junk_in_the_ticket_shows_a_message_and_sends_nothing(app: TmtApp, ready) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("b")
        await until(pilot, lambda: ticket_ready(app), "the ticket")
        ticket = app.screen
        assert isinstance(ticket, OrderTicketScreen)
        units = ticket.query_one("#units", Input)
        message = ticket.query_one("#ticket-message", Static)

        await pilot.press(*"abc", "enter")
        assert "Units: 'abc' is not a number" in str(message.render())
        for junk in ["0", "-5", "2000000000", "1.5", "nan", ""]:
            units.value = junk
            await pilot.press("enter")
            assert "Units" in str(message.render()), junk
            assert message.has_class("-error")

        units.value = "1000"
        ticket.query_one("#type", Select).value = OrderType.LIMIT.value
        await pilot.pause()
        prefilled = ticket.query_one("#price", Input)
        quote = app.model.quotes[ticket.instrument.name].quote
        assert quote is not None and abs(Decimal(prefilled.value) - quote.ask) < Decimal("0.001")
        prefilled.value = ""
        await pilot.press("enter")
        assert "Price: required" in str(message.render())
        for bad_price in ["nan", "inf", "-1", "0", "x1"]:
            ticket.query_one("#price", Input).value = bad_price
            await pilot.press("enter")
            assert "Price" in str(message.render()), bad_price

        assert app.screen is ticket
        assert ticket.sent == []
        assert app.model.orders == {}


async def test_engine_refusal_shows_code_and_keeps_ticket_open(app: TmtApp, ready) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("b")
        await until(pilot, lambda: ticket_ready(app), "the ticket")
        app.screen.query_one("#units", Input).value = "50000000"
        await pilot.press("enter")

        ticket = app.screen
        assert isinstance(ticket, OrderTicketScreen)
        message = ticket.query_one("#ticket-message", Static)
        await until(
            pilot, lambda: re.match(r"[A-Z_]+: \S", str(message.render())), "a `CODE: message`"
        )
        assert message.has_class("-error")
        assert app.screen is ticket


async def test_escape_closes_the_ticket_without_sending(app: TmtApp, ready) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("b", *"1000", "escape")
        await until(pilot, lambda: on_main_screen(app), "the ticket to close")
        assert app.model.orders == {}


async def test_a_burst_of_keys_lands_in_the_fields_it_was_typed_for(app: TmtApp, ready) -> None:
    """`1000<Tab>1.2<Enter>` arriving in one burst sends 1,000 units with take-profit 1.2:
    Textual forwards a key to the focused field before an earlier Tab has moved the focus, so
    without tmt's guard the digits land in Units (10001.2) and the order goes out 1,000 times
    too large."""
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("home", "b")
        await until(pilot, lambda: ticket_ready(app), "the ticket")
        ticket = app.screen
        assert isinstance(ticket, OrderTicketScreen)

        for key in burst("1000", "tab", "1.2", "enter"):
            app.post_message(key)
        await until(pilot, lambda: ticket.sent, "the order to be sent")

    (sent,) = ticket.sent
    assert (sent.units, sent.take_profit, sent.stop_loss) == (1000, Decimal("1.2"), None)


async def test_keys_typed_with_the_key_that_opens_the_ticket_land_in_it(app: TmtApp, ready) -> None:
    """`b1000<Tab>1.2<Enter>` in one burst, from the main screen: the keys after `b` arrive
    before the ticket is mounted; they wait for its first field instead of being lost (or
    read by the main screen), and the order goes out as typed."""
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("home")
        for key in burst("b", "1000", "tab", "1.2", "enter"):
            app.post_message(key)

        def sent() -> list[Order]:
            return [o for o in app.model.orders.values() if o.type is OrderType.MARKET]

        await until(pilot, sent, "the order at the engine")
        (order,) = sent()

    assert (order.units, order.take_profit) == (1000, Decimal("1.2"))


async def test_editing_keys_in_a_burst_apply_in_the_order_typed(app: TmtApp, ready) -> None:
    """`1000`, then `Home Delete 5 Enter` in one burst: 5,000 units. Input's editing keys are
    bindings, which Textual runs after the characters queued behind them: without tmt's
    guard the 5 went in first (10005), then Home and Delete made it 0005."""
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("home", "b")
        await until(pilot, lambda: ticket_ready(app), "the ticket")
        ticket = app.screen
        assert isinstance(ticket, OrderTicketScreen)
        await pilot.press(*"1000")
        await until(pilot, lambda: ticket.field("units") == "1000", "the units typed")

        for key in (events.Key("home", None), events.Key("delete", None), *burst("5", "enter")):
            app.post_message(key)
        await until(pilot, lambda: ticket.sent, "the order to be sent")

    (sent,) = ticket.sent
    assert sent.units == 5000


async def test_a_burst_through_every_field_and_back_sends_what_slow_typing_sends(
    app: TmtApp, ready
) -> None:
    """Tab forward through take-profit into stop-loss and shift+tab back, typed slowly in one
    ticket and in one burst in the next: both send the same order."""
    typed = ("2500", "tab", "0.9", "tab", "1.3", "shift+tab", "0.91", "enter")
    sent = []
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        for deliver in ("slowly", "in a burst"):
            await pilot.press("home", "s")
            await until(pilot, lambda: ticket_ready(app), "the ticket")
            ticket = app.screen
            assert isinstance(ticket, OrderTicketScreen)
            if deliver == "slowly":
                for key in burst(*typed):
                    await pilot.press(key.key)
            else:
                for key in burst(*typed):
                    app.post_message(key)
            await until(pilot, lambda t=ticket: t.sent, f"the order typed {deliver}")
            await until(pilot, lambda: on_main_screen(app), "the ticket to close")
            sent.append(ticket.sent[0])
            # keys read right after a form closes were typed for it: the next ticket's key waits
            await until(pilot, lambda: not app.typing_for_closed_form(), "the closed form's keys")

    slowly, in_a_burst = sent
    assert in_a_burst == slowly
    assert (slowly.units, slowly.take_profit, slowly.stop_loss) == (
        -2500, Decimal("0.91"), Decimal("1.3"),
    )  # fmt: skip


async def test_the_ticket_previews_the_order_as_units_change_and_sends_nothing(
    app: TmtApp, ready, client
) -> None:
    """The dry run comes from the engine as the trader types: figures, then each failing
    check; a size over the limit says so before anything is sent."""
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("home", "b")
        await until(pilot, lambda: ticket_ready(app), "the ticket")
        ticket = app.screen
        preview = ticket.query_one("#ticket-preview", Static)

        def shown() -> str:
            return str(preview.render())

        await pilot.press(*"10000")
        await until(pilot, lambda: "✓ every pre-trade check passes" in shown(), "a passing preview")
        assert "notional" in shown() and "lev 0.00x→" in shown()

        ticket.query_one("#units", Input).value = "50m"
        await until(pilot, lambda: "✗ units:" in shown(), "the units check failing")
        assert preview.has_class("-fails")
        assert "exceeds the order limit" in shown()
        assert await client.execute(QueryTrades()) and not app.model.orders  # nothing was sent


async def test_an_ioc_limit_away_from_the_market_is_cancelled_not_left_working(
    app: TmtApp, ready
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("home", "b")
        await until(pilot, lambda: ticket_ready(app), "the ticket")
        ticket = app.screen
        ticket.query_one("#type", Select).value = OrderType.LIMIT.value
        await pilot.pause()
        tif = ticket.query_one("#time-in-force", Select)
        assert not tif.disabled
        tif.value = "IOC"
        quote = app.model.quotes[ticket.instrument.name].quote
        assert quote is not None
        below = quote.bid * Decimal("0.99")
        ticket.query_one("#price", Input).value = f"{below:.{ticket.instrument.display_precision}f}"
        ticket.query_one("#units", Input).value = "1000"
        await pilot.press("enter")

        await until(pilot, lambda: on_main_screen(app), "the ticket to close")
        await until(
            pilot,
            lambda: any(o.status.value == "CANCELLED" for o in app.model.orders.values()),
            "the IOC cancelled",
        )
        (order,) = app.model.orders.values()
        assert order.time_in_force is not None and order.time_in_force.value == "IOC"
