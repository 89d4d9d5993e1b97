"""``GET /v3/instruments/{instrument}/candles`` for the local v20 server: candles from its own
price path, in OANDA's wire shape.

The path is the server's made-up past (``venues/sim/history.py``: a seeded walk that leads into
the price it started at) followed by every quote it has published since, so the candles are
the same whenever they are asked for, and a test can check them against ``series``. As OANDA
does, the last candle may be the one still forming (``complete: false``); every price is a
string at the instrument's precision, ``time`` is the candle's start in RFC3339, ``volume``
its tick count.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tmt_tui.domain.instruments import Instrument
from tmt_tui.domain.market import BAR_SECONDS, Bar
from tmt_tui.domain.quotes import Quote
from tmt_tui.venues.oanda_sim.wire import Json, rfc3339
from tmt_tui.venues.sim.history import FloatArray, SimPast, bars_of, merged_ticks

#: OANDA's defaults and limit for ``count`` (instrument endpoint documentation).
DEFAULT_COUNT, MAX_COUNT = 500, 5000
_PARTS = {"M": ("mid", 11), "B": ("bid", 3), "A": ("ask", 7)}  # component -> (key, o index)


class CandleTape:
    """What the server quoted, as floats per instrument, after its made-up past."""

    def __init__(self, seed: int, start: float, mids: dict[str, float]) -> None:
        self.start = start
        self._past = SimPast(seed, start, mids)
        self._live: dict[str, list[tuple[float, float, float]]] = {}

    def record(self, quote: Quote) -> None:
        self._live.setdefault(quote.instrument, []).append(
            (quote.ts, float(quote.bid), float(quote.ask))
        )

    def series(self, name: str, since: float) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(ts, bid, ask) of every price of ``name`` from ``since`` on, oldest first."""
        live = [row for row in self._live.get(name, ()) if row[0] >= since]
        return merged_ticks(self._past.tape(name).ticks(since), live)

    def bars(self, name: str, size: str, count: int) -> list[Bar]:
        """The newest ``count`` bars of ``size``, the forming one last (OANDA's way)."""
        seconds = BAR_SECONDS[size]
        ends = [row[0] for row in self._live.get(name, ())[-1:]] or [self.start]
        since = ends[0] - ends[0] % seconds - count * seconds
        ts, bid, ask = self.series(name, since)
        return bars_of(name, size, ts, bid, ask, np.inf, count)


def candles_answer(
    tape: CandleTape, instrument: Instrument, query: dict[str, list[str]], now: float
) -> tuple[int, Json]:
    """(status, body) of a candles request, OANDA's errors included."""
    granularity = query.get("granularity", ["S5"])[0]
    if granularity not in BAR_SECONDS:
        return 400, {"errorMessage": "Invalid value specified for 'granularity'"}
    try:
        count = int(query.get("count", [str(DEFAULT_COUNT)])[0])
    except ValueError:
        return 400, {"errorMessage": "Invalid value specified for 'count'"}
    if not 0 < count <= MAX_COUNT:
        return 400, {"errorMessage": f"Maximum value for 'count' exceeded ({MAX_COUNT})"}
    price = query.get("price", ["M"])[0]
    if not price or set(price) - set(_PARTS):
        return 400, {"errorMessage": "Invalid value specified for 'price'"}
    seconds = BAR_SECONDS[granularity]
    digits = instrument.display_precision
    candles = []
    for bar in tape.bars(instrument.name, granularity, count):
        candle: dict[str, Any] = {
            "complete": bar.start + seconds <= now,
            "volume": bar.ticks,
            "time": rfc3339(bar.start),
        }
        for part in price:
            key, first = _PARTS[part]
            o, h, low, c = bar[first : first + 4]
            candle[key] = {
                k: f"{v:.{digits}f}" for k, v in zip("ohlc", (o, h, low, c), strict=True)
            }
        candles.append(candle)
    return 200, {"instrument": instrument.name, "granularity": granularity, "candles": candles}
