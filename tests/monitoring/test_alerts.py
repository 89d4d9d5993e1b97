"""The in-engine alert rules raise and clear alerts, each transition told to the sinks once."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import pytest

from tests.support.monitoring import FakeClock, account, filled, rejected
from tmt_tui.domain.client import Reply
from tmt_tui.domain.quotes import Quote
from tmt_tui.monitoring.alerts import EVALUATE_EVERY_S, AlertRules
from tmt_tui.monitoring.settings import MonitoringSettings
from tmt_tui.monitoring.tee import TeeObserver

Transition = tuple[str, bool, str]

SETTINGS = MonitoringSettings(
    stale_quote_s=10.0,
    reject_burst_count=3,
    reject_burst_window_s=60.0,
    ack_latency_alert_s=0.05,
    ack_latency_quantile=0.99,
    ack_latency_window_s=60.0,
    ack_latency_min_samples=5,
    alert_clear_s=5.0,
)


def quote(instrument: str = "EUR_USD") -> Quote:
    return Quote(instrument, Decimal("1.1"), Decimal("1.1001"), 0.0)


class Recorder:
    def __init__(self) -> None:
        self.seen: list[Transition] = []

    def __call__(self, rule: str, active: bool, message: str) -> None:
        self.seen.append((rule, active, message))

    def keys(self) -> list[tuple[str, bool]]:
        return [(rule, active) for rule, active, _ in self.seen]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sink() -> Recorder:
    return Recorder()


def rules_with(
    clock: FakeClock, sink: Recorder, instruments: tuple[str, ...] = (), **changes: Any
) -> AlertRules:
    settings = dataclasses.replace(SETTINGS, **changes)
    return AlertRules(settings, sink, instruments=instruments, monotonic=clock)


# quote stale ------------------------------------------------------------------------------------


def test_an_instrument_without_a_quote_for_too_long_raises_quote_stale(
    clock: FakeClock, sink: Recorder
) -> None:
    rules = rules_with(clock, sink)
    rules.quote(quote("EUR_USD"), 0.0, True)
    rules.quote(quote("GBP_USD"), 0.0, True)
    clock.advance(9.0)
    rules.quote(quote("GBP_USD"), 0.0, True)
    rules.evaluate([])
    assert sink.seen == []

    clock.advance(1.0)
    rules.evaluate([])

    assert sink.seen == [("quote_stale:EUR_USD", True, "EUR_USD: no quote for 10.0s (limit 10s)")]


def test_a_dropped_quote_does_not_keep_an_instrument_fresh(
    clock: FakeClock, sink: Recorder
) -> None:
    rules = rules_with(clock, sink)
    rules.quote(quote(), 0.0, True)
    clock.advance(10.0)
    rules.quote(quote(), 0.0, False)

    rules.evaluate([])

    assert sink.keys() == [("quote_stale:EUR_USD", True)]


def test_an_expected_instrument_that_never_quotes_goes_stale(
    clock: FakeClock, sink: Recorder
) -> None:
    rules = rules_with(clock, sink, instruments=("USD_JPY",))
    clock.advance(10.0)

    rules.evaluate([])

    assert sink.keys() == [("quote_stale:USD_JPY", True)]


def test_quote_stale_clears_once_quotes_flow_for_the_hold_time(
    clock: FakeClock, sink: Recorder
) -> None:
    rules = rules_with(clock, sink)
    rules.quote(quote(), 0.0, True)
    clock.advance(11.0)
    rules.evaluate([])
    rules.quote(quote(), 0.0, True)
    clock.advance(4.0)
    rules.quote(quote(), 0.0, True)
    rules.evaluate([])
    assert sink.keys() == [("quote_stale:EUR_USD", True)]

    clock.advance(1.0)
    rules.evaluate([])

    assert sink.seen[1:] == [("quote_stale:EUR_USD", False, "EUR_USD: quotes flowing again")]


def test_a_raised_alert_is_told_once_while_it_keeps_firing(
    clock: FakeClock, sink: Recorder
) -> None:
    rules = rules_with(clock, sink)
    rules.quote(quote(), 0.0, True)

    for _ in range(5):
        clock.advance(10.0)
        rules.evaluate([])

    assert sink.keys() == [("quote_stale:EUR_USD", True)]


# daily loss and margin ------------------------------------------------------------------------


def test_daily_loss_at_80_percent_of_the_limit_raises(clock: FakeClock, sink: Recorder) -> None:
    rules = rules_with(clock, sink)
    rules.evaluate([account(unrealized="-3999.99")])
    assert sink.seen == []

    rules.evaluate([account(unrealized="-4000"), account("SIM-EUR", "EUR")])

    assert sink.seen == [
        (
            "daily_loss:SIM-USD",
            True,
            "SIM-USD: daily loss 4,000.00 USD is 80% of the 5,000.00 limit",
        )
    ]


def test_daily_loss_clears_only_after_staying_under_for_the_hold_time(
    clock: FakeClock, sink: Recorder
) -> None:
    rules = rules_with(clock, sink)
    rules.evaluate([account(unrealized="-4500")])
    clock.advance(3.0)
    rules.evaluate([account(unrealized="-3000")])
    clock.advance(3.0)
    rules.evaluate([account(unrealized="-4100")])  # back over within the hold: still the same alert
    clock.advance(4.0)
    rules.evaluate([account(unrealized="-3000")])
    assert sink.keys() == [("daily_loss:SIM-USD", True)]

    clock.advance(5.0)
    rules.evaluate([account(unrealized="-3000")])

    assert sink.seen[1:] == [
        ("daily_loss:SIM-USD", False, "SIM-USD: daily loss back under 80% of the limit")
    ]


def test_an_account_without_a_daily_loss_limit_never_raises_daily_loss(
    clock: FakeClock, sink: Recorder
) -> None:
    rules = rules_with(clock, sink)

    rules.evaluate([account(unrealized="-90000", limit="0")])

    assert sink.seen == []


def test_margin_use_above_the_threshold_raises(clock: FakeClock, sink: Recorder) -> None:
    rules = rules_with(clock, sink, margin_alert_fraction=Decimal("0.5"))
    rules.evaluate([account(margin="50000")])
    assert sink.seen == []

    rules.evaluate([account(margin="50001")])

    assert sink.seen == [
        (
            "margin:SIM-USD",
            True,
            "SIM-USD: margin used 50,001.00 USD is 50% of equity 100,000.00 (threshold 50%)",
        )
    ]


def test_margin_held_with_no_equity_left_raises(clock: FakeClock, sink: Recorder) -> None:
    rules = rules_with(clock, sink)

    rules.evaluate([account(balance="1000", unrealized="-1000", margin="10", limit="0")])

    assert sink.seen == [
        (
            "margin:SIM-USD",
            True,
            "SIM-USD: margin used 10.00 USD is more than equity 0.00 (threshold 50%)",
        )
    ]


# reject burst -----------------------------------------------------------------------------------


def test_a_burst_of_rejects_within_the_window_raises(clock: FakeClock, sink: Recorder) -> None:
    rules = rules_with(clock, sink)
    rules.committed([rejected("INSUFFICIENT_MARGIN"), filled("O1")], 0.0)
    clock.advance(30.0)
    rules.committed([rejected("INSUFFICIENT_MARGIN")], 0.0)
    rules.evaluate([])
    assert sink.seen == []

    clock.advance(29.0)
    rules.committed([rejected("PRICE_COLLAR")], 0.0)
    rules.evaluate([])

    assert sink.seen == [
        ("reject_burst", True, "3 order rejects within 60s (most: INSUFFICIENT_MARGIN x2)")
    ]


def test_rejects_spread_wider_than_the_window_are_no_burst(
    clock: FakeClock, sink: Recorder
) -> None:
    rules = rules_with(clock, sink)
    for _ in range(3):
        rules.committed([rejected("STALE_QUOTE")], 0.0)
        rules.evaluate([])
        clock.advance(31.0)

    assert sink.seen == []


def test_a_reject_burst_clears_when_the_rejects_age_out(clock: FakeClock, sink: Recorder) -> None:
    rules = rules_with(clock, sink)
    rules.committed([rejected("STALE_QUOTE")] * 3, 0.0)
    rules.evaluate([])
    clock.advance(61.0)
    rules.evaluate([])
    clock.advance(5.0)

    rules.evaluate([])

    assert sink.keys() == [("reject_burst", True), ("reject_burst", False)]


# order ack latency ------------------------------------------------------------------------------


def test_slow_order_acks_raise_once_there_are_enough_of_them(
    clock: FakeClock, sink: Recorder
) -> None:
    rules = rules_with(clock, sink)
    for _ in range(4):
        rules.replied("SubmitOrder", Reply(True), 0.2)
    rules.evaluate([])
    assert sink.seen == []

    rules.replied("CancelOrder", Reply(True), 0.08)
    rules.evaluate([])

    assert sink.seen == [
        ("ack_latency", True, "order ack p99 200.0ms over the last 5 replies exceeds 50ms")
    ]


def test_a_fast_p99_does_not_raise(clock: FakeClock, sink: Recorder) -> None:
    rules = rules_with(clock, sink, ack_latency_quantile=0.5)
    for seconds in (0.001, 0.002, 0.001, 0.3, 0.4):  # two slow replies: above p50 only
        rules.replied("SubmitOrder", Reply(True), seconds)

    rules.evaluate([])

    assert sink.seen == []


def test_slow_replies_to_other_commands_do_not_count(clock: FakeClock, sink: Recorder) -> None:
    rules = rules_with(clock, sink)
    for _ in range(10):
        rules.replied("EngageKillSwitch", Reply(True), 1.0)

    rules.evaluate([])

    assert sink.seen == []


def test_ack_latency_clears_when_slow_replies_leave_the_window(
    clock: FakeClock, sink: Recorder
) -> None:
    rules = rules_with(clock, sink)
    for _ in range(5):
        rules.replied("SubmitOrder", Reply(True), 0.2)
    rules.evaluate([])
    clock.advance(61.0)
    for _ in range(5):
        rules.replied("SubmitOrder", Reply(True), 0.001)
    rules.evaluate([])
    clock.advance(5.0)

    rules.evaluate([])

    assert sink.seen[1:] == [("ack_latency", False, "order ack p99 back under 50ms")]


# plumbing ---------------------------------------------------------------------------------------


def test_marks_run_the_rules_at_most_every_evaluation_interval(
    clock: FakeClock, sink: Recorder
) -> None:
    rules = rules_with(clock, sink)
    rules.marks([account()], 0.0, 0.0)
    rules.committed([rejected("STALE_QUOTE")] * 3, 0.0)

    rules.marks([account()], 0.0, 0.0)
    assert sink.seen == []
    clock.advance(EVALUATE_EVERY_S)
    rules.marks([account()], 0.0, 0.0)

    assert sink.keys() == [("reject_burst", True)]


def test_every_sink_hears_a_transition_even_when_one_fails(
    clock: FakeClock, sink: Recorder
) -> None:
    def broken(rule: str, active: bool, message: str) -> None:
        raise RuntimeError("sink bug")

    rules = AlertRules(SETTINGS, broken, monotonic=clock)
    rules.add_sink(sink)

    rules.evaluate([account(unrealized="-4500")])

    assert sink.keys() == [("daily_loss:SIM-USD", True)]


def test_active_lists_what_fires_now_oldest_first(clock: FakeClock, sink: Recorder) -> None:
    rules = rules_with(clock, sink, alert_clear_s=0.0)
    rules.evaluate([account(unrealized="-4500")])
    clock.advance(1.0)
    rules.committed([rejected("STALE_QUOTE")] * 3, 0.0)
    rules.evaluate([account(unrealized="-4500")])

    assert [(a.key, a.rule, a.subject) for a in rules.active()] == [
        ("daily_loss:SIM-USD", "daily_loss", "SIM-USD"),
        ("reject_burst", "reject_burst", ""),
    ]


class Calls:
    def __init__(self, name: str, log: list[tuple[str, str]], fail: bool = False) -> None:
        self.name, self.log, self.fail = name, log, fail

    def _called(self, hook: str) -> None:
        self.log.append((self.name, hook))
        if self.fail:
            raise RuntimeError(f"{self.name}.{hook} bug")

    def quote(self, quote: Quote, age_s: float, accepted: bool) -> None:
        self._called("quote")

    def risk_checked(self, seconds: float, code: str | None) -> None:
        self._called("risk_checked")

    def committed(self, events: Any, seconds: float) -> None:
        self._called("committed")

    def replied(self, command: str, reply: Reply, seconds: float) -> None:
        self._called("replied")

    def marks(self, accounts: Any, now: float, journal_lag_s: float) -> None:
        self._called("marks")

    def reconnected(self, venue: str) -> None:
        self._called("reconnected")

    def quoting(self, instruments: frozenset[str]) -> None:
        self._called("quoting")


def drive(observer: TeeObserver) -> None:
    observer.quote(quote(), 0.0, True)
    observer.risk_checked(0.0, None)
    observer.committed([], 0.0)
    observer.replied("SubmitOrder", Reply(True), 0.0)
    observer.marks([], 0.0, 0.0)
    observer.reconnected("oanda-pricing")


def test_tee_observer_hands_every_hook_to_each_observer_in_order() -> None:
    log: list[tuple[str, str]] = []

    drive(TeeObserver(Calls("a", log), Calls("b", log)))

    hooks = ["quote", "risk_checked", "committed", "replied", "marks", "reconnected"]
    assert log == [(name, hook) for hook in hooks for name in ("a", "b")]


def test_a_failing_observer_never_stops_the_others() -> None:
    log: list[tuple[str, str]] = []
    tee = TeeObserver(Calls("bad", log, fail=True), Calls("good", log))

    drive(tee)
    drive(tee)

    assert [hook for name, hook in log if name == "good"] == [
        "quote", "risk_checked", "committed", "replied", "marks", "reconnected",
    ] * 2  # fmt: skip
    assert tee.failures == 12
