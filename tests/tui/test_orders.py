"""Working orders from the orders pane: cancel with `c`, modify with `m`, and what quitting asks."""

from __future__ import annotations

from decimal import Decimal

from textual.widgets import Input

from tests.support.pilot import on_main_screen, pane, until
from tmt_tui.domain.commands import SubmitOrder
from tmt_tui.domain.orders import OrderStatus, OrderType
from tmt_tui.tui.app import TmtApp
from tmt_tui.tui.screens.dialogs import ConfirmScreen, ModifyOrderScreen
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
