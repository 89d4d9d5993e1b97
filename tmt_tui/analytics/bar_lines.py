"""The indicator lines a chart draws over candles, computed over a whole run of closes at once.

The same definitions as the incremental state in :mod:`tmt_tui.analytics.market` (EMA seeded
with the first close; SMA and Bollinger bands of population sigmas over the last ``sma``
closes), so the lines on a chart agree with the figures on the quote board once both have
seen the same bars. A chart asks for more bars than it draws (``WARMUP``) so that its EMAs
have settled by the first candle shown.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tmt_tui.analytics.market import Periods

FloatArray = npt.NDArray[np.float64]

#: Extra bars before the first one drawn: an EMA seeded this far back has forgotten its seed
#: (the slow EMA's weight on it is (20/22)^100, about 7e-5).
WARMUP = 100


def ema(closes: FloatArray, period: int) -> FloatArray:
    """Exponential moving average, ``ema += 2/(n+1) * (close - ema)``, seeded with the first."""
    out = np.empty_like(closes)
    if not len(closes):
        return out
    alpha = 2.0 / (period + 1)
    value = float(closes[0])
    for i, close in enumerate(closes.tolist()):
        value += alpha * (close - value)
        out[i] = value
    return out


def sma_bands(closes: FloatArray, period: int, k: float) -> tuple[FloatArray, ...]:
    """(SMA, upper, lower) over ``period`` closes: NaN until the window is full."""
    n = len(closes)
    sma = np.full(n, np.nan)
    upper, lower = sma.copy(), sma.copy()
    if n >= period:
        windows = np.lib.stride_tricks.sliding_window_view(closes, period)
        mean = windows.mean(axis=1)
        sd = windows.std(axis=1)
        sma[period - 1 :] = mean
        upper[period - 1 :] = mean + k * sd
        lower[period - 1 :] = mean - k * sd
    return sma, upper, lower


def indicator_lines(closes: FloatArray, periods: Periods | None = None) -> dict[str, FloatArray]:
    """Every line a chart overlays, by name, each as long as ``closes`` (NaN while warming)."""
    p = periods or Periods()
    sma, upper, lower = sma_bands(closes, p.sma, p.bb_k)
    return {
        "ema_fast": ema(closes, p.ema_fast),
        "ema_slow": ema(closes, p.ema_slow),
        "sma": sma,
        "bb_upper": upper,
        "bb_lower": lower,
    }
