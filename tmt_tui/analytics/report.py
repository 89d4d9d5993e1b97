"""The entry points: every portfolio metric of an equity series, and every trade statistic.

``portfolio_metrics`` cleans the samples, takes daily returns at the 17:00 New York close
(conventions in ``returns``), and computes the ratios (``ratios``), drawdowns on every sample
(``drawdown``) and tail risk (``risk``) from them. Annualisation: volatility, Sharpe and
Sortino scale by ``periods_per_year`` (260 FX trading days); CAGR by real elapsed time, first
sample to last, in years of 365.25 days. Nothing is NaN: what has no value is None.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy.typing as npt

from tmt_tui.analytics import ratios
from tmt_tui.analytics.drawdown import DrawdownStats, drawdowns
from tmt_tui.analytics.ratios import Rolling
from tmt_tui.analytics.returns import FX_DAYS_PER_YEAR, SECONDS_PER_YEAR, clean, daily_returns
from tmt_tui.analytics.risk import TailRisk, tail_risk
from tmt_tui.analytics.trades import TradeStats, trade_stats

__all__ = ["PortfolioMetrics", "TradeStats", "portfolio_metrics", "trade_stats"]

#: A quarter of FX trading days.
DEFAULT_ROLLING_WINDOW = 65


@dataclass(frozen=True, slots=True)
class PortfolioMetrics:
    """What an equity series says about the account: returns, risk and drawdowns."""

    samples: int  # kept after cleaning
    start_ts: float | None
    end_ts: float | None
    periods: int  # daily returns
    periods_per_year: float
    total_return: float | None  # flow-adjusted (time-weighted by day), first sample to last
    cagr: float | None
    volatility: float | None
    sharpe: float | None
    sortino: float | None
    calmar: float | None
    drawdown: DrawdownStats
    tail: TailRisk
    rolling: Rolling
    daily_ts: tuple[float, ...]  # each daily close
    daily_returns: tuple[float, ...]


def portfolio_metrics(
    ts: npt.ArrayLike,
    equity: npt.ArrayLike,
    flows: npt.ArrayLike | None = None,
    periods_per_year: float = FX_DAYS_PER_YEAR,
    rolling_window: int = DEFAULT_ROLLING_WINDOW,
) -> PortfolioMetrics:
    """Every portfolio metric of equity sampled at epoch seconds ``ts`` (any order, gaps and
    duplicates allowed), with deposits and withdrawals in ``flows`` aligned with ``ts``."""
    if periods_per_year <= 0:
        raise ValueError(f"periods_per_year must be positive, got {periods_per_year}")
    samples = clean(ts, equity, flows)
    daily = daily_returns(samples)
    r = daily.returns
    n = len(samples)
    start = float(samples.ts[0]) if n else None
    end = float(samples.ts[-1]) if n else None
    growth = float(daily.wealth[-1]) if n else None
    dd = drawdowns(samples.ts, daily.wealth)
    cagr = (
        None
        if growth is None or start is None or end is None
        else ratios.cagr(growth, (end - start) / SECONDS_PER_YEAR)
    )
    roll_ts, roll_sharpe, roll_vol = ratios.rolling(daily.ts, r, rolling_window, periods_per_year)
    return PortfolioMetrics(
        samples=n,
        start_ts=start,
        end_ts=end,
        periods=int(r.shape[0]),
        periods_per_year=float(periods_per_year),
        total_return=None if growth is None else growth - 1.0,
        cagr=cagr,
        volatility=ratios.volatility(r, periods_per_year),
        sharpe=ratios.sharpe(r, periods_per_year),
        sortino=ratios.sortino(r, periods_per_year),
        calmar=ratios.calmar(cagr, dd.max.depth),
        drawdown=dd,
        tail=tail_risk(r),
        rolling=Rolling(
            rolling_window,
            tuple(roll_ts.tolist()),
            tuple(roll_sharpe.tolist()),
            tuple(roll_vol.tolist()),
        ),
        daily_ts=tuple(daily.ts.tolist()),
        daily_returns=tuple(r.tolist()),
    )
