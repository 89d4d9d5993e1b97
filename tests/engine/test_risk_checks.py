"""Pre-trade risk: each guard accepts at its boundary and rejects past it with its reason code.

Every rejection must be an ORDER_REJECTED event carrying the code and a message, the order must
end REJECTED, and nothing may reach the broker. Closing orders must always get through.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import pytest

from tests.support.harness import Harness, default_settings, with_risk
from tmt_tui.domain.client import Reply
from tmt_tui.domain.commands import (
    CancelOrder,
    ClosePosition,
    EngageKillSwitch,
    SetReducing,
    SubmitOrder,
)
from tmt_tui.domain.events import EventKind
from tmt_tui.domain.orders import OrderStatus, OrderType
from tmt_tui.domain.reasons import Reason
from tmt_tui.venues.sim.universe import instruments as sim_instruments

D = Decimal


def assert_rejected(h: Harness, reply: Reply, code: Reason, text: str = "") -> None:
    """The reply, the ORDER_REJECTED event and the stored order all say ``code``; no broker call."""
    assert (reply.ok, reply.code) == (False, code.value), reply
    event = h.last(EventKind.ORDER_REJECTED)
    assert event.data["code"] == code.value
    assert event.data["source"] == "risk"
    assert event.data["message"] and event.data["message"] == reply.message
    assert text.lower() in event.data["message"].lower()
    assert event.data["order"]["status"] == OrderStatus.REJECTED.value
    assert event.data["order"]["id"] == reply.order_id
    assert h.order(reply.order_id or "").status is OrderStatus.REJECTED
    submitted = {e.data["order"]["id"] for e in h.of_kind(EventKind.ORDER_SUBMITTED)}
    assert reply.order_id not in submitted


def assert_accepted(reply: Reply) -> None:
    assert reply.ok, reply


@pytest.fixture
def h() -> Harness:
    harness = Harness()
    harness.standard_quotes()
    return harness


def limit(price: str, **kw: Any) -> dict[str, Any]:
    return {"type": OrderType.LIMIT, "price": D(price), **kw}


# trading state --------------------------------------------------------------------------------


def test_halted_account_rejects_opening_order(h: Harness) -> None:
    h.do(EngageKillSwitch("test"))

    reply = h.submit("EUR_USD", 1000)

    assert_rejected(h, reply, Reason.TRADING_HALTED, "HALTED")


def test_halted_account_accepts_a_closing_order(h: Harness) -> None:
    h.submit("EUR_USD", 1000)
    h.do(EngageKillSwitch("test"))

    reply = h.submit("EUR_USD", -1000)

    assert_accepted(reply)
    assert h.units("EUR_USD") == 0


def test_halt_pending_rejects_opening_order_before_the_kill_switch_runs(h: Harness) -> None:
    h.core.flags.halt_pending = True  # the runner flags this from the caller's thread at once

    reply = h.submit("EUR_USD", 1000)

    assert_rejected(h, reply, Reason.TRADING_HALTED)


def test_halt_pending_lets_a_closing_order_through(h: Harness) -> None:
    h.submit("EUR_USD", 1000)
    h.core.flags.halt_pending = True

    reply = h.do(ClosePosition("SIM-USD", "EUR_USD"))

    assert_accepted(reply)
    assert h.units("EUR_USD") == 0


def test_reducing_account_rejects_opening_order(h: Harness) -> None:
    h.do(SetReducing(on=True, account="SIM-USD"))

    reply = h.submit("EUR_USD", 1000)

    assert_rejected(h, reply, Reason.REDUCE_ONLY, "REDUCING")


def test_reducing_account_rejects_an_order_that_would_flip_the_position(h: Harness) -> None:
    h.submit("EUR_USD", 1000)
    h.do(SetReducing(on=True, account="SIM-USD"))

    reply = h.submit("EUR_USD", -1500)

    assert_rejected(h, reply, Reason.REDUCE_ONLY)


def test_reducing_account_accepts_an_order_that_reduces(h: Harness) -> None:
    h.submit("EUR_USD", 1000)
    h.do(SetReducing(on=True, account="SIM-USD"))

    reply = h.submit("EUR_USD", -400)

    assert_accepted(reply)
    assert h.units("EUR_USD") == 600


def test_reducing_one_account_leaves_the_other_active(h: Harness) -> None:
    h.do(SetReducing(on=True, account="SIM-USD"))

    reply = h.submit("EUR_USD", 1000, account="SIM-EUR")

    assert_accepted(reply)


# what is traded -------------------------------------------------------------------------------


def test_unknown_account_is_rejected(h: Harness) -> None:
    reply = h.submit("EUR_USD", 1000, account="NOPE")

    assert_rejected(h, reply, Reason.UNKNOWN_ACCOUNT, "NOPE")


def test_unknown_instrument_is_rejected(h: Harness) -> None:
    reply = h.submit("EUR_XYZ", 1000)

    assert_rejected(h, reply, Reason.UNKNOWN_INSTRUMENT, "EUR_XYZ")


# units ----------------------------------------------------------------------------------------


def test_zero_units_are_rejected(h: Harness) -> None:
    reply = h.submit("EUR_USD", 0)

    assert_rejected(h, reply, Reason.INVALID_UNITS, "zero")


@pytest.mark.parametrize("units", [1000.0, 1000.5, D("1000"), "1000", True])
def test_units_that_are_not_a_whole_number_are_rejected(h: Harness, units: Any) -> None:
    reply = h.do(SubmitOrder("SIM-USD", "EUR_USD", units))

    assert_rejected(h, reply, Reason.INVALID_UNITS, "whole number")


def _with_unit_bounds(min_units: int, max_units: int) -> Harness:
    instruments = [
        dataclasses.replace(i, min_units=min_units, max_units=max_units)
        if i.name == "EUR_USD"
        else i
        for i in sim_instruments()
    ]
    harness = Harness(instruments=instruments)
    harness.standard_quotes()
    return harness


def test_units_below_the_instrument_minimum_are_rejected() -> None:
    h = _with_unit_bounds(1000, 50_000)

    reply = h.submit("EUR_USD", -999)

    assert_rejected(h, reply, Reason.UNITS_BELOW_MINIMUM, "minimum is 1000")


def test_units_at_the_instrument_minimum_are_accepted() -> None:
    h = _with_unit_bounds(1000, 50_000)

    assert_accepted(h.submit("EUR_USD", 1000))


def test_units_above_the_instrument_maximum_are_rejected() -> None:
    h = _with_unit_bounds(1000, 50_000)

    reply = h.submit("EUR_USD", 50_001)

    assert_rejected(h, reply, Reason.UNITS_ABOVE_MAXIMUM, "maximum is 50,000")


def test_units_at_the_instrument_maximum_are_accepted() -> None:
    h = _with_unit_bounds(1000, 50_000)

    assert_accepted(h.submit("EUR_USD", 50_000))


def test_units_above_the_account_order_limit_are_rejected() -> None:
    h = Harness(with_risk(default_settings(), max_order_units=5000))
    h.standard_quotes()

    reply = h.submit("EUR_USD", -5001)

    assert_rejected(h, reply, Reason.UNITS_ABOVE_MAXIMUM, "order limit of 5,000")


def test_units_at_the_account_order_limit_are_accepted() -> None:
    h = Harness(with_risk(default_settings(), max_order_units=5000))
    h.standard_quotes()

    assert_accepted(h.submit("EUR_USD", -5000))


# prices ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("units", "kw", "text"),
    [
        (1000, limit("NaN"), "price must be a positive number"),
        (1000, limit("Infinity"), "price must be a positive number"),
        (1000, limit("-1.09000"), "price must be a positive number"),
        (1000, limit("0"), "price must be a positive number"),
        (1000, {"take_profit": D("NaN")}, "take-profit must be a positive number"),
        (1000, {"stop_loss": D("-Infinity")}, "stop-loss must be a positive number"),
        (1000, {"price": D("1.10010")}, "market order takes no price"),
        (1000, {"type": OrderType.LIMIT}, "limit order needs a price"),
        (1000, {"type": OrderType.STOP}, "stop order needs a price"),
        # buy at market: entry is the ask 1.10010
        (1000, {"take_profit": D("1.10010")}, "take-profit must be above"),
        (1000, {"stop_loss": D("1.10010")}, "stop-loss must be below"),
        # sell at market: entry is the bid 1.10000
        (-1000, {"take_profit": D("1.10000")}, "take-profit must be below"),
        (-1000, {"stop_loss": D("1.10000")}, "stop-loss must be above"),
        (-1000, {"stop_loss": D("1.09000")}, "stop-loss must be above"),
        # buy limit at 1.09000: entry is the limit price, whatever the market
        (1000, limit("1.09000", take_profit=D("1.08900")), "take-profit must be above"),
        (1000, limit("1.09000", stop_loss=D("1.09500")), "stop-loss must be below"),
    ],
    ids=[
        "limit-nan", "limit-inf", "limit-negative", "limit-zero", "tp-nan", "sl-minus-inf",
        "market-with-price", "limit-without-price", "stop-without-price", "buy-tp-at-entry",
        "buy-sl-at-entry", "sell-tp-at-entry", "sell-sl-at-entry", "sell-sl-below",
        "limit-tp-below", "limit-sl-above",
    ],
)  # fmt: skip
def test_invalid_price_is_rejected(h: Harness, units: int, kw: dict[str, Any], text: str) -> None:
    reply = h.submit("EUR_USD", units, **kw)

    assert_rejected(h, reply, Reason.INVALID_PRICE, text)


def test_take_profit_and_stop_loss_on_the_right_sides_are_accepted(h: Harness) -> None:
    reply = h.submit("EUR_USD", -1000, take_profit=D("1.09000"), stop_loss=D("1.11000"))

    assert_accepted(reply)


@pytest.mark.parametrize(
    "kw",
    [limit("1.090001"), {"take_profit": D("1.200001")}, {"stop_loss": D("1.0000001")}],
    ids=["price", "take-profit", "stop-loss"],
)
def test_price_finer_than_the_instrument_tick_is_rejected(h: Harness, kw: dict[str, Any]) -> None:
    reply = h.submit("EUR_USD", 1000, **kw)

    assert_rejected(h, reply, Reason.PRICE_PRECISION_EXCEEDED, "more than 5 decimals")


def test_price_with_trailing_zeros_beyond_the_tick_is_accepted(h: Harness) -> None:
    assert_accepted(h.submit("EUR_USD", 1000, **limit("1.0900000")))


def test_limit_price_outside_the_collar_is_rejected(h: Harness) -> None:
    # mid = (1.10000 + 1.10010) / 2 = 1.10005; 5% of it is 0.0550025, so the collar's
    # lower edge is 1.0450475 and 1.04504 is just outside it
    reply = h.submit("EUR_USD", 1000, **limit("1.04504"))

    assert_rejected(h, reply, Reason.PRICE_COLLAR, "more than 5% from mid")


def test_limit_price_inside_the_collar_is_accepted(h: Harness) -> None:
    assert_accepted(h.submit("EUR_USD", 1000, **limit("1.04505")))


def test_stop_price_outside_the_collar_is_rejected(h: Harness) -> None:
    # upper edge: 1.10005 + 0.0550025 = 1.1550525
    reply = h.submit("EUR_USD", 1000, type=OrderType.STOP, price=D("1.15506"))

    assert_rejected(h, reply, Reason.PRICE_COLLAR)


def test_order_without_any_quote_is_rejected() -> None:
    h = Harness()

    reply = h.submit("EUR_USD", 1000)

    assert_rejected(h, reply, Reason.NO_QUOTE, "EUR_USD")


def test_market_order_on_a_stale_quote_is_rejected(h: Harness) -> None:
    h.clock.advance(10.5)  # max_quote_age_s is 10

    reply = h.submit("EUR_USD", 1000)

    assert_rejected(h, reply, Reason.STALE_QUOTE, "10.5s old")


def test_market_order_on_a_quote_exactly_max_age_old_is_accepted(h: Harness) -> None:
    h.clock.advance(10.0)

    assert_accepted(h.submit("EUR_USD", 1000))


def test_limit_order_on_a_stale_quote_is_accepted(h: Harness) -> None:
    h.clock.advance(60)

    assert_accepted(h.submit("EUR_USD", 1000, **limit("1.09000")))


def test_closing_market_order_on_a_stale_quote_is_accepted(h: Harness) -> None:
    h.submit("EUR_USD", 1000)
    h.clock.advance(60)

    reply = h.do(ClosePosition("SIM-USD", "EUR_USD"))

    assert_accepted(reply)
    assert h.units("EUR_USD") == 0


# exposure -------------------------------------------------------------------------------------


def test_order_whose_quote_currency_cannot_reach_the_account_currency_is_rejected() -> None:
    # only EUR_GBP is quoted: GBP -> USD has neither a direct pair nor a path through USD
    h = Harness(instruments=sim_instruments(("EUR_GBP",)))
    h.quote("EUR_GBP", "0.85400", "0.85412")

    reply = h.submit("EUR_GBP", 1000)

    assert_rejected(h, reply, Reason.NO_CONVERSION_RATE, "GBP into USD")


def test_order_with_a_convertible_quote_currency_is_accepted() -> None:
    # the same instrument set converts fine for an account held in GBP
    settings = default_settings()
    gbp = dataclasses.replace(settings.accounts[0], id="SIM-GBP", currency="GBP")
    h = Harness(dataclasses.replace(settings, accounts=(gbp,)), sim_instruments(("EUR_GBP",)))
    h.quote("EUR_GBP", "0.85400", "0.85412")

    assert_accepted(h.submit("EUR_GBP", 1000, account="SIM-GBP"))


def test_notional_above_the_maximum_is_rejected() -> None:
    # 10,000 EUR_USD at mid 1.10005 = 11,000.50 USD > 11,000
    h = Harness(with_risk(default_settings(), max_order_notional=D("11000")))
    h.standard_quotes()

    reply = h.submit("EUR_USD", 10_000)

    assert_rejected(h, reply, Reason.NOTIONAL_ABOVE_MAXIMUM, "exceeds 11,000")


def test_notional_just_under_the_maximum_is_accepted() -> None:
    # 11,000.50 USD against 11,000.51 (the exposure guards run in floats: a cent of margin)
    h = Harness(with_risk(default_settings(), max_order_notional=D("11000.51")))
    h.standard_quotes()

    assert_accepted(h.submit("EUR_USD", 10_000))


def test_notional_is_converted_into_the_account_currency() -> None:
    # 10,000 USD_JPY at mid 150.005 JPY, converted at 1/150.005 = exactly 10,000 USD
    h = Harness(with_risk(default_settings(), max_order_notional=D("9999")))
    h.standard_quotes()

    reply = h.submit("USD_JPY", 10_000)

    assert_rejected(h, reply, Reason.NOTIONAL_ABOVE_MAXIMUM, "10,000 USD")


def test_position_above_the_limit_after_the_order_is_rejected() -> None:
    h = Harness(with_risk(default_settings(), max_position_units=5000))
    h.standard_quotes()
    h.submit("EUR_USD", 3000)

    reply = h.submit("EUR_USD", 2001)

    assert_rejected(h, reply, Reason.POSITION_LIMIT_EXCEEDED, "would be 5,001")


def test_position_at_the_limit_after_the_order_is_accepted() -> None:
    h = Harness(with_risk(default_settings(), max_position_units=5000))
    h.standard_quotes()
    h.submit("EUR_USD", 3000)

    assert_accepted(h.submit("EUR_USD", 2000))


def test_leverage_above_the_limit_is_rejected(h: Harness) -> None:
    # 2,800,000 x 1.10005 = 3,080,140 USD on 100,000 equity: 30.8x > 30x
    reply = h.submit("EUR_USD", 2_800_000)

    assert_rejected(h, reply, Reason.LEVERAGE_LIMIT_EXCEEDED, "30.8x")


def test_leverage_below_the_limit_is_accepted(h: Harness) -> None:
    # 2,700,000 x 1.10005 = 2,970,135 USD: 29.7x, margin 3.33% = 98,905.5 < 100,000
    assert_accepted(h.submit("EUR_USD", 2_700_000))


def test_leverage_counts_exposure_already_held(h: Harness) -> None:
    h.submit("EUR_USD", 2_000_000)  # 2,200,100 USD exposure (22x)

    reply = h.submit("GBP_USD", 700_000)  # + 889,042 USD -> about 30.9x

    assert_rejected(h, reply, Reason.LEVERAGE_LIMIT_EXCEEDED)


def test_margin_above_equity_is_rejected(h: Harness) -> None:
    # EUR_JPY margin rate is 5%: 1,900,000 x 165.008 JPY / 150.005 = 2,090,032 USD (20.9x,
    # under the 30x limit) needs 104,502 USD of margin, more than the 100,000 equity
    reply = h.submit("EUR_JPY", 1_900_000)

    assert_rejected(h, reply, Reason.INSUFFICIENT_MARGIN, "margin")


def test_margin_within_equity_is_accepted(h: Harness) -> None:
    # 1,800,000 x 165.008 / 150.005 = 1,980,031 USD needs 99,002 USD of margin
    assert_accepted(h.submit("EUR_JPY", 1_800_000))


def test_opening_order_on_an_account_past_its_daily_loss_limit_is_rejected(h: Harness) -> None:
    # defence in depth behind HALTED: a breached account that is (somehow) not halted
    h.core.portfolio.accounts["SIM-USD"].breached = True

    reply = h.submit("EUR_USD", 1000)

    assert_rejected(h, reply, Reason.DAILY_LOSS_LIMIT, "daily loss limit")


def test_max_working_orders_rejects_one_more_resting_order() -> None:
    h = Harness(with_risk(default_settings(), max_working_orders=2))
    h.standard_quotes()
    h.submit("EUR_USD", 1000, **limit("1.09000"))
    h.submit("EUR_USD", 1000, **limit("1.08000"))

    reply = h.submit("EUR_USD", 1000, **limit("1.07000"))

    assert_rejected(h, reply, Reason.MAX_WORKING_ORDERS, "2 working orders")


def test_max_working_orders_still_allows_market_orders() -> None:
    h = Harness(with_risk(default_settings(), max_working_orders=1))
    h.standard_quotes()
    h.submit("EUR_USD", 1000, **limit("1.09000"))

    assert_accepted(h.submit("EUR_USD", 1000))


def test_max_working_orders_counts_only_open_orders() -> None:
    h = Harness(with_risk(default_settings(), max_working_orders=1))
    h.standard_quotes()
    first = h.submit("EUR_USD", 1000, **limit("1.09000"))
    h.do(CancelOrder(first.order_id or ""))

    assert_accepted(h.submit("EUR_USD", 1000, **limit("1.08000")))


def test_orders_beyond_the_per_second_rate_are_rejected() -> None:
    h = Harness(with_risk(default_settings(), max_orders_per_second=3))
    h.standard_quotes()
    for _ in range(3):
        assert_accepted(h.submit("EUR_USD", 1000))

    reply = h.submit("EUR_USD", 1000)

    assert_rejected(h, reply, Reason.RATE_LIMITED, "more than 3 orders a second")


def test_rate_limit_window_frees_up_after_one_second() -> None:
    h = Harness(with_risk(default_settings(), max_orders_per_second=3))
    h.standard_quotes()
    for _ in range(3):
        h.submit("EUR_USD", 1000)
    h.clock.advance(1.0)

    assert_accepted(h.submit("EUR_USD", 1000))


def test_rate_limit_is_per_account() -> None:
    h = Harness(with_risk(default_settings(), max_orders_per_second=1))
    h.standard_quotes()
    h.submit("EUR_USD", 1000)

    assert_accepted(h.submit("EUR_USD", 1000, account="SIM-EUR"))


def test_closing_order_passes_the_rate_limit() -> None:
    h = Harness(with_risk(default_settings(), max_orders_per_second=2))
    h.standard_quotes()
    h.submit("EUR_USD", 1000)
    h.submit("EUR_USD", 1000)

    reply = h.do(ClosePosition("SIM-USD", "EUR_USD"))

    assert_accepted(reply)
    assert h.units("EUR_USD") == 0


def test_closing_order_skips_the_exposure_guards() -> None:
    # a position bigger than today's limits must still be closable
    h = Harness(with_risk(default_settings(), max_position_units=5000))
    h.standard_quotes()
    h.submit("EUR_USD", 5000)
    h.core.portfolio.accounts["SIM-USD"].limits = dataclasses.replace(
        h.core.portfolio.accounts["SIM-USD"].limits, max_position_units=1000
    )

    assert_accepted(h.do(ClosePosition("SIM-USD", "EUR_USD", units=2000)))
    assert h.units("EUR_USD") == 3000


def test_resting_order_the_account_can_no_longer_margin_is_cancelled_when_triggered(
    h: Harness,
) -> None:
    # the limit passes risk alone: 2,500,000 x 1.09000 = 2,725,000 USD needs 90,743 of margin;
    # a GBP_USD position bought after it uses 500,000 x 1.27006 x 3.33% = 21,147, so when the
    # limit triggers only ~78,800 is free and the broker cancels it
    resting = h.submit("EUR_USD", 2_500_000, **limit("1.09000"))
    h.submit("GBP_USD", 500_000)

    h.quote("EUR_USD", "1.08990", "1.09000")

    order = h.order(resting.order_id or "")
    assert (order.status, order.reason) == (OrderStatus.CANCELLED, Reason.INSUFFICIENT_MARGIN.value)
    assert h.units("EUR_USD") == 0
