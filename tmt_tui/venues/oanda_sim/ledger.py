"""A v20-shaped paper account: its book (orders, trades, balance) and its transaction log.

The local server keeps one of these per account. Matching (touch fills, resting orders, TP/SL on
fill) is the sim broker's; the ledger records what it does as OANDA transactions with increasing
integer ids, and mirrors the trade book. What the sim broker does not do, the ledger does on top
of it, as OANDA would: trailing stops (trailed on every quote, fired as a closing market order),
TP/SL/TSL set on an open trade, and cancelling a trade's linked orders (``LINKED_TRADE_CLOSED``)
however it closed. Requests are validated and answered by ``orders`` and read by ``views``; a
fill's netting and P&L are ``fills``'. Single-threaded: it lives on the server's event loop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from decimal import Decimal

from tmt_tui.domain.conversion import conversion_paths, rate_along
from tmt_tui.domain.instruments import Instrument
from tmt_tui.domain.orders import Order, OrderStatus, OrderType
from tmt_tui.domain.quotes import Quote
from tmt_tui.venues.base import (
    VenueAccepted,
    VenueCancelled,
    VenueEvent,
    VenueFilled,
    VenueProtectiveCreated,
    VenueRejected,
)
from tmt_tui.venues.oanda_sim.fills import CENT, CONVERSION_FEE, book_fill, conversion_factors
from tmt_tui.venues.oanda_sim.trailing import Trail, TrailingStops
from tmt_tui.venues.oanda_sim.wire import Json, price_json, rfc3339
from tmt_tui.venues.sim.broker import SimBroker

log = logging.getLogger(__name__)

#: protective order kind -> (trade field holding its id, key in PUT /trades/{id}/orders)
LINKED = {
    "TAKE_PROFIT": ("takeProfitOrderID", "takeProfit"),
    "STOP_LOSS": ("stopLossOrderID", "stopLoss"),
    "TRAILING_STOP_LOSS": ("trailingStopLossOrderID", "trailingStopLoss"),
}


class V20Ledger:
    """One account's orders, trades and transaction log, in v20 JSON."""

    def __init__(
        self,
        account_id: str,
        instruments: Iterable[Instrument],
        *,
        currency: str = "USD",
        balance: Decimal = Decimal("100000"),
        clock: Callable[[], float] = time.time,
        hedging: bool = False,
        conversion_fee: Decimal = CONVERSION_FEE,
    ) -> None:
        self.account_id = account_id
        self.conversion_fee = conversion_fee
        self.pl = Decimal(0)  # realized P&L over the account's life, in the home currency
        self.currency = currency
        self.instruments = {i.name: i for i in instruments}
        self.balance = balance
        self.hedging = hedging  # reported only: the book itself always nets
        self.created = clock()
        self._clock = clock
        self._broker = SimBroker(self.instruments.values(), clock)
        self._broker.connect(self._on_event)
        self._pending: list[VenueEvent] = []
        self._last_id = 0
        self.transactions: list[Json] = []
        self.orders: dict[str, Json] = {}
        self.by_client: dict[str, str] = {}
        self.trades: dict[str, Json] = {}  # open trades by id
        self._domain: dict[str, Order] = {}  # oanda order id -> order the sim broker holds
        self._from_sim: dict[str, str] = {}  # sim order / trade id -> oanda id
        self._to_sim: dict[str, str] = {}  # oanda trade id -> sim trade id
        self._fill_reason: dict[str, str] = {}  # order id -> ORDER_FILL reason, when not its type
        self._tsl_on_fill: dict[str, Decimal] = {}  # order id -> trailing distance for its trade
        self._tsl_due: list[tuple[str, Decimal]] = []  # (trade id, distance) to create
        self._trailing = TrailingStops()
        self._linked: dict[str, list[str]] = {}  # trade id -> its TP/SL/TSL order ids
        self._closed: list[str] = []  # trades closed by the fills being drained
        self.listeners: list[Callable[[Json], None]] = []
        self.quotes: dict[str, Quote] = {}

    @property
    def last_id(self) -> str:
        return str(self._last_id)

    def now(self) -> float:
        """The ledger's clock: what a GTD expiry is judged against, and the sim broker's."""
        return self._clock()

    # prices ---------------------------------------------------------------------------------

    def on_quote(self, quote: Quote) -> list[Json]:
        """Show the paper book a new price; returns the transactions it caused (triggers)."""
        self.quotes[quote.instrument] = quote
        self._broker.on_quote(quote)
        out = self._drain(batch=None)
        moved, touched = self._trailing.on_quote(quote)
        for oid, trigger in moved.items():
            self.orders[oid]["trailingStopValue"] = str(trigger)
        for oid, trail in touched:
            out += self._fire(oid, trail)
        return out

    def _fire(self, oid: str, trail: Trail) -> list[Json]:
        """A touched trailing stop closes its trade at the market."""
        trade = self.trades.get(trail.trade_id)
        if trade is None:
            return []
        order = Order(
            id=oid,
            account=self.account_id,
            instrument=trade["instrument"],
            units=-int(trade["currentUnits"]),
            type=OrderType.MARKET,
            status=OrderStatus.SUBMITTED,
            trade_id=self._to_sim.get(trail.trade_id),
            reduce_only=True,
        )
        self._domain[oid] = order
        self._broker.submit(order)
        return self._drain(batch=None)

    # lookups --------------------------------------------------------------------------------

    def resolve(self, spec: str) -> str | None:
        """An order specifier (``123`` or ``@client-id``) as an OANDA order id."""
        if spec.startswith("@"):
            return self.by_client.get(spec[1:])
        return spec if spec in self.orders else None

    def resolve_trade(self, spec: str) -> str | None:
        """A trade specifier (``123`` or ``@client-trade-id``) as an open trade's id."""
        if spec.startswith("@"):
            return next(
                (
                    tid
                    for tid, t in self.trades.items()
                    if (t.get("clientExtensions") or {}).get("id") == spec[1:]
                ),
                None,
            )
        return spec if spec in self.trades else None

    def sim_trade(self, trade_id: str) -> str | None:
        """The sim broker's id of an OANDA trade (what a closing order names)."""
        return self._to_sim.get(trade_id)

    # booking --------------------------------------------------------------------------------

    def record(self, fields: Json, batch: str | None = None) -> Json:
        """Append a transaction (the next id, now) and tell the listeners (the stream)."""
        self._last_id += 1
        tid = str(self._last_id)
        txn = {
            "id": tid,
            "time": rfc3339(self._clock()),
            "userID": 1,
            "accountID": self.account_id,
            "batchID": batch or tid,
            "requestID": tid,
            **fields,
        }
        self.transactions.append(txn)
        for listener in self.listeners:
            listener(txn)
        return txn

    def place(
        self,
        order: Order,
        create: Json,
        batch: str | None = None,
        *,
        fill_reason: str | None = None,
        cancel: str | None = None,
    ) -> tuple[Json, list[Json]]:
        """Record an accepted order's create transaction, then cancel it at once (``cancel``,
        a reason) or run it through the sim broker; (the create, what followed in its batch)."""
        created = self.record(create, batch)
        oid = created["id"]
        batch = batch or oid
        order = order.with_changes({"id": oid, "venue_id": oid})
        record = {k: v for k, v in create.items() if k != "reason"}
        record.update(
            id=oid,
            createTime=created["time"],
            state="PENDING",
            type=create["type"].removesuffix("_ORDER"),
        )
        self.orders[oid] = record
        self._domain[oid] = order
        if fill_reason is not None:
            self._fill_reason[oid] = fill_reason
        trailing = create.get("trailingStopLossOnFill")
        if trailing is not None:
            self._tsl_on_fill[oid] = Decimal(trailing["distance"])
        cid = (create.get("clientExtensions") or {}).get("id")
        if cid:
            self.by_client[cid] = oid
        if cancel is not None:
            return created, [self._cancel_record(oid, cancel, batch)]
        self._broker.submit(order)
        txns = self._drain(batch)
        if create.get("timeInForce") in ("FOK", "IOC") and self.orders[oid]["state"] == "PENDING":
            txns.append(self.withdraw(oid, "TIME_IN_FORCE_EXPIRED", batch))
        return created, txns

    def withdraw(
        self, oid: str, reason: str, batch: str | None, *, replaced_by: str | None = None
    ) -> Json:
        """Take a pending order off the book (sim broker or trailing set) and record its
        cancel; the sim broker's own answer to the cancel is dropped (this is the record)."""
        if self.orders[oid]["type"] == "TRAILING_STOP_LOSS":
            self._trailing.remove(oid)
        else:
            domain = self._domain.get(oid)
            if domain is not None:
                queued = len(self._pending)
                self._broker.cancel(domain)
                del self._pending[queued:]
        extra = {} if replaced_by is None else {"replacedByOrderID": replaced_by}
        return self._cancel_record(oid, reason, batch, extra)

    def protect(
        self,
        trade_id: str,
        kind: str,
        value: Decimal,
        reason: str,
        replaces: str | None,
        batch: str | None,
    ) -> list[Json]:
        """A take-profit, stop-loss or trailing stop for an open trade (not on fill): its
        transaction, then whatever it caused at once (a fill when the price is through)."""
        trade = self.trades[trade_id]
        inst = self.instruments[trade["instrument"]]
        if kind == "TRAILING_STOP_LOSS":
            return [self._trailing_order(trade_id, value, reason, batch, replaces)]
        price = str(inst.round_price(value))
        fields: Json = {
            "type": f"{kind}_ORDER",
            "tradeID": trade_id,
            "price": price,
            "timeInForce": "GTC",
            "triggerCondition": "DEFAULT",
            "reason": reason,
        }
        if replaces is not None:
            fields["replacesOrderID"] = replaces
        txn = self.record(fields, batch)
        oid = txn["id"]
        record = {k: v for k, v in fields.items() if k != "reason"}
        record.update(id=oid, createTime=txn["time"], state="PENDING", type=kind)
        self.orders[oid] = record
        trade[LINKED[kind][0]] = oid
        self._linked.setdefault(trade_id, []).append(oid)
        order = Order(
            id=oid,
            account=self.account_id,
            instrument=trade["instrument"],
            units=-int(trade["currentUnits"]),
            type=OrderType.TAKE_PROFIT if kind == "TAKE_PROFIT" else OrderType.STOP_LOSS,
            status=OrderStatus.WORKING,
            price=Decimal(price),
            trade_id=self._to_sim.get(trade_id),
            reduce_only=True,
            venue_id=oid,
        )
        self._domain[oid] = order
        self._broker.submit(order)
        return [txn, *self._drain(batch)]

    def _trailing_order(
        self,
        trade_id: str,
        distance: Decimal,
        reason: str,
        batch: str | None,
        replaces: str | None = None,
    ) -> Json:
        """A TRAILING_STOP_LOSS order for the trade, trailed on every quote."""
        trade = self.trades[trade_id]
        inst = self.instruments[trade["instrument"]]
        long = int(trade["currentUnits"]) > 0
        quote = self.quotes.get(trade["instrument"])
        best = Decimal(trade["price"]) if quote is None else quote.bid if long else quote.ask
        fields: Json = {"type": "TRAILING_STOP_LOSS_ORDER", "tradeID": trade_id,
                        "distance": str(inst.round_price(distance)), "timeInForce": "GTC",
                        "triggerCondition": "DEFAULT", "reason": reason}  # fmt: skip
        if replaces is not None:
            fields["replacesOrderID"] = replaces
        txn = self.record(fields, batch)
        oid = txn["id"]
        trail = Trail(trade_id, long, inst.round_price(distance), best)
        record = {k: v for k, v in fields.items() if k != "reason"}
        record.update(
            id=oid,
            createTime=txn["time"],
            state="PENDING",
            type="TRAILING_STOP_LOSS",
            trailingStopValue=str(trail.trigger),
        )
        self.orders[oid] = record
        self._trailing.add(trade["instrument"], oid, trail)
        trade["trailingStopLossOrderID"] = oid
        self._linked.setdefault(trade_id, []).append(oid)
        return txn

    # what the sim broker reports ------------------------------------------------------------

    def _on_event(self, event: VenueEvent) -> None:
        self._pending.append(event)

    def _drain(self, batch: str | None) -> list[Json]:
        """Translate what the sim broker reported; then create trailing stops due on fill and
        cancel the linked orders of trades that closed (which may report more)."""
        out: list[Json] = []
        while True:
            while self._pending:
                event = self._pending.pop(0)
                txn = self._translate(event, batch)
                if txn is not None:
                    out.append(txn)
                    batch = batch or txn["id"]
            if self._tsl_due:
                due, self._tsl_due = self._tsl_due, []
                for trade_id, distance in due:
                    if trade_id in self.trades:
                        out.append(self._trailing_order(trade_id, distance, "ON_FILL", batch))
            if not self._closed:
                return out
            closed, self._closed = self._closed, []
            for trade_id in closed:
                for oid in self._linked.pop(trade_id, []):
                    if self.orders[oid]["state"] == "PENDING":
                        out.append(self.withdraw(oid, "LINKED_TRADE_CLOSED", batch))

    def _oanda_id(self, sim_id: str) -> str:
        return self._from_sim.get(sim_id, sim_id)

    def _translate(self, event: VenueEvent, batch: str | None) -> Json | None:
        if isinstance(event, VenueAccepted):
            return None
        if isinstance(event, VenueFilled):
            return self._fill(event, batch)
        if isinstance(event, VenueCancelled):
            oid = self._oanda_id(event.order_id)
            if self.orders[oid]["state"] != "PENDING":
                return None
            return self._cancel_record(oid, event.reason, batch)
        if isinstance(event, VenueProtectiveCreated):
            return self._protective(event.order, batch)
        if isinstance(event, VenueRejected) and event.request == "submit":
            # a fill-time refusal (no quote, margin) of an order OANDA had already accepted
            oid = self._oanda_id(event.order_id)
            return self._cancel_record(oid, event.code, batch)
        return None

    def _cancel_record(
        self, oid: str, reason: str, batch: str | None, extra: Json | None = None
    ) -> Json:
        order = self.orders[oid]
        fields: Json = {"type": "ORDER_CANCEL", "orderID": oid}
        cid = (order.get("clientExtensions") or {}).get("id")
        if cid:
            fields["clientOrderID"] = cid
        fields.update(reason=reason, **(extra or {}))
        txn = self.record(fields, batch)
        order.update(
            state="CANCELLED", cancellingTransactionID=txn["id"], cancelledTime=txn["time"]
        )
        if extra:
            order.update(extra)
        return txn

    def _protective(self, order: Order, batch: str | None) -> Json:
        trade_id = self._oanda_id(order.trade_id or "")
        kind = "TAKE_PROFIT" if order.type is OrderType.TAKE_PROFIT else "STOP_LOSS"
        inst = self.instruments[order.instrument]
        price = str(inst.round_price(order.price or Decimal(0)))
        txn = self.record(
            {
                "type": f"{kind}_ORDER",
                "tradeID": trade_id,
                "price": price,
                "timeInForce": "GTC",
                "triggerCondition": "DEFAULT",
                "reason": "ON_FILL",
            },
            batch,
        )
        oid = txn["id"]
        self._from_sim[order.id] = oid
        self._domain[oid] = order
        self.orders[oid] = {
            "id": oid,
            "createTime": txn["time"],
            "state": "PENDING",
            "type": kind,
            "tradeID": trade_id,
            "price": price,
            "timeInForce": "GTC",
            "triggerCondition": "DEFAULT",
        }
        trade = self.trades.get(trade_id)
        if trade is not None:
            trade[LINKED[kind][0]] = oid
            self._linked.setdefault(trade_id, []).append(oid)
        return txn

    def _fill(self, event: VenueFilled, batch: str | None) -> Json:
        oid = self._oanda_id(event.order_id)
        order = self.orders[oid]
        domain = self._domain[oid]
        inst = self.instruments[domain.instrument]
        price = str(inst.round_price(event.price))
        fields: Json = {
            "type": "ORDER_FILL",
            "orderID": oid,
            "instrument": domain.instrument,
            "units": str(event.units),
            "price": price,
            "fullVWAP": price,
            "reason": self._fill_reason.pop(oid, order["type"] + "_ORDER"),
            "pl": "0.0000",
            "financing": "0.0000",
            "commission": "0.0000",
            "guaranteedExecutionFee": "0.0000",
            "halfSpreadCost": "0.0000",
        }
        quote = self.quotes.get(domain.instrument)
        if quote is not None:
            fields["fullPrice"] = {
                k: v
                for k, v in price_json(quote, inst).items()
                if k in ("type", "bids", "asks", "closeoutBid", "closeoutAsk", "time")
            }
        cid = (order.get("clientExtensions") or {}).get("id")
        if cid:
            fields["clientOrderID"] = cid
        txn = self.record(fields, batch)
        gain, loss = self.home_factors(inst.quote)
        txn.update(gainQuoteHomeConversionFactor=str(gain), lossQuoteHomeConversionFactor=str(loss))
        named = None if domain.trade_id is None else self._oanda_id(domain.trade_id)
        cext = order.get("tradeClientExtensions")
        booked = book_fill(self.trades, txn, event.units, event.price, named, gain, loss, cext)
        self.balance += booked.pl
        self.pl += booked.pl
        txn.update(
            pl=str(booked.pl.quantize(CENT)), accountBalance=str(self.balance.quantize(CENT))
        )
        if booked.closed:
            txn["tradesClosed"] = booked.closed
            order["tradeClosedIDs"] = [c["tradeID"] for c in booked.closed]
            self._closed += order["tradeClosedIDs"]
        if booked.reduced is not None:
            txn["tradeReduced"] = booked.reduced
            order["tradeReducedID"] = booked.reduced["tradeID"]
        if booked.opened is not None:
            opened = booked.opened["tradeID"]
            txn["tradeOpened"] = booked.opened
            order["tradeOpenedID"] = opened
            self._from_sim[event.fill_id] = opened
            self._to_sim[opened] = event.fill_id
            distance = self._tsl_on_fill.pop(oid, None)
            if distance is not None:
                self._tsl_due.append((opened, distance))
        order.update(state="FILLED", fillingTransactionID=txn["id"], filledTime=txn["time"])
        return txn

    # the home currency ----------------------------------------------------------------------

    def home_factors(self, currency: str) -> tuple[Decimal, Decimal]:
        """(gain, loss) factors converting ``currency`` into the home currency: the mid of the
        conversion pair (direct, else through USD), less the fee for a gain, plus it for a loss.
        """
        if currency == self.currency:
            return Decimal(1), Decimal(1)
        return conversion_factors(self.home_mid(currency), self.conversion_fee)

    def home_mid(self, currency: str) -> Decimal:
        """Home currency per unit of ``currency`` at the mid (direct pair, else through USD)."""
        paths = conversion_paths(self.instruments, currency, self.currency)
        mid = rate_along(paths, self._mid)
        if mid is None:  # this simulator quotes every pair it offers; say so if it ever cannot
            log.error("no %s->%s rate: amounts left unconverted", currency, self.currency)
            return Decimal(1)
        return mid

    def _mid(self, instrument: str) -> Decimal | None:
        quote = self.quotes.get(instrument)
        return None if quote is None else (quote.bid + quote.ask) / 2
