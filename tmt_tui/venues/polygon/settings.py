"""The Polygon / Massive feed a config asks for, with the key from the environment."""

from __future__ import annotations

import os

from tmt_tui.config import Settings
from tmt_tui.domain.secret import Secret
from tmt_tui.venues.base import VenueRefused
from tmt_tui.venues.polygon.feed import PolygonFeed
from tmt_tui.venues.polygon.symbols import Topics
from tmt_tui.venues.sim.universe import instruments

#: Where the key is read from, in order (the second is the name before the rebrand).
KEY_VARIABLES = ("MASSIVE_API_KEY", "POLYGON_API_KEY")


def api_key() -> Secret:
    """The key, or VenueRefused saying which variable to set."""
    for name in KEY_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value:
            return Secret(value)
    raise VenueRefused(
        "MASSIVE_API_KEY is not set: export your Massive (Polygon.io) API key "
        "(POLYGON_API_KEY also works); for `tmt polygon-sim`, the key it was started with"
    )


def polygon_feed(settings: Settings) -> PolygonFeed:
    """The feed of ``[polygon]``: its instruments (the paper broker's pairs by default)."""
    polygon = settings.polygon
    url = polygon.resolved_url()
    secure, host = url.startswith("wss://"), url.split("://", 1)[1]
    try:
        chosen = instruments(polygon.instruments)
    except KeyError as exc:
        raise VenueRefused(
            f"{settings.source}: key 'polygon.instruments' names {exc.args[0]!r}, which the "
            "paper broker does not trade (it has specs for its 20 FX pairs only)"
        ) from None
    return PolygonFeed(
        api_key(),
        chosen,
        host=host,
        secure=secure,
        topics=Topics(trades=polygon.trades, bars=polygon.bars),
        queue_frames=polygon.queue_frames,
        backoff=(polygon.reconnect_backoff_s, polygon.max_backoff_s),
    )
