"""The engine trading an OANDA account: a real EngineRunner against the local v20 server.

Everything goes over loopback HTTP and both streams, exactly as it would against OANDA: orders,
replaces, cancels, closes, fills made outside tmt, restarts and dropped streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.support.engines import journal_events
from tests.support.oanda import (
    TOKEN,
    Engine,
    answer_account_reads,
    engine_on,
    ledger_units,
    oanda_settings,
    stall_account_reads,
)
from tests.support.waiting import wait_for
from tmt_tui.cli.embedded import engine_runner
from tmt_tui.domain.commands import (
    CancelOrder,
    ClosePosition,
    EngageKillSwitch,
    ModifyOrder,
    SubmitOrder,
)
from tmt_tui.domain.events import EventKind
from tmt_tui.domain.orders import OrderType, TimeInForce
from tmt_tui.engine import runner as runner_module
from tmt_tui.venues.base import VenueRefused
from tmt_tui.venues.oanda_sim import views
from tmt_tui.venues.oanda_sim.orders import close_trade
from tmt_tui.venues.oanda_sim.server import V20ServerThread, _Response


@pytest.fixture
def server() -> Iterator[V20ServerThread]:
    with V20ServerThread(token=TOKEN, tick_interval=0.02, heartbeat_interval=0.1) as running:
        yield running


@pytest.fixture
def engine(server: V20ServerThread, tmp_path: Path, token_env: None) -> Iterator[Engine]:
    with engine_on(server, tmp_path / "journal.db", Engine.reconciled) as running:
        yield running


# start ------------------------------------------------------------------------------------------


def test_the_engine_trades_the_oanda_account_with_its_id_currency_and_balance(
    engine: Engine, server: V20ServerThread
) -> None:
    acct = engine.core.portfolio.accounts[engine.account]

    assert engine.account == server.account_id
    assert (acct.currency, acct.balance) == ("USD", Decimal("100000"))
    assert wait_for(lambda: engine.core.quotes.get("EUR_USD")) is not None
    assert sorted(engine.core.quotes.instruments) == ["EUR_USD", "GBP_USD", "USD_JPY"]


def test_a_hedging_account_is_refused_at_start_with_a_clear_message(
    tmp_path: Path, token_env: None
) -> None:
    with (
        V20ServerThread(token=TOKEN, hedging=True) as hedged,
        pytest.raises(VenueRefused, match="hedging enabled; tmt nets positions"),
    ):
        Engine(oanda_settings(hedged, tmp_path / "journal.db"))


def test_a_wrong_token_is_reported_as_rejected_without_showing_it(
    server: V20ServerThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OANDA_TOKEN", "not-the-right-token-1234")

    with pytest.raises(VenueRefused, match="token") as caught:
        Engine(oanda_settings(server, tmp_path / "journal.db"))

    assert "not-the-right-token-1234" not in str(caught.value)


def test_no_token_or_no_account_id_says_which_variable_to_set(
    server: V20ServerThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OANDA_TOKEN", raising=False)
    with pytest.raises(VenueRefused, match="OANDA_TOKEN is not set"):
        Engine(oanda_settings(server, tmp_path / "journal.db"))

    monkeypatch.setenv("OANDA_TOKEN", TOKEN)
    monkeypatch.delenv("OANDA_ACCOUNT_ID", raising=False)
    settings = oanda_settings(server, tmp_path / "journal.db", account_id='""')
    with pytest.raises(VenueRefused, match="OANDA_ACCOUNT_ID"):
        Engine(settings)


def test_an_instrument_the_account_cannot_trade_is_named(
    server: V20ServerThread, tmp_path: Path, token_env: None
) -> None:
    settings = oanda_settings(server, tmp_path / "j.db", instruments='["EUR_USD", "XXX_YYY"]')

    with pytest.raises(VenueRefused, match="XXX_YYY"):
        Engine(settings)


# orders ---------------------------------------------------------------------------------------


def test_a_market_order_fills_and_its_take_profit_and_stop_loss_attach_to_the_trade(
    engine: Engine, server: V20ServerThread
) -> None:
    wait_for(lambda: engine.core.quotes.get("EUR_USD"))

    reply = engine.ask(
        SubmitOrder(
            engine.account, "EUR_USD", 1000, take_profit=Decimal("1.5"), stop_loss=Decimal("0.6")
        )
    )

    assert reply.ok, reply
    wait_for(lambda: engine.position("EUR_USD") == 1000)
    tp = wait_for(lambda: engine.open_orders(OrderType.TAKE_PROFIT))[0]
    sl = wait_for(lambda: engine.open_orders(OrderType.STOP_LOSS))[0]
    (trade,) = next(p for p in engine.core.positions() if p.instrument == "EUR_USD").trades
    assert (tp.price, sl.price) == (Decimal("1.50000"), Decimal("0.60000"))
    assert (tp.units, sl.units) == (-1000, -1000)
    assert (trade.take_profit_order_id, trade.stop_loss_order_id) == (tp.id, sl.id)
    assert ledger_units(server, "EUR_USD") == 1000


def test_a_market_order_s_reply_waits_for_oanda_and_says_it_filled_and_at_what_price(
    engine: Engine, server: V20ServerThread
) -> None:
    """An acknowledged order is one OANDA has: the reply comes with OANDA's answer, so a
    crash between the journal and the request never leaves an ack the venue never saw."""
    wait_for(lambda: engine.core.quotes.get("EUR_USD"))

    reply = engine.ask(SubmitOrder(engine.account, "EUR_USD", 1000))

    assert reply.ok and reply.message.startswith("filled +1,000 EUR_USD @ "), reply
    fills = server.call(lambda s: [t for t in s.ledger.transactions if t["type"] == "ORDER_FILL"])
    assert reply.message.endswith(fills[-1]["price"])


def test_a_limit_order_s_reply_says_it_works_at_oanda(engine: Engine) -> None:
    wait_for(lambda: engine.core.quotes.get("EUR_USD"))

    reply = engine.ask(
        SubmitOrder(engine.account, "EUR_USD", 1000, OrderType.LIMIT, Decimal("1.05"))
    )

    assert (reply.ok, reply.message) == (True, "working +1,000 EUR_USD"), reply

    cancel = engine.ask(CancelOrder(reply.order_id or ""))

    # not "working": the cancel is on its way, and the order pane shows when it lands
    assert (cancel.ok, cancel.message) == (True, "cancel sent"), cancel
    wait_for(lambda: not engine.open_orders(OrderType.LIMIT))


def test_an_order_oanda_does_not_answer_is_replied_to_after_the_wait_saying_so(
    engine: Engine, server: V20ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner_module, "VENUE_ANSWER_WAIT_S", 0.3)
    wait_for(lambda: engine.core.quotes.get("EUR_USD"))
    server.call(lambda s: s.hold(f"/v3/accounts/{s.account_id}/orders"))
    try:
        reply = engine.ask(SubmitOrder(engine.account, "EUR_USD", 1000))
    finally:
        server.call(lambda s: s.release())

    assert reply.ok and reply.message.startswith("sent to the venue, no answer after "), reply
    assert "tmt orders" in reply.message
    wait_for(lambda: engine.position("EUR_USD") == 1000)  # the answer, once released


def test_a_trailing_stop_on_fill_appears_as_a_working_order(engine: Engine) -> None:
    wait_for(lambda: engine.core.quotes.get("EUR_USD"))

    reply = engine.ask(
        SubmitOrder(engine.account, "EUR_USD", -2000, trailing_stop_distance=Decimal("0.005"))
    )

    assert reply.ok, reply
    tsl = wait_for(lambda: engine.open_orders(OrderType.TRAILING_STOP_LOSS))[0]
    assert tsl.units == 2000 and tsl.trade_id is not None


def test_a_limit_order_is_replaced_with_a_new_price_and_size_then_cancelled(
    engine: Engine, server: V20ServerThread
) -> None:
    mid = wait_for(lambda: engine.core.quotes.get("EUR_USD")).mid
    price = (mid * Decimal("0.99")).quantize(Decimal("0.00001"))

    placed = engine.ask(SubmitOrder(engine.account, "EUR_USD", 2000, OrderType.LIMIT, price))
    order = wait_for(lambda: engine.open_orders(OrderType.LIMIT))[0]
    first_venue_id = wait_for(lambda: engine.core.orders.get(placed.order_id).venue_id)
    engine.ask(ModifyOrder(order.id, price - Decimal("0.001"), 3000))
    modified = wait_for(lambda: (o := engine.core.orders.get(order.id)) and o.units == 3000 and o)

    assert modified.price == price - Decimal("0.001")
    assert modified.venue_id != first_venue_id  # OANDA replaced it
    venue_pending = server.call(lambda s: views.pending_orders(s.ledger))
    assert [(o["id"], o["units"]) for o in venue_pending] == [(modified.venue_id, "3000")]

    assert engine.ask(CancelOrder(order.id)).ok
    wait_for(lambda: engine.core.orders.get(order.id) is None)
    assert server.call(lambda s: views.pending_orders(s.ledger)) == []


def test_an_order_oanda_cancels_at_once_shows_oanda_s_reason(engine: Engine) -> None:
    mid = wait_for(lambda: engine.core.quotes.get("EUR_USD")).mid
    below = (mid * Decimal("0.99")).quantize(Decimal("0.00001"))

    placed = engine.ask(
        SubmitOrder(
            engine.account,
            "EUR_USD",
            1000,
            OrderType.LIMIT,
            below,
            time_in_force=TimeInForce.IOC,  # cannot fill now: OANDA accepts, then cancels
        )  # fmt: skip
    )

    done = wait_for(lambda: [o for o in engine.core.orders.recent if o.id == placed.order_id])
    assert (done[0].status.value, done[0].reason) == ("CANCELLED", "TIME_IN_FORCE_EXPIRED")


def test_a_burst_of_429s_delays_an_order_but_never_doubles_it(
    engine: Engine, server: V20ServerThread
) -> None:
    wait_for(lambda: engine.core.quotes.get("EUR_USD"))
    server.call(lambda s: setattr(s.faults, "fail_next", 2))

    assert engine.ask(SubmitOrder(engine.account, "EUR_USD", 1000)).ok

    wait_for(lambda: engine.position("EUR_USD") == 1000)
    assert ledger_units(server, "EUR_USD") == 1000


def test_closing_one_trade_then_the_whole_position(engine: Engine, server: V20ServerThread) -> None:
    wait_for(lambda: engine.core.quotes.get("USD_JPY"))
    engine.ask(SubmitOrder(engine.account, "USD_JPY", 1000))
    engine.ask(SubmitOrder(engine.account, "USD_JPY", 2000))
    wait_for(lambda: engine.position("USD_JPY") == 3000)
    first, second = next(p for p in engine.core.positions() if p.instrument == "USD_JPY").trades

    assert engine.ask(ClosePosition(engine.account, "USD_JPY", trade_id=second.id)).ok
    wait_for(lambda: engine.position("USD_JPY") == 1000)
    (left,) = next(p for p in engine.core.positions() if p.instrument == "USD_JPY").trades
    assert left.id == first.id

    assert engine.ask(ClosePosition(engine.account, "USD_JPY")).ok
    wait_for(lambda: engine.position("USD_JPY") == 0)
    assert ledger_units(server, "USD_JPY") == 0
    balance = server.call(lambda s: s.ledger.balance)
    wait_for(lambda: engine.core.portfolio.accounts[engine.account].balance == balance)


# outside tmt ----------------------------------------------------------------------------------


def test_an_order_from_the_oanda_web_ui_is_adopted_and_its_fill_lands(
    engine: Engine, server: V20ServerThread
) -> None:
    wait_for(lambda: engine.core.quotes.get("GBP_USD"))

    server.call(lambda s: s.outside_market_order("GBP_USD", -700))

    wait_for(lambda: engine.position("GBP_USD") == -700, within=2.0)
    adopted = [o for o in engine.core.orders.recent if o.origin == "venue"]
    assert [(o.units, o.status.value) for o in adopted] == [(-700, "FILLED")]


def test_an_outside_limit_order_is_adopted_as_working_and_can_be_cancelled_from_tmt(
    engine: Engine, server: V20ServerThread
) -> None:
    mid = wait_for(lambda: engine.core.quotes.get("EUR_USD")).mid
    price = (mid * Decimal("0.98")).quantize(Decimal("0.00001"))

    server.call(lambda s: s.outside_limit_order("EUR_USD", 1500, price))
    adopted = wait_for(lambda: engine.open_orders(OrderType.LIMIT))[0]

    assert (adopted.units, adopted.price, adopted.origin) == (1500, price, "venue")
    assert engine.ask(CancelOrder(adopted.id)).ok
    wait_for(lambda: engine.core.orders.get(adopted.id) is None)
    assert server.call(lambda s: views.pending_orders(s.ledger)) == []


def test_a_take_profit_triggered_at_oanda_closes_the_trade_in_tmt(
    engine: Engine, server: V20ServerThread
) -> None:
    wait_for(lambda: engine.core.quotes.get("EUR_USD"))
    engine.ask(SubmitOrder(engine.account, "EUR_USD", 1000, take_profit=Decimal("1.2")))
    wait_for(lambda: engine.open_orders(OrderType.TAKE_PROFIT))

    server.call(lambda s: s.set_price("EUR_USD", "1.20010", "1.20020"))

    wait_for(lambda: engine.position("EUR_USD") == 0, within=2.0)
    assert engine.open_orders() == []


# restarts, reconciliation, dropped streams -----------------------------------------------------


def hold_price_streams(server: V20ServerThread) -> Callable[[], None]:
    """Hold every pricing stream at the server until the returned function is called. The
    engine then reconciles before it has a single price: the two streams are separate
    connections that nothing orders, and a loaded machine may well serve the transactions first.
    """
    opened = asyncio.Event()

    def install(s: Any) -> None:
        for i, (method, pattern, route) in enumerate(s._routes):
            if route.__name__ == "_pricing_stream":

                async def held(request: Any, *args: Any, _route: Any = route) -> Any:
                    await opened.wait()
                    return await _route(request, *args)

                s._routes[i] = (method, pattern, held)

    def release() -> None:
        with contextlib.suppress(RuntimeError):  # the server has stopped: nothing to hold
            server.call(lambda s: opened.set())

    server.call(install)
    return release


def test_a_restart_reconciles_what_happened_at_oanda_while_tmt_was_down(
    server: V20ServerThread, tmp_path: Path, token_env: None
) -> None:
    journal = tmp_path / "journal.db"
    release_prices = hold_price_streams(server)
    first = Engine(oanda_settings(server, journal))
    wait_for(first.reconciled)
    threading.Timer(0.3, release_prices).start()  # the first prices come after reconciling
    wait_for(lambda: first.trading("EUR_USD"))
    bought = first.ask(SubmitOrder(first.account, "EUR_USD", 1000, take_profit=Decimal("1.3")))
    assert bought.ok, bought
    wait_for(lambda: first.open_orders(OrderType.TAKE_PROFIT))
    first.stop()

    server.call(lambda s: s.outside_market_order("USD_JPY", 400))  # while tmt is down
    server.call(lambda s: s.set_price("EUR_USD", "1.30010", "1.30020"))  # the TP fires

    second = Engine(oanda_settings(server, journal))
    try:
        wait_for(second.reconciled)
        wait_for(lambda: second.position("USD_JPY") == 400)
        assert second.position("EUR_USD") == 0
        assert second.open_orders() == []
        balance = server.call(lambda s: s.ledger.balance)
        assert second.core.portfolio.accounts[second.account].balance == balance
    finally:
        second.stop()
    fills = journal_events(journal, EventKind.ORDER_FILLED)
    assert len({f["fill_id"] for f in fills}) == len(fills) == 3  # buy, TP, outside: once each


def test_what_a_new_account_did_while_tmt_was_down_after_a_quiet_first_run_is_booked(
    server: V20ServerThread, tmp_path: Path, token_env: None
) -> None:
    # the account's history starts at transaction 0; a first run that journaled no venue
    # transaction once left cursor 0, and the restart took the journal for a new one and
    # skipped everything since (a new journal starts at the account's present; an old one never)
    journal = tmp_path / "journal.db"
    first = Engine(oanda_settings(server, journal))
    wait_for(first.reconciled)
    first.stop()

    server.call(lambda s: s.outside_market_order("USD_JPY", 400))  # while tmt is down

    second = Engine(oanda_settings(server, journal))
    try:
        wait_for(second.reconciled)
        wait_for(lambda: second.position("USD_JPY") == 400)
    finally:
        second.stop()
    fills = journal_events(journal, EventKind.ORDER_FILLED)
    assert [f["units"] for f in fills] == [400]  # the fill itself, not a position correction


def test_a_first_start_stopped_before_its_first_reconciliation_still_starts_at_the_present(
    server: V20ServerThread, tmp_path: Path, token_env: None
) -> None:
    # the account traded before tmt ever saw it; tmt's first start is cut short before it
    # reconciled (a checkpoint, but no venue history). Once, the restart took that journal for
    # an old one and replayed the account's whole past as fills, hiding the gap as a transfer.
    server.call(lambda s: s.outside_market_order("USD_JPY", 400))  # before tmt
    journal = tmp_path / "journal.db"
    stall_account_reads(server)
    first = Engine(oanda_settings(server, journal))
    first.stop()  # before the (stalled) first reconciliation completed
    answer_account_reads(server)
    assert journal_events(journal, EventKind.VENUE_RECONCILED) == []

    second = Engine(oanda_settings(server, journal))
    try:
        wait_for(second.reconciled)
        acct = second.core.portfolio.accounts[second.account]
        assert second.position("USD_JPY") == 400  # taken as it stands
        assert (acct.realized, acct.transfers) == (0, 0)
    finally:
        second.stop()
    assert journal_events(journal, EventKind.ORDER_FILLED) == []  # the past is not replayed


def test_reconciled_before_the_first_price_an_order_is_refused_no_quote_then_taken(
    server: V20ServerThread, tmp_path: Path, token_env: None
) -> None:
    release_prices = hold_price_streams(server)
    engine = Engine(oanda_settings(server, tmp_path / "journal.db"))
    try:
        wait_for(engine.reconciled)
        refused = engine.ask(SubmitOrder(engine.account, "EUR_USD", 1000))
        assert (refused.ok, refused.code) == (False, "NO_QUOTE")  # said at once, not lost

        release_prices()
        wait_for(lambda: engine.trading("EUR_USD"))

        assert engine.ask(SubmitOrder(engine.account, "EUR_USD", 1000)).ok
        wait_for(lambda: engine.position("EUR_USD") == 1000)
    finally:
        engine.stop()


def test_new_orders_wait_with_reconciling_until_the_venue_book_is_read(
    server: V20ServerThread, tmp_path: Path, token_env: None
) -> None:
    stall_account_reads(server)  # reconciling lasts until the venue answers
    slow = Engine(oanda_settings(server, tmp_path / "journal.db"))
    try:
        refused = slow.ask(SubmitOrder(slow.account, "EUR_USD", 1000))
        assert (refused.ok, refused.code) == (False, "RECONCILING")
        assert "venue.reconciling" in slow.core.alerts

        answer_account_reads(server)
        wait_for(slow.reconciled)
        wait_for(lambda: slow.core.quotes.get("EUR_USD"))
        assert slow.ask(SubmitOrder(slow.account, "EUR_USD", 1000)).ok
    finally:
        answer_account_reads(server)
        slow.stop()


def test_streams_dropping_again_and_again_lose_no_fill_and_double_none(
    server: V20ServerThread, tmp_path: Path, token_env: None
) -> None:
    journal = tmp_path / "journal.db"
    server.call(lambda s: setattr(s.faults, "drop_streams_after", 0.15))
    flaky = Engine(oanda_settings(server, journal))
    try:
        wait_for(flaky.reconciled)
        ours = 0  # an order sent while a reconnect reconciles is refused: count what went
        for i in range(12):
            server.call(lambda s: s.outside_market_order("GBP_USD", 100))
            if i % 3 == 0:
                ours += flaky.ask(SubmitOrder(flaky.account, "GBP_USD", 50)).ok
            time.sleep(0.07)
        wait_for(lambda: flaky.position("GBP_USD") == 12 * 100 + ours * 50)
        ticks = flaky.core.quotes.get("GBP_USD").ts
        wait_for(lambda: flaky.core.quotes.get("GBP_USD").ts > ticks)  # prices still flow
        assert flaky.runner.venue is not None and flaky.runner.venue.stream_connects > 2
    finally:
        flaky.stop()
    assert ledger_units(server, "GBP_USD") == 1200 + ours * 50
    fills = journal_events(journal, EventKind.ORDER_FILLED)
    assert len({f["fill_id"] for f in fills}) == len(fills) == 12 + ours


def test_the_token_never_reaches_the_journal_or_the_logs(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wait_for(lambda: engine.core.quotes.get("EUR_USD"))
    engine.ask(SubmitOrder(engine.account, "EUR_USD", 1000))
    wait_for(lambda: engine.position("EUR_USD") == 1000)
    path = engine.runner.settings.journal_path()
    engine.stop()

    assert TOKEN not in caplog.text
    for file in path.parent.iterdir():
        assert TOKEN.encode() not in file.read_bytes(), file
    # nor the audit export of that journal (the config at each start is in it)
    out = path.parent.parent / "export"
    for fmt in ("csv", "jsonl"):
        exported = subprocess.run(
            [sys.executable, "-m", "tmt_tui", "report", "--journal", str(path),
             "--out", str(out), "--format", fmt],
            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        assert exported.returncode == 0, exported.stderr
        assert TOKEN not in exported.stdout + exported.stderr
    assert sorted(f.name for f in out.iterdir()) == [
        "controls.csv", "controls.jsonl", "manifest.json", "orders.csv", "orders.jsonl",
    ]  # fmt: skip
    for file in out.iterdir():
        assert TOKEN.encode() not in file.read_bytes(), file


def test_an_order_accepted_but_never_answered_is_found_by_its_client_id_not_sent_twice(
    server: V20ServerThread, tmp_path: Path, token_env: None
) -> None:
    settings = oanda_settings(server, tmp_path / "journal.db", request_timeout_s="0.5")
    patient = Engine(settings)
    try:
        wait_for(patient.reconciled)
        wait_for(lambda: patient.core.quotes.get("EUR_USD"))
        server.call(lambda s: setattr(s.faults, "swallow_orders", 1))

        reply = patient.ask(SubmitOrder(patient.account, "EUR_USD", 1000))

        # the answer was lost: the reply comes once reconciliation has found the fill
        assert reply.ok and reply.message.startswith("filled +1,000 EUR_USD"), reply
        wait_for(lambda: patient.position("EUR_USD") == 1000)
        assert ledger_units(server, "EUR_USD") == 1000
        orders = server.call(lambda s: [o for o in s.ledger.orders.values()])
        assert len([o for o in orders if o["type"] == "MARKET"]) == 1
    finally:
        patient.stop()


def test_malformed_lines_and_bad_prices_on_the_stream_are_dropped_and_prices_go_on(
    server: V20ServerThread, tmp_path: Path, token_env: None
) -> None:
    junk = [
        b"{not json\n",
        b'{"type":"PRICE","instrument":"EUR_USD","time":"2026-11-27T10:00:00Z",'
        b'"bids":[{"price":"NaN","liquidity":1}],"asks":[{"price":"1.1","liquidity":1}]}\n',
        b'{"type":"PRICE","instrument":"EUR_USD","time":"2026-11-27T10:00:00Z",'
        b'"bids":[{"price":"-1.0","liquidity":1}],"asks":[{"price":"1.1","liquidity":1}]}\n',
        b'{"type":"PRICE","instrument":"XAU_XXX","time":"2026-11-27T10:00:00Z",'
        b'"bids":[{"price":"1.0","liquidity":1}],"asks":[{"price":"1.1","liquidity":1}]}\n',
    ]
    server.call(lambda s: setattr(s.faults, "raw_stream_lines", junk))
    engine = Engine(oanda_settings(server, tmp_path / "journal.db"))
    try:
        feed = engine.runner.venue.feed if engine.runner.venue else None
        assert feed is not None
        wait_for(lambda: feed.parser.skipped >= len(junk))
        first = wait_for(lambda: engine.core.quotes.get("EUR_USD"))
        wait_for(lambda: engine.core.quotes.get("EUR_USD").ts > first.ts)
        assert Decimal(0) < engine.core.quotes.get("EUR_USD").bid < Decimal(2)
    finally:
        engine.stop()


class Reconnects:
    """An observer that counts venue reconnects (the metric's source)."""

    def __init__(self) -> None:
        self.venues: list[str] = []

    def __getattr__(self, name: str) -> Callable[..., None]:
        return lambda *args: None

    def reconnected(self, venue: str) -> None:
        self.venues.append(venue)

    def quoting(self, instruments: frozenset[str]) -> None:
        return None


def test_every_stream_reconnect_is_reported_to_monitoring(
    server: V20ServerThread, tmp_path: Path, token_env: None
) -> None:
    seen = Reconnects()
    runner = engine_runner(oanda_settings(server, tmp_path / "journal.db"), observer=seen)  # type: ignore[arg-type]
    runner.start()
    try:
        server.call(lambda s: setattr(s.faults, "drop_streams_after", 0.1))
        wait_for(lambda: {"oanda-pricing", "oanda-transactions"} <= set(seen.venues))
    finally:
        server.call(lambda s: setattr(s.faults, "drop_streams_after", None))
        runner.stop()


def test_the_kill_switch_cancels_working_orders_at_oanda_and_keeps_take_profits(
    engine: Engine, server: V20ServerThread
) -> None:
    mid = wait_for(lambda: engine.core.quotes.get("EUR_USD")).mid
    engine.ask(SubmitOrder(engine.account, "EUR_USD", 1000, take_profit=Decimal("1.3")))
    below = (mid * Decimal("0.99")).quantize(Decimal("0.00001"))
    engine.ask(SubmitOrder(engine.account, "EUR_USD", 1000, OrderType.LIMIT, below))
    wait_for(
        lambda: engine.open_orders(OrderType.LIMIT) and engine.open_orders(OrderType.TAKE_PROFIT)
    )

    assert engine.ask(EngageKillSwitch(reason="test")).ok

    wait_for(lambda: not engine.open_orders(OrderType.LIMIT))
    pending = server.call(lambda s: views.pending_orders(s.ledger))
    assert [o["type"] for o in pending] == ["TAKE_PROFIT"]
    refused = engine.ask(SubmitOrder(engine.account, "EUR_USD", 1000))
    assert not refused.ok


def test_an_order_unanswered_when_tmt_stopped_is_settled_by_the_next_start(
    server: V20ServerThread, tmp_path: Path, token_env: None
) -> None:
    journal = tmp_path / "journal.db"
    first = Engine(oanda_settings(server, journal, request_timeout_s="30.0"))
    wait_for(first.reconciled)
    wait_for(lambda: first.core.quotes.get("EUR_USD"))
    server.call(lambda s: setattr(s.faults, "swallow_orders", 1))
    placed = first.ask(SubmitOrder(first.account, "EUR_USD", 1000))
    wait_for(lambda: ledger_units(server, "EUR_USD") == 1000)  # filled; the answer never comes
    first.stop()

    second = Engine(oanda_settings(server, journal))
    try:
        wait_for(second.reconciled)
        wait_for(lambda: second.position("EUR_USD") == 1000)
        assert second.core.orders.get(placed.order_id) is None  # filled, no longer open
    finally:
        second.stop()
    fills = journal_events(journal, EventKind.ORDER_FILLED)
    assert [f["order_id"] for f in fills] == [placed.order_id]


def test_a_trade_closed_by_id_is_booked_once_across_a_restart(
    server: V20ServerThread, tmp_path: Path, token_env: None
) -> None:
    """OANDA's trade close takes no client id: its transactions, replayed after a restart,
    must be known as already booked rather than adopted as an outside order."""
    journal = tmp_path / "journal.db"
    first = Engine(oanda_settings(server, journal))
    wait_for(first.reconciled)
    wait_for(lambda: first.core.quotes.get("USD_JPY"))
    first.ask(SubmitOrder(first.account, "USD_JPY", 1000))
    first.ask(SubmitOrder(first.account, "USD_JPY", 2000))
    wait_for(lambda: first.position("USD_JPY") == 3000)
    _, second_trade = next(p for p in first.core.positions() if p.instrument == "USD_JPY").trades
    first.ask(ClosePosition(first.account, "USD_JPY", trade_id=second_trade.id))
    wait_for(lambda: first.position("USD_JPY") == 1000)
    first.stop()

    again = Engine(oanda_settings(server, journal))
    try:
        wait_for(again.reconciled)
        assert again.position("USD_JPY") == 1000
        assert not [o for o in again.core.orders.open.values() if o.origin == "venue"]
    finally:
        again.stop()
    fills = journal_events(journal, EventKind.ORDER_FILLED)
    assert len(fills) == 3 and len({f["fill_id"] for f in fills}) == 3
    assert journal_events(journal, EventKind.POSITION_SYNCED) == []


def test_moving_a_take_profit_replaces_it_on_the_trade_at_oanda(
    engine: Engine, server: V20ServerThread
) -> None:
    wait_for(lambda: engine.core.quotes.get("EUR_USD"))
    engine.ask(SubmitOrder(engine.account, "EUR_USD", 1000, take_profit=Decimal("1.3")))
    tp = wait_for(lambda: engine.open_orders(OrderType.TAKE_PROFIT))[0]

    assert engine.ask(ModifyOrder(tp.id, Decimal("1.25"))).ok

    moved = wait_for(
        lambda: (o := engine.core.orders.get(tp.id)) and o.price == Decimal("1.25") and o
    )
    assert moved.venue_id != tp.venue_id and moved.units == -1000
    (trade,) = server.call(lambda s: views.open_trades(s.ledger))
    assert trade["takeProfitOrder"]["price"] == "1.25000"
    assert trade["takeProfitOrder"]["id"] == moved.venue_id


# what a review found: each of these once lost a fill, a lot or the stream --------------------


def answer_with_errors(server: V20ServerThread, handler: str, times: int, status: int) -> None:
    """The next ``times`` requests to one route of the server answer ``status``."""

    def install(s: Any) -> None:
        for i, (method, pattern, route) in enumerate(s._routes):
            if route.__name__ == handler:
                left = {"n": times}

                async def flaky(
                    request: Any, *args: Any, _route: Any = route, left: dict[str, int] = left
                ) -> Any:
                    if left["n"] > 0:
                        left["n"] -= 1
                        return _Response(status, {"errorMessage": "Server error"})
                    return await _route(request, *args)

                s._routes[i] = (method, pattern, flaky)

    server.call(install)


def test_a_token_with_a_stray_line_break_is_refused_without_being_shown(
    server: V20ServerThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OANDA_TOKEN", TOKEN + "\r")  # a token file saved on Windows

    with pytest.raises(VenueRefused, match="line breaks") as caught:
        Engine(oanda_settings(server, tmp_path / "journal.db"))

    assert TOKEN not in str(caught.value)


def test_orders_stay_refused_until_a_reconciliation_succeeds(
    server: V20ServerThread, tmp_path: Path, token_env: None
) -> None:
    answer_with_errors(server, "_account", 5, 503)  # the snapshot fails (retries, then again)
    engine = Engine(oanda_settings(server, tmp_path / "journal.db"))
    try:
        wait_for(lambda: engine.core.quotes.get("EUR_USD"))
        refused = engine.ask(SubmitOrder(engine.account, "EUR_USD", 1000))
        assert (refused.ok, refused.code) == (False, "RECONCILING")

        wait_for(engine.reconciled)
        assert engine.ask(SubmitOrder(engine.account, "EUR_USD", 1000)).ok
    finally:
        engine.stop()


def test_a_refused_history_read_does_not_end_the_transaction_stream(
    engine: Engine, server: V20ServerThread
) -> None:
    wait_for(lambda: engine.core.quotes.get("GBP_USD"))
    answer_with_errors(server, "_since", 1, 416)
    server.call(lambda s: setattr(s.faults, "drop_streams_after", 0.05))
    wait_for(lambda: engine.runner.venue is not None and engine.runner.venue.stream_connects > 2)
    server.call(lambda s: setattr(s.faults, "drop_streams_after", None))

    server.call(lambda s: s.outside_market_order("GBP_USD", 300))

    wait_for(lambda: engine.position("GBP_USD") == 300)


def test_a_trade_closed_in_oanda_s_ui_closes_that_lot_in_tmt(
    engine: Engine, server: V20ServerThread
) -> None:
    wait_for(lambda: engine.core.quotes.get("USD_JPY"))
    engine.ask(SubmitOrder(engine.account, "USD_JPY", 1000))
    engine.ask(SubmitOrder(engine.account, "USD_JPY", 1000))
    wait_for(lambda: engine.position("USD_JPY") == 2000)
    first, second = next(p for p in engine.core.positions() if p.instrument == "USD_JPY").trades

    server.call(lambda s: close_trade(s.ledger, second.id, {"units": "ALL"}))

    wait_for(lambda: engine.position("USD_JPY") == 1000)
    (left,) = next(p for p in engine.core.positions() if p.instrument == "USD_JPY").trades
    assert left.id == first.id


def test_an_outside_order_on_an_instrument_tmt_does_not_follow_is_not_adopted(
    engine: Engine, server: V20ServerThread
) -> None:
    server.call(lambda s: s.outside_market_order("AUD_USD", 500))  # not in oanda.instruments
    server.call(lambda s: s.outside_market_order("EUR_USD", 100))  # a marker after it

    wait_for(lambda: engine.position("EUR_USD") == 100)
    assert [o.instrument for o in engine.open_orders()] == []


def test_moving_a_trailing_stop_changes_its_distance(
    engine: Engine, server: V20ServerThread
) -> None:
    wait_for(lambda: engine.core.quotes.get("EUR_USD"))
    engine.ask(
        SubmitOrder(engine.account, "EUR_USD", 1000, trailing_stop_distance=Decimal("0.005"))
    )
    tsl = wait_for(lambda: engine.open_orders(OrderType.TRAILING_STOP_LOSS))[0]

    assert engine.ask(ModifyOrder(tsl.id, Decimal("0.008"))).ok

    moved = wait_for(
        lambda: (
            (o := engine.core.orders.get(tsl.id))
            and o.trailing_stop_distance == Decimal("0.008")
            and o
        )
    )
    assert moved.price is None
    (trade,) = server.call(lambda s: views.open_trades(s.ledger))
    assert Decimal(trade["trailingStopLossOrder"]["distance"]) == Decimal("0.008")


def test_realized_pl_and_balance_are_oanda_s_own_and_the_ledger_identity_holds(
    engine: Engine, server: V20ServerThread
) -> None:
    # once, a USD account trading 10k USD_JPY moved its balance by -140.00 USD while tmt said
    # realized was -0.93: the server booked JPY as USD and tmt copied one figure, computed
    # the other. Now realized P&L is OANDA's per trade, converted home by OANDA.
    wait_for(lambda: engine.core.quotes.get("USD_JPY"))
    for units in (10_000, -4_000, 3_000, -9_000, 5_000, -5_000):
        assert engine.ask(SubmitOrder(engine.account, "USD_JPY", units)).ok
    wait_for(lambda: engine.position("USD_JPY") == 0 and ledger_units(server, "USD_JPY") == 0)

    def oanda_figures() -> tuple[Decimal, Decimal]:
        fills = [
            t
            for t in server.call(lambda s: list(s.ledger.transactions))
            if t["type"] == "ORDER_FILL"
        ]
        pieces = [
            p
            for f in fills
            for p in (
                *f.get("tradesClosed", ()),
                *([f["tradeReduced"]] if f.get("tradeReduced") else []),
            )
        ]
        return sum((Decimal(p["realizedPL"]) for p in pieces), Decimal(0)), server.call(
            lambda s: s.ledger.balance
        )

    realized, balance = oanda_figures()
    acct = engine.core.portfolio.accounts[engine.account]
    wait_for(lambda: acct.balance == balance)
    assert acct.realized == realized
    assert acct.balance == acct.opening + acct.realized + acct.financing + acct.transfers
    assert (acct.financing, acct.transfers) == (0, 0)
    assert abs(realized) < 50  # a few pips on 10k USD_JPY: dollars, not thousands of yen


def test_the_pairs_that_convert_pl_home_are_streamed_too_so_every_position_is_valued(
    server: V20ServerThread, tmp_path: Path, token_env: None
) -> None:
    # a USD account following GBP_JPY but not USD_JPY once valued its position at zero and
    # could not close it (no JPY->USD rate): now the engine streams USD_JPY as well
    engine = Engine(
        oanda_settings(server, tmp_path / "journal.db", instruments='["EUR_USD", "GBP_JPY"]')
    )
    try:
        assert "USD_JPY" in engine.core.quotes.instruments
        wait_for(lambda: engine.trading("GBP_JPY", "USD_JPY"))
        assert engine.ask(SubmitOrder(engine.account, "GBP_JPY", 1000)).ok
        wait_for(lambda: engine.position("GBP_JPY") == 1000)
        wait_for(lambda: engine.core.positions()[0].margin_used > 0, "a valued position")
        assert engine.ask(ClosePosition(engine.account, "GBP_JPY")).ok
        wait_for(lambda: engine.position("GBP_JPY") == 0)
        acct = engine.core.portfolio.accounts[engine.account]
        assert acct.realized == server.call(lambda s: s.ledger.pl)
    finally:
        engine.stop()
