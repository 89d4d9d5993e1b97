"""portfolio_metrics end to end: irregular samples in, daily metrics out, edges defined."""

from __future__ import annotations

import dataclasses
import json
import math

import empyrical
import numpy as np
import pytest

from tmt_tui.analytics import portfolio_metrics
from tmt_tui.analytics.returns import FX_DAYS_PER_YEAR, SECONDS_PER_YEAR

from .conftest import daily_series

NOON_MON_2024_01_08 = 1_704_733_200.0  # 12:00 New York, between rollovers
DAY = 86_400.0


def weekday_noons(n: int) -> np.ndarray:
    """n weekday noons in New York: one sample per trading day, weekends skipped."""
    days = np.arange(n + 2 * (n // 5) + 7)
    weekdays = days[days % 7 < 5]
    return NOON_MON_2024_01_08 + weekdays[:n] * DAY


def no_nan(metrics: object) -> bool:
    text = json.dumps(dataclasses.asdict(metrics))  # type: ignore[call-overload]
    return "NaN" not in text and "Infinity" not in text


def test_one_sample_a_day_gives_back_the_daily_returns_and_the_libraries_figures() -> None:
    returns = daily_series(1, 300)
    equity = 1e5 * np.concatenate(([1.0], np.cumprod(1 + returns)))
    m = portfolio_metrics(weekday_noons(301), equity)
    np.testing.assert_allclose(m.daily_returns, returns, rtol=1e-9, atol=1e-15)
    assert m.periods == 300
    assert m.sharpe == pytest.approx(
        empyrical.sharpe_ratio(returns, annualization=FX_DAYS_PER_YEAR), rel=1e-9
    )
    assert m.drawdown.max.depth == pytest.approx(empyrical.max_drawdown(returns), rel=1e-9)
    assert m.total_return == pytest.approx(np.prod(1 + returns) - 1, rel=1e-9)
    years = (m.end_ts - m.start_ts) / SECONDS_PER_YEAR  # type: ignore[operator]
    assert m.cagr == pytest.approx((1 + m.total_return) ** (1 / years) - 1, rel=1e-12)  # type: ignore[operator]
    assert m.calmar == pytest.approx(m.cagr / -m.drawdown.max.depth)  # type: ignore[operator]
    assert len(m.rolling.sharpe) == 300 - m.rolling.window + 1
    assert no_nan(m)


def test_intraday_samples_deepen_the_drawdown_but_not_the_daily_returns() -> None:
    ts = weekday_noons(3)
    dip = ts[1] + 3600.0
    m = portfolio_metrics([ts[0], ts[1], dip, dip + 60.0], [100.0, 110.0, 80.0, 110.0])
    assert m.daily_returns == pytest.approx((0.1,))
    assert m.drawdown.max.depth == pytest.approx(80 / 110 - 1)


def test_deposits_do_not_count_as_returns() -> None:
    ts = weekday_noons(3)
    m = portfolio_metrics(ts, [1000.0, 6000.0, 6060.0], flows=[0.0, 5000.0, 0.0])
    assert m.daily_returns == pytest.approx((0.0, 0.01))
    assert m.total_return == pytest.approx(0.01)


def test_a_flat_account_has_zero_volatility_and_no_ratios() -> None:
    m = portfolio_metrics(weekday_noons(30), np.full(30, 1000.0))
    assert m.volatility == 0.0
    assert m.sharpe is None and m.sortino is None and m.calmar is None
    assert m.cagr == 0.0 and m.drawdown.max.depth == 0.0
    assert no_nan(m)


def test_all_losses_are_defined() -> None:
    m = portfolio_metrics(weekday_noons(20), 1000.0 * 0.99 ** np.arange(20))
    assert m.sharpe is None  # every day -1%: flat, though rounding makes the returns differ
    assert m.cagr is not None and m.cagr < 0 and m.calmar is not None and m.calmar < 0
    assert m.drawdown.max.recovery_ts is None and m.drawdown.underwater_fraction == 1.0
    assert no_nan(m)


@pytest.mark.parametrize(
    ("ts", "equity"),
    [([], []), ([NOON_MON_2024_01_08], [1000.0]), ([1.0, 1.0, 1.0], [5.0, 6.0, 7.0])],
    ids=["empty", "one point", "all duplicates"],
)
def test_too_little_data_gives_nones_not_nans(ts: list[float], equity: list[float]) -> None:
    m = portfolio_metrics(ts, equity)
    assert m.periods == 0
    assert m.sharpe is None and m.volatility is None and m.cagr is None and m.calmar is None
    assert m.tail.var_95 is None
    assert no_nan(m)


def test_gaps_and_duplicates_and_disorder_are_absorbed() -> None:
    ts = weekday_noons(10)
    shuffled = np.concatenate((ts[[5, 0, 3]], [ts[3]], ts[[9, 1]]))
    equity = np.array([105.0, 100.0, 90.0, 103.0, 110.0, 101.0])
    m = portfolio_metrics(shuffled, equity)
    assert m.samples == 5  # the earlier duplicate of ts[3] is dropped
    assert m.daily_returns == pytest.approx((0.01, 103 / 101 - 1, 105 / 103 - 1, 110 / 105 - 1))


def test_a_million_points_take_well_under_a_second() -> None:
    rng = np.random.default_rng(0)
    ts = 1.7e9 + np.arange(1_000_000) * 30.0
    m = portfolio_metrics(ts, 1e5 * np.exp(np.cumsum(rng.normal(0, 2e-4, 1_000_000))))
    assert m.samples == 1_000_000 and 240 < m.periods < 260
    assert m.volatility is not None and math.isfinite(m.volatility)
