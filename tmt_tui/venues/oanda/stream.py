"""Parsing OANDA's line-delimited JSON streams: chunks in, quotes and heartbeats out.

A chunk may end mid-line, so bytes are buffered until a newline. Lines are told apart by their
``type`` (a line without one is a price, as v20-python treats it). A line that is not JSON, names
an instrument we did not ask for, or carries a NaN, negative or crossed price is skipped, logged
and counted: one bad tick must never reach the engine or stop the stream.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from tmt_tui.domain.quotes import Quote, quote_problem

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """A stream's keep-alive; ``last_transaction_id`` is set on transaction streams."""

    time: str
    last_transaction_id: str | None = None


def parse_time(value: str) -> float:
    """An RFC3339 time with up to nine fractional digits, as epoch seconds."""
    head, _, frac = value.rstrip("Z").partition(".")
    whole = datetime.fromisoformat(head + "+00:00").timestamp()
    return whole + (float("0." + frac) if frac else 0.0)


class LineBuffer:
    """Splits a byte stream into complete lines, keeping a trailing partial line."""

    def __init__(self) -> None:
        self._tail = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        data = self._tail + chunk
        lines = data.split(b"\n")
        self._tail = lines.pop()
        return [line for line in lines if line.strip()]


class PriceStreamParser:
    """Turns pricing-stream bytes into ``Quote`` and ``Heartbeat`` objects."""

    def __init__(self, instruments: Iterable[str]) -> None:
        self._wanted = frozenset(instruments)
        self._lines = LineBuffer()
        self.skipped = 0
        self.heartbeats = 0

    def want(self, instruments: Iterable[str]) -> None:
        """Take these instruments from now on (a new subscription) and start a new stream's
        bytes afresh (the old connection's partial line belongs to no one)."""
        self._wanted = frozenset(instruments)
        self._lines = LineBuffer()

    def feed(self, chunk: bytes) -> list[Quote | Heartbeat]:
        out: list[Quote | Heartbeat] = []
        for line in self._lines.feed(chunk):
            message = self._parse(line)
            if message is not None:
                out.append(message)
        return out

    def _skip(self, why: str, line: bytes) -> None:
        self.skipped += 1
        log.warning("skipped pricing line (%s, %d so far): %.200r", why, self.skipped, line)

    def _parse(self, line: bytes) -> Quote | Heartbeat | None:
        try:
            obj: Any = json.loads(line)
        except ValueError:
            self._skip("not JSON", line)
            return None
        if not isinstance(obj, dict):
            self._skip("not an object", line)
            return None
        kind = obj.get("type", "PRICE")
        if kind == "HEARTBEAT":
            self.heartbeats += 1
            return Heartbeat(str(obj.get("time", "")))
        if kind != "PRICE":
            self._skip(f"unknown type {kind!r}", line)
            return None
        name = obj.get("instrument")
        if name not in self._wanted:
            self._skip(f"instrument {name!r} not subscribed", line)
            return None
        try:
            bid = Decimal(str(obj["bids"][0]["price"]))
            ask = Decimal(str(obj["asks"][0]["price"]))
            ts = parse_time(str(obj["time"]))
        except (KeyError, IndexError, TypeError, ValueError, InvalidOperation):
            self._skip("missing or malformed price", line)
            return None
        problem = quote_problem(bid, ask)
        if problem is not None:
            self._skip(problem, line)
            return None
        return Quote(str(name), bid, ask, ts)


class TransactionStreamParser:
    """Turns transaction-stream bytes into transaction dicts and ``Heartbeat`` objects."""

    def __init__(self) -> None:
        self._lines = LineBuffer()
        self.skipped = 0

    def feed(self, chunk: bytes) -> list[dict[str, Any] | Heartbeat]:
        out: list[dict[str, Any] | Heartbeat] = []
        for line in self._lines.feed(chunk):
            try:
                obj = json.loads(line)
            except ValueError:
                obj = None
            if not isinstance(obj, dict) or "type" not in obj:
                self.skipped += 1
                log.warning("skipped transaction line (%d so far): %.200r", self.skipped, line)
                continue
            if obj["type"] == "HEARTBEAT":
                out.append(Heartbeat(str(obj.get("time", "")), obj.get("lastTransactionID")))
            else:
                out.append(obj)
        return out
