"""Money in another currency is converted at a quoted rate or not at all: a fill whose P&L has
no rate yet is held (never booked at an invented one), a direct pair with no price falls back
to the cross through USD, and one account that cannot be converted leaves the others' totals.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from tests.support.harness import Harness, default_settings, restarted
from tmt_tui.config import AccountSettings
from tmt_tui.domain.commands import ClosePosition
from tmt_tui.domain.events import EventKind

D = Decimal


def long_gbp_jpy_with_a_stop() -> Harness:
    h = Harness()
    h.quote("GBP_USD", "1.27000", "1.27012")
    h.quote("USD_JPY", "150.000", "150.010")
    h.quote("GBP_JPY", "190.500", "190.530")
    reply = h.submit("GBP_JPY", 100_000, stop_loss=D("189.800"))
    assert reply.ok, reply
    return h


def test_a_fill_with_no_rate_yet_is_held_until_one_is_quoted_then_booked_at_it() -> None:
    # after a restart only GBP_JPY has ticked: its stop fills at the broker, but there is no
    # JPY->USD rate yet. Booking it at 1 once turned a -68,900 JPY loss into -68,900 USD.
    h = restarted(long_gbp_jpy_with_a_stop())
    balance = h.account().balance
    h.quote("GBP_JPY", "189.100", "189.130")  # through the stop

    assert not h.of_kind(EventKind.ORDER_FILLED)
    assert h.account().balance == balance
    assert "fill.no_rate" in h.core.alerts
    assert h.units("GBP_JPY") == 100_000  # not booked at all, so not half-booked

    h.quote("USD_JPY", "150.000", "150.010")

    (fill,) = h.of_kind(EventKind.ORDER_FILLED)
    # (189.100 - 190.530) x 100,000 = -143,000 JPY at 1 / 150.005 = -953.3016 USD
    assert D(fill.data["conversion_rate"]) == 1 / D("150.005")
    assert h.account().balance - balance == D("-953.3016")
    assert h.units("GBP_JPY") == 0
    assert "fill.no_rate" not in h.core.alerts


def test_what_the_venue_reports_after_a_held_fill_waits_behind_it_in_order() -> None:
    before = long_gbp_jpy_with_a_stop()
    before.quote("EUR_USD", "1.10000", "1.10010")
    limit = before.limit("EUR_USD", 1_000, "1.09000").order_id
    h = restarted(before)
    h.quote("GBP_JPY", "189.100", "189.130")
    assert h.core.react.held  # the stop's fill
    h.quote("EUR_USD", "1.08900", "1.08910")  # the limit fills: it needs no rate, but waits

    assert not h.of_kind(EventKind.ORDER_FILLED)
    h.quote("USD_JPY", "150.000", "150.010")

    fills = [e.data["order_id"] for e in h.of_kind(EventKind.ORDER_FILLED)]
    assert fills[0].endswith(".sl") and fills[1:] == [limit]
    assert not h.core.react.held


def test_a_direct_pair_with_no_price_yet_falls_back_to_the_cross_through_usd() -> None:
    h = Harness()
    h.quote("EUR_USD", "1.10000", "1.10010")
    h.quote("GBP_USD", "1.27000", "1.27012")  # EUR_GBP exists but has not ticked

    rate = h.core.quotes.rate("EUR", "GBP")

    assert rate == ((D("1.10000") + D("1.10010")) / 2) / ((D("1.27000") + D("1.27012")) / 2)
    h.quote("EUR_GBP", "0.85400", "0.85412")
    assert h.core.quotes.rate("EUR", "GBP") == (D("0.85400") + D("0.85412")) / 2


def test_an_account_that_cannot_be_converted_leaves_the_others_in_the_totals() -> None:
    base = default_settings()
    settings = dataclasses.replace(
        base, accounts=(*base.accounts, AccountSettings("SIM-CHF", "CHF", D("50000")))
    )
    h = Harness(settings)
    h.standard_quotes()  # no USD_CHF among them

    totals = h.core.totals()

    assert totals is not None
    assert totals.excluded == ("SIM-CHF",)
    usd = h.account("SIM-USD").equity
    eur = h.account("SIM-EUR").equity * (D("1.10000") + D("1.10010")) / 2
    assert totals.equity == (usd + eur).quantize(D("0.01"))


def test_a_position_can_be_closed_before_its_rate_is_quoted_and_the_fill_waits_for_it() -> None:
    # getting out is always allowed: the close goes to the broker, its fill is held until the
    # JPY->USD rate exists, then booked at it (once, closes were refused NO_CONVERSION_RATE)
    h = restarted(long_gbp_jpy_with_a_stop())
    h.quote("GBP_JPY", "190.600", "190.630")

    reply = h.do(ClosePosition("SIM-USD", "GBP_JPY"))

    assert reply.ok, reply
    assert not h.of_kind(EventKind.ORDER_FILLED) and h.core.react.held
    h.quote("USD_JPY", "150.000", "150.010")
    assert h.units("GBP_JPY") == 0
    assert not h.core.react.held
