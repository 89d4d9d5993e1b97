"""Daily returns of an FX account from equity sampled at irregular times.

The conventions, fixed here so every figure downstream means the same thing:

- FX trades 24x5. A trading day runs from 17:00 New York to 17:00 New York and is named for
  the day it ends on (``domain.calendar``). Whatever is sampled over the weekend (Friday 17:00
  to Sunday 17:00 New York) belongs to Monday's day, so a year has 5 x 52 = 260 trading days
  (``FX_DAYS_PER_YEAR``) even on a venue whose prices move on a Saturday, like the sim.
- A day's close is its last sample. The record opens at the first sample, and each return runs
  from one close (the opening sample, for the first) to the next; a day with no sample at all
  makes the next return span the gap, as one return.
- Deposits and withdrawals are cash flows, not returns. ``flows[i]`` is the cash booked at
  sample ``i`` (already in ``equity[i]``); a period's return is ``(E_t - F_t) / E_{t-1} - 1``,
  ``F_t`` the flows booked after the previous close up to and including this one. A flow at
  the very first sample is the opening balance and moves nothing.
- Cleaning: samples whose time, equity or flow is not finite, or whose equity is not positive
  (no level a return can be measured from), are dropped; samples are ordered by time (stably),
  and where several share a timestamp the last one given is kept. The flows of a dropped
  duplicate still count: a flow is an event, not a reading.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

from tmt_tui.domain.calendar import trading_day_start

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Trading days in an FX year: five a week, weekends folded into Monday.
FX_DAYS_PER_YEAR = 260
#: Seconds in a calendar year, for annualising by real elapsed time (CAGR).
SECONDS_PER_YEAR = 365.25 * 86_400.0

_DAY_S = 86_400
_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True, slots=True)
class Samples:
    """An equity series after cleaning: ascending unique times, positive equity, and the flows
    booked at each kept sample."""

    ts: FloatArray
    equity: FloatArray
    flows: FloatArray | None  # None when there were none (the cheaper, exact path)

    def __len__(self) -> int:
        return int(self.ts.shape[0])


@dataclass(frozen=True, slots=True)
class DailyReturns:
    """One return per trading day that has a sample, stamped with the close that ends it, and
    the flow-adjusted wealth (1.0 at the first sample) at every kept sample."""

    ts: FloatArray
    returns: FloatArray
    wealth: FloatArray


#: Returns spread less than this fraction of their size are flat: compounding equity that
#: falls 1% a day gives returns that differ in the 16th digit, and a Sharpe of -2e15.
FLAT_SPREAD = 1e-12


def is_flat(returns: FloatArray) -> bool:
    """All returns equal, up to the rounding that computing them from equity leaves."""
    high, low = float(returns.max()), float(returns.min())
    return high - low <= FLAT_SPREAD * max(abs(high), abs(low))


def as_float_array(values: npt.ArrayLike, name: str) -> FloatArray:
    """``values`` as a one-dimensional float64 array (no copy when it already is one)."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    return array


def clean(ts: npt.ArrayLike, equity: npt.ArrayLike, flows: npt.ArrayLike | None = None) -> Samples:
    """The samples a return can be measured from, in time order, duplicates resolved."""
    t = as_float_array(ts, "ts")
    e = as_float_array(equity, "equity")
    if t.shape != e.shape:
        raise ValueError(f"ts and equity differ in length: {t.shape[0]} and {e.shape[0]}")
    f = None if flows is None else as_float_array(flows, "flows")
    if f is not None and f.shape != t.shape:
        raise ValueError(f"flows and ts differ in length: {f.shape[0]} and {t.shape[0]}")
    keep = np.isfinite(t) & np.isfinite(e) & (e > 0)
    if f is not None:
        keep &= np.isfinite(f)
    if not keep.all():
        t, e = t[keep], e[keep]
        f = None if f is None else f[keep]
    if t.shape[0] > 1 and bool((t[1:] < t[:-1]).any()):
        order = np.argsort(t, kind="stable")
        t, e = t[order], e[order]
        f = None if f is None else f[order]
    if t.shape[0] > 1:
        last = np.empty(t.shape[0], dtype=bool)
        np.not_equal(t[1:], t[:-1], out=last[:-1])
        last[-1] = True
        if not last.all():
            t, e = t[last], e[last]
            if f is not None:  # a dropped duplicate's flow moves onto the sample kept
                booked = np.cumsum(f)[last]
                f = np.diff(booked, prepend=0.0)
    if f is not None and not f.any():
        f = None
    return Samples(t, e, f)


def day_starts(ts: FloatArray) -> IntArray:
    """Indices into ascending epoch seconds ``ts`` where a new trading day begins (0 excluded),
    weekend days folded into Monday.

    Days split only at the rollovers that end a Monday to Friday (17:00 New York on those
    dates; Saturday's and Sunday's belong to the weekend that Monday absorbs). 17:00 New York
    falls on the same UTC date, at 21:00 or 22:00, so the rollovers needed are those on the
    UTC dates of the span, looked up once a date (zoneinfo, so daylight saving is right) and
    placed by binary search: no work per sample. A sparse series spanning more dates than it
    has samples looks up only the dates it touches and the three after each (enough to reach
    past a weekend to the next rollover that splits).
    """
    n = ts.shape[0]
    if n < 2:
        return np.empty(0, dtype=np.int64)
    first, last = math.floor(ts[0] / _DAY_S), math.floor(ts[-1] / _DAY_S)
    if last - first < n:
        dates = np.arange(first, last + 1, dtype=np.int64)
    else:
        touched = np.unique(np.floor(ts / _DAY_S).astype(np.int64))
        dates = np.unique((touched[:, None] + np.arange(4)).ravel())
    dates = dates[(dates + 3) % 7 < 5]  # 1970-01-01 was a Thursday: Monday is 0
    rollovers = np.array(
        [trading_day_start(_EPOCH + timedelta(days=d + 1)) for d in dates.tolist()],
        dtype=np.float64,
    )
    starts = np.searchsorted(ts, rollovers, side="left")
    return np.unique(starts[(starts > 0) & (starts < n)]).astype(np.int64)


def daily_returns(samples: Samples) -> DailyReturns:
    """Returns between daily closes, and the wealth index they compound to at every sample.

    Inside a day the wealth at a sample is measured like that day's return, from the previous
    close with the day's flows so far taken out, so the index at each close is exactly the
    compounded daily returns and the samples between only add what happened intraday.
    """
    n = len(samples)
    if n == 0:
        empty = np.empty(0, dtype=np.float64)
        return DailyReturns(empty, empty, empty)
    ts, equity = samples.ts, samples.equity
    run_last = day_starts(ts) - 1
    closes = np.concatenate((run_last, [n - 1]))
    points = np.concatenate(([0], closes))  # opening sample, then each day's close
    booked = None if samples.flows is None else np.cumsum(samples.flows)
    moved = 0.0 if booked is None else booked[points[1:]] - booked[points[:-1]]
    period = (equity[points[1:]] - moved) / equity[points[:-1]] - 1.0
    if booked is None:
        wealth = equity / equity[0]
    else:
        growth = np.concatenate(([1.0], np.cumprod(1.0 + period)))
        run = np.zeros(n, dtype=np.int64)
        run[run_last + 1] = 1
        np.cumsum(run, out=run)
        opening = points[run]
        wealth = growth[run] * (equity - (booked - booked[opening])) / equity[opening]
    if closes[0] == 0:  # the first day's only sample opened the record: no return yet
        closes, period = closes[1:], period[1:]
    return DailyReturns(ts[closes], period, wealth)
