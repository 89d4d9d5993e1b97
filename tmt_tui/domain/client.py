"""The EngineClient protocol: the only door the faces (TUI, control API) have into an engine.

Everything that crosses it is plain data with a wire form, so an in-process client (a thread
hop) and a remote one (a socket) are interchangeable and the UI cannot tell them apart.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from tmt_tui.domain import history as _history  # noqa: F401  (registers the query answers)
from tmt_tui.domain import preview as _preview  # noqa: F401  (registers the query answers)
from tmt_tui.domain.commands import Command
from tmt_tui.domain.events import Event
from tmt_tui.domain.instruments import Instrument
from tmt_tui.domain.market import MarketRead
from tmt_tui.domain.orders import Order
from tmt_tui.domain.positions import AccountState, PortfolioTotals, Position
from tmt_tui.domain.price_alerts import PriceAlert
from tmt_tui.domain.quotes import FeedQuote, Quote
from tmt_tui.domain.replay import ReplayProgress


@dataclass(frozen=True, slots=True)
class Reply:
    """The engine's answer to one command, sent only after its events are durable."""

    ok: bool
    code: str = "OK"
    message: str = ""
    order_id: str | None = None
    seq: int = 0
    payload: object = None  # a query's answer: a ``@wire_type`` dataclass (see domain.codec)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The whole picture at sequence ``seq``: where a subscriber starts, and restarts on a gap."""

    WIRE_TAG: ClassVar[str] = "snapshot"

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
    compared: tuple[FeedQuote, ...] = ()  # other feeds' quotes beside the trading prices
    replay: ReplayProgress | None = None  # where a replay stands (`tmt replay`); None: live
    market: tuple[MarketRead, ...] = ()  # each instrument's regime, signal and indicators
    #: The trader's active price alerts (not ``alerts``: those are the engine's own); after the
    #: snapshot, ``price_alert.*`` events say what changed.
    price_alerts: tuple[PriceAlert, ...] = ()
    #: The watchlist the board shows, in its order (None: an engine without one: show every
    #: instrument); ``instruments`` holds each of them.
    watchlist: tuple[str, ...] | None = None
    universe: tuple[str, ...] = ()  # every instrument the venue can quote: a search's choices


@dataclass(frozen=True, slots=True)
class Update:
    """What changed since the last item: every event after the previous ``seq`` (no gaps), plus the
    latest state of each order, position and account they touched, and the latest quote per
    instrument (quotes and marks are conflated: a slow reader sees fewer, never stale, values).

    A position with ``units == 0`` is flat and should leave the screen.
    """

    WIRE_TAG: ClassVar[str] = "update"

    seq: int
    events: tuple[Event, ...] = ()
    orders: tuple[Order, ...] = ()
    positions: tuple[Position, ...] = ()
    accounts: tuple[AccountState, ...] = ()
    quotes: tuple[Quote, ...] = ()
    totals: PortfolioTotals | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    compared: tuple[FeedQuote, ...] = ()  # conflated like quotes: the latest per feed and pair
    market: tuple[MarketRead, ...] = ()  # conflated like quotes: the latest per instrument
    replay: ReplayProgress | None = None  # a replay's progress, when it moved; None: no news
    watchlist: tuple[str, ...] | None = None  # the whole watchlist, when it changed
    instruments: tuple[Instrument, ...] = ()  # instruments the engine came to know (a watch)


StreamItem = Snapshot | Update


class EngineClient(Protocol):
    """The one door into an engine: every command (an order, a control, a query) goes through
    ``execute`` and comes back as a ``Reply``; state comes as a stream of snapshot-then-updates.

    A new command is a new dataclass in ``domain.commands`` and a handler in the engine; no
    client, server or face gains a method for it.
    """

    #: A viewer's door: the engine refuses every command that goes through it, and a screen
    #: says so from the start instead of when an order fails.
    read_only: bool

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
