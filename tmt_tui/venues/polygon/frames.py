"""Reading Polygon / Massive WebSocket frames: every frame is a JSON array of events; status
events (``ev: "status"``) apart from data; each data event checked before it becomes a quote.

One bad event never costs the rest of its frame: it becomes a :class:`Refused` that says what
and where, and the feed counts and logs it. A frame that is not JSON at all is one
:class:`Refused` for the whole frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson

from tmt_tui.domain.quotes import Quote, quote_problem
from tmt_tui.venues.polygon.symbols import instrument_of


@dataclass(frozen=True, slots=True)
class Status:
    """A control event: ``connected``, ``auth_success``, ``auth_failed``, ``success``
    (subscribed), ``max_connections``, ``slow_consumer``, ``force_disconnect``, ``error``..."""

    status: str
    message: str


@dataclass(frozen=True, slots=True)
class Trade:
    instrument: str
    price: Decimal
    size: Decimal
    ts: float


@dataclass(frozen=True, slots=True)
class Bar:
    """An aggregate: OHLC over [start, end) (``end`` is 0 when the event does not say)."""

    instrument: str
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    start: float
    end: float
    code: str  # CA, CAS, A, AM, XA, XAS


@dataclass(frozen=True, slots=True)
class Refused:
    """An event (or a frame) that could not be read, and why."""

    why: str
    raw: str


Message = Status | Quote | Trade | Bar | Refused

#: Quote events: code -> (symbol field, bid field, ask field).
_QUOTES = {"C": ("p", "b", "a"), "Q": ("sym", "bp", "ap"), "XQ": ("pair", "bp", "ap")}
_TRADES = {"T": ("sym", "p", "s"), "XT": ("pair", "p", "s")}
_BARS = {"CA": "pair", "CAS": "pair", "A": "sym", "AM": "sym", "XA": "pair", "XAS": "pair"}
#: The longest slice of a refused event kept to say where it was.
_RAW = 160


def parse_frame(frame: str | bytes, wanted: frozenset[str] | None = None) -> list[Message]:
    """The events of one frame, in order; quotes for instruments not in ``wanted`` (when
    given) are dropped silently: a ``*`` subscription or a late unsubscribe."""
    try:
        body = orjson.loads(frame)
    except orjson.JSONDecodeError as exc:
        return [Refused(f"frame is not JSON ({exc})", _clip(frame))]
    if isinstance(body, dict):
        body = [body]
    if not isinstance(body, list):
        return [Refused(f"frame is a JSON {type(body).__name__}, not an array", _clip(frame))]
    out: list[Message] = []
    for item in body:
        message = _event(item)
        if message is None:
            continue
        if (
            wanted is not None
            and isinstance(message, Quote | Trade | Bar)
            and message.instrument not in wanted
        ):
            continue
        out.append(message)
    return out


def _event(item: Any) -> Message | None:
    if not isinstance(item, dict):
        return Refused(f"event is a JSON {type(item).__name__}, not an object", _clip(item))
    ev = item.get("ev")
    try:
        if ev == "status":
            return Status(str(item.get("status", "")), str(item.get("message", "")))
        if ev in _QUOTES:
            sym, bid_key, ask_key = _QUOTES[ev]
            instrument = _instrument(item, sym)
            bid, ask = _price(item, bid_key), _price(item, ask_key)
            problem = quote_problem(bid, ask)
            if problem is not None:
                raise ValueError(f"{instrument}: {problem}")
            return Quote(instrument, bid, ask, _ts(item, "t"))
        if ev in _TRADES:
            sym, price_key, size_key = _TRADES[ev]
            return Trade(
                _instrument(item, sym),
                _price(item, price_key),
                _size(item, size_key),
                _ts(item, "t"),
            )
        if ev in _BARS:
            instrument = _instrument(item, _BARS[ev])
            o, h, lo, c = (_price(item, k) for k in ("o", "h", "l", "c"))
            if not lo <= min(o, c) <= max(o, c) <= h:
                raise ValueError(f"{instrument}: bar is not low <= open, close <= high")
            end = _ts(item, "e") if "e" in item else 0.0
            return Bar(instrument, o, h, lo, c, _size(item, "v"), _ts(item, "s"), end, ev)
    except ValueError as exc:
        return Refused(f"{ev} event: {exc}", _clip(item))
    if isinstance(ev, str):
        return None  # an event type we do not read (FMV, LULD, NOI, ...): skipped, as documented
    return Refused("event has no 'ev'", _clip(item))


def _instrument(item: dict[str, Any], key: str) -> str:
    symbol = item.get(key)
    if not isinstance(symbol, str) or not symbol:
        raise ValueError(f"'{key}' (the symbol) is missing")
    return instrument_of(symbol)


def _number(item: dict[str, Any], key: str) -> float:
    value = item.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"'{key}' is not a number ({value!r})")
    if not math.isfinite(value):
        raise ValueError(f"'{key}' is not finite")
    return float(value)


def _price(item: dict[str, Any], key: str) -> Decimal:
    value = _number(item, key)
    if value <= 0:
        raise ValueError(f"'{key}' is not positive ({value!r})")
    return Decimal(repr(value))


def _size(item: dict[str, Any], key: str) -> Decimal:
    value = _number(item, key) if key in item else 0.0
    if value < 0:
        raise ValueError(f"'{key}' is negative ({value!r})")
    return Decimal(repr(value))


def _ts(item: dict[str, Any], key: str) -> float:
    """A Unix-millisecond timestamp, as epoch seconds."""
    value = _number(item, key)
    if value <= 0:
        raise ValueError(f"'{key}' is not a timestamp ({value!r})")
    return value / 1000.0


def _clip(raw: Any) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return text if len(text) <= _RAW else text[:_RAW] + "..."
