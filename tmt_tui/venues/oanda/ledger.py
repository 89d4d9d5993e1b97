"""A v20-shaped paper account: the sim broker's fills, recorded as OANDA transactions.

The local server keeps one of these per account. Matching (touch fills, resting orders, TP/SL on
fill) is the sim broker's; this class validates requests the way OANDA does, hands out
increasing integer ids, mirrors the trade book and speaks v20 JSON. What the sim broker does not
do, the ledger does on top of it, as OANDA would: trailing stops (trailed on every quote, fired
as a closing market order), replacing orders, TP/SL/TSL set on an open trade, closing a trade or
a position, and cancelling a trade's linked orders (``LINKED_TRADE_CLOSED``) however it closed.
Single-threaded: it lives on the server's event loop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from tmt_tui.domain.conversion import conversion_paths, rate_along
from tmt_tui.domain.instruments import Instrument
from tmt_tui.domain.netting import reduce_order
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
from tmt_tui.venues.oanda.validation import (
    CREATE_TYPES,
    Rejected,
    check_close_units,
    check_price,
    echo,
    validate_order,
)
from tmt_tui.venues.oanda.wire import Json, price_json, rfc3339
from tmt_tui.venues.sim.broker import SimBroker

log = logging.getLogger(__name__)

_CENT = Decimal("0.0001")
#: OANDA converts P&L into the home currency at the mid, marked down 0.5% for a gain and up
#: 0.5% for a loss (its "home currency conversion" FAQ).
CONVERSION_FEE = Decimal("0.005")
# protective order kind -> (trade field holding its id, key in PUT /trades/{id}/orders)
_LINKED = {
    "TAKE_PROFIT": ("takeProfitOrderID", "takeProfit"),
    "STOP_LOSS": ("stopLossOrderID", "stopLoss"),
    "TRAILING_STOP_LOSS": ("trailingStopLossOrderID", "trailingStopLoss"),
}
_REPLACEABLE = ("LIMIT", "STOP")


class _Trail:
    """A trailing stop's state: the best price seen in the trade's favour."""

    __slots__ = ("trade_id", "long", "distance", "best")

    def __init__(self, trade_id: str, long: bool, distance: Decimal, best: Decimal) -> None:
        self.trade_id = trade_id
        self.long = long
        self.distance = distance
        self.best = best

    @property
    def trigger(self) -> Decimal:
        return self.best - self.distance if self.long else self.best + self.distance


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
        self._trailing: dict[str, dict[str, _Trail]] = {}  # instrument -> order id -> trail
        self._linked: dict[str, list[str]] = {}  # trade id -> its TP/SL/TSL order ids
        self._closed: list[str] = []  # trades closed by the fills being drained
        self.listeners: list[Callable[[Json], None]] = []
        self.quotes: dict[str, Quote] = {}

    @property
    def last_id(self) -> str:
        return str(self._last_id)

    # prices ---------------------------------------------------------------------------------

    def on_quote(self, quote: Quote) -> list[Json]:
        """Show the paper book a new price; returns the transactions it caused (triggers)."""
        self.quotes[quote.instrument] = quote
        self._broker.on_quote(quote)
        out = self._drain(batch=None)
        if self._trailing.get(quote.instrument):
            out += self._trail(quote)
        return out

    def _trail(self, quote: Quote) -> list[Json]:
        """Move each trailing stop on ``quote``'s instrument; fire those it touches."""
        out: list[Json] = []
        trails = self._trailing[quote.instrument]
        for oid, trail in list(trails.items()):
            touch = quote.bid if trail.long else quote.ask
            if (touch > trail.best) if trail.long else (touch < trail.best):
                trail.best = touch
                self.orders[oid]["trailingStopValue"] = str(trail.trigger)
            if (touch <= trail.trigger) if trail.long else (touch >= trail.trigger):
                del trails[oid]
                out += self._fire(oid, trail)
        return out

    def _fire(self, oid: str, trail: _Trail) -> list[Json]:
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

    # orders ---------------------------------------------------------------------------------

    def create_order(self, body: Any) -> tuple[int, Json]:
        """``POST /orders``: (201, create [+ fill | cancel]) or (400, reject)."""
        request = body.get("order") if isinstance(body, dict) else None
        if not isinstance(request, dict) or request.get("type") not in CREATE_TYPES:
            return 400, {"errorMessage": "Invalid value specified for 'order'"}
        kind = CREATE_TYPES[request["type"]]
        try:
            order, create = validate_order(
                request, kind, self.instruments, self.by_client, self.account_id
            )
        except Rejected as why:
            return self._order_reject(request, kind, why)
        return 201, self._open(request, order, create)

    def replace_order(self, spec: str, body: Any) -> tuple[int, Json]:
        """``PUT /orders/{spec}``: cancel the order (``replacedByOrderID``) and create its
        replacement (``replacesOrderID``), which may reuse the replaced order's client id."""
        oid = self.resolve(spec)
        old = self.orders.get(oid or "")
        if oid is None or old is None or old["state"] != "PENDING":
            return self._cancel_reject(oid)
        request = body.get("order") if isinstance(body, dict) else None
        if (
            not isinstance(request, dict)
            or request.get("type") not in _REPLACEABLE
            or old["type"] not in _REPLACEABLE
        ):
            return 400, {"errorMessage": "Invalid value specified for 'order'"}
        kind = CREATE_TYPES[request["type"]]
        old_cid = (old.get("clientExtensions") or {}).get("id")
        taken = self.by_client.keys() - {old_cid} if old_cid else self.by_client
        try:
            order, create = validate_order(request, kind, self.instruments, taken, self.account_id)
        except Rejected as why:
            return self._order_reject(request, kind, why, {"intendedReplacesOrderID": oid})
        new_id = str(self._last_id + 2)  # the cancel comes first, then the replacing order
        cancel = self._withdraw(oid, "CLIENT_REQUEST_REPLACED", None, replaced_by=new_id)
        create.update(reason="REPLACEMENT", replacesOrderID=oid)
        out = self._open(request, order, create, batch=cancel["id"])
        if "orderCancelTransaction" in out:
            out["replacingOrderCancelTransaction"] = out.pop("orderCancelTransaction")
        out["orderCancelTransaction"] = cancel
        out["relatedTransactionIDs"] = [cancel["id"], *out["relatedTransactionIDs"]]
        return 201, out

    def cancel_order(self, spec: str) -> tuple[int, Json]:
        """``PUT /orders/{spec}/cancel``."""
        oid = self.resolve(spec)
        order = self.orders.get(oid or "")
        if oid is None or order is None or order["state"] != "PENDING":
            return self._cancel_reject(oid)
        cancel = self._withdraw(oid, "CLIENT_REQUEST", None)
        return 200, {
            "orderCancelTransaction": cancel,
            "relatedTransactionIDs": [cancel["id"]],
            "lastTransactionID": self.last_id,
        }

    def resolve(self, spec: str) -> str | None:
        """An order specifier (``123`` or ``@client-id``) as an OANDA order id."""
        if spec.startswith("@"):
            return self.by_client.get(spec[1:])
        return spec if spec in self.orders else None

    # trades and positions -------------------------------------------------------------------

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

    def set_trade_orders(self, spec: str, body: Any) -> tuple[int, Json]:
        """``PUT /trades/{spec}/orders``: create, replace (or, given null, cancel) the trade's
        take-profit, stop-loss and trailing stop."""
        trade_id = self.resolve_trade(spec)
        if trade_id is None:
            return 404, {
                "errorCode": "TRADE_DOESNT_EXIST",
                "errorMessage": "The Trade specified does not exist",
                "lastTransactionID": self.last_id,
            }
        if not isinstance(body, dict):
            return 400, {"errorMessage": "The request was missing required data"}
        trade = self.trades[trade_id]
        inst = self.instruments[trade["instrument"]]
        plans: list[tuple[str, Decimal | None]] = []
        for kind, (_, key) in _LINKED.items():
            if key not in body:
                continue
            details = body[key]
            if details is None:
                plans.append((kind, None))
                continue
            field = "distance" if kind == "TRAILING_STOP_LOSS" else "price"
            raw = details.get(field) if isinstance(details, dict) else None
            label = "PRICE_DISTANCE" if kind == "TRAILING_STOP_LOSS" else "PRICE"
            try:
                value = check_price(raw, inst, label, required=True)
            except Rejected as why:
                reject = self._txn(
                    {
                        "type": f"{kind}_ORDER_REJECT",
                        "tradeID": trade_id,
                        field: str(raw),
                        "timeInForce": "GTC",
                        "triggerCondition": "DEFAULT",
                        "reason": "CLIENT_ORDER",
                        "rejectReason": why.reason,
                    }  # fmt: skip
                )
                return 400, {
                    f"{key}OrderRejectTransaction": reject,
                    "relatedTransactionIDs": [reject["id"]],
                    "lastTransactionID": self.last_id,
                    "errorCode": why.reason,
                    "errorMessage": why.message,
                }
            plans.append((kind, value))
        out: Json = {}
        related: list[str] = []
        batch: str | None = None
        for kind, value in plans:
            id_field, key = _LINKED[kind]
            existing = trade.get(id_field)
            if existing is not None and self.orders[existing]["state"] != "PENDING":
                existing = None
            if value is None:
                if existing is not None:
                    cancel = self._withdraw(existing, "CLIENT_REQUEST", batch)
                    trade.pop(id_field, None)
                    out[f"{key}OrderCancelTransaction"] = cancel
                    related.append(cancel["id"])
                continue
            if existing is not None:
                new_id = str(self._last_id + 2)
                cancel = self._withdraw(
                    existing, "CLIENT_REQUEST_REPLACED", batch, replaced_by=new_id
                )
                out[f"{key}OrderCancelTransaction"] = cancel
                related.append(cancel["id"])
                batch = batch or cancel["id"]
            reason = "REPLACEMENT" if existing is not None else "CLIENT_ORDER"
            txns = self._protect(trade_id, kind, value, reason, existing, batch)
            created = txns[0]
            batch = batch or created["id"]
            out[f"{key}OrderTransaction"] = created
            for txn in txns[1:]:
                if txn.get("orderID") != created["id"]:
                    continue
                if txn["type"] == "ORDER_FILL":
                    out[f"{key}OrderFillTransaction"] = txn
                elif txn["type"] == "ORDER_CANCEL":
                    out[f"{key}OrderCreatedCancelTransaction"] = txn
            related += [t["id"] for t in txns]
            if trade_id not in self.trades:
                break  # it filled at once and closed the trade; the rest would be cancelled
        out["relatedTransactionIDs"] = related
        out["lastTransactionID"] = self.last_id
        return 200, out

    def close_trade(self, spec: str, body: Any) -> tuple[int, Json]:
        """``PUT /trades/{spec}/close``: a market order reducing that trade (all or part)."""
        trade_id = self.resolve_trade(spec)
        raw = body.get("units", "ALL") if isinstance(body, dict) else "ALL"
        close = {"tradeID": trade_id or spec, "units": str(raw)}
        if trade_id is None:
            why = Rejected("TRADE_DOESNT_EXIST", "The Trade specified does not exist")
            status, out = self._order_reject({"tradeClose": close}, "MARKET_ORDER", why)
            return 404, out
        trade = self.trades[trade_id]
        current = int(trade["currentUnits"])
        try:
            units = check_close_units(raw, "CLOSE_TRADE_PARTIAL_UNITS")
            if units is not None and units > abs(current):
                raise Rejected(
                    "CLOSE_TRADE_UNITS_EXCEED_TRADE_SIZE", "The units exceed the trade's size"
                )
        except Rejected as why:
            request = {"instrument": trade["instrument"], "tradeClose": close}
            return self._order_reject(request, "MARKET_ORDER", why)
        size = abs(current) if units is None else int(units)
        signed = -size if current > 0 else size
        create = {"instrument": trade["instrument"], "units": str(signed), "tradeClose": close}
        out = self._close(create, "TRADE_CLOSE", self._to_sim.get(trade_id))
        return 200, out

    def close_position(self, instrument: str, body: Any) -> tuple[int, Json]:
        """``PUT /positions/{instrument}/close``: ``longUnits`` / ``shortUnits`` as ALL, NONE
        or a count. The book nets, so at most one side exists."""
        if instrument not in self.instruments:
            return 404, {
                "errorCode": "CLOSEOUT_POSITION_DOESNT_EXIST",
                "errorMessage": "The Position specified does not exist",
                "lastTransactionID": self.last_id,
            }
        body = body if isinstance(body, dict) else {}
        net = sum(
            (int(t["currentUnits"]) for t in self.trades.values() if t["instrument"] == instrument),
            0,
        )
        sides = [
            (side, str(body.get(f"{side}Units", "NONE")), has)
            for side, has in (("long", net > 0), ("short", net < 0))
        ]
        plans: list[tuple[str, str, int]] = []
        for side, raw, has in sides:
            if raw == "NONE":
                continue
            closeout = {"instrument": instrument, "units": raw}
            request = {"instrument": instrument, f"{side}PositionCloseout": closeout}
            try:
                units = check_close_units(raw, "CLOSEOUT_POSITION_PARTIAL_UNITS")
                if not has:
                    raise Rejected(
                        "CLOSEOUT_POSITION_DOESNT_EXIST", f"There is no {side} position to close"
                    )
                if units is not None and units > abs(net):
                    raise Rejected(
                        "CLOSEOUT_POSITION_UNITS_EXCEED_POSITION_SIZE",
                        "The units exceed the position's size",
                    )
            except Rejected as why:
                status, out = self._order_reject(request, "MARKET_ORDER", why)
                out[f"{side}OrderRejectTransaction"] = out.pop("orderRejectTransaction")
                return 400, out
            plans.append((side, raw, abs(net) if units is None else int(units)))
        if not plans:
            return 400, {
                "errorCode": "CLOSEOUT_POSITION_INCOMPLETE_SPECIFICATION",
                "errorMessage": "longUnits or shortUnits must be given",
                "lastTransactionID": self.last_id,
            }
        answer: Json = {"relatedTransactionIDs": []}
        for side, raw, size in plans:
            signed = -size if side == "long" else size
            create = {
                "instrument": instrument,
                "units": str(signed),
                f"{side}PositionCloseout": {"instrument": instrument, "units": raw},
            }
            out = self._close(create, "POSITION_CLOSEOUT", None)
            for what in ("Create", "Fill", "Cancel"):
                if f"order{what}Transaction" in out:
                    answer[f"{side}Order{what}Transaction"] = out[f"order{what}Transaction"]
            answer["relatedTransactionIDs"] += out["relatedTransactionIDs"]
        answer["lastTransactionID"] = self.last_id
        return 200, answer

    def _close(self, create: Json, reason: str, sim_trade: str | None) -> Json:
        """A closing market order (trade close or position closeout), filled at once."""
        create.update(timeInForce="FOK", positionFill="REDUCE_ONLY", reason=reason)
        create["type"] = "MARKET_ORDER"
        order = Order(
            id="",
            account=self.account_id,
            instrument=create["instrument"],
            units=int(create["units"]),
            type=OrderType.MARKET,
            status=OrderStatus.SUBMITTED,
            trade_id=sim_trade,
            reduce_only=True,
        )
        return self._open(
            {"timeInForce": "FOK"}, order, create, fill_reason=f"MARKET_ORDER_{reason}"
        )

    # views ----------------------------------------------------------------------------------

    def pending_orders(self) -> list[Json]:
        return [o for o in self.orders.values() if o["state"] == "PENDING"]

    def open_trades(self) -> list[Json]:
        out = []
        for trade in reversed(self.trades.values()):
            full = dict(trade)
            for key, _ in _LINKED.values():
                oid = full.pop(key, None)
                if oid is not None and self.orders[oid]["state"] == "PENDING":
                    full[key.removesuffix("ID")] = self.orders[oid]
            out.append(full)
        return out

    def positions(self) -> list[Json]:
        """Open positions (one per instrument with open trades), v20 ``Position``."""
        zero = "0.0000"
        positions: dict[str, Json] = {}
        for trade in self.trades.values():
            units = Decimal(trade["currentUnits"])
            pos = positions.get(trade["instrument"])
            if pos is None:
                pos = positions[trade["instrument"]] = {
                    "instrument": trade["instrument"], "pl": zero, "unrealizedPL": zero,
                    "resettablePL": zero, "financing": zero, "commission": zero,
                    "long": {"units": "0", "pl": zero, "unrealizedPL": zero, "tradeIDs": []},
                    "short": {"units": "0", "pl": zero, "unrealizedPL": zero, "tradeIDs": []},
                }  # fmt: skip
            side = pos["long" if units > 0 else "short"]
            held = Decimal(side["units"])
            price = Decimal(trade["price"])
            average = (Decimal(side.get("averagePrice", "0")) * held + price * units) / (
                held + units
            )
            side["units"] = str(held + units)
            side["averagePrice"] = str(self.instruments[trade["instrument"]].round_price(average))
            side["tradeIDs"].append(trade["id"])
        return list(positions.values())

    def summary(self) -> Json:
        margin = sum(
            (
                abs(Decimal(t["currentUnits"]))
                * Decimal(t["price"])
                * self.instruments[t["instrument"]].margin_rate
                * self.home_mid(self.instruments[t["instrument"]].quote)
                for t in self.trades.values()
            ),
            Decimal(0),
        ).quantize(_CENT)
        positions = {t["instrument"] for t in self.trades.values()}
        balance = self.balance.quantize(_CENT)
        return {
            "id": self.account_id,
            "alias": "tmt paper",
            "currency": self.currency,
            "balance": str(balance),
            "createdByUserID": 1,
            "createdTime": rfc3339(self.created),
            "pl": str(self.pl.quantize(_CENT)),
            "resettablePL": str(self.pl.quantize(_CENT)),
            "financing": "0.0000",
            "commission": "0.0000",
            "guaranteedExecutionFees": "0.0000",
            "marginRate": "0.0333",
            "openTradeCount": len(self.trades),
            "openPositionCount": len(positions),
            "pendingOrderCount": len(self.pending_orders()),
            "hedgingEnabled": self.hedging,
            "unrealizedPL": "0.0000",
            "NAV": str(balance),
            "marginUsed": str(margin),
            "marginAvailable": str(balance - margin),
            "positionValue": "0.0000",
            "withdrawalLimit": str(balance - margin),
            "lastTransactionID": self.last_id,
        }

    def details(self) -> Json:
        account = self.summary()
        account.update(
            trades=[dict(t) for t in self.trades.values()],
            orders=self.pending_orders(),
            positions=self.positions(),
        )
        return account

    # internals ------------------------------------------------------------------------------

    def _open(
        self,
        request: Json,
        order: Order,
        create: Json,
        batch: str | None = None,
        fill_reason: str | None = None,
    ) -> Json:
        """Record an accepted order's create transaction and run it through the sim broker;
        the create-order response body (create [+ fill | cancel])."""
        created = self._txn(create, batch)
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
        out: Json = {"orderCreateTransaction": created}
        cancel = self._market_cancel_reason(order, request)
        txns: list[Json] = []
        if cancel is not None:
            txns.append(self._cancel_record(oid, cancel, batch))
        else:
            self._broker.submit(order)
            txns += self._drain(batch)
            immediate = create.get("timeInForce") in ("FOK", "IOC")
            if immediate and self.orders[oid]["state"] == "PENDING":
                txns.append(self._withdraw(oid, "TIME_IN_FORCE_EXPIRED", batch))
        for txn in txns:
            if txn.get("orderID") != oid:
                continue
            if txn["type"] == "ORDER_FILL":
                out["orderFillTransaction"] = txn
            elif txn["type"] == "ORDER_CANCEL":
                out["orderCancelTransaction"] = txn
        out["relatedTransactionIDs"] = [oid] + [t["id"] for t in txns]
        out["lastTransactionID"] = self.last_id
        return out

    def _order_reject(
        self, request: Json, kind: str, why: Rejected, extra: Json | None = None
    ) -> tuple[int, Json]:
        reject = self._txn(
            {**echo(request), **(extra or {}), "type": f"{kind}_REJECT", "rejectReason": why.reason}
        )
        for key in ("tradeClose", "longPositionCloseout", "shortPositionCloseout"):
            if key in request:
                reject[key] = request[key]
        return 400, {
            "orderRejectTransaction": reject,
            "relatedTransactionIDs": [reject["id"]],
            "lastTransactionID": self.last_id,
            "errorCode": why.reason,
            "errorMessage": why.message,
        }

    def _cancel_reject(self, oid: str | None) -> tuple[int, Json]:
        reject = self._txn(
            {
                "type": "ORDER_CANCEL_REJECT",
                "orderID": oid or "",
                "rejectReason": "ORDER_DOESNT_EXIST",
            }
        )
        return 404, {
            "orderCancelRejectTransaction": reject,
            "relatedTransactionIDs": [reject["id"]],
            "lastTransactionID": self.last_id,
            "errorCode": "ORDER_DOESNT_EXIST",
            "errorMessage": "The Order specified does not exist",
        }

    def _withdraw(
        self, oid: str, reason: str, batch: str | None, *, replaced_by: str | None = None
    ) -> Json:
        """Take a pending order off the book (sim broker or trailing set) and record its
        cancel; the sim broker's own answer to the cancel is dropped (this is the record)."""
        if self.orders[oid]["type"] == "TRAILING_STOP_LOSS":
            for trails in self._trailing.values():
                trails.pop(oid, None)
        else:
            domain = self._domain.get(oid)
            if domain is not None:
                queued = len(self._pending)
                self._broker.cancel(domain)
                del self._pending[queued:]
        extra = {} if replaced_by is None else {"replacedByOrderID": replaced_by}
        return self._cancel_record(oid, reason, batch, extra)

    def _protect(
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
        txn = self._txn(fields, batch)
        oid = txn["id"]
        record = {k: v for k, v in fields.items() if k != "reason"}
        record.update(id=oid, createTime=txn["time"], state="PENDING", type=kind)
        self.orders[oid] = record
        trade[_LINKED[kind][0]] = oid
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
        """A TRAILING_STOP_LOSS order for the trade, trailed by ``_trail`` on every quote."""
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
        txn = self._txn(fields, batch)
        oid = txn["id"]
        trail = _Trail(trade_id, long, inst.round_price(distance), best)
        record = {k: v for k, v in fields.items() if k != "reason"}
        record.update(
            id=oid,
            createTime=txn["time"],
            state="PENDING",
            type="TRAILING_STOP_LOSS",
            trailingStopValue=str(trail.trigger),
        )
        self.orders[oid] = record
        self._trailing.setdefault(trade["instrument"], {})[oid] = trail
        trade["trailingStopLossOrderID"] = oid
        self._linked.setdefault(trade_id, []).append(oid)
        return txn

    def _market_cancel_reason(self, order: Order, request: Json) -> str | None:
        """Why an accepted market order cancels at once instead of filling (201 + cancel)."""
        if order.type is not OrderType.MARKET:
            return None
        if not self.instruments[order.instrument].tradeable:
            return "MARKET_HALTED"
        quote = self.quotes.get(order.instrument)
        if quote is None:
            return "MARKET_HALTED"
        bound = request.get("priceBound")
        if bound is not None:
            bound_price = Decimal(str(bound))
            if (order.units > 0 and quote.ask > bound_price) or (
                order.units < 0 and quote.bid < bound_price
            ):
                return "BOUNDS_VIOLATION"
        return None

    def _txn(self, fields: Json, batch: str | None = None) -> Json:
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
                        out.append(self._withdraw(oid, "LINKED_TRADE_CLOSED", batch))

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
        txn = self._txn(fields, batch)
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
        txn = self._txn(
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
            trade[_LINKED[kind][0]] = oid
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
        txn = self._txn(fields, batch)
        gain, loss = self.home_factors(inst.quote)
        txn.update(gainQuoteHomeConversionFactor=str(gain), lossQuoteHomeConversionFactor=str(loss))
        closed, reduced, opened, pl = self._book(domain, event.units, event.price, txn, gain, loss)
        self.balance += pl
        self.pl += pl
        txn.update(pl=str(pl.quantize(_CENT)), accountBalance=str(self.balance.quantize(_CENT)))
        if closed:
            txn["tradesClosed"] = closed
            order["tradeClosedIDs"] = [c["tradeID"] for c in closed]
            self._closed += order["tradeClosedIDs"]
        if reduced is not None:
            txn["tradeReduced"] = reduced
            order["tradeReducedID"] = reduced["tradeID"]
        if opened is not None:
            txn["tradeOpened"] = opened
            order["tradeOpenedID"] = opened["tradeID"]
            self._from_sim[event.fill_id] = opened["tradeID"]
            self._to_sim[opened["tradeID"]] = event.fill_id
            distance = self._tsl_on_fill.pop(oid, None)
            if distance is not None:
                self._tsl_due.append((opened["tradeID"], distance))
        order.update(state="FILLED", fillingTransactionID=txn["id"], filledTime=txn["time"])
        return txn

    def home_factors(self, currency: str) -> tuple[Decimal, Decimal]:
        """(gain, loss) factors converting ``currency`` into the home currency: the mid of the
        conversion pair (direct, else through USD), less the fee for a gain, plus it for a loss.
        """
        if currency == self.currency:
            return Decimal(1), Decimal(1)
        mid = self.home_mid(currency)
        one = Decimal(1)
        return (
            (mid * (one - self.conversion_fee)).quantize(Decimal("1E-10")),
            (mid * (one + self.conversion_fee)).quantize(Decimal("1E-10")),
        )

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

    def _book(
        self, order: Order, units: int, price: Decimal, txn: Json, gain: Decimal, loss: Decimal
    ) -> tuple[list[Json], Json | None, Json | None, Decimal]:
        """FIFO netting, the named trade first for this fill (``domain.netting``), in v20 JSON."""
        lots = [t for t in self.trades.values() if t["instrument"] == order.instrument]
        named = None if order.trade_id is None else self._oanda_id(order.trade_id)
        lots = [lots[i] for i in reduce_order([t["id"] for t in lots], named)]
        closed: list[Json] = []
        reduced: Json | None = None
        pl = Decimal(0)
        remaining = units
        for trade in lots:
            current = int(trade["currentUnits"])
            if not remaining or (current > 0) == (remaining > 0):
                break
            take = min(abs(remaining), abs(current))
            step = take if current < 0 else -take
            quote_pl = (price - Decimal(trade["price"])) * (-step)
            realized = (quote_pl * (gain if quote_pl > 0 else loss)).quantize(_CENT)
            pl += realized
            trade["realizedPL"] = str(Decimal(trade["realizedPL"]) + realized)
            remaining -= step
            change = {
                "tradeID": trade["id"],
                "units": str(step),
                "price": str(price),
                "realizedPL": str(realized),
                "financing": "0.0000",
            }
            if current + step == 0:
                closed.append(change)
                del self.trades[trade["id"]]  # the sim broker cancels its TP/SL itself
            else:
                trade["currentUnits"] = str(current + step)
                reduced = change
        opened: Json | None = None
        if remaining:
            opened = {"tradeID": txn["id"], "units": str(remaining), "price": str(price),
                      "guaranteedExecutionFee": "0.0000", "halfSpreadCost": "0.0000"}  # fmt: skip
            self.trades[txn["id"]] = {
                "id": txn["id"],
                "instrument": order.instrument,
                "price": str(price),
                "openTime": txn["time"],
                "state": "OPEN",
                "initialUnits": str(remaining),
                "currentUnits": str(remaining),
                "realizedPL": "0.0000",
                "unrealizedPL": "0.0000",
                "marginUsed": "0.0000",
                "financing": "0.0000",
            }
            cext = self.orders[txn["orderID"]].get("tradeClientExtensions")
            if cext:
                opened["clientExtensions"] = cext
                self.trades[txn["id"]]["clientExtensions"] = cext
        return closed, reduced, opened, pl
