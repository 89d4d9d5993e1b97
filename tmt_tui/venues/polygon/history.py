"""Polygon / Massive REST aggregates as bars: what the Polygon feed answers for history.

``GET {rest}/v2/aggs/ticker/{ticker}/range/{multiplier}/{timespan}/{from}/{to}`` with ``from``
and ``to`` in Unix milliseconds; each result is one window: ``t`` its start (ms), ``o h l c``,
``v`` volume and ``n`` transactions. Forex aggregates carry one price (no bid and ask), so a
bar's bid, ask and mid OHLC are all that price: a chart draws mids, and the engine's own bars
from live quotes (with the spread) replace none of these, only follow them.

The key goes in the ``Authorization`` header, as the official client sends it, never in the
URL: a transport error's message names the URL, and that goes to the log.
"""

from __future__ import annotations

import math
import time
from typing import Any

import httpx

from tmt_tui.domain.instruments import InstrumentKind, kind_of
from tmt_tui.domain.market import BAR_SECONDS, Bar
from tmt_tui.domain.secret import Secret
from tmt_tui.venues.base import HistoryUnavailable

#: Where the REST API is (the WebSocket hosts are elsewhere); old host: api.polygon.io.
REST_URL = "https://api.massive.com"
TIMEOUT_S = 10.0
#: tmt's bar sizes as Polygon's (multiplier, timespan).
RANGES = {
    "S5": (5, "second"),
    "M1": (1, "minute"),
    "M5": (5, "minute"),
    "M15": (15, "minute"),
    "H1": (1, "hour"),
}


def ticker_of(instrument: str) -> str:
    """The REST ticker: ``C:EURUSD`` for a pair, ``X:BTCUSD`` for crypto, ``AAPL`` for a stock."""
    kind = kind_of(instrument)
    if kind is InstrumentKind.FX:
        return "C:" + instrument.replace("_", "")
    if kind is InstrumentKind.CRYPTO:
        return "X:" + instrument.replace("_", "")
    return instrument


def bars_of_results(
    instrument: str, size: str, results: list[dict[str, Any]], now: float
) -> list[Bar]:
    """The complete windows as bars, oldest first (one still open at ``now`` is left out)."""
    seconds = BAR_SECONDS[size]
    bars = []
    for r in results:
        try:
            start = float(r["t"]) / 1000
            o, h, low, c = (float(r[k]) for k in ("o", "h", "l", "c"))
            ticks = int(r.get("n") or r.get("v") or 0)
        except (KeyError, TypeError, ValueError):
            continue
        if start + seconds <= now:
            bars.append(
                Bar(instrument, size, start, o, h, low, c, o, h, low, c, o, h, low, c, ticks)
            )
    bars.sort(key=lambda b: b.start)
    return bars


async def aggregates(
    rest_url: str, key: Secret, instrument: str, size: str, count: int
) -> list[Bar]:
    """The newest ``count`` complete bars of ``instrument`` at ``size``; HistoryUnavailable
    saying why (HTTP status and Polygon's own message, never the URL or the key)."""
    multiplier, timespan = RANGES[size]
    seconds = BAR_SECONDS[size]
    now = time.time()
    end_ms = math.floor(now * 1000)
    start_ms = math.floor((now - now % seconds - count * seconds) * 1000)
    path = (
        f"/v2/aggs/ticker/{ticker_of(instrument)}/range/{multiplier}/{timespan}/{start_ms}/{end_ms}"
    )
    headers = {"Authorization": f"Bearer {key.reveal()}"}
    try:
        async with httpx.AsyncClient(base_url=rest_url, timeout=TIMEOUT_S, trust_env=False) as http:
            response = await http.get(
                path, params={"sort": "asc", "limit": "50000", "adjusted": "true"}, headers=headers
            )
    except httpx.HTTPError as exc:
        raise HistoryUnavailable(f"Polygon aggregates: {type(exc).__name__}") from None
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200 or body.get("status") not in ("OK", "DELAYED"):
        why = body.get("error") or body.get("message") or body.get("status") or ""
        raise HistoryUnavailable(f"Polygon aggregates: HTTP {response.status_code} {why}".rstrip())
    return bars_of_results(instrument, size, list(body.get("results") or []), now)[-count:]
