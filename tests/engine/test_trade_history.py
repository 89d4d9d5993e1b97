"""The blotter: every trade the engine closed, with its prices, realized P&L, holding time and
why it closed; answered to a QueryTrades without journaling anything, and kept across restarts."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from tests.support.harness import Harness, default_settings, restarted, with_flatten
from tmt_tui.domain.commands import ClosePosition, EngageKillSwitch, Origin, QueryTrades
from tmt_tui.domain.events import EventKind
from tmt_tui.domain.history import TradeHistory
from tmt_tui.engine.boot import restore
from tmt_tui.store.journal import Journal

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


def crashed_and_restored(h: Harness, path: Path) -> Harness:
    """A new engine brought up from the journal at ``path`` as a start after a crash is."""
    after = Harness(h.settings, h.instruments, h.clock, start=False)
    journal = Journal(path)
    try:
        restore(after.core, journal)
    finally:
        journal.close()
    return after


def test_after_a_crash_the_quotes_since_the_checkpoint_still_count_for_open_trades(
    tmp_path: Path,
) -> None:
    h = Harness()
    h.standard_quotes()
    h.submit("EUR_USD", 1_000)  # long from 1.10010; the checkpoint is taken here
    path = tmp_path / "journal.db"
    journal = Journal(path)
    try:
        journal.append(h.events)
        last = h.events[-1]
        journal.checkpoint(
            last.seq, last.ts, h.core.state.trading_day, h.core.state.to_checkpoint()
        )
    finally:
        journal.close()
    h.clock.advance(10)
    moves = [h.quote("EUR_USD", "1.09000", "1.09010"), h.quote("EUR_USD", "1.11500", "1.11510")]
    journal = Journal(path)
    try:
        journal.append_ticks(moves)  # then the power goes: no checkpoint after these
    finally:
        journal.close()

    after = crashed_and_restored(h, path)
    after.standard_quotes()
    after.do(ClosePosition("SIM-USD", "EUR_USD"))

    (trade,) = history(after, QueryTrades()).trades
    assert (trade.mae, trade.mfe) == (D("0.010100"), D("0.014900"))  # 1.09000 and 1.11500


def test_after_a_crash_a_trade_closed_since_the_checkpoint_keeps_its_excursions(
    tmp_path: Path,
) -> None:
    h = Harness()
    h.standard_quotes()
    h.submit("EUR_USD", -1_000)  # short from 1.10000
    checkpointed = len(h.events)
    h.clock.advance(10)
    seen = [h.quote("EUR_USD", "1.10300", "1.10310")]  # against it, before the close
    h.clock.advance(10)
    h.standard_quotes()
    assert h.do(ClosePosition("SIM-USD", "EUR_USD")).ok
    h.clock.advance(10)
    seen.append(h.quote("EUR_USD", "1.05000", "1.05010"))  # after the close: not its
    path = tmp_path / "journal.db"
    journal = Journal(path)
    try:
        journal.append(h.events)
        first = h.events[checkpointed - 1]
        replayed = Harness(h.settings, h.instruments, h.clock, start=False)
        for event in h.events[:checkpointed]:
            replayed.core.state.evolve(event)
        state = replayed.core.state.to_checkpoint()
        journal.checkpoint(first.seq, first.ts, h.core.state.trading_day, state)
        journal.append_ticks(seen)
    finally:
        journal.close()

    after = crashed_and_restored(h, path)

    assert history(after, QueryTrades()).trades == history(h, QueryTrades()).trades
    (trade,) = history(after, QueryTrades()).trades
    assert trade.mae == D("0.003100")  # the 1.10310 ask it could have been bought back at
