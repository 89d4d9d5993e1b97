"""Build the venue a config asks for. The only module that names every venue: the engine
knows only ``venues.base``, so adding a venue is a new folder plus one line here."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from tmt_tui.config import ConfigError, Settings
from tmt_tui.domain.instruments import Instrument
from tmt_tui.venues.base import MarketDataFeed, Venue

if TYPE_CHECKING:
    from tmt_tui.venues.replay.source import Recording
    from tmt_tui.venues.replay.venue import ReplayVenue


def build_venue(settings: Settings, clock: Callable[[], float] = time.time) -> Venue:
    """The venue for the accounts' brokers, priced by the first of ``engine.market_data``.

    One broker and one feed is that venue itself; anything more (a paper account beside an
    OANDA one, Polygon beside the trading prices) is a ``DeskVenue`` around it."""
    feeds, brokers = settings.engine.market_data, settings.brokers()
    home = _home(settings, clock)
    if len(feeds) == 1 and len(brokers) == 1:
        return home
    from tmt_tui.venues.desk import DeskVenue, FeedFactory

    references: dict[str, FeedFactory] = {n: _reference(settings, n) for n in feeds[1:]}
    return DeskVenue(settings, home, references, clock)


def build_replay_venue(
    recording: Recording, speed: float, *, start_paused: bool = False
) -> ReplayVenue:
    """The venue of `tmt replay`: ``recording``'s ticks, every account on the paper broker,
    whatever feeds and brokers the config names. Run the engine on its ``clock``."""
    from tmt_tui.venues.replay.venue import ReplayVenue

    return ReplayVenue(recording, speed, start_paused=start_paused)


def _home(settings: Settings, clock: Callable[[], float]) -> Venue:
    """The venue whose prices accounts trade at: OANDA's when an account trades there."""
    first = settings.engine.market_data[0]
    if first == "oanda":  # loads httpx and the v20 adapter only when asked for
        from tmt_tui.venues.oanda.session import OandaVenue

        return OandaVenue(settings.oanda)
    if first == "polygon":
        from tmt_tui.venues.polygon.settings import polygon_feed
        from tmt_tui.venues.sim.venue import SimVenue

        return SimVenue(settings, clock, feed=polygon_feed(settings))
    if first == "sim":
        from tmt_tui.venues.sim.venue import SimVenue

        return SimVenue(settings, clock)
    raise ConfigError(f"{settings.source}: key 'engine.market_data': unknown feed {first!r}")


def _reference(settings: Settings, name: str) -> Callable[[tuple[Instrument, ...]], MarketDataFeed]:
    """A feed shown beside the trading prices, built once home has named its instruments."""
    if name != "polygon":
        raise ConfigError(
            f"{settings.source}: key 'engine.market_data': {name!r} cannot be "
            "shown beside another feed"
        )
    from tmt_tui.venues.polygon.settings import api_key, polygon_feed

    api_key()  # a missing key is said before anything connects

    def make(known: tuple[Instrument, ...]) -> MarketDataFeed:
        return polygon_feed(settings, known)

    return make
