"""``Broker`` and ``MarketDataFeed`` over the OANDA client, as venues/base.py defines them.

The engine calls ``submit``/``cancel`` synchronously from any thread; the work runs on the
client's event loop and every outcome reaches the sink from that loop (the runner hops it to the
engine). A request whose outcome stays unknown after the client's lookups is logged and left for
reconciliation: reporting it as rejected could hide a live order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Iterable
from decimal import Decimal
from typing import Any

from tmt_tui.domain.instruments import Instrument
from tmt_tui.domain.orders import Order, OrderStatus, OrderType
from tmt_tui.domain.positions import Trade
from tmt_tui.domain.quotes import Quote
from tmt_tui.domain.reasons import Reason
from tmt_tui.venues.base import (
    QuoteSink,
    VenueAccepted,
    VenueCancelled,
    VenueEvent,
    VenueFilled,
    VenueProtectiveCreated,
    VenueRejected,
    VenueSink,
)
from tmt_tui.venues.oanda.client import (
    CancelledOnCreate,
    Filled,
    OandaClient,
    OandaError,
    Rejected,
    Resting,
    StreamDropped,
    TokenRejected,
)
from tmt_tui.venues.oanda.stream import Heartbeat, PriceStreamParser, parse_time

log = logging.getLogger(__name__)
_PROTECTIVE = {"TAKE_PROFIT_ORDER": ("tp", OrderType.TAKE_PROFIT),
               "STOP_LOSS_ORDER": ("sl", OrderType.STOP_LOSS)}  # fmt: skip


def _drop(_: VenueEvent) -> None:
    return None


class OandaBroker:
    """Sends orders to OANDA and reports the answers as venue events."""

    def __init__(
        self,
        client: OandaClient,
        loop: asyncio.AbstractEventLoop,
        instruments: Iterable[Instrument] = (),
    ) -> None:
        self._client = client
        self._loop = loop
        self._instruments = {i.name: i for i in instruments}
        self._sink: VenueSink = _drop
        self._tasks: set[Any] = set()

    def connect(self, sink: VenueSink) -> None:
        self._sink = sink

    def restore(self, open_orders: Iterable[Order], trades: Iterable[Trade]) -> None:
        """OANDA holds the book; reconciliation (not in this slice) compares it with ours."""

    def on_quote(self, quote: Quote) -> None:
        """A real venue moves its own prices."""

    def submit(self, order: Order) -> None:
        self._run(self._submit(order))

    def cancel(self, order: Order) -> None:
        self._run(self._cancel(order))

    def modify(self, order: Order, price: Decimal | None, units: int) -> None:
        self._sink(
            VenueRejected(
                order.id, Reason.BROKER_REJECT.value, "modify is not supported yet", "modify"
            )
        )

    async def drain(self) -> None:
        """Wait for every request sent so far to be answered (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*[asyncio.wrap_future(t) for t in list(self._tasks)])

    def _run(self, coro: Coroutine[Any, Any, None]) -> None:
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        self._tasks.add(future)
        future.add_done_callback(self._tasks.discard)

    async def _submit(self, order: Order) -> None:
        try:
            outcome = await self._client.submit(order, self._instruments.get(order.instrument))
        except TokenRejected as exc:
            self._sink(VenueRejected(order.id, Reason.BROKER_REJECT.value, str(exc)))
            return
        except OandaError as exc:
            log.error(
                "order %s: outcome unknown (%s); reconciliation will settle it", order.id, exc
            )
            return
        if isinstance(outcome, Filled):
            fill_id = outcome.trade_id or outcome.fill_id
            self._sink(VenueFilled(order.id, fill_id, outcome.units, outcome.price, outcome.ts))
            if outcome.trade_id and (order.take_profit is not None or order.stop_loss is not None):
                await self._protective(order, outcome)
        elif isinstance(outcome, Resting):
            self._sink(VenueAccepted(order.id, outcome.venue_id))
        elif isinstance(outcome, CancelledOnCreate):
            self._sink(VenueAccepted(order.id, outcome.venue_id))
            self._sink(VenueCancelled(order.id, outcome.reason))
        else:
            self._sink(VenueRejected(order.id, outcome.code, outcome.message))

    async def _protective(self, order: Order, fill: Filled) -> None:
        """The take-profit / stop-loss OANDA created on fill, read from the related txns."""
        for tid in fill.related_ids:
            if tid in (fill.venue_id, fill.fill_id):
                continue
            txn = await self._client.transaction(tid)
            kind = _PROTECTIVE.get(str(txn.get("type")))
            if kind is None:
                continue
            suffix, order_type = kind
            trade_units = fill.units
            ts = parse_time(str(txn["time"]))
            self._sink(
                VenueProtectiveCreated(
                    Order(
                        id=f"{fill.trade_id}.{suffix}",
                        account=order.account,
                        instrument=order.instrument,
                        units=-trade_units,
                        type=order_type,
                        status=OrderStatus.WORKING,
                        price=Decimal(str(txn["price"])),
                        trade_id=fill.trade_id,
                        reduce_only=True,
                        venue_id=str(txn["id"]),
                        origin="auto",
                        created_ts=ts,
                        updated_ts=ts,
                    )
                )
            )

    async def _cancel(self, order: Order) -> None:
        spec = order.venue_id if order.venue_id else f"@{order.id}"
        try:
            result = await self._client.cancel(spec)
        except OandaError as exc:
            self._sink(VenueRejected(order.id, Reason.BROKER_REJECT.value, str(exc), "cancel"))
            return
        if isinstance(result, Rejected):
            code = (
                Reason.UNKNOWN_ORDER.value if result.code == "ORDER_DOESNT_EXIST" else result.code
            )
            self._sink(VenueRejected(order.id, code, result.message, "cancel"))
        else:
            self._sink(VenueCancelled(order.id, result.reason))


class OandaFeed:
    """Streams OANDA prices into a sink; reconnects with backoff when a stream drops."""

    def __init__(
        self,
        client: OandaClient,
        instruments: Iterable[Instrument],
        *,
        reconnect_backoff: float = 0.5,
        max_backoff: float = 10.0,
    ) -> None:
        self._client = client
        self._instruments = tuple(instruments)
        self._backoff = reconnect_backoff
        self._max_backoff = max_backoff
        self._task: asyncio.Task[Any] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._running = True
        self.parser = PriceStreamParser(i.name for i in self._instruments)
        self.connects = 0
        self.last_heartbeat: Heartbeat | None = None

    def instruments(self) -> tuple[Instrument, ...]:
        return self._instruments

    async def run(self, sink: QuoteSink) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        names = [i.name for i in self._instruments]
        delay = self._backoff
        try:
            while self._running:
                self.connects += 1
                try:
                    async for message in self._client.stream_prices(names, self.parser):
                        delay = self._backoff
                        if isinstance(message, Heartbeat):
                            self.last_heartbeat = message
                        else:
                            sink(message)
                except StreamDropped as exc:
                    log.warning("price stream dropped (%s); reconnecting in %.2fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max_backoff)
        except asyncio.CancelledError:
            if self._running:
                raise  # cancelled by someone else: let them see it

    def stop(self) -> None:
        """Safe from any thread."""
        self._running = False
        if self._task is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._task.cancel)
