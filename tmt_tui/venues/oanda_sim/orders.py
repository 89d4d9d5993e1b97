"""The account's order requests, answered the way v20 answers them: create, replace and cancel
an order; set, replace or cancel a trade's take-profit, stop-loss and trailing stop; close a
trade or a position (a closing market order). Each validates (``validation``), books through
the ``V20Ledger`` and returns (HTTP status, v20 response body)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tmt_tui.domain.orders import Order, OrderStatus, OrderType
from tmt_tui.venues.oanda_sim.ledger import LINKED, V20Ledger
from tmt_tui.venues.oanda_sim.validation import (
    CREATE_TYPES,
    V20Reject,
    check_close_units,
    check_price,
    echo,
    validate_order,
)
from tmt_tui.venues.oanda_sim.wire import Json

_REPLACEABLE = ("LIMIT", "STOP")


def create_order(ledger: V20Ledger, body: Any) -> tuple[int, Json]:
    """``POST /orders``: (201, create [+ fill | cancel]) or (400, reject)."""
    request = body.get("order") if isinstance(body, dict) else None
    if not isinstance(request, dict) or request.get("type") not in CREATE_TYPES:
        return 400, {"errorMessage": "Invalid value specified for 'order'"}
    kind = CREATE_TYPES[request["type"]]
    try:
        order, create = validate_order(
            request, kind, ledger.instruments, ledger.by_client, ledger.account_id, ledger.now()
        )
    except V20Reject as why:
        return _order_reject(ledger, request, kind, why)
    return 201, _open(ledger, request, order, create)


def replace_order(ledger: V20Ledger, spec: str, body: Any) -> tuple[int, Json]:
    """``PUT /orders/{spec}``: cancel the order (``replacedByOrderID``) and create its
    replacement (``replacesOrderID``), which may reuse the replaced order's client id."""
    oid = ledger.resolve(spec)
    old = ledger.orders.get(oid or "")
    if oid is None or old is None or old["state"] != "PENDING":
        return _cancel_reject(ledger, oid)
    request = body.get("order") if isinstance(body, dict) else None
    if (
        not isinstance(request, dict)
        or request.get("type") not in _REPLACEABLE
        or old["type"] not in _REPLACEABLE
    ):
        return 400, {"errorMessage": "Invalid value specified for 'order'"}
    kind = CREATE_TYPES[request["type"]]
    old_cid = (old.get("clientExtensions") or {}).get("id")
    taken = ledger.by_client.keys() - {old_cid} if old_cid else ledger.by_client
    try:
        order, create = validate_order(
            request, kind, ledger.instruments, taken, ledger.account_id, ledger.now()
        )
    except V20Reject as why:
        return _order_reject(ledger, request, kind, why, {"intendedReplacesOrderID": oid})
    new_id = str(int(ledger.last_id) + 2)  # the cancel comes first, then the replacing order
    cancel = ledger.withdraw(oid, "CLIENT_REQUEST_REPLACED", None, replaced_by=new_id)
    create.update(reason="REPLACEMENT", replacesOrderID=oid)
    out = _open(ledger, request, order, create, batch=cancel["id"])
    if "orderCancelTransaction" in out:
        out["replacingOrderCancelTransaction"] = out.pop("orderCancelTransaction")
    out["orderCancelTransaction"] = cancel
    out["relatedTransactionIDs"] = [cancel["id"], *out["relatedTransactionIDs"]]
    return 201, out


def cancel_order(ledger: V20Ledger, spec: str) -> tuple[int, Json]:
    """``PUT /orders/{spec}/cancel``."""
    oid = ledger.resolve(spec)
    order = ledger.orders.get(oid or "")
    if oid is None or order is None or order["state"] != "PENDING":
        return _cancel_reject(ledger, oid)
    cancel = ledger.withdraw(oid, "CLIENT_REQUEST", None)
    return 200, {
        "orderCancelTransaction": cancel,
        "relatedTransactionIDs": [cancel["id"]],
        "lastTransactionID": ledger.last_id,
    }


def set_trade_orders(ledger: V20Ledger, spec: str, body: Any) -> tuple[int, Json]:
    """``PUT /trades/{spec}/orders``: create, replace (or, given null, cancel) the trade's
    take-profit, stop-loss and trailing stop."""
    trade_id = ledger.resolve_trade(spec)
    if trade_id is None:
        return 404, {
            "errorCode": "TRADE_DOESNT_EXIST",
            "errorMessage": "The Trade specified does not exist",
            "lastTransactionID": ledger.last_id,
        }
    if not isinstance(body, dict):
        return 400, {"errorMessage": "The request was missing required data"}
    trade = ledger.trades[trade_id]
    inst = ledger.instruments[trade["instrument"]]
    plans: list[tuple[str, Decimal | None]] = []
    for kind, (_, key) in LINKED.items():
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
        except V20Reject as why:
            reject = ledger.record(
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
                "lastTransactionID": ledger.last_id,
                "errorCode": why.reason,
                "errorMessage": why.message,
            }
        plans.append((kind, value))
    out: Json = {}
    related: list[str] = []
    batch: str | None = None
    for kind, value in plans:
        id_field, key = LINKED[kind]
        existing = trade.get(id_field)
        if existing is not None and ledger.orders[existing]["state"] != "PENDING":
            existing = None
        if value is None:
            if existing is not None:
                cancel = ledger.withdraw(existing, "CLIENT_REQUEST", batch)
                trade.pop(id_field, None)
                out[f"{key}OrderCancelTransaction"] = cancel
                related.append(cancel["id"])
            continue
        if existing is not None:
            new_id = str(int(ledger.last_id) + 2)
            cancel = ledger.withdraw(existing, "CLIENT_REQUEST_REPLACED", batch, replaced_by=new_id)
            out[f"{key}OrderCancelTransaction"] = cancel
            related.append(cancel["id"])
            batch = batch or cancel["id"]
        reason = "REPLACEMENT" if existing is not None else "CLIENT_ORDER"
        txns = ledger.protect(trade_id, kind, value, reason, existing, batch)
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
        if trade_id not in ledger.trades:
            break  # it filled at once and closed the trade; the rest would be cancelled
    out["relatedTransactionIDs"] = related
    out["lastTransactionID"] = ledger.last_id
    return 200, out


def close_trade(ledger: V20Ledger, spec: str, body: Any) -> tuple[int, Json]:
    """``PUT /trades/{spec}/close``: a market order reducing that trade (all or part)."""
    trade_id = ledger.resolve_trade(spec)
    raw = body.get("units", "ALL") if isinstance(body, dict) else "ALL"
    close = {"tradeID": trade_id or spec, "units": str(raw)}
    if trade_id is None:
        why = V20Reject("TRADE_DOESNT_EXIST", "The Trade specified does not exist")
        status, out = _order_reject(ledger, {"tradeClose": close}, "MARKET_ORDER", why)
        return 404, out
    trade = ledger.trades[trade_id]
    current = int(trade["currentUnits"])
    try:
        units = check_close_units(raw, "CLOSE_TRADE_PARTIAL_UNITS")
        if units is not None and units > abs(current):
            raise V20Reject(
                "CLOSE_TRADE_UNITS_EXCEED_TRADE_SIZE", "The units exceed the trade's size"
            )
    except V20Reject as why:
        request = {"instrument": trade["instrument"], "tradeClose": close}
        return _order_reject(ledger, request, "MARKET_ORDER", why)
    size = abs(current) if units is None else int(units)
    signed = -size if current > 0 else size
    create = {"instrument": trade["instrument"], "units": str(signed), "tradeClose": close}
    out = _close(ledger, create, "TRADE_CLOSE", ledger.sim_trade(trade_id))
    return 200, out


def close_position(ledger: V20Ledger, instrument: str, body: Any) -> tuple[int, Json]:
    """``PUT /positions/{instrument}/close``: ``longUnits`` / ``shortUnits`` as ALL, NONE
    or a count. The book nets, so at most one side exists."""
    if instrument not in ledger.instruments:
        return 404, {
            "errorCode": "CLOSEOUT_POSITION_DOESNT_EXIST",
            "errorMessage": "The Position specified does not exist",
            "lastTransactionID": ledger.last_id,
        }
    body = body if isinstance(body, dict) else {}
    net = sum(
        (int(t["currentUnits"]) for t in ledger.trades.values() if t["instrument"] == instrument),
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
                raise V20Reject(
                    "CLOSEOUT_POSITION_DOESNT_EXIST", f"There is no {side} position to close"
                )
            if units is not None and units > abs(net):
                raise V20Reject(
                    "CLOSEOUT_POSITION_UNITS_EXCEED_POSITION_SIZE",
                    "The units exceed the position's size",
                )
        except V20Reject as why:
            status, out = _order_reject(ledger, request, "MARKET_ORDER", why)
            out[f"{side}OrderRejectTransaction"] = out.pop("orderRejectTransaction")
            return 400, out
        plans.append((side, raw, abs(net) if units is None else int(units)))
    if not plans:
        return 400, {
            "errorCode": "CLOSEOUT_POSITION_INCOMPLETE_SPECIFICATION",
            "errorMessage": "longUnits or shortUnits must be given",
            "lastTransactionID": ledger.last_id,
        }
    answer: Json = {"relatedTransactionIDs": []}
    for side, raw, size in plans:
        signed = -size if side == "long" else size
        create = {
            "instrument": instrument,
            "units": str(signed),
            f"{side}PositionCloseout": {"instrument": instrument, "units": raw},
        }
        out = _close(ledger, create, "POSITION_CLOSEOUT", None)
        for what in ("Create", "Fill", "Cancel"):
            if f"order{what}Transaction" in out:
                answer[f"{side}Order{what}Transaction"] = out[f"order{what}Transaction"]
        answer["relatedTransactionIDs"] += out["relatedTransactionIDs"]
    answer["lastTransactionID"] = ledger.last_id
    return 200, answer


def _close(ledger: V20Ledger, create: Json, reason: str, sim_trade: str | None) -> Json:
    """A closing market order (trade close or position closeout), filled at once."""
    create.update(timeInForce="FOK", positionFill="REDUCE_ONLY", reason=reason)
    create["type"] = "MARKET_ORDER"
    order = Order(
        id="",
        account=ledger.account_id,
        instrument=create["instrument"],
        units=int(create["units"]),
        type=OrderType.MARKET,
        status=OrderStatus.SUBMITTED,
        trade_id=sim_trade,
        reduce_only=True,
    )
    return _open(
        ledger, {"timeInForce": "FOK"}, order, create, fill_reason=f"MARKET_ORDER_{reason}"
    )


def _open(
    ledger: V20Ledger,
    request: Json,
    order: Order,
    create: Json,
    batch: str | None = None,
    fill_reason: str | None = None,
) -> Json:
    """Book an accepted order (cancelled at once when the market says so); the create-order
    response body (create [+ fill | cancel])."""
    cancel = _market_cancel_reason(ledger, order, request)
    created, txns = ledger.place(order, create, batch, fill_reason=fill_reason, cancel=cancel)
    oid = created["id"]
    out: Json = {"orderCreateTransaction": created}
    for txn in txns:
        if txn.get("orderID") != oid:
            continue
        if txn["type"] == "ORDER_FILL":
            out["orderFillTransaction"] = txn
        elif txn["type"] == "ORDER_CANCEL":
            out["orderCancelTransaction"] = txn
    out["relatedTransactionIDs"] = [oid] + [t["id"] for t in txns]
    out["lastTransactionID"] = ledger.last_id
    return out


def _order_reject(
    ledger: V20Ledger, request: Json, kind: str, why: V20Reject, extra: Json | None = None
) -> tuple[int, Json]:
    reject = ledger.record(
        {**echo(request), **(extra or {}), "type": f"{kind}_REJECT", "rejectReason": why.reason}
    )
    for key in ("tradeClose", "longPositionCloseout", "shortPositionCloseout"):
        if key in request:
            reject[key] = request[key]
    return 400, {
        "orderRejectTransaction": reject,
        "relatedTransactionIDs": [reject["id"]],
        "lastTransactionID": ledger.last_id,
        "errorCode": why.reason,
        "errorMessage": why.message,
    }


def _cancel_reject(ledger: V20Ledger, oid: str | None) -> tuple[int, Json]:
    reject = ledger.record(
        {
            "type": "ORDER_CANCEL_REJECT",
            "orderID": oid or "",
            "rejectReason": "ORDER_DOESNT_EXIST",
        }
    )
    return 404, {
        "orderCancelRejectTransaction": reject,
        "relatedTransactionIDs": [reject["id"]],
        "lastTransactionID": ledger.last_id,
        "errorCode": "ORDER_DOESNT_EXIST",
        "errorMessage": "The Order specified does not exist",
    }


def _market_cancel_reason(ledger: V20Ledger, order: Order, request: Json) -> str | None:
    """Why an accepted market order cancels at once instead of filling (201 + cancel)."""
    if order.type is not OrderType.MARKET:
        return None
    if not ledger.instruments[order.instrument].tradeable:
        return "MARKET_HALTED"
    quote = ledger.quotes.get(order.instrument)
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
