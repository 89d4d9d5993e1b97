"""Top-of-book quotes and the sanity rules a feed's quote must pass."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar


@dataclass(frozen=True, slots=True)
class Quote:
    """Best bid and ask for one instrument at venue time ``ts`` (epoch seconds)."""

    #: On the wire as ``[instrument, bid, ask, ts]``: quotes are the highest-rate data there is.
    WIRE_AS_LIST: ClassVar[bool] = True

    instrument: str
    bid: Decimal
    ask: Decimal
    ts: float

    @property
    def mid(self) -> Decimal:
        return (self.bid + self.ask) / 2

    @property
    def spread(self) -> Decimal:
        return self.ask - self.bid


def quote_problem(bid: Decimal, ask: Decimal) -> str | None:
    """Why a quote is unusable (NaN, infinite, non-positive, crossed), or None when sane."""
    if not (bid.is_finite() and ask.is_finite()):
        return "price is not a finite number"
    if bid <= 0 or ask <= 0:
        return "price is not positive"
    if bid > ask:
        return "quote is crossed (bid above ask)"
    return None


@dataclass(frozen=True, slots=True)
class FeedQuote:
    """Another feed's quote for an instrument the accounts trade at the first feed's price: shown
    beside that price and compared with it (Polygon beside OANDA, say)."""

    feed: str
    quote: Quote
    gap_pips: float  # this feed's mid minus the trading mid, in the instrument's pips
    apart: bool  # further apart than ``engine.feeds_apart_pips``
