"""TransactionMapper: v20 transactions become venue events exactly once, with the right ids."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tmt_tui.domain.orders import OrderStatus, OrderType
from tmt_tui.venues.base import (
    VenueAccepted,
    VenueBalance,
    VenueCancelled,
    VenueFilled,
    VenueModified,
    VenueOrderAdopted,
    VenueProtectiveCreated,
)
from tmt_tui.venues.oanda.transactions import TransactionMapper

ACCOUNT = "101-001-0000001-001"
TIME = "2026-11-25T15:00:00.000000000Z"


def mapper(cursor: int = 0) -> TransactionMapper:
    return TransactionMapper(ACCOUNT, tag="tabc123.", cursor=cursor)


def txn(tid: int, kind: str, **fields: Any) -> dict[str, Any]:
    return {"id": str(tid), "type": kind, "time": TIME, "accountID": ACCOUNT, **fields}


def fill(tid: int, order: int, units: str, **fields: Any) -> dict[str, Any]:
    return txn(
        tid, "ORDER_FILL", orderID=str(order), instrument="EUR_USD", units=units,
        price="1.10000", accountBalance="100000.0000", **fields,
    )  # fmt: skip


def test_our_limit_order_is_accepted_under_our_own_id() -> None:
    m = mapper()
    created = txn(5, "LIMIT_ORDER", instrument="EUR_USD", units="1000", price="1.09000",
                  clientExtensions={"id": "tabc123.O7"})  # fmt: skip

    assert m.apply(created) == [VenueAccepted("O7", "5", "5")]


def test_a_market_fill_maps_to_our_order_and_reports_the_balance() -> None:
    m = mapper()
    m.apply(txn(5, "MARKET_ORDER", instrument="EUR_USD", units="1000",
                clientExtensions={"id": "tabc123.O7"}))  # fmt: skip

    events = m.apply(fill(6, 5, "1000", tradeOpened={"tradeID": "6", "units": "1000"}))

    assert events == [
        VenueFilled("O7", "6", 1000, Decimal("1.10000"), events[0].ts, "6", closes=()),  # type: ignore[union-attr]
        VenueBalance(ACCOUNT, Decimal("100000.0000"), "ORDER_FILL", "6"),
    ]


def test_every_transaction_maps_once_whichever_path_shows_it_first() -> None:
    m = mapper()
    m.mark_seen(["6"])  # a request's own answer already reported the fill

    balance_only = [VenueBalance(ACCOUNT, Decimal("100000.0000"), "ORDER_FILL", "6")]
    assert m.apply(fill(6, 5, "1000")) == balance_only  # the balance still comes, in order
    assert m.cursor == 6  # and the history moved on
    assert m.apply(fill(6, 5, "1000")) == []  # a replay of it is nothing


def test_a_backfill_never_goes_back_before_the_cursor() -> None:
    m = mapper(cursor=10)

    assert m.apply(fill(9, 5, "1000")) == []
    assert m.cursor == 10


def test_an_order_placed_outside_tmt_is_adopted_then_filled() -> None:
    m = mapper()

    (adopted,) = m.apply(txn(20, "MARKET_ORDER", instrument="GBP_USD", units="-700"))
    filled = m.apply(fill(21, 20, "-700"))[0]

    assert isinstance(adopted, VenueOrderAdopted)
    order = adopted.order
    assert (order.id, order.units, order.status, order.origin) == (
        "X20",
        -700,
        OrderStatus.SUBMITTED,
        "venue",
    )
    assert isinstance(filled, VenueFilled) and filled.order_id == "X20"


def test_take_profit_on_fill_is_named_after_its_trade_and_sized_by_the_engine() -> None:
    m = mapper()
    m.apply(fill(6, 5, "1000", tradeOpened={"tradeID": "6", "units": "1000"}))

    (created,) = m.apply(txn(7, "TAKE_PROFIT_ORDER", tradeID="6", price="1.2", reason="ON_FILL"))

    assert isinstance(created, VenueProtectiveCreated)
    tp = created.order
    assert (tp.id, tp.type, tp.trade_id, tp.instrument, tp.units, tp.origin) == (
        "6.tp",
        OrderType.TAKE_PROFIT,
        "6",
        "EUR_USD",
        0,
        "auto",
    )


def test_a_replace_is_a_modification_with_the_new_venue_id_not_a_cancel() -> None:
    m = mapper()
    m.apply(txn(5, "LIMIT_ORDER", instrument="EUR_USD", units="1000", price="1.09",
                clientExtensions={"id": "tabc123.O7"}))  # fmt: skip

    cancel = txn(8, "ORDER_CANCEL", orderID="5", reason="CLIENT_REQUEST_REPLACED",
                 replacedByOrderID="9")  # fmt: skip
    replace = txn(9, "LIMIT_ORDER", instrument="EUR_USD", units="3000", price="1.08",
                  replacesOrderID="5", clientExtensions={"id": "tabc123.O7"})  # fmt: skip

    assert m.apply(cancel) == []
    assert m.apply(replace) == [VenueModified("O7", Decimal("1.08"), 3000, "9", "9")]
    later = txn(10, "ORDER_CANCEL", orderID="9", reason="CLIENT_REQUEST")
    assert m.apply(later) == [VenueCancelled("O7", "CLIENT_REQUEST", "10")]


def test_a_trade_close_we_asked_for_is_ours_though_oanda_gives_it_no_client_id() -> None:
    m = mapper()
    m.expect_close("6", "O30")

    closing = txn(31, "MARKET_ORDER", instrument="EUR_USD", units="-1000",
                  tradeClose={"tradeID": "6", "units": "ALL"}, reason="TRADE_CLOSE")  # fmt: skip

    assert m.apply(closing) == []
    assert m.apply(fill(32, 31, "-1000"))[0].order_id == "O30"  # type: ignore[union-attr]


def test_financing_moves_only_the_balance() -> None:
    m = mapper()

    events = m.apply(txn(40, "DAILY_FINANCING", accountBalance="99998.5000"))

    assert events == [VenueBalance(ACCOUNT, Decimal("99998.5000"), "DAILY_FINANCING", "40")]


def test_an_unreadable_transaction_is_logged_and_skipped() -> None:
    m = mapper()

    assert m.apply({"type": "ORDER_FILL"}) == []  # no id
    assert m.apply(txn(50, "ORDER_FILL", orderID="5")) == []  # no units or price
    assert m.cursor == 50
