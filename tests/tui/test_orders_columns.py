"""The orders table at 80, 120 and 200 columns: columns give way in a fixed order when narrow
(account, take-profit, reason, stop-loss, type), and what is shown is never cut: every id,
size and price whole."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from tests.support.pilot import pane, screen_text, until
from tmt_tui.domain.commands import SubmitOrder
from tmt_tui.domain.orders import OrderType
from tmt_tui.tui.app import TmtApp
from tmt_tui.tui.widgets.tables import OrdersTable


async def place_orders(app: TmtApp, client) -> list[str]:
    """A working limit with take-profit and stop-loss, and a size the engine refuses."""
    quote = app.model.quotes["EUR_USD"].quote
    assert quote is not None
    below = (quote.bid * Decimal("0.99")).quantize(Decimal("0.00001"))
    working = await client.execute(
        SubmitOrder(
            "SIM-USD",
            "EUR_USD",
            1_000_000,
            OrderType.LIMIT,
            below,
            take_profit=below + Decimal("0.01"),
            stop_loss=below - Decimal("0.01"),
        )  # fmt: skip
    )
    refused = await client.execute(SubmitOrder("SIM-USD", "EUR_USD", 900_000_000))
    assert working.ok and not refused.ok
    return [str(working.order_id), str(refused.order_id)]


def header(app: TmtApp) -> list[str]:
    table = pane(app, "orders", OrdersTable)
    return [str(column.label) for column in table.ordered_columns]


@pytest.mark.parametrize(
    ("size", "gone"),
    [
        ((80, 24), {"Account", "TP", "Reason"}),
        ((120, 40), {"Account", "TP", "Reason"}),
        ((200, 60), set()),
    ],
)
async def test_narrow_orders_hide_whole_columns_and_never_cut_an_id_or_a_number(
    app: TmtApp, ready, client, size: tuple[int, int], gone: set[str]
) -> None:
    """Whatever shows fits the pane without scrolling sideways, each column as wide as its
    content; at 80 and 120 columns the account, take-profit and reason give way."""
    async with app.run_test(size=size) as pilot:
        await ready(pilot)
        ids = await place_orders(app, client)
        await pilot.press("3")
        table = pane(app, "orders", OrdersTable)
        await until(pilot, lambda: len(table.rows) == 2, "both orders in the table")
        await until(pilot, lambda: set(header(app)).isdisjoint(gone), f"{gone} hidden")
        await pilot.pause()

        everything = {"Id", "Account", "Pair", "Side", "Units", "Type", "Price", "Status"}
        assert set(header(app)) == (everything | {"TP", "SL", "Reason"}) - gone
        assert table.virtual_size.width <= table.scrollable_content_region.width
        if size != (120, 40):  # there the wide grid leaves the orders pane no room for rows
            shown = screen_text(app)
            for order_id in ids:
                assert re.search(rf"(?<![\w.]){re.escape(order_id)}(?![\w.])", shown), order_id
            assert "1,000,000" in shown and "900,000,000" in shown
            assert "REJECTED" in shown and "WORKING" in shown
        if size == (200, 60):
            assert "UNITS_ABOVE_MAXIMUM" in screen_text(app)


async def test_the_reason_takes_the_width_left_and_is_cut_only_at_its_end(
    app: TmtApp, ready, client
) -> None:
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(pilot)
        await place_orders(app, client)
        table = pane(app, "orders", OrdersTable)
        await until(pilot, lambda: len(table.rows) == 2, "both orders in the table")

        for width in (200, 150, 110):
            visible, reason_width = table.fit_columns(table.build_rows(), width)
            assert "id" in visible and "units" in visible and "price" in visible
            if "reason" in visible and reason_width is not None:
                assert reason_width >= table.FLEX_MIN
