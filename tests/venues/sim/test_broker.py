"""The paper broker: fills at the touch, rests limit and stop orders, links TP/SL to trades, and
rejects like a broker does. Every outcome arrives through the sink, synchronously.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import pytest

from tmt_tui.domain.orders import Order, OrderStatus, OrderType, TimeInForce
from tmt_tui.domain.positions import Trade
from tmt_tui.domain.quotes import Quote
from tmt_tui.domain.reasons import Reason
from tmt_tui.venues.base import (
    VenueAccepted,
    VenueCancelled,
    VenueEvent,
    VenueFilled,
    VenueModified,
    VenueProtectiveCreated,
    VenueRejected,
)
from tmt_tui.venues.sim.broker import SimBroker
from tmt_tui.venues.sim.universe import instruments as sim_instruments

D = Decimal
NOW = 1_781_092_800.0


class Venue:
    """A SimBroker with its sink as a list, and short ways to quote and order."""

    def __init__(self, min_units: int = 1, margin: str | None = None) -> None:
        insts = [
            dataclasses.replace(i, min_units=min_units) if i.name == "EUR_USD" else i
            for i in sim_instruments(("EUR_USD", "USD_JPY"))
        ]
        self.margin_asked: list[tuple[str, str, int, Decimal]] = []

        def probe(account: str, instrument: str, units: int, price: Decimal) -> str | None:
            """The engine's answer to "can the account carry this fill?" (``margin`` = no)."""
            self.margin_asked.append((account, instrument, units, price))
            return margin

        self.broker = SimBroker(insts, lambda: NOW, probe)
        self.events: list[VenueEvent] = []
        self.broker.connect(self.events.append)
        self._n = 0

    def quote(self, bid: str, ask: str, name: str = "EUR_USD") -> None:
        self.broker.on_quote(Quote(name, D(bid), D(ask), NOW))

    def order(self, units: int, type: OrderType = OrderType.MARKET, **kw: Any) -> Order:
        self._n += 1
        for key in ("price", "take_profit", "stop_loss"):
            if isinstance(kw.get(key), str):
                kw[key] = D(kw[key])
        fields = {"instrument": "EUR_USD", **kw}
        order = Order(f"O{self._n}", "SIM-USD", units=units, type=type,
                      status=OrderStatus.SUBMITTED, **fields)  # fmt: skip
        self.broker.submit(order)
        return order

    def take(self) -> list[VenueEvent]:
        events = list(self.events)
        self.events.clear()  # in place: the broker's sink appends to this list
        return events

    def fills(self) -> list[tuple[str, int, Decimal]]:
        return [(e.order_id, e.units, e.price) for e in self.events if isinstance(e, VenueFilled)]


@pytest.fixture
def venue() -> Venue:
    v = Venue()
    v.quote("1.10000", "1.10010")
    return v


def test_market_buy_fills_at_the_ask(venue: Venue) -> None:
    order = venue.order(10_000)

    assert venue.events == [VenueFilled(order.id, f"{order.id}.1", 10_000, D("1.10010"), NOW)]


def test_market_sell_fills_at_the_bid(venue: Venue) -> None:
    order = venue.order(-10_000)

    assert venue.fills() == [(order.id, -10_000, D("1.10000"))]


def test_market_order_without_a_quote_is_rejected() -> None:
    v = Venue()

    order = v.order(10_000, instrument="USD_JPY")

    assert v.events == [VenueRejected(order.id, Reason.NO_QUOTE.value, "no price for USD_JPY")]


def test_limit_buy_above_the_ask_is_accepted_and_rests(venue: Venue) -> None:
    order = venue.order(10_000, OrderType.LIMIT, price="1.09000")

    assert venue.events == [VenueAccepted(order.id, f"S-{order.id}")]


def test_limit_buy_fills_when_the_ask_reaches_its_price(venue: Venue) -> None:
    order = venue.order(10_000, OrderType.LIMIT, price="1.09000")
    venue.take()

    venue.quote("1.08990", "1.09000")

    assert venue.fills() == [(order.id, 10_000, D("1.09000"))]


def test_limit_buy_does_not_fill_while_the_ask_is_above_its_price(venue: Venue) -> None:
    venue.order(10_000, OrderType.LIMIT, price="1.09000")
    venue.take()

    venue.quote("1.08995", "1.09001")

    assert venue.events == []


def test_marketable_limit_buy_fills_at_once_at_the_touch(venue: Venue) -> None:
    order = venue.order(10_000, OrderType.LIMIT, price="1.10100")

    assert venue.fills() == [(order.id, 10_000, D("1.10010"))]


def test_limit_sell_fills_when_the_bid_reaches_its_price(venue: Venue) -> None:
    order = venue.order(-10_000, OrderType.LIMIT, price="1.11000")
    venue.take()

    venue.quote("1.11000", "1.11010")

    assert venue.fills() == [(order.id, -10_000, D("1.11000"))]


def test_stop_buy_fills_when_the_ask_reaches_its_price(venue: Venue) -> None:
    order = venue.order(10_000, OrderType.STOP, price="1.10500")
    venue.take()

    venue.quote("1.10490", "1.10500")

    assert venue.fills() == [(order.id, 10_000, D("1.10500"))]


def test_stop_buy_does_not_fill_below_its_price(venue: Venue) -> None:
    venue.order(10_000, OrderType.STOP, price="1.10500")
    venue.take()

    venue.quote("1.10480", "1.10499")

    assert venue.events == []


def test_stop_sell_fills_when_the_bid_falls_to_its_price(venue: Venue) -> None:
    order = venue.order(-10_000, OrderType.STOP, price="1.09500")
    venue.take()

    venue.quote("1.09500", "1.09510")

    assert venue.fills() == [(order.id, -10_000, D("1.09500"))]


def test_fill_with_tp_and_sl_creates_protective_orders_linked_to_the_trade(venue: Venue) -> None:
    order = venue.order(10_000, take_profit="1.12000", stop_loss="1.08000")

    created = [e.order for e in venue.events if isinstance(e, VenueProtectiveCreated)]
    trade_id = f"{order.id}.1"  # a fill's id is the id of the trade it opens
    assert [(o.type, o.units, o.price, o.trade_id, o.status) for o in created] == [
        (OrderType.TAKE_PROFIT, -10_000, D("1.12000"), trade_id, OrderStatus.WORKING),
        (OrderType.STOP_LOSS, -10_000, D("1.08000"), trade_id, OrderStatus.WORKING),
    ]


def test_take_profit_fill_closes_the_trade_and_cancels_the_stop_loss(venue: Venue) -> None:
    order = venue.order(10_000, take_profit="1.12000", stop_loss="1.08000")
    trade_id = f"{order.id}.1"
    venue.take()

    venue.quote("1.12000", "1.12010")

    assert venue.events == [
        VenueFilled(f"{trade_id}.tp", f"{trade_id}.tp.1", -10_000, D("1.12000"), NOW),
        VenueCancelled(f"{trade_id}.sl", "LINKED_TRADE_CLOSED"),
    ]


def test_stop_loss_fill_closes_the_trade_and_cancels_the_take_profit(venue: Venue) -> None:
    order = venue.order(10_000, take_profit="1.12000", stop_loss="1.08000")
    trade_id = f"{order.id}.1"
    venue.take()

    venue.quote("1.08000", "1.08010")

    assert venue.events == [
        VenueFilled(f"{trade_id}.sl", f"{trade_id}.sl.1", -10_000, D("1.08000"), NOW),
        VenueCancelled(f"{trade_id}.tp", "LINKED_TRADE_CLOSED"),
    ]


def test_closing_the_trade_by_market_cancels_both_protective_orders(venue: Venue) -> None:
    order = venue.order(10_000, take_profit="1.12000", stop_loss="1.08000")
    trade_id = f"{order.id}.1"
    venue.take()

    venue.order(-10_000)

    cancelled = [(e.order_id, e.reason) for e in venue.events if isinstance(e, VenueCancelled)]
    assert cancelled == [
        (f"{trade_id}.tp", "LINKED_TRADE_CLOSED"),
        (f"{trade_id}.sl", "LINKED_TRADE_CLOSED"),
    ]


def test_take_profit_closes_only_what_is_left_of_a_partly_closed_trade(venue: Venue) -> None:
    order = venue.order(10_000, take_profit="1.12000")
    venue.order(-4_000)
    venue.take()

    venue.quote("1.12000", "1.12010")

    assert venue.fills() == [(f"{order.id}.1.tp", -6_000, D("1.12000"))]


def test_units_below_the_minimum_are_rejected() -> None:
    v = Venue(min_units=1_000)
    v.quote("1.10000", "1.10010")

    order = v.order(999)

    assert v.events == [
        VenueRejected(order.id, Reason.UNITS_BELOW_MINIMUM.value, "minimum is 1000 units")
    ]


@pytest.mark.parametrize(
    ("kw", "label"),
    [
        ({"type": OrderType.LIMIT, "price": "1.090001"}, "price"),
        ({"take_profit": "1.120001"}, "take-profit"),
        ({"stop_loss": "1.080001"}, "stop-loss"),
    ],
)
def test_price_finer_than_the_tick_is_rejected(
    venue: Venue, kw: dict[str, Any], label: str
) -> None:
    order = venue.order(10_000, **kw)

    (event,) = venue.events
    assert isinstance(event, VenueRejected)
    assert (event.order_id, event.code) == (order.id, Reason.PRICE_PRECISION_EXCEEDED.value)
    assert event.message.startswith(label)


def test_unknown_instrument_is_rejected(venue: Venue) -> None:
    order = venue.order(10_000, instrument="XAU_USD")

    assert [(e.order_id, e.code) for e in venue.events] == [
        (order.id, Reason.UNKNOWN_INSTRUMENT.value)
    ]


def test_cancel_of_an_unknown_order_is_rejected(venue: Venue) -> None:
    ghost = Order("GHOST", "SIM-USD", "EUR_USD", 1_000, OrderType.LIMIT, OrderStatus.WORKING)

    venue.broker.cancel(ghost)

    assert [(e.order_id, e.code) for e in venue.events] == [("GHOST", Reason.UNKNOWN_ORDER.value)]


def test_modify_of_an_unknown_order_is_rejected(venue: Venue) -> None:
    ghost = Order("GHOST", "SIM-USD", "EUR_USD", 1_000, OrderType.LIMIT, OrderStatus.WORKING)

    venue.broker.modify(ghost, D("1.09000"), 1_000)

    assert [(e.order_id, e.code) for e in venue.events] == [("GHOST", Reason.UNKNOWN_ORDER.value)]


def test_cancelled_order_no_longer_fills(venue: Venue) -> None:
    order = venue.order(10_000, OrderType.LIMIT, price="1.09000")
    venue.take()

    venue.broker.cancel(order)
    venue.quote("1.08000", "1.08010")

    assert venue.events == [VenueCancelled(order.id, "CLIENT_REQUEST")]


def test_modified_order_fills_at_its_new_price(venue: Venue) -> None:
    order = venue.order(10_000, OrderType.LIMIT, price="1.09000")
    venue.take()

    venue.broker.modify(order, D("1.09500"), 10_000)
    venue.quote("1.09490", "1.09500")

    assert venue.events[0] == VenueModified(order.id, D("1.09500"), 10_000)
    assert venue.fills() == [(order.id, 10_000, D("1.09500"))]


def test_modify_to_a_price_finer_than_the_tick_is_rejected(venue: Venue) -> None:
    order = venue.order(10_000, OrderType.LIMIT, price="1.09000")
    venue.take()

    venue.broker.modify(order, D("1.090001"), 10_000)

    assert [(e.order_id, e.code) for e in venue.events] == [
        (order.id, Reason.PRICE_PRECISION_EXCEEDED.value)
    ]


def test_restored_book_fills_resting_orders_and_closes_restored_trades() -> None:
    v = Venue()
    trade = Trade("T1", "SIM-USD", "EUR_USD", 10_000, 10_000, D("1.10010"), NOW, "T1.tp", None)
    tp = Order(
        "T1.tp", "SIM-USD", "EUR_USD", -10_000, OrderType.TAKE_PROFIT, OrderStatus.WORKING,
        price=D("1.12000"), trade_id="T1", reduce_only=True,
    )  # fmt: skip
    v.broker.restore([tp], [trade])

    v.quote("1.12000", "1.12010")

    assert v.fills() == [("T1.tp", -10_000, D("1.12000"))]


def test_protection_on_a_reversing_fill_covers_only_the_trade_it_opened(venue: Venue) -> None:
    # long 10,000, then sell 15,000 with a take-profit: 10,000 close, a 5,000 short trade opens
    venue.order(10_000)
    order = venue.order(-15_000, take_profit="1.09000")

    (created,) = [e.order for e in venue.events if isinstance(e, VenueProtectiveCreated)]
    assert (created.trade_id, created.units) == (f"{order.id}.1", 5_000)


def test_trailing_stop_is_refused_as_not_offered(venue: Venue) -> None:
    order = venue.order(10_000, trailing_stop_distance=D("0.00500"))

    assert [(e.order_id, e.code) for e in venue.events] == [(order.id, Reason.BROKER_REJECT.value)]


def test_market_fill_asks_for_margin_at_the_fill_price(venue: Venue) -> None:
    venue.order(10_000)

    assert venue.margin_asked == [("SIM-USD", "EUR_USD", 10_000, D("1.10010"))]


def test_market_order_the_account_cannot_margin_is_rejected() -> None:
    v = Venue(margin="needs 120.00 USD margin, 100.00 available")
    v.quote("1.10000", "1.10010")

    order = v.order(10_000)

    assert v.events == [
        VenueRejected(
            order.id, Reason.INSUFFICIENT_MARGIN.value, "needs 120.00 USD margin, 100.00 available"
        )
    ]


def test_triggered_resting_order_the_account_cannot_margin_is_cancelled() -> None:
    v = Venue(margin="needs more")
    v.quote("1.10000", "1.10010")
    order = v.order(10_000, OrderType.LIMIT, price="1.09000")
    v.take()

    v.quote("1.08990", "1.09000")

    assert v.events == [VenueCancelled(order.id, Reason.INSUFFICIENT_MARGIN.value)]


def test_take_profit_closing_a_trade_is_not_held_back_by_margin(venue: Venue) -> None:
    order = venue.order(10_000, take_profit="1.12000")
    venue.take()
    venue.margin_asked.clear()

    venue.quote("1.12000", "1.12010")

    assert venue.fills() == [(f"{order.id}.1.tp", -10_000, D("1.12000"))]
    assert venue.margin_asked == []


@pytest.mark.parametrize("tif", [TimeInForce.IOC, TimeInForce.FOK])
def test_an_immediate_limit_fills_at_once_or_is_cancelled_never_rests(
    venue: Venue, tif: TimeInForce
) -> None:
    marketable = venue.order(10_000, OrderType.LIMIT, price="1.10020", time_in_force=tif)
    away = venue.order(10_000, OrderType.LIMIT, price="1.09000", time_in_force=tif)
    venue.quote("1.08000", "1.08010")  # later the price comes: too late for it

    assert venue.fills() == [(marketable.id, 10_000, D("1.10010"))]
    cancelled = [e for e in venue.events if isinstance(e, VenueCancelled)]
    assert cancelled == [VenueCancelled(away.id, "TIME_IN_FORCE_EXPIRED")]  # OANDA's reason
