"""``GET /v2/aggs/ticker/{ticker}/range/{multiplier}/{timespan}/{from}/{to}`` for the local
Polygon server, in Polygon's shape: ``results[]`` of ``t`` (window start, ms), ``o h l c`` (mid
prices), ``v`` and ``n`` (ticks) and ``vw``, with ``status``, ``resultsCount`` and
``request_id``; ``apiKey`` in the query or ``Authorization: Bearer`` as the real one takes it.

The prices are the server's made-up past (``venues/sim/history.py``, leading into the price
each instrument started at) and then every quote it has sent, so a test can check the windows
against ``series``.
"""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime
from typing import Any

import numpy as np

from tmt_tui.domain.quotes import Quote
from tmt_tui.domain.secret import Secret
from tmt_tui.venues.polygon_sim.tape import LISTINGS
from tmt_tui.venues.sim.history import FloatArray, PastTape, merged_ticks
from tmt_tui.venues.sim.universe import SPECS

_SPANS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_ids = itertools.count(1)


class AggregateTape:
    """Every price the server quoted, per instrument, after its made-up past."""

    def __init__(self, seed: int, start: float, mids: dict[str, float]) -> None:
        self.start = start
        self._seed = seed
        self._mids = mids
        self._live: dict[str, list[tuple[float, float, float]]] = {}

    def record(self, name: str, ts: float, bid: float, ask: float) -> None:
        self._live.setdefault(name, []).append((ts, bid, ask))

    def record_quote(self, quote: Quote) -> None:
        self.record(quote.instrument, quote.ts, float(quote.bid), float(quote.ask))

    def _past(self, name: str) -> PastTape:
        if name in SPECS:
            spec = SPECS[name]
            half = spec.spread_pips * 10.0**spec.pip_location / 2
            vol, digits, mid = spec.annual_vol, spec.precision, self._mids.get(name, spec.mid)
        else:
            listing = LISTINGS[name]
            half = listing.spread_ticks * listing.tick / 2
            vol, mid = listing.annual_vol, self._mids.get(name, listing.start)
            digits = max(0, -math.floor(math.log10(listing.tick)))
        return PastTape(self._seed, name, mid, vol, half, digits, self.start)

    def series(self, name: str, since: float) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(ts, bid, ask) of every price of ``name`` from ``since`` on, oldest first."""
        live = [row for row in self._live.get(name, ()) if row[0] >= since]
        return merged_ticks(self._past(name).ticks(since), live)


def _when(text: str) -> float:
    """``from`` / ``to``: Unix milliseconds or a date (YYYY-MM-DD, midnight UTC)."""
    if text.isdigit():
        return int(text) / 1000
    return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC).timestamp()


def aggregates_answer(
    tape: AggregateTape,
    key: Secret,
    ticker: str,
    multiplier: str,
    timespan: str,
    start: str,
    end: str,
    query: dict[str, list[str]],
    authorization: str,
) -> tuple[int, dict[str, Any]]:
    """(status, body) of one aggregates request."""
    request_id = f"sim-{next(_ids)}"
    given = query.get("apiKey", [""])[0] or authorization.removeprefix("Bearer ").strip()
    if not key.matches(given):
        return 401, {"status": "ERROR", "request_id": request_id, "error": "Unknown API Key"}
    name = _instrument_of_ticker(ticker)
    if name is None or not (name in SPECS or name in LISTINGS):
        return 200, {"ticker": ticker, "queryCount": 0, "resultsCount": 0, "adjusted": True,
                     "status": "OK", "request_id": request_id}  # fmt: skip
    try:
        seconds = int(multiplier) * _SPANS[timespan]
        since, until = _when(start), _when(end)
    except (KeyError, ValueError):
        return 400, {"status": "ERROR", "request_id": request_id, "error": "bad range"}
    ts, bid, ask = tape.series(name, since - since % seconds)
    keep = ts <= until
    ts, mid = ts[keep], ((bid + ask) / 2)[keep]
    results = []
    if len(ts):
        window = np.floor(ts / seconds)
        firsts = np.flatnonzero(np.diff(window, prepend=window[0] - 1))
        lasts = np.append(firsts[1:], len(ts)) - 1
        highs, lows = np.maximum.reduceat(mid, firsts), np.minimum.reduceat(mid, firsts)
        sums = np.add.reduceat(mid, firsts)
        for i, (a, b) in enumerate(zip(firsts.tolist(), lasts.tolist(), strict=True)):
            n = b - a + 1
            results.append({
                "v": n, "vw": round(float(sums[i]) / n, 6), "o": float(mid[a]),
                "c": float(mid[b]), "h": float(highs[i]), "l": float(lows[i]),
                "t": int(window[a]) * seconds * 1000, "n": n,
            })  # fmt: skip
    if query.get("sort", ["asc"])[0] == "desc":
        results.reverse()
    limit = int(query.get("limit", ["5000"])[0])
    results = results[: max(1, min(limit, 50_000))]
    body: dict[str, Any] = {"ticker": ticker, "queryCount": len(results),
                            "resultsCount": len(results), "adjusted": True, "status": "OK",
                            "request_id": request_id}  # fmt: skip
    if results:
        body["results"] = results
    return 200, body


def _instrument_of_ticker(ticker: str) -> str | None:
    if ticker.startswith(("C:", "X:")):
        pair = ticker[2:]
        return f"{pair[:3]}_{pair[3:]}" if len(pair) == 6 else None
    return ticker
