"""The blotter: every trade the engine closed, with its prices, realized P&L, holding time and
why it closed; answered to a QueryTrades without journaling anything, and kept across restarts."""

from __future__ import annotations

from decimal import Decimal

from tests.support.harness import Harness, default_settings, restarted, with_flatten
from tmt_tui.domain.commands import ClosePosition, EngageKillSwitch, Origin, QueryTrades
from tmt_tui.domain.events import EventKind
from tmt_tui.domain.history import TradeHistory

D = Decimal


def traded() -> Harness:
    h = Harness()
    h.standard_quotes()
    h.submit("EUR_USD", 1_000, take_profit=D("1.10500"))  # trade A, closed by its TP
    h.clock.advance(60)
    h.standard_quotes()
    h.submit("EUR_USD", 2_000)  # trade B, closed by hand
    h.clock.advance(60)
    h.quote("EUR_USD", "1.10500", "1.10510")
    h.clock.advance(60)
    h.standard_quotes()
    h.quote("EUR_USD", "1.10500", "1.10510")
    assert h.do(ClosePosition("SIM-USD", "EUR_USD")).ok
    assert h.submit("USD_JPY", -3_000, account="SIM-EUR").ok
    assert h.do(ClosePosition("SIM-EUR", "USD_JPY")).ok
    return h


def history(h: Harness, query: QueryTrades) -> TradeHistory:
    reply = h.do(query)
    assert reply.ok, reply
    assert isinstance(reply.payload, TradeHistory)
    return reply.payload


def test_each_closed_trade_says_how_it_opened_closed_and_why() -> None:
    h = traded()

    trades = history(h, QueryTrades(account="SIM-USD")).trades

    assert [(t.units, t.reason) for t in trades] == [(2_000, "close"), (1_000, "take-profit")]
    tp, by_hand = trades[1], trades[0]
    assert (tp.open_price, tp.close_price) == (D("1.10010"), D("1.10500"))
    assert tp.realized_pl == D("4.9000")  # (1.10500 - 1.10010) x 1,000
    assert tp.holding_s == 120
    assert by_hand.holding_s == 120 and by_hand.close_price == D("1.10500")  # sold at the bid


def test_each_closed_trade_carries_how_far_the_price_went_against_and_for_it() -> None:
    # both longs could have been sold at a bid as low as 1.10000 and as high as 1.10500 while
    # open: entry 1.10010, so MAE 0.00010 and MFE 0.00490
    h = traded()

    trades = history(h, QueryTrades(account="SIM-USD")).trades

    assert {(t.mae, t.mfe) for t in trades} == {(D("0.000100"), D("0.004900"))}


def test_excursions_of_an_open_trade_survive_a_restart() -> None:
    h = Harness()
    h.standard_quotes()
    h.submit("EUR_USD", -1_000)  # a short: adverse is the ask going up
    h.quote("EUR_USD", "1.10200", "1.10210")
    h.quote("EUR_USD", "1.09800", "1.09810")

    after = restarted(h)
    after.standard_quotes()
    after.do(ClosePosition("SIM-USD", "EUR_USD"))

    (trade,) = history(after, QueryTrades()).trades
    assert (trade.mae, trade.mfe) == (D("0.002100"), D("0.001900"))  # 1.10210 / 1.09810


def test_a_query_filters_by_account_and_instrument_and_journals_nothing() -> None:
    h = traded()
    before = len(h.events)

    everything = history(h, QueryTrades())
    jpy = history(h, QueryTrades(instrument="USD_JPY"))
    one = history(h, QueryTrades(limit=1))

    assert len(everything.trades) == 3
    assert [(t.account, t.instrument) for t in jpy.trades] == [("SIM-EUR", "USD_JPY")]
    assert one.trades == everything.trades[:1]
    assert len(h.events) == before  # a query leaves no trace in the journal
    assert not [e for e in h.events[before:] if e.kind is EventKind.COMMAND]


def test_the_blotter_survives_a_restart() -> None:
    h = traded()

    after = restarted(h)

    assert history(after, QueryTrades()).trades == history(h, QueryTrades()).trades


def test_a_flatten_or_the_kill_switch_is_why_its_trades_closed() -> None:
    h = Harness(with_flatten(default_settings()))
    h.standard_quotes()
    h.submit("EUR_USD", 1_000)
    h.submit("USD_JPY", -2_000)
    assert h.do(ClosePosition("SIM-USD", "EUR_USD", why="flatten")).ok
    assert h.do(EngageKillSwitch("test", Origin.UI)).ok  # closes the USD_JPY short

    trades = history(h, QueryTrades()).trades
    after = history(restarted(h), QueryTrades()).trades

    assert [(t.instrument, t.reason) for t in trades] == [
        ("USD_JPY", "kill switch"),
        ("EUR_USD", "flatten"),
    ]
    assert after == trades  # the reason is the order's, journaled with it
