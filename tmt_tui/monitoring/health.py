"""``/healthz``: is the engine loop alive and the feed fresh, and if not, why not."""

from __future__ import annotations

import time
from collections.abc import Callable

from tmt_tui.monitoring.metrics import EngineMetrics
from tmt_tui.monitoring.settings import MonitoringSettings


class HealthCheck:
    """Healthy when the last marks heartbeat and the newest accepted quote are both recent.

    ``engine_running`` (e.g. ``lambda: runner.running``) makes a stopped engine unhealthy at
    once instead of after the heartbeat timeout. ``monotonic`` must be the clock the metrics use.
    """

    def __init__(
        self,
        metrics: EngineMetrics,
        settings: MonitoringSettings | None = None,
        engine_running: Callable[[], bool] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.metrics = metrics
        self.settings = settings or MonitoringSettings()
        self.engine_running = engine_running
        self._monotonic = monotonic

    def check(self) -> tuple[bool, str]:
        """``(True, "ok")`` or ``(False, reason)``."""
        if self.engine_running is not None and not self.engine_running():
            return False, "engine not running"
        now = self._monotonic()
        beat = self.metrics.last_marks_at
        if beat is None:
            return False, "engine loop has not reported yet"
        silent = now - beat
        if silent > self.settings.health_heartbeat_s:
            return False, f"engine loop silent for {silent:.1f}s"
        quote = self.metrics.last_quote_at
        if quote is None:
            return False, "feed stale: no quote yet"
        age = now - quote
        if age > self.settings.health_feed_stale_s:
            return False, f"feed stale: last quote {age:.1f}s ago"
        return True, "ok"
