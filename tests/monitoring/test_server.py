"""/metrics and /healthz over real HTTP on loopback, with hand-moved clocks behind /healthz."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from decimal import Decimal

import pytest

from tests.support.monitoring import FakeClock, account, filled, http_get, samples, value
from tmt_tui.domain.quotes import Quote
from tmt_tui.monitoring.health import HealthCheck
from tmt_tui.monitoring.metrics import EngineMetrics
from tmt_tui.monitoring.server import MetricsServer
from tmt_tui.monitoring.service import Monitoring
from tmt_tui.monitoring.settings import MonitoringSettings, is_loopback

EUR = Quote("EUR_USD", Decimal("1.1"), Decimal("1.1001"), 0.0)
SETTINGS = MonitoringSettings(health_heartbeat_s=2.0, health_feed_stale_s=10.0)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def metrics(clock: FakeClock) -> EngineMetrics:
    return EngineMetrics(monotonic=clock)


@pytest.fixture
def health(metrics: EngineMetrics, clock: FakeClock) -> HealthCheck:
    return HealthCheck(metrics, SETTINGS, monotonic=clock)


@pytest.fixture
def server(metrics: EngineMetrics, health: HealthCheck) -> Iterator[MetricsServer]:
    with MetricsServer(metrics, health, port=0) as running:
        yield running


def alive(metrics: EngineMetrics) -> None:
    metrics.quote(EUR, 0.001, True)
    metrics.marks([account()], 0.0, 0.0)


def test_metrics_are_served_in_the_prometheus_text_format(
    server: MetricsServer, metrics: EngineMetrics
) -> None:
    metrics.committed([filled("O1")], 0.001)
    metrics.marks([account()], 0.0, 0.0)

    status, body, headers = http_get(f"{server.url}/metrics")

    assert status == 200
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    scraped = samples(body)
    assert value(scraped, "tmt_fills_total") == 1
    assert value(scraped, "tmt_equity", account="SIM-USD", currency="USD") == 100000


def test_metrics_are_served_as_openmetrics_when_the_scraper_asks(server: MetricsServer) -> None:
    status, body, headers = http_get(
        f"{server.url}/metrics", accept="application/openmetrics-text;version=1.0.0"
    )

    assert status == 200
    assert headers["Content-Type"].startswith("application/openmetrics-text")
    assert body.endswith("# EOF\n")


def test_healthz_is_ok_when_the_loop_reports_and_quotes_are_fresh(
    server: MetricsServer, metrics: EngineMetrics, clock: FakeClock
) -> None:
    alive(metrics)
    clock.advance(1.5)

    assert http_get(f"{server.url}/healthz")[:2] == (200, "ok\n")


def test_healthz_is_503_before_the_engine_loop_ever_reported(server: MetricsServer) -> None:
    assert http_get(f"{server.url}/healthz")[:2] == (503, "engine loop has not reported yet\n")


def test_healthz_is_503_when_the_engine_loop_falls_silent(
    server: MetricsServer, metrics: EngineMetrics, clock: FakeClock
) -> None:
    alive(metrics)
    clock.advance(3.2)

    assert http_get(f"{server.url}/healthz")[:2] == (503, "engine loop silent for 3.2s\n")


def test_healthz_is_503_when_the_feed_is_stale(
    server: MetricsServer, metrics: EngineMetrics, clock: FakeClock
) -> None:
    alive(metrics)
    clock.advance(12.0)
    metrics.marks([account()], 0.0, 0.0)

    assert http_get(f"{server.url}/healthz")[:2] == (503, "feed stale: last quote 12.0s ago\n")


def test_healthz_is_503_before_the_first_quote(
    server: MetricsServer, metrics: EngineMetrics
) -> None:
    metrics.marks([account()], 0.0, 0.0)

    assert http_get(f"{server.url}/healthz")[:2] == (503, "feed stale: no quote yet\n")


def test_healthz_is_503_at_once_when_the_engine_stopped(
    server: MetricsServer, metrics: EngineMetrics, health: HealthCheck
) -> None:
    alive(metrics)
    health.engine_running = lambda: False

    assert http_get(f"{server.url}/healthz")[:2] == (503, "engine not running\n")


def test_healthz_is_503_while_the_engine_is_halted_by_a_failed_journal_write(
    server: MetricsServer, metrics: EngineMetrics, health: HealthCheck
) -> None:
    alive(metrics)
    health.engine_problem = lambda: "journal write failed"

    assert http_get(f"{server.url}/healthz")[:2] == (503, "journal write failed\n")


def test_unknown_paths_are_404(server: MetricsServer) -> None:
    assert http_get(f"{server.url}/admin")[0] == 404


def test_port_zero_picks_a_free_port_so_servers_coexist(
    metrics: EngineMetrics, health: HealthCheck
) -> None:
    with (
        MetricsServer(metrics, health, port=0) as first,
        MetricsServer(EngineMetrics(), health, port=0) as second,
    ):
        assert first.port != second.port
        assert http_get(f"{first.url}/metrics")[0] == 200
        assert http_get(f"{second.url}/metrics")[0] == 200


def test_stop_releases_the_port(metrics: EngineMetrics, health: HealthCheck) -> None:
    server = MetricsServer(metrics, health, port=0).start()
    port = server.port

    server.stop()
    server.stop()

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))


def test_a_busy_port_fails_at_construction(metrics: EngineMetrics, health: HealthCheck) -> None:
    with MetricsServer(metrics, health, port=0) as running, pytest.raises(OSError):
        MetricsServer(metrics, health, port=running.port)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "trading-box.example"])
def test_a_non_loopback_host_is_refused_unless_allowed(
    metrics: EngineMetrics, health: HealthCheck, host: str
) -> None:
    with pytest.raises(ValueError, match="allow_remote"):
        MetricsServer(metrics, health, host=host, port=0)


def test_ipv6_loopback_is_served(metrics: EngineMetrics, health: HealthCheck) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    try:
        server = MetricsServer(metrics, health, host="::1", port=0)
    except OSError as exc:
        pytest.skip(f"cannot bind ::1 here: {exc}")
    with server:
        assert http_get(f"{server.url}/metrics")[0] == 200


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.1.2.3", True), ("::1", True), ("localhost", True),
     ("0.0.0.0", False), ("::", False), ("10.0.0.1", False), ("example.com", False)],
)  # fmt: skip
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_monitoring_serves_nothing_when_metrics_are_disabled() -> None:
    monitoring = Monitoring(MonitoringSettings(metrics_enabled=False))

    assert monitoring.serve() is None


def test_monitoring_names_the_setting_when_its_port_is_taken(
    metrics: EngineMetrics, health: HealthCheck
) -> None:
    with MetricsServer(metrics, health, port=0) as taken:
        monitoring = Monitoring(MonitoringSettings(metrics_port=taken.port))

        with pytest.raises(OSError, match=r"\[monitoring\] metrics_port"):
            monitoring.serve()
