"""Return and risk-adjusted ratios of a series of periodic (daily) returns.

Conventions: standard deviations use ddof=1 (the sample estimate, as empyrical and quantstats
do); volatility, Sharpe and Sortino scale by ``periods_per_year`` (260 for FX daily closes,
see ``returns``) with a zero risk-free rate; Sortino's downside deviation is the root mean
square of the returns below zero over all periods. CAGR is annualised by real elapsed time.

Undefined is None, never NaN: fewer than two returns; a flat series (zero volatility: returns
equal up to ``FLAT_SPREAD`` of rounding) has no Sharpe, a series with no losing period no
Sortino, one with no drawdown no Calmar. Rolling series are plain arrays: a window whose
returns are exactly equal shows Sharpe 0.0 and volatility 0.0 (a chart needs a number).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tmt_tui.analytics.returns import FloatArray, is_flat


def volatility(returns: FloatArray, periods_per_year: float) -> float | None:
    """Annualised standard deviation; 0.0 for a flat series, None under two returns."""
    if returns.shape[0] < 2:
        return None
    if is_flat(returns):
        return 0.0
    return float(np.std(returns, ddof=1)) * math.sqrt(periods_per_year)


def sharpe(returns: FloatArray, periods_per_year: float) -> float | None:
    """Annualised mean over standard deviation; None for a flat series or under two returns."""
    if returns.shape[0] < 2 or is_flat(returns):
        return None
    mean = float(np.mean(returns))
    return mean / float(np.std(returns, ddof=1)) * math.sqrt(periods_per_year)


def sortino(returns: FloatArray, periods_per_year: float) -> float | None:
    """Annualised mean over downside deviation; None with no losing period or under two."""
    if returns.shape[0] < 2:
        return None
    below = np.minimum(returns, 0.0)
    downside = math.sqrt(float(np.mean(below * below)))
    if downside == 0.0:
        return None
    return float(np.mean(returns)) / downside * math.sqrt(periods_per_year)


def cagr(growth: float, years: float) -> float | None:
    """Compound annual growth from ``growth`` (ending wealth over starting, flows out) over
    ``years``; -1.0 once everything is lost, None over no time or past a float's range."""
    if years <= 0.0 or not math.isfinite(growth):
        return None
    if growth <= 0.0:
        return -1.0
    try:
        return float(growth ** (1.0 / years) - 1.0)
    except OverflowError:  # a gain annualised over minutes
        return None


def calmar(cagr_: float | None, max_drawdown: float) -> float | None:
    """CAGR over the depth of the maximum drawdown; None without a drawdown or a CAGR."""
    if cagr_ is None or max_drawdown >= 0.0:
        return None
    return cagr_ / -max_drawdown


@dataclass(frozen=True, slots=True)
class Rolling:
    """Rolling annualised Sharpe and volatility, one value per full window, stamped with the
    time of the window's last return."""

    window: int
    ts: tuple[float, ...]
    sharpe: tuple[float, ...]
    volatility: tuple[float, ...]


def rolling(
    ts: FloatArray, returns: FloatArray, window: int, periods_per_year: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(ts, Sharpe, volatility) over every full window of ``window`` returns, in O(n).

    Window sums come from cumulative sums of the returns less their overall mean, which keeps
    the variance's subtraction small; windows whose returns are all equal (found exactly by
    counting changes) get a variance of exactly zero rather than the rounding left over.
    """
    if window < 2:
        raise ValueError(f"a rolling window needs at least 2 returns, got {window}")
    n = returns.shape[0]
    if n < window:
        empty = np.empty(0, dtype=np.float64)
        return empty, empty, empty
    centre = float(np.mean(returns))
    x = returns - centre
    s1 = np.concatenate(([0.0], np.cumsum(x)))
    s2 = np.concatenate(([0.0], np.cumsum(x * x)))
    sum1 = s1[window:] - s1[:-window]
    sum2 = s2[window:] - s2[:-window]
    variance = np.maximum((sum2 - sum1 * sum1 / window) / (window - 1), 0.0)
    changes = np.concatenate(([0], np.cumsum(returns[1:] != returns[:-1])))
    variance[changes[window - 1 :] == changes[: n - window + 1]] = 0.0
    std = np.sqrt(variance)
    mean = centre + sum1 / window
    scale = math.sqrt(periods_per_year)
    ratio = np.divide(mean, std, out=np.zeros_like(mean), where=std > 0.0) * scale
    return ts[window - 1 :], ratio, std * scale
