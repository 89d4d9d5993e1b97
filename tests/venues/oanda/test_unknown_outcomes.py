"""A request whose outcome stays unknown is settled by a reconciliation soon, not at the next
reconnect (which never comes while the transaction stream is healthy). (Found by the wire-chaos
suite: a trade close answered 503 stayed SUBMITTED for good.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.oanda import TOKEN, Engine, engine_on, ledger_units
from tests.support.waiting import wait_for
from tmt_tui.domain.commands import ClosePosition, SubmitOrder
from tmt_tui.domain.orders import OrderStatus
from tmt_tui.venues.oanda_sim.server import V20ServerThread


@pytest.fixture
def server() -> Iterator[V20ServerThread]:
    with V20ServerThread(token=TOKEN, tick_interval=0.02, heartbeat_interval=0.2) as running:
        yield running


@pytest.fixture
def engine(server: V20ServerThread, tmp_path: Path, token_env: None) -> Iterator[Engine]:
    def ready(e: Engine) -> bool:
        return e.trading("EUR_USD") and "venue.stream" not in e.core.alerts

    with engine_on(server, tmp_path / "journal.db", ready) as running:
        yield running


def test_a_trade_close_answered_503_is_settled_as_never_sent_while_the_stream_stays_up(
    engine: Engine, server: V20ServerThread
) -> None:
    assert engine.ask(SubmitOrder(engine.account, "EUR_USD", 1000)).ok
    wait_for(lambda: engine.position("EUR_USD") == 1000, "the position")
    (trade,) = [t.id for p in engine.core.positions() for t in p.trades]
    connects = engine.runner.venue.stream_connects  # type: ignore[union-attr]
    server.call(
        lambda s: (setattr(s.faults, "fail_next", 1), setattr(s.faults, "fail_status", 503))
    )

    reply = engine.ask(ClosePosition(engine.account, "EUR_USD", trade_id=trade))

    assert reply.order_id is not None
    wait_for(lambda: engine.core.orders.get(reply.order_id) is None, "the close settled")
    (settled,) = [o for o in engine.core.orders.recent if o.id == reply.order_id]
    assert settled.status is OrderStatus.REJECTED
    assert engine.position("EUR_USD") == ledger_units(server, "EUR_USD") == 1000
    assert engine.runner.venue.stream_connects == connects  # type: ignore[union-attr]
    assert engine.ask(ClosePosition(engine.account, "EUR_USD", trade_id=trade)).ok
    wait_for(lambda: engine.position("EUR_USD") == ledger_units(server, "EUR_USD") == 0)
