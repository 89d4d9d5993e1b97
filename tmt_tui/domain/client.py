"""The EngineClient protocol: the only door the faces (TUI, control API) have into an engine.

Everything that crosses it is plain data with a wire form, so an in-process client (a thread
hop) and a remote one (a socket) are interchangeable and the UI cannot tell them apart.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from tmt_tui.domain.commands import Command
from tmt_tui.domain.events import Event
from tmt_tui.domain.instruments import Instrument
from tmt_tui.domain.orders import Order
from tmt_tui.domain.positions import AccountState, PortfolioTotals, Position
from tmt_tui.domain.quotes import Quote


@dataclass(frozen=True, slots=True)
class Reply:
    """The engine's answer to one command, sent only after its events are durable."""

    ok: bool
    code: str = "OK"
    message: str = ""
    order_id: str | None = None
    seq: int = 0

    def to_wire(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "code": self.code,
            "message": self.message,
            "order_id": self.order_id,
            "seq": self.seq,
        }

    @classmethod
    def from_wire(cls, d: dict[str, Any]) -> Reply:
        return cls(bool(d["ok"]), d["code"], d["message"], d.get("order_id"), int(d["seq"]))


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The whole picture at sequence ``seq``: where a subscriber starts, and restarts on a gap."""

    seq: int
    ts: float
    instruments: tuple[Instrument, ...]
    accounts: tuple[AccountState, ...]
    positions: tuple[Position, ...]
    orders: tuple[Order, ...]
    quotes: tuple[Quote, ...]
    events: tuple[Event, ...]
    trading_day: str
    kill_switch_engaged: bool
    kill_switch_reason: str
    totals: PortfolioTotals | None = None
    alerts: dict[str, str] = field(default_factory=dict)  # active alert key -> message

    def to_wire(self) -> dict[str, Any]:
        return {
            "type": "snapshot",
            "seq": self.seq,
            "ts": self.ts,
            "instruments": [i.to_wire() for i in self.instruments],
            "accounts": [a.to_wire() for a in self.accounts],
            "positions": [p.to_wire() for p in self.positions],
            "orders": [o.to_wire() for o in self.orders],
            "quotes": [q.to_wire() for q in self.quotes],
            "events": [e.to_wire() for e in self.events],
            "trading_day": self.trading_day,
            "kill_switch_engaged": self.kill_switch_engaged,
            "kill_switch_reason": self.kill_switch_reason,
            "totals": None if self.totals is None else self.totals.to_wire(),
            "alerts": dict(self.alerts),
        }

    @classmethod
    def from_wire(cls, d: dict[str, Any]) -> Snapshot:
        return cls(
            seq=int(d["seq"]),
            ts=float(d["ts"]),
            instruments=tuple(Instrument.from_wire(i) for i in d["instruments"]),
            accounts=tuple(AccountState.from_wire(a) for a in d["accounts"]),
            positions=tuple(Position.from_wire(p) for p in d["positions"]),
            orders=tuple(Order.from_wire(o) for o in d["orders"]),
            quotes=tuple(Quote.from_wire(q) for q in d["quotes"]),
            events=tuple(Event.from_wire(e) for e in d["events"]),
            trading_day=d["trading_day"],
            kill_switch_engaged=bool(d["kill_switch_engaged"]),
            kill_switch_reason=d["kill_switch_reason"],
            totals=_totals(d.get("totals")),
            alerts=dict(d.get("alerts") or {}),
        )


@dataclass(frozen=True, slots=True)
class Update:
    """What changed since the last item: every event after the previous ``seq`` (no gaps), plus the
    latest state of each order, position and account they touched, and the latest quote per
    instrument (quotes and marks are conflated: a slow reader sees fewer, never stale, values).

    A position with ``units == 0`` is flat and should leave the screen.
    """

    seq: int
    events: tuple[Event, ...] = ()
    orders: tuple[Order, ...] = ()
    positions: tuple[Position, ...] = ()
    accounts: tuple[AccountState, ...] = ()
    quotes: tuple[Quote, ...] = ()
    totals: PortfolioTotals | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_wire(self) -> dict[str, Any]:
        return {
            "type": "update",
            "seq": self.seq,
            "events": [e.to_wire() for e in self.events],
            "orders": [o.to_wire() for o in self.orders],
            "positions": [p.to_wire() for p in self.positions],
            "accounts": [a.to_wire() for a in self.accounts],
            "quotes": [q.to_wire() for q in self.quotes],
            "totals": None if self.totals is None else self.totals.to_wire(),
            "extra": self.extra,
        }

    @classmethod
    def from_wire(cls, d: dict[str, Any]) -> Update:
        return cls(
            seq=int(d["seq"]),
            events=tuple(Event.from_wire(e) for e in d["events"]),
            orders=tuple(Order.from_wire(o) for o in d["orders"]),
            positions=tuple(Position.from_wire(p) for p in d["positions"]),
            accounts=tuple(AccountState.from_wire(a) for a in d["accounts"]),
            quotes=tuple(Quote.from_wire(q) for q in d["quotes"]),
            totals=_totals(d.get("totals")),
            extra=dict(d.get("extra", {})),
        )


def _totals(data: dict[str, Any] | None) -> PortfolioTotals | None:
    return None if data is None else PortfolioTotals.from_wire(data)


StreamItem = Snapshot | Update


class EngineClient(Protocol):
    """The one door into an engine: every command (an order, a control, a query) goes through
    ``execute`` and comes back as a ``Reply``; state comes as a stream of snapshot-then-updates.

    A new command is a new dataclass in ``domain.commands`` and a handler in the engine; no
    client, server or face gains a method for it.
    """

    async def execute(self, command: Command) -> Reply:
        """Apply ``command``; the reply comes after its events are durable. ``StopEngine``'s
        reply comes before the engine goes, then the stream ends."""
        ...

    def subscribe(self) -> AsyncIterator[StreamItem]:
        """Yield a Snapshot at sequence N, then Updates after N; a gap yields a fresh Snapshot."""
        ...

    async def close(self) -> None:
        """Stop listening; an embedded engine stops too, a remote one keeps running."""
        ...
