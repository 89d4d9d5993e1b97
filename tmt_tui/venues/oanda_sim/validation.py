"""Order-request checks the way OANDA makes them: each failure is one ``rejectReason``."""

from __future__ import annotations

from collections.abc import Container, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from tmt_tui.domain.instruments import Instrument
from tmt_tui.domain.orders import Order, OrderStatus, OrderType, TimeInForce
from tmt_tui.venues.oanda_sim.wire import Json

CREATE_TYPES = {"MARKET": "MARKET_ORDER", "LIMIT": "LIMIT_ORDER", "STOP": "STOP_ORDER"}
_TIFS = {"GTC", "FOK", "IOC", "GFD", "GTD"}


class V20Reject(Exception):
    """A request OANDA would refuse with ``rejectReason`` (the simulator's refusal; the
    adapter's ``client.Rejected`` is how our client reads one)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def echo(request: Json) -> Json:
    """The request fields a v20 order transaction repeats."""
    keep = (
        "instrument", "units", "price", "priceBound", "timeInForce", "gtdTime", "positionFill",
        "triggerCondition", "clientExtensions", "takeProfitOnFill", "stopLossOnFill",
        "trailingStopLossOnFill", "tradeClientExtensions",
    )  # fmt: skip
    return {k: request[k] for k in keep if k in request}


def validate_order(
    request: Json,
    kind: str,
    instruments: Mapping[str, Instrument],
    client_ids: Container[str],
    account_id: str,
    now: float = 0.0,
) -> tuple[Order, Json]:
    """The domain order and the v20 create transaction for ``request``; raises V20Reject."""
    inst = instruments.get(str(request.get("instrument")))
    if inst is None:
        raise V20Reject("INSTRUMENT_UNKNOWN", "Invalid value specified for 'instrument'")
    try:
        units = Decimal(str(request.get("units")))
    except InvalidOperation:
        raise V20Reject("UNITS_INVALID", "Invalid value specified for 'units'") from None
    if not units.is_finite() or units == 0:
        raise V20Reject("UNITS_INVALID", "Invalid value specified for 'units'")
    if units != units.to_integral_value():
        raise V20Reject("UNITS_PRECISION_EXCEEDED", "The units specified exceed the precision")
    if abs(units) < inst.min_units:
        raise V20Reject("UNITS_MIMIMUM_NOT_MET", "The units are below the minimum trade size")
    if abs(units) > inst.max_units:
        raise V20Reject("UNITS_LIMIT_EXCEEDED", "The units exceed the maximum order units")
    default_tif = "FOK" if kind == "MARKET_ORDER" else "GTC"
    tif = str(request.get("timeInForce", default_tif))
    if tif not in _TIFS or (kind == "MARKET_ORDER" and tif not in ("FOK", "IOC")):
        raise V20Reject("TIME_IN_FORCE_INVALID", "The time in force is invalid")
    gtd = check_gtd(request.get("gtdTime"), now) if tif == "GTD" else None
    price = check_price(request.get("price"), inst, "PRICE", required=kind != "MARKET_ORDER")
    tp = check_price(
        (request.get("takeProfitOnFill") or {}).get("price"), inst, "TAKE_PROFIT_ON_FILL_PRICE"
    )
    sl = check_price(
        (request.get("stopLossOnFill") or {}).get("price"), inst, "STOP_LOSS_ON_FILL_PRICE"
    )
    trailing = request.get("trailingStopLossOnFill")
    distance = check_price(
        (trailing or {}).get("distance"),
        inst,
        "TRAILING_STOP_LOSS_ON_FILL_PRICE_DISTANCE",
        required=trailing is not None,
    )
    check_price(request.get("priceBound"), inst, "PRICE_BOUND")
    cid = (request.get("clientExtensions") or {}).get("id")
    if cid is not None and (not isinstance(cid, str) or not cid):
        raise V20Reject("CLIENT_ORDER_ID_INVALID", "The client order id is invalid")
    if cid in client_ids:
        raise V20Reject("CLIENT_ORDER_ID_ALREADY_EXISTS", "The client order id is already in use")
    order = Order(
        id="",
        account=account_id,
        instrument=inst.name,
        units=int(units),
        type=OrderType(request["type"]),
        status=OrderStatus.SUBMITTED,
        price=price,
        time_in_force=TimeInForce(tif) if tif in ("GTC", "FOK", "IOC", "GTD") else TimeInForce.GTC,
        gtd_time=gtd,
        take_profit=tp,
        stop_loss=sl,
    )
    create = {
        **echo(request),
        "type": kind,
        "units": str(int(units)),
        "timeInForce": tif,
        "positionFill": request.get("positionFill", "DEFAULT"),
        "reason": "CLIENT_ORDER",
    }
    if price is not None:
        create["price"] = str(inst.round_price(price))
    if kind != "MARKET_ORDER":
        create.setdefault("triggerCondition", "DEFAULT")
    for key, value in (("takeProfitOnFill", tp), ("stopLossOnFill", sl)):
        if value is not None:
            create[key] = {**create[key], "price": str(inst.round_price(value))}
            create[key].setdefault("timeInForce", "GTC")
    if distance is not None:
        create["trailingStopLossOnFill"] = {
            **create["trailingStopLossOnFill"],
            "distance": str(inst.round_price(distance)),
        }
        create["trailingStopLossOnFill"].setdefault("timeInForce", "GTC")
    return order, create


def check_gtd(raw: Any, now: float) -> float:
    """A GTD order's ``gtdTime`` as epoch seconds: present, a v20 DateTime (RFC3339, or the
    UNIX seconds an account may be set to speak), and in the future; raises V20Reject."""
    if raw is None:
        raise V20Reject("TIME_IN_FORCE_GTD_TIMESTAMP_MISSING", "A GTD order needs a gtdTime")
    try:
        text = str(raw)
        if text.replace(".", "", 1).isdigit():
            when = float(text)
        else:
            head, _, frac = text.rstrip("Z").partition(".")
            when = datetime.fromisoformat(head + "+00:00").timestamp()
            when += float("0." + frac) if frac else 0.0
    except ValueError:
        raise V20Reject("TIME_IN_FORCE_INVALID", "Invalid value specified for 'gtdTime'") from None
    if when <= now:
        raise V20Reject("TIME_IN_FORCE_GTD_TIMESTAMP_IN_PAST", "The gtdTime is in the past")
    return when


def check_close_units(raw: Any, label: str) -> Decimal | None:
    """``"ALL"`` (None) or a positive whole number of units to close; raises V20Reject."""
    if raw == "ALL":
        return None
    invalid = V20Reject(f"{label}_MISSING", f"Invalid value specified for {label.lower()}")
    try:
        units = Decimal(str(raw))
    except InvalidOperation:
        raise invalid from None
    if not units.is_finite() or units <= 0 or units != units.to_integral_value():
        raise invalid
    return units


def check_price(
    raw: Any, inst: Instrument, label: str, *, required: bool = False
) -> Decimal | None:
    """A request price as Decimal; rejects it as ``{label}_MISSING/INVALID/PRECISION_...``."""
    if raw is None:
        if required:
            raise V20Reject(f"{label}_MISSING", f"{label.lower()} is required")
        return None
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise V20Reject(f"{label}_INVALID", f"Invalid value for {label.lower()}") from None
    if not value.is_finite() or value <= 0:
        raise V20Reject(f"{label}_INVALID", f"Invalid value for {label.lower()}")
    if not inst.is_on_tick(value):
        raise V20Reject(
            f"{label}_PRECISION_EXCEEDED",
            f"{label.lower()} has more than {inst.display_precision} decimals",
        )
    return value
