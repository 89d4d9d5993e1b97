"""The FX trading day: it starts at 17:00 New York time, whatever the season."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")
ROLLOVER_HOUR = 17


def trading_day(ts: float) -> date:
    """The trading day that epoch second ``ts`` belongs to (17:00 NY opens the next day)."""
    local = datetime.fromtimestamp(ts, NEW_YORK)
    day = local.date()
    return day + timedelta(days=1) if local.hour >= ROLLOVER_HOUR else day


def trading_day_start(day: date) -> float:
    """Epoch second at which ``day`` began: 17:00 New York on the previous calendar day.

    zoneinfo resolves the offset for that date, so the rollover stays at 17:00 local across
    both daylight-saving switches (21:00 UTC in summer, 22:00 UTC in winter).
    """
    previous = day - timedelta(days=1)
    return datetime(
        previous.year, previous.month, previous.day, ROLLOVER_HOUR, tzinfo=NEW_YORK
    ).timestamp()


def next_rollover(ts: float) -> float:
    """Epoch second of the next 17:00 New York after ``ts``."""
    return trading_day_start(trading_day(ts) + timedelta(days=1))


#: The periods an analytics view can cover, in the order a selector cycles through them.
PERIODS = ("all", "today", "week", "month")


def period_start(period: str, ts: float) -> float | None:
    """Epoch second at which ``period`` (one of ``PERIODS``) began as of ``ts``: the trading
    day's 17:00 New York open, the trading week's (Sunday 17:00), the month's first trading
    day's; None for "all"."""
    day = trading_day(ts)
    if period == "all":
        return None
    if period == "today":
        return trading_day_start(day)
    if period == "week":
        return trading_day_start(day - timedelta(days=day.weekday()))
    if period == "month":
        return trading_day_start(day.replace(day=1))
    raise ValueError(f"unknown period {period!r} (one of {', '.join(PERIODS)})")
