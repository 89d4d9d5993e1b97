"""Transactions the stream never delivered: the engine must read them before going on.

OANDA numbers an account's transactions one by one, so a streamed id more than one past the
last one read, or a heartbeat's ``lastTransactionID`` ahead of it, means some were lost on the
wire; ``transactions/sinceid`` reads them back. (Found by the wire-chaos suite.)
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from tests.support.engines import journal_events
from tests.support.oanda import TOKEN, Engine, engine_on, ledger_units
from tests.support.waiting import wait_for
from tmt_tui.domain.commands import ModifyOrder, SubmitOrder
from tmt_tui.domain.events import EventKind
from tmt_tui.domain.orders import OrderType
from tmt_tui.venues.oanda_sim.server import V20ServerThread


@pytest.fixture
def server() -> Iterator[V20ServerThread]:
    """Heartbeats after a second of quiet (inside the stream's 2 s silence limit): a gap must be
    noticed by the next transaction, not by a heartbeat."""
    with V20ServerThread(token=TOKEN, tick_interval=0.02, heartbeat_interval=1.0) as running:
        yield running


@pytest.fixture
def engine(server: V20ServerThread, tmp_path: Path, token_env: None) -> Iterator[Engine]:
    def ready(e: Engine) -> bool:
        return e.reconciled() and "venue.stream" not in e.core.alerts

    with engine_on(server, tmp_path / "journal.db", ready) as running:
        server.call(lambda s: s.outside_market_order("EUR_USD", 1))  # the stream is flowing
        wait_for(lambda: running.position("EUR_USD") == 1, "the stream's first fill")
        yield running


def test_transactions_lost_before_a_later_one_on_the_stream_are_read_back_first(
    engine: Engine, server: V20ServerThread
) -> None:
    server.call(lambda s: setattr(s.faults, "skip_txns", 2))  # the first order's create and fill
    server.call(lambda s: s.outside_market_order("EUR_USD", 100))

    server.call(lambda s: s.outside_market_order("EUR_USD", 200))

    wait_for(lambda: engine.position("EUR_USD") == 301, "both fills")
    assert ledger_units(server, "EUR_USD") == 301
    last = int(server.call(lambda s: s.ledger.last_id))
    mapper = engine.runner.venue.mapper  # type: ignore[union-attr]
    assert [t for t in range(1, last + 1) if not mapper.seen(str(t))] == []
    journal = engine.runner.settings.journal_path()
    engine.stop()
    fills = journal_events(journal, EventKind.ORDER_FILLED)
    assert sorted(f["units"] for f in fills) == [1, 100, 200]


def test_transactions_lost_at_the_end_of_the_stream_are_read_back_after_its_heartbeat(
    engine: Engine, server: V20ServerThread
) -> None:
    server.call(lambda s: setattr(s.faults, "skip_txns", 2))

    server.call(lambda s: s.outside_market_order("GBP_USD", -400))

    wait_for(lambda: engine.position("GBP_USD") == -400, "the fill the heartbeat revealed")
    assert not engine.core.flags.reconciling and engine.runner.venue.stream_connects == 1  # type: ignore[union-attr]


def test_an_answer_that_reduces_a_trade_the_stream_has_not_shown_yet_is_booked_after_it(
    engine: Engine, server: V20ServerThread
) -> None:
    wait_for(lambda: engine.core.quotes.get("GBP_USD"), "a GBP_USD price")
    server.call(lambda s: setattr(s.faults, "skip_txns", 4))  # both orders' create and fill
    server.call(lambda s: s.outside_market_order("GBP_USD", -400))

    reply = engine.ask(SubmitOrder(engine.account, "GBP_USD", 300))  # reduces that trade

    assert reply.ok, reply
    wait_for(lambda: engine.position("GBP_USD") == -100, "the outside fill, then ours")
    lots = [(t.units, t.initial_units) for p in engine.core.positions() for t in p.trades
            if p.instrument == "GBP_USD"]  # fmt: skip
    assert lots == [(-100, -400)]  # the outside trade, reduced by ours
    journal = engine.runner.settings.journal_path()
    engine.stop()
    assert journal_events(journal, EventKind.POSITION_SYNCED) == []


def test_a_replace_that_fills_against_a_trade_the_stream_has_not_shown_yet_is_booked_after_it(
    engine: Engine, server: V20ServerThread
) -> None:
    ask = wait_for(lambda: engine.core.quotes.get("GBP_USD"), "a GBP_USD price").ask
    far = (ask * Decimal("0.97")).quantize(Decimal("0.00001"))
    placed = engine.ask(SubmitOrder(engine.account, "GBP_USD", 300, OrderType.LIMIT, far))
    wait_for(lambda: engine.open_orders(OrderType.LIMIT), "the limit working")
    server.call(lambda s: setattr(s.faults, "skip_txns", 5))  # the outside order, the replace
    server.call(lambda s: s.outside_market_order("GBP_USD", -400))

    through = (ask * Decimal("1.02")).quantize(Decimal("0.00001"))
    assert engine.ask(ModifyOrder(str(placed.order_id), through, 300)).ok

    wait_for(lambda: engine.position("GBP_USD") == -100, "the outside fill, then the replace's")
    lots = [(t.units, t.initial_units) for p in engine.core.positions() for t in p.trades
            if p.instrument == "GBP_USD"]  # fmt: skip
    assert lots == [(-100, -400)]
    journal = engine.runner.settings.journal_path()
    engine.stop()
    assert journal_events(journal, EventKind.POSITION_SYNCED) == []
