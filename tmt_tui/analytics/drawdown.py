"""Drawdowns of a wealth index: the deepest, the current one, and time spent under water.

Depths are fractions at or below zero, as empyrical and quantstats give them (-0.2 is 20%
below the peak). Measured on every sample, not only daily closes: a trader lives through the
intraday dips. With no drawdown the depth is 0.0, the times None and the durations 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tmt_tui.analytics.returns import FloatArray


@dataclass(frozen=True, slots=True)
class Drawdown:
    """One fall from a peak: its depth at the trough, when it began, bottomed and recovered."""

    depth: float  # <= 0: trough over peak, less one
    peak_ts: float | None
    trough_ts: float | None
    recovery_ts: float | None  # first sample back at the peak; None while still under water
    duration_s: float  # peak to recovery, or to the last sample when not recovered


@dataclass(frozen=True, slots=True)
class DrawdownStats:
    """The deepest drawdown (the first, if several tie), where the series stands now, and how
    long it has spent below a previous peak."""

    max: Drawdown
    current: float  # <= 0: last sample over the running peak, less one
    current_s: float  # seconds since the last peak; 0 at a peak
    longest_s: float  # the longest stretch from a peak to the next (or to now)
    underwater_fraction: float | None  # share of elapsed time from peaks to their recoveries


NO_DRAWDOWN = Drawdown(0.0, None, None, None, 0.0)


def drawdown_series(wealth: FloatArray) -> FloatArray:
    """Each sample's fall from the highest wealth so far (0 at a new high)."""
    peak = np.maximum.accumulate(wealth)
    return np.asarray(wealth / peak - 1.0, dtype=np.float64)


def drawdowns(ts: FloatArray, wealth: FloatArray) -> DrawdownStats:
    """Drawdown figures of ``wealth`` sampled at ascending times ``ts``."""
    n = wealth.shape[0]
    if n == 0:
        return DrawdownStats(NO_DRAWDOWN, 0.0, 0.0, 0.0, None)
    peak = np.maximum.accumulate(wealth)
    depth = wealth / peak - 1.0
    at_peak = wealth >= peak
    peaks = np.flatnonzero(at_peak)
    trough = int(np.argmin(depth))
    deepest = float(depth[trough])
    if deepest < 0.0:
        start = int(peaks[np.searchsorted(peaks, trough) - 1])
        back = wealth[trough:] >= wealth[start]
        after = int(np.argmax(back))
        recovered = bool(back[after])
        end = trough + after if recovered else n - 1
        worst = Drawdown(
            deepest,
            float(ts[start]),
            float(ts[trough]),
            float(ts[end]) if recovered else None,
            float(ts[end] - ts[start]),
        )
    else:
        worst = NO_DRAWDOWN
    last_peak = int(peaks[-1])
    current_s = float(ts[-1] - ts[last_peak])
    gaps = np.diff(peaks)
    spans = ts[peaks[1:]][gaps > 1] - ts[peaks[:-1]][gaps > 1]
    longest = max(float(spans.max()) if spans.shape[0] else 0.0, current_s)
    elapsed = float(ts[-1] - ts[0])
    if elapsed > 0.0:
        below = (depth[:-1] < 0.0) | (depth[1:] < 0.0)  # from each peak to its recovery
        under = float(np.sum(np.diff(ts)[below]))
        fraction: float | None = under / elapsed
    else:
        fraction = None
    return DrawdownStats(worst, float(depth[-1]), current_s, longest, fraction)
