"""Market state from quotes: bars, indicators, a regime and a signal per instrument, incrementally.

Bars: S5, M1, M5, M15 and H1 per instrument, bid, ask and mid OHLC plus a tick count. A quote
goes into the bar its own timestamp falls in, aligned on UTC (``start = ts - ts % seconds``),
so a replay at any speed builds the same bars as the live market did. A quote older than the
live bar (a feed's late tick) is folded into the live bar, never into a bar already closed.

Why it is cheap: each size divides the next (5 | 60 | 300 | 900 | 3600), so a bigger bar is
exactly the aggregate of the smaller bars inside it. A tick therefore touches only the live S5
bar (a few float compares); when it closes, it is handed up as a child of the live M1 bar,
which is aggregated from its (at most 12) children only when it closes itself, and so on up
to H1. Indicators move only when a bar closes, in O(1) each, so the cost per tick is constant
and the rare close costs a few microseconds (bench/market_state.py).

Indicators are computed on each size's closed bars' mid prices; defaults are in ``Periods``:

- EMA fast (9) and slow (21): ``ema += 2/(n+1) * (close - ema)``, seeded with the first close.
- SMA (20) of closes, and Bollinger bands on the same window: SMA +- k (2) population sigmas.
- RSI (14), Wilder's: average gain and loss seeded with the plain mean of the first 14 changes,
  then ``avg = (avg * 13 + x) / 14``; 100 when nothing fell, 50 when nothing moved.
- ATR (14), Wilder's, on mid bars: true range ``max(h - l, |h - prev c|, |l - prev c|)`` (the
  first bar's is ``h - l``), seeded with the mean of the first 14, then smoothed like RSI.

Regime (on ``Periods.regime_size``, M1 by default, once its indicators are warm):

- ``trending_up`` / ``trending_down`` when the slow EMA moved by at least 0.1 ATR over the
  last bar: the average itself travels, measured in the market's own typical range so the
  rule means the same on EUR_USD and USD_JPY. Checked first: a trend that starts always
  widens the bands, and calling every new trend "volatile" would hide it.
- ``volatile`` when the average does not travel but the Bollinger width (upper - lower) is
  above at least 90% of its last 120 values and at least 1.5 times their median: prices swing
  more than they usually do, without a direction, where neither trend nor range trading holds.
  (The percentile alone would call a tenth of any calm market volatile: a percentile of a
  stationary width is uniform. The median factor asks for a real widening.)
- ``ranging`` otherwise: a flat average inside bands of usual width.

Signal: ``buy`` when the fast EMA crossed above the slow one within the last 10 bars of the
regime size and the regime is ``trending_up``; ``sell`` for the mirror; nothing otherwise. A
cross against the regime, or in a range or a volatile market, is where MA crosses whipsaw.
Signals are information for the trader: nothing in tmt trades on them.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tmt_tui.domain.market import Bar, MarketRead, Regime, Signal

#: Bar sizes, smallest first; each divides the next (that is what makes a tick cheap).
BAR_SIZES: tuple[tuple[str, int], ...] = (
    ("S5", 5),
    ("M1", 60),
    ("M5", 300),
    ("M15", 900),
    ("H1", 3600),
)
SIZE_NAMES = tuple(name for name, _ in BAR_SIZES)
_SECONDS = tuple(float(seconds) for _, seconds in BAR_SIZES)
#: Running sums are re-added from the window this often (closes), so float drift never builds.
_RESUM_EVERY = 1000
_NAN = math.nan


@dataclass(frozen=True, slots=True)
class Periods:
    """The indicator periods and the regime and signal rules' parameters (see the module)."""

    ema_fast: int = 9
    ema_slow: int = 21
    sma: int = 20  # also the Bollinger window
    bb_k: float = 2.0
    rsi: int = 14
    atr: int = 14
    regime_size: str = "M1"
    trend_slope_atr: float = 0.1  # slow EMA move per bar, in ATRs, that makes a trend
    width_history: int = 120  # Bollinger widths the volatility percentile looks back over
    volatile_percentile: float = 0.9
    volatile_vs_median: float = 1.5
    signal_bars: int = 10  # a cross this many bars old still signals


def merge(children: Sequence[Bar], size: str, start: float) -> Bar:
    """One bar of ``size`` at ``start`` from the smaller bars inside it, oldest first."""
    first, last = children[0], children[-1]
    return Bar(
        first.instrument,
        size,
        start,
        first.bid_o,
        max(c.bid_h for c in children),
        min(c.bid_l for c in children),
        last.bid_c,
        first.ask_o,
        max(c.ask_h for c in children),
        min(c.ask_l for c in children),
        last.ask_c,
        first.mid_o,
        max(c.mid_h for c in children),
        min(c.mid_l for c in children),
        last.mid_c,
        sum(c.ticks for c in children),
    )


class Indicators:
    """EMA, SMA, Bollinger, RSI and ATR over one bar size's closes, moved in O(1) per bar."""

    __slots__ = (
        "periods", "count", "ema_fast", "ema_slow", "prev_ema_slow", "sma", "bb_upper",
        "bb_lower", "rsi", "atr", "_a_fast", "_a_slow", "_window", "_ref", "_sum", "_sumsq",
        "_since_resum", "_prev_close", "_changes", "_gain", "_loss", "_trs", "_tr",
    )  # fmt: skip

    def __init__(self, periods: Periods) -> None:
        self.periods = periods
        self.count = 0
        self.ema_fast = self.ema_slow = self.prev_ema_slow = _NAN
        self.sma = self.bb_upper = self.bb_lower = self.rsi = self.atr = _NAN
        self._a_fast = 2.0 / (periods.ema_fast + 1)
        self._a_slow = 2.0 / (periods.ema_slow + 1)
        self._window: deque[float] = deque(maxlen=periods.sma)
        self._ref = _NAN  # closes are summed as offsets from the first: no cancellation
        self._sum = self._sumsq = 0.0
        self._since_resum = 0
        self._prev_close = _NAN
        self._changes = 0
        self._gain = self._loss = 0.0  # sums while seeding, then Wilder averages
        self._trs = 0
        self._tr = 0.0  # sum while seeding, then the ATR

    def add(self, bar: Bar) -> None:
        """Move every indicator by one closed bar."""
        p = self.periods
        close = bar.mid_c
        self.count += 1
        if self.count == 1:
            self.ema_fast = self.ema_slow = self.prev_ema_slow = close
            self._ref = close
        else:
            self.ema_fast += self._a_fast * (close - self.ema_fast)
            self.prev_ema_slow = self.ema_slow
            self.ema_slow += self._a_slow * (close - self.ema_slow)
        self._sma_add(close)
        prev = self._prev_close
        high, low = bar.mid_h, bar.mid_l
        if prev != prev:  # the first bar: no change, and a true range of its own
            tr = high - low
        else:
            tr = max(high - low, abs(high - prev), abs(low - prev))
            change = close - prev
            gain = change if change > 0.0 else 0.0
            loss = -change if change < 0.0 else 0.0
            n = p.rsi
            self._changes += 1
            if self._changes < n:
                self._gain += gain
                self._loss += loss
            elif self._changes == n:
                self._gain = (self._gain + gain) / n
                self._loss = (self._loss + loss) / n
            else:
                self._gain = (self._gain * (n - 1) + gain) / n
                self._loss = (self._loss * (n - 1) + loss) / n
            if self._changes >= n:
                g, lo = self._gain, self._loss
                self.rsi = (100.0 - 100.0 / (1.0 + g / lo)) if lo > 0.0 else (100.0 if g else 50.0)
        self._prev_close = close
        n = p.atr
        self._trs += 1
        if self._trs < n:
            self._tr += tr
        elif self._trs == n:
            self.atr = self._tr = (self._tr + tr) / n
        else:
            self.atr = self._tr = (self._tr * (n - 1) + tr) / n

    def _sma_add(self, close: float) -> None:
        window, ref = self._window, self._ref
        n = window.maxlen or 1
        if len(window) == n:
            old = window[0] - ref
            self._sum -= old
            self._sumsq -= old * old
        window.append(close)
        d = close - ref
        self._sum += d
        self._sumsq += d * d
        self._since_resum += 1
        if self._since_resum >= _RESUM_EVERY:
            self._since_resum = 0
            self._sum = sum(x - ref for x in window)
            self._sumsq = sum((x - ref) ** 2 for x in window)
        if len(window) == n:
            mean = self._sum / n
            var = self._sumsq / n - mean * mean
            sd = math.sqrt(var) if var > 0.0 else 0.0
            self.sma = ref + mean
            self.bb_upper = self.sma + self.periods.bb_k * sd
            self.bb_lower = self.sma - self.periods.bb_k * sd


class InstrumentMarket:
    """One instrument's live S5 bar, the children waiting in each bigger live bar, the
    indicators of every size, and the regime and signal read on ``periods.regime_size``."""

    __slots__ = (
        "name", "periods", "indicators", "regime", "signal", "regime_ts", "changed",
        "start", "ticks", "bid_o", "bid_h", "bid_l", "bid_c", "ask_o", "ask_h", "ask_l",
        "ask_c", "mid_o", "mid_h", "mid_l", "mid_c", "_pending", "_pending_start", "_out",
        "_regime_level", "_widths", "_cross", "_since_cross", "_last_close", "_resume",
    )  # fmt: skip

    def __init__(self, name: str, periods: Periods, out: list[Bar]) -> None:
        self.name = name
        self.periods = periods
        self.indicators = tuple(Indicators(periods) for _ in BAR_SIZES)
        self.regime = Regime.WARMING_UP
        self.signal = Signal.NONE
        self.regime_ts = 0.0  # when the regime size's last bar closed
        self.changed = False  # the regime size closed a bar since the owner last looked
        self.start = -math.inf  # the live S5 bar's start; no live bar yet
        self.ticks = 0
        self.bid_o = self.bid_h = self.bid_l = self.bid_c = _NAN
        self.ask_o = self.ask_h = self.ask_l = self.ask_c = _NAN
        self.mid_o = self.mid_h = self.mid_l = self.mid_c = _NAN
        self._pending: list[list[Bar]] = [[] for _ in BAR_SIZES]  # [0] unused: S5 is live
        self._pending_start = [-math.inf for _ in BAR_SIZES]
        self._out = out
        self._regime_level = SIZE_NAMES.index(periods.regime_size)
        self._widths: deque[float] = deque(maxlen=periods.width_history)
        self._cross = 0  # +1 fast above slow, -1 below, 0 not known yet
        self._since_cross = math.inf  # bars since the last cross
        self._last_close: list[float] = [_NAN for _ in BAR_SIZES]
        self._resume: float | None = None

    def on_quote(self, ts: float, bid: float, ask: float) -> None:
        """One tick: the hot path (a few compares unless it starts a new S5 bar)."""
        start = ts - ts % 5.0
        mid = (bid + ask) * 0.5
        if start > self.start:
            self._roll(start, bid, ask, mid)
            return
        self.ticks += 1
        if bid > self.bid_h:
            self.bid_h = bid
        elif bid < self.bid_l:
            self.bid_l = bid
        if ask > self.ask_h:
            self.ask_h = ask
        elif ask < self.ask_l:
            self.ask_l = ask
        if mid > self.mid_h:
            self.mid_h = mid
        elif mid < self.mid_l:
            self.mid_l = mid
        self.bid_c = bid
        self.ask_c = ask
        self.mid_c = mid

    def _roll(self, start: float, bid: float, ask: float, mid: float) -> None:
        """Close the live S5 bar and every bigger bar whose boundary ``start`` crossed, then
        open a new S5 bar with this tick."""
        if self.ticks:
            self._closed(0, self._live_bar())
        for level in range(1, len(BAR_SIZES)):
            seconds = _SECONDS[level]
            if start - start % seconds == self._pending_start[level]:
                break  # not crossed here, so not at any bigger size either
            pending = self._pending[level]
            if pending:
                self._pending[level] = []
                self._closed(level, merge(pending, SIZE_NAMES[level], self._pending_start[level]))
        self.start = start
        self.ticks = 1
        self.bid_o = self.bid_h = self.bid_l = self.bid_c = bid
        self.ask_o = self.ask_h = self.ask_l = self.ask_c = ask
        self.mid_o = self.mid_h = self.mid_l = self.mid_c = mid

    def _live_bar(self) -> Bar:
        return Bar(
            self.name, "S5", self.start,
            self.bid_o, self.bid_h, self.bid_l, self.bid_c,
            self.ask_o, self.ask_h, self.ask_l, self.ask_c,
            self.mid_o, self.mid_h, self.mid_l, self.mid_c,
            self.ticks,
        )  # fmt: skip

    def live(self, size: str) -> Bar | None:
        """The bar still open at ``size`` (None before the first quote): the closed smaller
        bars inside it so far and the live S5 bar, merged on demand (a chart asks, a tick
        never pays for it)."""
        if not self.ticks:
            return None
        bar = self._live_bar()
        for level in range(1, SIZE_NAMES.index(size) + 1):
            start = bar.start - bar.start % _SECONDS[level]
            children = [c for c in self._pending[level] if c.start >= start]
            bar = merge([*children, bar], SIZE_NAMES[level], start)
        return bar

    def _closed(self, level: int, bar: Bar) -> None:
        """A bar of ``level`` closed: journal it, move its indicators, hand it up."""
        self._out.append(bar)
        self._digest(level, bar)
        up = level + 1
        if up < len(BAR_SIZES):
            if not self._pending[up]:
                self._pending_start[up] = bar.start - bar.start % _SECONDS[up]
            self._pending[up].append(bar)

    def _digest(self, level: int, bar: Bar) -> None:
        """Indicators (and, on the regime size, the regime and signal) after a closed bar."""
        self.indicators[level].add(bar)
        self._last_close[level] = bar.mid_c
        if level == self._regime_level:
            self._read_regime(bar.start + _SECONDS[level])

    def _read_regime(self, ts: float) -> None:
        """The regime and signal rules of the module docstring, on the regime size's close."""
        ind, p = self.indicators[self._regime_level], self.periods
        self.regime_ts = ts
        self.changed = True
        cross = 1 if ind.ema_fast > ind.ema_slow else -1 if ind.ema_fast < ind.ema_slow else 0
        if cross and cross != self._cross:
            self._since_cross = 0 if self._cross else math.inf  # the first side seen: no cross
            self._cross = cross
        else:
            self._since_cross += 1
        if ind.bb_upper != ind.bb_upper or ind.atr != ind.atr:
            return  # warming up
        width = ind.bb_upper - ind.bb_lower
        widths = self._widths
        widths.append(width)
        if len(widths) < (widths.maxlen or 1):
            return  # the percentile needs its whole history
        below = sum(1 for w in widths if w < width)
        wide = below / len(widths) >= p.volatile_percentile and (
            width >= p.volatile_vs_median * sorted(widths)[len(widths) // 2]
        )
        slope = (ind.ema_slow - ind.prev_ema_slow) / ind.atr if ind.atr > 0.0 else 0.0
        if slope >= p.trend_slope_atr:
            regime = Regime.TRENDING_UP
        elif slope <= -p.trend_slope_atr:
            regime = Regime.TRENDING_DOWN
        elif wide:
            regime = Regime.VOLATILE
        else:
            regime = Regime.RANGING
        self.regime = regime
        fresh = self._since_cross <= p.signal_bars
        if fresh and self._cross > 0 and regime is Regime.TRENDING_UP:
            self.signal = Signal.BUY
        elif fresh and self._cross < 0 and regime is Regime.TRENDING_DOWN:
            self.signal = Signal.SELL
        else:
            self.signal = Signal.NONE

    def restore(self, bars: Iterable[Bar]) -> None:
        """Rebuild from closed bars read back from the journal, oldest first within each size:
        the indicators are recomputed from them, and each bigger live bar gets back the
        children it had. Call before any quote."""
        by_level: list[list[Bar]] = [[] for _ in BAR_SIZES]
        for bar in bars:
            by_level[SIZE_NAMES.index(bar.size)].append(bar)
        for level, closed in enumerate(by_level):
            for bar in closed:
                self._digest(level, bar)
        for level in range(1, len(BAR_SIZES)):
            children = by_level[level - 1]
            if not children:
                continue
            seconds = _SECONDS[level]
            live = children[-1].start - children[-1].start % seconds
            if by_level[level] and by_level[level][-1].start >= live:
                continue  # that bar closed already
            self._pending_start[level] = live
            self._pending[level] = [c for c in children if c.start >= live]
        if by_level[0]:
            self._resume = by_level[0][-1].start + _SECONDS[0]
        self.changed = True

    @property
    def resume_after(self) -> float | None:
        """Where the journal's ticks should be replayed from after ``restore`` (the end of the
        newest closed S5 bar), or None when no bar was restored."""
        return self._resume

    def read(self) -> MarketRead:
        """The regime, signal and the regime size's indicators, as the UI and CLI show them."""
        ind = self.indicators[self._regime_level]
        closes = {
            name: close
            for name, close in zip(SIZE_NAMES, self._last_close, strict=True)
            if close == close
        }
        return MarketRead(
            self.name,
            self.periods.regime_size,
            self.regime_ts,
            self.regime,
            self.signal,
            _value(ind.ema_fast),
            _value(ind.ema_slow),
            _value(ind.sma),
            _value(ind.rsi),
            _value(ind.atr),
            _value(ind.bb_upper),
            _value(ind.bb_lower),
            closes,
        )


def _value(x: float) -> float | None:
    return None if x != x else x


class MarketState:
    """Every instrument's market state; closed bars collect in ``closed`` until taken."""

    def __init__(self, instruments: Iterable[str], periods: Periods | None = None) -> None:
        self.periods = periods or Periods()
        if self.periods.regime_size not in SIZE_NAMES:
            raise ValueError(f"regime_size {self.periods.regime_size!r}: not one of {SIZE_NAMES}")
        self.closed: list[Bar] = []
        self.instruments = {
            name: InstrumentMarket(name, self.periods, self.closed) for name in instruments
        }

    def add(self, instrument: str, bars: Iterable[Bar] = ()) -> None:
        """Follow one more instrument (put on the watchlist), from its closed ``bars`` (the
        journal's, oldest first per size) when it was followed before."""
        if instrument not in self.instruments:
            market = InstrumentMarket(instrument, self.periods, self.closed)
            market.restore(list(bars))
            self.instruments[instrument] = market

    def on_quote(self, instrument: str, ts: float, bid: float, ask: float) -> None:
        """One tick of a known instrument (an unknown one is ignored)."""
        market = self.instruments.get(instrument)
        if market is not None:
            market.on_quote(ts, bid, ask)

    def take_closed(self) -> list[Bar]:
        """The bars closed since the last call (to journal them), oldest first."""
        closed = self.closed[:]
        self.closed.clear()  # the same list: every instrument appends to it
        return closed

    def take_changed(self) -> list[MarketRead]:
        """The reads of instruments whose regime size closed a bar since the last call."""
        reads = []
        for market in self.instruments.values():
            if market.changed:
                market.changed = False
                reads.append(market.read())
        return reads

    def reads(self) -> list[MarketRead]:
        """Every instrument's read (for a snapshot)."""
        return [market.read() for market in self.instruments.values()]

    def restore(self, bars: Iterable[Bar]) -> None:
        """Closed bars from the journal, any instruments and sizes, oldest first per size."""
        by_instrument: dict[str, list[Bar]] = {}
        for bar in bars:
            by_instrument.setdefault(bar.instrument, []).append(bar)
        for name, own in by_instrument.items():
            market = self.instruments.get(name)
            if market is not None:
                market.restore(own)
        self.closed.clear()

    def rebuild(
        self, name: str, bars: Iterable[Bar], ticks: Iterable[tuple[float, float, float]]
    ) -> None:
        """Start ``name`` over from closed bars (older ones came in: a backfill) and the
        (ts, bid, ask) ticks after the newest S5 of them, as a restart would. Call with
        nothing of ``name`` waiting in ``closed`` (the bars its ticks close again are the
        same bars, and go to ``closed`` like any other)."""
        if name not in self.instruments:
            return
        market = InstrumentMarket(name, self.periods, self.closed)
        market.restore(bars)
        after = market.resume_after
        if after is not None:
            for ts, bid, ask in ticks:
                if ts >= after:
                    market.on_quote(ts, bid, ask)
        kept = self.instruments[name]  # the same object: whoever holds it sees the new state
        for slot in InstrumentMarket.__slots__:
            setattr(kept, slot, getattr(market, slot))
