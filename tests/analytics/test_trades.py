"""Trade statistics; the ones quantstats also computes match it on the same P&L array.

quantstats computes them over periods, not trades, but the arithmetic is the same on any
array: win rate over non-zero values, profit factor of sums, averages of the positive and the
negative values, payoff ratio of those averages.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import quantstats as qs

from tmt_tui.analytics import trade_stats


@pytest.fixture(params=[1, 2], ids=["seed1", "seed2"])
def pnl(request: pytest.FixtureRequest) -> np.ndarray:
    rng = np.random.default_rng(request.param)
    values = np.round(rng.normal(5.0, 40.0, 300), 2)
    values[::25] = 0.0  # breakeven trades
    return values


def test_the_ratios_quantstats_computes_match_it(pnl: np.ndarray) -> None:
    s = pd.Series(pnl, index=pd.bdate_range("2024-01-01", periods=pnl.shape[0]))
    stats = trade_stats(pnl, np.ones_like(pnl))
    assert stats.win_rate == pytest.approx(qs.stats.win_rate(s, prepare_returns=False), rel=1e-9)
    assert stats.profit_factor == pytest.approx(
        qs.stats.profit_factor(s, prepare_returns=False), rel=1e-9
    )
    assert stats.avg_win == pytest.approx(qs.stats.avg_win(s, prepare_returns=False), rel=1e-9)
    assert stats.avg_loss == pytest.approx(qs.stats.avg_loss(s, prepare_returns=False), rel=1e-9)
    assert stats.payoff_ratio == pytest.approx(
        qs.stats.payoff_ratio(s, prepare_returns=False), rel=1e-9
    )


def test_a_mixed_book_of_trades() -> None:
    stats = trade_stats([100.0, -50.0, 0.0, 30.0, -20.0], [60.0, 120.0, 30.0, 90.0, 300.0])
    assert (stats.trades, stats.wins, stats.losses, stats.breakeven) == (5, 2, 2, 1)
    assert stats.win_rate == 0.5
    assert stats.total_pnl == 60.0
    assert (stats.gross_profit, stats.gross_loss) == (130.0, -70.0)
    assert stats.profit_factor == pytest.approx(130 / 70)
    assert stats.expectancy == pytest.approx(12.0)
    assert (stats.avg_win, stats.avg_loss) == (65.0, -35.0)
    assert stats.payoff_ratio == pytest.approx(65 / 35)
    assert (stats.largest_win, stats.largest_loss) == (100.0, -50.0)
    assert stats.avg_holding_s == 120.0


def test_no_trades_have_counts_of_zero_and_no_ratios() -> None:
    stats = trade_stats([], [])
    assert (stats.trades, stats.total_pnl, stats.gross_loss) == (0, 0.0, 0.0)
    assert stats.win_rate is None and stats.expectancy is None and stats.avg_holding_s is None
    assert stats.profit_factor is None and stats.largest_win is None


def test_all_losses_have_no_profit_factor_of_interest_and_no_wins() -> None:
    stats = trade_stats([-1.0, -2.0], [10.0, 20.0])
    assert stats.win_rate == 0.0
    assert stats.profit_factor == 0.0
    assert stats.avg_win is None and stats.payoff_ratio is None and stats.largest_win is None
    assert stats.largest_loss == -2.0


def test_all_wins_have_no_profit_factor() -> None:
    stats = trade_stats([1.0, 2.0], [10.0, 20.0])
    assert stats.win_rate == 1.0
    assert stats.profit_factor is None and stats.avg_loss is None


def test_non_finite_pnl_drops_the_trade_and_a_missing_holding_time_only_its_average() -> None:
    stats = trade_stats([10.0, float("nan"), -5.0], [100.0, 50.0, float("inf")])
    assert stats.trades == 2
    assert stats.avg_holding_s == 100.0


def test_mismatched_arrays_are_refused() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        trade_stats([1.0], [])
