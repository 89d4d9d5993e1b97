"""A v20-shaped paper account: the sim broker's fills, recorded as OANDA transactions.

The local server keeps one of these per account. Matching (touch fills, resting orders, TP/SL on
fill) is the sim broker's; this class only validates requests the way OANDA does, hands out
increasing integer ids, mirrors the trade book and speaks v20 JSON. Single-threaded: it lives on
the server's event loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from tmt_tui.domain.instruments import Instrument
from tmt_tui.domain.orders import Order, OrderType
from tmt_tui.domain.quotes import Quote
from tmt_tui.venues.base import (
    VenueAccepted,
    VenueCancelled,
    VenueEvent,
    VenueFilled,
    VenueProtectiveCreated,
    VenueRejected,
)
from tmt_tui.venues.oanda.validation import CREATE_TYPES, Rejected, echo, validate_order
from tmt_tui.venues.oanda.wire import Json, price_json, rfc3339
from tmt_tui.venues.sim.broker import SimBroker


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
    ) -> None:
        self.account_id = account_id
        self.currency = currency
        self.instruments = {i.name: i for i in instruments}
        self.balance = balance
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
        self.listeners: list[Callable[[Json], None]] = []
        self.quotes: dict[str, Quote] = {}
        self._cancel_as: str | None = None  # reason for the cancel the ledger itself asks for

    @property
    def last_id(self) -> str:
        return str(self._last_id)

    # prices ---------------------------------------------------------------------------------

    def on_quote(self, quote: Quote) -> list[Json]:
        """Show the paper book a new price; returns the transactions it caused (triggers)."""
        self.quotes[quote.instrument] = quote
        self._broker.on_quote(quote)
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
            reject = self._txn(
                {**echo(request), "type": f"{kind}_REJECT", "rejectReason": why.reason}
            )
            return 400, {
                "orderRejectTransaction": reject,
                "relatedTransactionIDs": [reject["id"]],
                "lastTransactionID": self.last_id,
                "errorCode": why.reason,
                "errorMessage": why.message,
            }
        created = self._txn(create)
        batch = created["id"]
        order = order.with_changes({"id": batch, "venue_id": batch})
        record = {k: v for k, v in create.items() if k not in ("reason",)}
        record.update(id=batch, createTime=created["time"], state="PENDING", type=request["type"])
        self.orders[batch] = record
        self._domain[batch] = order
        cid = (request.get("clientExtensions") or {}).get("id")
        if cid:
            self.by_client[cid] = batch
        out: Json = {"orderCreateTransaction": created}
        cancel = self._market_cancel_reason(order, request)
        txns: list[Json] = []
        if cancel is not None:
            txns.append(self._cancel_record(batch, cancel, batch))
        else:
            self._broker.submit(order)
            txns += self._drain(batch)
            immediate = request.get("timeInForce") in ("FOK", "IOC")
            if immediate and self.orders[batch]["state"] == "PENDING":
                self._cancel_as = "TIME_IN_FORCE_EXPIRED"
                self._broker.cancel(order)
                txns += self._drain(batch)
        for txn in txns:
            if txn.get("orderID") != batch:
                continue
            if txn["type"] == "ORDER_FILL":
                out["orderFillTransaction"] = txn
            elif txn["type"] == "ORDER_CANCEL":
                out["orderCancelTransaction"] = txn
        related = [batch] + [t["id"] for t in txns]
        out["relatedTransactionIDs"] = related
        out["lastTransactionID"] = self.last_id
        return 201, out

    def cancel_order(self, spec: str) -> tuple[int, Json]:
        """``PUT /orders/{spec}/cancel``."""
        oid = self.resolve(spec)
        order = self.orders.get(oid or "")
        if oid is None or order is None or order["state"] != "PENDING":
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
        self._cancel_as = "CLIENT_REQUEST"
        self._broker.cancel(self._domain[oid])
        txns = self._drain(batch=None)
        cancel = next(t for t in txns if t["type"] == "ORDER_CANCEL")
        return 200, {
            "orderCancelTransaction": cancel,
            "relatedTransactionIDs": [t["id"] for t in txns],
            "lastTransactionID": self.last_id,
        }

    def resolve(self, spec: str) -> str | None:
        """An order specifier (``123`` or ``@client-id``) as an OANDA order id."""
        if spec.startswith("@"):
            return self.by_client.get(spec[1:])
        return spec if spec in self.orders else None

    # views ----------------------------------------------------------------------------------

    def pending_orders(self) -> list[Json]:
        return [o for o in self.orders.values() if o["state"] == "PENDING"]

    def open_trades(self) -> list[Json]:
        out = []
        for trade in reversed(self.trades.values()):
            full = dict(trade)
            for key, field in (
                ("takeProfitOrderID", "takeProfitOrder"),
                ("stopLossOrderID", "stopLossOrder"),
            ):
                oid = full.pop(key, None)
                if oid is not None and self.orders[oid]["state"] == "PENDING":
                    full[field] = self.orders[oid]
            out.append(full)
        return out

    def summary(self) -> Json:
        margin = sum(
            (
                abs(Decimal(t["currentUnits"]))
                * Decimal(t["price"])
                * self.instruments[t["instrument"]].margin_rate
                for t in self.trades.values()
            ),
            Decimal(0),
        ).quantize(Decimal("0.0001"))
        positions = {t["instrument"] for t in self.trades.values()}
        balance = self.balance.quantize(Decimal("0.0001"))
        return {
            "id": self.account_id,
            "alias": "tmt paper",
            "currency": self.currency,
            "balance": str(balance),
            "createdByUserID": 1,
            "createdTime": rfc3339(self.created),
            "pl": "0.0000",
            "resettablePL": "0.0000",
            "financing": "0.0000",
            "commission": "0.0000",
            "guaranteedExecutionFees": "0.0000",
            "marginRate": "0.0333",
            "openTradeCount": len(self.trades),
            "openPositionCount": len(positions),
            "pendingOrderCount": len(self.pending_orders()),
            "hedgingEnabled": False,
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
        trades = []
        for trade in self.trades.values():
            trades.append(dict(trade))
        positions: dict[str, Json] = {}
        for trade in self.trades.values():
            units = Decimal(trade["currentUnits"])
            pos = positions.setdefault(
                trade["instrument"],
                {
                    "instrument": trade["instrument"],
                    "pl": "0.0000",
                    "unrealizedPL": "0.0000",
                    "long": {
                        "units": "0",
                        "pl": "0.0000",
                        "unrealizedPL": "0.0000",
                        "tradeIDs": [],
                    },
                    "short": {
                        "units": "0",
                        "pl": "0.0000",
                        "unrealizedPL": "0.0000",
                        "tradeIDs": [],
                    },
                },
            )
            side = pos["long" if units > 0 else "short"]
            side["units"] = str(Decimal(side["units"]) + units)
            side["tradeIDs"].append(trade["id"])
        account.update(
            trades=trades, orders=self.pending_orders(), positions=list(positions.values())
        )
        return account

    # internals ------------------------------------------------------------------------------

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
        out: list[Json] = []
        while self._pending:
            event = self._pending.pop(0)
            txn = self._translate(event, batch)
            if txn is not None:
                out.append(txn)
                batch = batch or txn["id"]
        return out

    def _oanda_id(self, sim_id: str) -> str:
        return self._from_sim.get(sim_id, sim_id)

    def _translate(self, event: VenueEvent, batch: str | None) -> Json | None:
        if isinstance(event, VenueAccepted):
            return None
        if isinstance(event, VenueFilled):
            return self._fill(event, batch)
        if isinstance(event, VenueCancelled):
            oid = self._oanda_id(event.order_id)
            reason, self._cancel_as = self._cancel_as or event.reason, None
            return self._cancel_record(oid, reason, batch)
        if isinstance(event, VenueProtectiveCreated):
            return self._protective(event.order, batch)
        if isinstance(event, VenueRejected) and event.request == "submit":
            # a fill-time refusal (no quote, margin) of an order OANDA had already accepted
            oid = self._oanda_id(event.order_id)
            return self._cancel_record(oid, event.code, batch)
        return None

    def _cancel_record(self, oid: str, reason: str, batch: str | None) -> Json:
        order = self.orders[oid]
        txn = self._txn({"type": "ORDER_CANCEL", "orderID": oid, "reason": reason}, batch)
        cid = (order.get("clientExtensions") or {}).get("id")
        if cid:
            txn["clientOrderID"] = cid
        order.update(
            state="CANCELLED", cancellingTransactionID=txn["id"], cancelledTime=txn["time"]
        )
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
            trade["takeProfitOrderID" if kind == "TAKE_PROFIT" else "stopLossOrderID"] = oid
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
            "reason": order["type"] + "_ORDER",
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
        closed, reduced, opened, pl = self._book(domain, event.units, event.price, txn)
        self.balance += pl
        txn.update(
            pl=str(pl.quantize(Decimal("0.0001"))),
            accountBalance=str(self.balance.quantize(Decimal("0.0001"))),
        )
        if closed:
            txn["tradesClosed"] = closed
            order["tradeClosedIDs"] = [c["tradeID"] for c in closed]
        if reduced is not None:
            txn["tradeReduced"] = reduced
            order["tradeReducedID"] = reduced["tradeID"]
        if opened is not None:
            txn["tradeOpened"] = opened
            order["tradeOpenedID"] = opened["tradeID"]
            self._from_sim[event.fill_id] = opened["tradeID"]
        order.update(state="FILLED", fillingTransactionID=txn["id"], filledTime=txn["time"])
        return txn

    def _book(
        self, order: Order, units: int, price: Decimal, txn: Json
    ) -> tuple[list[Json], Json | None, Json | None, Decimal]:
        """FIFO netting, the named trade first (the sim broker's rule), mirrored in v20 JSON."""
        lots = [t for t in self.trades.values() if t["instrument"] == order.instrument]
        if order.trade_id is not None:
            named = self._oanda_id(order.trade_id)
            lots.sort(key=lambda t: t["id"] != named)
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
            realized = (price - Decimal(trade["price"])) * (-step)
            pl += realized
            remaining -= step
            change = {
                "tradeID": trade["id"],
                "units": str(step),
                "price": str(price),
                "realizedPL": str(realized.quantize(Decimal("0.0001"))),
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
