"""Drawdowns: depth as empyrical and quantstats measure it, plus when and for how long."""

from __future__ import annotations

import empyrical
import numpy as np
import pandas as pd
import pytest
import quantstats as qs

from tmt_tui.analytics.drawdown import NO_DRAWDOWN, drawdown_series, drawdowns


def test_max_drawdown_matches_both_libraries(returns: np.ndarray) -> None:
    """Both libraries measure from a wealth of 1 before the first return; so do we."""
    wealth = np.concatenate(([1.0], np.cumprod(1.0 + returns)))
    ours = drawdowns(np.arange(wealth.shape[0], dtype=np.float64), wealth).max.depth
    index = pd.bdate_range("2024-01-01", periods=returns.shape[0])
    assert ours == pytest.approx(empyrical.max_drawdown(returns), rel=1e-9)
    assert ours == pytest.approx(qs.stats.max_drawdown(pd.Series(returns, index=index)), rel=1e-9)
    np.testing.assert_allclose(
        drawdown_series(wealth)[1:], empyrical.stats.drawdown_series(returns), rtol=1e-9, atol=1e-15
    )


def test_the_deepest_drawdown_has_its_peak_trough_recovery_and_duration() -> None:
    ts = np.array([0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0])
    wealth = np.array([1.0, 1.2, 0.9, 1.0, 1.25, 1.2, 1.3])
    stats = drawdowns(ts, wealth)
    assert stats.max.depth == pytest.approx(0.9 / 1.2 - 1)
    assert (stats.max.peak_ts, stats.max.trough_ts, stats.max.recovery_ts) == (10.0, 20.0, 40.0)
    assert stats.max.duration_s == 30.0
    assert stats.current == 0.0 and stats.current_s == 0.0
    assert stats.longest_s == 30.0
    assert stats.underwater_fraction == pytest.approx(
        50 / 60
    )  # peak to recovery: 10..40 and 40..60


def test_an_unrecovered_drawdown_lasts_until_now() -> None:
    ts = np.array([0.0, 10.0, 20.0, 30.0])
    stats = drawdowns(ts, np.array([1.0, 2.0, 1.0, 1.5]))
    assert stats.max.recovery_ts is None
    assert stats.max.duration_s == 20.0
    assert stats.current == pytest.approx(-0.25)
    assert stats.current_s == 20.0 and stats.longest_s == 20.0


def test_a_series_that_only_rises_has_no_drawdown() -> None:
    stats = drawdowns(np.arange(4.0), np.array([1.0, 1.1, 1.1, 1.3]))
    assert stats.max == NO_DRAWDOWN
    assert stats.current == 0.0 and stats.longest_s == 0.0
    assert stats.underwater_fraction == 0.0


@pytest.mark.parametrize("values", [[], [1.0]])
def test_no_elapsed_time_has_no_underwater_fraction(values: list[float]) -> None:
    stats = drawdowns(np.arange(float(len(values))), np.array(values))
    assert stats.max == NO_DRAWDOWN
    assert stats.underwater_fraction is None


def test_all_losses_are_one_drawdown_from_the_first_sample() -> None:
    stats = drawdowns(np.arange(5.0), np.array([1.0, 0.9, 0.8, 0.7, 0.6]))
    assert stats.max.depth == pytest.approx(-0.4)
    assert (stats.max.peak_ts, stats.max.trough_ts, stats.max.recovery_ts) == (0.0, 4.0, None)
    assert stats.underwater_fraction == 1.0
