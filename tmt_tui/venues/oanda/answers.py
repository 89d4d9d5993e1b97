"""What OANDA answered, typed: the outcomes of creating, replacing and closing orders, read
from v20 response bodies; and the v20 ``OrderRequest`` a domain order becomes."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tmt_tui.domain.instruments import Instrument
from tmt_tui.domain.orders import Order, OrderType
from tmt_tui.domain.reasons import Reason
from tmt_tui.venues.base import TradeClose
from tmt_tui.venues.oanda.errors import MalformedAnswer
from tmt_tui.venues.oanda.stream import parse_time
from tmt_tui.venues.oanda.transactions import fill_closes

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Filled:
    """201 with ``orderFillTransaction``: the order filled at once."""

    venue_id: str
    fill_id: str
    trade_id: str | None
    units: int
    price: Decimal
    ts: float
    related_ids: tuple[str, ...] = ()
    txn_ids: tuple[str, ...] = ()  # every transaction in the response (create, fill, ...)
    account_balance: Decimal | None = None  # the fill's ``accountBalance``
    closes: tuple[TradeClose, ...] = ()  # the trades it closed, with OANDA's realized P&L
    financing: Decimal = Decimal(0)  # financing OANDA booked with the fill
    rest_cancelled: str | None = None  # the reason the unfilled rest was cancelled (IOC)


@dataclass(frozen=True, slots=True)
class Resting:
    """201 with only ``orderCreateTransaction``: a limit or stop order now working."""

    venue_id: str
    txn_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CancelledOnCreate:
    """201 with ``orderCancelTransaction``: accepted, then cancelled at once (``reason``).
    Also the answer to a cancel request."""

    venue_id: str
    reason: str
    txn_ids: tuple[str, ...] = ()
    txn_id: str = ""  # the ORDER_CANCEL transaction


@dataclass(frozen=True, slots=True)
class Rejected:
    """400/404 with ``orderRejectTransaction``: refused, ``code`` is OANDA's rejectReason."""

    code: str
    message: str
    txn_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Replaced:
    """201 to a replace: ``replaced_id`` was cancelled, ``venue_id`` is the replacing order
    (which may have filled at once: ``filled``)."""

    venue_id: str
    replaced_id: str
    txn_ids: tuple[str, ...] = ()
    filled: Filled | None = None


@dataclass(frozen=True, slots=True)
class TradeOrdersSet:
    """200 to ``PUT /trades/{id}/orders``: keys "tp", "sl", "tsl" to the new order ids, and to
    the ids of the orders they replaced (when there was one)."""

    created: dict[str, str]
    replaced: dict[str, str]
    txn_ids: tuple[str, ...]


SubmitOutcome = Filled | Resting | CancelledOnCreate | Rejected

TRADE_ORDER_KEYS = {"tp": "takeProfit", "sl": "stopLoss", "tsl": "trailingStopLoss"}


def order_body(order: Order, instrument: Instrument | None = None) -> Json:
    """A domain order as a v20 ``OrderRequest``; its id becomes ``clientExtensions.id``."""

    def fmt(price: Decimal) -> str:
        return str(instrument.round_price(price) if instrument else price)

    body: Json = {
        "type": order.type.value,
        "instrument": order.instrument,
        "units": str(order.units),
        "positionFill": "REDUCE_ONLY" if order.reduce_only else "DEFAULT",
        "clientExtensions": {"id": order.id, "tag": "tmt"},
    }
    if not order.reduce_only:  # the trade it may open carries our id too (seen in OANDA's UI)
        body["tradeClientExtensions"] = {"id": order.id, "tag": "tmt"}
    if order.type is OrderType.MARKET:
        body["timeInForce"] = "IOC" if order.time_in_force.value == "IOC" else "FOK"
    else:
        body["timeInForce"] = order.time_in_force.value
        if order.time_in_force.value == "GTD" and order.gtd_time is not None:
            body["gtdTime"] = gtd_time(order.gtd_time)
    if order.price is not None and order.type is not OrderType.MARKET:
        body["price"] = fmt(order.price)
    if order.take_profit is not None:
        body["takeProfitOnFill"] = {"price": fmt(order.take_profit), "timeInForce": "GTC"}
    if order.stop_loss is not None:
        body["stopLossOnFill"] = {"price": fmt(order.stop_loss), "timeInForce": "GTC"}
    if order.trailing_stop_distance is not None:
        body["trailingStopLossOnFill"] = {
            "distance": fmt(order.trailing_stop_distance),
            "timeInForce": "GTC",
        }
    return body


def gtd_time(ts: float) -> str:
    """Epoch seconds as a v20 ``DateTime``: RFC3339 in UTC (``2026-12-03T17:00:00.000000000Z``)."""
    return f"{datetime.fromtimestamp(ts, UTC):%Y-%m-%dT%H:%M:%S.%f}000Z"


def transaction_ids(body: Json) -> tuple[str, ...]:
    """The ids of the ``*Transaction`` objects a response carries, in id order. Not the
    ``relatedTransactionIDs``: those include orders created on fill (take-profit, stop-loss),
    which the caller learns about from the transaction stream."""
    found = {
        str(t["id"])
        for k, t in body.items()
        if k.endswith("Transaction") and isinstance(t, dict) and "id" in t
    }
    return tuple(sorted(found, key=lambda i: (len(i), i)))


def rejected_by(status: int, body: Json, *reject_keys: str) -> Rejected:
    code = None
    for key in reject_keys:
        code = code or (body.get(key) or {}).get("rejectReason")
    code = code or body.get("errorCode") or Reason.BROKER_REJECT.value
    return Rejected(
        str(code), str(body.get("errorMessage", f"HTTP {status}")), transaction_ids(body)
    )


def outcome_of(status: int, body: Json) -> SubmitOutcome:
    """The three (four, with resting) results a create-order response can mean; raises
    MalformedAnswer for a body the spec does not allow."""
    try:
        return _outcome_of(status, body)
    except MalformedAnswer:
        raise
    except (KeyError, IndexError, TypeError, ValueError, ArithmeticError, AttributeError) as exc:
        raise MalformedAnswer(f"a create-order answer (HTTP {status}) {_what(exc)}") from None


def _what(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"lacks {exc}"
    return f"is malformed ({type(exc).__name__})"


def _outcome_of(status: int, body: Json) -> SubmitOutcome:
    if status == 201:
        created = body.get("orderCreateTransaction") or {}
        txn_ids = transaction_ids(body)
        fill = body.get("orderFillTransaction")
        cancel = body.get("orderCancelTransaction")
        if fill is not None:  # with a cancel too: an IOC that filled in part, the rest cancelled
            filled = fill_of(fill, tuple(body.get("relatedTransactionIDs", ())), txn_ids)
            if cancel is not None:
                filled = replace(filled, rest_cancelled=str(cancel.get("reason", "CANCELLED")))
            return filled
        if cancel is not None:
            return CancelledOnCreate(
                str(cancel.get("orderID", created.get("id"))),
                cancel["reason"],
                txn_ids,
                str(cancel.get("id", "")),
            )
        return Resting(str(created.get("id")), txn_ids)
    return rejected_by(status, body, "orderRejectTransaction")


def fill_of(fill: Json, related: tuple[str, ...] = (), txn_ids: tuple[str, ...] = ()) -> Filled:
    """An order fill transaction as a ``Filled``; raises MalformedAnswer for one the spec does
    not allow."""
    try:
        return _fill_of(fill, related, txn_ids)
    except (KeyError, IndexError, TypeError, ValueError, ArithmeticError, AttributeError) as exc:
        raise MalformedAnswer(f"an order fill {_what(exc)}") from None


def _fill_of(fill: Json, related: tuple[str, ...], txn_ids: tuple[str, ...]) -> Filled:
    opened = fill.get("tradeOpened") or {}
    balance = fill.get("accountBalance")
    return Filled(
        venue_id=str(fill["orderID"]),
        fill_id=str(fill["id"]),
        trade_id=opened.get("tradeID"),
        units=int(Decimal(fill["units"])),
        price=Decimal(fill.get("fullVWAP") or fill["price"]),
        ts=parse_time(fill["time"]),
        related_ids=related,
        txn_ids=txn_ids or (str(fill["id"]),),
        account_balance=None if balance is None else Decimal(str(balance)),
        closes=fill_closes(fill),
        financing=Decimal(str(fill.get("financing") or "0")),
    )
