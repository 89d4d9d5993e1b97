"""The full portfolio metric set on 1M equity points, ours against quantstats on the same series.

One point every 30 s (~350 days) of a random walk. Ours: ``portfolio_metrics`` (cleaning,
daily closes at 17:00 New York, ratios, drawdowns on every sample, VaR/CVaR, rolling Sharpe
and volatility). quantstats: the same daily closes grouped with pandas, then its volatility,
Sharpe, Sortino, CAGR, Calmar, max drawdown and drawdown series on every sample, VaR and CVaR
(both methods) at 95 and 99%, rolling Sharpe and volatility. Medians of five runs each (its
return cache can only flatter quantstats). Budget: <= 100 ms and >= 10x quantstats; without
quantstats installed the ratio is null.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from _realistic_book import report

from tmt_tui.analytics import portfolio_metrics

N = 1_000_000
RUNS = 5
WINDOW = 65
PPY = 260


def series() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(42)
    ts = 1_700_000_000.0 + np.arange(N) * 30.0
    equity = 100_000.0 * np.exp(np.cumsum(rng.normal(2e-7, 2e-4, N)))
    return ts, equity


def median_ms(work: Callable[[], Any]) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1e3)
    return round(statistics.median(times), 2)


def quantstats_work(ts: np.ndarray, equity: np.ndarray) -> Callable[[], Any] | None:
    try:
        import pandas as pd
        import quantstats as qs
    except ImportError:
        return None

    def work() -> list[Any]:
        index = pd.to_datetime(ts, unit="s", utc=True).tz_convert("America/New_York")
        prices = pd.Series(equity, index=index)
        day = (index + pd.Timedelta(hours=7)).normalize().tz_localize(None)
        day = day + pd.to_timedelta(
            np.select([day.dayofweek == 5, day.dayofweek == 6], [2, 1], 0), "D"
        )
        closes = prices.groupby(day).last()
        returns = closes.pct_change().dropna()
        s = qs.stats
        return [
            s.volatility(returns, periods=PPY),
            s.sharpe(returns, periods=PPY),
            s.sortino(returns, periods=PPY),
            s.cagr(returns, periods=PPY),
            s.calmar(returns, periods=PPY),
            s.max_drawdown(prices),
            s.to_drawdown_series(prices.pct_change().fillna(0.0)),
            [s.value_at_risk(returns, confidence=c) for c in (0.95, 0.99)],
            [returns.quantile(1 - c) for c in (0.95, 0.99)],
            [
                s.conditional_value_at_risk(returns, confidence=c, method=m)
                for c in (0.95, 0.99)
                for m in ("parametric", "historical")
            ],
            s.rolling_sharpe(returns, rolling_period=WINDOW, periods_per_year=PPY),
            s.rolling_volatility(returns, rolling_period=WINDOW, periods_per_year=PPY),
        ]

    return work


def main() -> None:
    ts, equity = series()
    metrics = portfolio_metrics(ts, equity, periods_per_year=PPY, rolling_window=WINDOW)
    print(f"{N} points, {metrics.periods} daily returns, sharpe {metrics.sharpe:.3f}, "
          f"max drawdown {metrics.drawdown.max.depth:.2%}")  # fmt: skip
    ours = median_ms(
        lambda: portfolio_metrics(ts, equity, periods_per_year=PPY, rolling_window=WINDOW)
    )
    print(f"ours: {ours} ms")
    theirs = None
    work = quantstats_work(ts, equity)
    if work is None:
        print("quantstats not installed: ours only")
    else:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = median_ms(work)
        print(f"quantstats: {theirs} ms")
    report(
        {
            "bench": "analytics",
            "n": N,
            "ours_ms": ours,
            "quantstats_ms": theirs,
            "ratio": None if theirs is None else round(theirs / ours, 1),
            "budget_ms": 100,
        }
    )


main()
