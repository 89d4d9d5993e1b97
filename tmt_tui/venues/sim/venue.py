"""The built-in simulated venue: a synthetic market and a paper broker, in this process.

It has no history of its own (the engine's journal is the whole truth), so there is nothing to
follow or reconcile; it trades the accounts the config names. Given a feed from elsewhere
(Polygon / Massive), the paper broker fills at that feed's prices instead of the synthetic
market's: paper trading on real quotes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from tmt_tui.config import ConfigError, Settings
from tmt_tui.domain.orders import Order
from tmt_tui.venues.base import (
    MarginProbe,
    MarketDataFeed,
    ReconcileHook,
    StatusHook,
    SubscribingFeed,
    VenueOpened,
    VenueOpening,
    VenueSink,
    VenueSnapshot,
)
from tmt_tui.venues.sim.broker import SimBroker
from tmt_tui.venues.sim.market import SimMarket
from tmt_tui.venues.sim.universe import SPECS


class SimVenue:
    """``SimMarket`` quotes and ``SimBroker`` fills behind the ``Venue`` protocol."""

    name = "sim"
    reconciles = False

    def __init__(
        self,
        settings: Settings,
        clock: Callable[[], float] = time.time,
        feed: MarketDataFeed | None = None,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._market: MarketDataFeed | None = feed
        self._outside_feed = feed is not None
        self._broker: SimBroker | None = None

    async def open(self, opening: VenueOpening) -> VenueOpened:
        settings = self._settings
        if self._market is not None and self._outside_feed:
            return self._open_on(self._market)
        unknown = [n for n in settings.sim.instruments if n not in SPECS]
        if unknown:
            raise ConfigError(
                f"{settings.source}: key 'sim.instruments' names unknown instruments "
                f"{', '.join(unknown)} (expected some of: {', '.join(sorted(SPECS))})"
            )
        self._market = SimMarket(
            settings.sim.instruments,
            seed=settings.sim.seed,
            ticks_per_second=settings.sim.ticks_per_second,
            volatility_scale=settings.sim.volatility_scale,
            start_mids={q.instrument: q.mid for q in opening.last_quotes},
            clock=self._clock,
        )
        instruments = self._market.instruments()
        # every pair the market can quote: one added to the watchlist later trades at once
        self._broker = SimBroker(self._market.universe(), self._clock)
        return VenueOpened(instruments)

    def _open_on(self, feed: MarketDataFeed) -> VenueOpened:
        """The paper broker on a feed from elsewhere: it trades the FX pairs it has specs for
        (precision, pip, margin); stocks and crypto the feed quotes are watch-only."""
        instruments = feed.instruments()
        known = feed.universe() if isinstance(feed, SubscribingFeed) else instruments
        self._broker = SimBroker([i for i in known if i.tradeable], self._clock)
        return VenueOpened(instruments)

    @property
    def feed(self) -> MarketDataFeed:
        assert self._market is not None, "open the venue first"
        return self._market

    @property
    def broker(self) -> SimBroker:
        assert self._broker is not None, "open the venue first"
        return self._broker

    def resume(
        self, cursor: int, seen: Iterable[str], margin_probe: MarginProbe, *, fresh: bool
    ) -> None:
        self.broker.probe_margin(margin_probe)  # no venue history: nothing to resume

    def hold_answers(self, quiet: bool) -> None:
        return None

    async def follow(self, sink: VenueSink, reconcile: ReconcileHook, status: StatusHook) -> None:
        return None  # every fill is answered at once, through the broker's sink

    async def snapshot(self, open_orders: Iterable[Order], sink: VenueSink) -> VenueSnapshot:
        raise NotImplementedError("the sim venue keeps no book apart from the engine's")

    async def aclose(self) -> None:
        if self._market is not None:
            self._market.stop()
