"""A deterministic engine harness: EngineCore, a paper broker and an injected clock, no threads.

It drives the core the way ``EngineRunner._dispatch`` does (broker requests out, venue events
in, until both are quiet) so a test can see every event the core produced, in order.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tmt_tui.config import KillSwitchSettings, Settings, load_settings
from tmt_tui.domain.client import Reply
from tmt_tui.domain.commands import Command, SubmitOrder
from tmt_tui.domain.events import Event, EventKind
from tmt_tui.domain.instruments import Instrument
from tmt_tui.domain.orders import Order, OrderType
from tmt_tui.domain.positions import AccountState
from tmt_tui.domain.quotes import Quote
from tmt_tui.engine.core import EngineCore
from tmt_tui.venues.base import VenueEvent, send
from tmt_tui.venues.sim.broker import SimBroker
from tmt_tui.venues.sim.universe import instruments as sim_instruments

#: A quiet Wednesday noon in London: far from the 17:00 New York rollover.
T0 = datetime(2026, 6, 10, 12, 0, tzinfo=UTC).timestamp()

#: Touch prices for the pairs the tests trade or convert through (bid, ask).
STANDARD_QUOTES: dict[str, tuple[str, str]] = {
    "EUR_USD": ("1.10000", "1.10010"),
    "GBP_USD": ("1.27000", "1.27012"),
    "USD_JPY": ("150.000", "150.010"),
    "USD_CAD": ("1.36000", "1.36016"),
    "AUD_USD": ("0.65500", "0.65510"),
    "AUD_CAD": ("0.89000", "0.89020"),
    "EUR_JPY": ("165.000", "165.016"),
    "EUR_GBP": ("0.85400", "0.85412"),
}


class Clock:
    """A clock the test moves by hand (epoch seconds)."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def default_settings() -> Settings:
    return load_settings()


def with_risk(settings: Settings, account: str = "SIM-USD", **changes: Any) -> Settings:
    """``settings`` with some risk limits of one account replaced."""
    accounts = tuple(
        dataclasses.replace(a, risk=dataclasses.replace(a.risk, **changes))
        if a.id == account
        else a
        for a in settings.accounts
    )
    return dataclasses.replace(settings, accounts=accounts)


def with_flatten(settings: Settings, flatten: bool = True) -> Settings:
    return dataclasses.replace(settings, kill_switch=KillSwitchSettings(flatten=flatten))


class Harness:
    """A started engine core wired to a SimBroker, with every event it emitted kept in order."""

    def __init__(
        self,
        settings: Settings | None = None,
        instruments: Iterable[Instrument] | None = None,
        clock: Clock | None = None,
        start: bool = True,
    ) -> None:
        self.settings = settings or default_settings()
        self.instruments = tuple(instruments if instruments is not None else sim_instruments())
        self.clock = clock or Clock()
        self.core = EngineCore(self.settings, self.instruments, self.clock)
        # wired as EngineRunner._boot wires it: the paper broker asks the portfolio about margin
        self.broker = SimBroker(self.instruments, self.clock, self.core.portfolio.margin_shortfall)
        self.inbox: list[VenueEvent] = []
        self.broker.connect(self.inbox.append)
        self.events: list[Event] = []
        if start:
            self.core.start()
            self.collect()

    # driving --------------------------------------------------------------------------------

    def collect(self) -> list[Event]:
        """Move what the core emitted into ``events``; returns the new ones."""
        batch = self.core.take_batch()
        for request in batch.requests:  # not sent yet: they stay queued for dispatch()
            self.core.rec.request(request)
        self.events.extend(batch.events)
        return batch.events

    def dispatch(self) -> None:
        """Send broker requests and apply venue answers until both are quiet, as the runner does."""
        while True:
            outbox = self.core.take_requests()
            if not outbox and not self.inbox:
                break
            for request in outbox:
                send(self.broker, request)
            while self.inbox:
                self.core.on_venue_event(self.inbox.pop(0))
        self.collect()

    def do(self, command: Command) -> Reply:
        """Apply one command and everything the venue answers to it."""
        reply = self.core.handle(command)
        self.dispatch()
        return reply

    def quote(self, instrument: str, bid: str, ask: str, ts: float | None = None) -> Quote:
        """Show a quote to the engine and then the broker (resting orders may trigger)."""
        q = Quote(instrument, Decimal(bid), Decimal(ask), self.clock() if ts is None else ts)
        self.core.on_quote(q)
        self.broker.on_quote(q)
        self.dispatch()
        return q

    def standard_quotes(self, names: Iterable[str] | None = None) -> None:
        known = {i.name for i in self.instruments}
        for name in names if names is not None else STANDARD_QUOTES:
            if name in known:
                bid, ask = STANDARD_QUOTES[name]
                self.quote(name, bid, ask)

    def submit(self, instrument: str, units: int, account: str = "SIM-USD", **kw: Any) -> Reply:
        return self.do(SubmitOrder(account, instrument, units, **kw))

    def limit(
        self, instrument: str, units: int, price: str, account: str = "SIM-USD", **kw: Any
    ) -> Reply:
        return self.submit(
            instrument, units, account, type=OrderType.LIMIT, price=Decimal(price), **kw
        )

    # looking --------------------------------------------------------------------------------

    def of_kind(self, kind: EventKind) -> list[Event]:
        return [e for e in self.events if e.kind is kind]

    def last(self, kind: EventKind) -> Event:
        found = self.of_kind(kind)
        assert found, f"no {kind.value} event among {[e.kind.value for e in self.events]}"
        return found[-1]

    def order(self, order_id: str) -> Order:
        """The latest version of an order, open or finished."""
        found = self.core.orders.get(order_id)
        if found is not None:
            return found
        for order in reversed(self.core.orders.recent):
            if order.id == order_id:
                return order
        raise KeyError(order_id)

    def open_orders(self, account: str | None = None) -> list[Order]:
        return list(self.core.orders.for_account(account))

    def account(self, account: str = "SIM-USD") -> AccountState:
        return self.core.account_view(account)

    def units(self, instrument: str, account: str = "SIM-USD") -> int:
        return self.core.portfolio.units(account, instrument)


def restarted(before: Harness) -> Harness:
    """The same engine after a restart: state from its checkpoint, the broker's book restored,
    and no quote seen yet (prices come back only as the feed ticks)."""
    import json

    after = Harness(before.settings, before.instruments, before.clock, start=False)
    after.core.state.load_checkpoint(json.loads(json.dumps(before.core.state.to_checkpoint())))
    trades = [t for p in after.core.positions() for t in p.trades]
    after.broker.restore(after.core.orders.open.values(), trades)
    after.core.start()
    after.collect()
    return after
