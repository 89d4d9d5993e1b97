"""OANDA transactions as venue events: one mapping for the stream, backfills and replies.

Everything that happens to the account (our orders, a take-profit firing, an order placed in the
OANDA web UI, daily financing) is a transaction with an increasing integer id. The transaction
stream, ``transactions/sinceid`` after a reconnect, and the answers to our own requests all show
some of the same transactions, so the mapper remembers which ids it has turned into events and
maps each exactly once.

Ids: tmt sends every order with ``clientExtensions.id = <tag><order id>``, where the tag names
the journal (a new journal never reuses an old client id). A transaction about an order carrying
our tag maps to our order id; an order without it was placed outside tmt and is adopted as
``X<oanda id>``; a take-profit / stop-loss becomes ``<trade id>.tp`` / ``.sl`` / ``.tsl``.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from tmt_tui.domain.orders import Order, OrderStatus, OrderType, TimeInForce
from tmt_tui.domain.positions import Trade
from tmt_tui.venues import base
from tmt_tui.venues.base import TradeClose, VenueEvent
from tmt_tui.venues.oanda.stream import parse_time

log = logging.getLogger(__name__)
Json = dict[str, Any]

_ORDER_TYPES = {
    "MARKET_ORDER": OrderType.MARKET,
    "LIMIT_ORDER": OrderType.LIMIT,
    "STOP_ORDER": OrderType.STOP,
    "MARKET_IF_TOUCHED_ORDER": OrderType.STOP,  # triggers like a stop on the way to its price
}
_PROTECTIVE = {
    "TAKE_PROFIT_ORDER": ("tp", OrderType.TAKE_PROFIT),
    "STOP_LOSS_ORDER": ("sl", OrderType.STOP_LOSS),
    "TRAILING_STOP_LOSS_ORDER": ("tsl", OrderType.TRAILING_STOP_LOSS),
}
_ORDER_KIND = {  # the "type" of an order object (GET /orders) to its create transaction's
    "MARKET": "MARKET_ORDER",
    "LIMIT": "LIMIT_ORDER",
    "STOP": "STOP_ORDER",
    "MARKET_IF_TOUCHED": "MARKET_IF_TOUCHED_ORDER",
    "TAKE_PROFIT": "TAKE_PROFIT_ORDER",
    "STOP_LOSS": "STOP_LOSS_ORDER",
    "TRAILING_STOP_LOSS": "TRAILING_STOP_LOSS_ORDER",
}
SEEN_LIMIT = 20_000  # transaction ids remembered for de-duplication


def fill_closes(fill: Json) -> tuple[TradeClose, ...]:
    """What an ``ORDER_FILL`` took from open trades, as OANDA booked it (``tradesClosed`` then
    ``tradeReduced``), with each trade's ``realizedPL`` in the account currency."""
    pieces = [
        *(fill.get("tradesClosed") or ()),
        *([fill["tradeReduced"]] if fill.get("tradeReduced") else []),
    ]
    return tuple(
        TradeClose(
            str(piece["tradeID"]),
            int(Decimal(str(piece["units"]))),
            Decimal(str(piece.get("realizedPL", "0"))),
        )
        for piece in pieces
    )


def _dec(value: Any) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


class TransactionMapper:
    """Turns v20 transactions into venue events for one account (see the module docstring)."""

    def __init__(self, account: str, tag: str, cursor: int = 0) -> None:
        self.account = account
        self.tag = tag
        self.cursor = cursor  # the newest id read in order (stream or backfill)
        self._ids: dict[str, str] = {}  # OANDA order id -> our order id
        self._instruments: dict[str, str] = {}  # trade id -> instrument
        self._closing: dict[str, str] = {}  # trade id -> our order closing it (no client id)
        #: While reconciling, request answers only teach ids: the transaction history is then
        #: the one source of events, so the book snapshot and the events agree exactly.
        self.quiet = False
        self._seen: set[str] = set()
        self._order: deque[str] = deque()

    # ids ------------------------------------------------------------------------------------

    def client_id(self, order_id: str) -> str:
        return self.tag + order_id

    def our_id(self, client_id: str | None) -> str | None:
        if client_id and client_id.startswith(self.tag):
            return client_id[len(self.tag) :]
        return None

    def learn(self, venue_id: str, order_id: str) -> None:
        """Our order ``order_id`` is ``venue_id`` at OANDA (from a reply, or a replace)."""
        self._ids[venue_id] = order_id

    def order_id(self, venue_id: str, client_id: str | None = None) -> str:
        """Our id for an OANDA order: ours by client id, else a protective or adopted id."""
        known = self._ids.get(venue_id) or self.our_id(client_id)
        return known if known is not None else f"X{venue_id}"

    def expect_close(self, trade_id: str, order_id: str) -> None:
        """We are closing ``trade_id`` with ``order_id``: OANDA's close request takes no client
        id, so the MARKET_ORDER it creates is recognised by the trade it closes."""
        self._closing[trade_id] = order_id

    def seen(self, tid: str) -> bool:
        return tid in self._seen

    def mark_seen(self, ids: Iterable[str]) -> None:
        """Transactions already turned into events (from a request's own answer)."""
        for tid in ids:
            if tid and tid not in self._seen:
                self._seen.add(tid)
                self._order.append(tid)
        while len(self._order) > SEEN_LIMIT:
            self._seen.discard(self._order.popleft())

    # mapping --------------------------------------------------------------------------------

    def apply(self, txn: Json, *, in_order: bool = True) -> list[VenueEvent]:
        """Events for one transaction (none if it was mapped before); ``in_order`` advances the
        cursor (stream and backfill lines are in id order, request answers are not)."""
        tid = str(txn.get("id", ""))
        if not tid.isdigit():
            log.warning("transaction without an id: %.200r", txn)
            return []
        number = int(tid)
        if in_order:
            if number <= self.cursor:
                return []
            self.cursor = number
        events: list[VenueEvent] = []
        if tid not in self._seen:  # else a request's answer already booked it
            self.mark_seen((tid,))
            try:
                events = self._map(txn, tid)
            except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
                log.warning("transaction %s could not be read (%s): %.300r", tid, exc, txn)
                return []
        elif not in_order:
            return []
        balance = _dec(txn.get("accountBalance"))  # always, in order: answers may cross
        if balance is not None:
            events.append(base.VenueBalance(self.account, balance, str(txn.get("type", "")), tid))
        return events

    def _map(self, txn: Json, tid: str) -> list[VenueEvent]:
        kind = str(txn.get("type", ""))
        if kind in _ORDER_TYPES:
            return self._created(txn, tid, _ORDER_TYPES[kind])
        if kind in _PROTECTIVE:
            return self._protective(txn, tid, *_PROTECTIVE[kind])
        if kind == "ORDER_FILL":
            return self._filled(txn, tid)
        if kind == "ORDER_CANCEL":
            if txn.get("replacedByOrderID"):
                return []  # the replacing order's creation says what changed
            oid = self.order_id(str(txn["orderID"]), txn.get("clientOrderID"))
            return [base.VenueCancelled(oid, str(txn.get("reason", "CANCELLED")), tid)]
        return []

    def _created(self, txn: Json, tid: str, order_type: OrderType) -> list[VenueEvent]:
        cid = (txn.get("clientExtensions") or {}).get("id")
        ours = self.our_id(cid)
        replaces = txn.get("replacesOrderID")
        if replaces:
            previous = self.order_id(str(replaces))
            self._ids[tid] = previous
            price = _dec(txn.get("price"))
            return [base.VenueModified(previous, price, int(Decimal(str(txn["units"]))), tid, tid)]
        closing = (txn.get("tradeClose") or {}).get("tradeID")
        if ours is None and closing is not None:
            ours = self._closing.pop(str(closing), None)
        if ours is not None:
            self._ids[tid] = ours
            if order_type is OrderType.MARKET:
                return []  # its fill (or cancel) follows
            return [base.VenueAccepted(ours, tid, tid)]
        order = self.outside_order(txn, tid, order_type)
        return [base.VenueOrderAdopted(order, tid)]

    def outside_order(self, txn: Json, tid: str, order_type: OrderType) -> Order:
        """An order placed outside tmt, as the engine will hold it."""
        ts = parse_time(str(txn["time"])) if "time" in txn else 0.0
        units = _dec(txn.get("units")) or Decimal(0)
        close = txn.get("tradeClose") or txn.get("longPositionCloseout") or {}
        oid = f"X{tid}"
        self._ids[tid] = oid
        tif = str(txn.get("timeInForce", "GTC"))
        closes = (txn.get("tradeClose") or {}).get("tradeID")
        return Order(
            id=oid,
            account=self.account,
            trade_id=str(closes) if closes else None,  # a trade closed in OANDA's UI: that lot
            instrument=str(txn.get("instrument", close.get("instrument", ""))),
            units=int(units),
            type=order_type,
            status=OrderStatus.SUBMITTED if order_type is OrderType.MARKET else OrderStatus.WORKING,
            price=_dec(txn.get("price")),
            time_in_force=TimeInForce(tif) if tif in TimeInForce.__members__ else TimeInForce.GTC,
            gtd_time=parse_time(str(txn["gtdTime"])) if tif == "GTD" and "gtdTime" in txn else None,
            reduce_only=bool(close) or txn.get("positionFill") == "REDUCE_ONLY",
            venue_id=tid,
            origin="venue",
            created_ts=ts,
            updated_ts=ts,
        )

    def _protective(
        self, txn: Json, tid: str, suffix: str, order_type: OrderType
    ) -> list[VenueEvent]:
        trade_id = str(txn["tradeID"])
        oid = f"{trade_id}.{suffix}"
        price = _dec(txn.get("price"))
        distance = _dec(txn.get("distance"))
        replaces = txn.get("replacesOrderID")
        self._ids[tid] = oid
        if replaces:  # a trailing stop's new distance travels as the modification's price
            return [base.VenueModified(oid, price if price is not None else distance, 0, tid, tid)]
        ts = parse_time(str(txn["time"])) if "time" in txn else 0.0
        order = Order(
            id=oid,
            account=self.account,
            instrument=str(txn.get("instrument") or self._instruments.get(trade_id, "")),
            units=0,  # the engine sizes it from the trade (and finds it when "" instrument)
            type=order_type,
            status=OrderStatus.WORKING,
            price=price,
            trailing_stop_distance=distance,
            trade_id=trade_id,
            reduce_only=True,
            venue_id=tid,
            origin="venue" if txn.get("reason") not in ("ON_FILL", None) else "auto",
            created_ts=ts,
            updated_ts=ts,
        )
        return [base.VenueProtectiveCreated(order, tid)]

    def _filled(self, txn: Json, tid: str) -> list[VenueEvent]:
        venue_id = str(txn["orderID"])
        oid = self.order_id(venue_id, txn.get("clientOrderID"))
        opened = txn.get("tradeOpened") or {}
        if opened.get("tradeID"):
            self._instruments[str(opened["tradeID"])] = str(txn.get("instrument", ""))
        price = Decimal(str(txn.get("fullVWAP") or txn["price"]))
        fill = base.VenueFilled(
            oid,
            str(opened.get("tradeID") or tid),
            int(Decimal(str(txn["units"]))),
            price,
            parse_time(str(txn["time"])),
            tid,
            closes=fill_closes(txn),
            financing=_dec(txn.get("financing")) or Decimal(0),
        )
        return [fill]

    # reconciliation views -------------------------------------------------------------------

    def pending_order(self, raw: Json) -> Order | None:
        """A pending order from ``GET /pendingOrders`` as the engine would hold it."""
        kind = _ORDER_KIND.get(str(raw.get("type")), "")
        vid = str(raw["id"])
        if kind in _PROTECTIVE:
            events = self._protective({**raw, "replacesOrderID": None}, vid, *_PROTECTIVE[kind])
            event = events[0]
            assert isinstance(event, base.VenueProtectiveCreated)
            return event.order
        if kind not in _ORDER_TYPES:
            return None
        ours = self.our_id((raw.get("clientExtensions") or {}).get("id"))
        txn = {**raw, "time": raw.get("createTime", raw.get("time"))}
        order = self.outside_order(txn, vid, _ORDER_TYPES[kind])
        if ours is not None:
            self._ids[vid] = ours
            order = order.with_changes({"id": ours, "origin": "ui"})
        return order

    def open_trade(self, raw: Json) -> Trade:
        """An open trade from ``GET /openTrades`` as an engine lot."""
        units = int(Decimal(str(raw["currentUnits"])))
        tp = raw.get("takeProfitOrderID") or (raw.get("takeProfitOrder") or {}).get("id")
        stop = raw.get("stopLossOrderID") or (raw.get("stopLossOrder") or {}).get("id")
        trailing = raw.get("trailingStopLossOrderID") or (
            raw.get("trailingStopLossOrder") or {}
        ).get("id")
        sl = stop or trailing
        tid = str(raw["id"])
        self._instruments[tid] = str(raw["instrument"])
        sl_suffix = "sl" if stop else "tsl"
        return Trade(
            id=tid,
            account=self.account,
            instrument=str(raw["instrument"]),
            units=units,
            initial_units=int(Decimal(str(raw.get("initialUnits", units)))),
            price=Decimal(str(raw["price"])),
            open_ts=parse_time(str(raw["openTime"])) if "openTime" in raw else 0.0,
            take_profit_order_id=f"{tid}.tp" if tp else None,
            stop_loss_order_id=f"{tid}.{sl_suffix}" if sl else None,
        )
