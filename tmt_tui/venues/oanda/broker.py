"""``Broker`` and ``MarketDataFeed`` over the OANDA client, as venues/base.py defines them.

The engine calls ``submit``/``modify``/``cancel`` on its own thread; the HTTP work runs as tasks
on the loop the broker was given (the engine's own loop when the runner owns it, so every answer
reaches the sink on the engine thread with no hop). A request's answer becomes venue events at
once, for a fast acknowledgement; the transaction stream later shows the same transactions, and
the shared ``TransactionMapper`` makes sure each becomes an event only once.

A request whose outcome stays unknown after the client's own lookups is logged and left for
reconciliation: reporting it as rejected could hide a live order. ``on_unknown`` asks the venue
for that reconciliation soon, so the order does not wait for the next reconnect to be settled.

An answer is booked only in order: when transactions before it have not been read yet (the
stream is behind, or lost them), booking it first would, say, reduce a trade the engine has not
seen opened. Those are read first (``catch_up``, the venue's ``transactions/sinceid`` backfill),
which books the answer's own transactions too; if that read fails, the answer is left to the
stream and the next reconciliation, which book it in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from decimal import Decimal
from typing import Any

from tmt_tui.domain.instruments import Instrument
from tmt_tui.domain.market import Bar
from tmt_tui.domain.orders import Order, OrderType
from tmt_tui.domain.positions import Trade
from tmt_tui.domain.quotes import Quote
from tmt_tui.domain.reasons import Reason
from tmt_tui.venues.base import (
    HistoryUnavailable,
    QuoteSink,
    StatusHook,
    VenueAccepted,
    VenueCancelled,
    VenueEvent,
    VenueFilled,
    VenueModified,
    VenueRejected,
    VenueSink,
)
from tmt_tui.venues.oanda import answers
from tmt_tui.venues.oanda.backoff import ReconnectBackoff
from tmt_tui.venues.oanda.candles import bars_of_candles
from tmt_tui.venues.oanda.client import OandaClient, StreamDropped, TokenRejected
from tmt_tui.venues.oanda.errors import OandaError
from tmt_tui.venues.oanda.stream import Heartbeat, PriceStreamParser
from tmt_tui.venues.oanda.transactions import TransactionMapper

log = logging.getLogger(__name__)
_SUFFIX_KEY = {OrderType.TAKE_PROFIT: "tp", OrderType.STOP_LOSS: "sl",
               OrderType.TRAILING_STOP_LOSS: "tsl"}  # fmt: skip


def _drop(_: VenueEvent) -> None:
    return None


def _quiet(key: str, active: bool, message: str) -> None:
    return None


#: Read the account's transactions up to the given id into the sink (the venue's backfill).
CatchUp = Callable[[VenueSink, int], Awaitable[None]]


def filled(
    order_id: str, fill_id: str, fill: answers.Filled, seen: tuple[str, ...] = ()
) -> VenueFilled:
    """A fill from a request's answer, with the trades it closed and OANDA's own P&L."""
    return VenueFilled(
        order_id,
        fill_id,
        fill.units,
        fill.price,
        fill.ts,
        "",
        seen,
        closes=fill.closes,
        financing=fill.financing,
    )


class OandaBroker:
    """Sends orders to OANDA and reports the answers as venue events."""

    def __init__(
        self,
        client: OandaClient,
        loop: asyncio.AbstractEventLoop,
        instruments: Iterable[Instrument] = (),
        mapper: TransactionMapper | None = None,
        catch_up: CatchUp | None = None,
        on_unknown: Callable[[], None] | None = None,
    ) -> None:
        self._client = client
        self._catch_up = catch_up
        self._on_unknown = on_unknown
        self._loop = loop
        self._instruments = {i.name: i for i in instruments}
        self.mapper = mapper or TransactionMapper(client.account_id, tag="")
        self._sink: VenueSink = _drop
        self._tasks: set[asyncio.Future[None]] = set()
        self.in_flight: set[str] = set()  # orders sent whose answer has not come back yet

    def connect(self, sink: VenueSink) -> None:
        self._sink = sink

    def restore(self, open_orders: Iterable[Order], trades: Iterable[Trade]) -> None:
        """OANDA holds the book; reconciliation compares it with ours. Learn our venue ids."""
        for order in open_orders:
            if order.venue_id:
                self.mapper.learn(order.venue_id, order.id)

    def on_quote(self, quote: Quote) -> None:
        """A real venue moves its own prices."""

    def submit(self, order: Order) -> None:
        self.in_flight.add(order.id)
        self._run(self._submit(order))

    def cancel(self, order: Order) -> None:
        self._run(self._cancel(order))

    def modify(self, order: Order, price: Decimal | None, units: int) -> None:
        self._run(self._modify(order, price, units))

    async def drain(self) -> None:
        """Wait for every request sent so far to be answered (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _run(self, coro: Coroutine[Any, Any, None]) -> None:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        future: asyncio.Future[None]
        if running is self._loop:
            future = self._loop.create_task(coro)
        else:
            future = asyncio.wrap_future(
                asyncio.run_coroutine_threadsafe(coro, self._loop), loop=self._loop
            )
        self._tasks.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: asyncio.Future[None]) -> None:
        self._tasks.discard(future)
        if not future.cancelled() and future.exception() is not None:
            log.error("OANDA request failed", exc_info=future.exception())

    def _emit(self, *events: VenueEvent) -> None:
        for event in events:
            self._sink(event)

    def _wire(self, order: Order, **changes: Any) -> Order:
        """The order as OANDA sees it: our id behind the journal's client-id tag."""
        return order.with_changes({"id": self.mapper.client_id(order.id), **changes})

    # submit ---------------------------------------------------------------------------------

    async def _submit(self, order: Order) -> None:
        try:
            await self._send(order)
        finally:
            self.in_flight.discard(order.id)

    async def _send(self, order: Order) -> None:
        inst = self._instruments.get(order.instrument)
        outcome: answers.SubmitOutcome | None
        try:
            if order.type is OrderType.MARKET and order.trade_id and order.reduce_only:
                self.mapper.expect_close(order.trade_id, order.id)
                outcome = await self._client.close_trade(order.trade_id, abs(order.units))
            else:
                outcome = await self._client.submit(self._wire(order), inst)
        except TokenRejected as exc:
            self._emit(VenueRejected(order.id, Reason.BROKER_REJECT.value, str(exc)))
            return
        except OandaError as exc:
            outcome = await self._settle(order, exc)
        if outcome is not None:
            self._report(order, outcome, await self._in_order(outcome))

    async def _in_order(self, outcome: answers.SubmitOutcome | answers.Replaced) -> bool:
        """Whether the answer may be booked now: no unread transaction comes before it (read
        them first, if need be); see the module docstring."""
        ids = [int(t) for t in outcome.txn_ids if t.isdigit()]
        if isinstance(outcome, answers.Rejected) or not ids or self._catch_up is None:
            return True  # no history to read (a broker on its own): the answer is all there is
        if self.mapper.quiet or min(ids) <= self.mapper.cursor + 1:
            return True
        try:
            await self._catch_up(self._sink, max(ids))
        except OandaError as exc:
            log.warning("transactions before an answer unread (%s); the stream books it", exc)
            return False
        return True

    async def _settle(self, order: Order, error: OandaError) -> answers.SubmitOutcome | None:
        """OANDA did not answer: one more look by client id. Not there means it never arrived
        (a clear reject); no answer to the look either leaves it to reconciliation. A trade
        close has no client id to look for: it too is left to the stream and reconciliation."""
        if order.trade_id is not None and order.reduce_only:
            log.error("close of trade %s: outcome unknown (%s)", order.trade_id, error)
            self._unknown()
            return None
        try:
            found = await self._client.lookup(self.mapper.client_id(order.id))
        except OandaError:
            log.error(
                "order %s: outcome unknown (%s); reconciliation will settle it", order.id, error
            )
            self._unknown()
            return None
        if found is None:
            return answers.Rejected(
                Reason.BROKER_REJECT.value, f"OANDA unreachable, order not sent ({error})"
            )
        return found

    def _unknown(self) -> None:
        if self._on_unknown is not None:
            self._on_unknown()

    def _report(self, order: Order, outcome: answers.SubmitOutcome, in_order: bool = True) -> None:
        mapper = self.mapper
        if (mapper.quiet or not in_order) and not isinstance(outcome, answers.Rejected):
            mapper.learn(outcome.venue_id, order.id)
            return  # the transaction history books it (reconciliation, stream, backfill)
        if isinstance(outcome, answers.Filled):
            mapper.learn(outcome.venue_id, order.id)
            if mapper.seen(outcome.fill_id):
                return  # the stream got there first
            seen = outcome.txn_ids or (outcome.fill_id,)
            mapper.mark_seen(seen)
            fill_id = outcome.trade_id or outcome.fill_id
            self._emit(filled(order.id, fill_id, outcome, seen))
            # the balance after it comes in order with the transaction stream
            if outcome.rest_cancelled is not None:
                self._emit(VenueCancelled(order.id, outcome.rest_cancelled, "", seen))
        elif isinstance(outcome, answers.Resting):
            mapper.learn(outcome.venue_id, order.id)
            if mapper.seen(outcome.venue_id):
                return
            seen = outcome.txn_ids or (outcome.venue_id,)
            mapper.mark_seen(seen)
            self._emit(VenueAccepted(order.id, outcome.venue_id, "", seen))
        elif isinstance(outcome, answers.CancelledOnCreate):
            mapper.learn(outcome.venue_id, order.id)
            if outcome.txn_id and mapper.seen(outcome.txn_id):
                return
            mapper.mark_seen(outcome.txn_ids)
            self._emit(
                VenueAccepted(order.id, outcome.venue_id),
                VenueCancelled(order.id, outcome.reason, "", outcome.txn_ids),
            )
        elif isinstance(outcome, answers.Rejected):
            mapper.mark_seen(outcome.txn_ids)
            self._emit(VenueRejected(order.id, outcome.code, outcome.message))

    # cancel / modify ------------------------------------------------------------------------

    async def _cancel(self, order: Order) -> None:
        spec = order.venue_id if order.venue_id else f"@{self.mapper.client_id(order.id)}"
        try:
            result = await self._client.cancel(spec)
        except OandaError as exc:
            self._emit(VenueRejected(order.id, Reason.BROKER_REJECT.value, str(exc), "cancel"))
            return
        if isinstance(result, answers.Rejected):
            code = (
                Reason.UNKNOWN_ORDER.value if result.code == "ORDER_DOESNT_EXIST" else result.code
            )
            self._emit(VenueRejected(order.id, code, result.message, "cancel"))
            return
        if self.mapper.quiet:
            return  # reconciliation reads the cancel from the transactions
        if result.txn_id and self.mapper.seen(result.txn_id):
            return
        seen = result.txn_ids or (result.txn_id,)
        self.mapper.mark_seen(seen)
        self._emit(VenueCancelled(order.id, result.reason, "", seen))

    async def _modify(self, order: Order, price: Decimal | None, units: int) -> None:
        try:
            if order.is_protective:
                await self._modify_protective(order, price)
            else:
                await self._replace(order, price, units)
        except OandaError as exc:
            self._emit(VenueRejected(order.id, Reason.BROKER_REJECT.value, str(exc), "modify"))

    async def _replace(self, order: Order, price: Decimal | None, units: int) -> None:
        spec = order.venue_id or f"@{self.mapper.client_id(order.id)}"
        new_price = price if price is not None else order.price
        wire = self._wire(order, units=units, price=new_price)
        result = await self._client.replace(spec, wire, self._instruments.get(order.instrument))
        if isinstance(result, answers.Rejected):
            self._emit(VenueRejected(order.id, result.code, result.message, "modify"))
            return
        assert isinstance(result, answers.Replaced)
        self.mapper.learn(result.venue_id, order.id)
        in_order = await self._in_order(result)  # a replacing order may fill at once
        if self.mapper.quiet or not in_order or self.mapper.seen(result.venue_id):
            return
        seen = result.txn_ids or (result.venue_id,)
        self.mapper.mark_seen(seen)
        self._emit(VenueModified(order.id, new_price, units, result.venue_id, "", seen))
        if result.filled is not None:
            fill = result.filled
            fill_id = fill.trade_id or fill.fill_id
            self._emit(filled(order.id, fill_id, fill))

    async def _modify_protective(self, order: Order, price: Decimal | None) -> None:
        if order.trade_id is None or price is None:
            self._emit(
                VenueRejected(
                    order.id,
                    Reason.ORDER_NOT_MODIFIABLE.value,
                    "only the price can change",
                    "modify",
                )  # fmt: skip
            )
            return
        key = _SUFFIX_KEY[order.type]
        inst = self._instruments.get(order.instrument)
        if key == "tp":
            result = await self._client.set_trade_orders(
                order.trade_id, take_profit=price, instrument=inst
            )
        elif key == "sl":
            result = await self._client.set_trade_orders(
                order.trade_id, stop_loss=price, instrument=inst
            )
        else:  # a trailing stop's "price" is its distance
            result = await self._client.set_trade_orders(
                order.trade_id, trailing_distance=price, instrument=inst
            )
        if isinstance(result, answers.Rejected):
            self._emit(VenueRejected(order.id, result.code, result.message, "modify"))
            return
        assert isinstance(result, answers.TradeOrdersSet)
        venue_id = result.created.get(key)
        if venue_id is not None:
            self.mapper.learn(venue_id, order.id)
        if venue_id is None or self.mapper.quiet or self.mapper.seen(venue_id):
            return
        seen = result.txn_ids or (venue_id,)
        self.mapper.mark_seen(seen)
        self._emit(VenueModified(order.id, price, order.units, venue_id, "", seen))


#: The engine alert that says the price stream is down (raised on a drop, cleared once it delivers).
PRICES_DOWN = "venue.prices"


class OandaFeed:
    """Streams OANDA prices into a sink; reconnects with jittered backoff when a stream drops.

    While the stream is down the engine holds the ``venue.prices`` alert (see
    ``report_status_to``): the last quotes are then old, whatever the board shows, and a quiet
    market's staleness alert would take far longer to say so.

    OANDA's pricing stream names its instruments in the URL, so a new subscription (the
    watchlist changed) ends the connection and opens one with the new set at once: no backoff
    and no alert, the others' quotes pause for one connect (about a round trip; the stream's
    ``snapshot=true`` sends every price again as it opens)."""

    def __init__(
        self,
        client: OandaClient,
        instruments: Iterable[Instrument],
        *,
        universe: Iterable[Instrument] = (),
        reconnect_backoff: float = 0.5,
        max_backoff: float = 10.0,
        on_reconnect: Callable[[str], None] | None = None,
    ) -> None:
        self._client = client
        self._instruments = tuple(instruments)
        self._universe = {i.name: i for i in (*self._instruments, *universe)}
        self._pacer = ReconnectBackoff(reconnect_backoff, max_backoff)
        self._on_reconnect = on_reconnect
        self._task: asyncio.Task[Any] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connection: asyncio.Task[None] | None = None  # the stream open now
        self._resubscribing = False  # the open stream is ended for a new set, not dropped
        self._running = True
        self.parser = PriceStreamParser(i.name for i in self._instruments)
        self.connects = 0
        self.subscriptions = 0  # connections opened for a new set of instruments
        self.last_heartbeat: Heartbeat | None = None
        self._status: StatusHook = _quiet

    def instruments(self) -> tuple[Instrument, ...]:
        return self._instruments

    async def history(self, instrument: str, size: str, count: int) -> list[Bar]:
        """OANDA's candles (``venues/oanda/candles.py``): the history capability."""
        try:
            candles = await self._client.candles(instrument, size, min(count + 1, 5000))
        except (OandaError, TokenRejected) as exc:
            raise HistoryUnavailable(f"OANDA: {exc}") from None
        return bars_of_candles(instrument, size, candles)[-count:]

    def universe(self) -> tuple[Instrument, ...]:
        """Every instrument of the account: any of them can be streamed."""
        return tuple(self._universe.values())

    def subscribe(self, names: Iterable[str]) -> None:
        """Stream exactly ``names`` from now on: the open connection ends and a new one opens
        with them (on the feed's loop; safe from any thread)."""
        chosen = tuple(self._universe[n] for n in names if n in self._universe)
        if {i.name for i in chosen} == {i.name for i in self._instruments}:
            return
        self._instruments = chosen
        connection, loop = self._connection, self._loop
        if connection is not None and loop is not None:
            self._resubscribing = True
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(connection.cancel)

    async def run(self, sink: QuoteSink) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = me = asyncio.current_task()
        assert me is not None
        dropped = False
        try:
            while self._running:
                self.connects += 1
                if dropped and self._on_reconnect is not None:
                    self._on_reconnect("oanda-pricing")
                names = [i.name for i in self._instruments]
                self.parser.want(names)
                self._resubscribing = False
                self._connection = asyncio.create_task(self._stream(names, sink))
                try:
                    await self._connection
                    dropped = False
                except asyncio.CancelledError:
                    if me.cancelling() or not self._resubscribing:
                        raise
                    self.subscriptions += 1
                    dropped = False
                    continue  # a new set of instruments: connect again at once
                except (StreamDropped, OandaError) as exc:
                    if isinstance(exc, TokenRejected):
                        self._status(PRICES_DOWN, True, str(exc))
                        raise
                    log.warning("price stream dropped (%s); reconnecting", exc)
                    self._status(
                        PRICES_DOWN, True, f"OANDA price stream down ({exc}); reconnecting"
                    )
                    dropped = True
                await asyncio.sleep(self._pacer.next())
        except asyncio.CancelledError:
            if self._running:
                raise  # cancelled by someone else: let them see it
        finally:
            if self._connection is not None:
                self._connection.cancel()

    async def _stream(self, names: list[str], sink: QuoteSink) -> None:
        """One connection: its quotes into ``sink`` until it ends (raises why)."""
        live = False
        async for message in self._client.stream_prices(names, self.parser):
            if not live:
                live = True
                self._pacer.reset()
                self._status(PRICES_DOWN, False, "OANDA price stream connected")
            if isinstance(message, Heartbeat):
                self.last_heartbeat = message
            else:
                sink(message)

    def stop(self) -> None:
        """Safe from any thread."""
        self._running = False
        if self._task is not None and self._loop is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._task.cancel)

    def report_status_to(self, status: StatusHook) -> None:
        self._status = status
