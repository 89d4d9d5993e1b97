"""Everything monitoring for one engine, wired once: metrics, alert rules, /metrics and /healthz.

The CLI builds one ``Monitoring``, passes ``observer`` to the ``EngineRunner``, adds the
engine's alert journaling as a sink, and calls ``serve()`` once the engine runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from tmt_tui.monitoring.alerts import AlertRules, AlertSink
from tmt_tui.monitoring.health import HealthCheck
from tmt_tui.monitoring.metrics import ApiSource, EngineMetrics
from tmt_tui.monitoring.server import MetricsServer
from tmt_tui.monitoring.settings import MonitoringSettings
from tmt_tui.monitoring.tee import TeeObserver


class Monitoring:
    """Metrics and alert rules behind one fault-isolated observer, plus the HTTP endpoint."""

    def __init__(
        self,
        settings: MonitoringSettings | None = None,
        on_alert: AlertSink | None = None,
        *,
        instruments: Iterable[str] = (),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings or MonitoringSettings()
        self._monotonic = monotonic
        self.metrics = EngineMetrics(monotonic=monotonic)
        self.rules = AlertRules(self.settings, instruments=instruments, monotonic=monotonic)
        self.rules.add_sink(self.metrics.alert_changed)
        if on_alert is not None:
            self.rules.add_sink(on_alert)
        self.observer = TeeObserver(self.metrics, self.rules)
        self.health = HealthCheck(self.metrics, self.settings, monotonic=monotonic)
        self.server: MetricsServer | None = None

    def add_alert_sink(self, sink: AlertSink) -> None:
        """Where raised and cleared alerts go besides the metrics (the engine's journal)."""
        self.rules.add_sink(sink)

    def watch_api(self, source: ApiSource) -> None:
        """``source() -> (auth_failures, connected_clients)``, read at every scrape."""
        self.metrics.watch_api(source)

    def serve(
        self,
        engine_running: Callable[[], bool] | None = None,
        port: int | None = None,
        engine_problem: Callable[[], str | None] | None = None,
    ) -> MetricsServer | None:
        """Start /metrics and /healthz on the configured host and port (``port`` overrides);
        None when ``metrics_enabled`` is off.

        Raises OSError naming the setting when the port cannot be bound (another engine has
        it): the caller decides whether that stops the engine or is only logged.
        """
        s = self.settings
        if self.server is None and s.metrics_enabled:
            self.health.engine_running = engine_running
            self.health.engine_problem = engine_problem
            port = s.metrics_port if port is None else port
            try:
                server = MetricsServer(
                    self.metrics, self.health, s.metrics_host, port, allow_remote=s.allow_remote
                )
            except OSError as exc:
                raise OSError(
                    exc.errno,
                    f"cannot serve /metrics on {s.metrics_host}:{port} ({exc.strerror}); "
                    "set [monitoring] metrics_port to a free port, or metrics_enabled = false",
                ) from exc
            self.server = server.start()
        return self.server

    def close(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None
