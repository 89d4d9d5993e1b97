"""What the engine says about an instrument's market beyond its last quote: the regime, a signal
and the indicators they were read from. Computed by ``analytics.market``; shown, never traded on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

from tmt_tui.domain.codec import wire_type


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


#: Every bar size market state builds, smallest first, and its length in seconds (each divides
#: the next). The names are OANDA's granularities.
BAR_SECONDS: dict[str, int] = {"S5": 5, "M1": 60, "M5": 300, "M15": 900, "H1": 3600}


@wire_type
@dataclass(frozen=True, slots=True)
class Candles:
    """A ``QueryBars`` answer: ``instrument``'s closed ``size`` bars, oldest first, as columns
    of mid OHLC and tick counts, the indicator lines drawn over them (each as long as the bars,
    ``None`` where one is still warming up), and the live bar, still open (``None`` before the
    instrument's first quote at this size).

    Columns rather than a tuple of bars: a chart's answer is a few hundred bars, and columns of
    plain floats are what crosses the wire (and the chart reads) cheapest.
    """

    instrument: str
    size: str
    starts: tuple[float, ...] = ()
    opens: tuple[float, ...] = ()
    highs: tuple[float, ...] = ()
    lows: tuple[float, ...] = ()
    closes: tuple[float, ...] = ()
    ticks: tuple[int, ...] = ()
    lines: dict[str, tuple[float | None, ...]] = field(default_factory=dict)
    live: LiveBar | None = None

    def __len__(self) -> int:
        return len(self.starts)


@wire_type
@dataclass(frozen=True, slots=True)
class LiveBar:
    """The bar still open at one size: mid OHLC so far and its tick count."""

    start: float
    open: float
    high: float
    low: float
    close: float
    ticks: int
