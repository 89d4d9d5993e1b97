"""What the engine says about an instrument's market beyond its last quote: the regime, a signal
and the indicators they were read from. Computed by ``analytics.market``; shown, never traded on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple


class Regime(StrEnum):
    """How the market of one instrument behaves now (the rule is in ``analytics.market``)."""

    WARMING_UP = ""  # not enough bars yet to say
    TRENDING_UP = "trending_up"
    TRENDING_DOWN = "trending_down"
    RANGING = "ranging"
    VOLATILE = "volatile"


class Signal(StrEnum):
    """A moving-average cross filtered by the regime: information for the trader, nothing more."""

    NONE = ""
    BUY = "buy"
    SELL = "sell"


@dataclass(frozen=True, slots=True)
class MarketRead:
    """One instrument's regime and signal, with the indicators of the bar size they were read on
    (``size``, e.g. ``M1``) as of the bar that closed at ``ts``; ``None`` while one warms up.

    Conflated like quotes: a subscriber only ever needs the latest per instrument.
    """

    instrument: str
    size: str
    ts: float
    regime: Regime = Regime.WARMING_UP
    signal: Signal = Signal.NONE
    ema_fast: float | None = None
    ema_slow: float | None = None
    sma: float | None = None
    rsi: float | None = None
    atr: float | None = None
    bb_upper: float | None = None
    bb_lower: float | None = None
    closes: dict[str, float] = field(default_factory=dict)  # bar size -> latest closed mid


class Bar(NamedTuple):
    """One closed bar (analytics/market.py builds them): bid, ask and mid OHLC and how many
    ticks made it.

    A NamedTuple, not a frozen dataclass: one is built at every S5 close on the tick path, and
    a tuple is several times cheaper to make.
    """

    instrument: str
    size: str
    start: float  # epoch seconds, a multiple of the size's seconds
    bid_o: float
    bid_h: float
    bid_l: float
    bid_c: float
    ask_o: float
    ask_h: float
    ask_l: float
    ask_c: float
    mid_o: float
    mid_h: float
    mid_l: float
    mid_c: float
    ticks: int
