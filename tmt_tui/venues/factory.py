"""Build the venue a config asks for. The only module that names every venue: the engine
knows only ``venues.base``, so adding a venue is a new folder plus one line here."""

from __future__ import annotations

import time
from collections.abc import Callable

from tmt_tui.config import ConfigError, Settings
from tmt_tui.venues.base import Venue


def build_venue(settings: Settings, clock: Callable[[], float] = time.time) -> Venue:
    """The venue for ``engine.broker``, its quotes from ``engine.market_data``: the venue's
    own, or Polygon / Massive beside the paper broker."""
    broker = settings.engine.broker
    if settings.engine.market_data == "polygon" and broker == "sim":
        from tmt_tui.venues.polygon.settings import polygon_feed
        from tmt_tui.venues.sim.venue import SimVenue

        return SimVenue(settings, clock, feed=polygon_feed(settings))
    if broker == "oanda":  # loads httpx and the v20 adapter only when asked for
        from tmt_tui.venues.oanda.session import OandaVenue

        return OandaVenue(settings.oanda)
    if broker == "sim":
        from tmt_tui.venues.sim.venue import SimVenue

        return SimVenue(settings, clock)
    raise ConfigError(f"{settings.source}: key 'engine.broker': unknown venue {broker!r}")
