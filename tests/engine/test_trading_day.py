"""The engine's trading day rolls at 17:00 New York across both daylight-saving switches.

A rollover emits DAY_STARTED per account with the equity at that moment, which is the base of
the daily loss limit; a breach blocks the kill-switch reset until the next rollover.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from tests.support.harness import Clock, Harness
from tmt_tui.domain.commands import ResetKillSwitch
from tmt_tui.domain.events import EventKind
from tmt_tui.domain.positions import TradingState
from tmt_tui.domain.reasons import Reason

D = Decimal


def utc(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


def started_at(ts: float) -> Harness:
    h = Harness(clock=Clock(ts))
    h.standard_quotes()
    return h


def day_events(h: Harness) -> list[tuple[str, str, str]]:
    return [
        (e.data["account"], e.data["trading_day"], e.data["start_equity"])
        for e in h.of_kind(EventKind.DAY_STARTED)
    ]


def test_start_opens_the_current_trading_day_for_every_account() -> None:
    h = Harness(clock=Clock(utc(2026, 3, 8, 12)))

    assert day_events(h) == [
        ("SIM-USD", "2026-03-08", "100000.0000"),
        ("SIM-EUR", "2026-03-08", "50000.0000"),
    ]
    assert h.core.state.trading_day == "2026-03-08"


def test_roll_day_waits_until_twenty_one_utc_on_the_spring_forward_day() -> None:
    h = started_at(utc(2026, 3, 8, 12))
    h.clock.now = utc(2026, 3, 8, 20, 59, 59)

    assert h.core.roll_day() is False
    h.collect()
    assert len(h.of_kind(EventKind.DAY_STARTED)) == 2  # only the ones from start


def test_roll_day_starts_the_next_day_at_twenty_one_utc_on_the_spring_forward_day() -> None:
    h = started_at(utc(2026, 3, 8, 12))
    h.clock.now = utc(2026, 3, 8, 21)

    rolled = h.core.roll_day()

    h.collect()
    assert rolled is True
    assert day_events(h)[2:] == [
        ("SIM-USD", "2026-03-09", "100000.0000"),
        ("SIM-EUR", "2026-03-09", "50000.0000"),
    ]


def test_roll_day_does_not_start_at_twenty_one_utc_on_the_fall_back_day() -> None:
    h = started_at(utc(2026, 11, 1, 12))
    h.clock.now = utc(2026, 11, 1, 21, 59, 59)

    assert h.core.roll_day() is False


def test_roll_day_starts_the_next_day_at_twenty_two_utc_on_the_fall_back_day() -> None:
    h = started_at(utc(2026, 11, 1, 12))
    h.clock.now = utc(2026, 11, 1, 22)

    assert h.core.roll_day() is True
    assert h.core.state.trading_day == "2026-11-02"


def test_roll_day_happens_once_per_day() -> None:
    h = started_at(utc(2026, 11, 1, 12))
    h.clock.now = utc(2026, 11, 1, 22)
    h.core.roll_day()
    h.clock.now = utc(2026, 11, 1, 23)

    assert h.core.roll_day() is False


def test_new_day_starts_from_the_equity_at_rollover_including_open_positions() -> None:
    # long 100,000 EUR_USD at 1.10010, marked at the bid 1.10500:
    # unrealized (1.10500 - 1.10010) x 100,000 = 490.0000, equity 100,490.0000
    h = started_at(utc(2026, 11, 1, 12))
    h.submit("EUR_USD", 100_000)
    h.quote("EUR_USD", "1.10500", "1.10510")
    h.clock.now = utc(2026, 11, 1, 22)

    h.core.roll_day()

    h.collect()
    assert day_events(h)[-2][0::2] == ("SIM-USD", "100490.0000")
    assert h.account().day_start_equity == D("100490.0000")
    assert h.account().daily_pl == 0


def _breach(h: Harness) -> None:
    # long 1,000,000 EUR_USD at 1.10010, bid falls to 1.09500: loss 0.00510 x 1,000,000
    # = 5,100 USD >= the 5,000 daily loss limit of SIM-USD
    h.submit("EUR_USD", 1_000_000)
    h.quote("EUR_USD", "1.09500", "1.09510")
    h.core.check_limits()
    h.dispatch()


def test_daily_loss_breach_blocks_the_reset_before_the_rollover() -> None:
    h = started_at(utc(2026, 11, 1, 12))
    _breach(h)
    h.clock.now = utc(2026, 11, 1, 21, 59, 59)
    h.core.roll_day()

    reply = h.do(ResetKillSwitch())

    assert (reply.ok, reply.code) == (False, Reason.DAILY_LOSS_BREACH_HOLDS.value)
    assert "17:00 New York" in reply.message
    assert h.account().trading_state is TradingState.HALTED


def test_daily_loss_breach_allows_the_reset_after_the_rollover() -> None:
    h = started_at(utc(2026, 11, 1, 12))
    _breach(h)
    h.clock.now = utc(2026, 11, 1, 22)
    h.core.roll_day()
    h.collect()

    reply = h.do(ResetKillSwitch())

    assert reply.ok, reply
    assert h.account().trading_state is TradingState.ACTIVE
    assert h.account().daily_loss_breached is False


def test_rollover_does_not_lift_a_halt_by_itself() -> None:
    h = started_at(utc(2026, 11, 1, 12))
    _breach(h)
    h.clock.now = utc(2026, 11, 1, 22)

    h.core.roll_day()

    assert h.account().trading_state is TradingState.HALTED
