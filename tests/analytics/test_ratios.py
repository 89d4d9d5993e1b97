"""Ratios agree with empyrical and quantstats on the same daily returns, to 1e-9 relative.

Conventions named where they differ: both libraries default to 252 periods a year, we pass our
FX 260 to them; all three use ddof=1 and a zero risk-free rate. empyrical and quantstats count
CAGR's years as len(returns) / periods; we count real elapsed time, so the comparison hands our
``cagr`` the same years. Where a library answers NaN or inf for an undefined ratio we answer None.
"""

from __future__ import annotations

import math

import empyrical
import numpy as np
import pandas as pd
import pytest
import quantstats as qs

from tmt_tui.analytics import ratios
from tmt_tui.analytics.returns import FX_DAYS_PER_YEAR

PPY = FX_DAYS_PER_YEAR
REL = 1e-9


def series(returns: np.ndarray) -> pd.Series:
    index = pd.bdate_range("2024-01-01", periods=returns.shape[0])
    return pd.Series(returns, index=index)


def test_volatility_matches_both_libraries(returns: np.ndarray) -> None:
    ours = ratios.volatility(returns, PPY)
    assert ours == pytest.approx(empyrical.annual_volatility(returns, annualization=PPY), rel=REL)
    assert ours == pytest.approx(qs.stats.volatility(series(returns), periods=PPY), rel=REL)


def test_sharpe_matches_both_libraries(returns: np.ndarray) -> None:
    ours = ratios.sharpe(returns, PPY)
    assert ours == pytest.approx(empyrical.sharpe_ratio(returns, annualization=PPY), rel=REL)
    assert ours == pytest.approx(qs.stats.sharpe(series(returns), periods=PPY), rel=REL)


def test_sortino_matches_both_libraries(returns: np.ndarray) -> None:
    ours = ratios.sortino(returns, PPY)
    assert ours == pytest.approx(empyrical.sortino_ratio(returns, annualization=PPY), rel=REL)
    assert ours == pytest.approx(qs.stats.sortino(series(returns), periods=PPY), rel=REL)


def test_cagr_matches_both_libraries_given_their_count_of_years(returns: np.ndarray) -> None:
    years = returns.shape[0] / PPY  # theirs; portfolio_metrics uses elapsed calendar time
    ours = ratios.cagr(float(np.prod(1.0 + returns)), years)
    assert ours == pytest.approx(empyrical.cagr(returns, annualization=PPY), rel=REL)
    assert ours == pytest.approx(qs.stats.cagr(series(returns), periods=PPY), rel=REL)


def test_calmar_matches_both_libraries(returns: np.ndarray) -> None:
    years = returns.shape[0] / PPY
    wealth = np.concatenate(([1.0], np.cumprod(1.0 + returns)))
    max_dd = float(np.min(wealth / np.maximum.accumulate(wealth) - 1.0))
    ours = ratios.calmar(ratios.cagr(float(wealth[-1]), years), max_dd)
    assert ours == pytest.approx(empyrical.calmar_ratio(returns, annualization=PPY), rel=REL)
    assert ours == pytest.approx(qs.stats.calmar(series(returns), periods=PPY), rel=REL)


@pytest.mark.parametrize("window", [5, 20, 65])
def test_rolling_sharpe_and_volatility_match_both_libraries(
    returns: np.ndarray, window: int
) -> None:
    """Cumulative sums lose digits when a window's spread is tiny against the whole series'
    (two near-equal returns in a window of 2 give a Sharpe of -1e4, good to 3e-8); windows of
    five and more hold 1e-9."""
    ts = np.arange(returns.shape[0], dtype=np.float64)
    at, sharpe, vol = ratios.rolling(ts, returns, window, PPY)
    emp_sharpe = empyrical.roll_sharpe_ratio(returns, window=window, annualization=PPY)
    emp_vol = empyrical.roll_annual_volatility(returns, window=window, annualization=PPY)
    qs_sharpe = qs.stats.rolling_sharpe(
        series(returns), rolling_period=window, periods_per_year=PPY
    )
    qs_vol = qs.stats.rolling_volatility(
        series(returns), rolling_period=window, periods_per_year=PPY
    )
    assert at.tolist() == ts[window - 1 :].tolist()
    np.testing.assert_allclose(sharpe, emp_sharpe, rtol=REL)
    np.testing.assert_allclose(vol, emp_vol, rtol=REL)
    np.testing.assert_allclose(sharpe, qs_sharpe.to_numpy()[window - 1 :], rtol=REL)
    np.testing.assert_allclose(vol, qs_vol.to_numpy()[window - 1 :], rtol=REL)


def test_rolling_on_a_million_returns_stays_accurate_at_the_end() -> None:
    rng = np.random.default_rng(7)
    returns = rng.normal(0.0005, 0.01, 1_000_000)
    _, sharpe, vol = ratios.rolling(np.arange(1e6), returns, 65, PPY)
    tail = returns[-65:]
    assert vol[-1] == pytest.approx(np.std(tail, ddof=1) * math.sqrt(PPY), rel=1e-9)
    assert sharpe[-1] == pytest.approx(
        np.mean(tail) / np.std(tail, ddof=1) * math.sqrt(PPY), rel=1e-8
    )


def test_a_flat_window_inside_a_moving_series_has_sharpe_zero_and_no_volatility() -> None:
    returns = np.concatenate((np.linspace(-0.01, 0.01, 50), np.full(30, 0.001), [0.02, -0.03]))
    _, sharpe, vol = ratios.rolling(np.arange(82.0), returns, 20, PPY)
    flat = slice(50, 61)  # windows starting at 50..60 hold only the constant 0.001
    assert vol[flat].tolist() == [0.0] * 11
    assert sharpe[flat].tolist() == [0.0] * 11
    assert np.isfinite(sharpe).all() and np.isfinite(vol).all()


def test_fewer_returns_than_the_window_give_empty_rolling_series() -> None:
    at, sharpe, vol = ratios.rolling(np.arange(3.0), np.array([0.01, 0.02, -0.01]), 5, PPY)
    assert at.shape == sharpe.shape == vol.shape == (0,)


def test_a_flat_series_has_zero_volatility_and_no_sharpe_or_sortino() -> None:
    flat = np.full(30, 0.001)
    assert ratios.volatility(flat, PPY) == 0.0
    assert ratios.sharpe(flat, PPY) is None
    assert ratios.sortino(flat, PPY) is None


@pytest.mark.parametrize("values", [[], [0.01]])
def test_under_two_returns_there_is_no_volatility_sharpe_or_sortino(values: list[float]) -> None:
    r = np.array(values, dtype=np.float64)
    assert ratios.volatility(r, PPY) is None
    assert ratios.sharpe(r, PPY) is None
    assert ratios.sortino(r, PPY) is None


def test_all_losses_give_negative_ratios() -> None:
    losses = -np.abs(np.random.default_rng(4).normal(0.005, 0.002, 40))
    assert ratios.sharpe(losses, PPY) < 0  # type: ignore[operator]
    assert ratios.sortino(losses, PPY) < 0  # type: ignore[operator]
    assert ratios.sortino(losses, PPY) == pytest.approx(
        empyrical.sortino_ratio(losses, annualization=PPY), rel=REL
    )


def test_no_losing_period_has_no_sortino() -> None:
    assert ratios.sortino(np.array([0.01, 0.0, 0.02]), PPY) is None


def test_cagr_edges_are_defined() -> None:
    assert ratios.cagr(1.1, 0.0) is None
    assert ratios.cagr(0.0, 1.0) == -1.0
    assert ratios.cagr(-0.5, 1.0) == -1.0
    assert ratios.cagr(2.0, 1e-6) is None  # doubling in 30 seconds annualises past a float
    assert ratios.cagr(1.21, 2.0) == pytest.approx(0.1)


def test_calmar_without_a_drawdown_is_none() -> None:
    assert ratios.calmar(0.1, 0.0) is None
    assert ratios.calmar(None, -0.1) is None
    assert ratios.calmar(0.1, -0.2) == pytest.approx(0.5)
