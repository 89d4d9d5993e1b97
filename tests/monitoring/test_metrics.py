"""EngineMetrics driven through the observer hooks, read back from its own registry."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from prometheus_client import REGISTRY, generate_latest

from tests.support.monitoring import FakeClock, account, event, filled, rejected, submitted
from tmt_tui.domain.client import Reply
from tmt_tui.domain.events import EventKind
from tmt_tui.domain.positions import TradingState
from tmt_tui.domain.quotes import Quote
from tmt_tui.monitoring.metrics import EngineMetrics
from tmt_tui.monitoring.trackers import FillTimes

EUR = Quote("EUR_USD", Decimal("1.10000"), Decimal("1.10010"), 0.0)


@pytest.fixture
def perf() -> FakeClock:
    return FakeClock(50.0)


@pytest.fixture
def metrics(perf: FakeClock) -> EngineMetrics:
    return EngineMetrics(perf_counter=perf, wall=lambda: 1_800_000_000.0)


def sample(metrics: EngineMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def test_each_engine_metrics_has_its_own_registry() -> None:
    first, second = EngineMetrics(), EngineMetrics()

    first.committed([filled("O1")], 0.001)

    assert sample(first, "tmt_fills_total") == 1
    assert sample(second, "tmt_fills_total") == 0
    assert REGISTRY.get_sample_value("tmt_fills_total") is None


def test_quotes_are_counted_by_result_and_accepted_ones_timed(metrics: EngineMetrics) -> None:
    metrics.quote(EUR, 0.003, True)
    metrics.quote(EUR, 0.020, True)
    metrics.quote(EUR, 0.001, False)

    assert sample(metrics, "tmt_quotes_total", result="accepted") == 2
    assert sample(metrics, "tmt_quotes_total", result="dropped") == 1
    assert sample(metrics, "tmt_quote_age_seconds_count") == 2
    assert sample(metrics, "tmt_quote_age_seconds_bucket", le="0.005") == 1
    assert sample(metrics, "tmt_quote_age_seconds_bucket", le="0.025") == 2
    assert sample(metrics, "tmt_quote_age_seconds_bucket", le="+Inf") == 2
    assert sample(metrics, "tmt_quote_age_seconds_sum") == pytest.approx(0.023)


def test_a_quote_from_a_venue_clock_ahead_of_ours_counts_as_age_zero(
    metrics: EngineMetrics,
) -> None:
    metrics.quote(EUR, -0.5, True)

    assert sample(metrics, "tmt_quote_age_seconds_bucket", le="0.0001") == 1
    assert sample(metrics, "tmt_quote_age_seconds_sum") == 0


def test_orders_sent_to_the_venue_are_counted_by_type(metrics: EngineMetrics) -> None:
    metrics.committed([submitted("O1"), submitted("O2", "LIMIT"), submitted("O3")], 0.001)
    metrics.committed([submitted("O4", "SOMETHING_NEW")], 0.001)

    assert sample(metrics, "tmt_orders_total", type="MARKET") == 2
    assert sample(metrics, "tmt_orders_total", type="LIMIT") == 1
    assert sample(metrics, "tmt_orders_total", type="STOP") == 0
    assert sample(metrics, "tmt_orders_total", type="OTHER") == 1


def test_rejects_are_counted_by_reason_code(metrics: EngineMetrics) -> None:
    metrics.committed(
        [rejected("INSUFFICIENT_MARGIN"), rejected("INSUFFICIENT_MARGIN"), rejected("STALE_QUOTE")],
        0.001,
    )

    assert sample(metrics, "tmt_rejects_total", reason="INSUFFICIENT_MARGIN") == 2
    assert sample(metrics, "tmt_rejects_total", reason="STALE_QUOTE") == 1
    assert sample(metrics, "tmt_rejects_total", reason="PRICE_COLLAR") == 0


def test_a_venue_code_gets_its_own_reason_but_free_text_counts_as_other(
    metrics: EngineMetrics,
) -> None:
    metrics.committed(
        [rejected("MARKET_HALTED"), rejected("account 123 has secret token abc"), rejected("")],
        0.001,
    )

    assert sample(metrics, "tmt_rejects_total", reason="MARKET_HALTED") == 1
    assert sample(metrics, "tmt_rejects_total", reason="OTHER") == 2


def test_fills_and_kill_switch_engagements_are_counted(metrics: EngineMetrics) -> None:
    metrics.committed([filled("O1"), filled("O2")], 0.001)
    metrics.committed([event(EventKind.KILL_SWITCH_ENGAGED, reason="panic", flatten=False)], 0.0)

    assert sample(metrics, "tmt_fills_total") == 2
    assert sample(metrics, "tmt_kill_switch_engagements_total") == 1


def test_fill_time_of_an_order_filled_within_its_own_batch(
    metrics: EngineMetrics, perf: FakeClock
) -> None:
    # the runner commits the batch (submit + fill) and only then replies: fill first, reply after
    perf.advance(0.0004)
    metrics.committed([submitted("O1"), filled("O1")], 0.0003)
    perf.advance(0.0001)

    metrics.replied("SubmitOrder", Reply(True, "OK", "filled", "O1"), 0.0008)

    assert sample(metrics, "tmt_order_fill_seconds_count", type="MARKET") == 1
    assert sample(metrics, "tmt_order_fill_seconds_sum", type="MARKET") == pytest.approx(0.0007)


def test_fill_time_of_an_order_that_rested_before_filling(
    metrics: EngineMetrics, perf: FakeClock
) -> None:
    metrics.committed([submitted("O1", "LIMIT")], 0.0003)
    metrics.replied("SubmitOrder", Reply(True, "OK", "working", "O1"), 0.0005)
    perf.advance(42.0)

    metrics.committed([filled("O1")], 0.0003)

    assert sample(metrics, "tmt_order_fill_seconds_count", type="LIMIT") == 1
    assert sample(metrics, "tmt_order_fill_seconds_sum", type="LIMIT") == pytest.approx(42.0005)


def test_only_the_first_fill_of_an_order_is_timed(metrics: EngineMetrics) -> None:
    metrics.committed([submitted("O1", "LIMIT")], 0.0)
    metrics.replied("SubmitOrder", Reply(True, "OK", "working", "O1"), 0.0)

    metrics.committed([filled("O1")], 0.0)
    metrics.committed([filled("O1")], 0.0)

    assert sample(metrics, "tmt_order_fill_seconds_count", type="LIMIT") == 1
    assert sample(metrics, "tmt_fills_total") == 2


def test_rejected_and_cancelled_orders_are_not_remembered(metrics: EngineMetrics) -> None:
    metrics.committed([submitted("O1", "LIMIT")], 0.0)
    metrics.replied("SubmitOrder", Reply(True, "OK", "working", "O1"), 0.0)
    metrics.committed([event(EventKind.ORDER_CANCELLED, order_id="O1", reason="user")], 0.0)
    metrics.committed([rejected("INVALID_UNITS", "O2")], 0.0)
    metrics.replied("SubmitOrder", Reply(False, "INVALID_UNITS", "units", "O2"), 0.0)

    assert len(metrics._fill_times) == 0


def test_orders_that_never_fill_are_forgotten_oldest_first() -> None:
    times = FillTimes(limit=3)

    for i in range(5):
        times.submitted(f"O{i}", "LIMIT")
        times.replied(f"O{i}", float(i))

    assert list(times.arrived) == ["O2", "O3", "O4"]
    assert list(times.types) == ["O2", "O3", "O4"]


def test_reply_and_risk_check_times_are_observed(metrics: EngineMetrics) -> None:
    metrics.risk_checked(0.000004, None)
    metrics.risk_checked(0.000015, "INSUFFICIENT_MARGIN")
    metrics.marks((), 0.0, 0.0)  # risk check times reach the histogram at the next marks
    metrics.replied("SubmitOrder", Reply(True), 0.0004)
    metrics.replied("CancelOrder", Reply(True), 0.0002)
    metrics.replied("CancelOrder", Reply(False, "UNKNOWN_ORDER"), 0.0001)

    assert sample(metrics, "tmt_risk_check_seconds_count") == 2
    assert sample(metrics, "tmt_risk_check_seconds_bucket", le="5e-06") == 1
    assert sample(metrics, "tmt_risk_check_seconds_bucket", le="2e-05") == 2
    assert sample(metrics, "tmt_order_ack_seconds_count", command="SubmitOrder") == 1
    assert sample(metrics, "tmt_order_ack_seconds_count", command="CancelOrder") == 2


def test_journal_commits_are_timed(metrics: EngineMetrics) -> None:
    metrics.committed([filled("O1")], 0.0002)

    assert sample(metrics, "tmt_journal_commit_seconds_count") == 1
    assert sample(metrics, "tmt_journal_commit_seconds_sum") == pytest.approx(0.0002)


def test_account_gauges_show_the_latest_marks(metrics: EngineMetrics) -> None:
    metrics.marks([account(), account("SIM-EUR", "EUR")], 1.0, 0.0)
    usd = account(unrealized="-1500.50", margin="2500", working=3, state=TradingState.REDUCING)
    eur = account("SIM-EUR", "EUR", balance="50000", day_start="50000", limit="2500",
                  state=TradingState.HALTED)  # fmt: skip

    metrics.marks([usd, eur], 2.0, 0.25)

    usd_labels = {"account": "SIM-USD", "currency": "USD"}
    assert sample(metrics, "tmt_equity", **usd_labels) == 98499.5
    assert sample(metrics, "tmt_balance", **usd_labels) == 100000
    assert sample(metrics, "tmt_daily_pl", **usd_labels) == -1500.5
    assert sample(metrics, "tmt_unrealized_pl", **usd_labels) == -1500.5
    assert sample(metrics, "tmt_margin_used", **usd_labels) == 2500
    assert sample(metrics, "tmt_daily_loss_limit", account="SIM-EUR", currency="EUR") == 2500
    assert sample(metrics, "tmt_working_orders", account="SIM-USD") == 3
    assert sample(metrics, "tmt_trading_state", account="SIM-USD") == 1
    assert sample(metrics, "tmt_trading_state", account="SIM-EUR") == 2
    assert sample(metrics, "tmt_journal_lag_seconds") == 0.25
    assert sample(metrics, "tmt_engine_heartbeat_timestamp_seconds") == 1_800_000_000.0


def test_an_account_trading_freely_shows_state_zero(metrics: EngineMetrics) -> None:
    metrics.marks([account()], 1.0, 0.0)

    assert sample(metrics, "tmt_trading_state", account="SIM-USD") == 0


def test_no_heartbeat_sample_before_the_first_marks(metrics: EngineMetrics) -> None:
    assert sample(metrics, "tmt_engine_heartbeat_timestamp_seconds") is None
    assert metrics.last_marks_at is None


def test_quote_staleness_is_measured_per_instrument() -> None:
    clock = FakeClock()
    metrics = EngineMetrics(monotonic=clock)
    metrics.quote(EUR, 0.0, True)
    clock.advance(3.0)
    metrics.quote(Quote("GBP_USD", Decimal("1.27"), Decimal("1.2701"), 0.0), 0.0, True)
    clock.advance(1.5)

    assert sample(metrics, "tmt_quote_staleness_seconds", instrument="EUR_USD") == 4.5
    assert sample(metrics, "tmt_quote_staleness_seconds", instrument="GBP_USD") == 1.5


def test_api_counters_are_read_from_the_api_server_at_scrape_time(
    metrics: EngineMetrics,
) -> None:
    class FakeApi:
        auth_failures = 0
        clients = 0

    api = FakeApi()
    metrics.watch_api(lambda: (api.auth_failures, api.clients))
    api.auth_failures, api.clients = 3, 2

    assert sample(metrics, "tmt_api_auth_failures_total") == 3
    assert sample(metrics, "tmt_connected_clients") == 2


def test_api_counters_can_be_pushed(metrics: EngineMetrics) -> None:
    metrics.set_api_counters(auth_failures=5, clients=1)

    assert sample(metrics, "tmt_api_auth_failures_total") == 5
    assert sample(metrics, "tmt_connected_clients") == 1


def test_a_failing_api_source_keeps_its_last_values(metrics: EngineMetrics) -> None:
    counts = [(4, 2)]

    def source() -> tuple[int, int]:
        return counts.pop()

    metrics.watch_api(source)
    assert sample(metrics, "tmt_api_auth_failures_total") == 4

    assert sample(metrics, "tmt_api_auth_failures_total") == 4  # the source raised IndexError
    assert sample(metrics, "tmt_connected_clients") == 2


def test_alert_transitions_set_the_alert_gauge(metrics: EngineMetrics) -> None:
    metrics.alert_changed("quote_stale:EUR_USD", True, "EUR_USD: no quote for 12.0s")
    metrics.alert_changed("reject_burst", True, "10 order rejects")
    metrics.alert_changed("reject_burst", False, "back under")

    assert sample(metrics, "tmt_alerts_active", rule="quote_stale", subject="EUR_USD") == 1
    assert sample(metrics, "tmt_alerts_active", rule="reject_burst", subject="") == 0


def test_reconnects_are_counted_by_venue(metrics: EngineMetrics) -> None:
    metrics.reconnected("oanda")
    metrics.reconnected("oanda")

    assert sample(metrics, "tmt_reconnects_total", venue="oanda") == 2


def test_process_and_python_metrics_are_included(metrics: EngineMetrics) -> None:
    assert sample(metrics, "process_cpu_seconds_total") is not None
    assert sample(metrics, "process_resident_memory_bytes") is not None
    assert sample(metrics, "process_open_fds") is not None
    assert metrics.registry.get_sample_value("python_gc_collections_total", {"generation": "0"})


ALLOWED_LABELS = {
    # ours
    "account", "currency", "instrument", "type", "reason", "command", "venue", "rule", "subject",
    "result", "why", "le",
    # prometheus_client's own collectors
    "generation", "implementation", "major", "minor", "patchlevel", "version",
}  # fmt: skip


def test_labels_carry_only_ids_codes_and_names_never_the_api_token(
    metrics: EngineMetrics, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = "tmt-secret-4f9c2e7a1b"
    monkeypatch.setenv("TMT_API_TOKEN", token)
    metrics.watch_api(lambda: (1, 1))
    metrics.quote(EUR, 0.001, True)
    metrics.risk_checked(0.00001, None)
    metrics.committed([submitted("O1"), filled("O1"), rejected(f"BAD {token}")], 0.001)
    metrics.replied("SubmitOrder", Reply(True, "OK", f"filled {token}", "O1"), 0.001)
    metrics.marks([account()], 1.0, 0.0)
    metrics.alert_changed("reject_burst", True, f"message {token}")
    metrics.reconnected("sim")

    text = generate_latest(metrics.registry).decode()

    assert token not in text
    label_names = set(re.findall(r"[{,]([a-zA-Z_][a-zA-Z0-9_]*)=\"", text))
    assert label_names <= ALLOWED_LABELS
