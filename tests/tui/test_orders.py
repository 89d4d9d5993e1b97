"""Working orders from the orders pane: cancel with `c`, modify with `m`, what quitting and
closing ask, and which row the cursor is on after a ticket."""

from __future__ import annotations

import dataclasses
import time
from decimal import Decimal

import pytest
from textual.widgets import Input, Select

from tests.support.pilot import (
    board_ready,
    burst,
    on_main_screen,
    pane,
    screen_text,
    select_position,
    ticket_ready,
    until,
)
from tmt_tui.config import Settings
from tmt_tui.domain.commands import SubmitOrder
from tmt_tui.domain.orders import OrderStatus, OrderType
from tmt_tui.tui import app as tmt_app
from tmt_tui.tui.app import TmtApp, create_app
from tmt_tui.tui.screens.dialogs import ConfirmScreen, ModifyOrderScreen
from tmt_tui.tui.screens.ticket import OrderTicketScreen
from tmt_tui.tui.widgets.tables import OrdersTable


def orders(app: TmtApp) -> OrdersTable:
    return pane(app, "orders", OrdersTable)


async def place_resting_limit(app: TmtApp, client) -> tuple[str, Decimal]:
    """A buy limit 1% under the market (inside the price collar), so it rests; returns id, price."""
    row = app.model.quotes["EUR_USD"]
    assert row.quote is not None
    limit = (row.quote.bid * Decimal("0.99")).quantize(Decimal("0.00001"))
    reply = await client.execute(
        SubmitOrder("SIM-USD", "EUR_USD", 5_000, type=OrderType.LIMIT, price=limit)
    )
    assert reply.ok, reply
    assert reply.order_id is not None
    return reply.order_id, limit


async def test_c_cancels_the_selected_working_order(app: TmtApp, client, ready) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        order_id, _ = await place_resting_limit(app, client)
        await until(pilot, lambda: orders(app).selected_key == order_id, "the row")

        await pilot.press("3", "c")

        await until(
            pilot,
            lambda: app.model.orders[order_id].status is OrderStatus.CANCELLED,
            "the order cancelled",
        )
        assert orders(app).has_focus


async def test_m_modifies_the_selected_working_order(app: TmtApp, client, ready) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        order_id, limit = await place_resting_limit(app, client)
        await until(pilot, lambda: orders(app).selected_key == order_id, "the row")

        await pilot.press("3", "m")
        await until(pilot, lambda: isinstance(app.screen, ModifyOrderScreen), "the dialog")
        new_price = limit - Decimal("0.00010")
        app.screen.query_one("#price", Input).value = str(new_price)
        await pilot.press("ctrl+s")

        await until(pilot, lambda: on_main_screen(app), "the dialog closed")
        await until(pilot, lambda: app.model.orders[order_id].price == new_price, "the new price")
        assert app.model.orders[order_id].status.is_open


async def test_quit_with_working_orders_asks_first(app: TmtApp, client, ready) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        order_id, _ = await place_resting_limit(app, client)
        await until(pilot, lambda: order_id in app.model.orders, "the order")

        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "a question")
        await pilot.press("n")
        await until(pilot, lambda: on_main_screen(app), "the question gone")
        assert app.is_running

        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "a question")
        await pilot.press("y")
        await until(pilot, lambda: not app.is_running, "the app to exit")


async def test_quit_without_working_orders_exits_at_once(app: TmtApp, ready) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running, "the app to exit")


async def test_an_order_sent_from_the_ticket_is_the_one_selected_so_m_modifies_it(
    app: TmtApp, client, ready
) -> None:
    """A new order lands at the top of the pane; the cursor follows it (by id), not the row
    it was on, so `m` right after the ticket acts on the order just sent."""
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        older, _ = await place_resting_limit(app, client)
        await until(pilot, lambda: orders(app).selected_key == older, "the older order")
        await pilot.press("home", "b")
        await until(pilot, lambda: ticket_ready(app), "the ticket")
        ticket = app.screen
        assert isinstance(ticket, OrderTicketScreen)
        row = app.model.quotes[ticket.instrument.name]
        assert row.quote is not None
        limit = (row.quote.bid * Decimal("0.99")).quantize(Decimal("0.00001"))
        ticket.query_one("#type", Select).value = OrderType.LIMIT.value
        await pilot.pause()
        ticket.query_one("#units", Input).value = "2000"
        ticket.query_one("#price", Input).value = str(limit)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: on_main_screen(app), "the ticket to close")
        newest = next(o.id for o in app.model.orders.values() if o.units == 2000)

        await until(pilot, lambda: orders(app).selected_key == newest, "the cursor on the new one")
        await until(pilot, lambda: not app.typing_for_closed_form(), "the ticket's keys")
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, ModifyOrderScreen), "modify")
        assert app.screen.order.id == newest  # type: ignore[attr-defined]


async def test_x_asks_before_it_closes_a_position_and_no_keeps_it(
    app: TmtApp, client, ready, visible
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        reply = await client.execute(SubmitOrder("SIM-USD", "EUR_USD", 3_000))
        assert reply.ok
        await select_position(pilot, "SIM-USD:EUR_USD")

        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "close, sure?")
        assert "Close SIM-USD's long 3,000 EUR_USD at the market?" in visible(app)
        await pilot.press("n")
        await until(pilot, lambda: on_main_screen(app), "asked and declined")

        assert app.model.positions["SIM-USD:EUR_USD"].units == 3_000


async def test_with_confirm_close_off_x_closes_at_once(settings, client, ready) -> None:
    ui = dataclasses.replace(settings.ui, confirm_close=False)
    app = create_app(dataclasses.replace(settings, ui=ui), client)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        assert (await client.execute(SubmitOrder("SIM-USD", "EUR_USD", 3_000))).ok
        await select_position(pilot, "SIM-USD:EUR_USD")

        await pilot.press("x")

        await until(pilot, lambda: "SIM-USD:EUR_USD" not in app.model.positions, "flat")


async def test_keys_typed_for_the_ticket_never_act_on_the_main_screen(app: TmtApp, ready) -> None:
    """`1000<Enter>xs` in one burst sends 1,000 units (what Enter submitted, whatever lands in
    the field after it); and keys read after the ticket closed but typed before it did (a
    laggy link) neither close a position nor open a ticket."""
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("home", "b")
        await until(pilot, lambda: ticket_ready(app), "the ticket")

        for key in burst("1000", "enter", "xs"):
            app.post_message(key)
        await until(pilot, lambda: on_main_screen(app), "the ticket sent and closed")
        late = burst("xs")
        for key in late:
            key.time = time.monotonic() - 0.05  # typed while the ticket was still up
            app.post_message(key)
        await until(pilot, lambda: not app.typing_for_closed_form(), "the ticket's keys")
        await pilot.pause()

        assert on_main_screen(app)
        assert [o.units for o in app.model.orders.values()] == [1000]


# the bell -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bell", "environ", "rings"),
    [
        ("auto", {}, True),
        ("auto", {"SSH_CONNECTION": "10.0.0.2 51234 10.0.0.1 22"}, False),
        ("auto", {"SSH_TTY": "/dev/pts/3"}, False),
        ("on", {"SSH_TTY": "/dev/pts/3"}, True),
        ("off", {}, False),
    ],
)
def test_the_bell_is_on_unless_over_ssh_or_turned_off(
    bell: str, environ: dict[str, str], rings: bool
) -> None:
    assert tmt_app.rings(bell, environ) is rings


async def test_a_fill_and_a_reject_ring_the_bell(settings: Settings, client) -> None:
    settings = dataclasses.replace(settings, ui=dataclasses.replace(settings.ui, bell="on"))
    app = create_app(settings, client)
    rang: list[float] = []
    app.bell = lambda: rang.append(time.monotonic())  # type: ignore[method-assign]
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: board_ready(app), "quotes")
        assert (await client.execute(SubmitOrder("SIM-USD", "EUR_USD", 1000))).ok
        await until(pilot, lambda: len(rang) == 1, "the bell for the fill")
        refused = await client.execute(SubmitOrder("SIM-USD", "EUR_USD", 10**9))
        assert not refused.ok
        await until(pilot, lambda: len(rang) == 2, "the bell for the reject")


async def test_the_header_and_the_account_line_count_working_orders_alike(
    app: TmtApp, ready, client
) -> None:
    """A take-profit or stop-loss rides on a trade: neither count includes it, so the header's
    "working" is the sum of the accounts' "working"."""
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(pilot)
        mid = app.model.quotes["EUR_USD"].quote.mid  # type: ignore[union-attr]
        tp, below = (mid * Decimal("1.05")).quantize(Decimal("0.00001")), mid * Decimal("0.98")
        bought = await client.execute(SubmitOrder("SIM-USD", "EUR_USD", 1000, take_profit=tp))
        limit = SubmitOrder(
            "SIM-USD", "EUR_USD", 1000, OrderType.LIMIT, below.quantize(Decimal("0.00001"))
        )
        assert bought.ok and (await client.execute(limit)).ok

        def header() -> list[str]:
            return screen_text(app).splitlines()[:3]

        await until(pilot, lambda: "working 1" in header()[0], "the header's count")
        assert "working 1" in next(line for line in header() if "SIM-USD" in line)
