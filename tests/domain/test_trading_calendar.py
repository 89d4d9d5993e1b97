"""The FX trading day starts at 17:00 New York, so its UTC start moves with daylight saving."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tmt_tui.domain.calendar import next_rollover, trading_day, trading_day_start


def utc(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


# 2026-03-08: New York springs forward (EST -> EDT), 17:00 local = 21:00 UTC from that day on.
# 2026-11-01: New York falls back (EDT -> EST), 17:00 local = 22:00 UTC from that day on.
@pytest.mark.parametrize(
    ("day", "starts_at"),
    [
        (date(2026, 3, 7), utc(2026, 3, 6, 22)),  # Friday 17:00 EST
        (date(2026, 3, 9), utc(2026, 3, 8, 21)),  # Sunday 17:00 EDT, first summer rollover
        (date(2026, 11, 1), utc(2026, 10, 31, 21)),  # Saturday 17:00 EDT, last summer rollover
        (date(2026, 11, 2), utc(2026, 11, 1, 22)),  # Sunday 17:00 EST, first winter rollover
    ],
)
def test_trading_day_starts_at_five_pm_new_york_in_utc_of_the_season(
    day: date, starts_at: float
) -> None:
    assert trading_day_start(day) == starts_at


@pytest.mark.parametrize(
    ("ts", "day"),
    [
        (utc(2026, 3, 8, 20, 59, 59), date(2026, 3, 8)),
        (utc(2026, 3, 8, 21, 0, 0), date(2026, 3, 9)),
        (utc(2026, 11, 1, 21, 59, 59), date(2026, 11, 1)),
        (utc(2026, 11, 1, 22, 0, 0), date(2026, 11, 2)),
    ],
)
def test_trading_day_changes_exactly_at_the_rollover(ts: float, day: date) -> None:
    assert trading_day(ts) == day


def test_summer_rollover_is_at_twenty_one_utc() -> None:
    assert next_rollover(utc(2026, 3, 8, 12)) == utc(2026, 3, 8, 21)


def test_winter_rollover_is_at_twenty_two_utc() -> None:
    assert next_rollover(utc(2026, 11, 1, 12)) == utc(2026, 11, 1, 22)


def test_next_rollover_from_the_rollover_instant_is_a_day_later() -> None:
    assert next_rollover(utc(2026, 11, 1, 22)) == utc(2026, 11, 2, 22)
