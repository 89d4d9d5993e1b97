"""The Polygon / Massive feed a config asks for, with the key from the environment."""

from __future__ import annotations

import os
from collections.abc import Iterable

from tmt_tui.config import Settings
from tmt_tui.domain.instruments import Instrument, InstrumentKind, kind_of, watch_only
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


def polygon_feed(settings: Settings, known: Iterable[Instrument] = ()) -> PolygonFeed:
    """The feed of ``[polygon]``. Its instruments: the named ones (by default the pairs the
    trading venue has, ``known``, or the paper broker's 20). A pair takes the trading venue's
    or the paper broker's spec; a stock or crypto name is watch-only (shown, never traded)."""
    polygon = settings.polygon
    url = polygon.resolved_url()
    secure, host = url.startswith("wss://"), url.split("://", 1)[1]
    specs = {i.name: i for i in instruments()}
    specs.update((i.name, i) for i in known)
    names = polygon.instruments or tuple(n for n in specs if kind_of(n) is InstrumentKind.FX)
    chosen = []
    for name in names:
        if name in specs:
            chosen.append(specs[name])
        elif kind_of(name) is InstrumentKind.FX:
            raise VenueRefused(
                f"{settings.source}: key 'polygon.instruments' names {name!r}, a pair no broker "
                f"here trades (expected some of: {', '.join(sorted(specs))})"
            )
        else:
            chosen.append(watch_only(name))
    return PolygonFeed(
        api_key(),
        chosen,
        host=host,
        secure=secure,
        topics=Topics(trades=polygon.trades, bars=polygon.bars),
        queue_frames=polygon.queue_frames,
        backoff=(polygon.reconnect_backoff_s, polygon.max_backoff_s),
        universe=[i for i in specs.values() if i.kind is InstrumentKind.FX],  # the watchlist's
    )
