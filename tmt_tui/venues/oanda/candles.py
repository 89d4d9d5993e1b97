"""OANDA's instrument candles as bars: what the OANDA feed answers for history.

``GET /v3/instruments/{instrument}/candles?granularity=M1&count=N&price=BAM``: bid, ask and mid
OHLC as strings, ``time`` the candle's start (RFC3339, as the client asks for), ``volume`` its
tick count. The candle still forming (``complete: false``) is left out: the engine builds that
one from the live stream.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from tmt_tui.domain.market import BAR_SECONDS, Bar

Json = dict[str, Any]


def epoch(stamp: str) -> float:
    """An RFC3339 time as OANDA writes it (up to nine fractional digits), or UNIX seconds."""
    if "T" not in stamp:
        return float(stamp)
    whole, _, rest = stamp.rstrip("Z").partition(".")
    seconds = datetime.fromisoformat(whole + "+00:00").timestamp()
    return seconds + (float(f"0.{rest}") if rest else 0.0)


def bars_of_candles(instrument: str, size: str, candles: Iterable[Json]) -> list[Bar]:
    """The complete candles as bars, oldest first (a candle missing a price side is skipped:
    asked with ``price=BAM``, every one has all three)."""
    if size not in BAR_SECONDS:
        raise ValueError(f"no OANDA granularity for bar size {size!r}")
    bars = []
    for candle in candles:
        if not candle.get("complete", False):
            continue
        try:
            b, a, m = (candle[k] for k in ("bid", "ask", "mid"))
            bar = Bar(
                instrument, size, epoch(str(candle["time"])),
                float(b["o"]), float(b["h"]), float(b["l"]), float(b["c"]),
                float(a["o"]), float(a["h"]), float(a["l"]), float(a["c"]),
                float(m["o"]), float(m["h"]), float(m["l"]), float(m["c"]),
                int(candle["volume"]),
            )  # fmt: skip
            bars.append(bar)
        except (KeyError, TypeError, ValueError):
            continue
    bars.sort(key=lambda b: b.start)
    return bars
