"""Daily closes at 17:00 New York, weekends folded into Monday, flows kept out of returns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from tmt_tui.analytics.returns import clean, daily_returns, day_starts
from tmt_tui.domain.calendar import trading_day


def at(text: str) -> float:
    """Epoch seconds of a UTC time written ``2024-03-11 20:59``."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC).timestamp()


def folded_day(ts: float) -> object:
    day = trading_day(ts)
    return day + timedelta(days={5: 2, 6: 1}.get(day.weekday(), 0))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("span_s", [3e5, 3e7, 3e8])
def test_day_starts_split_where_the_calendar_changes_folded_day(seed: int, span_s: float) -> None:
    rng = np.random.default_rng(seed)
    ts = np.sort(1.6e9 + rng.uniform(0, span_s, 150))
    ts[::7] = np.round(ts[::7] / 3600) * 3600  # some exactly on the hour, so on a rollover
    ts.sort()
    labels = [folded_day(t) for t in ts]
    expected = [i for i in range(1, len(ts)) if labels[i] != labels[i - 1]]
    assert day_starts(ts).tolist() == expected


def test_the_rollover_moves_with_new_york_daylight_saving() -> None:
    # Summer: 17:00 New York is 21:00 UTC; winter: 22:00 UTC.
    summer = np.array([at("2024-07-10 20:59"), at("2024-07-10 21:00")])
    winter = np.array([at("2024-01-10 21:59"), at("2024-01-10 22:00")])
    assert day_starts(summer).tolist() == [1]
    assert day_starts(winter).tolist() == [1]
    assert day_starts(np.array([at("2024-01-10 21:00"), at("2024-01-10 21:59")])).tolist() == []


def test_weekend_samples_belong_to_mondays_day() -> None:
    ts = np.array(
        [
            at("2024-03-08 20:00"),  # Friday before the close (EST: close at 22:00 UTC)
            at("2024-03-08 23:00"),  # Friday after the close
            at("2024-03-09 12:00"),  # Saturday
            at("2024-03-10 23:00"),  # Sunday evening, market open
            at("2024-03-11 20:00"),  # Monday before its close (EDT from Sunday: 21:00 UTC)
            at("2024-03-11 21:30"),  # Monday after the close: Tuesday's day
        ]
    )
    assert day_starts(ts).tolist() == [1, 5]


def test_returns_run_close_to_close_from_the_opening_sample() -> None:
    ts = np.array([at("2024-03-05 12:00"), at("2024-03-05 20:00"), at("2024-03-06 12:00")])
    daily = daily_returns(clean(ts, [100.0, 110.0, 99.0]))
    assert daily.ts.tolist() == [ts[1], ts[2]]
    assert daily.returns == pytest.approx([0.1, -0.1])


def test_a_first_day_with_one_sample_opens_the_record_without_a_return() -> None:
    ts = np.array([at("2024-03-05 12:00"), at("2024-03-06 12:00")])
    daily = daily_returns(clean(ts, [100.0, 105.0]))
    assert daily.returns == pytest.approx([0.05])


def test_a_gap_of_days_is_one_return() -> None:
    ts = np.array([at("2024-03-04 12:00"), at("2024-03-05 12:00"), at("2024-03-14 12:00")])
    daily = daily_returns(clean(ts, [100.0, 100.0, 120.0]))
    assert daily.returns == pytest.approx([0.0, 0.2])


def test_a_deposit_is_not_a_return() -> None:
    ts = np.array([at("2024-03-05 12:00"), at("2024-03-05 20:00"), at("2024-03-06 12:00")])
    equity = [1000.0, 2010.0, 2020.0]  # +1000 deposited at the second sample, +10 earned
    daily = daily_returns(clean(ts, equity, [0.0, 1000.0, 0.0]))
    assert daily.returns == pytest.approx([0.01, 10 / 2010])
    assert daily.wealth == pytest.approx([1.0, 1.01, 1.01 * 2020 / 2010])


def test_wealth_at_each_close_is_the_compounded_daily_returns_with_flows() -> None:
    rng = np.random.default_rng(5)
    ts = np.sort(rng.uniform(1.7e9, 1.7e9 + 40 * 86400, 400))
    equity = 1e4 * np.exp(np.cumsum(rng.normal(0, 0.003, 400)))
    flows = np.where(rng.uniform(size=400) < 0.05, rng.normal(0, 500, 400), 0.0)
    equity += np.cumsum(flows)
    samples = clean(ts, equity, flows)
    daily = daily_returns(samples)
    closes = np.searchsorted(samples.ts, daily.ts)
    np.testing.assert_allclose(daily.wealth[closes], np.cumprod(1 + daily.returns), rtol=1e-12)


def test_a_withdrawal_inside_a_day_does_not_show_as_a_dip() -> None:
    ts = np.array([at("2024-03-05 12:00"), at("2024-03-05 14:00"), at("2024-03-05 20:00")])
    daily = daily_returns(clean(ts, [1000.0, 500.0, 505.0], [0.0, -500.0, 0.0]))
    assert daily.wealth == pytest.approx([1.0, 1.0, 1.005])


def test_duplicate_timestamps_keep_the_last_sample_and_all_flows() -> None:
    samples = clean([1.0, 2.0, 2.0, 3.0], [10.0, 11.0, 12.0, 13.0], [0.0, 5.0, 1.0, 0.0])
    assert samples.ts.tolist() == [1.0, 2.0, 3.0]
    assert samples.equity.tolist() == [10.0, 12.0, 13.0]
    assert samples.flows is not None and samples.flows.tolist() == [0.0, 6.0, 0.0]


def test_unordered_samples_are_sorted_and_bad_ones_dropped() -> None:
    samples = clean([3.0, 1.0, float("nan"), 2.0, 4.0], [13.0, 11.0, 5.0, 12.0, -1.0])
    assert samples.ts.tolist() == [1.0, 2.0, 3.0]
    assert samples.equity.tolist() == [11.0, 12.0, 13.0]
    assert samples.flows is None


def test_no_samples_no_returns() -> None:
    daily = daily_returns(clean([], []))
    assert daily.returns.shape == daily.ts.shape == daily.wealth.shape == (0,)


def test_mismatched_arrays_are_refused() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        clean([1.0, 2.0], [1.0])
