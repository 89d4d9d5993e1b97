"""Several venues behind one ``Venue``: accounts on different brokers and feeds shown side by side.

A desk has one *home* venue, whose feed gives the prices every account trades at (OANDA's when
an account trades there, else the simulated market's or Polygon's), plus:

- a paper broker for the accounts that trade on "sim" when home is OANDA: it fills at OANDA's
  prices, so a paper account shadows the live one on the same quotes;
- *reference* feeds (Polygon / Massive beside OANDA): their quotes for instruments home prices
  are never traded at, only compared (``ComparingFeed``); instruments only they quote (stocks,
  crypto) join the board as watch-only.

Orders route by account. The engine sees one venue, so the kill switch, risk, the journal and
the screens need nothing new; reconciliation runs for the home venue's own account only (the
paper accounts have no history apart from the journal).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from decimal import Decimal

from tmt_tui.config import Settings
from tmt_tui.domain.instruments import Instrument
from tmt_tui.domain.market import Bar
from tmt_tui.domain.orders import Order
from tmt_tui.domain.positions import Trade
from tmt_tui.domain.quotes import Quote
from tmt_tui.domain.reasons import Reason
from tmt_tui.venues.base import (
    Broker,
    ComparedSink,
    HistoryFeed,
    HistoryUnavailable,
    MarginProbe,
    MarketDataFeed,
    QuoteSink,
    ReconcileHook,
    StatusHook,
    SubscribingFeed,
    Venue,
    VenueAccount,
    VenueOpened,
    VenueOpening,
    VenueRejected,
    VenueSink,
    VenueSnapshot,
)
from tmt_tui.venues.sim.broker import SimBroker

log = logging.getLogger(__name__)

#: Builds a reference feed once home has said what it trades (its specs price the pairs).
FeedFactory = Callable[[tuple[Instrument, ...]], MarketDataFeed]


def _ignore_compared(feed: str, quote: Quote) -> None:
    return None


def _names(feed: MarketDataFeed) -> set[str]:
    return {i.name for i in feed.instruments()}


class DeskBroker:
    """Routes each request to the broker of the order's account."""

    def __init__(self, routes: dict[str, Broker]) -> None:
        self._routes = routes
        self._brokers = list({id(b): b for b in routes.values()}.values())
        self._sink: VenueSink | None = None

    def connect(self, sink: VenueSink) -> None:
        self._sink = sink
        for broker in self._brokers:
            broker.connect(sink)

    def restore(self, open_orders: Iterable[Order], trades: Iterable[Trade]) -> None:
        orders, lots = list(open_orders), list(trades)
        for account, broker in self._routes.items():
            broker.restore(
                [o for o in orders if o.account == account],
                [t for t in lots if t.account == account],
            )

    def _route(self, order: Order, request: str) -> Broker | None:
        broker = self._routes.get(order.account)
        if broker is None and self._sink is not None:
            self._sink(
                VenueRejected(
                    order.id,
                    Reason.UNKNOWN_ACCOUNT.value,
                    f"no broker trades account {order.account}",
                    request,
                )
            )
        return broker

    def submit(self, order: Order) -> None:
        broker = self._route(order, "submit")
        if broker is not None:
            broker.submit(order)

    def modify(self, order: Order, price: Decimal | None, units: int) -> None:
        broker = self._route(order, "modify")
        if broker is not None:
            broker.modify(order, price, units)

    def cancel(self, order: Order) -> None:
        broker = self._route(order, "cancel")
        if broker is not None:
            broker.cancel(order)

    def on_quote(self, quote: Quote) -> None:
        for broker in self._brokers:
            broker.on_quote(quote)


class DeskFeed:
    """Home's quotes to the engine; each reference feed's quotes compared, or (for what only it
    quotes) passed on as the board's only price."""

    def __init__(self, home: MarketDataFeed, references: dict[str, MarketDataFeed]) -> None:
        self._home = home
        self._references = references
        self._priced = {i.name for i in home.instruments()}
        self._compared: ComparedSink = _ignore_compared
        watch: dict[str, Instrument] = {}
        for feed in references.values():
            for inst in feed.instruments():
                if inst.name not in self._priced:
                    watch.setdefault(inst.name, inst)
        self._instruments = home.instruments() + tuple(watch.values())

    def instruments(self) -> tuple[Instrument, ...]:
        return self._instruments

    def universe(self) -> tuple[Instrument, ...]:
        """What home can quote, then what only a reference feed quotes (watch-only)."""
        found = {i.name: i for i in _universe_of(self._home)}
        for feed in self._references.values():
            for inst in _universe_of(feed):
                found.setdefault(inst.name, inst)
        return tuple(found.values())

    def subscribe(self, names: Iterable[str]) -> None:
        """Each feed quotes what it can of ``names``: home prices, references compare (or are
        the only price of what home cannot quote)."""
        wanted = set(names)
        home = {i.name for i in _universe_of(self._home)} & wanted
        if isinstance(self._home, SubscribingFeed):
            self._home.subscribe(sorted(home))
        self._priced.clear()
        self._priced.update(home)  # in place: the reference tasks hold this set
        for feed in self._references.values():
            if isinstance(feed, SubscribingFeed):
                feed.subscribe(sorted({i.name for i in feed.universe()} & wanted))
        by_name = {i.name: i for i in self.universe()}
        self._instruments = tuple(by_name[n] for n in sorted(wanted) if n in by_name)

    def compare_into(self, sink: ComparedSink) -> None:
        self._compared = sink

    async def history(self, instrument: str, size: str, count: int) -> list[Bar]:
        """Home's history for what home prices, else the first reference feed's that quotes
        ``instrument`` and has history (Polygon's aggregates for a stock)."""
        feeds = [self._home] if instrument in self._priced else []
        feeds += [f for f in self._references.values() if instrument in _names(f)]
        for feed in feeds:
            if isinstance(feed, HistoryFeed):
                return await feed.history(instrument, size, count)
        raise HistoryUnavailable(f"no feed here has history of {instrument}")

    def report_status_to(self, status: StatusHook) -> None:
        self._home.report_status_to(status)
        for feed in self._references.values():
            feed.report_status_to(status)

    async def run(self, sink: QuoteSink) -> None:
        """Every feed at once; a reference feed that fails is logged and leaves home alone."""
        tasks = [asyncio.create_task(self._home.run(sink), name="market-data:home")]
        tasks += [
            asyncio.create_task(self._reference(name, feed, sink), name=f"market-data:{name}")
            for name, feed in self._references.items()
        ]
        try:
            await tasks[0]
        finally:
            for task in tasks[1:]:
                task.cancel()
            await asyncio.gather(*tasks[1:], return_exceptions=True)

    async def _reference(self, name: str, feed: MarketDataFeed, sink: QuoteSink) -> None:
        priced = self._priced

        def on_quote(quote: Quote) -> None:
            if quote.instrument in priced:
                self._compared(name, quote)
            else:
                sink(quote)

        try:
            await feed.run(on_quote)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the %s feed stopped; trading goes on at home's prices", name)

    def stop(self) -> None:
        self._home.stop()
        for feed in self._references.values():
            feed.stop()


def _universe_of(feed: MarketDataFeed) -> tuple[Instrument, ...]:
    return feed.universe() if isinstance(feed, SubscribingFeed) else feed.instruments()


class DeskVenue:
    """A home venue, paper accounts beside it, and reference feeds (see the module docstring)."""

    def __init__(
        self,
        settings: Settings,
        home: Venue,
        references: dict[str, FeedFactory],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._home = home
        self._factories = references
        self._clock = clock
        self._feed: DeskFeed | None = None
        self._broker: DeskBroker | None = None
        self._paper: SimBroker | None = None
        self._home_accounts: set[str] = set()
        self.name = home.name
        self.reconciles = home.reconciles

    async def open(self, opening: VenueOpening) -> VenueOpened:
        opened = await self._home.open(opening)
        home_name = self._home.name
        references = {name: make(opened.instruments) for name, make in self._factories.items()}
        self._feed = DeskFeed(self._home.feed, references)
        settings = self._settings
        accounts: list[VenueAccount] | None = None
        routes: dict[str, Broker] = {}
        if opened.accounts is None:  # home trades the config's accounts itself (the sim)
            routes = {a.id: self._home.broker for a in settings.accounts}
            self._home_accounts = set(routes)
        else:
            theirs = iter(opened.accounts)
            known = self._feed.universe()  # one put on the watchlist later trades at once
            self._paper = SimBroker([i for i in known if i.tradeable], self._clock)
            accounts = []
            for configured in settings.accounts:
                if settings.broker_of(configured) == home_name:
                    account = next(theirs)
                    routes[account.id] = self._home.broker
                    self._home_accounts.add(account.id)
                else:
                    account = VenueAccount(configured.id, configured.currency, configured.balance)
                    routes[account.id] = self._paper
                accounts.append(account)
        self._broker = DeskBroker(routes)
        paper = sorted(set(routes) - self._home_accounts)
        if paper:
            log.info("paper account(s) %s fill at %s's prices", ", ".join(paper), home_name)
        return VenueOpened(self._feed.instruments(), None if accounts is None else tuple(accounts))

    @property
    def feed(self) -> DeskFeed:
        assert self._feed is not None, "open the venue first"
        return self._feed

    @property
    def broker(self) -> DeskBroker:
        assert self._broker is not None, "open the venue first"
        return self._broker

    def resume(
        self, cursor: int, seen: Iterable[str], margin_probe: MarginProbe, *, fresh: bool
    ) -> None:
        self._home.resume(cursor, seen, margin_probe, fresh=fresh)
        if self._paper is not None:
            self._paper.probe_margin(margin_probe)

    def hold_answers(self, quiet: bool) -> None:
        self._home.hold_answers(quiet)

    async def follow(self, sink: VenueSink, reconcile: ReconcileHook, status: StatusHook) -> None:
        await self._home.follow(sink, reconcile, status)

    async def snapshot(self, open_orders: Iterable[Order], sink: VenueSink) -> VenueSnapshot:
        """Home's book, compared with home's accounts' orders only (paper ones are not there)."""
        mine = [o for o in open_orders if o.account in self._home_accounts]
        return await self._home.snapshot(mine, sink)

    async def aclose(self) -> None:
        if self._feed is not None:
            self._feed.stop()
        with contextlib.suppress(Exception):
            await self._home.aclose()
