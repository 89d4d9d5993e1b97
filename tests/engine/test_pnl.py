"""P&L against hand-computed cases: exact Decimal cash, marks at the side you would close at.

Realized P&L is booked per closed piece in the account currency, rounded to 4 places, and the
balance moves by exactly that amount. Unrealized P&L marks longs at the bid, shorts at the ask.
"""

from __future__ import annotations

from decimal import Decimal

from tests.support.harness import Harness
from tmt_tui.domain.commands import ClosePosition
from tmt_tui.domain.events import EventKind

D = Decimal


def started() -> Harness:
    h = Harness()
    h.standard_quotes()
    return h


def test_usd_jpy_profit_is_converted_into_usd_at_one_over_the_mid() -> None:
    # buy 10,000 USD_JPY at the ask 150.010, sell at the bid 151.000:
    # (151.000 - 150.010) x 10,000 = 9,900 JPY; JPY -> USD at 1 / mid(151.000, 151.010)
    # = 1 / 151.005, so 9,900 / 151.005 = 65.56074302... -> 65.5607 USD
    h = started()
    h.submit("USD_JPY", 10_000)
    h.quote("USD_JPY", "151.000", "151.010")

    h.submit("USD_JPY", -10_000)

    assert h.account().realized_pl == D("65.5607")
    assert h.account().balance == D("100065.5607")


def test_fill_journals_the_conversion_rate_it_was_booked_at() -> None:
    h = started()
    h.submit("USD_JPY", 10_000)
    h.quote("USD_JPY", "151.000", "151.010")

    h.submit("USD_JPY", -10_000)

    fill = h.last(EventKind.ORDER_FILLED).data
    assert (fill["price"], fill["units"]) == ("151.000", -10_000)
    assert D(fill["conversion_rate"]) == D(1) / D("151.005")


def test_usd_jpy_unrealized_is_marked_at_the_bid_for_a_long() -> None:
    # long 10,000 at 150.010, marked at the bid 151.000: 9,900 JPY / 151.005 = 65.5607 USD
    h = started()
    h.submit("USD_JPY", 10_000)

    h.quote("USD_JPY", "151.000", "151.010")

    (position,) = h.core.positions()
    assert position.unrealized_pl == D("65.5607")
    assert h.account().unrealized_pl == D("65.5607")
    assert h.account().balance == D("100000")  # nothing realized yet


def test_cross_pair_in_a_eur_account_converts_through_usd() -> None:
    # SIM-EUR buys 10,000 AUD_CAD at the ask 0.89020 and sells at the bid 0.89500:
    # (0.89500 - 0.89020) x 10,000 = 48.00 CAD
    # CAD -> USD at 1 / mid(USD_CAD) = 1 / 1.36008; USD -> EUR at 1 / mid(EUR_USD) = 1 / 1.10005
    # 48 / 1.36008 / 1.10005 = 48 / 1.4961560040 = 32.08221594 -> 32.0822 EUR
    h = started()
    h.submit("AUD_CAD", 10_000, account="SIM-EUR")
    h.quote("AUD_CAD", "0.89500", "0.89520")

    h.submit("AUD_CAD", -10_000, account="SIM-EUR")

    account = h.account("SIM-EUR")
    assert account.realized_pl == D("32.0822")
    assert account.balance == D("50032.0822")


def test_cross_pair_unrealized_converts_through_usd() -> None:
    # same as above, still open: marked at the bid 0.89500 -> 48 CAD -> 32.0822 EUR
    h = started()
    h.submit("AUD_CAD", 10_000, account="SIM-EUR")

    h.quote("AUD_CAD", "0.89500", "0.89520")

    assert h.account("SIM-EUR").unrealized_pl == D("32.0822")


def test_conversion_rate_moves_the_mark_when_only_the_usd_leg_ticks() -> None:
    # AUD_CAD unchanged at 48 CAD of profit; EUR_USD moves to mid 1.20005:
    # 48 / 1.36008 / 1.20005 = 48 / 1.6321640040 = 29.40880934 -> 29.4088 EUR
    h = started()
    h.submit("AUD_CAD", 10_000, account="SIM-EUR")
    h.quote("AUD_CAD", "0.89500", "0.89520")

    h.quote("EUR_USD", "1.20000", "1.20010")

    assert h.account("SIM-EUR").unrealized_pl == D("29.4088")


def test_partial_close_realizes_only_the_closed_part_and_keeps_the_average() -> None:
    # long 10,000 EUR_USD at 1.10010; close 4,000 at the bid 1.10100:
    # (1.10100 - 1.10010) x 4,000 = 0.00090 x 4,000 = 3.6000 USD
    h = started()
    h.submit("EUR_USD", 10_000)
    h.quote("EUR_USD", "1.10100", "1.10110")

    h.do(ClosePosition("SIM-USD", "EUR_USD", units=4_000))

    (position,) = h.core.positions()
    assert position.units == 6_000
    assert position.avg_price == D("1.10010")
    assert position.realized_pl == D("3.6000")
    # the rest is marked at the bid: (1.10100 - 1.10010) x 6,000 = 5.4000 USD
    assert position.unrealized_pl == D("5.4000")
    assert h.account().balance == D("100003.6000")


def test_partial_close_leaves_the_trade_open_with_fewer_units() -> None:
    h = started()
    h.submit("EUR_USD", 10_000)
    h.quote("EUR_USD", "1.10100", "1.10110")

    h.do(ClosePosition("SIM-USD", "EUR_USD", units=4_000))

    ((trade,),) = [p.trades for p in h.core.positions()]
    assert (trade.units, trade.initial_units, trade.price) == (6_000, 10_000, D("1.10010"))
    assert trade.realized_pl == D("3.6000")


def test_after_a_partial_close_the_take_profit_and_stop_loss_cover_what_is_left() -> None:
    h = started()
    h.submit("EUR_USD", 10_000, take_profit=D("1.12000"), stop_loss=D("1.08000"))
    h.quote("EUR_USD", "1.10100", "1.10110")

    h.do(ClosePosition("SIM-USD", "EUR_USD", units=4_000))

    protective = [o for o in h.core.orders.open.values() if o.is_protective]
    assert sorted(o.type.value for o in protective) == ["STOP_LOSS", "TAKE_PROFIT"]
    assert all(o.units == -6_000 for o in protective), protective

    h.quote("EUR_USD", "1.12010", "1.12020")  # the take-profit fires: the rest of the trade

    assert h.core.positions() == [] or all(p.units == 0 for p in h.core.positions())
    assert not [o for o in h.core.orders.open.values() if o.is_protective]


def test_reversal_realizes_the_old_position_and_opens_the_rest_at_the_fill_price() -> None:
    # long 10,000 at 1.10010; sell 15,000 at the bid 1.10100:
    # realized on 10,000: (1.10100 - 1.10010) x 10,000 = 9.0000 USD
    # new short 5,000 at 1.10100, marked at the ask 1.10110: (1.10100 - 1.10110) x 5,000 = -0.5000
    h = started()
    h.submit("EUR_USD", 10_000)
    h.quote("EUR_USD", "1.10100", "1.10110")

    h.submit("EUR_USD", -15_000)

    (position,) = h.core.positions()
    assert position.units == -5_000
    assert position.avg_price == D("1.10100")
    assert [(t.units, t.price) for t in position.trades] == [(-5_000, D("1.10100"))]
    assert position.realized_pl == D("9.0000")
    assert position.unrealized_pl == D("-0.5000")
    assert h.account().balance == D("100009.0000")


def test_short_is_marked_at_the_ask() -> None:
    # short 10,000 at the bid 1.10000, marked at the ask 1.10010: -0.00010 x 10,000 = -1.0000
    h = started()

    h.submit("EUR_USD", -10_000)

    assert h.account().unrealized_pl == D("-1.0000")


def test_short_loss_is_realized_when_bought_back_at_the_ask() -> None:
    # short 10,000 at 1.10000; buy back at the ask 1.10210: (1.10000 - 1.10210) x 10,000 = -21.0000
    h = started()
    h.submit("EUR_USD", -10_000)
    h.quote("EUR_USD", "1.10200", "1.10210")

    h.do(ClosePosition("SIM-USD", "EUR_USD"))

    assert h.core.positions() == []
    assert h.account().realized_pl == D("-21.0000")
    assert h.account().balance == D("99979.0000")


def test_closing_takes_the_oldest_trade_first() -> None:
    # buy 1,000 at 1.10010, then 1,000 at 1.10110; sell 1,500 at the bid 1.10200:
    # first trade (1.10200 - 1.10010) x 1,000 = 1.9000; second (1.10200 - 1.10110) x 500 = 0.4500
    h = started()
    h.submit("EUR_USD", 1_000)
    h.quote("EUR_USD", "1.10100", "1.10110")
    h.submit("EUR_USD", 1_000)
    h.quote("EUR_USD", "1.10200", "1.10210")

    h.submit("EUR_USD", -1_500)

    (position,) = h.core.positions()
    assert [(t.units, t.price) for t in position.trades] == [(500, D("1.10110"))]
    assert position.realized_pl == D("2.3500")


def test_balance_moves_by_exactly_the_realized_pnl_at_four_places() -> None:
    h = started()
    before = h.account().balance
    h.submit("USD_JPY", 12_345)
    h.quote("USD_JPY", "150.777", "150.789")

    h.submit("USD_JPY", -12_345)

    after = h.account()
    assert after.balance - before == after.realized_pl
    assert after.realized_pl.as_tuple().exponent == -4
    assert isinstance(after.balance, Decimal)


def test_flat_position_has_no_unrealized_pnl_or_margin() -> None:
    h = started()
    h.submit("EUR_USD", 10_000)

    h.do(ClosePosition("SIM-USD", "EUR_USD"))

    account = h.account()
    assert (account.unrealized_pl, account.margin_used, account.gross_exposure) == (0, 0, 0)


def test_full_revaluation_agrees_with_the_incremental_marks() -> None:
    h = started()
    h.submit("AUD_CAD", 10_000, account="SIM-EUR")
    h.submit("USD_JPY", -20_000)
    h.quote("AUD_CAD", "0.89500", "0.89520")
    h.quote("USD_JPY", "149.500", "149.512")
    h.quote("EUR_USD", "1.09000", "1.09012")
    incremental = [h.account(a) for a in ("SIM-USD", "SIM-EUR")]

    h.core.portfolio.revalue()

    assert [h.account(a) for a in ("SIM-USD", "SIM-EUR")] == incremental


def test_closing_part_of_a_named_trade_leaves_fifo_order_for_later_closes() -> None:
    # trade A: 1,000 at 1.10010; trade B: 1,000 at 1.10110. Close 500 of B, then 500 of the
    # position at the bid 1.10200: FIFO takes those from A, (1.10200 - 1.10010) x 500 = 0.9500,
    # leaving A 500 @ 1.10010 and B 500 @ 1.10110 (the named close must not reorder the lots)
    h = started()
    h.submit("EUR_USD", 1_000)
    h.quote("EUR_USD", "1.10100", "1.10110")
    h.submit("EUR_USD", 1_000)
    (position,) = h.core.positions()
    trade_a, trade_b = (t.id for t in position.trades)
    h.quote("EUR_USD", "1.10200", "1.10210")
    h.do(ClosePosition("SIM-USD", "EUR_USD", units=500, trade_id=trade_b))
    realized_after_b = h.core.positions()[0].realized_pl

    h.do(ClosePosition("SIM-USD", "EUR_USD", units=500))

    (position,) = h.core.positions()
    assert [(t.id, t.units, t.price) for t in position.trades] == [
        (trade_a, 500, D("1.10010")),
        (trade_b, 500, D("1.10110")),
    ]
    assert position.realized_pl - realized_after_b == D("0.9500")


def test_the_paper_broker_keeps_fifo_order_after_a_named_trade_close() -> None:
    # the broker's own ledger must agree with the engine's, or reconciliation cannot see a drift
    h = started()
    h.submit("EUR_USD", 1_000)
    h.submit("EUR_USD", 1_000, take_profit=D("1.20000"))
    (position,) = h.core.positions()
    trade_a, trade_b = (t.id for t in position.trades)
    h.do(ClosePosition("SIM-USD", "EUR_USD", units=500, trade_id=trade_b))
    h.do(ClosePosition("SIM-USD", "EUR_USD", units=500))

    assert h.broker.open_trades("SIM-USD", "EUR_USD") == [(trade_a, 500), (trade_b, 500)]
    # trade B still stands, so its take-profit stays working
    assert [o.trade_id for o in h.open_orders() if o.is_protective] == [trade_b]
