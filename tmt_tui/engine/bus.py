"""Hands engine output to subscribers on other threads and loops without ever blocking the engine.

Each subscriber has a mailbox: events queue (bounded; overflow is replaced by a fresh snapshot),
while orders, positions, accounts and quotes are conflated to their latest value. The engine
wakes a subscriber's loop once per batch (``call_soon_threadsafe``), not once per quote.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable

from tmt_tui.domain.client import Snapshot, StreamItem, Update
from tmt_tui.domain.events import Event
from tmt_tui.domain.instruments import Instrument
from tmt_tui.domain.market import MarketRead
from tmt_tui.domain.orders import Order
from tmt_tui.domain.positions import AccountState, PortfolioTotals, Position
from tmt_tui.domain.quotes import FeedQuote, Quote
from tmt_tui.domain.replay import ReplayProgress

MAX_PENDING_EVENTS = 20_000


class Mailbox:
    """One subscriber's pending items: written by the engine, read on the subscriber's loop."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, max_events: int = MAX_PENDING_EVENTS
    ) -> None:
        self._loop = loop
        self._wake = asyncio.Event()
        self._lock = threading.Lock()
        self._signalled = False
        self._max_events = max_events
        self.snapshot: Snapshot | None = None
        self.events: list[Event] = []
        self.orders: dict[str, Order] = {}
        self.positions: dict[str, Position] = {}
        self.accounts: dict[str, AccountState] = {}
        self.quotes: dict[str, Quote] = {}
        self.compared: dict[tuple[str, str], FeedQuote] = {}
        self.market: dict[str, MarketRead] = {}
        self.totals: PortfolioTotals | None = None
        self.replay: ReplayProgress | None = None  # conflated: only the latest matters
        self.watchlist: tuple[str, ...] | None = None
        self.instruments: dict[str, Instrument] = {}
        self.seq = 0
        self.closed = False  # no more items will come (the engine stopped)
        self.gone = False  # the reader's loop is gone: stop writing to it

    # engine side ----------------------------------------------------------------------------

    def _signal(self) -> None:
        if not self._signalled:
            self._signalled = True
            try:
                self._loop.call_soon_threadsafe(self._wake.set)
            except RuntimeError:  # the subscriber's loop is gone
                self.gone = True

    def put_snapshot(self, snapshot: Snapshot) -> None:
        with self._lock:
            self.snapshot = snapshot
            self.events.clear()
            self.orders.clear()
            self.positions.clear()
            self.accounts.clear()
            self.quotes.clear()
            self.compared.clear()
            self.market.clear()
            self.totals = None
            self.replay = None
            self.watchlist = None
            self.instruments.clear()
            self.seq = snapshot.seq
            self._signal()

    def put(
        self,
        events: list[Event],
        orders: Iterable[Order],
        positions: Iterable[Position],
        accounts: Iterable[AccountState],
        totals: PortfolioTotals | None = None,
    ) -> bool:
        """Queue a batch; False when the reader fell too far behind and needs a snapshot."""
        with self._lock:
            if totals is not None:
                self.totals = totals
            if len(self.events) + len(events) > self._max_events:
                return False
            self.events.extend(events)
            if events:
                self.seq = events[-1].seq
            for o in orders:
                self.orders[o.id] = o
            for p in positions:
                self.positions[p.key] = p
            for a in accounts:
                self.accounts[a.id] = a
            self._signal()
        return True

    def close(self) -> None:
        """The engine is stopping: the reader gets what is pending, then ConnectionError."""
        with self._lock:
            self.closed = True
            self._signalled = False
            self._signal()

    def put_quote(self, quote: Quote) -> None:
        with self._lock:
            self.quotes[quote.instrument] = quote
            self._signal()

    def put_compared(self, compared: FeedQuote) -> None:
        with self._lock:
            self.compared[(compared.feed, compared.quote.instrument)] = compared
            self._signal()

    def put_watchlist(self, names: tuple[str, ...], learned: Iterable[Instrument]) -> None:
        with self._lock:
            self.watchlist = names
            for instrument in learned:
                self.instruments[instrument.name] = instrument
            self._signal()

    def put_replay(self, progress: ReplayProgress) -> None:
        with self._lock:
            self.replay = progress
            self._signal()

    def put_market(self, reads: Iterable[MarketRead]) -> None:
        with self._lock:
            for read in reads:
                self.market[read.instrument] = read
            self._signal()

    # subscriber side ------------------------------------------------------------------------

    async def get(self) -> StreamItem:
        """The next item; ConnectionError once the engine has stopped and nothing is pending."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            with self._lock:
                self._signalled = False
                item = self._take()
                if item is None:
                    if self.closed:
                        raise ConnectionError("ENGINE_STOPPED: the engine stopped")
                    continue
                if self.closed or self.quotes or self.compared or self.market:  # the rest
                    self._signal()
                return item

    def _take(self) -> StreamItem | None:
        """Everything pending as one item (a snapshot goes first, alone); None when empty."""
        if self.snapshot is not None:
            snapshot: StreamItem = self.snapshot
            self.snapshot = None
            return snapshot
        pending = (
            self.events or self.orders or self.positions or self.accounts or self.quotes
            or self.compared or self.market or self.watchlist is not None or self.instruments
        )  # fmt: skip
        if not pending and self.totals is None and self.replay is None:
            return None
        item = Update(
            seq=self.seq,
            events=tuple(self.events),
            orders=tuple(self.orders.values()),
            positions=tuple(self.positions.values()),
            accounts=tuple(self.accounts.values()),
            quotes=tuple(self.quotes.values()),
            totals=self.totals,
            compared=tuple(self.compared.values()),
            market=tuple(self.market.values()),
            replay=self.replay,
            watchlist=self.watchlist,
            instruments=tuple(self.instruments.values()),
        )
        self.totals = None
        self.watchlist = None
        self.instruments.clear()
        self.events.clear()
        self.orders.clear()
        self.positions.clear()
        self.accounts.clear()
        self.quotes.clear()
        self.compared.clear()
        self.market.clear()
        self.replay = None
        return item


class Bus:
    """The engine's set of mailboxes (touched only on the engine thread)."""

    def __init__(self) -> None:
        self.mailboxes: list[Mailbox] = []

    def add(self, mailbox: Mailbox, snapshot: Snapshot) -> None:
        mailbox.put_snapshot(snapshot)
        self.mailboxes.append(mailbox)

    def remove(self, mailbox: Mailbox) -> None:
        if mailbox in self.mailboxes:
            self.mailboxes.remove(mailbox)

    def publish(
        self,
        events: list[Event],
        orders: list[Order],
        positions: list[Position],
        accounts: list[AccountState],
        totals: PortfolioTotals | None = None,
    ) -> list[Mailbox]:
        """Deliver a batch; returns the mailboxes that overflowed (they need a snapshot)."""
        behind = []
        for mailbox in list(self.mailboxes):
            if mailbox.gone:
                self.mailboxes.remove(mailbox)
            elif not mailbox.put(events, orders, positions, accounts, totals):
                behind.append(mailbox)
        return behind

    def close(self) -> None:
        for mailbox in self.mailboxes:
            mailbox.close()
        self.mailboxes.clear()

    def quote(self, quote: Quote) -> None:
        for mailbox in self.mailboxes:
            mailbox.put_quote(quote)

    def compared(self, compared: FeedQuote) -> None:
        for mailbox in self.mailboxes:
            mailbox.put_compared(compared)

    def watchlist(self, names: tuple[str, ...], learned: list[Instrument]) -> None:
        """The watchlist changed (and the instruments the engine learned for it)."""
        for mailbox in self.mailboxes:
            mailbox.put_watchlist(names, learned)

    def replay(self, progress: ReplayProgress) -> None:
        """Where a replay stands (it moved, paused, changed speed)."""
        for mailbox in self.mailboxes:
            mailbox.put_replay(progress)

    def market(self, reads: list[MarketRead]) -> None:
        """Instruments' new regime, signal and indicators (a bar of their size closed)."""
        for mailbox in self.mailboxes:
            mailbox.put_market(reads)
